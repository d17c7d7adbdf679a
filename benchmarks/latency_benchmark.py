"""Benchmark: from a landing file to its visible rows with `ingest --continuous` and a 1-second
trigger, one 500-line file landing at a time, and where a micro-batch spends its time.

    .venv/bin/python -m benchmarks.latency_benchmark [--files 40] [--warm-up-files 10] [--every 3] [--lines 500]

The lake first holds two generated days (`ingest --once`), so the de-duplication and the commits
meet tables with a history. Then `ingest --continuous --feeds engagements` runs with a 1-second
trigger; once a first file's rows are visible (Spark's start-up is not a latency), a file of
`--lines` engagement lines (another seed's, so new events, with their duplicates and bad lines)
lands every `--every` seconds, written aside and renamed into the landing zone: first
`--warm-up-files` (a new JVM's first micro-batches run slower while its compiler warms up: their
latencies are reported apart), then the `--files` that measure the steady state. A file's latency
is from its rename to the modification time of the fact table's commit file that made the last of
its events visible. The job's own step timings (its log at INFO) give the micro-batch's profile
(the steady state's batches).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import unquote

from benchmarks.ingest_benchmark import print_table
from benchmarks.kafka_benchmark import STOP_TIMEOUT_SECONDS, generate, last_report, visible_times, wait_until
from jobs.common.config import load_conf
from jobs.common.spark import spark_settings
from jobs.launch import launch_environment, spark_submit_command

BENCH_DIR = Path(__file__).resolve().parent
FACTS = "fact_content_engagements"
TRIGGER_SECONDS = 1
READ_TIMEOUT_SECONDS = 300
STEP_LINE = re.compile(r"^(\S+ \S+) INFO shortvideo\.ingest: engagements batch (\d+): (.+) in ([\d.]+)s$")
WARM_UP, MEASURED = "warm-up", "file"  # the landed files' name prefixes: warm-up-001.jsonl, file-011.jsonl


def engagement_lines(landing: Path) -> list[str]:
    lines = []
    for path in sorted((landing / "engagements").iterdir()):
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as text:
            lines += [line.rstrip("\n") for line in text if line.strip()]
    return lines


def land(landing: Path, name: str, lines: list[str]) -> float:
    """Write a file aside, then rename it into the feed's directory (as a producer must); the rename's time."""
    target = landing / "engagements" / name
    aside = target.with_name(f".{name}.tmp")
    aside.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(aside, target)
    return time.time()


def event_ids(lines: list[str]) -> set[str]:
    found = set()
    for line in lines:
        match = re.search(r'"event_id"\s*:\s*"([^"]+)"', line)
        if match:
            found.add(match.group(1))
    return found


def batches_of_files(checkpoint: Path) -> dict[str, int]:
    """Landing file name -> the micro-batch that read it, from the stream's source log."""
    read_by: dict[str, int] = {}
    for entry in (checkpoint / "sources" / "0").iterdir():  # <batch> and, every 10, <batch>.compact
        if entry.name.split(".")[0].isdigit() and not entry.name.endswith(".tmp"):
            for line in entry.read_text(encoding="utf-8").splitlines():
                if line.startswith("{"):
                    record = json.loads(line)
                    read_by[unquote(record["path"]).rsplit("/", 1)[-1]] = int(record["batchId"])
    return read_by


def wait_until_read(checkpoint: Path, names: list[str], ingest: subprocess.Popen, log: Path) -> dict[str, int]:
    """Until every file's micro-batch is committed to the checkpoint (its rows are then in the table)."""
    def all_read() -> bool:
        if not (checkpoint / "commits").is_dir():
            return False
        committed = {int(p.name) for p in (checkpoint / "commits").iterdir() if p.name.isdigit()}
        read_by = batches_of_files(checkpoint)
        return all(read_by.get(name) in committed for name in names)

    wait_until(all_read, "files not read", ingest, log, READ_TIMEOUT_SECONDS, poll_seconds=0.25)
    return batches_of_files(checkpoint)


def step_profile(log: Path, first_batch: int) -> dict[str, float]:
    """Median seconds of each logged step over the batches from `first_batch` on."""
    steps: dict[str, list[float]] = defaultdict(list)
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        match = STEP_LINE.match(line)
        if match and int(match.group(2)) >= first_batch:
            steps[match.group(3)].append(float(match.group(4)))
    return {step: statistics.median(seconds) for step, seconds in steps.items()}


def batch_intervals(checkpoint: Path, first_batch: int) -> list[float]:
    """Seconds between the checkpoint commits of consecutive batches (the micro-batch cycle)."""
    committed = {int(p.name): p.stat().st_mtime for p in (checkpoint / "commits").iterdir() if p.name.isdigit()}
    return [committed[b] - committed[b - 1] for b in sorted(committed) if b > first_batch and b - 1 in committed]


