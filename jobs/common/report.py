"""The one JSON line a job prints at its end, for the orchestrator's log."""

from __future__ import annotations

import io
import json
import re
import sys
import time
from typing import Any


# What a job reading landing files as a stream counts, per feed and in total.
STREAM_RUN_COUNTS = ("files", "lines_read", "accepted", "duplicates", "quarantined", "blank_lines", "batches")


class JobReport:
    """Collects a job's counts; `emit` prints them as the job's last line on stdout."""

    def __init__(self, job: str) -> None:
        self.job = job
        self.started = time.monotonic()
        self.counts: dict[str, Any] = {}

    def add(self, **counts: Any) -> None:
        self.counts.update(counts)

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
        return line


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


def first_line(error: BaseException) -> str:
    """An exception as one line: Spark's messages run to pages, an orchestrator's log wants one.

    A failure inside a stream's foreachBatch comes back as a JVM error wrapping a Python
    traceback: the line naming the Python exception is the one that says what went wrong.
    """
    text = str(error).strip()
    if not text:
        return type(error).__name__
    lines = text.splitlines()
    if "Traceback (most recent call last)" in lines[0]:
        cause = next((line.strip() for line in lines[1:] if PYTHON_ERROR_LINE.match(line.strip())), None)
        if cause:
            return f"{lines[0].split('Reason:')[0].strip()} {cause}"
    return lines[0]
