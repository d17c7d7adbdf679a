"""The fixed cost every job pays: start Spark with Delta, run a first query, touch the Delta
machinery, stop.

    spark_startup.py SCRATCH_DIR [LAUNCHED_AT]

LAUNCHED_AT is the wall-clock time (seconds since the epoch) at which the caller ran spark-submit;
given it, the script prints one JSON line of the seconds from the launch to each mark: the session
ready, its first query answered, its first Delta write committed (issue 13's start-up figure is the
launch to the first query).
"""

from __future__ import annotations

import json
import sys
import time

from jobs.common.config import load_conf
from jobs.common.spark import start_spark


def main(scratch_dir: str, launched_at: float | None = None) -> int:
    spark = start_spark("startup", load_conf("local"))
    marks = {"session": time.time()}
    spark.range(1).count()
    marks["first_query"] = time.time()
    spark.range(1).write.format("delta").mode("overwrite").save(scratch_dir)
    marks["first_delta_write"] = time.time()
    if launched_at is not None:
        print(json.dumps({f"to_{mark}": round(at - launched_at, 3) for mark, at in marks.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else None))
