"""The erasure benchmark's requested users, picked deterministically from one ingested day.

    spark-submit benchmarks/erasure_users.py LAKE DAY OUT COUNT

Users with events in both event facts on DAY (cloned into every history day, so they have events on
every day of the lake), ordered by a hash of their id (a spread of activity levels and user buckets,
the same on every run): the first COUNT, written to OUT as JSON with their events on DAY.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pyspark.sql import functions as F

from jobs.common.config import load_conf
from jobs.common.lake import table_path
from jobs.common.spark import start_spark
from schemas import TABLES


def main(lake: str, day: str, out: str, count: int) -> int:
    spark = start_spark("erasure-users", load_conf("local"))
    per_table = []
    for name in ("fact_content_engagements", "fact_discovery_events"):
        rows = spark.read.format("delta").load(table_path(lake, TABLES[name]))
        per_table.append(rows.where(F.col("event_date") == F.lit(day).cast("date"))
                         .groupBy("user_id").agg(F.count(F.lit(1)).alias(name)))
    users = (per_table[0].join(per_table[1], "user_id")
             .orderBy(F.xxhash64(F.concat(F.lit("erasure-benchmark:"), F.col("user_id"))), "user_id")
             .limit(count).collect())
    Path(out).write_text(json.dumps([row.asDict() for row in users], indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
