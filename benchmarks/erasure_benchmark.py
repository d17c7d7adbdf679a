"""Benchmark: what one GDPR erasure request costs in the event facts, with and without the layout
that `maintain` gives them (compaction + Z-order by user_bucket).

    .venv/bin/python -m benchmarks.erasure_benchmark [--workdir benchmarks/out/erasure]
        [--events-per-day 1000000] [--users 100000] [--days 30] [--also-target-mb 8] [--reuse]

Build (skipped with --reuse when WORKDIR holds a finished build): one generated day D (`generate`,
all four feeds), `dims`, `ingest --once`, then D's partitions of both event facts cloned into
D-1 .. D-(DAYS-1) (benchmarks/clone_history.py, users and user_bucket kept): DAYS days of
EVENTS_PER_DAY engagements with the files as the ingest leaves them ("as ingested"). The requested
users (benchmarks/erasure_users.py) have events on D in both facts, hence on every day.

Layouts, each a hard-linked copy of the built lake: "as ingested"; "maintain" (the real job with the
configured policy); for each --also-target-mb N, "maintain, N MB files" (the same job with the
event facts' maintain.tables.<table>.target_file_mb = N). Then, on a fresh linked copy of each
layout, the real `gdpr` job (no --purge-now: the logical erasure is what rewrites fact files) for
1 user and for 100 users.
Measured: the job's wall time (spark-submit to exit), its erasure step (the per-table MERGE times
it logs), and the fact files the MERGEs rewrote (numTargetFilesRemoved / numTargetBytesRemoved of
the MERGE commits in both event facts' logs). Prints a Markdown table, also written to
WORKDIR/results.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.daily_benchmark import linked_copy, status_line
from benchmarks.ingest_benchmark import BENCH_DIR
from jobs.common.config import load_conf
from jobs.common.spark import spark_settings
from jobs.launch import launch_environment, spark_submit_command

EVENT_FACTS = ("fact_content_engagements", "fact_discovery_events")
DAYS_AGO = 3  # day D: a whole past day, well inside ingest.hot_days with its history
GOAL_GROWTH = 3.0  # 100 users cost under 3 times 1 user
GOAL_CUT = 0.5  # the layout rewrites at most half the bytes
ERASED_LINE = re.compile(r"erased (\d+) rows from (\S+) in ([0-9.]+)s")
AS_INGESTED = "as ingested"
MB = 1024 * 1024


def log(message: str) -> None:
    sys.stderr.write(f"[erasure benchmark] {message}\n")
    sys.stderr.flush()


# --- Pure helpers (tests/unit/test_benchmarks_erasure.py) ----------------------------------------

def log_version(name: str) -> int | None:
    """The version of a commit file's name (00000000000000000012.json -> 12), else None."""
    stem, _, ext = name.partition(".")
    return int(stem) if ext == "json" and stem.isdigit() and len(stem) == 20 else None


def latest_version(table: Path) -> int:
    versions = [v for p in (table / "_delta_log").iterdir() if (v := log_version(p.name)) is not None]
    return max(versions, default=-1)


def merge_metrics(table: Path, after_version: int) -> dict[str, int]:
    """Sum of the MERGE commits' rewrite metrics after `after_version` (from the commit JSONs)."""
    totals = {"merges": 0, "files_removed": 0, "bytes_removed": 0, "files_added": 0, "bytes_added": 0,
              "rows_deleted": 0}
    names = {"files_removed": "numTargetFilesRemoved", "bytes_removed": "numTargetBytesRemoved",
             "files_added": "numTargetFilesAdded", "bytes_added": "numTargetBytesAdded",
             "rows_deleted": "numTargetRowsDeleted"}
    for path in sorted((table / "_delta_log").iterdir()):
        version = log_version(path.name)
        if version is None or version <= after_version:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            info = json.loads(line).get("commitInfo") if line.strip() else None
            if not info or info.get("operation") != "MERGE":
                continue
            metrics = info.get("operationMetrics") or {}
            totals["merges"] += 1
            for key, metric in names.items():
                totals[key] += int(metrics.get(metric, 0))
    return totals


def erase_seconds(job_log: str, tables: tuple[str, ...] | None = None) -> float:
    """Seconds of the per-table erasure MERGEs gdpr logs (only `tables` when given)."""
    return sum(float(m.group(3)) for m in ERASED_LINE.finditer(job_log) if tables is None or m.group(2) in tables)


def fact_file_size(mb: int) -> list[str]:
    """maintain's overrides for the event facts' file size (their own [maintain.tables.*] setting,
    which wins over the lake-wide maintain.target_file_mb)."""
    return [arg for table in EVENT_FACTS for arg in ("--set", f"maintain.tables.{table}.target_file_mb={mb}")]


