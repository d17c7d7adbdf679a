"""`ingest --continuous` picks up files as they land, and stops on SIGTERM cleanly: exit 0, its
final status line, and no error in its output."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from pyspark.errors import AnalysisException
from pyspark.sql import functions as F

from jobs import ingest
from tests.e2e.conftest import PROJECT_ROOT, SPARK_SUBMIT, child_env, last_json_line, run_job_in_process
from tests.e2e.producer import Landing

pytestmark = pytest.mark.e2e

# Generous: a spark-submit start on a loaded 2-core CI machine can take minutes (JVM, Ivy, Delta).
DEADLINE_SECONDS = 420
ERROR_LINE = re.compile(r"Traceback|RuntimeError|\bERROR\b")
CAUSE_LINE = re.compile(r"^(Caused by: )?[\w.$]+(Exception|Error)\b|^\S*Exception: ")


class Child:
    """A spark-submit.sh process whose stdout and stderr are kept in files, to show on any failure."""

    def __init__(self, args: list[str], logs: Path) -> None:
        self.stdout_path, self.stderr_path = logs / "stdout.log", logs / "stderr.log"
        with open(self.stdout_path, "w") as out, open(self.stderr_path, "w") as err:
            self.process = subprocess.Popen(
                [str(SPARK_SUBMIT), *args], cwd=PROJECT_ROOT, start_new_session=True,
                env=child_env(SHORTVIDEO_LOG_LEVEL="INFO"),
                stdout=out, stderr=err,
            )

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def output(self) -> str:
        self.dump_stacks()
        stderr = self.stderr
        # A JVM stack trace is long and its cause is at its head: every distinct exception line first.
        causes = list(dict.fromkeys(line for line in stderr.splitlines() if CAUSE_LINE.search(line)))
        return (f"exit {self.process.poll()}\n--- exception lines in stderr ---\n" + "\n".join(causes[:40]) +
                f"\n--- stdout ({self.stdout_path}) ---\n{self.stdout[-20000:]}\n"
                f"--- stderr ({self.stderr_path}) ---\n{stderr[-6000:]}")

    def dump_stacks(self) -> None:
        """A child still running says where it waits: the JVM's threads (SIGQUIT) and the Python
        driver's (SIGUSR1, see report.configure_logging), both into its output."""
        if self.process.poll() is not None:
            return
        for pid in children(self.process.pid):
            os.kill(pid, signal.SIGUSR1)
        os.kill(self.process.pid, signal.SIGQUIT)
        size = -1
        while size != self.stdout_path.stat().st_size:  # until the dumps are written
            size = self.stdout_path.stat().st_size
            time.sleep(2)

    def wait_until(self, condition, what: str, timeout: float = DEADLINE_SECONDS):
        """Poll `condition` until it holds; fail at once, with the logs, if the child exits first."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            assert self.process.poll() is None, f"the ingest exited while waiting for {what}\n{self.output()}"
            assert time.monotonic() < deadline, f"no {what} after {timeout:.0f} s\n{self.output()}"
            time.sleep(1)


def children(parent: int) -> list[int]:
    """The processes whose parent is `parent` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except (OSError, ValueError):
            continue
        if entry.name.isdigit() and int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            found.append(int(entry.name))
    return found


def rows_reached(spark, table_dir: Path, expected: int):
    """The table (written by the child) holds at least `expected` rows.

    Not DeltaTable.isDeltaTable: once this session has looked at the path while the child was
    creating the table (a `_delta_log` without its first commit), it keeps answering False from
    its cached log. A read refreshes the log from storage."""
    def reached() -> bool:
        if not (table_dir / "_delta_log").is_dir():
            return False
        try:
            return spark.read.format("delta").load(str(table_dir)).count() >= expected
        except AnalysisException:  # the log has no commit yet
            return False
    return reached


def test_continuous_ingest_follows_the_landing_zone(spark, capsys, tmp_path):
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    producer = Landing(landing)
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=5)
    first = [producer.engagement(start + dt.timedelta(seconds=i)) for i in range(50)]
    producer.write("engagements", "first.jsonl", producer.good_lines(first))

    args = ["ingest", "--landing", str(landing), "--lake", str(lake), "--continuous", "--feeds", "engagements",
            "--set", "ingest.trigger_seconds=1", "--set", "ingest.progress_flush_seconds=1"]
    stream = Child(args, tmp_path)
    facts = lake / "fact_content_engagements"
    try:
        stream.wait_until(rows_reached(spark, facts, 50), "50 rows from the first file")
        second = [producer.engagement(start + dt.timedelta(minutes=10, seconds=i)) for i in range(30)]
        producer.write("engagements", "second.jsonl", producer.good_lines(second) + producer.repeat(first[:5]))
        stream.wait_until(rows_reached(spark, facts, 80), "80 rows after the second file")
        # The streams' progress is appended while they run (every ingest.progress_flush_seconds).
        stream.wait_until(rows_reached(spark, lake / "ops_stream_progress", 2), "progress of the batches")
        assert stream.process.poll() is None, f"a continuous ingest must keep running\n{stream.output()}"
    finally:
        if stream.process.poll() is None:
            os.killpg(stream.process.pid, signal.SIGTERM)  # as an orchestrator stops it: the whole group
        try:
            stream.process.wait(timeout=DEADLINE_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(stream.process.pid, signal.SIGKILL)
            pytest.fail(f"the ingest did not stop on SIGTERM\n{stream.output()}")

    assert stream.process.returncode == 0, stream.output()
    report = last_json_line(stream.stdout)
    assert report["status"] == "ok" and report["accepted"] == 80 and report["duplicates"] == 5, stream.output()
    errors = [line for line in (stream.stdout + stream.stderr).splitlines() if ERROR_LINE.search(line)]
    assert not errors, f"errors in the output of a clean stop: {errors[:5]}\n{stream.output()}"

    table = spark.read.format("delta").load(str(facts))
    assert sorted(r.event_id for r in table.select("event_id").collect()) == sorted(producer.good)
    # The stop committed what it had read: a restart finds nothing left to do.
    code, caught_up = run_job_in_process(
        ingest.main, ["--landing", str(landing), "--lake", str(lake), "--once", "--feeds", "engagements"],
        spark, capsys)
    assert code == 0 and caught_up["lines_read"] == 0 and caught_up["accepted"] == 0, caught_up
    assert table.count() == 80
    # Every line read, once, in the progress of the continuous run (the catch-up run read none).
    progress = spark.read.format("delta").load(str(lake / "ops_stream_progress"))
    assert progress.agg(F.sum("input_rows")).first()[0] == 85, progress.collect()  # 50 + 30 + 5 repeats
