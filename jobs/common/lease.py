"""Leases under <lake>/_leases: who is writing the lake now, so a physical purge never races a
writer and an erasure gets the quiet moment it needs.

A writer (an ingest micro-batch, a dims run, a daily run) holds a `writer` lease while it writes;
the purge holds a `purge` lease; gdpr's erasure an `erasure` lease. Each is a small JSON file (job,
host, pid, when acquired, last heartbeat) that a daemon thread rewrites every third of the lease
time, and that is deleted on release. A lease whose heartbeat is older than `gdpr.lease_seconds` is
stale (its holder died, e.g. SIGKILL) and counts for nothing.

The sides exclude each other the way two flags do: each writes its own lease first, then looks for
the other side's. A writer that finds a live purge or erasure lease withdraws and waits for it to
end; an erasure that finds a live purge does the same, then waits for the writers already running
to finish; a purge that finds a live writer or erasure lease withdraws and refuses. Of two that
start together at least one sees the other, so a purge never runs beside a writer or an erasure,
and no writer starts while an erasure runs. Files go through the Hadoop filesystem API, so the
same code works on a local lake and on an object store.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Iterator

from pyspark.sql import SparkSession

from jobs.common.config import Conf
from jobs.common.hadoop_fs import hadoop_path, read_text

log = logging.getLogger("shortvideo.lease")

LEASES = "_leases"
WRITER = "writer"
PURGE = "purge"
ERASURE = "erasure"


class WriterActive(RuntimeError):
    """A purge was asked for while a writer holds a live lease."""


@dataclass(frozen=True)
class Lease:
    kind: str
    job: str
    host: str
    pid: int
    acquired_at: float
    heartbeat_at: float

    def describe(self, now: float) -> str:
        return f"{self.job} (pid {self.pid} on {self.host}, heartbeat {now - self.heartbeat_at:.0f} s ago)"


class _Files:
    """The lease directory through Hadoop's FileSystem (the JVM's), small text files only."""

    def __init__(self, spark: SparkSession, lake: str) -> None:
        self.spark, self.lake = spark, lake
        self.fs, self.root = hadoop_path(spark, lake, LEASES)

    def write(self, name: str, text: str) -> None:
        _, file = hadoop_path(self.spark, self.lake, LEASES, name)
        stream = self.fs.create(file, True)
        try:
            stream.write(bytearray(text.encode("utf-8")))
        finally:
            stream.close()

    def delete(self, name: str) -> None:
        _, file = hadoop_path(self.spark, self.lake, LEASES, name)
        self.fs.delete(file, False)

    def read_all(self, prefix: str) -> list[str]:
        if not self.fs.exists(self.root):
            return []
        texts = []
        for status in self.fs.listStatus(self.root):
            name = status.getPath().getName()
            if not name.startswith(prefix) or not name.endswith(".json"):
                continue
            try:
                texts.append(read_text(self.spark, self.fs, status.getPath()))
            except Exception:  # released between the listing and the read
                continue
        return texts


def live_leases(spark: SparkSession, conf: Conf, kind: str, now: float | None = None) -> list[Lease]:
    """The leases of this kind whose heartbeat is recent enough to count."""
    now = time.time() if now is None else now
    ttl = float(conf.get("gdpr.lease_seconds"))
    leases = []
    for text in _Files(spark, conf.lake).read_all(f"{kind}-"):
        try:
            lease = Lease(**json.loads(text))
        except (ValueError, TypeError):
            continue  # a file caught half-written: the next look reads it whole
        if now - lease.heartbeat_at < ttl:
            leases.append(lease)
    return leases


class _Held:
    """One lease file, kept fresh by a daemon thread until released."""

    def __init__(self, spark: SparkSession, conf: Conf, kind: str, job: str) -> None:
        self.files = _Files(spark, conf.lake)
        self.name = f"{kind}-{job}-{uuid.uuid4().hex}.json"
        self.interval = float(conf.get("gdpr.lease_seconds")) / 3
        now = time.time()
        self.lease = Lease(kind, job, socket.gethostname(), os.getpid(), now, now)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{job}", daemon=True)

    def acquire(self) -> None:
        self.files.write(self.name, json.dumps(self.lease.__dict__))
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            beat = Lease(**{**self.lease.__dict__, "heartbeat_at": time.time()})
            try:
                self.files.write(self.name, json.dumps(beat.__dict__))
            except Exception:  # noqa: BLE001 (a missed beat: the next one tries again)
                continue

    def release(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.files.delete(self.name)


def _hold_unless(spark: SparkSession, conf: Conf, kind: str, job: str, blockers: tuple[str, ...]) -> _Held:
    """Hold a lease of `kind` once no live lease of the `blockers` kinds is left: withdraw and look
    again every second, for up to `gdpr.purge_wait_seconds`."""
    deadline = time.monotonic() + float(conf.get("gdpr.purge_wait_seconds"))
    waited = False
    while True:
        held = _Held(spark, conf, kind, job)
        held.acquire()
        holding = [(blocker, lease) for blocker in blockers for lease in live_leases(spark, conf, blocker)]
        if not holding:
            return held
        held.release()
        blocker, lease = holding[0]
        if time.monotonic() > deadline:
            raise TimeoutError(f"{job}: a {blocker} still holds the lake: {lease.describe(time.time())}")
        if not waited:  # once per wait: why a writer (a stream's micro-batch) pauses
            log.info("%s waits for the %s lease: %s", job, blocker, lease.describe(time.time()))
            waited = True
        time.sleep(1.0)


@contextlib.contextmanager
def writer_lease(spark: SparkSession, conf: Conf, job: str) -> Iterator[None]:
    """Hold a writer lease while writing; wait (up to `gdpr.purge_wait_seconds`) while a purge or an
    erasure runs."""
    held = _hold_unless(spark, conf, WRITER, job, (PURGE, ERASURE))
    try:
        yield
    finally:
        held.release()


@contextlib.contextmanager
def erasure_lease(spark: SparkSession, conf: Conf, job: str = "gdpr") -> Iterator[None]:
    """Hold the erasure lease: writers that start meanwhile wait for it to end. Wait first for a
    running purge, then for the writers already running to finish (each up to
    `gdpr.purge_wait_seconds`).

    Open-source Delta commits at Serializable isolation only: a MERGE that deletes a user's rows
    from a partition fails when an append to that partition commits while it runs, blind or not,
    so beside a stream that commits every few seconds an erasure would lose every retry.
    """
    held = _hold_unless(spark, conf, ERASURE, job, (PURGE,))
    try:
        _wait_for_writers_started_before(spark, conf, time.time())
        yield
    finally:
        held.release()


@contextlib.contextmanager
def purge_lease(spark: SparkSession, conf: Conf, job: str = "purge") -> Iterator[None]:
    """Hold the purge lease; raise WriterActive (holding nothing) when a writer or an erasure is active."""
    held = _Held(spark, conf, PURGE, job)
    held.acquire()
    active = live_leases(spark, conf, WRITER) + live_leases(spark, conf, ERASURE)
    if active:
        held.release()
        now = time.time()
        raise WriterActive("a writer is active: " + "; ".join(w.describe(now) for w in active))
    try:
        yield
    finally:
        held.release()


def _wait_for_writers_started_before(spark: SparkSession, conf: Conf, cutoff: float) -> None:
    """Wait until every writer that acquired its lease before `cutoff` (epoch seconds) has released
    it (or died). Run after the erasure lease is written, this also covers every writer that read
    the erased users' tombstones before the request was recorded: none that starts later can."""
    deadline = time.monotonic() + float(conf.get("gdpr.purge_wait_seconds"))
    while True:
        earlier = [w for w in live_leases(spark, conf, WRITER) if w.acquired_at <= cutoff]
        if not earlier:
            return
        if time.monotonic() > deadline:
            raise TimeoutError("writers that started before the erasure are still running: "
                               + "; ".join(w.describe(time.time()) for w in earlier))
        time.sleep(1.0)
