"""Benchmark: how `daily`'s cost per event grows with the day's size, against its floor (Spark's
bare aggregation of the same partition) and DuckDB; and the ingest's peak memory at each size.

    .venv/bin/python -m benchmarks.daily_scale [--sizes 1000000 5000000 20000000] [--users 200000]
        [--rounds 2] [--workdir benchmarks/out/daily-scale] [--seed 1] [--measure-only]

For each size, a lake of its own: one generated day D of that many engagement events (no bad,
duplicate or late lines), `dims`, `ingest --once` (its time and peak memory reported), and the
landing files deleted. Then, in rounds, each as its own process: Spark's start-up alone
(spark_startup.py: the seconds to the session and to a first query), and on each lake `daily --date
D`, the floor (daily_floor.py: the same per-video measures by the same transform, into Spark's noop
sink, timed from its session) and DuckDB computing D's fact_content_performance from the same
Parquet files, checked row for row against Spark's (duckdb_performance.py).

`daily` is timed from its session ready: its wall time less the start-up run's seconds from
spark-submit to the session, so that `daily` and the floor both leave out the JVM and session
start (and both include the first Delta read of a new JVM). The best of the rounds is reported.
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

from benchmarks.daily_benchmark import DAYS_AGO, GOAL_VS_DUCKDB, GOAL_VS_FLOOR, Steps, add_run_arguments, yes_no

GOAL_PER_EVENT_GROWTH = 1.2  # from one size to the next
GOAL_INGEST_RSS_MIB = 2048


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 5_000_000, 20_000_000],
                        help="engagement events of day D, one lake each (ascending)")
    add_run_arguments(parser, "daily-scale", users=200_000)
    parser.add_argument("--measure-only", action="store_true",
                        help="reuse the lakes a previous run left in --workdir (skip the setup)")
    return parser.parse_args(argv)


def set_up_lake(args: argparse.Namespace, steps: Steps, events: int, day: dt.date, base: Path) -> dict:
    """One day of `events` clean engagements in a lake of its own; returns the ingest's figures."""
    landing, lake = base / "landing", base / "lake"
    steps.generate_clean_days(landing, day, 1, events, args.users, args.seed, setup=f"generate D ({events:,} events)")
    lake.mkdir(parents=True)
    steps.job("dims", ["--landing", str(landing), "--lake", str(lake)], setup=f"dims ({events:,})")
    seconds, rss, report = steps.job("ingest", ["--landing", str(landing), "--lake", str(lake), "--once",
                                                "--feeds", "engagements"], setup=f"ingest --once ({events:,})")
    shutil.rmtree(landing)
    return {"seconds": seconds, "rss_mib": rss, "accepted": report["accepted"]}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(args.workdir).resolve()
    steps = Steps(workdir)
    load_before = os.getloadavg()[0]
    lakes = {events: workdir / f"events-{events}" / "lake" for events in args.sizes}
    if args.measure_only:
        saved = json.loads((workdir / "setup.json").read_text())
        day, ingests = dt.date.fromisoformat(saved["day"]), {int(k): v for k, v in saved["ingests"].items()}
        if not all(lake.is_dir() for lake in lakes.values()) or set(ingests) != set(args.sizes):
            raise SystemExit(f"--measure-only: no lakes of these sizes from a previous run under {workdir}")
    else:
        day = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=DAYS_AGO)
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        ingests = {events: set_up_lake(args, steps, events, day, lake.parent) for events, lake in lakes.items()}
        (workdir / "setup.json").write_text(json.dumps({"day": day.isoformat(), "ingests": ingests}))

    m: dict = {"startup": [], "daily": {e: [] for e in args.sizes}, "floor": {e: [] for e in args.sizes},
               "duckdb": {e: [] for e in args.sizes}}
    for _ in range(args.rounds):
        m["startup"].append(steps.startup()[1])
        for events, lake in lakes.items():
            m["daily"][events].append(steps.job("daily", ["--lake", str(lake), "--date", day.isoformat()]))
            m["floor"][events].append(steps.floor(lake, day)[1])
            m["duckdb"][events].append(steps.duckdb(lake, day)[1])
    table = results_table(args, day, ingests, m, load_before, os.getloadavg()[0], steps.setup)
    print(table)
    (workdir / "results.md").write_text(table + "\n", encoding="utf-8")
    return 0 if all(result["equal"] for runs in m["duckdb"].values() for result in runs) else 1


