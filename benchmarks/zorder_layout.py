"""The erasure benchmark's proposed layout: every partition of both event facts Z-ordered by
user_bucket into files of about MB megabytes, the same OPTIMIZE call as maintain's compaction
(jobs/maintain.py compact), but for every partition: maintain rewrites only partitions holding 2+
files under the target, and an ingest --once of a whole day leaves files bigger than a small target.

    spark-submit benchmarks/zorder_layout.py LAKE MB
"""

from __future__ import annotations

import sys

from delta.tables import DeltaTable

from jobs.common.config import load_conf
from jobs.common.lake import table_path
from jobs.common.spark import start_spark
from jobs.maintain import OPTIMIZE_SIZES, session_settings
from schemas import TABLES

EVENT_FACTS = ("fact_content_engagements", "fact_discovery_events")


def main(lake: str, megabytes: int) -> int:
    spark = start_spark("zorder-layout", load_conf("local"))
    with session_settings(spark, {key: str(megabytes * 1024 * 1024) for key in OPTIMIZE_SIZES}):
        for name in EVENT_FACTS:
            DeltaTable.forPath(spark, table_path(lake, TABLES[name])).optimize().executeZOrderBy("user_bucket")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
