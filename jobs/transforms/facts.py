"""From valid landing lines to fact rows, and the de-duplication of repeat deliveries."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from jobs.common.keys import hour_key, surrogate_key
from jobs.transforms.validation import UNREADABLE_FILE
from schemas import TABLES


def _engagement_key(engagement_keys: dict[str, int]) -> Column:
    mapping = F.create_map(*[F.lit(x) for pair in sorted(engagement_keys.items()) for x in pair])
    return mapping[F.col("engagement_type")]


def to_engagement_facts(valid: DataFrame, engagement_keys: dict[str, int], ingested_at: dt.datetime) -> DataFrame:
    """Valid engagement lines -> fact_content_engagements rows (keys derived, never looked up)."""
    return valid.select(
        surrogate_key("event_id").alias("engagement_id"),
        F.col("event_id"),
        surrogate_key("user_id").alias("user_key"),
        surrogate_key("content_id").alias("content_key"),
        _engagement_key(engagement_keys).alias("engagement_key"),
        hour_key("event_timestamp").alias("date_key"),
        F.col("event_timestamp").alias("engagement_timestamp"),
        F.col("watch_duration_seconds"),
        F.col("completion_percentage"),
        F.col("engagement_context"),
        F.col("user_id"),
        F.col("content_id"),
        F.col("client"),
        F.col("source_file"),
        F.lit(ingested_at).alias("ingested_at"),
        F.to_date("event_timestamp").alias("event_date"),
    )


def to_discovery_facts(valid: DataFrame, ingested_at: dt.datetime) -> DataFrame:
    """Valid discovery lines -> fact_discovery_events rows."""
    return valid.select(
        surrogate_key("discovery_id").alias("discovery_id"),
        F.col("discovery_id").alias("event_id"),
        surrogate_key("user_id").alias("user_key"),
        surrogate_key("content_id").alias("content_key"),
        hour_key("discovery_timestamp").alias("date_key"),
        F.col("discovery_source"),
        F.col("position_in_feed").cast("int").alias("position_in_feed"),
        F.col("discovery_timestamp"),
        F.col("clicked_through"),
        F.col("time_to_engagement_seconds").alias("time_to_engagement"),
        F.col("experiment_id"),
        F.col("variant"),
        F.col("user_id"),
        F.col("content_id"),
        F.col("source_file"),
        F.lit(ingested_at).alias("ingested_at"),
        F.to_date("discovery_timestamp").alias("event_date"),
    )


def user_bucket(user_key: str | Column, buckets: int) -> Column:
    """The user's bucket, 0..buckets-1: pmod(xxhash64(user_id), buckets), from the key that already is
    that hash. Coarse on purpose: many users share a bucket, so it identifies no one and may sit in
    Delta's file statistics, where it lets an erasure skip the files a user's rows are not in."""
    key = F.col(user_key) if isinstance(user_key, str) else user_key
    return F.pmod(key, F.lit(buckets)).cast("int")


def with_user_bucket(facts: DataFrame, buckets: int) -> DataFrame:
    """Event facts with `user_bucket` (schemas/tables.py: the erasure-friendly layout)."""
    return facts.withColumn("user_bucket", user_bucket("user_key", buckets))


def drop_duplicate_deliveries(facts: DataFrame, loaded_ids: DataFrame, id_key: str) -> DataFrame:
    """Keep one row per event_id (the earliest file's), and none whose event_id the table holds.

    `loaded_ids` is the table's (`id_key`, `event_id`) restricted to the partitions this batch
    touches: a repeat delivery is the same event, so it has the same event_date. `id_key` is the
    event's 64-bit surrogate key: shuffling and sorting on it first (a long, radix-sorted) is much
    cheaper than on the id string, which only breaks ties, so a hash collision can never merge two
    events.
    """
    event = [id_key, "event_id"]
    by_event = Window.partitionBy(*event).orderBy("source_file")
    first_deliveries = (
        facts.withColumn("_delivery", F.row_number().over(by_event))
        .where(F.col("_delivery") == 1)
        .drop("_delivery")
    )
    return first_deliveries.join(loaded_ids.select(*event), on=event, how="left_anti")


USER_ID_IN_RAW_LINE = r'"user_id"\s*:\s*"((?:[^"\\]|\\.)*)"'


def to_quarantine_rows(bad: DataFrame, feed: str, ingested_at: dt.datetime, batch_id: int) -> DataFrame:
    """Bad lines -> quarantine rows; the user_id is salvaged from the raw text when it can be (erasure)."""
    parsed_user_id = next(
        (F.col(name) for name in ("user_id", "creator_user_id") if name in bad.columns), F.lit(None)
    )
    salvaged_user_id = F.coalesce(
        parsed_user_id,
        F.nullif(F.regexp_extract(F.col("value"), USER_ID_IN_RAW_LINE, 1), F.lit("")),
    )
    return bad.select(
        F.lit(feed).alias("feed"),
        F.col("reason"),
        F.col("reason_detail"),
        F.col("value").alias("raw_line"),
        salvaged_user_id.alias("user_id"),
        F.col("source_file"),
        F.lit(ingested_at).alias("ingested_at"),
        F.lit(batch_id).cast("long").alias("batch_id"),
        F.to_date(F.lit(ingested_at)).alias("ingest_date"),
    )


def unreadable_file_rows(
    spark: SparkSession, damaged: dict[str, str], feed: str, ingested_at: dt.datetime, batch_id: int
) -> DataFrame:
    """One quarantine row per landing file that could not be read to its end (reason
    `unreadable_file`): no line of its own, so raw_line is empty and reason_detail holds the error."""
    rows = [
        (feed, UNREADABLE_FILE, detail, "", None, path, ingested_at, batch_id, ingested_at.date())
        for path, detail in sorted(damaged.items())
    ]
    return spark.createDataFrame(rows, TABLES["quarantine"].schema)