def step_profile(report: dict) -> str:
    """daily's own step timings (its JSON line's step_seconds), largest first."""
    steps = sorted(report.get("step_seconds", {}).items(), key=lambda step: -step[1])
    return ", ".join(f"{name} {seconds:.1f}" for name, seconds in steps) or "(not reported)"


def results_table(args: argparse.Namespace, day: dt.date, ingests: dict, m: dict, load_before: float,
                  load_after: float, setup: list[tuple[str, float]]) -> str:
    to_session = min(marks["to_session"] for marks in m["startup"])
    rows: list[tuple[str, str, str, str]] = [
        ("day D / users", f"{day} / {args.users:,}", "", ""),
        ("Spark start-up: spark-submit to the session ready / to the first query",
         f"{to_session:.1f} / {min(marks['to_first_query'] for marks in m['startup']):.1f} s", "", ""),
    ]
    per_event: list[tuple[int, float]] = []
    for events in args.sizes:
        daily = min(run[0] for run in m["daily"][events]) - to_session
        floor = min(marks["aggregation_seconds"] for marks in m["floor"][events])
        duck = min(result["query_seconds"] for result in m["duckdb"][events])
        equal = all(result["equal"] for result in m["duckdb"][events])
        report = m["daily"][events][0][2]
        fastest = min(m["daily"][events], key=lambda run: run[0])[2]
        per_event.append((events, daily / events * 1e6))
        label = f"{events:,} events"
        rows += [
            (f"{label}: ingest --once, end to end / peak RSS (driver JVM)",
             f"{ingests[events]['seconds']:.1f} s / {ingests[events]['rss_mib']:,.0f} MiB",
             f"<= {GOAL_INGEST_RSS_MIB:,} MiB", yes_no(ingests[events]["rss_mib"] <= GOAL_INGEST_RSS_MIB)),
            (f"{label}: (a) daily --date D from its session ready (end to end {min(r[0] for r in m['daily'][events]):.1f} s)",
             f"{daily:.1f} s ({per_event[-1][1]:.2f} µs/event)", "", ""),
            (f"{label}: daily's steps in its first run on the lake (its own profile, seconds; a new lake: every "
             f"creator's tier is new)", step_profile(report), "", ""),
            (f"{label}: daily's steps in its fastest run (a rerun of D when rounds > 1: no tier to change)",
             step_profile(fastest), "", ""),
            (f"{label}: (f) floor, the bare aggregation, from its session ready", f"{floor:.1f} s", "", ""),
            (f"{label}: ratio a/f", f"{daily / floor:.1f}", f"<= {GOAL_VS_FLOOR:g}", yes_no(daily / floor <= GOAL_VS_FLOOR)),
            (f"{label}: (b) DuckDB, the same rows from the same Parquet files", f"{duck:.2f} s", "", ""),
            (f"{label}: ratio a/b", f"{daily / duck:.1f}", f"<= {GOAL_VS_DUCKDB:g}",
             yes_no(daily / duck <= GOAL_VS_DUCKDB)),
            (f"{label}: rows of D (Spark / DuckDB), equal", f"{report['content_rows']:,} / "
             f"{m['duckdb'][events][0]['rows']:,}, {yes_no(equal)}", "yes", yes_no(equal)),
        ]
    for (smaller, cost_small), (larger, cost_large) in zip(per_event, per_event[1:]):
        growth = cost_large / cost_small
        rows.append((f"daily's cost per event, {larger:,} / {smaller:,} events", f"{growth:.2f}",
                     f"<= {GOAL_PER_EVENT_GROWTH:g}", yes_no(growth <= GOAL_PER_EVENT_GROWTH)))
    rows += [(f"setup: {name}", f"{value:.1f} s", "", "") for name, value in setup]
    rows.append(("machine load average (1 min) at start / end", f"{load_before:.1f} / {load_after:.1f}", "", ""))
    lines = ["| measure | value | goal | met |", "|---|---|---|---|"]
    lines += [f"| {name} | {value} | {goal} | {met} |" for name, value, goal, met in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
