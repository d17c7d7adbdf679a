"""ops_job_runs: every run of a job that writes the lake, its final JSON line as a row.

The row is appended after the line is printed, and a failed append is a warning on stderr: the
run log never changes what a job prints or its exit code. Read-only jobs (sql, report) and
generate (no lake) do not log; an argument error exits 2 before Spark starts, with no row.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
import sys
import uuid
from typing import Any, Iterable

from pyspark.sql import SparkSession

from jobs.common.config import Conf
from jobs.common.lake import append_once, retry_on_conflict
from jobs.common.maintenance import ensure_job_table
from schemas import TABLES

RUNS = TABLES["ops_job_runs"]
REDACTED = "<redacted>"
WRITE_ATTEMPTS = 3  # a conflict is unlikely (appends only): a concurrent maintain's compaction
# A configuration key whose value is a secret (--set gdpr.salt=..., spark.hadoop.fs.s3a.secret.key=...).
SECRET_KEY = re.compile(r"(salt|password|secret|token|credential|access\.?key)", re.IGNORECASE)


def command_line(argv: list[str] | None) -> list[str]:
    """The arguments a job's main() parsed: its argv, or the process's when called without one."""
    return list(sys.argv[1:] if argv is None else argv)


def redacted_arguments(argv: Iterable[str], hidden: Iterable[str] = ()) -> list[str]:
    """The command line as given, with every hidden value (gdpr's user ids) and the value of every
    secret setting replaced by <redacted>, whether it stands alone or after `=` (`--user-id=u1`,
    `--set=gdpr.salt=s`). Values are matched, not option names, so an abbreviated option is covered."""
    hidden_values = {value.strip() for value in hidden if value.strip()}

    def redact(token: str) -> str:
        if token.strip() in hidden_values:
            return REDACTED
        key, equals, value = token.partition("=")
        if not equals:
            return token
        if SECRET_KEY.search(key.lstrip("-")):
            return f"{key}={REDACTED}"
        return f"{key}={redact(value)}"

    return [redact(token) for token in argv]


def redacted_text(text: str | None, hidden: Iterable[str]) -> str | None:
    """Text (an error message) with every hidden value that stands as a word replaced."""
    for value in sorted({v.strip() for v in hidden if v.strip()}, key=len, reverse=True):
        if text:
            text = re.sub(rf"(?<![\w-]){re.escape(value)}(?![\w-])", REDACTED, text)
    return text


class RunLog:
    """Where a job's run goes: the lake, the command line (redacted), the driver's identity."""

    def __init__(self, spark: SparkSession, conf: Conf, argv: list[str], hidden: Iterable[str] = ()) -> None:
        self.spark = spark
        self.conf = conf
        self.hidden = list(hidden)
        self.arguments = redacted_arguments(argv, self.hidden)
        self.run_id = uuid.uuid4().hex

    def append(self, line: dict[str, Any], started_at: dt.datetime, ended_at: dt.datetime, exit_code: int) -> None:
        """One row for the run (idempotent: the run id is the transaction's id)."""
        if line.get("error") is not None:
            line = {**line, "error": redacted_text(str(line["error"]), self.hidden)}
        row = {
            "run_id": self.run_id,
            "job": line["job"],
            "arguments": self.arguments,
            "started_at": started_at,
            "ended_at": ended_at,
            "status": line["status"],
            "exit_code": exit_code,
            "error": line.get("error"),
            "report": json.dumps(line, default=str),
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "app_id": self.spark.sparkContext.applicationId,
            "run_date": started_at.date(),
        }
        frame = self.spark.createDataFrame([tuple(row[c] for c in RUNS.columns)], RUNS.schema)

        def write() -> None:
            ensure_job_table(self.spark, self.conf, RUNS)
            append_once(frame, self.conf.lake, RUNS, f"run-{self.run_id}", 0)

        retry_on_conflict(write, WRITE_ATTEMPTS)
