"""Benchmark: Spark's start-up as a job pays it, with and without the class archive.

    .venv/bin/python -m benchmarks.startup_benchmark [--rounds 5] [--workdir benchmarks/out/startup]

Each round runs benchmarks/spark_startup.py twice as its own spark-submit process, as a job is
launched (the Delta jars from the cache, no repository resolution): once with the driver JVM
mapping the class archive (conf's default, made first if missing), once without; the order
alternates between rounds. Prints the median and the best of each mark, measured from the
spark-submit call: the session ready, a first query answered, a first Delta write committed, and
the process's end.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from benchmarks.ingest_benchmark import BENCH_DIR, measured
from benchmarks.daily_benchmark import status_line
from jobs.common.config import load_conf
from jobs.common.spark import spark_settings
from jobs.launch import ensure_class_archive, launch_environment, spark_submit_command

GOAL_TO_FIRST_QUERY = 8.0
MARKS = ("to_session", "to_first_query", "to_first_delta_write", "process")


def one_start(settings: dict[str, str], scratch: Path) -> dict[str, float]:
    command = spark_submit_command("startup", [str(scratch), repr(time.time())], settings,
                                   BENCH_DIR / "spark_startup.py")
    seconds, _, out = measured(command, launch_environment(settings))
    return {**status_line(out), "process": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workdir", default=str(BENCH_DIR / "out" / "startup"))
    args = parser.parse_args(argv)

    conf = load_conf("local")
    plain = spark_settings(load_conf("local", ["spark.class_archive=false"]))
    archived = ensure_class_archive(conf, spark_settings(conf))
    if archived == plain:
        raise SystemExit("no class archive could be made: see the warning above")
    if "spark.jars.packages" in plain:
        raise SystemExit("the Delta jars are not cached yet: run any job once first")
    variants = {"without the archive": plain, "with the archive": archived}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    for number in range(args.rounds):
        order = list(variants) if number % 2 == 0 else list(reversed(variants))
        for name in order:
            runs[name].append(one_start(variants[name], Path(args.workdir) / f"scratch-{number}-{len(runs[name])}"))
            sys.stderr.write(f"[startup benchmark] round {number + 1}, {name}: {runs[name][-1]}\n")

    print(f"| mark (seconds from spark-submit; median, best of {args.rounds}) | without the archive | "
          "with the archive | goal |\n|---|---|---|---|")
    for mark in MARKS:
        cells = [f"{statistics.median(r[mark] for r in runs[name]):.2f} ({min(r[mark] for r in runs[name]):.2f})"
                 for name in variants]
        goal = f"<= {GOAL_TO_FIRST_QUERY:g} s" if mark == "to_first_query" else ""
        print(f"| {mark.replace('_', ' ')} | {cells[0]} | {cells[1]} | {goal} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
