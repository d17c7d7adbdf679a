"""The fixed cost every job pays: start Spark with Delta, touch the Delta machinery, stop."""

from __future__ import annotations

import sys

from jobs.common.config import load_conf
from jobs.common.spark import start_spark


def main(scratch_dir: str) -> int:
    spark = start_spark("startup", load_conf("local"))
    spark.range(1).write.format("delta").mode("overwrite").save(scratch_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
