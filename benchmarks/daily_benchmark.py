"""Benchmark: `daily` for one day against DuckDB computing the same fact_content_performance, and
the cost growth of `daily` from 1 day of history in the lake to 30.

    .venv/bin/python -m benchmarks.daily_benchmark [--events-per-day 5000000] [--users 200000]
        [--history-days 30] [--workdir benchmarks/out/daily] [--seed 1]

Setup (timed, reported as setup only): two generated days D-1 and D (no bad, duplicate or late
lines), dims, `ingest --once`, then `daily --date D-1` so that D has one day of performance
history. Measured, each as its own process as an orchestrator would run it:

* `daily --date D` (spark-submit; Spark's start-up is measured apart with spark_startup.py);
* in the same run, DuckDB computing D's fact_content_performance from the same Delta table's
  Parquet files (benchmarks/duckdb_performance.py), checked row for row against Spark's;
* `daily --date D` again after copies of day D (engagements) and D-1 (performance) were appended
  as days D-2 .. D-HISTORY_DAYS (benchmarks/clone_history.py): the cost growth t30 / t1.

Prints a Markdown table and writes it to WORKDIR/results.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
from pathlib import Path

from benchmarks.ingest_benchmark import BENCH_DIR, measured
from jobs.common.config import load_conf
from jobs.common.spark import spark_settings
from jobs.launch import launch_environment, spark_submit_command

DAYS_AGO = 3  # day D: far enough back that D-1 and D are whole past days
GOAL_VS_DUCKDB = 3.0
GOAL_GROWTH = 1.3


def status_line(stdout: str) -> dict:
    """A job's last JSON line (its status report)."""
    return json.loads([line for line in stdout.splitlines() if line.startswith("{")][-1])


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


