"""The short Spark run whose JVM writes the class archive at its exit (jobs/launch.py runs it with
-XX:ArchiveClassesAtExit): what every job does first, so the classes it loads are the ones a job's
start needs. Not a job: no lake, no report.

    spark-submit ... jobs/common/class_archive.py SCRATCH_DIR
"""

from __future__ import annotations

import sys

from pyspark.sql import functions as F

from jobs.common.config import load_conf
from jobs.common.spark import start_spark


def main(scratch_dir: str) -> int:
    spark = start_spark("class-archive", load_conf("local"))
    rows = spark.range(100).withColumn("day", F.expr("date_add(DATE'2026-01-01', CAST(id % 3 AS INT))"))
    rows.write.format("delta").partitionBy("day").mode("overwrite").save(scratch_dir)
    spark.read.format("delta").load(scratch_dir).groupBy("day").agg(F.count("*")).collect()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
