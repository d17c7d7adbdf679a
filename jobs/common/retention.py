"""Landing retention: processed landing files are deleted `gdpr.landing_retention_hours` after the
micro-batch that read them committed, so raw lines (and the ids in them) do not outlive their ingest.

Spark's file source can clean up by itself (option cleanSource = delete | archive), but only at
once, when the batch commits: it has no retention, and maxFileAge only decides which files a stream
still considers new. Here the stream's own checkpoint says what was processed and when: its source
log (<checkpoint>/sources/0: every file with the batch that read it) and its commit log
(<checkpoint>/commits/<batch id>, written when the batch is done; its modification time is when).
Spark keeps only the latest commit files: a batch older than the oldest kept commit counts as
committed at that commit's time at the latest, so a file is never deleted early.
"""

from __future__ import annotations

import json
import logging
import time

from pyspark.sql import SparkSession

from jobs.common.config import Conf
from jobs.common.hadoop_fs import hadoop_path, hadoop_path_of_uri, read_text

log = logging.getLogger("shortvideo.retention")
SOURCE_LOG = "sources/0"  # the file source's log under a stream's checkpoint (one source per query)


def expired_files(entries: list[tuple[str, int]], commits: dict[int, float], cutoff: float) -> list[str]:
    """The files (path, batch id) whose batch committed at or before `cutoff` (epoch seconds)."""
    if not commits:
        return []
    oldest = min(commits)

    def committed_at(batch_id: int) -> float | None:
        if batch_id in commits:
            return commits[batch_id]
        return commits[oldest] if batch_id < oldest else None  # purged commit file, or not committed

    return sorted({path for path, batch_id in entries
                   if (at := committed_at(batch_id)) is not None and at <= cutoff})


def source_log_entries(text: str, batch_id: int) -> list[tuple[str, int]]:
    """One source log file (a version line, then JSON objects, one per line) -> (path, batch id)."""
    entries = []
    for line in text.splitlines()[1:]:
        if line.strip():
            entry = json.loads(line)
            entries.append((entry["path"], int(entry.get("batchId", batch_id))))
    return entries


class _Checkpoint:
    def __init__(self, spark: SparkSession, checkpoint: str) -> None:
        self.spark, self.root = spark, checkpoint
        self.fs, _ = hadoop_path(spark, checkpoint)

    def listing(self, sub: str) -> list:
        _, directory = hadoop_path(self.spark, self.root, sub)
        return list(self.fs.listStatus(directory)) if self.fs.exists(directory) else []

    def read(self, status) -> str:
        return read_text(self.spark, self.fs, status.getPath())

    def delete(self, uri: str) -> bool:
        fs, target = hadoop_path_of_uri(self.spark, uri)
        return bool(fs.delete(target, False))


def sweep_landing(spark: SparkSession, conf: Conf, checkpoint: str, now: float | None = None) -> int:
    """Delete the stream's processed landing files past the retention; returns how many went."""
    now = time.time() if now is None else now
    cutoff = now - float(conf.get("gdpr.landing_retention_hours")) * 3600
    store = _Checkpoint(spark, checkpoint)
    commits = {}
    for status in store.listing("commits"):
        name = status.getPath().getName()
        if name.isdigit():
            commits[int(name)] = status.getModificationTime() / 1000
    entries = []
    for status in store.listing(SOURCE_LOG):
        name = status.getPath().getName()
        if name.split(".")[0].isdigit() and not name.startswith("."):
            entries += source_log_entries(store.read(status), int(name.split(".")[0]))
    deleted = sum(store.delete(path) for path in expired_files(entries, commits, cutoff))
    if deleted:
        log.info("landing retention: %s processed files deleted (%s)", deleted, checkpoint)
    return deleted


class LandingSweeper:
    """Sweeps a stream's landing files at most every `gdpr.landing_sweep_minutes` (continuous mode)."""

    def __init__(self, spark: SparkSession, conf: Conf, checkpoint: str) -> None:
        self.spark, self.conf, self.checkpoint = spark, conf, checkpoint
        self.interval = float(conf.get("gdpr.landing_sweep_minutes")) * 60
        self.last = float("-inf")
        self.deleted = 0

    def sweep(self, force: bool = False) -> None:
        if force or time.monotonic() - self.last >= self.interval:
            self.last = time.monotonic()
            try:
                self.deleted += sweep_landing(self.spark, self.conf, self.checkpoint)
            except Exception as error:  # noqa: BLE001 (the data is in: the next sweep tries again)
                log.warning("landing retention sweep of %s failed: %s", self.checkpoint, error)
