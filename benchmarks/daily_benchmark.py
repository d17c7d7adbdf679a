"""Benchmark: `daily` for one day against DuckDB computing the same fact_content_performance, and
the cost growth of `daily` from 1 day of history in the lake to 30.

    .venv/bin/python -m benchmarks.daily_benchmark [--events-per-day 5000000] [--users 200000]
        [--history-days 30] [--rounds 2] [--workdir benchmarks/out/daily] [--seed 1]

Setup (timed, reported as setup only): two generated days D-1 and D (no bad, duplicate or late
lines), dims, `ingest --once`, then `daily --date D-1`: a lake where D has one day of performance
history. A second lake shares its data files (hard links) and gets HISTORY_DAYS days of history:
copies of day D's engagements and of D-1's performance rows appended as days D-2 .. D-HISTORY_DAYS
(benchmarks/clone_history.py). Then, back to back in rounds, each as its own process as an
orchestrator would run it:

* Spark's start-up alone (spark_startup.py);
* `daily --date D` on each lake (spark-submit), the cost growth being t30 / t1;
* after each, DuckDB computing D's fact_content_performance from the same Delta table's Parquet
  files (benchmarks/duckdb_performance.py), checked row for row against the rows Spark wrote.

Each time reported is the best of the rounds (every run is shown too). Prints a Markdown table and
writes it to WORKDIR/results.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import time
from pathlib import Path

from benchmarks.ingest_benchmark import BENCH_DIR, measured
from jobs.common.config import load_conf
from jobs.common.spark import spark_settings
from jobs.launch import launch_environment, spark_submit_command

DAYS_AGO = 3  # day D: far enough back that D-1 and D are whole past days
GOAL_VS_DUCKDB = 8.0  # issue 13's goals
GOAL_VS_FLOOR = 1.5
GOAL_STARTUP = 8.0
GOAL_GROWTH = 1.3
# generate's options for clean days: no bad, duplicate or late lines, no discovery events.
CLEAN_DAYS = ["--bad-rate", "0", "--dup-rate", "0", "--late-rate", "0", "--set", "generate.discovery_per_engagement=0"]


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
        self.conf = load_conf("local")
        self.settings = spark_settings(self.conf)
        self.env = launch_environment(self.settings)
        # Whether the jobs get the Delta jars as files (a previous session resolved them) or resolve
        # the packages through Ivy at start-up.
        self.jars_from_cache = "spark.jars.packages" not in self.settings
        self.setup: list[tuple[str, float]] = []

    def done(self, what: str, seconds: float, setup: str | None) -> None:
        if setup:
            self.setup.append((setup, seconds))
        sys.stderr.write(f"[daily benchmark] {setup or what}: {seconds:.1f} s\n")
        sys.stderr.flush()

    def job(self, job: str, args: list[str], setup: str | None = None) -> tuple[float, float, dict]:
        seconds, rss, out = measured(spark_submit_command(job, args, spark_settings(self.conf, job=job)), self.env)
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

    def duckdb(self, lake: Path, day: dt.date) -> tuple[float, dict]:
        _, rss, out = self.python("benchmarks.duckdb_performance", ["--lake", str(lake), "--date", day.isoformat()])
        return rss, status_line(out)

    def generate_clean_days(self, landing: Path, first_day: dt.date, days: int, events_per_day: int, users: int,
                            seed: int, setup: str) -> None:
        """Clean engagement days (CLEAN_DAYS) and their user and content feeds."""
        self.python("jobs.generate", [
            "--landing", str(landing), "--days", str(days), "--start-date", first_day.isoformat(),
            "--events-per-day", str(events_per_day), "--users", str(users), "--seed", str(seed), *CLEAN_DAYS,
        ], setup=setup)

    def marked(self, name: str, script: str, args: list[str]) -> tuple[float, dict]:
        """A benchmark script that prints the seconds from its launch to its marks: (wall, marks)."""
        seconds, _, out = self.script(name, script, [*args, repr(time.time())])
        return seconds, status_line(out)

    def startup(self) -> tuple[float, dict]:
        return self.marked("startup", "spark_startup.py", [str(self.workdir / "scratch")])

    def floor(self, lake: Path, day: dt.date) -> tuple[float, dict]:
        return self.marked("daily-floor", "daily_floor.py", [str(lake), day.isoformat()])


def add_run_arguments(parser: argparse.ArgumentParser, workdir: str, users: int) -> None:
    """The options the benchmarks built on Steps share: users, rounds, workdir, seed."""
    parser.add_argument("--users", type=int, default=users)
    parser.add_argument("--rounds", type=int, default=2, help="measure rounds (the best of each measure is used)")
    parser.add_argument("--workdir", default=str(BENCH_DIR / "out" / workdir))
    parser.add_argument("--seed", type=int, default=1)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events-per-day", type=int, default=5_000_000)
    parser.add_argument("--history-days", type=int, default=30, help="days of history for the growth measure")
    add_run_arguments(parser, "daily", users=200_000)
    parser.add_argument("--measure-only", action="store_true",
                        help="reuse the lakes a previous full run left in --workdir (skip the setup)")
    return parser.parse_args(argv)


def linked_copy(lake: Path, target: Path) -> None:
    """A second lake sharing the data files (hard links: Delta never rewrites a data file) with
    its own copy of everything else (logs and checkpoints are rewritten in place)."""
    def link_or_copy(source: str, destination: str) -> None:
        if source.endswith(".parquet") and "_delta_log" not in Path(source).parts:
            Path(destination).hardlink_to(source)
        else:
            shutil.copy2(source, destination)

    shutil.copytree(lake, target, copy_function=link_or_copy)


def set_up_lakes(args: argparse.Namespace, steps: "Steps", day: dt.date, lakes: dict[str, Path]) -> dict:
    """Two days of clean events in the lake, D-1 computed; a linked copy keeps 1 day of history,
    the main lake gets HISTORY_DAYS days. Returns the ingest's report."""
    lake_args = ["--lake", str(steps.lake)]
    # Setup: two days of clean events in the lake, D-1 computed ...
    steps.generate_clean_days(steps.landing, day - dt.timedelta(days=1), 2, args.events_per_day, args.users,
                              args.seed, setup="generate D-1 and D (engagement, user and content feeds)")
    steps.lake.mkdir()
    steps.job("dims", ["--landing", str(steps.landing), *lake_args], setup="dims")
    _, _, ingested = steps.job("ingest", ["--landing", str(steps.landing), *lake_args, "--once",
                                          "--feeds", "engagements"], setup="ingest --once (2 days)")
    steps.job("daily", [*lake_args, "--date", (day - dt.timedelta(days=1)).isoformat()], setup="daily --date D-1")
    # ... kept as the lake with 1 day of history; the other one gets HISTORY_DAYS days.
    linked_copy(steps.lake, lakes["1"])
    steps.script("clone-history", "clone_history.py", [str(steps.lake), day.isoformat(), str(args.history_days)],
                 setup=f"clone D / D-1 into D-2 .. D-{args.history_days}")

    return ingested


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(args.workdir).resolve()
    steps = Steps(workdir)
    load_before = os.getloadavg()[0]
    day = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=DAYS_AGO)
    lakes = {"1": workdir / "lake-1day", "N": steps.lake}
    ingested = None
    if args.measure_only:
        if not all(lake.is_dir() for lake in lakes.values()):
            raise SystemExit(f"--measure-only: no lakes of a previous run under {workdir}")
        day = dt.date.fromisoformat(json.loads((workdir / "day.json").read_text())["day"])
    else:
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        (workdir / "day.json").write_text(json.dumps({"day": day.isoformat()}))
        ingested = set_up_lakes(args, steps, day, lakes)
    # Measured back to back, in rounds (order alternating): Spark's fixed cost, daily for D on each
    # lake, each followed by DuckDB computing the same rows from the same files.
    m: dict = {"ingested": ingested, "load_before": load_before, "startup": [], "startup_marks": [], "floor": [],
               "daily": {"1": [], "N": []}, "duckdb": {"1": [], "N": []}}
    for number in range(args.rounds):
        seconds, marks = steps.startup()
        m["startup"].append(seconds)
        m["startup_marks"].append(marks)
        for history in (("1", "N") if number % 2 == 0 else ("N", "1")):
            m["daily"][history].append(
                steps.job("daily", ["--lake", str(lakes[history]), "--date", day.isoformat()]))
            m["duckdb"][history].append(steps.duckdb(lakes[history], day))
        m["floor"].append(steps.floor(lakes["1"], day)[1])
    m["load_after"] = os.getloadavg()[0]

    table = results_table(args, day, m, steps.setup)
    print(table)
    (workdir / "results.md").write_text(table + "\n", encoding="utf-8")
    return 0 if all(result["equal"] for runs in m["duckdb"].values() for _, result in runs) else 1