def spread(values: list[int]) -> str:
    """min / median / max of files per partition."""
    if not values:
        return "-"
    return f"{min(values)} / {statistics.median(values):g} / {max(values)}"


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def shown(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


# --- The steps -------------------------------------------------------------------------------------

class Steps:
    """Each step its own process, as an orchestrator would run it; stdout and stderr kept."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.settings = spark_settings(load_conf("local"))
        self.env = {**launch_environment(self.settings), "SHORTVIDEO_LOG_LEVEL": "INFO"}
        self.setup: list[tuple[str, float]] = []

    def run(self, what: str, command: list[str], setup: bool = False) -> tuple[float, str, str]:
        started = time.monotonic()
        done = subprocess.run(command, capture_output=True, text=True, env=self.env)
        seconds = time.monotonic() - started
        if done.returncode != 0:
            raise SystemExit(f"{what} failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}")
        if setup:
            self.setup.append((what, seconds))
        log(f"{what}: {seconds:.1f} s")
        return seconds, done.stdout, done.stderr

    def job(self, what: str, job: str, args: list[str], setup: bool = False) -> tuple[float, dict, str]:
        seconds, out, err = self.run(what, spark_submit_command(job, args, self.settings), setup)
        report = status_line(out)
        if report.get("status") != "ok":
            raise SystemExit(f"{job} failed: {report}\n{err[-6000:]}")
        # The job's own log lines: spark-submit sends the Python driver's stderr to stdout.
        return seconds, report, out + err

    def script(self, what: str, script: str, args: list[str]) -> float:
        return self.run(what, spark_submit_command(what, args, self.settings, BENCH_DIR / script), True)[0]


def build(args: argparse.Namespace, steps: Steps, day: dt.date, lake: Path) -> None:
    landing = steps.workdir / "landing"
    steps.run("generate day D", [
        sys.executable, "-m", "jobs.generate", "--landing", str(landing), "--days", "1",
        "--start-date", day.isoformat(), "--events-per-day", str(args.events_per_day),
        "--users", str(args.users), "--seed", str(args.seed)], setup=True)
    lake.mkdir(parents=True)
    steps.job("dims", "dims", ["--landing", str(landing), "--lake", str(lake)], setup=True)
    steps.job("ingest --once", "ingest", ["--landing", str(landing), "--lake", str(lake), "--once"], setup=True)
    steps.script("clone_history.py", "clone_history.py", [
        str(lake), day.isoformat(), str(args.days - 1), "--discovery", "--first-day-back", "1"])
    steps.script("erasure_users.py", "erasure_users.py", [
        str(lake), day.isoformat(), str(steps.workdir / "users.json"), str(max(args.request_sizes))])
    shutil.rmtree(landing)


def fact_bytes(lake: Path) -> int:
    """Bytes of the event facts' data files (the built lake only appended: all are live)."""
    return sum(p.stat().st_size for name in EVENT_FACTS for p in (lake / name).rglob("*.parquet")
               if "_delta_log" not in p.parts)


def files_per_partition(report: dict, table: str) -> tuple[list[int], list[int]]:
    """maintain's report: files per rewritten partition, before and after."""
    per_partition = report["per_table"].get(table, {}).get("files_per_partition", {"before": {}, "after": {}})
    return list(per_partition["before"].values()), list(per_partition["after"].values())


def erasure(steps: Steps, layout_lake: Path, scratch: Path, users: list[str], what: str) -> dict:
    """gdpr for `users` on a fresh linked copy of the layout's lake; the copy is removed after."""
    shutil.rmtree(scratch, ignore_errors=True)
    linked_copy(layout_lake, scratch)
    versions = {name: latest_version(scratch / name) for name in EVENT_FACTS}
    requests = scratch.parent / f"{scratch.name}.requests"
    requests.write_text("\n".join(users) + "\n", encoding="utf-8")
    seconds, report, job_log = steps.job(what, "gdpr", ["--lake", str(scratch), "--requests", str(requests)])
    merged = {name: merge_metrics(scratch / name, versions[name]) for name in EVENT_FACTS}
    shutil.rmtree(scratch)
    requests.unlink()
    return {
        "seconds": seconds,
        "job_seconds": report["seconds"],
        "erase_seconds": erase_seconds(job_log),
        "fact_erase_seconds": erase_seconds(job_log, EVENT_FACTS),
        "rows_removed": {name: report["per_table"].get(name, 0) for name in EVENT_FACTS},
        "files_removed": sum(m["files_removed"] for m in merged.values()),
        "bytes_removed": sum(m["bytes_removed"] for m in merged.values()),
        "per_table": merged,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=str(BENCH_DIR / "out" / "erasure"))
    parser.add_argument("--events-per-day", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--request-sizes", type=lambda t: [int(x) for x in t.split(",")], default=[1, 100],
                        help="users per request, comma separated (default 1,100)")
    parser.add_argument("--also-target-mb", type=lambda t: [int(x) for x in t.split(",") if x], default=[],
                        help="extra maintain layouts with maintain.target_file_mb = N (comma separated)")
    parser.add_argument("--reuse", action="store_true", help="reuse the lake an earlier run built in --workdir")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(args.workdir).resolve()
    steps = Steps(workdir)
    built, built_marker = workdir / "built", workdir / "build.json"
    load_before = os.getloadavg()[0]
    if args.reuse and built_marker.exists():
        build_info = json.loads(built_marker.read_text())
        log(f"reusing the lake built for {build_info}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        day = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=DAYS_AGO)
        build(args, steps, day, built)
        build_info = {"day": day.isoformat(), "days": args.days, "events_per_day": args.events_per_day,
                      "users": args.users, "seed": args.seed,
                      "setup": steps.setup, "fact_bytes": fact_bytes(built)}
        built_marker.write_text(json.dumps(build_info))
    picked = json.loads((workdir / "users.json").read_text())
    layouts: dict[str, Path] = {AS_INGESTED: built}
    maintained: dict[str, dict] = {}
    variants = [("maintain (conf)", [])] + [(f"maintain, {mb} MB files", fact_file_size(mb))
                                            for mb in args.also_target_mb]
    for label, overrides in variants:
        lake = workdir / f"layout-{len(layouts)}"
        shutil.rmtree(lake, ignore_errors=True)
        linked_copy(built, lake)
        seconds, report, _ = steps.job(f"maintain: {label}", "maintain", ["--lake", str(lake), *overrides])
        maintained[label] = {"seconds": seconds, "report": report}
        layouts[label] = lake

    results: dict[tuple[str, int], dict] = {}
    for size in args.request_sizes:
        users = [row["user_id"] for row in picked[:size]]
        for label, lake in layouts.items():
            results[(label, size)] = erasure(steps, lake, workdir / "scratch", users, f"gdpr {size} user(s), {label}")
    load_after = os.getloadavg()[0]
    table = results_table(args, build_info, picked, maintained, results, (load_before, load_after))
    print(table)
    (workdir / "results.md").write_text(table + "\n", encoding="utf-8")
    (workdir / "results.json").write_text(json.dumps(
        {"build": build_info, "maintain": maintained,
         "erasures": {f"{label} / {size}": r for (label, size), r in results.items()}}, indent=1, default=str))
    return 0


def results_table(args: argparse.Namespace, build_info: dict, picked: list[dict], maintained: dict,
                  results: dict, load: tuple[float, float]) -> str:
    sizes = sorted({size for _, size in results})
    labels = list(dict.fromkeys(label for label, _ in results))
    small, large = sizes[0], sizes[-1]
    lines = [
        f"{build_info['days']} days x {build_info['events_per_day']:,} engagement events a day "
        f"(plus discovery events), {build_info['users']:,} users, day D = {build_info['day']}; "
        f"event facts as ingested: {build_info['fact_bytes'] / MB:,.0f} MB. "
        f"Requested users have events on every day (on D: "
        f"{spread([u['fact_content_engagements'] for u in picked[:large]])} engagements, min / median / max).",
        "",
        "| layout | users | gdpr wall s | erasure step s (facts) | fact files rewritten | fact MB rewritten "
        "| fact rows removed |",
        "|---|---|---|---|---|---|---|",
    ]
    for label in labels:
        for size in sizes:
            r = results[(label, size)]
            lines.append(f"| {label} | {size} | {r['seconds']:.1f} | {r['erase_seconds']:.1f} "
                         f"({r['fact_erase_seconds']:.1f}) | {r['files_removed']:,} | {r['bytes_removed'] / MB:,.1f} "
                         f"| {sum(r['rows_removed'].values()):,} |")
    lines += ["", f"| layout | {large} users / {small} user: wall time (goal < {GOAL_GROWTH:g}) "
                  f"| erasure step | bytes rewritten | layout / as ingested, bytes: {small} user "
                  f"| {large} users (goal <= {GOAL_CUT:g}) |", "|---|---|---|---|---|---|"]
    for label in labels:
        growth = ratio(results[(label, large)]["seconds"], results[(label, small)]["seconds"])
        step = ratio(results[(label, large)]["erase_seconds"], results[(label, small)]["erase_seconds"])
        grown_bytes = ratio(results[(label, large)]["bytes_removed"], results[(label, small)]["bytes_removed"])
        cuts = [ratio(results[(label, s)]["bytes_removed"], results[(AS_INGESTED, s)]["bytes_removed"])
                for s in (small, large)]
        met = "" if growth is None else (" (met)" if growth < GOAL_GROWTH else " (not met)")
        cut_met = ["" if label == AS_INGESTED or c is None else (" (met)" if c <= GOAL_CUT else " (not met)")
                   for c in cuts]
        lines.append(f"| {label} | {shown(growth)}{met} | {shown(step)} | {shown(grown_bytes)} "
                     f"| {shown(cuts[0])}{cut_met[0]} | {shown(cuts[1])}{cut_met[1]} |")
    lines += ["", "| maintain run | wall s | table | partitions rewritten | files per partition before "
                  "(min / median / max) | after |", "|---|---|---|---|---|---|"]
    for label, m in maintained.items():
        for table in EVENT_FACTS:
            before, after = files_per_partition(m["report"], table)
            lines.append(f"| {label} | {m['seconds']:.1f} | {table} | {len(before)} | {spread(before)} "
                         f"| {spread(after)} |")
    lines += ["", "Setup: " + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in build_info["setup"])
              + f". Machine load average (1 min) at start / end: {load[0]:.1f} / {load[1]:.1f}."]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
