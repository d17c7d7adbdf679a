"""Parse landing lines and judge them against the events.md contract.

A line is blank (ignored), bad (it gets a reason code and goes to the quarantine) or valid.
Every rule comes from schemas/landing.py; the checks are Spark expressions only (no Python UDF),
ordered so the cheap ones run first and the costly ones only on lines that need them.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from dataclasses import dataclass
from functools import reduce

from pyspark import SparkContext
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
# Detail of a line whose bytes are not UTF-8 (reason malformed_json).
NOT_UTF8 = "not UTF-8"
# ISO-8601 extended date-time with seconds (an optional fraction of up to 9 digits) and an offset:
# Z, +hh, +hhmm or +hh:mm, as events.md requires; T and Z in either case (upper-cased before the
# cast, which knows only the capitals). The cast then checks the calendar.
ISO_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}(:?\d{2})?)$"
ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
INT32_MAX = 2_147_483_647
# Kinds of JSON value whose Spark parse silently accepts another JSON type (a number read into a
# string column, [1] into an array of strings): for these the line's JSON type is checked exactly,
# as schema_of_variant names it, on the few lines where the parsed text could be another type.
TEXT_KINDS = {"string": "STRING", "timestamp": "STRING", "date": "STRING", "object": "OBJECT"}
STRING_ARRAY = "ARRAY<STRING>"
CHECKED_KINDS = (*TEXT_KINDS, "string_array")
# The line as a variant, parsed only for lines that need an exact look at a field's JSON type.
LINE_AS_VARIANT = "_line_as_variant"
IS_UTF8 = "_is_utf8"
# The batch's latest acceptable event time, a column so the judging expressions need no batch's value.
LATEST_EVENT = "_latest_event"


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


def _json_type(rule: FieldRule) -> Column:
    """The JSON type of the line's top-level field as schema_of_variant names it ("STRING", "BIGINT",
    "OBJECT<...>", "ARRAY<...>", "VOID" for null); null when the field is absent or the line was
    not parsed as a variant (see _needs_exact_types)."""
    return F.schema_of_variant(F.variant_get(F.col(LINE_AS_VARIANT), f"$.{rule.name}", "variant"))


def _present_not_null(rule: FieldRule) -> Column:
    """The line carries the field at its top level with a non-null value (asked only when the parse
    lost it; a key of the same name inside `client` does not count)."""
    return F.coalesce(_json_type(rule) != "VOID", F.lit(False))


def _type_flag(rule: FieldRule) -> str:
    return f"_{rule.name}_has_its_type"


def _suspect_flag(rule: FieldRule) -> str:
    return f"_{rule.name}_may_be_other"


def _may_be_another_json_type(rule: FieldRule) -> Column:
    """Cheap look at the parsed text: could the field have been a number, boolean, object or array?

    Ids like "u123" or timestamps like "2026-...T..." cannot, so almost no line needs its JSON
    types checked; a digit-only id or an object-looking string does, and is then checked exactly.
    False when the field is absent.
    """
    value = _field(rule)
    if rule.json_type == "string_array":
        return F.coalesce(F.exists(value, _text_may_be_another_json_type), F.lit(False))
    if rule.json_type == "object":
        # A JSON string that starts with "{" reads like an object once parsed: only a line whose
        # raw text has a quote then a brace can hold one (a substring search, no regex).
        suspect = ~value.startswith("{") | F.col("value").contains('"{')
    elif rule.json_type == "timestamp":
        suspect = ~F.substring(value, 11, 1).isin("T", "t")
    elif rule.json_type == "date":
        suspect = F.substring(value, 5, 1) != "-"
    else:
        suspect = _text_may_be_another_json_type(value)
    return value.isNotNull() & suspect


def _text_may_be_another_json_type(text: Column) -> Column:
    return F.substring(text, 1, 1).isin(*"-0123456789{[") | text.isin("true", "false")


def _needs_exact_types(feed: Feed) -> Column:
    """The lines whose JSON types must be read exactly: the parse lost a field, or a text value
    may have been written as another JSON type."""
    suspects = [F.col(_suspect_flag(rule)) for rule in feed.rules if rule.json_type in CHECKED_KINDS]
    return reduce(operator.or_, suspects, F.col("parsed")[CORRUPT].isNotNull())


def _written_as_contract_type(rule: FieldRule) -> Column:
    """The field, when the parse kept it, is written as the contract's JSON type in the line.

    Spark's JSON parser reads any JSON value into a string column (123 becomes "123", [1] becomes
    ["1"]), so the type is checked on the line parsed as a variant, but only for values that may
    be something else. An array of strings must hold no null.
    """
    suspect = F.col(_suspect_flag(rule))
    if rule.json_type == "string_array":
        no_null_item = ~F.coalesce(F.exists(_field(rule), lambda item: item.isNull()), F.lit(False))
        return no_null_item & (~suspect | (_json_type(rule) == STRING_ARRAY))
    return ~suspect | _json_type(rule).startswith(TEXT_KINDS[rule.json_type])


def _is_required(rule: FieldRule) -> Column | None:
    if rule.required:
        return F.lit(True)
    if rule.required_when:
        other, expected = rule.required_when
        return F.col("parsed")[other] == expected
    return None


def _violations(feed: Feed, earliest_event: dt.datetime) -> list[tuple[Column, str, str | None]]:
    """(condition, reason, detail) in judging order; the first true condition wins. The latest
    acceptable event time is the batch's column LATEST_EVENT."""
    value = F.col("value")
    # The parse failed somewhere: is it the JSON itself (json_object_keys rejects non-objects,
    # the variant parser rejects single quotes and NaN), or only a field's type?
    not_json_object = F.col("parsed")[CORRUPT].isNotNull() & (
        F.json_object_keys(value).isNull() | F.col(LINE_AS_VARIANT).isNull()
    )
    # Spark's parsers stop after the first JSON value, so text after the object is checked apart:
    # a line must end with the object's brace, and must not hold a second object.
    trailing_text = ~value.endswith("}") & ~F.btrim(value, F.lit(WHITESPACE)).endswith("}")
    maybe_two_objects = value.contains("}{") | value.contains("} {")
    as_array = F.concat(F.lit("["), F.regexp_replace(value, r"\}\s*\{", "},{"), F.lit("]"))
    two_objects = maybe_two_objects & (F.size(F.from_json(as_array, "array<string>")) > 1)
    malformed = not_json_object | trailing_text | two_objects
    checks: list[tuple[Column, str, str | None]] = [
        # Spark's JSON parser would read the bad bytes as U+FFFD: the line is judged on its bytes.
        (~F.col(IS_UTF8), MALFORMED_JSON, NOT_UTF8),
        (malformed, MALFORMED_JSON, None),
    ]

    lost_in_parse = F.col("parsed")[CORRUPT].isNotNull()
    for rule in feed.rules:
        required = _is_required(rule)
        if required is not None:
            absent = _field(rule).isNull() & ~(lost_in_parse & _present_not_null(rule))
            checks.append((required & absent, MISSING_FIELD, rule.name))

    for rule in feed.rules:
        wrong = _field(rule).isNull() & lost_in_parse & _present_not_null(rule)
        if rule.json_type in CHECKED_KINDS:
            wrong = wrong | ~F.col(_type_flag(rule))
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
            # A value below a minimum of 0 or more is negative_value when it is negative (a
            # negative duration), out_of_range otherwise (a duration of 0 where it must be > 0).
            if rule.minimum >= 0:
                checks.append((value < 0, NEGATIVE_VALUE, rule.name))
            if rule.minimum != 0:
                checks.append((value < rule.minimum, OUT_OF_RANGE, rule.name))
        maximum = rule.maximum if rule.maximum is not None else (INT32_MAX if rule.json_type == "integer" else None)
        if maximum is not None:
            checks.append((value > maximum, OUT_OF_RANGE, rule.name))

    for rule in feed.rules:
        if rule.json_type == "timestamp":
            parsed = F.col(rule.name)
            checks += [
                (_field(rule).isNotNull() & parsed.isNull(), BAD_TIMESTAMP, rule.name),
                (parsed < F.lit(earliest_event), TIMESTAMP_TOO_OLD, rule.name),
                (parsed > F.col(LATEST_EVENT), TIMESTAMP_IN_FUTURE, rule.name),
            ]
        elif rule.json_type == "date":
            checks.append((_field(rule).isNotNull() & F.col(rule.name).isNull(), BAD_DATE, rule.name))
    return checks


