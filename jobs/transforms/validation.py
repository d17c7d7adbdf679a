"""Parse landing lines and judge them against the events.md contract.

A line is blank (ignored), bad (it gets a reason code and goes to the quarantine) or valid.
Every rule comes from schemas/landing.py; the checks are Spark expressions only (no Python UDF),
ordered so the cheap ones run first and the costly ones only on lines that need them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from schemas.landing import Feed, FieldRule

# Reason codes, in the order a line is judged: the first that applies is recorded.
MALFORMED_JSON = "malformed_json"
MISSING_FIELD = "missing_field"
WRONG_TYPE = "wrong_type"
UNKNOWN_ENUM = "unknown_enum"
NEGATIVE_VALUE = "negative_value"
OUT_OF_RANGE = "out_of_range"
BAD_TIMESTAMP = "bad_timestamp"
BAD_DATE = "bad_date"
TIMESTAMP_TOO_OLD = "timestamp_too_old"
TIMESTAMP_IN_FUTURE = "timestamp_in_future"
UNREADABLE_FILE = "unreadable_file"  # a whole landing file, not a line (jobs/common/landing.py)

REASONS = (
    MALFORMED_JSON,
    MISSING_FIELD,
    WRONG_TYPE,
    UNKNOWN_ENUM,
    NEGATIVE_VALUE,
    OUT_OF_RANGE,
    BAD_TIMESTAMP,
    BAD_DATE,
    TIMESTAMP_TOO_OLD,
    TIMESTAMP_IN_FUTURE,
    UNREADABLE_FILE,
)

CORRUPT = "_corrupt_record"
JSON_OPTIONS = {
    "mode": "PERMISSIVE",
    "columnNameOfCorruptRecord": CORRUPT,
    # NaN / Infinity literals and single-quoted strings are not JSON.
    "allowNonNumericNumbers": "false",
    "allowSingleQuotes": "false",
}
# ISO-8601 date-time with an offset or Z, as events.md requires; the cast then checks the calendar.
ISO_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}(:?\d{2})?)$"
ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
INT32_MAX = 2_147_483_647
# Kinds of JSON value whose Spark parse would silently accept another JSON type (a number read
# into a string column): for these the raw text is checked for the expected opening token.
TEXT_KINDS = {"string": '"', "timestamp": '"', "date": '"', "object": r"\{"}


@dataclass(frozen=True)
class Clock:
    """The time rules of events.md, fixed for one micro-batch."""

    ingested_at: dt.datetime
    earliest_event: dt.datetime
    max_future: dt.timedelta

    @property
    def latest_event(self) -> dt.datetime:
        return self.ingested_at + self.max_future


@dataclass(frozen=True)
class TimeRules:
    """The configured time rules (conf [ingest]); `at` fixes them to one batch's clock."""

    earliest_event: dt.datetime
    max_future: dt.timedelta

    @classmethod
    def from_settings(cls, settings: dict) -> "TimeRules":
        return cls(
            earliest_event=dt.datetime.fromisoformat(settings["earliest_event"].replace("Z", "+00:00")),
            max_future=dt.timedelta(seconds=int(settings["max_future_seconds"])),
        )

    def at(self, now: dt.datetime) -> Clock:
        return Clock(ingested_at=now, earliest_event=self.earliest_event, max_future=self.max_future)


WHITESPACE = " \t\r\n\f"


def with_blank_flag(lines: DataFrame) -> DataFrame:
    value = F.col("value")
    # Only a line that starts with white space (or is empty) can be blank: the trim, which copies
    # the line, runs on those alone.
    may_be_blank = (F.length(value) == 0) | F.substring(value, 1, 1).isin(*WHITESPACE)
    return lines.withColumn("is_blank", may_be_blank & (F.btrim(value, F.lit(WHITESPACE)) == ""))


