"""Benchmark: `ingest --once` against a plain Spark JSON-to-Delta copy of the same files, in one run,
with the contract's floors between them (the copy with the ingest's judging, then its de-duplication).

    .venv/bin/python -m benchmarks.ingest_benchmark [--events 2000000] [--workdir benchmarks/out]

Prints a Markdown table (events per second, the ratio ingest / plain copy, peak memory of each
process tree, lake size against the raw input). Each step runs as its own spark-submit process,
as an orchestrator would run it, so both sides pay Spark's start-up; that fixed cost is measured
apart and the rates without it are shown too.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from jobs.common.config import PROJECT_ROOT, load_conf
from jobs.common.landing import micro_batch_bound
from jobs.common.spark import spark_settings
from jobs.launch import launch_environment, spark_submit_command

BENCH_DIR = Path(__file__).resolve().parent
DAYS = 2


def measured(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) of the largest process in the tree, and stdout."""
    probe = (
        "import resource, subprocess, sys, json, time;"
        "t = time.monotonic();"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True);"
        "s = time.monotonic() - t;"
        "sys.stderr.write(p.stderr[-3000:] if p.returncode else '');"
        "print(json.dumps({'rc': p.returncode, 'seconds': s, 'stdout': p.stdout,"
        " 'maxrss_kib': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))"
    )
    result = subprocess.run([sys.executable, "-c", probe, *command], capture_output=True, text=True, env=env)
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    if outcome["rc"] != 0:
        raise SystemExit(f"benchmark step failed: {' '.join(command[:3])}...\n{result.stderr}")
    return outcome["seconds"], outcome["maxrss_kib"] / 1024, outcome["stdout"]


def print_table(rows: list[tuple[str, str, str]]) -> None:
    """The benchmark's result as a Markdown table (measure, value, rate), as the docs show it."""
    print("| measure | value | rate |\n|---|---|---|")
    for name, value, rate in rows:
        print(f"| {name} | {value} | {rate} |")


