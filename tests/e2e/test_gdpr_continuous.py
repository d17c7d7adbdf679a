"""gdpr while `ingest --continuous` writes: the stream pauses between micro-batches while the erasure
runs (its lease), files keep landing; nothing fails, no event is lost or doubled, the erased
user's events from before the request are gone (the in-flight ones dropped as `erased`), and the
same user's later events are kept as a returning user's."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import threading
import time

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs import gdpr
from jobs.common.config import load_conf
from jobs.common.landing import utc_now
from jobs.common.lease import writer_lease
from tests.e2e.conftest import last_json_line, run_job_in_process
from tests.e2e.producer import Landing
from tests.e2e.test_continuous import DEADLINE_SECONDS, ERROR_LINE, Child, rows_reached

pytestmark = pytest.mark.e2e
GONE = "gone-u7k2x"  # the erased user; no other id contains it
OTHERS = ("stay-a", "stay-b", "stay-c")
LANDING_PAUSE_SECONDS = 0.5  # between the files landed while the erasure runs
PAUSED = "ingest-engagements waits for the erasure lease: gdpr"  # the stream's line when a batch waits


def lines_read_reached(spark, batches_dir, expected: int):
    """ops_ingest_batches has read `expected` lines in all (every landed line processed)."""
    def reached() -> bool:
        if not (batches_dir / "_delta_log").is_dir():
            return False
        total = spark.read.format("delta").load(str(batches_dir)).agg(F.sum("lines_read")).first()[0]
        return total == expected
    return reached


def test_erasure_while_the_continuous_ingest_writes_loses_and_doubles_nothing(spark, capsys, tmp_path):
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    producer = Landing(landing)
    earlier = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=5)
    serial = iter(range(10_000))

    def events(users, when: dt.datetime) -> list[dict]:
        return [producer.engagement(when + dt.timedelta(seconds=next(serial)), user_id=u) for u in users]

    landed = []  # every distinct event that was landed, erased user's included
    first = events((GONE, *OTHERS) * 4, earlier)
    producer.write("engagements", "0-first.jsonl", producer.good_lines(first))
    landed += first
    lines = len(first)

    args = ["ingest", "--landing", str(landing), "--lake", str(lake), "--continuous", "--feeds", "engagements",
            "--set", "ingest.trigger_seconds=1"]
    stream = Child(args, tmp_path)
    facts, batches = lake / "fact_content_engagements", lake / "ops_ingest_batches"
    try:
        stream.wait_until(rows_reached(spark, facts, len(first)), "the first file's rows")

        # While the erasure runs, other users' events (and a repeat delivery) keep landing.
        during, stop, failures = [], threading.Event(), []
        others_first = [e for e in first if e["user_id"] != GONE]

        def keep_landing() -> None:
            try:
                n = 0
                while not stop.wait(LANDING_PAUSE_SECONDS):
                    n += 1
                    new = events(OTHERS, earlier + dt.timedelta(minutes=n))
                    again = [others_first[n % len(others_first)]]
                    producer.write("engagements", f"1-during-{n:03d}.jsonl",
                                   producer.good_lines(new) + producer.repeat(again))
                    during.append((new, len(new) + 1))
            except Exception as error:  # noqa: BLE001 (shown by the assertion below)
                failures.append(error)

        # A writer already running when the request comes (a dims run, say) keeps the erasure
        # waiting, its lease held, until the stream's next micro-batch has come and paused for it:
        # so a batch surely meets the erasure, however fast the erasure itself is.
        conf = load_conf("local", lake=str(lake))
        writer_holds, paused = threading.Event(), []

        def running_writer() -> None:
            try:
                with writer_lease(spark, conf, "dims"):
                    writer_holds.set()
                    deadline = time.monotonic() + DEADLINE_SECONDS
                    while (PAUSED not in stream.stdout and stream.process.poll() is None
                           and time.monotonic() < deadline):
                        time.sleep(0.5)
                    paused.append(PAUSED in stream.stdout)
            except Exception as error:  # noqa: BLE001 (shown by the assertion below)
                failures.append(error)
                writer_holds.set()

        writer = threading.Thread(target=running_writer, name="dims", daemon=True)
        writer.start()
        assert writer_holds.wait(DEADLINE_SECONDS), "the running writer never took its lease"
        lander = threading.Thread(target=keep_landing, name="lander", daemon=True)
        lander.start()
        try:
            code, erased = run_job_in_process(gdpr.main, ["--lake", str(lake), "--user-id", GONE], spark, capsys)
        finally:
            stop.set()
            lander.join()
            writer.join()
        erasure_done = utc_now()
        assert not failures, failures
        assert paused == [True], f"no micro-batch paused for the erasure\n{stream.output()}"
        assert code == 0 and erased["status"] == "ok", f"{erased}\n{stream.output()}"
        assert erased["per_table"]["fact_content_engagements"] == sum(e["user_id"] == GONE for e in first), erased
        for new, count in during:
            landed += new
            lines += count

        # After the request: the erased user's events from before it (in flight) and after it (back).
        in_flight = events([GONE] * 3, earlier + dt.timedelta(hours=1))
        returning = events([GONE] * 2, erasure_done)
        others = events(OTHERS, erasure_done)
        producer.write("engagements", "2-after.jsonl",
                       producer.good_lines(in_flight + returning + others) + producer.repeat(others[:1]))
        landed += in_flight + returning + others
        lines += len(in_flight) + len(returning) + len(others) + 1
        stream.wait_until(lines_read_reached(spark, batches, lines), f"all {lines} landed lines read")
        assert stream.process.poll() is None, f"a continuous ingest must keep running\n{stream.output()}"
    finally:
        if stream.process.poll() is None:
            os.killpg(stream.process.pid, signal.SIGTERM)
        try:
            stream.process.wait(timeout=DEADLINE_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(stream.process.pid, signal.SIGKILL)
            pytest.fail(f"the ingest did not stop on SIGTERM\n{stream.output()}")

    assert stream.process.returncode == 0, stream.output()
    report = last_json_line(stream.stdout)
    assert report["status"] == "ok" and report["erased"] == len(in_flight), f"{report}\n{stream.output()}"
    errors = [line for line in (stream.stdout + stream.stderr).splitlines() if ERROR_LINE.search(line)]
    assert not errors, f"errors in the output of a clean stop: {errors[:5]}\n{stream.output()}"

    # Exactly once: every other user's event, and the erased user's events after the request only.
    before_request = {e["event_id"] for e in first + in_flight if e["user_id"] == GONE}
    kept = [(e["event_id"], e["user_id"]) for e in landed if e["event_id"] not in before_request]
    expected = spark.createDataFrame(kept, "event_id string, user_id string")
    stored = spark.read.format("delta").load(str(facts)).select("event_id", "user_id")
    assert_df_equality(stored, expected, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)
    assert spark.read.format("delta").load(str(lake / "quarantine")).count() == 0

    rows = spark.read.format("delta").load(str(batches))
    unbalanced = rows.where(F.col("lines_read") != F.col("accepted") + F.col("duplicates")
                            + F.col("quarantined") + F.col("erased")).collect()
    assert not unbalanced, unbalanced
    totals = rows.agg(*[F.sum(c).alias(c) for c in ("lines_read", "accepted", "erased")]).first()
    assert (totals["lines_read"], totals["accepted"], totals["erased"]) == (
        lines, len(landed) - len(in_flight), len(in_flight)), totals
    # The stream ran through the erasure: a micro-batch paused for it (asserted above), then
    # batches went on writing after it.
    request = spark.read.format("delta").load(str(lake / "ops_gdpr_requests")).select("requested_at")
    after = rows.crossJoin(request).where((F.col("started_at") > F.col("requested_at")) & (F.col("accepted") > 0))
    assert after.count() >= 1, rows.orderBy("batch_id").collect()
