"""Unit tests of jobs/transforms/facts.py: fact rows, de-duplication of repeat deliveries, quarantine rows."""

from __future__ import annotations

import datetime as dt

from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.transforms.facts import (
    drop_duplicate_deliveries,
    to_discovery_facts,
    to_engagement_facts,
    to_quarantine_rows,
    unreadable_file_rows,
    with_user_bucket,
)
from schemas import TABLES
from tests.timezones import as_utc, utc

INGESTED_AT = utc(2026, 11, 21, 8, 30, 0)  # aware UTC, as the ingest passes it
VALID_ENGAGEMENTS = (
    "event_id string, user_id string, content_id string, engagement_type string, event_timestamp timestamp, "
    "watch_duration_seconds double, completion_percentage double, engagement_context string, client string, "
    "source_file string"
)
VALID_DISCOVERY = (
    "discovery_id string, user_id string, content_id string, discovery_source string, position_in_feed long, "
    "discovery_timestamp timestamp, clicked_through boolean, time_to_engagement_seconds double, "
    "experiment_id string, variant string, source_file string"
)
ENGAGEMENT_KEYS = {"view": 11, "like": 22, "share": 44}


def xxhash64(spark: SparkSession, *values: str) -> dict[str, int]:
    """The expected surrogate keys, computed by Spark SQL directly (not through jobs.common.keys)."""
    selects = ", ".join(f"xxhash64('{value}') AS `{value}`" for value in values)
    return spark.sql(f"SELECT {selects}").first().asDict()


