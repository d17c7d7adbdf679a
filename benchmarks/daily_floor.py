"""The floor of the daily benchmark: Spark's bare aggregation of one day's engagements into the
per-video measures of fact_content_performance, and nothing else.

    daily_floor.py LAKE DATE LAUNCHED_AT

The same transform `daily` runs (jobs.transforms.daily.content_day_measures, the same rules from
conf/) over the day's partition of fact_content_engagements, the columns it needs only; no consent
filter, dimensions, baselines, trending or Delta write: the rows go to Spark's `noop` sink. Prints
one JSON line: the seconds from the launch (LAUNCHED_AT, seconds since the epoch, taken by the
caller when it ran spark-submit) to the session, and the aggregation's own seconds.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time

from pyspark.sql import functions as F

from jobs.common.config import load_conf
from jobs.common.lake import table_path
from jobs.common.spark import start_spark
from jobs.transforms.daily import DailyRules, content_day_measures
from schemas import TABLES

MEASURED_COLUMNS = ["event_date", "content_key", "user_key", "engagement_key", "watch_duration_seconds",
                    "completion_percentage"]


def main(lake: str, day: dt.date, launched_at: float) -> int:
    conf = load_conf("local", lake=lake)
    spark = start_spark("daily-floor", conf)
    session_at = time.time()
    engagements = (
        spark.read.format("delta").load(table_path(lake, TABLES["fact_content_engagements"]))
        .where(F.col("event_date") == F.lit(day))
        .select(*MEASURED_COLUMNS)
    )
    content_day_measures(engagements, DailyRules.from_conf(conf)).write.format("noop").mode("overwrite").save()
    print(json.dumps({"to_session": round(session_at - launched_at, 3),
                      "aggregation_seconds": round(time.time() - session_at, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], dt.date.fromisoformat(sys.argv[2]), float(sys.argv[3])))