def line_counts(classified: DataFrame) -> dict[str, int]:
    """What a batch of classified lines holds: lines read (not blank), blank, quarantined, valid,
    and the files they came from (one pass)."""
    is_blank = F.col("is_blank")
    is_bad = ~is_blank & F.col("reason").isNotNull()
    is_valid = ~is_blank & F.col("reason").isNull()
    row = classified.agg(
        F.count_if(~is_blank).alias("lines_read"),
        F.count_if(is_blank).alias("blank_lines"),
        F.count_if(is_bad).alias("quarantined"),
        F.count_if(is_valid).alias("valid"),
        F.count_distinct("source_file").alias("files"),
    ).first()
    return row.asDict()


def parse_lines(lines: DataFrame, feed: Feed) -> DataFrame:
    """`value` (one landing line) -> `parsed`: a struct of the feed's fields, typed."""
    schema = feed.json_schema.add(CORRUPT, "string")
    return lines.withColumn("parsed", F.from_json(F.col("value"), schema, JSON_OPTIONS))


def _field(rule: FieldRule) -> Column:
    return F.col("parsed")[rule.name]


def _key_pattern(rule: FieldRule, value_start: str) -> str:
    return f'"{rule.name}"\\s*:\\s*{value_start}'


def _present_not_null(rule: FieldRule) -> Column:
    """The raw line carries the field with a non-null value (used only when the parse lost it)."""
    return F.col("value").rlike(_key_pattern(rule, r"[^\sn]"))


def _text_flag(rule: FieldRule) -> str:
    return f"_{rule.name}_is_text"


def _could_be_another_json_type(rule: FieldRule) -> Column:
    """Cheap look at the parsed text: could it have been a number, boolean, object or array?

    Ids like "u123" or timestamps like "2026-...T..." cannot, so almost no line needs the raw
    line searched; a digit-only id or an object-looking string does, and is then checked exactly.
    """
    value = _field(rule)
    if rule.json_type == "object":
        return ~value.startswith("{")
    if rule.json_type == "timestamp":
        return ~F.substring(value, 11, 1).isin("T", "t")
    if rule.json_type == "date":
        return F.substring(value, 5, 1) != "-"
    return F.substring(value, 1, 1).isin(*"-0123456789{[") | value.isin("true", "false")


def _written_as_text(rule: FieldRule) -> Column:
    """The field, when the parse kept it, is written as a JSON string (or object) in the raw line.

    Spark's JSON parser reads any JSON value into a string column (123 becomes "123"), so the type
    is checked on the raw line, but only for values that could be something else.
    """
    token = TEXT_KINDS[rule.json_type]
    return (
        _field(rule).isNull()
        | ~_could_be_another_json_type(rule)
        | F.col("value").rlike(_key_pattern(rule, token))
    )


def _is_required(rule: FieldRule) -> Column | None:
    if rule.required:
        return F.lit(True)
    if rule.required_when:
        other, expected = rule.required_when
        return F.col("parsed")[other] == expected
    return None