def _typed_value(rule: FieldRule) -> Column:
    raw = _field(rule)
    if rule.json_type == "timestamp":
        return F.when(raw.rlike(ISO_TIMESTAMP), F.upper(raw).try_cast("timestamp"))
    if rule.json_type == "date":
        return F.when(raw.rlike(ISO_DATE), raw.try_cast("date"))
    return raw


@dataclass(frozen=True)
class _Judgement:
    """A feed's judging expressions, in the order classify_lines projects them."""

    typed: list[Column]
    line_as_variant: Column
    type_flags: list[Column]
    value_as_utf8: Column
    first_violation: Column


@functools.lru_cache(maxsize=16)
def _judgement(feed: Feed, earliest_event: dt.datetime, gateway: object) -> _Judgement:
    """Built once per feed and JVM (`gateway`), not per micro-batch: the few hundred expressions
    cost thousands of calls into the JVM (about half a second) and differ in no batch's value."""
    checked = [rule for rule in feed.rules if rule.json_type in CHECKED_KINDS]
    return _Judgement(
        typed=[
            *[_typed_value(rule).alias(rule.name) for rule in feed.rules],
            F.is_valid_utf8("value").alias(IS_UTF8),
            *[_may_be_another_json_type(rule).alias(_suspect_flag(rule)) for rule in checked],
        ],
        line_as_variant=F.when(_needs_exact_types(feed), F.try_parse_json("value")).alias(LINE_AS_VARIANT),
        type_flags=[_written_as_contract_type(rule).alias(_type_flag(rule)) for rule in checked],
        value_as_utf8=F.when(F.col(IS_UTF8), F.col("value")).otherwise(F.make_valid_utf8("value")),
        first_violation=F.coalesce(
            *[
                F.when(condition, F.struct(F.lit(reason).alias("reason"),
                                           F.lit(detail).cast("string").alias("detail")))
                for condition, reason, detail in _violations(feed, earliest_event)
            ]
        ),
    )


