"""Where the ingest's judging of a line spends its time: the judged floor (benchmarks/plain_copy.py
--judge) taken apart, step by step, against the plain copy, in one warm Spark session.

    .venv/bin/python -m benchmarks.judging_profile LANDING_DIR [--rounds 3] [--scratch DIR]

LANDING_DIR is a feed's folder of landing files (e.g. the ingest benchmark's workdir's
landing/engagements). Each judging step adds one stage of classify_lines
(jobs/transforms/validation.py) to the one before and sends every column to Spark's `noop` sink, so
its time is the read and the work of its columns without a write; the plain copy's read (Spark's
JSON source, the same schema) is measured the same way. The writes are then measured apart: the
copy's rows and the judged floor's fact rows appended to new Delta tables under --scratch. The
session's first pass over the files (class loading, the OS's file cache) is not counted: each step
runs `--rounds` times, in turn with the others, and its median is shown. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from pyspark import SparkContext
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from benchmarks.plain_copy import copied_rows, judged_facts
from jobs.common.config import load_conf
from jobs.common.landing import lines_with_source, utc_now
from jobs.common.lake import conform
from jobs.common.spark import start_spark
from jobs.ingest import EventFeed, event_feeds
from jobs.transforms import validation as v
from jobs.transforms.validation import TimeRules, classify_lines

COPY_READ = "the plain copy's read: Spark's JSON source, the feed's schema, event_date"
LINES = "read the lines (text source, the file's name)"
FACTS = "+ the valid lines' fact rows (keys, dates): the judged floor without its write"


def judging_steps(lines: DataFrame, event_feed: EventFeed, clock: v.Clock) -> dict[str, DataFrame]:
    """Cumulative stages of classify_lines, each a DataFrame whose columns all get computed; the last
    is the judged floor's own rows (benchmarks/plain_copy.py)."""
    feed = event_feed.feed
    judgement = v._judgement(feed, clock.earliest_event, SparkContext._gateway)
    parsed = lines.transform(v.parse_lines, feed).withColumn(v.LATEST_EVENT, F.lit(clock.latest_event))
    typed_fields, utf8 = judgement.typed[: len(feed.rules)], judgement.typed[len(feed.rules)]
    kept = [*lines.columns, "parsed", v.LATEST_EVENT]
    with_suspects = parsed.select(*kept, *judgement.typed)
    return {
        LINES: lines,
        "+ parse (from_json into the feed's struct)": parsed.select(*lines.columns, "parsed"),
        "+ typed values (timestamp pattern and casts)": parsed.select(*kept, *typed_fields),
        "+ UTF-8 check": parsed.select(*kept, *typed_fields, utf8),
        "+ cheap suspect flags (could a field be another JSON type?)": with_suspects,
        "+ exact JSON types (variant, for the suspects only)":
            with_suspects.select("*", judgement.line_as_variant).select("*", *judgement.type_flags),
        "+ the first broken rule (all checks), value made valid UTF-8: classify_lines":
            lines.transform(classify_lines, feed, clock),
        FACTS: judged_facts(lines, event_feed, clock),
    }


def to_noop(frame: DataFrame) -> Callable[[], None]:
    return lambda: frame.write.format("noop").mode("overwrite").save()


def to_delta(frame: DataFrame, scratch: Path, name: str, partition_by: list[str]) -> Callable[[], None]:
    """An append to a new table each time (a round's table is deleted after it)."""
    rounds = itertools.count()

    def write() -> None:
        table = scratch / f"{name}-{next(rounds)}"
        frame.write.format("delta").mode("append").partitionBy(*partition_by).save(str(table))
        shutil.rmtree(table)

    return write


def seconds_of(action: Callable[[], None]) -> float:
    started = time.monotonic()
    action()
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("landing_dir")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scratch", help="where the measured Delta writes go (default: a temporary folder)")
    args = parser.parse_args()
    conf = load_conf("local")
    spark = start_spark("judging-profile", conf)
    scratch = Path(args.scratch or tempfile.mkdtemp(prefix="judging-profile-"))
    event_feed = event_feeds(conf)["engagements"]
    table = event_feed.table
    clock = TimeRules.from_settings(conf.section("ingest")).at(utc_now())

    copied = copied_rows(spark, args.landing_dir)
    lines = lines_with_source(spark.read.format("text").load(args.landing_dir))
    steps = judging_steps(lines, event_feed, clock)
    # (name, action, the step its own cost is counted from)
    measured: list[tuple[str, Callable[[], None], str | None]] = [(COPY_READ, to_noop(copied), None)]
    previous = None
    for name, frame in steps.items():
        measured.append((name, to_noop(frame), previous))
        previous = name
    measured += [
        ("the plain copy, its Delta write included", to_delta(copied, scratch, "copy", ["event_date"]), COPY_READ),
        ("the judged floor, its Delta write included (benchmarks/plain_copy.py --judge)",
         to_delta(conform(steps[FACTS], table), scratch, "judged", table.partition_by), FACTS),
    ]

    seconds_of(to_noop(lines))  # warm-up: class loading, the OS's file cache
    seconds: dict[str, list[float]] = {name: [] for name, _, _ in measured}
    for _ in range(args.rounds):
        for name, action, _ in measured:
            seconds[name].append(seconds_of(action))
    median = {name: statistics.median(times) for name, times in seconds.items()}

    print(f"{lines.count():,} lines, {args.rounds} rounds, median seconds\n")
    print("| step | seconds | its own cost |\n|---|---|---|")
    for name, _, relative_to in measured:
        own = median[name] - (median[relative_to] if relative_to else 0.0)
        print(f"| {name} | {median[name]:.1f} | {own:+.1f} |")
    spark.stop()
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
