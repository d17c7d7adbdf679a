"""Unit tests of jobs/transforms/validation.py: every reason code of events.md on small inline lines.

Each test feeds a handful of raw landing lines (a valid one, the bad ones, an edge one) through
classify_lines with a fixed Clock and compares (value, reason, reason_detail) with the expected
judgement written by hand.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.transforms import validation as v
from jobs.transforms.validation import Clock, classify_lines, with_blank_flag
from schemas.landing import DISCOVERY, ENGAGEMENTS, USERS, Feed
from tests.timezones import utc

UTC = dt.UTC
# The ingest clock of every test (unless a test builds its own): 2026-11-20 14:00:00 UTC.
CLOCK = Clock(
    ingested_at=dt.datetime(2026, 11, 20, 14, 0, 0, tzinfo=UTC),
    earliest_event=dt.datetime(2016, 1, 1, tzinfo=UTC),
    max_future=dt.timedelta(hours=1),
)
JUDGEMENT = "value string, reason string, reason_detail string"
DROP = object()  # marks a field to leave out of a line

ENGAGEMENT: dict[str, Any] = {
    "event_id": "e1",
    "user_id": "u1",
    "content_id": "c1",
    "engagement_type": "view",
    "event_timestamp": "2026-11-20T13:45:12.123Z",
    "watch_duration_seconds": 12.5,
    "completion_percentage": 40.0,
    "engagement_context": "for_you",
    "client": {"app": "ios", "version": "3.1"},
}
DISCOVERY_EVENT: dict[str, Any] = {
    "discovery_id": "d1",
    "user_id": "u1",
    "content_id": "c1",
    "discovery_source": "for_you",
    "position_in_feed": 3,
    "discovery_timestamp": "2026-11-20T13:45:12Z",
    "clicked_through": True,
    "time_to_engagement_seconds": 1.5,
    "experiment_id": "exp1",
    "variant": "b",
}
USER_UPSERT: dict[str, Any] = {
    "op": "upsert",
    "user_id": "u1",
    "updated_at": "2026-11-20T13:00:00Z",
    "registration_date": "2025-06-01",
    "user_type": "creator",
    "creator_tier": "rising",
    "region": "DE",
    "follower_count": 10,
    "following_count": 3,
    "analytics_consent": True,
}


def line(base: dict[str, Any], compact: bool = False, **changes: Any) -> str:
    """One JSON line: `base` with fields replaced (or dropped with DROP), `"key": "value"` spacing."""
    record = {k: val for k, val in {**base, **changes}.items() if val is not DROP}
    return json.dumps(record, separators=(",", ":") if compact else (", ", ": "), ensure_ascii=False)


def engagement(**changes: Any) -> str:
    return line(ENGAGEMENT, **changes)


def classify(spark: SparkSession, lines: list[str], feed: Feed = ENGAGEMENTS, clock: Clock = CLOCK) -> DataFrame:
    batch = spark.createDataFrame([(text, "landing/part-0.jsonl") for text in lines], "value string, source_file string")
    return classify_lines(batch, feed, clock)


def assert_judged(
    spark: SparkSession,
    expected: list[tuple[str, str | None, str | None]],
    feed: Feed = ENGAGEMENTS,
    clock: Clock = CLOCK,
) -> None:
    actual = classify(spark, [row[0] for row in expected], feed, clock).select("value", "reason", "reason_detail")
    assert_df_equality(
        actual, spark.createDataFrame(expected, JUDGEMENT), ignore_row_order=True, ignore_nullable=True
    )


def test_reason_codes_are_the_documented_ones():
    assert v.REASONS == (
        "malformed_json",
        "missing_field",
        "wrong_type",
        "unknown_enum",
        "negative_value",
        "out_of_range",
        "bad_timestamp",
        "bad_date",
        "timestamp_too_old",
        "timestamp_in_future",
        "unreadable_file",
    )


# --- valid lines --------------------------------------------------------------------------------


def test_valid_lines_any_spacing_digit_ids_and_extra_fields(spark):
    assert_judged(
        spark,
        [
            (engagement(), None, None),  # "key": "value" spacing
            (line(ENGAGEMENT, compact=True, event_id="e2"), None, None),  # compact spacing
            (engagement(event_id="e3", user_id="12345", content_id="007"), None, None),  # digit-only string ids
            (engagement(event_id="e4", extra_field=[1, 2], user_id_hint=5), None, None),  # unknown fields ignored
            (engagement(event_id="e5", engagement_context="some_new_surface"), None, None),  # context is open
            (  # only the required fields of a non-view engagement
                line(ENGAGEMENT, engagement_type="like", watch_duration_seconds=DROP,
                     completion_percentage=DROP, engagement_context=DROP, client=DROP),
                None,
                None,
            ),
        ],
    )


def test_valid_line_keeps_typed_fields(spark):
    text = engagement(event_id="e9", user_id="12345")
    row = classify(spark, [text]).first()
    assert row["reason"] is None
    assert row["event_id"] == "e9"
    assert row["user_id"] == "12345"
    assert row["event_timestamp"].astimezone(UTC) == dt.datetime(2026, 11, 20, 13, 45, 12, 123000, tzinfo=UTC)
    assert row["watch_duration_seconds"] == 12.5
    assert json.loads(row["client"]) == {"app": "ios", "version": "3.1"}  # kept as its JSON text
    assert row["source_file"] == "landing/part-0.jsonl"  # lineage columns pass through


# --- malformed_json -----------------------------------------------------------------------------


def test_malformed_json_truncated_and_non_object_lines(spark):
    assert_judged(
        spark,
        [
            (engagement(), None, None),
            ('{"event_id": "e1", "user_id": "u1", "content_id"', "malformed_json", None),  # truncated
            ("[1, 2]", "malformed_json", None),  # top-level array
            ("42", "malformed_json", None),  # top-level number
            ("null", "malformed_json", None),  # top-level null
            ("[" + engagement(event_id="e7") + "]", "malformed_json", None),  # an object wrapped in an array
        ],
    )


def test_malformed_json_non_numeric_literals(spark):
    assert_judged(
        spark,
        [
            (engagement(), None, None),
            (engagement(event_id="e2").replace('"watch_duration_seconds": 12.5', '"watch_duration_seconds": NaN'),
             "malformed_json", None),
            (engagement(event_id="e3").replace('"completion_percentage": 40.0', '"completion_percentage": Infinity'),
             "malformed_json", None),
        ],
    )


def test_malformed_json_single_quotes(spark):
    single_quoted = engagement(event_id="e2").replace('"', "'")
    assert_judged(
        spark,
        [
            (engagement(), None, None),
            (single_quoted, "malformed_json", None),  # single quotes are not JSON
        ],
    )


def test_malformed_json_trailing_content(spark):
    assert_judged(
        spark,
        [
            (engagement(), None, None),
            (engagement(event_id="e2") + " xyz", "malformed_json", None),
            (engagement(event_id="e3") + " " + engagement(event_id="e4"), "malformed_json", None),  # two objects
        ],
    )


# --- missing_field ------------------------------------------------------------------------------


def test_missing_field(spark):
    assert_judged(
        spark,
        [
            (engagement(), None, None),
            (engagement(event_id="e2", engagement_type="like", watch_duration_seconds=DROP), None, None),
            (engagement(event_id="e3", watch_duration_seconds=DROP), "missing_field", "watch_duration_seconds"),
            (engagement(event_id="e4", watch_duration_seconds=None), "missing_field", "watch_duration_seconds"),
            (engagement(event_id=None), "missing_field", "event_id"),  # JSON null = missing
            (engagement(event_id="e6", user_id=DROP), "missing_field", "user_id"),
        ],
    )


def test_missing_field_first_rule_wins(spark):
    assert_judged(
        spark,
        [
            (engagement(), None, None),
            (engagement(event_id="e2", content_id=DROP, event_timestamp=DROP), "missing_field", "content_id"),
            ("{}", "missing_field", "event_id"),
        ],
    )


def test_missing_field_users_depends_on_op(spark):
    delete = line(USER_UPSERT, op="delete", registration_date=DROP, user_type=DROP, creator_tier=DROP,
                  region=DROP, follower_count=DROP, following_count=DROP)
    assert_judged(
        spark,
        [
            (line(USER_UPSERT), None, None),
            (delete, None, None),  # a delete needs only op, user_id, updated_at
            (line(USER_UPSERT, user_id="u3", region=DROP), "missing_field", "region"),
            (line(USER_UPSERT, user_id="u4", op=DROP), "missing_field", "op"),
        ],
        feed=USERS,
    )


# --- wrong_type ---------------------------------------------------------------------------------


def test_wrong_type_engagements(spark):
    assert_judged(
        spark,
        [
            (engagement(user_id="12345"), None, None),  # digits in a JSON string: valid
            (engagement(event_id="e2", user_id=12345), "wrong_type", "user_id"),  # a JSON number
            (line(ENGAGEMENT, compact=True, event_id="e3", user_id=12345), "wrong_type", "user_id"),
            (engagement(event_id="e4", client="android"), "wrong_type", "client"),
            (engagement(event_id="e5", watch_duration_seconds="12"), "wrong_type", "watch_duration_seconds"),
            (engagement(event_id="e6", event_timestamp=1763646312), "wrong_type", "event_timestamp"),
        ],
    )


def test_wrong_type_looks_at_the_top_level_field_only(spark):
    """A key of the same name inside the free-form `client` object neither hides nor fakes a type."""
    client_first = '{"client": {"user_id": "x"}, ' + engagement(event_id="e2", user_id=123, client=DROP)[1:]
    # A view without watch_duration_seconds whose `client` has that key, and whose completion is
    # text (the parse loses a field): the duration is missing, not of the wrong type.
    duration_in_client = engagement(event_id="e4", watch_duration_seconds=DROP, completion_percentage="40",
                                    client={"watch_duration_seconds": 5})
    assert_judged(
        spark,
        [
            (engagement(client={"user_id": 5, "event_id": 7}), None, None),
            (client_first, "wrong_type", "user_id"),
            (engagement(event_id="e3", user_id="12345", client={"user_id": 5}), None, None),
            (duration_in_client, "missing_field", "watch_duration_seconds"),
            (engagement(event_id="e5", client={}), None, None),  # an empty object is an object
            (engagement(event_id="e6", client='{"app": "ios"}'), "wrong_type", "client"),  # a string
            (engagement(event_id="e7", client=["ios"]), "wrong_type", "client"),
        ],
    )


def test_wrong_type_discovery(spark):
    assert_judged(
        spark,
        [
            (line(DISCOVERY_EVENT), None, None),
            (line(DISCOVERY_EVENT, discovery_id="d2", clicked_through="yes"), "wrong_type", "clicked_through"),
            (line(DISCOVERY_EVENT, discovery_id="d3", position_in_feed=1.5), "wrong_type", "position_in_feed"),
            (line(DISCOVERY_EVENT, discovery_id="d4", content_id=["c1"]), "wrong_type", "content_id"),
        ],
        feed=DISCOVERY,
    )


# --- unknown_enum -------------------------------------------------------------------------------


def test_unknown_enum_engagements(spark):
    assert_judged(
        spark,
        [
            (engagement(), None, None),
            (engagement(event_id="e2", engagement_type="remix"), None, None),  # last enum value
            (engagement(event_id="e3", engagement_type="watch"), "unknown_enum", "engagement_type"),
            (engagement(event_id="e4", engagement_type="View"), "unknown_enum", "engagement_type"),  # case matters
        ],
    )


def test_unknown_enum_users(spark):
    assert_judged(
        spark,
        [
            (line(USER_UPSERT), None, None),
            (line(USER_UPSERT, user_id="u2", user_type="consumer", creator_tier=None), None, None),
            (line(USER_UPSERT, user_id="u3", user_type="admin"), "unknown_enum", "user_type"),
            (line(USER_UPSERT, user_id="u4", creator_tier="legendary"), "unknown_enum", "creator_tier"),
            (line(USER_UPSERT, user_id="u5", op="insert"), "unknown_enum", "op"),
        ],
        feed=USERS,
    )


# --- negative_value -----------------------------------------------------------------------------


def test_negative_value_engagements(spark):
    assert_judged(
        spark,
        [
            (engagement(), None, None),
            (engagement(event_id="e2", watch_duration_seconds=0), None, None),  # zero is allowed
            (engagement(event_id="e3", watch_duration_seconds=-1), "negative_value", "watch_duration_seconds"),
            (engagement(event_id="e4", watch_duration_seconds=-0.001), "negative_value", "watch_duration_seconds"),
        ],
    )


def test_negative_value_discovery(spark):
    assert_judged(
        spark,
        [
            (line(DISCOVERY_EVENT), None, None),
            (line(DISCOVERY_EVENT, discovery_id="d2", position_in_feed=0, time_to_engagement_seconds=None), None, None),
            (line(DISCOVERY_EVENT, discovery_id="d3", position_in_feed=-1), "negative_value", "position_in_feed"),
            (line(DISCOVERY_EVENT, discovery_id="d4", time_to_engagement_seconds=-0.5),
             "negative_value", "time_to_engagement_seconds"),
        ],
        feed=DISCOVERY,
    )


# --- out_of_range -------------------------------------------------------------------------------


def test_out_of_range_completion(spark):
    assert_judged(
        spark,
        [
            (engagement(completion_percentage=0), None, None),
            (engagement(event_id="e2", completion_percentage=100), None, None),
            (engagement(event_id="e3", completion_percentage=100.01), "out_of_range", "completion_percentage"),
            (engagement(event_id="e4").replace('"completion_percentage": 40.0', '"completion_percentage": 1e400'),
             "out_of_range", "completion_percentage"),  # overflows to infinity
        ],
    )


def test_out_of_range_integer_beyond_int32(spark):
    assert_judged(
        spark,
        [
            (line(DISCOVERY_EVENT, position_in_feed=2_147_483_647), None, None),
            (line(DISCOVERY_EVENT, discovery_id="d2", position_in_feed=2_147_483_648),
             "out_of_range", "position_in_feed"),
        ],
        feed=DISCOVERY,
    )


# --- bad_timestamp ------------------------------------------------------------------------------


def test_bad_timestamp(spark):
    assert_judged(
        spark,
        [
            (engagement(), None, None),
            (engagement(event_id="e2", event_timestamp="2026-11-20T15:45:12+02:00"), None, None),
            (engagement(event_id="e3", event_timestamp="2026-11-20T13:45:12"), "bad_timestamp", "event_timestamp"),
            (engagement(event_id="e4", event_timestamp="2026-02-30T10:00:00Z"), "bad_timestamp", "event_timestamp"),
            (engagement(event_id="e5", event_timestamp="2026-11-20 13:45:12Z"), "bad_timestamp", "event_timestamp"),
            (engagement(event_id="e6", event_timestamp="yesterday"), "bad_timestamp", "event_timestamp"),
        ],
    )


def test_lowercase_t_and_z_and_every_offset_form(spark):
    """The accepted forms: YYYY-MM-DDThh:mm:ss[.f up to 9 digits] with Z, +hh, +hhmm or +hh:mm;
    T and Z in either case. Each line below is 2026-11-20 13:45:12 UTC (plus its fraction)."""
    accepted = {
        "lower_t_z": "2026-11-20t13:45:12z",
        "lower_t": "2026-11-20t13:45:12Z",
        "lower_z": "2026-11-20T13:45:12.5z",
        "hh_mm": "2026-11-20t19:15:12+05:30",
        "hhmm": "2026-11-20T05:45:12-0800",
        "hh": "2026-11-20T05:45:12.25-08",
        "nanos": "2026-11-20T13:45:12.123456789Z",  # kept to the microsecond
    }
    lines = [engagement(event_id=name, event_timestamp=text) for name, text in accepted.items()]
    actual = classify(spark, lines).select("event_id", "reason", "event_timestamp")
    at = utc(2026, 11, 20, 13, 45, 12)
    expected = spark.createDataFrame(
        [
            ("lower_t_z", None, at),
            ("lower_t", None, at),
            ("lower_z", None, at.replace(microsecond=500000)),
            ("hh_mm", None, at),
            ("hhmm", None, at),
            ("hh", None, at.replace(microsecond=250000)),
            ("nanos", None, at.replace(microsecond=123456)),
        ],
        "event_id string, reason string, event_timestamp timestamp",
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_timestamp_forms_outside_the_accepted_ones(spark):
    assert_judged(
        spark,
        [
            (engagement(event_timestamp="2026-11-20t13:45:12z"), None, None),
            (engagement(event_id="e2", event_timestamp="2026-11-20T13:45Z"), "bad_timestamp", "event_timestamp"),
            (engagement(event_id="e3", event_timestamp="20261120T134512Z"), "bad_timestamp", "event_timestamp"),
            (engagement(event_id="e4", event_timestamp="2026-11-20T13:45:12,5Z"), "bad_timestamp", "event_timestamp"),
            (engagement(event_id="e5", event_timestamp="2026-11-20T13:45:12+05:30:00"),
             "bad_timestamp", "event_timestamp"),
            (engagement(event_id="e6", event_timestamp="2026-11-20T13:45:12+25:00"),
             "bad_timestamp", "event_timestamp"),
        ],
    )


def test_offset_timestamps_are_converted_to_utc(spark):
    lines = [
        engagement(event_id="plus2", event_timestamp="2026-11-20T15:45:12+02:00"),
        engagement(event_id="minus5", event_timestamp="2026-11-20T08:45:12.5-05:00"),
        engagement(event_id="zulu", event_timestamp="2026-11-20T13:45:12Z"),
    ]
    actual = classify(spark, lines).select("event_id", "reason", "event_timestamp")
    expected = spark.createDataFrame(
        [
            ("plus2", None, dt.datetime(2026, 11, 20, 13, 45, 12, tzinfo=UTC)),
            ("minus5", None, dt.datetime(2026, 11, 20, 13, 45, 12, 500000, tzinfo=UTC)),
            ("zulu", None, dt.datetime(2026, 11, 20, 13, 45, 12, tzinfo=UTC)),
        ],
        "event_id string, reason string, event_timestamp timestamp",
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


# --- bad_date -----------------------------------------------------------------------------------


def test_bad_date_users(spark):
    assert_judged(
        spark,
        [
            (line(USER_UPSERT), None, None),
            (line(USER_UPSERT, user_id="u2", registration_date="2024-02-29"), None, None),  # leap day
            (line(USER_UPSERT, user_id="u3", registration_date="2026-13-45"), "bad_date", "registration_date"),
            (line(USER_UPSERT, user_id="u4", registration_date="2026-02-29"), "bad_date", "registration_date"),
            (line(USER_UPSERT, user_id="u5", registration_date="2026-06-01T00:00:00Z"),
             "bad_date", "registration_date"),
        ],
        feed=USERS,
    )


# --- timestamp_too_old --------------------------------------------------------------------------


def test_timestamp_too_old_boundary(spark):
    assert_judged(
        spark,
        [
            (engagement(), None, None),
            (engagement(event_id="e2", event_timestamp="2016-01-01T00:00:00Z"), None, None),  # exactly the limit
            (engagement(event_id="e3", event_timestamp="2015-12-31T23:59:59.999Z"),
             "timestamp_too_old", "event_timestamp"),
            # 01:00 at +02:00 is 2015-12-31 23:00 UTC
            (engagement(event_id="e4", event_timestamp="2016-01-01T01:00:00+02:00"),
             "timestamp_too_old", "event_timestamp"),
        ],
    )


# --- timestamp_in_future ------------------------------------------------------------------------


def test_timestamp_in_future_boundary(spark):
    clock = Clock(
        ingested_at=dt.datetime(2026, 11, 20, 14, 0, 0, tzinfo=UTC),
        earliest_event=dt.datetime(2016, 1, 1, tzinfo=UTC),
        max_future=dt.timedelta(hours=1),
    )
    assert clock.latest_event == dt.datetime(2026, 11, 20, 15, 0, 0, tzinfo=UTC)
    assert_judged(
        spark,
        [
            (engagement(), None, None),
            (engagement(event_id="e2", event_timestamp="2026-11-20T15:00:00Z"), None, None),  # clock + 1 h
            (engagement(event_id="e3", event_timestamp="2026-11-20T15:00:01Z"),
             "timestamp_in_future", "event_timestamp"),  # clock + 1 h + 1 s
            (engagement(event_id="e4", event_timestamp="2026-11-20T16:00:00+01:00"), None, None),  # = 15:00 UTC
            (engagement(event_id="e5", event_timestamp="2026-11-20T16:00:00.001+01:00"),
             "timestamp_in_future", "event_timestamp"),
        ],
        clock=clock,
    )


def test_each_batch_is_judged_by_its_own_clock(spark):
    """The judging expressions are built once per feed: the future bound still comes from each
    batch's clock, so the same line can be in the future for one batch and valid for a later one."""
    line_at_four = engagement(event_timestamp="2026-11-20T16:00:00Z")
    judged = []
    for hour in (14, 15, 14):
        clock = Clock(ingested_at=dt.datetime(2026, 11, 20, hour, 0, 0, tzinfo=UTC),
                      earliest_event=dt.datetime(2016, 1, 1, tzinfo=UTC), max_future=dt.timedelta(hours=1))
        judged.append(classify(spark, [line_at_four], clock=clock).select("reason").first().reason)
    assert judged == ["timestamp_in_future", None, "timestamp_in_future"]


