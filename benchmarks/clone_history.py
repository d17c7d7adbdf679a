"""The benchmarks' history: copies of one day's event facts (and of the day before's performance
rows), shifted into the days before, appended to the lake.

    spark-submit benchmarks/clone_history.py LAKE DAY HISTORY_DAYS [--discovery] [--first-day-back N]

Day DAY's fact_content_engagements partition (with --discovery, fact_discovery_events' too) is
copied into DAY-2 .. DAY-HISTORY_DAYS (from DAY-N with --first-day-back N) (one Delta commit per day and table, as a daily ingest would
leave them): timestamps, date_key and event_date moved by whole days, the event ids suffixed so they
stay unique, the users and their user_bucket kept. When the lake has fact_content_performance, its
rows of DAY-1 are copied into the same days, so every creator has HISTORY_DAYS days of baseline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.common.config import load_conf
from jobs.common.keys import hour_key, surrogate_key
from jobs.common.lake import conform, is_table, table_path
from jobs.common.spark import start_spark
from jobs.transforms.daily import day_key
from schemas import TABLES

# Event fact -> (its timestamp column, its surrogate key of event_id).
EVENT_FACTS = {
    "fact_content_engagements": ("engagement_timestamp", "engagement_id"),
    "fact_discovery_events": ("discovery_timestamp", "discovery_id"),
}


def shifted_events(day_rows: DataFrame, days_back: int, timestamp: str, key: str) -> DataFrame:
    moved = F.col(timestamp) - F.expr(f"INTERVAL {days_back} DAYS")
    event_id = F.concat(F.col("event_id"), F.lit(f"~h{days_back}"))
    return (
        day_rows.withColumn(timestamp, moved)
        .withColumn("date_key", hour_key(timestamp))
        .withColumn("event_date", F.date_sub("event_date", days_back))
        .withColumn("event_id", event_id)
        .withColumn(key, surrogate_key(event_id))
    )


def shifted_engagements(day_rows: DataFrame, days_back: int) -> DataFrame:
    return shifted_events(day_rows, days_back, *EVENT_FACTS["fact_content_engagements"])


def shifted_performance(day_rows: DataFrame, days: list[dt.date]) -> DataFrame:
    """The rows once for each of `days`, with that day's date_key and event_date."""
    targets = F.explode(F.array(*[
        F.struct(F.lit(d).alias("event_date"), F.lit(day_key(d)).alias("date_key")) for d in days
    ])).alias("target")
    return day_rows.drop("date_key", "event_date").select("*", targets).select("*", "target.*").drop("target")


def main(lake: str, day_text: str, history_days: int, discovery: bool = False, first_back: int = 2) -> int:
    spark = start_spark("clone-history", load_conf("local"))
    day = dt.date.fromisoformat(day_text)
    facts = ["fact_content_engagements", *(["fact_discovery_events"] if discovery else [])]
    for name in facts:
        spec = TABLES[name]
        rows = spark.read.format("delta").load(table_path(lake, spec))
        day_rows = rows.where(F.col("event_date") == F.lit(day))
        for days_back in range(first_back, history_days + 1):
            (conform(shifted_events(day_rows, days_back, *EVENT_FACTS[name]), spec)
             .write.format("delta").mode("append").save(table_path(lake, spec)))

    performance_spec = TABLES["fact_content_performance"]
    if not is_table(spark, table_path(lake, performance_spec)):
        return 0
    source_day = day - dt.timedelta(days=1)
    performance = spark.read.format("delta").load(table_path(lake, performance_spec))
    before = performance.where(F.col("event_date") == F.lit(source_day))
    targets = [day - dt.timedelta(days=n) for n in range(2, history_days + 1)]
    if targets:
        (conform(shifted_performance(before, targets), performance_spec)
         .write.format("delta").mode("append").save(table_path(lake, performance_spec)))
    return 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lake")
    parser.add_argument("day")
    parser.add_argument("history_days", type=int)
    parser.add_argument("--discovery", action="store_true", help="clone fact_discovery_events too")
    parser.add_argument("--first-day-back", type=int, default=2, help="the first copy goes to DAY minus this")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse_args(sys.argv[1:])
    sys.exit(main(args.lake, args.day, args.history_days, args.discovery, args.first_day_back))
