"""The benchmark's baselines: read the same landing files and append them to a Delta table
partitioned by event_date, in one batch job (no stream, no cache, no quarantine, no ops tables).

    plain_copy.py LANDING TABLE                  the plain copy: Spark's JSON source, the same schema
    plain_copy.py LANDING TABLE --judge          every line judged by the ingest's own expressions
                                                 (jobs/transforms/validation.py), the valid ones
                                                 written as fact rows
    plain_copy.py LANDING TABLE --judge --deduplicate
                                                 and repeat deliveries dropped (the ingest's
                                                 drop_duplicate_deliveries, nothing loaded before)

The judged floors are what any ingest must do to each line under the contract (events.md): how
close they come to the plain copy bounds the ratio an ingest can reach, whatever it does with the
rest (quarantine, counts, exactly-once)."""

from __future__ import annotations

import argparse
import sys

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.common.config import load_conf
from jobs.common.landing import lines_with_source, utc_now
from jobs.common.lake import conform
from jobs.common.spark import start_spark
from jobs.ingest import EventFeed, event_feeds
from jobs.transforms.facts import drop_duplicate_deliveries
from jobs.transforms.validation import Clock, TimeRules, classify_lines
from schemas.landing import ENGAGEMENTS


def copied_rows(spark: SparkSession, landing_dir: str) -> DataFrame:
    """The plain copy's rows: Spark's JSON source with the feed's schema, and the partition column."""
    return (
        spark.read.schema(ENGAGEMENTS.json_schema)
        .json(landing_dir)
        .withColumn("event_date", F.to_date(F.col("event_timestamp").try_cast("timestamp")))
    )


def judged_facts(lines: DataFrame, feed: EventFeed, clock: Clock) -> DataFrame:
    """The judged floor's rows: every line (lines_with_source) judged as the ingest does, the valid
    ones as fact rows."""
    valid = lines.transform(classify_lines, feed.feed, clock).where(F.col("reason").isNull())
    return feed.to_facts(valid, clock.ingested_at)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("landing_dir")
    parser.add_argument("table_dir")
    parser.add_argument("--judge", action="store_true", help="the ingest's judging of every line")
    parser.add_argument("--deduplicate", action="store_true", help="and its de-duplication (with --judge)")
    args = parser.parse_args(argv)
    conf = load_conf("local")
    spark = start_spark("plain-copy", conf)
    if not args.judge:
        copied_rows(spark, args.landing_dir).write.format("delta").mode("append").partitionBy("event_date").save(
            args.table_dir)
        return 0

    feed = event_feeds(conf)["engagements"]
    lines = lines_with_source(spark.read.format("text").load(args.landing_dir))  # as the ingest reads them
    facts = judged_facts(lines, feed, TimeRules.from_settings(conf.section("ingest")).at(utc_now()))
    if args.deduplicate:
        nothing_loaded = spark.createDataFrame([], f"{feed.id_key} long, event_id string")
        facts = drop_duplicate_deliveries(facts, nothing_loaded, feed.id_key)
    conform(facts, feed.table).write.format("delta").mode("append").partitionBy(
        *feed.table.partition_by).save(args.table_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