def _violations(feed: Feed, clock: Clock) -> list[tuple[Column, str, str | None]]:
    """(condition, reason, detail) in judging order; the first true condition wins."""
    value = F.col("value")
    # The parse failed somewhere: is it the JSON itself (json_object_keys rejects non-objects,
    # the variant parser rejects single quotes and NaN), or only a field's type?
    not_json_object = F.col("parsed")[CORRUPT].isNotNull() & (
        F.json_object_keys(value).isNull() | F.try_parse_json(value).isNull()
    )
    # Spark's parsers stop after the first JSON value, so text after the object is checked apart:
    # a line must end with the object's brace, and must not hold a second object.
    trailing_text = ~value.endswith("}") & ~F.btrim(value, F.lit(WHITESPACE)).endswith("}")
    maybe_two_objects = value.contains("}{") | value.contains("} {")
    as_array = F.concat(F.lit("["), F.regexp_replace(value, r"\}\s*\{", "},{"), F.lit("]"))
    two_objects = maybe_two_objects & (F.size(F.from_json(as_array, "array<string>")) > 1)
    malformed = not_json_object | trailing_text | two_objects
    checks: list[tuple[Column, str, str | None]] = [(malformed, MALFORMED_JSON, None)]

    lost_in_parse = F.col("parsed")[CORRUPT].isNotNull()
    for rule in feed.rules:
        required = _is_required(rule)
        if required is not None:
            absent = _field(rule).isNull() & ~(lost_in_parse & _present_not_null(rule))
            checks.append((required & absent, MISSING_FIELD, rule.name))

    for rule in feed.rules:
        if rule.json_type in TEXT_KINDS:
            wrong = ~F.col(_text_flag(rule))
        else:
            wrong = _field(rule).isNull() & lost_in_parse & _present_not_null(rule)
        checks.append((wrong, WRONG_TYPE, rule.name))

    for rule in feed.rules:
        if rule.enum:
            checks.append((_field(rule).isNotNull() & ~_field(rule).isin(*rule.enum), UNKNOWN_ENUM, rule.name))

    for rule in feed.rules:
        value = _field(rule)
        if rule.json_type == "number":
            not_finite = F.isnan(value) | (F.abs(value) == float("inf"))
            checks.append((not_finite, OUT_OF_RANGE, rule.name))
        if rule.minimum is not None:
            reason = NEGATIVE_VALUE if rule.minimum == 0 else OUT_OF_RANGE
            checks.append((value < rule.minimum, reason, rule.name))
        maximum = rule.maximum if rule.maximum is not None else (INT32_MAX if rule.json_type == "integer" else None)
        if maximum is not None:
            checks.append((value > maximum, OUT_OF_RANGE, rule.name))

    for rule in feed.rules:
        if rule.json_type == "timestamp":
            parsed = F.col(rule.name)
            checks += [
                (_field(rule).isNotNull() & parsed.isNull(), BAD_TIMESTAMP, rule.name),
                (parsed < F.lit(clock.earliest_event), TIMESTAMP_TOO_OLD, rule.name),
                (parsed > F.lit(clock.latest_event), TIMESTAMP_IN_FUTURE, rule.name),
            ]
        elif rule.json_type == "date":
            checks.append((_field(rule).isNotNull() & F.col(rule.name).isNull(), BAD_DATE, rule.name))
    return checks


def _typed_value(rule: FieldRule) -> Column:
    raw = _field(rule)
    if rule.json_type == "timestamp":
        return F.when(raw.rlike(ISO_TIMESTAMP), raw.try_cast("timestamp"))
    if rule.json_type == "date":
        return F.when(raw.rlike(ISO_DATE), raw.try_cast("date"))
    return raw


def classify_lines(lines: DataFrame, feed: Feed, clock: Clock) -> DataFrame:
    """Lines (`value` and any lineage columns) -> plus the feed's typed fields, `reason`, `reason_detail`.

    `reason` is null for a valid line; otherwise the first broken rule of events.md.
    """
    passthrough = lines.columns
    parsed = lines.transform(parse_lines, feed)
    # Typed values and the costlier per-field flags are computed once here, in their own
    # projection, so the judging below is cheap boolean logic over columns.
    typed = parsed.select(
        *passthrough,
        "parsed",
        *[_typed_value(rule).alias(rule.name) for rule in feed.rules],
        *[_written_as_text(rule).alias(_text_flag(rule)) for rule in feed.rules if rule.json_type in TEXT_KINDS],
    )
    first_violation = F.coalesce(
        *[
            F.when(condition, F.struct(F.lit(reason).alias("reason"), F.lit(detail).cast("string").alias("detail")))
            for condition, reason, detail in _violations(feed, clock)
        ]
    )
    return (
        typed.withColumn("violation", first_violation)
        .select(
            *passthrough,
            *[rule.name for rule in feed.rules],
            F.col("violation.reason").alias("reason"),
            F.col("violation.detail").alias("reason_detail"),
        )
    )