def engagements(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(
        [
            ("e1", "u1", "c1", "view", utc(2026, 11, 20, 13, 45, 12, 123000), 12.5, 40.0, "for_you",
             '{"app":"ios"}', "landing/a.jsonl"),
            ("e2", "u2", "c1", "like", utc(2026, 11, 20, 23, 59, 59, 999000), None, None, None,
             None, "landing/a.jsonl"),
            ("e3", "u1", "c2", "share", utc(2026, 11, 21, 0, 0, 0), None, 100.0, "search",
             None, "landing/b.jsonl"),
        ],
        VALID_ENGAGEMENTS,
    )


def test_to_engagement_facts_keys_and_dates(spark):
    h = xxhash64(spark, "e1", "e2", "e3", "u1", "u2", "c1", "c2")
    actual = to_engagement_facts(engagements(spark), ENGAGEMENT_KEYS, INGESTED_AT).select(
        "engagement_id", "event_id", "user_key", "content_key", "engagement_key", "date_key", "event_date"
    )
    expected = spark.createDataFrame(
        [
            (h["e1"], "e1", h["u1"], h["c1"], 11, 2026112013, dt.date(2026, 11, 20)),
            (h["e2"], "e2", h["u2"], h["c1"], 22, 2026112023, dt.date(2026, 11, 20)),
            (h["e3"], "e3", h["u1"], h["c2"], 44, 2026112100, dt.date(2026, 11, 21)),
        ],
        "engagement_id long, event_id string, user_key long, content_key long, engagement_key int, "
        "date_key int, event_date date",
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_to_engagement_facts_carries_the_measures_and_lineage(spark):
    actual = to_engagement_facts(engagements(spark), ENGAGEMENT_KEYS, INGESTED_AT).select(
        "event_id", "engagement_timestamp", "watch_duration_seconds", "completion_percentage",
        "engagement_context", "user_id", "content_id", "client", "source_file", "ingested_at",
    )
    expected = spark.createDataFrame(
        [
            ("e1", utc(2026, 11, 20, 13, 45, 12, 123000), 12.5, 40.0, "for_you", "u1", "c1",
             '{"app":"ios"}', "landing/a.jsonl", INGESTED_AT),
            ("e2", utc(2026, 11, 20, 23, 59, 59, 999000), None, None, None, "u2", "c1",
             None, "landing/a.jsonl", INGESTED_AT),
            ("e3", utc(2026, 11, 21, 0, 0, 0), None, 100.0, "search", "u1", "c2",
             None, "landing/b.jsonl", INGESTED_AT),
        ],
        "event_id string, engagement_timestamp timestamp, watch_duration_seconds double, "
        "completion_percentage double, engagement_context string, user_id string, content_id string, "
        "client string, source_file string, ingested_at timestamp",
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_to_engagement_facts_unmapped_type_has_null_key(spark):
    # The mapping passed in is the only source of keys: a type it does not list gets no key.
    facts = to_engagement_facts(engagements(spark), {"view": 1}, INGESTED_AT)
    keys = {r["event_id"]: r["engagement_key"] for r in facts.select("event_id", "engagement_key").collect()}
    assert keys == {"e1": 1, "e2": None, "e3": None}


def test_to_engagement_facts_utc_date_of_an_offset_timestamp(spark):
    # 01:30 at +02:00 on the 21st is 23:30 UTC on the 20th: the UTC hour and date count, not the local ones.
    valid = engagements(spark).limit(0).unionByName(
        spark.sql(
            "SELECT 'e9' AS event_id, 'u9' AS user_id, 'c9' AS content_id, 'like' AS engagement_type, "
            "CAST('2026-11-21T01:30:00+02:00' AS TIMESTAMP) AS event_timestamp, "
            "CAST(NULL AS DOUBLE) AS watch_duration_seconds, CAST(NULL AS DOUBLE) AS completion_percentage, "
            "CAST(NULL AS STRING) AS engagement_context, CAST(NULL AS STRING) AS client, "
            "'landing/c.jsonl' AS source_file"
        )
    )
    row = to_engagement_facts(valid, ENGAGEMENT_KEYS, INGESTED_AT).first()
    assert as_utc(row["engagement_timestamp"]) == utc(2026, 11, 20, 23, 30, 0)
    assert row["date_key"] == 2026112023
    assert row["event_date"] == dt.date(2026, 11, 20)


def test_to_discovery_facts(spark):
    valid = spark.createDataFrame(
        [
            ("d1", "u1", "c1", "for_you", 0, utc(2026, 11, 20, 0, 0, 0), True, 1.5, "exp1", "b",
             "landing/a.jsonl"),
            ("d2", "u2", "c2", "search", 7, utc(2026, 11, 20, 23, 59, 59), False, None, None, None,
             "landing/b.jsonl"),
        ],
        VALID_DISCOVERY,
    )
    h = xxhash64(spark, "d1", "d2", "u1", "u2", "c1", "c2")
    actual = to_discovery_facts(valid, INGESTED_AT).select(
        "discovery_id", "event_id", "user_key", "content_key", "date_key", "discovery_source",
        "position_in_feed", "discovery_timestamp", "clicked_through", "time_to_engagement",
        "experiment_id", "variant", "user_id", "content_id", "source_file", "ingested_at", "event_date",
    )
    expected = spark.createDataFrame(
        [
            (h["d1"], "d1", h["u1"], h["c1"], 2026112000, "for_you", 0, utc(2026, 11, 20, 0, 0, 0),
             True, 1.5, "exp1", "b", "u1", "c1", "landing/a.jsonl", INGESTED_AT, dt.date(2026, 11, 20)),
            (h["d2"], "d2", h["u2"], h["c2"], 2026112023, "search", 7, utc(2026, 11, 20, 23, 59, 59),
             False, None, None, None, "u2", "c2", "landing/b.jsonl", INGESTED_AT, dt.date(2026, 11, 20)),
        ],
        "discovery_id long, event_id string, user_key long, content_key long, date_key int, "
        "discovery_source string, position_in_feed int, discovery_timestamp timestamp, clicked_through boolean, "
        "time_to_engagement double, experiment_id string, variant string, user_id string, content_id string, "
        "source_file string, ingested_at timestamp, event_date date",
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


# --- drop_duplicate_deliveries -------------------------------------------------------------------

FACTS = "event_id string, source_file string, payload int"


def with_id_key(frame):
    return frame.withColumn("engagement_id", F.xxhash64("event_id"))


def test_drop_duplicate_deliveries_never_merges_a_key_collision(spark):
    """Two different events whose 64-bit keys collide are both kept: the id string decides."""
    facts = spark.createDataFrame(
        [("e1", "landing/a.jsonl", 1), ("e2", "landing/a.jsonl", 2), ("e2", "landing/b.jsonl", 2)], FACTS
    ).withColumn("engagement_id", F.lit(7).cast("long"))
    loaded = spark.createDataFrame([], "event_id string").withColumn("engagement_id", F.lit(7).cast("long"))
    actual = drop_duplicate_deliveries(facts, loaded, "engagement_id").select("event_id", "source_file", "payload")
    expected = spark.createDataFrame([("e1", "landing/a.jsonl", 1), ("e2", "landing/a.jsonl", 2)], FACTS)
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_drop_duplicate_deliveries(spark):
    facts = spark.createDataFrame(
        [
            ("e1", "landing/part-9.jsonl", 1),
            ("e1", "landing/part-10.jsonl", 2),  # lexicographically smallest file: this one stays
            ("e2", "landing/a.jsonl", 3),  # already in the table
            ("e3", "landing/c.jsonl", 4),
            ("e4", "landing/z.jsonl", 5),
        ],
        FACTS,
    )
    loaded = spark.createDataFrame([("e2", dt.date(2026, 11, 20)), ("e9", dt.date(2026, 11, 20))],
                                   "event_id string, event_date date")
    actual = drop_duplicate_deliveries(
        with_id_key(facts), with_id_key(loaded.select("event_id")), "engagement_id"
    ).select("event_id", "source_file", "payload")
    expected = spark.createDataFrame(
        [("e1", "landing/part-10.jsonl", 2), ("e3", "landing/c.jsonl", 4), ("e4", "landing/z.jsonl", 5)],
        FACTS,
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_drop_duplicate_deliveries_same_file_and_empty_table(spark):
    facts = spark.createDataFrame(
        [
            ("e1", "landing/a.jsonl", 1),
            ("e1", "landing/a.jsonl", 1),  # repeated inside one file
            ("e1", "landing/b.jsonl", 1),
            ("e2", "landing/b.jsonl", 2),
        ],
        FACTS,
    )
    loaded = spark.createDataFrame([], "event_id string")
    actual = drop_duplicate_deliveries(with_id_key(facts), with_id_key(loaded), "engagement_id").select(
        "event_id", "source_file", "payload"
    )
    expected = spark.createDataFrame([("e1", "landing/a.jsonl", 1), ("e2", "landing/b.jsonl", 2)], FACTS)
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_drop_duplicate_deliveries_keeps_the_fact_columns(spark):
    facts = with_id_key(spark.createDataFrame([("e1", "landing/a.jsonl", 1)], FACTS))
    loaded = with_id_key(spark.createDataFrame([("e0",)], "event_id string"))
    result = drop_duplicate_deliveries(facts, loaded, "engagement_id")
    assert sorted(result.columns) == ["engagement_id", "event_id", "payload", "source_file"]


# --- to_quarantine_rows --------------------------------------------------------------------------

BAD = "value string, reason string, reason_detail string, user_id string, source_file string"


def test_to_quarantine_rows(spark):
    truncated = '{"event_id": "e1", "user_id": "u42", "content_id"'
    compact = '{"event_id":"e2","user_id":"u 7","event_timestamp":'
    no_user = '{"event_id": "e3", "content_id": "c1"'
    empty_user = '{"event_id": "e4", "user_id": ""'
    wrong_type = '{"event_id": "e5", "user_id": 12345}'
    bad = spark.createDataFrame(
        [
            (truncated, "malformed_json", None, None, "landing/a.jsonl"),
            (compact, "malformed_json", None, None, "landing/a.jsonl"),
            (no_user, "malformed_json", None, None, "landing/b.jsonl"),
            (empty_user, "malformed_json", None, None, "landing/b.jsonl"),
            ("[1, 2]", "malformed_json", None, None, "landing/b.jsonl"),
            (wrong_type, "wrong_type", "user_id", "12345", "landing/c.jsonl"),  # parsed value is kept
        ],
        BAD,
    )
    ingested_at = utc(2026, 11, 20, 23, 59, 59)
    actual = to_quarantine_rows(bad, "engagements", ingested_at, 17)
    expected = spark.createDataFrame(
        [
            ("engagements", "malformed_json", None, truncated, "u42", "landing/a.jsonl", ingested_at, 17,
             dt.date(2026, 11, 20)),
            ("engagements", "malformed_json", None, compact, "u 7", "landing/a.jsonl", ingested_at, 17,
             dt.date(2026, 11, 20)),
            ("engagements", "malformed_json", None, no_user, None, "landing/b.jsonl", ingested_at, 17,
             dt.date(2026, 11, 20)),
            ("engagements", "malformed_json", None, empty_user, None, "landing/b.jsonl", ingested_at, 17,
             dt.date(2026, 11, 20)),
            ("engagements", "malformed_json", None, "[1, 2]", None, "landing/b.jsonl", ingested_at, 17,
             dt.date(2026, 11, 20)),
            ("engagements", "wrong_type", "user_id", wrong_type, "12345", "landing/c.jsonl", ingested_at, 17,
             dt.date(2026, 11, 20)),
        ],
        "feed string, reason string, reason_detail string, raw_line string, user_id string, source_file string, "
        "ingested_at timestamp, batch_id long, ingest_date date",
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_to_quarantine_rows_without_a_parsed_user_column(spark):
    bad = spark.createDataFrame(
        [
            ('{"op": "upsert", "user_id": "u5", "updated_at": 5', "wrong_type", "updated_at", "landing/u.jsonl"),
            ('{"op": "delete"}', "missing_field", "user_id", "landing/u.jsonl"),
        ],
        "value string, reason string, reason_detail string, source_file string",
    )
    actual = to_quarantine_rows(bad, "users", utc(2026, 11, 21, 0, 0, 0), 0).select(
        "feed", "user_id", "batch_id", "ingest_date"
    )
    expected = spark.createDataFrame(
        [("users", "u5", 0, dt.date(2026, 11, 21)), ("users", None, 0, dt.date(2026, 11, 21))],
        "feed string, user_id string, batch_id long, ingest_date date",
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_unreadable_file_rows(spark):
    ingested_at = utc(2026, 11, 20, 23, 59, 59)  # aware UTC, as the ingest passes it
    damaged = {"file:/landing/b.jsonl.gz": "Error -3 while decompressing data: incorrect header check",
               "file:/landing/a.jsonl": "file not found: it vanished after the stream listed it"}
    actual = unreadable_file_rows(spark, damaged, "engagements", ingested_at, 4)
    expected = spark.createDataFrame(
        [
            ("engagements", "unreadable_file", damaged["file:/landing/a.jsonl"], "", None, "file:/landing/a.jsonl",
             ingested_at, 4, dt.date(2026, 11, 20)),
            ("engagements", "unreadable_file", damaged["file:/landing/b.jsonl.gz"], "", None,
             "file:/landing/b.jsonl.gz", ingested_at, 4, dt.date(2026, 11, 20)),
        ],
        TABLES["quarantine"].schema,
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)
    assert actual.unionByName(to_quarantine_rows(
        spark.createDataFrame([], BAD), "engagements", ingested_at, 4)).count() == 2  # the columns line up


def test_with_user_bucket_is_the_user_key_modulo_the_bucket_count(spark):
    """pmod(xxhash64(user_id), N): never negative, the same for every row of a user, null key null."""
    facts = spark.createDataFrame([("u1", 5), ("u2", -7), ("u3", 1024 * 3 + 9), ("u4", None)],
                                  "user_id string, user_key long")
    expected = spark.createDataFrame([("u1", 5, 5), ("u2", -7, 1017), ("u3", 3081, 9), ("u4", None, None)],
                                     "user_id string, user_key long, user_bucket int")
    assert_df_equality(facts.transform(with_user_bucket, 1024), expected, ignore_row_order=True)
