"""The one JSON line a job prints at its end, for the orchestrator's log."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import re
import sys
import time
from typing import TYPE_CHECKING, Any

from jobs.common.cli import EXIT_FAILED, EXIT_OK

if TYPE_CHECKING:
    from jobs.common.runlog import RunLog


# What a job reading landing files as a stream counts, per feed and in total.
STREAM_RUN_COUNTS = ("files", "lines_read", "accepted", "duplicates", "quarantined", "blank_lines", "batches")


class StepTimes:
    """Wall seconds per named step of a job, summed over its repeats (e.g. daily's passes): the
    profile the job's line carries, so a benchmark or an operator sees where a run's time went."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def step(self, name: str):
        started = time.monotonic()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.monotonic() - started

    def rounded(self) -> dict[str, float]:
        return {name: round(seconds, 3) for name, seconds in self.seconds.items()}


class JobReport:
    """Collects a job's counts; `emit` prints them as the job's last line on stdout (and, once the
    job has a Spark session, appends them to the lake's run log: `log_runs`)."""

    def __init__(self, job: str) -> None:
        self.job = job
        self.started = time.monotonic()
        self.started_at = dt.datetime.now(dt.timezone.utc)
        self.counts: dict[str, Any] = {}
        self.run_log: RunLog | None = None

    def add(self, **counts: Any) -> None:
        self.counts.update(counts)

    def log_runs(self, run_log: RunLog) -> None:
        """From now on `emit` also appends the run to ops_job_runs."""
        self.run_log = run_log

    def emit(self, status: str = "ok", **extra: Any) -> dict[str, Any]:
        line = {
            "job": self.job,
            "status": status,
            **self.counts,
            **extra,
            "seconds": round(time.monotonic() - self.started, 3),
        }
        sys.stdout.write(json.dumps(line, default=str, sort_keys=False) + "\n")
        sys.stdout.flush()
        if self.run_log is not None:
            self._append_run(line)
        return line

    def _append_run(self, line: dict[str, Any]) -> None:
        """The run log's row, after the line: its failure is a warning, never the job's outcome
        (every job exits 0 on an ok line and 1 on any other)."""
        ended_at = dt.datetime.now(dt.timezone.utc)
        try:
            self.run_log.append(line, self.started_at, ended_at, EXIT_OK if line["status"] == "ok" else EXIT_FAILED)
        except Exception as error:  # noqa: BLE001 (whatever it is, the job's outcome stands)
            sys.stderr.write(f"{self.job}: warning: run not recorded in ops_job_runs: {first_line(error)}\n")
            sys.stderr.flush()


def configure_logging() -> None:
    """Our own progress lines on stderr; quiet unless SHORTVIDEO_LOG_LEVEL asks (e.g. INFO).
    A hung driver tells where it waits: `kill -USR1 <python pid>` prints every thread's stack."""
    import faulthandler
    import logging
    import os
    import signal

    try:  # the process's own stderr: sys.stderr may be a capture without a file descriptor
        faulthandler.register(signal.SIGUSR1, file=sys.__stderr__, all_threads=True)
    except (AttributeError, ValueError, io.UnsupportedOperation):
        pass  # no real stderr (an embedding host): no stack dumps

    from pyspark.logger import PySparkLogger

    logging.basicConfig(
        level=os.environ.get("SHORTVIDEO_LOG_LEVEL", "WARNING").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # PySpark logs every failed SQL statement as a JSON line of its own, and spark-submit merges
    # the driver's stderr into stdout: the job's own status line already carries the error.
    PySparkLogger.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)


PYTHON_ERROR_LINE = re.compile(r"^[\w.]*(?:Error|Exception): .+")


PY4J_CALL_LINE = "An error occurred while calling"


def first_line(error: BaseException) -> str:
    """An exception as one line: Spark's messages run to pages, an orchestrator's log wants one.

    A failure inside a stream's foreachBatch comes back as a JVM error wrapping a Python
    traceback: the line naming the Python exception is the one that says what went wrong.
    """
    text = str(error).strip()
    if not text:
        return type(error).__name__
    lines = text.splitlines()
    if lines[0].startswith(PY4J_CALL_LINE) and len(lines) > 1 and lines[1].startswith(": "):
        # py4j's first line names the call (o123.isEmpty), the next the JVM's exception: keep both
        lines = [f"{lines[0]} {lines[1][2:].strip()}", *lines[2:]]
    if "Traceback (most recent call last)" in lines[0]:
        cause = next((line.strip() for line in lines[1:] if PYTHON_ERROR_LINE.match(line.strip())), None)
        if cause:
            return f"{lines[0].split('Reason:')[0].strip()} {cause}"
    return lines[0]