class Steps:
    """Runs the benchmark's steps as separate processes and keeps what each one measured."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.landing, self.lake = workdir / "landing", workdir / "lake"
        self.settings = spark_settings(load_conf("local"))
        self.env = launch_environment(self.settings)
        self.setup: list[tuple[str, float]] = []

    def done(self, what: str, seconds: float, setup: str | None) -> None:
        if setup:
            self.setup.append((setup, seconds))
        sys.stderr.write(f"[daily benchmark] {setup or what}: {seconds:.1f} s\n")
        sys.stderr.flush()

    def job(self, job: str, args: list[str], setup: str | None = None) -> tuple[float, float, dict]:
        seconds, rss, out = measured(spark_submit_command(job, args, self.settings), self.env)
        report = status_line(out)
        if report.get("status") != "ok":
            raise SystemExit(f"{job} failed: {report}")
        self.done(job, seconds, setup)
        return seconds, rss, report

    def script(self, name: str, script: str, args: list[str], setup: str | None = None) -> tuple[float, float, str]:
        seconds, rss, out = measured(spark_submit_command(name, args, self.settings, BENCH_DIR / script), self.env)
        self.done(name, seconds, setup)
        return seconds, rss, out

    def python(self, module: str, args: list[str], setup: str | None = None) -> tuple[float, float, str]:
        seconds, rss, out = measured([sys.executable, "-m", module, *args], self.env)
        self.done(module, seconds, setup)
        return seconds, rss, out

    def duckdb(self, day: dt.date) -> tuple[float, dict]:
        _, rss, out = self.python("benchmarks.duckdb_performance", ["--lake", str(self.lake), "--date", day.isoformat()])
        return rss, status_line(out)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events-per-day", type=int, default=5_000_000)
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--history-days", type=int, default=30, help="days of history for the growth measure")
    parser.add_argument("--workdir", default=str(BENCH_DIR / "out" / "daily"))
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(args.workdir).resolve()
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    steps = Steps(workdir)
    load_before = os.getloadavg()[0]
    day = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=DAYS_AGO)
    lake_args = ["--lake", str(steps.lake)]

    # Setup: two days of clean events in the lake, D-1 computed.
    steps.python("jobs.generate", [
        "--landing", str(steps.landing), "--days", "2", "--start-date", (day - dt.timedelta(days=1)).isoformat(),
        "--events-per-day", str(args.events_per_day), "--users", str(args.users), "--seed", str(args.seed),
        "--bad-rate", "0", "--dup-rate", "0", "--late-rate", "0", "--set", "generate.discovery_per_engagement=0",
    ], setup="generate D-1 and D (engagement, user and content feeds)")
    steps.lake.mkdir()
    steps.job("dims", ["--landing", str(steps.landing), *lake_args], setup="dims")
    _, _, ingested = steps.job("ingest", ["--landing", str(steps.landing), *lake_args, "--once",
                                          "--feeds", "engagements"], setup="ingest --once (2 days)")
    steps.job("daily", [*lake_args, "--date", (day - dt.timedelta(days=1)).isoformat()], setup="daily --date D-1")

    # Spark's fixed cost, then daily for D (1 day of history) and DuckDB on the same files.
    m: dict = {"ingested": ingested, "load_before": load_before}
    m["startup"], _, _ = steps.script("startup", "spark_startup.py", [str(workdir / "scratch")])
    m["t1"], m["t1_rss"], m["t1_report"] = steps.job("daily", [*lake_args, "--date", day.isoformat()])
    m["duck1_rss"], m["duck1"] = steps.duckdb(day)

    # History: days D-2 .. D-N, then daily for D again.
    steps.script("clone-history", "clone_history.py", [str(steps.lake), day.isoformat(), str(args.history_days)],
                 setup=f"clone D / D-1 into D-2 .. D-{args.history_days}")
    m["t30"], m["t30_rss"], m["t30_report"] = steps.job("daily", [*lake_args, "--date", day.isoformat()])
    m["duck30_rss"], m["duck30"] = steps.duckdb(day)
    m["load_after"] = os.getloadavg()[0]

    table = results_table(args, day, m, steps.setup)
    print(table)
    (workdir / "results.md").write_text(table + "\n", encoding="utf-8")
    return 0 if m["duck1"]["equal"] and m["duck30"]["equal"] else 1


def results_table(args: argparse.Namespace, day: dt.date, m: dict, setup: list[tuple[str, float]]) -> str:
    t1, t30, startup, duck1, duck30 = m["t1"], m["t30"], m["startup"], m["duck1"], m["duck30"]
    d1 = duck1["query_seconds"]
    ratio_warm, ratio_cold = (t1 - startup) / d1, t1 / d1
    growth, growth_warm = t30 / t1, (t30 - startup) / (t1 - startup)
    h = args.history_days
    differences = f" ({'; '.join(duck1['differences'])})" if duck1["differences"] else ""
    rows = [
        ("day D / events generated per day / users", f"{day} / {args.events_per_day:,} / {args.users:,}", "", ""),
        ("engagements of D read by daily (of which excluded: no analytics consent)",
         f"{m['t1_report']['engagements_read']:,} ({m['t1_report']['engagements_excluded']:,})", "", ""),
        ("fact_content_performance rows of D (Spark / DuckDB)",
         f"{m['t1_report']['content_rows']:,} / {duck1['rows']:,}", "", ""),
        ("Spark start-up (spark-submit, Delta loaded, one tiny write)", f"{startup:.1f} s", "", ""),
        ("(a) daily --date D, 1 day of history, end to end", f"{t1:.1f} s", "", ""),
        ("(a) the same without Spark's start-up", f"{t1 - startup:.1f} s", "", ""),
        ("    (daily's own JSON line: seconds from its Python start)", f"{m['t1_report']['seconds']:.1f} s", "", ""),
        ("(b) DuckDB, same fact_content_performance from the same Parquet files (connect + query + fetch)",
         f"{d1:.2f} s", "", ""),
        ("    (Delta log replay to list the files, not timed in (b))", f"{duck1['log_replay_seconds']:.2f} s", "", ""),
        ("ratio a/b without start-up", f"{ratio_warm:.1f}", f"<= {GOAL_VS_DUCKDB:g}",
         yes_no(ratio_warm <= GOAL_VS_DUCKDB)),
        ("ratio a/b end to end (with start-up)", f"{ratio_cold:.1f}", "", ""),
        ("results equal (DuckDB vs Spark rows of D)", yes_no(duck1["equal"]), "yes",
         yes_no(duck1["equal"]) + differences),
        (f"(c) daily --date D, {h} days of history, end to end", f"{t30:.1f} s", "", ""),
        ("    (daily's own JSON line: seconds from its Python start)", f"{m['t30_report']['seconds']:.1f} s", "", ""),
        ("growth c/a end to end (t30 / t1)", f"{growth:.2f}", f"< {GOAL_GROWTH:g}", yes_no(growth < GOAL_GROWTH)),
        ("growth c/a without start-up", f"{growth_warm:.2f}", "", ""),
        (f"DuckDB with {h} days of history (results equal: {yes_no(duck30['equal'])})",
         f"{duck30['query_seconds']:.2f} s", "", ""),
        (f"peak RSS, daily with 1 / {h} days of history (largest process: the driver JVM)",
         f"{m['t1_rss']:,.0f} / {m['t30_rss']:,.0f} MiB", "", ""),
        (f"peak RSS, DuckDB process with 1 / {h} days of history",
         f"{m['duck1_rss']:,.0f} / {m['duck30_rss']:,.0f} MiB", "", ""),
        ("ingest accepted (both days)", f"{m['ingested']['accepted']:,}", "", ""),
        *[(f"setup: {name}", f"{seconds:.1f} s", "", "") for name, seconds in setup],
        ("machine load average (1 min) at start / end", f"{m['load_before']:.1f} / {m['load_after']:.1f}", "", ""),
    ]
    lines = ["| measure | value | goal | met |", "|---|---|---|---|"]
    lines += [f"| {name} | {value} | {goal} | {met} |" for name, value, goal, met in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
