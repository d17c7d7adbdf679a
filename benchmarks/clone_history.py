"""The daily benchmark's history: copies of one day's engagements and of the day before's
performance rows, shifted into the days before, appended to the lake.

    spark-submit benchmarks/clone_history.py LAKE DAY HISTORY_DAYS

Day DAY's fact_content_engagements partition is copied into DAY-2 .. DAY-HISTORY_DAYS (one Delta
commit per day, as a daily ingest would leave them): timestamps, date_key and event_date moved by
whole days, the event ids suffixed so they stay unique. fact_content_performance of DAY-1 is copied
into the same days, so every creator has HISTORY_DAYS days of baseline before DAY.
"""

from __future__ import annotations

import datetime as dt
import sys

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.common.config import load_conf
from jobs.common.keys import hour_key, surrogate_key
from jobs.common.lake import conform, table_path
from jobs.common.spark import start_spark
from jobs.transforms.daily import day_key
from schemas import TABLES


def shifted_engagements(day_rows: DataFrame, days_back: int) -> DataFrame:
    moved = F.col("engagement_timestamp") - F.expr(f"INTERVAL {days_back} DAYS")
    event_id = F.concat(F.col("event_id"), F.lit(f"~h{days_back}"))
    return (
        day_rows.withColumn("engagement_timestamp", moved)
        .withColumn("date_key", hour_key("engagement_timestamp"))
        .withColumn("event_date", F.date_sub("event_date", days_back))
        .withColumn("event_id", event_id)
        .withColumn("engagement_id", surrogate_key(event_id))
    )


def shifted_performance(day_rows: DataFrame, days: list[dt.date]) -> DataFrame:
    """The rows once for each of `days`, with that day's date_key and event_date."""
    targets = F.explode(F.array(*[
        F.struct(F.lit(d).alias("event_date"), F.lit(day_key(d)).alias("date_key")) for d in days
    ])).alias("target")
    return day_rows.drop("date_key", "event_date").select("*", targets).select("*", "target.*").drop("target")


def main(lake: str, day_text: str, history_days: int) -> int:
    spark = start_spark("clone-history", load_conf("local"))
    day = dt.date.fromisoformat(day_text)
    engagements_spec, performance_spec = TABLES["fact_content_engagements"], TABLES["fact_content_performance"]
    engagements = spark.read.format("delta").load(table_path(lake, engagements_spec))
    day_rows = engagements.where(F.col("event_date") == F.lit(day))
    for days_back in range(2, history_days + 1):
        (conform(shifted_engagements(day_rows, days_back), engagements_spec)
         .write.format("delta").mode("append").save(table_path(lake, engagements_spec)))

    source_day = day - dt.timedelta(days=1)
    performance = spark.read.format("delta").load(table_path(lake, performance_spec))
    before = performance.where(F.col("event_date") == F.lit(source_day))
    targets = [day - dt.timedelta(days=n) for n in range(2, history_days + 1)]
    if targets:
        (conform(shifted_performance(before, targets), performance_spec)
         .write.format("delta").mode("append").save(table_path(lake, performance_spec)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
