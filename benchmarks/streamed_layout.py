"""Benchmark: the fact table's files after a day that arrived in many micro-batches, before and
after `maintain`, and a query on it against the same events ingested in one batch.

    .venv/bin/python -m benchmarks.streamed_layout [--events 500000] [--batches 100] [--users 50000]
        [--rounds 2] [--workdir benchmarks/out/streamed-layout] [--seed 1]

Setup: one generated day D of clean engagement events, its lines split into BATCHES files. The
streamed lake ingests them one file per micro-batch (`ingest --once --set
ingest.max_files_per_trigger=1`: what a day of `--continuous` triggers leaves, at a smaller number
of batches); the batch lake ingests the same files in one micro-batch. The query is the daily
floor (benchmarks/daily_floor.py: D's per-video measures from the fact table, timed from its
session), on the batch lake, on the streamed lake, and on the streamed lake after `maintain`; the
best of the rounds. Files per partition are D's active files in fact_content_engagements, read
from the Delta log. Prints a Markdown table and writes it to WORKDIR/results.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import shutil
import sys
from pathlib import Path

from benchmarks.daily_benchmark import DAYS_AGO, Steps, add_run_arguments
from benchmarks.duckdb_performance import active_files


def read_lines(path: Path) -> list[str]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [line if line.endswith("\n") else line + "\n" for line in handle if line.strip()]


def split_day(landing: Path, target: Path, batches: int) -> int:
    """The generated engagement lines, dealt round-robin into `batches` plain files; returns lines."""
    target.mkdir(parents=True)
    lines = [line for path in sorted((landing / "engagements").iterdir()) for line in read_lines(path)]
    for number in range(batches):
        (target / f"part-{number:05d}.jsonl").write_text("".join(lines[number::batches]), encoding="utf-8")
    return len(lines)


def files_of_day(lake: Path, day: dt.date) -> int:
    return sum(1 for info in active_files(lake / "fact_content_engagements").values()
               if info["partition"].get("event_date") == day.isoformat())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--batches", type=int, default=100)
    add_run_arguments(parser, "streamed-layout", users=50_000)
    args = parser.parse_args(argv)

    workdir = Path(args.workdir).resolve()
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    steps = Steps(workdir)
    day = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=DAYS_AGO)
    generated, landing = workdir / "generated", workdir / "landing"
    steps.generate_clean_days(generated, day, 1, args.events, args.users, args.seed, setup="generate D")
    lines = split_day(generated, landing / "engagements", args.batches)
    lakes = {"batch": workdir / "lake-batch", "streamed": workdir / "lake-streamed"}
    ingested = {
        "batch": steps.job("ingest", ["--landing", str(landing), "--lake", str(lakes["batch"]), "--once",
                                      "--feeds", "engagements"], setup="ingest, one micro-batch")[2],
        "streamed": steps.job("ingest", ["--landing", str(landing), "--lake", str(lakes["streamed"]), "--once",
                                         "--feeds", "engagements", "--set", "ingest.max_files_per_trigger=1"],
                              setup=f"ingest, {args.batches} micro-batches")[2],
    }
    files = {name: files_of_day(lake, day) for name, lake in lakes.items()}
    query = {name: min(steps.floor(lake, day)[1]["aggregation_seconds"] for _ in range(args.rounds))
             for name, lake in lakes.items()}
    steps.job("maintain", ["--lake", str(lakes["streamed"])], setup="maintain (streamed lake)")
    files["maintained"] = files_of_day(lakes["streamed"], day)
    query["maintained"] = min(steps.floor(lakes["streamed"], day)[1]["aggregation_seconds"] for _ in range(args.rounds))

    rows = [
        ("day D / engagement lines / files landed", f"{day} / {lines:,} / {args.batches}"),
        ("micro-batches (streamed / batch lake)", f"{ingested['streamed'].get('batches')} / {ingested['batch'].get('batches')}"),
        ("files in D's partition: one micro-batch", f"{files['batch']:,}"),
        ("files in D's partition: streamed, before maintain", f"{files['streamed']:,}"),
        ("files in D's partition: streamed, after maintain", f"{files['maintained']:,}"),
        ("query (the daily floor on D), one micro-batch", f"{query['batch']:.2f} s"),
        ("query, streamed, before maintain", f"{query['streamed']:.2f} s ({query['streamed'] / query['batch']:.2f} x)"),
        ("query, streamed, after maintain (goal: no slower than one micro-batch)",
         f"{query['maintained']:.2f} s ({query['maintained'] / query['batch']:.2f} x)"),
        *[(f"setup: {name}", f"{seconds:.1f} s") for name, seconds in steps.setup],
    ]
    table = "\n".join(["| measure | value |", "|---|---|", *[f"| {name} | {value} |" for name, value in rows]])
    print(table)
    (workdir / "results.md").write_text(table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