def of_kind(by_file: dict, kind: str) -> list:
    """The values of the landed files of one kind (WARM_UP or MEASURED, their names' prefix)."""
    return [value for name, value in by_file.items() if name.startswith(f"{kind}-")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40, help="files landed one at a time, measured")
    parser.add_argument("--warm-up-files", type=int, default=10,
                        help="files landed the same way before them, reported apart (a new JVM's first batches)")
    parser.add_argument("--every", type=float, default=3.0, help="seconds between two files")
    parser.add_argument("--lines", type=int, default=500, help="lines per file")
    parser.add_argument("--workdir", default=str(BENCH_DIR / "out-latency"))
    args = parser.parse_args()

    workdir = Path(args.workdir).resolve()
    shutil.rmtree(workdir, ignore_errors=True)
    landing, source, lake = workdir / "landing", workdir / "source", workdir / "lake"
    sizes = ["--days", "2", "--events-per-day", "20000", "--users", "2000"]
    generate(landing, [*sizes, "--seed", "1"])
    generate(source, [*sizes, "--seed", "2"])
    new_lines = engagement_lines(source)
    landed_files = args.warm_up_files + args.files
    chunks = [new_lines[i * args.lines:(i + 1) * args.lines] for i in range(landed_files + 1)]
    if len(chunks[-1]) < args.lines:
        raise SystemExit(f"not enough generated lines for {landed_files + 1} files of {args.lines}")

    settings = spark_settings(load_conf("local"), job="ingest")
    env = launch_environment(settings)
    common = ["--landing", str(landing), "--lake", str(lake), "--feeds", "engagements"]
    subprocess.run(spark_submit_command("ingest", [*common, "--once"], settings), env=env, check=True,
                   capture_output=True)

    log = workdir / "continuous-ingest.log"
    table = lake / FACTS
    command = spark_submit_command("ingest", [*common, "--continuous", "--set",
                                              f"ingest.trigger_seconds={TRIGGER_SECONDS}"], settings)
    with log.open("w") as output:
        ingest = subprocess.Popen(command, env={**env, "SHORTVIDEO_LOG_LEVEL": "INFO"}, stdout=output,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        try:
            checkpoint = lake / "_checkpoints" / "ingest_engagements"
            land(landing, "warm-up.jsonl", chunks[0])
            wait_until_read(checkpoint, ["warm-up.jsonl"], ingest, log)
            landed: dict[str, float] = {}
            for number, chunk in enumerate(chunks[1:], start=1):
                kind = WARM_UP if number <= args.warm_up_files else MEASURED
                name = f"{kind}-{number:03d}.jsonl"
                landed[name] = land(landing, name, chunk)
                time.sleep(args.every)
            read_by = wait_until_read(checkpoint, list(landed), ingest, log)
        finally:
            os.killpg(ingest.pid, signal.SIGTERM)
            stopped = ingest.wait(STOP_TIMEOUT_SECONDS)

    # A file's new events all come in its batch's facts commit; its repeats of earlier events were
    # visible before: the latest of its events' times is that commit's.
    visible = visible_times(table)
    latency = {name: max(visible[e] for e in event_ids(chunk) if e in visible) - landed[name]
               for name, chunk in zip(landed, chunks[1:])}
    delays, warm_up = sorted(of_kind(latency, MEASURED)), sorted(of_kind(latency, WARM_UP))
    # The steady state's batches: from the one that read the first measured file.
    first_batch = min(of_kind(read_by, MEASURED))
    cycles = batch_intervals(checkpoint, first_batch)
    report = last_report(log.read_text(encoding="utf-8", errors="replace"))
    quantiles = statistics.quantiles(delays, n=20)
    rows = [
        ("warm-up files landed first, one at a time", f"{args.warm_up_files}",
         f"{args.lines} lines, one every {args.every:g} s"),
        ("  their latency, p50 / max (a new JVM's first batches)",
         f"{statistics.median(warm_up):.2f} / {warm_up[-1]:.2f} s" if warm_up else "", ""),
        ("files landed after them, one at a time (measured)", f"{args.files}",
         f"{args.lines} lines, one every {args.every:g} s"),
        ("micro-batches that read them", f"{len(cycles) + 1}", ""),
        ("latency landed -> visible rows, p50", f"{statistics.median(delays):.2f} s", ""),
        ("latency landed -> visible rows, p95", f"{quantiles[18]:.2f} s", "goal <= 5 s"),
        ("latency landed -> visible rows, max", f"{delays[-1]:.2f} s", ""),
        ("micro-batch cycle (checkpoint commit to the next), median", f"{statistics.median(cycles):.2f} s", ""),
        *[(f"  step: {step} (median)", f"{seconds:.2f} s", "")
          for step, seconds in step_profile(log, first_batch).items()],
        ("continuous ingest's exit status after SIGTERM", f"{stopped}", report["status"]),
    ]
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
