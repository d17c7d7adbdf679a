"""Benchmark: the Kafka ingest against the file-source ingest of the same events, and the latency
from produce to visible row with `--continuous` and a 1-second trigger, in one run.

    .venv/bin/python -m benchmarks.kafka_benchmark [--events 1000000] [--rate 200] [--seconds 60]
        [--max-offsets-per-trigger N] [--latency-only]

A single-node broker (scripts/kafka_broker.py) runs beside Spark on this machine. Throughput: the
generator writes the events as landing files, then sends the same events (same seed, same lines)
to the topics (`generate --kafka`); `ingest --once` reads each, every step its own process. The rate
"from the first produce to the last committed row" is the events over the send plus the Kafka
ingest; the file side's counterpart is the generator writing the files plus the file ingest (the
simulation is the same work on both sides). Latency: `ingest --source kafka --continuous` with a
1-second trigger, fed at a steady rate; an event is visible when the Delta commit that adds its
row is in the table's log (the commit file's modification time), and its latency is that time
minus the time it was handed to the producer.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable
from urllib.parse import unquote

import pyarrow.parquet as pq
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from benchmarks.ingest_benchmark import measured, print_table
from jobs.common.config import PROJECT_ROOT, load_conf
from jobs.common.spark import spark_settings
from jobs.launch import launch_environment, spark_submit_command
from scripts.kafka_broker import KafkaBroker

BENCH_DIR = Path(__file__).resolve().parent
DAYS = 2
FACTS = "fact_content_engagements"
TRIGGER_SECONDS = 1
WARM_UP_EVENTS = 200
VISIBLE_TIMEOUT_SECONDS = 600
STOP_TIMEOUT_SECONDS = 180


def generate(landing: Path, arguments: list[str]) -> float:
    """Run the generator; its wall seconds."""
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "jobs.generate", "--landing", str(landing), *arguments],
                   check=True, cwd=PROJECT_ROOT, capture_output=True)
    return time.monotonic() - started


def create_topics(bootstrap: str, names: list[str], partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(name, partitions, 1) for name in names]).values():
        future.result(timeout=60)


def last_report(stdout: str) -> dict:
    return json.loads([line for line in stdout.splitlines() if line.startswith("{")][-1])


def fact_rows(table: Path) -> int:
    """Rows of the committed table (0 before its first commit), read from its log and files."""
    return len(visible_times(table))


def visible_times(table: Path) -> dict[str, float]:
    """event_id -> when the commit that added its row appeared in the table's log."""
    log = table / "_delta_log"
    if not log.is_dir():
        return {}
    visible: dict[str, float] = {}
    for commit in sorted(log.glob("[0-9]*.json")):
        committed_at = commit.stat().st_mtime
        for line in commit.read_text(encoding="utf-8").splitlines():
            added = json.loads(line).get("add")
            if added is None:
                continue
            ids = pq.read_table(table / unquote(added["path"]), columns=["event_id"]).column("event_id")
            for event_id in ids.to_pylist():
                visible.setdefault(event_id, committed_at)
    return visible


def wait_until(done: Callable[[], bool], what: str, ingest: subprocess.Popen, log: Path,
               timeout_seconds: float = VISIBLE_TIMEOUT_SECONDS, poll_seconds: float = 0.5) -> None:
    """Poll `done` until it holds; stop with the continuous ingest's log if it exits or time runs out."""
    deadline = time.monotonic() + timeout_seconds
    while not done():
        if ingest.poll() is not None:
            raise SystemExit(f"the continuous ingest exited with {ingest.returncode}:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} after {timeout_seconds:g} s:\n{log.read_text()[-3000:]}")
        time.sleep(poll_seconds)


def wait_for_rows(table: Path, rows: int, ingest: subprocess.Popen, log: Path) -> None:
    wait_until(lambda: fact_rows(table) >= rows, f"{rows} rows not visible", ingest, log)


def event_templates(landing: Path) -> list[dict]:
    """Valid engagement events (generated without bad, repeated or late lines) to send again."""
    templates = []
    for path in sorted((landing / "engagements").iterdir()):
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as lines:
            templates += [json.loads(line) for line in lines if line.strip()]
    if not templates:
        raise SystemExit(f"no engagement files under {landing}")
    return templates