def test_timestamp_rules_on_discovery(spark):
    assert_judged(
        spark,
        [
            (line(DISCOVERY_EVENT), None, None),
            (line(DISCOVERY_EVENT, discovery_id="d2", discovery_timestamp="2026-11-20T13:45:12"),
             "bad_timestamp", "discovery_timestamp"),
            (line(DISCOVERY_EVENT, discovery_id="d3", discovery_timestamp="2015-06-01T00:00:00Z"),
             "timestamp_too_old", "discovery_timestamp"),
            (line(DISCOVERY_EVENT, discovery_id="d4", discovery_timestamp="2026-11-21T00:00:00Z"),
             "timestamp_in_future", "discovery_timestamp"),
        ],
        feed=DISCOVERY,
    )


# --- blank lines --------------------------------------------------------------------------------


def test_with_blank_flag_flags_empty_and_space_only_lines(spark):
    lines = spark.createDataFrame([("",), ("   ",), (engagement(),), ("x",), ("  {} ",)], "value string")
    actual = with_blank_flag(lines)
    expected = spark.createDataFrame(
        [("", True), ("   ", True), (engagement(), False), ("x", False), ("  {} ", False)],
        "value string, is_blank boolean",
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_with_blank_flag_flags_tab_only_lines(spark):
    lines = spark.createDataFrame([("\t",), (" \t ",), ("x",)], "value string")
    actual = with_blank_flag(lines)
    expected = spark.createDataFrame([("\t", True), (" \t ", True), ("x", False)], "value string, is_blank boolean")
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


# --- bytes that are not UTF-8 -------------------------------------------------------------------


def test_bytes_that_are_not_utf8_make_a_line_malformed(spark, tmp_path):
    """Lines read from bytes, as the ingest reads landing files (Spark's text source keeps them)."""
    good = engagement(engagement_context="Z\u00fcrich \U0001f3b5 \ufffd").encode()  # proper UTF-8, U+FFFD included
    latin1 = engagement(event_id="e2", engagement_context="Z\u00fcrich").encode("latin-1")  # 0xFC alone
    truncated = engagement(event_id="e3", engagement_context="\u20ac").encode().replace(b"\xe2\x82\xac", b"\xe2\x82")
    overlong = engagement(event_id="e4", engagement_context="/").encode().replace(b'"/"', b'"\xc0\xaf"')
    surrogate = engagement(event_id="e5", engagement_context="x").encode().replace(b'"x"', b'"\xed\xa0\x80"')
    landing_file = tmp_path / "part-0.jsonl"
    landing_file.write_bytes(b"\n".join([good, latin1, truncated, overlong, surrogate]) + b"\n")

    lines = spark.read.text(str(landing_file)).withColumn("source_file", F.lit("landing/part-0.jsonl"))
    actual = classify_lines(lines, ENGAGEMENTS, CLOCK).select(
        "event_id", "reason", "reason_detail", F.hex("value").alias("value_hex"), F.is_valid_utf8("value").alias("utf8")
    )

    def returned(raw: bytes) -> str:  # the line as classify_lines gives it back: bad bytes become U+FFFD
        return raw.decode("utf-8", errors="replace").encode().hex().upper()

    expected = spark.createDataFrame(
        [
            ("e1", None, None, good.hex().upper(), True),
            (None, "malformed_json", "not UTF-8", returned(latin1), True),
            (None, "malformed_json", "not UTF-8", returned(truncated), True),
            (None, "malformed_json", "not UTF-8", returned(overlong), True),
            (None, "malformed_json", "not UTF-8", returned(surrogate), True),
        ],
        "event_id string, reason string, reason_detail string, value_hex string, utf8 boolean",
    )
    actual = actual.withColumn("event_id", F.when(F.col("reason").isNull(), F.col("event_id")))
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)