def size_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000, help="engagement events to generate")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--workdir", default=str(BENCH_DIR / "out"))
    parser.add_argument("--driver-memory", help="spark.driver.memory of both sides (default: the ingest's, "
                        "conf's ingest.driver_memory)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="a configuration override for the ingest (e.g. ingest.max_files_per_trigger=500)")
    args = parser.parse_args()

    workdir = Path(args.workdir).resolve()
    shutil.rmtree(workdir, ignore_errors=True)
    landing, lake, plain = workdir / "landing", workdir / "lake", workdir / "plain"
    conf = load_conf("local", args.overrides)
    settings = spark_settings(conf, job="ingest")  # both sides get the ingest's driver heap
    if args.driver_memory:
        settings["spark.driver.memory"] = args.driver_memory
    env = launch_environment(settings)

    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "jobs.generate", "--landing", str(landing), "--days", str(DAYS),
         "--events-per-day", str(args.events // DAYS), "--users", str(args.users), "--seed", "1"],
        check=True, cwd=PROJECT_ROOT, capture_output=True,
    )
    generate_seconds = time.monotonic() - started
    engagement_files = landing / "engagements"
    raw_lines = 0
    for path in engagement_files.iterdir():
        opener = __import__("gzip").open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as handle:
            raw_lines += sum(1 for line in handle if line.strip())

    startup_s, startup_mem, _ = measured(
        spark_submit_command("startup", [str(workdir / "scratch")], settings, BENCH_DIR / "spark_startup.py"), env)
    plain_s, plain_mem, _ = measured(
        spark_submit_command("plain-copy", [str(engagement_files), str(plain)], settings, BENCH_DIR / "plain_copy.py"),
        env)
    # The contract's floors (benchmarks/plain_copy.py): the copy with the ingest's judging of every
    # line, then with its de-duplication too, one batch job each.
    judged_s, _, _ = measured(spark_submit_command(
        "plain-copy", [str(engagement_files), str(workdir / "judged"), "--judge"], settings,
        BENCH_DIR / "plain_copy.py"), env)
    deduplicated_s, _, _ = measured(spark_submit_command(
        "plain-copy", [str(engagement_files), str(workdir / "deduplicated"), "--judge", "--deduplicate"],
        settings, BENCH_DIR / "plain_copy.py"), env)
    ingest_s, ingest_mem, out = measured(
        spark_submit_command("ingest", ["--landing", str(landing), "--lake", str(lake), "--once",
                                        "--feeds", "engagements",
                                        *[arg for override in args.overrides for arg in ("--set", override)]],
                              settings), env)
    report = json.loads([line for line in out.splitlines() if line.startswith("{")][-1])

    raw_mib = size_mib(engagement_files)
    fact_mib = size_mib(lake / "fact_content_engagements")
    plain_mib = size_mib(plain)
    rows = [
        ("engagement lines in the landing zone", f"{raw_lines:,}", ""),
        ("ingest: accepted / duplicates / quarantined",
         f"{report['accepted']:,} / {report['duplicates']:,} / {report['quarantined']:,}", ""),
        ("ingest: micro-batches", f"{report['batches']:,}", ""),
        ("Spark start-up (spark-submit, Delta loaded, one tiny write)", f"{startup_s:.1f} s", ""),
        ("(b) plain copy, end to end", f"{plain_s:.1f} s", f"{raw_lines / plain_s:,.0f} events/s"),
        ("(c) floor: the copy with the ingest's judging, end to end", f"{judged_s:.1f} s",
         f"{raw_lines / judged_s:,.0f} events/s"),
        ("(d) floor: judged and de-duplicated, end to end", f"{deduplicated_s:.1f} s",
         f"{raw_lines / deduplicated_s:,.0f} events/s"),
        ("(a) ingest --once, end to end", f"{ingest_s:.1f} s", f"{raw_lines / ingest_s:,.0f} events/s"),
        ("ratio a/b (throughput, end to end)", f"{plain_s / ingest_s:.2f}", "goal >= 0.8"),
        ("ratio c/b and d/b (the floors against the copy, end to end)",
         f"{plain_s / judged_s:.2f} and {plain_s / deduplicated_s:.2f}", "the most a/b can reach"),
        ("ratio a/d (the ingest against its floor, end to end)", f"{deduplicated_s / ingest_s:.2f}", ""),
        ("(b) plain copy without start-up", f"{plain_s - startup_s:.1f} s",
         f"{raw_lines / (plain_s - startup_s):,.0f} events/s"),
        ("(a) ingest without start-up", f"{ingest_s - startup_s:.1f} s",
         f"{raw_lines / (ingest_s - startup_s):,.0f} events/s"),
        ("ratio a/b without start-up", f"{(plain_s - startup_s) / (ingest_s - startup_s):.2f}", ""),
        ("ratio c/b and d/b without start-up",
         f"{(plain_s - startup_s) / (judged_s - startup_s):.2f} and "
         f"{(plain_s - startup_s) / (deduplicated_s - startup_s):.2f}", ""),
        ("plain copy per core (2 cores), without start-up", "",
         f"{raw_lines / (plain_s - startup_s) / os.cpu_count():,.0f} events/s/core"),
        ("peak RSS, plain copy (largest process: the driver JVM)", f"{plain_mem:,.0f} MiB", ""),
        ("peak RSS, ingest (largest process: the driver JVM)", f"{ingest_mem:,.0f} MiB", ""),
        ("raw input (engagement files, some gzip)", f"{raw_mib:,.1f} MiB", ""),
        ("fact_content_engagements on disk (with _delta_log)", f"{fact_mib:,.1f} MiB",
         f"{fact_mib / raw_mib:.2f} x raw"),
        ("plain copy table on disk", f"{plain_mib:,.1f} MiB", f"{plain_mib / raw_mib:.2f} x raw"),
        ("generator (all four feeds)", f"{generate_seconds:.1f} s", ""),
        ("spark.driver.memory (both sides)", settings["spark.driver.memory"], ""),
        ("the ingest's micro-batch bound", ", ".join(f"{k}={v}" for k, v in micro_batch_bound(conf.section("ingest")).items()), ""),
    ]
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