def best_and_all(values: list[float], digits: int = 1) -> str:
    listed = ", ".join(f"{v:.{digits}f}" for v in values)
    return f"{min(values):.{digits}f} s" + (f" (runs: {listed})" if len(values) > 1 else "")


def results_table(args: argparse.Namespace, day: dt.date, m: dict, setup: list[tuple[str, float]]) -> str:
    """The Markdown table; each time is the best of the rounds (all runs shown beside it)."""
    seconds = {h: [run[0] for run in runs] for h, runs in m["daily"].items()}
    duck_seconds = {h: [r["query_seconds"] for _, r in runs] for h, runs in m["duckdb"].items()}
    startup, t1, tn, d1 = min(m["startup"]), min(seconds["1"]), min(seconds["N"]), min(duck_seconds["1"])
    to_session = min(marks["to_session"] for marks in m["startup_marks"])
    to_first_query = min(marks["to_first_query"] for marks in m["startup_marks"])
    after_session = t1 - to_session
    floor = min(marks["aggregation_seconds"] for marks in m["floor"])
    ratio_warm, ratio_cold, ratio_floor = after_session / d1, t1 / d1, after_session / floor
    growth, growth_warm = tn / t1, (tn - to_session) / after_session
    report, duck = m["daily"]["1"][0][2], m["duckdb"]["1"][0][1]
    problems = sorted({d for runs in m["duckdb"].values() for _, r in runs for d in r["differences"]})
    equal = not problems
    rss = {h: max(run[1] for run in runs) for h, runs in m["daily"].items()}
    duck_rss = {h: max(run[0] for run in runs) for h, runs in m["duckdb"].items()}
    h = args.history_days
    rows = [
        ("day D / events generated per day / users", f"{day} / {args.events_per_day:,} / {args.users:,}", "", ""),
        ("engagements of D read by daily (of which excluded: no analytics consent)",
         f"{report['engagements_read']:,} ({report['engagements_excluded']:,})", "", ""),
        ("fact_content_performance rows of D (Spark / DuckDB)", f"{report['content_rows']:,} / {duck['rows']:,}",
         "", ""),
        ("Spark start-up: spark-submit, Delta loaded, one tiny write, stopped", best_and_all(m["startup"]), "", ""),
        ("Spark start-up: spark-submit to the first query answered (jars from the cache: "
         f"{'no resolution' if steps.jars_from_cache else 'resolved by --packages'})",
         best_and_all([marks["to_first_query"] for marks in m["startup_marks"]]), f"<= {GOAL_STARTUP:g} s",
         yes_no(to_first_query <= GOAL_STARTUP and steps.jars_from_cache)),
        ("    spark-submit to the session ready", best_and_all([marks["to_session"] for marks in m["startup_marks"]]),
         "", ""),
        ("(a) daily --date D, 1 day of history, end to end", best_and_all(seconds["1"]), "", ""),
        ("(a) the same from its session ready (end to end less spark-submit to the session)",
         f"{after_session:.1f} s", "", ""),
        ("    (daily's own JSON line: seconds from its Python start)",
         best_and_all([run[2]["seconds"] for run in m["daily"]["1"]]), "", ""),
        ("(f) floor: Spark's bare aggregation of D's partition into the per-video measures, from its session ready",
         best_and_all([marks["aggregation_seconds"] for marks in m["floor"]]), "", ""),
        ("ratio a/f", f"{ratio_floor:.1f}", f"<= {GOAL_VS_FLOOR:g}", yes_no(ratio_floor <= GOAL_VS_FLOOR)),
        ("(b) DuckDB, same fact_content_performance from the same Parquet files (connect + query + fetch)",
         best_and_all(duck_seconds["1"], 2), "", ""),
        ("    (Delta log replay to list the files, not timed in (b))", f"{duck['log_replay_seconds']:.2f} s", "", ""),
        ("ratio a/b (a from its session ready)", f"{ratio_warm:.1f}", f"<= {GOAL_VS_DUCKDB:g}",
         yes_no(ratio_warm <= GOAL_VS_DUCKDB)),
        ("ratio a/b end to end (with start-up)", f"{ratio_cold:.1f}", "", ""),
        ("results equal (DuckDB vs Spark rows of D, every run)", yes_no(equal), "yes",
         yes_no(equal) + (f" ({'; '.join(problems)})" if problems else "")),
        (f"(c) daily --date D, {h} days of history, end to end", best_and_all(seconds["N"]), "", ""),
        ("    (daily's own JSON line: seconds from its Python start)",
         best_and_all([run[2]["seconds"] for run in m["daily"]["N"]]), "", ""),
        (f"growth c/a end to end (t{h} / t1)", f"{growth:.2f}", f"< {GOAL_GROWTH:g}", yes_no(growth < GOAL_GROWTH)),
        ("growth c/a from the session ready", f"{growth_warm:.2f}", "", ""),
        (f"DuckDB with {h} days of history", best_and_all(duck_seconds["N"], 2), "", ""),
        (f"peak RSS, daily with 1 / {h} days of history (largest process: the driver JVM)",
         f"{rss['1']:,.0f} / {rss['N']:,.0f} MiB", "", ""),
        (f"peak RSS, DuckDB process with 1 / {h} days of history",
         f"{duck_rss['1']:,.0f} / {duck_rss['N']:,.0f} MiB", "", ""),
        *([("ingest accepted (both days)", f"{m['ingested']['accepted']:,}", "", "")] if m["ingested"] else
          [("setup", "reused from an earlier run (--measure-only)", "", "")]),
        *[(f"setup: {name}", f"{value:.1f} s", "", "") for name, value in setup],
        ("machine load average (1 min) at start / end", f"{m['load_before']:.1f} / {m['load_after']:.1f}", "", ""),
    ]
    lines = ["| measure | value | goal | met |", "|---|---|---|---|"]
    lines += [f"| {name} | {value} | {goal} | {met} |" for name, value, goal, met in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