def send_at_rate(producer: Producer, topic: str, templates: list[dict], prefix: str, rate: int,
                 seconds: int) -> dict[str, float]:
    """Send `rate` events a second for `seconds`, spread over tenths of a second; event_id -> sent at."""
    sent: dict[str, float] = {}
    per_tick, ticks = max(rate // 10, 1), seconds * 10
    started = time.monotonic()
    for tick in range(ticks):
        pause = started + tick / 10 - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        for _ in range(per_tick):
            serial = len(sent)
            event_id = f"{prefix}-{serial}"
            now = time.time()
            stamp = dt.datetime.fromtimestamp(now, dt.timezone.utc).isoformat(timespec="milliseconds")
            event = {**templates[serial % len(templates)], "event_id": event_id,
                     "event_timestamp": stamp.replace("+00:00", "Z")}
            producer.produce(topic, value=json.dumps(event).encode("utf-8"))
            sent[event_id] = now
        producer.poll(0)
    if producer.flush(60):
        raise SystemExit("the producer could not deliver every record within 60 s")
    return sent


def latency(args, workdir: Path, broker: KafkaBroker, settings: dict, env: dict) -> dict:
    """Steady sends to a continuous Kafka ingest; the latencies from send to visible row."""
    landing, lake, log = workdir / "latency-landing", workdir / "latency-lake", workdir / "latency-ingest.log"
    generate(landing, ["--days", "1", "--events-per-day", "2000", "--users", "1000", "--seed", "2",
                       "--bad-rate", "0", "--dup-rate", "0", "--late-rate", "0"])
    templates = event_templates(landing)
    topic = "latency-engagements"
    create_topics(broker.bootstrap, [topic], int(broker.conf["partitions"]))
    command = spark_submit_command("ingest", [
        "--landing", str(landing), "--lake", str(lake), "--continuous", "--feeds", "engagements",
        "--source", "kafka", "--kafka-bootstrap", broker.bootstrap, "--topics", f"engagements={topic}",
        "--set", f"ingest.trigger_seconds={TRIGGER_SECONDS}"], settings)
    producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 5, "acks": "all",
                         "enable.idempotence": True})
    table = lake / FACTS
    with log.open("w") as output:
        ingest = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        try:
            # Until the stream has written its first batch, a latency would include Spark's start-up.
            send_at_rate(producer, topic, templates, "warm-up", WARM_UP_EVENTS, 1)
            wait_for_rows(table, WARM_UP_EVENTS, ingest, log)
            sent = send_at_rate(producer, topic, templates, "steady", args.rate, args.seconds)
            wait_for_rows(table, WARM_UP_EVENTS + len(sent), ingest, log)
        finally:
            os.killpg(ingest.pid, signal.SIGTERM)
            stopped = ingest.wait(STOP_TIMEOUT_SECONDS)
    visible = visible_times(table)
    delays = sorted(visible[event_id] - at for event_id, at in sent.items())
    commits = sorted({visible[event_id] for event_id in sent})
    return {
        "events": len(sent), "rate": args.rate, "seconds": args.seconds, "commits": len(commits),
        "p50": statistics.quantiles(delays, n=100)[49], "p95": statistics.quantiles(delays, n=100)[94],
        "max": delays[-1], "exit": stopped,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="engagement events to generate")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--rate", type=int, default=200, help="events per second in the latency run")
    parser.add_argument("--seconds", type=int, default=60, help="length of the latency run's steady sending")
    parser.add_argument("--max-offsets-per-trigger", type=int,
                        help="the Kafka ingest's bound on one micro-batch (default: conf's kafka.max_offsets_per_trigger)")
    parser.add_argument("--workdir", default=str(BENCH_DIR / "out-kafka"))
    parser.add_argument("--latency-only", action="store_true",
                        help="only the continuous run's latency (no throughput runs)")
    args = parser.parse_args()
    max_offsets = ([] if args.max_offsets_per_trigger is None
                   else ["--set", f"kafka.max_offsets_per_trigger={args.max_offsets_per_trigger}"])

    workdir = Path(args.workdir).resolve()
    shutil.rmtree(workdir, ignore_errors=True)
    conf = load_conf("local")
    settings = spark_settings(conf, job="ingest")
    env = launch_environment(settings)
    broker = KafkaBroker(workdir / "kafka").start()
    if args.latency_only:
        try:
            steady = latency(args, workdir, broker, settings, env)
        finally:
            broker.stop()
        print_table(latency_rows(steady))
        return 0
    try:
        topics = {"engagements": "engagements", "discovery": "discovery"}
        create_topics(broker.bootstrap, list(topics.values()), int(broker.conf["partitions"]))
        same_events = ["--days", str(DAYS), "--events-per-day", str(args.events // DAYS),
                       "--users", str(args.users), "--seed", "1"]
        files_landing, kafka_landing = workdir / "landing-files", workdir / "landing-kafka"
        write_files_s = generate(files_landing, same_events)
        send_s = generate(kafka_landing, [*same_events, "--kafka", broker.bootstrap,
                                          "--topics", *(f"{f}={t}" for f, t in topics.items())])
        files_s, files_mem, files_out = measured(spark_submit_command("ingest", [
            "--landing", str(files_landing), "--lake", str(workdir / "lake-files"), "--once",
            "--feeds", "engagements"], settings), env)
        kafka_s, kafka_mem, kafka_out = measured(spark_submit_command("ingest", [
            "--landing", str(kafka_landing), "--lake", str(workdir / "lake-kafka"), "--once",
            "--feeds", "engagements", "--source", "kafka", "--kafka-bootstrap", broker.bootstrap,
            "--topics", f"engagements={topics['engagements']}", *max_offsets], settings), env)
        from_files, from_kafka = last_report(files_out), last_report(kafka_out)
        steady = latency(args, workdir, broker, settings, env)
    finally:
        broker.stop()

    counted = ("lines_read", "accepted", "duplicates", "quarantined")
    lines = from_kafka["lines_read"]
    rows = [
        ("engagement events sent (lines read by each ingest)",
         f"{from_files['lines_read']:,} / {lines:,}", ""),
        ("accepted / duplicates / quarantined, files", " / ".join(f"{from_files[c]:,}" for c in counted[1:]), ""),
        ("accepted / duplicates / quarantined, Kafka", " / ".join(f"{from_kafka[c]:,}" for c in counted[1:]),
         "same" if all(from_files[c] == from_kafka[c] for c in counted) else "DIFFERENT"),
        ("(f) generator writing the files", f"{write_files_s:.1f} s", ""),
        ("(k) generator sending the same events to the topics", f"{send_s:.1f} s", ""),
        ("(F) ingest --once from the files", f"{files_s:.1f} s", f"{lines / files_s:,.0f} events/s"),
        ("(K) ingest --once --source kafka", f"{kafka_s:.1f} s", f"{lines / kafka_s:,.0f} events/s"),
        ("ratio K/F (ingest throughput)", f"{files_s / kafka_s:.2f}", "goal >= 0.8"),
        ("first write to last committed row, files (f+F)", f"{write_files_s + files_s:.1f} s",
         f"{lines / (write_files_s + files_s):,.0f} events/s"),
        ("first produce to last committed row, Kafka (k+K)", f"{send_s + kafka_s:.1f} s",
         f"{lines / (send_s + kafka_s):,.0f} events/s"),
        ("ratio (k+K)/(f+F)", f"{(write_files_s + files_s) / (send_s + kafka_s):.2f}", "goal >= 0.8"),
        ("peak RSS, ingest from files / from Kafka (driver JVM)", f"{files_mem:,.0f} / {kafka_mem:,.0f} MiB", ""),
        *latency_rows(steady),
    ]
    print_table(rows)
    return 0


def latency_rows(steady: dict) -> list[tuple[str, str, str]]:
    return [
        (f"--continuous, {TRIGGER_SECONDS}-s trigger: events sent at a steady rate",
         f"{steady['events']:,}", f"{steady['rate']:,} events/s for {steady['seconds']} s"),
        ("commits that made them visible", f"{steady['commits']}", ""),
        ("latency send -> visible row, p50", f"{steady['p50']:.2f} s", ""),
        ("latency send -> visible row, p95", f"{steady['p95']:.2f} s", "goal < 10 s"),
        ("latency send -> visible row, max", f"{steady['max']:.2f} s", ""),
        ("continuous ingest's exit status after SIGTERM", f"{steady['exit']}", ""),
    ]


if __name__ == "__main__":
    sys.exit(main())
