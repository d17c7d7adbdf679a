"""ops_stream_progress: the ingest streams' progress, as Spark's StreamingQueryListener reports it.

Spark calls the listener on its listener-bus thread after each micro-batch. The listener only keeps
the event's row (a list under a lock): a Delta write from inside that callback would hold up the bus,
and with it every later event of the session, for the length of a commit. The driver's main loop
(ingest's await_streams) appends what was kept every ingest.progress_flush_seconds, off the
streams' own threads, and once more at the end of the run, after each stream's termination event:
the bus delivers a query's events in order, so by then its last batch's progress is in (--once too).
A row kept but not written when the driver dies is lost: the table is for watching, not counting
(ops_ingest_batches counts).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import threading
import time
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql.streaming import StreamingQueryListener

from jobs.common.config import Conf
from jobs.common.lake import retry_on_conflict, table_path
from jobs.common.report import first_line
from schemas import TABLES

log = logging.getLogger("shortvideo.progress")
PROGRESS = TABLES["ops_stream_progress"]
KAFKA = "kafka"


def _instant(timestamp: str) -> dt.datetime:
    """Spark's progress timestamp (ISO 8601, UTC, `Z`) as an aware datetime."""
    return dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def _rate(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) or math.isinf(value) else float(value)


def _offset(text: Any) -> str | None:
    return None if text in (None, "None", "null") else str(text)


def offsets_behind(end_offset: str | None, latest_offset: str | None) -> int | None:
    """Kafka's offsets {"topic": {"partition": offset}}: records in the topics after the batch's end."""
    if not end_offset or not latest_offset:
        return None
    end, latest = json.loads(end_offset), json.loads(latest_offset)
    return sum(max(int(offset) - int(end.get(topic, {}).get(partition, 0)), 0)
               for topic, partitions in latest.items() for partition, offset in partitions.items())


class ProgressRecorder(StreamingQueryListener):
    """Keeps the progress of the streams it is told about (query name -> (feed, source)) as rows of
    ops_stream_progress; `flush` appends them. Registered with the session on creation; `close`
    waits for the streams' ends, flushes and unregisters it."""

    def __init__(self, spark: SparkSession, conf: Conf, streams: dict[str, tuple[str, str]]) -> None:
        self.spark = spark
        self.lake = conf.lake
        self.streams = streams
        self.flush_seconds = float(conf.get("ingest.progress_flush_seconds"))
        self.wait_seconds = float(conf.get("ingest.progress_wait_seconds"))
        self.write_retries = int(conf.get("ingest.write_retries"))
        self._changed = threading.Condition()
        self._rows: list[tuple] = []
        self._idle: dict[str, tuple] = {}  # run id -> the latest idle report since the last flush
        self._names: dict[str, str] = {}   # run id -> query name (an idle event carries no name)
        self._terminated: set[str] = set()
        self._flushed_at = time.monotonic()
        self._registered = True
        spark.streams.addListener(self)

    # --- The listener (Spark's bus thread): keep, never write --------------------------------------

    def onQueryStarted(self, event) -> None:
        if event.name in self.streams:
            with self._changed:
                self._names[str(event.runId)] = event.name

    def onQueryProgress(self, event) -> None:
        try:
            progress = event.progress
            if progress.name not in self.streams:
                return
            row = self._progress_row(progress)
        except Exception as error:  # noqa: BLE001 (a listener must not throw into Spark's bus)
            log.warning("stream progress not kept: %s", first_line(error))
            return
        with self._changed:
            self._rows.append(row)

    def onQueryIdle(self, event) -> None:
        with self._changed:
            name = self._names.get(str(event.runId))
            if name is not None:
                self._idle[str(event.runId)] = self._idle_row(name, event)

    def onQueryTerminated(self, event) -> None:
        with self._changed:
            self._terminated.add(str(event.runId))
            self._changed.notify_all()

    def _progress_row(self, progress) -> tuple:
        feed, source = self.streams[progress.name]
        first = progress.sources[0] if progress.sources else {}
        end, latest = _offset(first.get("endOffset")), _offset(first.get("latestOffset"))
        at = _instant(progress.timestamp)
        row = {
            "query_name": progress.name, "feed": feed, "source": source,
            "query_id": str(progress.id), "run_id": str(progress.runId), "event": "progress",
            "batch_id": int(progress.batchId), "progress_at": at,
            "input_rows": int(progress.numInputRows or 0),
            "input_rows_per_second": _rate(progress.inputRowsPerSecond),
            "processed_rows_per_second": _rate(progress.processedRowsPerSecond),
            "batch_duration_ms": int(progress.batchDuration),
            "durations_ms": {k: int(v) for k, v in (progress.durationMs or {}).items()},
            "offsets_behind": offsets_behind(end, latest) if source == KAFKA else None,
            "source_description": first.get("description"),
            "start_offset": _offset(first.get("startOffset")), "end_offset": end, "latest_offset": latest,
            "progress_date": at.date(),
        }
        return tuple(row[c] for c in PROGRESS.columns)

    def _idle_row(self, name: str, event) -> tuple:
        feed, source = self.streams[name]
        at = _instant(event.timestamp)
        row = {c: None for c in PROGRESS.columns}
        row.update({
            "query_name": name, "feed": feed, "source": source, "query_id": str(event.id),
            "run_id": str(event.runId), "event": "idle", "progress_at": at, "input_rows": 0,
            "offsets_behind": 0 if source == KAFKA else None, "progress_date": at.date(),
        })
        return tuple(row[c] for c in PROGRESS.columns)

    # --- The driver's side: write -------------------------------------------------------------------

    def flush_if_due(self) -> None:
        if time.monotonic() - self._flushed_at >= self.flush_seconds:
            self.flush()

    def flush(self) -> int:
        """Append the kept rows; on failure keep them for the next flush (a warning, never an error)."""
        self._flushed_at = time.monotonic()
        with self._changed:
            rows, self._rows, idle, self._idle = self._rows, [], self._idle, {}
        rows += list(idle.values())
        if not rows:
            return 0
        try:
            frame = self.spark.createDataFrame(rows, PROGRESS.schema)
            retry_on_conflict(lambda: frame.write.format("delta").mode("append").save(
                table_path(self.lake, PROGRESS)), self.write_retries)
        except Exception as error:  # noqa: BLE001 (monitoring must not stop the ingest)
            log.warning("%d stream progress rows not written yet: %s", len(rows), first_line(error))
            with self._changed:
                self._rows[:0] = rows
            return 0
        return len(rows)

    def close(self, queries: list) -> None:
        """After the streams stopped: wait (ingest.progress_wait_seconds at most) for their termination
        events, which the bus delivers after their last progress, then flush and unregister."""
        run_ids = {str(q.runId) for q in queries}
        deadline = time.monotonic() + self.wait_seconds
        with self._changed:
            while not run_ids <= self._terminated and time.monotonic() < deadline:
                self._changed.wait(deadline - time.monotonic())
        if not run_ids <= self._terminated:
            log.warning("stream progress: no termination event within %ss; the last batches may be missing",
                        self.wait_seconds)
        try:
            self.flush()
        finally:
            self.unregister()

    def unregister(self) -> None:
        if self._registered:
            self._registered = False
            self.spark.streams.removeListener(self)
