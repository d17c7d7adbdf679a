"""The benchmark's baseline: read the same landing files with the same schema and append them to a
Delta table partitioned by event_date. No validation, no de-duplication, no quarantine."""

from __future__ import annotations

import sys

from pyspark.sql import functions as F

from jobs.common.config import load_conf
from jobs.common.spark import start_spark
from schemas.landing import ENGAGEMENTS


def main(landing_dir: str, table_dir: str) -> int:
    spark = start_spark("plain-copy", load_conf("local"))
    (
        spark.read.schema(ENGAGEMENTS.json_schema)
        .json(landing_dir)
        .withColumn("event_date", F.to_date(F.col("event_timestamp").try_cast("timestamp")))
        .write.format("delta").mode("append").partitionBy("event_date").save(table_dir)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