def classify_lines(lines: DataFrame, feed: Feed, clock: Clock) -> DataFrame:
    """Lines (`value` and any lineage columns) -> plus the feed's typed fields, `reason`, `reason_detail`.

    `reason` is null for a valid line; otherwise the first broken rule of events.md. `value` comes
    back as valid UTF-8: a line whose bytes are not UTF-8 has them replaced by U+FFFD.
    """
    passthrough = lines.columns
    judgement = _judgement(feed, clock.earliest_event, SparkContext._gateway)
    parsed = lines.transform(parse_lines, feed).withColumn(LATEST_EVENT, F.lit(clock.latest_event))
    # Typed values and the costlier per-line values are computed once here, in their own
    # projections (the variant only for the few lines that need it), so the judging below is
    # cheap boolean logic over columns.
    typed = (
        parsed.select(*passthrough, "parsed", LATEST_EVENT, *judgement.typed)
        .select("*", judgement.line_as_variant)
        .select("*", *judgement.type_flags)
    )
    return (
        typed.withColumn("violation", judgement.first_violation)
        .select(
            *[judgement.value_as_utf8.alias(name) if name == "value" else name for name in passthrough],
            *[rule.name for rule in feed.rules],
            F.col("violation.reason").alias("reason"),
            F.col("violation.detail").alias("reason_detail"),
        )
    )
