"""ingest: Structured Streaming from the landing zone (or Kafka topics) into the Delta fact tables,
exactly once.

Every landing line is accepted, dropped as a duplicate delivery, quarantined with a reason, or
dropped as erased (an event of a user erased after it happened, in flight during the request: see
jobs/gdpr.py): `lines_read = accepted + duplicates + quarantined + erased` for every batch and
every run (blank lines are counted apart and ignored). A micro-batch writes the quarantine and
the ops tables with Delta's idempotent writes (txnAppId = the stream's id, txnVersion = the batch
id); its facts are de-duplicated against the table, so a batch replayed after a crash finds them
there and writes none. Either way a replay changes nothing that was already committed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.common import cli
from jobs.common.config import Conf, ConfigError, load_conf
from jobs.common.erasure import read_tombstones
from jobs.common.failpoints import failpoint, failpoint_soon
from jobs.common.kafka_source import FEEDS, NoLandingSweep, feed_topic, kafka_overrides, read_kafka_lines
from jobs.common.landing import (
    LandingBatchWriter,
    batch_source_files,
    ensure_landing_dirs,
    micro_batch_bound,
    read_files_tolerantly,
    read_landing_lines,
    unreadable_files,
    utc_now,
)
from jobs.common.lake import (
    append_counted,
    append_once,
    checkpoint_path,
    read_if_table,
    read_pinned,
    retry_on_conflict,
    side_by_side,
    table_path,
)
from jobs.common.lease import writer_lease
from jobs.common.maintenance import ensure_job_table, user_buckets
from jobs.common.progress import ProgressRecorder
from jobs.common.report import STREAM_RUN_COUNTS, JobReport, configure_logging, first_line
from jobs.common.retention import LandingSweeper
from jobs.common.runlog import RunLog, command_line
from jobs.common.spark import start_spark
from jobs.transforms.facts import (
    drop_duplicate_deliveries,
    to_discovery_facts,
    to_engagement_facts,
    to_quarantine_rows,
    unreadable_file_rows,
    with_user_bucket,
)
from jobs.transforms.erasure import ERASED_FLAG, with_erased_flag
from jobs.transforms.validation import classify_lines, line_counts, with_blank_flag
from schemas import TABLES, TableSpec
from schemas.landing import DISCOVERY, ENGAGEMENTS, Feed

log = logging.getLogger("shortvideo.ingest")
FactBuilder = Callable[[DataFrame, dt.datetime], DataFrame]


@dataclass(frozen=True)
class EventFeed:
    """One landing feed and the fact table it fills."""

    feed: Feed
    table: TableSpec
    to_facts: FactBuilder
    id_key: str  # the fact table's surrogate key of event_id


def event_feeds(conf: Conf) -> dict[str, EventFeed]:
    engagement_keys = {t.engagement_type: t.key for t in conf.engagement_types}
    buckets = user_buckets(conf)
    return {
        "engagements": EventFeed(
            ENGAGEMENTS,
            TABLES["fact_content_engagements"],
            lambda valid, at: to_engagement_facts(valid, engagement_keys, at).transform(with_user_bucket, buckets),
            "engagement_id",
        ),
        "discovery": EventFeed(
            DISCOVERY,
            TABLES["fact_discovery_events"],
            lambda valid, at: to_discovery_facts(valid, at).transform(with_user_bucket, buckets),
            "discovery_id",
        ),
    }


def build_parser() -> cli.OneLineParser:
    parser = cli.base_parser("ingest", "Stream landing files into the Delta fact tables.")
    parser.add_argument("--landing", type=cli.existing_dir, help="landing zone (default: the environment's)")
    parser.add_argument("--lake", help="lake root (default: the environment's)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="process what is there, then exit (default)")
    mode.add_argument("--continuous", action="store_true", help="keep running with a processing-time trigger")
    parser.add_argument("--feeds", nargs="+", choices=FEEDS, help="limit to these feeds")
    parser.add_argument("--source", choices=["files", "kafka"], default="files",
                        help="landing files (default) or Kafka topics (conf [kafka])")
    parser.add_argument("--kafka-bootstrap", metavar="HOST:PORT[,...]",
                        help="Kafka bootstrap servers (default: the environment's kafka.bootstrap_servers)")
    parser.add_argument("--topics", nargs="+", type=feed_topic, metavar="FEED=TOPIC",
                        help="the topic of a feed (default: the environment's [kafka.topics])")
    return parser


class BatchWriter(LandingBatchWriter):
    """foreachBatch: judge the lines, de-duplicate, append every table of the batch exactly once."""

    job = "ingest"
    files = True  # the landing zone's files; KafkaBatchWriter reads records

    def __init__(self, spark: SparkSession, conf: Conf, event_feed: EventFeed, checkpoint: str) -> None:
        super().__init__(spark, conf, event_feed.feed.name, checkpoint)
        self.event_feed = event_feed
        self.sweeper = LandingSweeper(spark, conf, checkpoint) if self.files else NoLandingSweep()
        self._tombstones: DataFrame | None = None

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        started = utc_now()
        feed, lake = self.event_feed.feed, self.conf.lake
        ingested_at = started  # aware UTC: PySpark reads a naive datetime in the OS time zone
        step = time.monotonic()

        def lap(what: str) -> None:
            nonlocal step
            log.info("%s batch %s: %s in %.2fs", feed.name, batch_id, what, time.monotonic() - step)
            step = time.monotonic()

        # The erased users' tombstones, read once per batch (none before the first erasure).
        self._tombstones = read_tombstones(self.spark, self.conf)
        classified, stats, damaged = self._read_batch(batch, batch_id, started)
        lap("classified and cached")
        try:
            kept = ~F.col("is_blank") & ~F.col(ERASED_FLAG)
            valid = classified.filter(kept & F.col("reason").isNull())
            bad = classified.filter(kept & F.col("reason").isNotNull())
            erased = self._erased_counts(classified)
            delivered_by_date = {r["event_date"]: r["count"] for r in valid.groupBy("event_date").count().collect()}
            lap("dates counted")

            # The quarantine, the arrivals and the facts are written side by side, each retried
            # on its own after a commit conflict, so a retry never writes a committed table again.
            def write_quarantine() -> None:
                quarantine = to_quarantine_rows(bad, feed.name, ingested_at, batch_id).unionByName(
                    unreadable_file_rows(self.spark, damaged, feed.name, ingested_at, batch_id))
                append_once(quarantine, lake, TABLES["quarantine"], self.app_id, batch_id)
                failpoint("after_quarantine", batch_id)

            def write_arrivals() -> None:
                append_once(self._arrivals(delivered_by_date, batch_id, started), lake,
                            TABLES["ops_ingest_arrivals"], self.app_id, batch_id)

            def write_facts() -> int:
                if not delivered_by_date:
                    return 0
                failpoint_soon("during_facts", batch_id)
                # Built here, so a retry after a commit conflict reads the table as it is now. Not
                # an idempotent write: a replay finds its rows in the table (the de-duplication
                # against it), writes none and counts none accepted. A blind append (the table
                # read pinned), so an erasure's or an archive's MERGE of the same dates never
                # fails it.
                rows = append_counted(self._new_facts(valid, list(delivered_by_date), ingested_at), lake,
                                      self.event_feed.table)
                failpoint("after_facts", batch_id)
                return rows

            _, _, accepted = side_by_side(*[functools.partial(retry_on_conflict, write, self.retries)
                                            for write in (write_quarantine, write_arrivals, write_facts)])
            lap("quarantine, arrivals and facts written")

            # An unreadable file counts as one line read and quarantined (its record), so
            # lines_read = accepted + duplicates + quarantined + erased still holds.
            counts = {
                "files": stats["files"],
                "lines_read": stats["lines_read"] + len(damaged),
                "blank_lines": stats["blank_lines"],
                "accepted": accepted,
                "duplicates": stats["valid"] - erased["valid"] - accepted,
                "quarantined": stats["quarantined"] - erased["bad"] + len(damaged),
                "erased": erased["valid"] + erased["bad"],
                "unreadable_files": len(damaged),
            }
            append_once(self._batch_row(batch_id, counts, started), lake,
                        TABLES["ops_ingest_batches"], self.app_id, batch_id)
            lap("batch row written")
            failpoint("before_checkpoint", batch_id)  # Spark commits the batch to the checkpoint after this
            self.totals.update(counts)
            self.totals["batches"] += 1
        finally:
            classified.unpersist()

    def _erased_counts(self, classified: DataFrame) -> dict[str, int]:
        """Lines dropped as erased, valid and bad apart (no Spark work before any erasure)."""
        if self._tombstones is None:
            return {"valid": 0, "bad": 0}
        erased = ~F.col("is_blank") & F.col(ERASED_FLAG)
        row = classified.agg(F.count_if(erased & F.col("reason").isNull()).alias("valid"),
                             F.count_if(erased & F.col("reason").isNotNull()).alias("bad")).first()
        return row.asDict()

    def _classify(self, lines: DataFrame, started: dt.datetime) -> DataFrame:
        feed = self.event_feed.feed
        salt = self.conf.get("gdpr.salt") if self._tombstones is not None else ""
        return (
            lines.transform(with_blank_flag)
            .transform(classify_lines, feed, self.time_rules.at(started))
            .transform(with_erased_flag, self._tombstones, salt, feed.time_field)
            .withColumn("event_date", F.to_date(F.col(feed.time_field)))
            # Only a quarantined line needs its raw text: the cache stays a fraction of the input.
            .withColumn("value", F.when(F.col("reason").isNotNull(), F.col("value")))
            .persist(StorageLevel.MEMORY_AND_DISK)
        )

    def _read_batch(
        self, batch: DataFrame, batch_id: int, started: dt.datetime
    ) -> tuple[DataFrame, dict[str, int], dict[str, str]]:
        """The batch's lines judged and cached, their counts, and its unreadable files (path -> error).

        A batch of sound files costs nothing extra: the stream reads strictly, so a damaged file
        fails the first action. Then the batch's files (from the source log) are checked, and the
        lines of the readable ones, with those read before a file's damage, are read again.
        A file that vanished before Spark planned the batch gives no line and no error: when fewer
        files gave lines than the batch holds, the silent ones are checked too.
        """
        classified = self._classify(batch, started)
        files = batch_source_files(self.spark, self.checkpoint, batch_id)
        damaged: dict[str, str] | None = None
        try:
            stats = line_counts(classified)
        except Exception:
            classified.unpersist()
            damaged = unreadable_files(self.spark, files)
            if not damaged:
                raise
            log.warning("%s batch %s: unreadable files %s", self.event_feed.feed.name, batch_id, damaged)
            classified = self._classify(read_files_tolerantly(self.spark, files, damaged), started)
            stats = line_counts(classified)
        if damaged or len(files) > stats["files"]:
            with_lines = {r["source_file"] for r in classified.select("source_file").distinct().collect()}
            if damaged is None:
                damaged = unreadable_files(self.spark, [f for f in files if f not in with_lines])
            # `files` counts the files that gave a line: add the unreadable ones that gave none.
            stats = {**stats, "files": stats["files"] + len(set(damaged) - with_lines)}
        return classified, stats, damaged or {}

    def _new_facts(self, valid: DataFrame, dates: list[dt.date], ingested_at: dt.datetime) -> DataFrame:
        """The batch's fact rows, less repeat deliveries (within the batch and already loaded, hot or
        archived: the archive's partitions of the batch's dates, when it has the table)."""
        table, id_key = self.event_feed.table, self.event_feed.id_key
        event, in_dates = [id_key, "event_id"], F.col("event_date").isin(dates)
        loaded_ids = (
            read_pinned(self.spark, table_path(self.conf.lake, table))
            .where(in_dates)
            .select(*event)
        )
        archived = read_if_table(self.spark, table_path(self.conf.archive, table))
        if archived is not None:
            loaded_ids = loaded_ids.unionByName(archived.where(in_dates).select(*event))
        return drop_duplicate_deliveries(self.event_feed.to_facts(valid, ingested_at), loaded_ids, id_key)

    def _arrivals(self, delivered_by_date: dict[dt.date, int], batch_id: int, at: dt.datetime) -> DataFrame:
        today = at.date()
        rows = [
            (self.event_feed.feed.name, day, count, day < today, self.app_id, batch_id, at)
            for day, count in sorted(delivered_by_date.items())
        ]
        return self.spark.createDataFrame(rows, TABLES["ops_ingest_arrivals"].schema)

    def _batch_row(self, batch_id: int, counts: dict[str, int], started: dt.datetime) -> DataFrame:
        spec = TABLES["ops_ingest_batches"]
        row = {
            "feed": self.event_feed.feed.name,
            "app_id": self.app_id,
            "batch_id": batch_id,
            **counts,
            "started_at": started,
            "finished_at": utc_now(),
        }
        return self.spark.createDataFrame([tuple(row[c] for c in spec.columns)], spec.schema)


class KafkaBatchWriter(BatchWriter):
    """The same judgement of a topic's records: a record is a line, its source_file
    kafka:<topic>/<partition>/<offset>; there is no file to be unreadable, and `files` counts none."""

    files = False

    def _read_batch(
        self, batch: DataFrame, batch_id: int, started: dt.datetime
    ) -> tuple[DataFrame, dict[str, int], dict[str, str]]:
        classified = self._classify(batch, started)
        return classified, {**line_counts(classified), "files": 0}, {}


def leased(spark: SparkSession, conf: Conf, writer: BatchWriter):
    """foreachBatch: each micro-batch writes under a writer lease (a purge waits for it, and it for
    a purge); between batches the landing zone is swept of files past their retention."""
    def run(batch: DataFrame, batch_id: int) -> None:
        with writer_lease(spark, conf, f"ingest-{writer.event_feed.feed.name}"):
            writer(batch, batch_id)
        writer.sweeper.sweep()
    return run


def start_feed_stream(spark: SparkSession, conf: Conf, event_feed: EventFeed, continuous: bool,
                      source: str = "files"):
    name = event_feed.feed.name
    if source == "kafka":  # its own checkpoint: offsets, not files (a lake may be fed both ways)
        checkpoint = checkpoint_path(conf.lake, f"ingest_kafka_{name}")
        writer, lines = KafkaBatchWriter(spark, conf, event_feed, checkpoint), read_kafka_lines(spark, conf, name)
    else:
        checkpoint = checkpoint_path(conf.lake, f"ingest_{name}")
        writer, lines = BatchWriter(spark, conf, event_feed, checkpoint), read_landing_lines(spark, conf, name)
    stream = (
        lines
        .writeStream.queryName(f"ingest_{name}")
        .option("checkpointLocation", checkpoint)
        .foreachBatch(leased(spark, conf, writer))
    )
    if continuous:
        stream = stream.trigger(processingTime=f"{int(conf.get('ingest.trigger_seconds'))} seconds")
    else:
        stream = stream.trigger(availableNow=True)
    return stream.start(), writer


def prepare_lake(spark: SparkSession, conf: Conf, feeds: list[EventFeed]) -> None:
    for spec in [f.table for f in feeds] + [TABLES["quarantine"], TABLES["ops_ingest_batches"],
                                             TABLES["ops_ingest_arrivals"], TABLES["ops_stream_progress"]]:
        ensure_job_table(spark, conf, spec)


def main(argv: list[str] | None = None, spark: SparkSession | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        conf = load_conf(args.env, args.overrides + kafka_overrides(args.kafka_bootstrap, args.topics), landing=args.landing, lake=args.lake)
        micro_batch_bound(conf.section("ingest"))
    except ConfigError as error:
        cli.fail_usage(parser, str(error))
    configure_logging()
    report = JobReport("ingest")
    feeds = [event_feeds(conf)[name] for name in (args.feeds or conf.get("ingest.feeds"))]
    if args.source == "files":
        ensure_landing_dirs(conf, [f.feed.name for f in feeds])

    spark = spark or start_spark("ingest", conf, args.master)
    report.log_runs(RunLog(spark, conf, command_line(argv)))
    progress = ProgressRecorder(spark, conf, {f"ingest_{f.feed.name}": (f.feed.name, args.source) for f in feeds})
    try:
        prepare_lake(spark, conf, feeds)
        running = [start_feed_stream(spark, conf, f, args.continuous, args.source) for f in feeds]
    except Exception as error:  # e.g. an unwritable lake: one line, exit 1, nothing written
        progress.unregister()
        report.emit(status="failed", error=first_line(error))
        return cli.EXIT_FAILED

    queries = [query for query, _ in running]
    with stop_on_sigterm(spark, enabled=args.continuous) as stop_requested:
        failures = await_streams(queries, stop_requested, on_poll=progress.flush_if_due)
    progress.close(queries)

    writers = [writer for _, writer in running]
    if not failures:
        for w in writers:
            w.sweeper.sweep(force=True)
    report.add(**{name: sum((w.totals[name] for w in writers), 0) for name in STREAM_RUN_COUNTS})
    report.add(erased=sum((w.totals["erased"] for w in writers), 0))
    report.add(unreadable_files=sum((w.totals["unreadable_files"] for w in writers), 0))
    report.add(landing_files_deleted=sum(w.sweeper.deleted for w in writers))
    report.add(**{w.event_feed.feed.name: dict(w.totals) for w in writers})
    if failures:
        report.emit(status="failed", error="; ".join(failures))
        return cli.EXIT_FAILED
    report.emit()
    return cli.EXIT_OK


class _JvmTermHandler:
    """A sun.misc.SignalHandler (py4j callback): SIGTERM sent to the driver's JVM alone asks for a stop
    too, instead of starting the JVM's shutdown under the running queries."""

    def __init__(self, stop_requested: threading.Event) -> None:
        self.stop_requested = stop_requested

    def handle(self, signal) -> None:  # noqa: ARG002 (the Java interface's signature)
        self.stop_requested.set()

    class Java:
        implements = ["sun.misc.SignalHandler"]


@contextlib.contextmanager
def stop_on_sigterm(spark: SparkSession, enabled: bool):
    """Orchestrators stop a continuous ingest with SIGTERM, to the process group or to the JVM
    spark-submit runs. Either way the signal only sets an Event: the main thread stops the
    queries (a handler must not call into the JVM while the main thread waits inside a py4j call)."""
    stop_requested = threading.Event()
    if not enabled:
        yield stop_requested
        return
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: stop_requested.set())
    jvm = spark.sparkContext._jvm
    term = jvm.sun.misc.Signal("TERM")
    try:
        previous_jvm = jvm.sun.misc.Signal.handle(term, _JvmTermHandler(stop_requested))
    except Exception as error:  # e.g. a JVM started with -Xrs: the group's SIGTERM still reaches us
        log.warning("SIGTERM to the JVM alone will not stop the ingest cleanly: %s", first_line(error))
        previous_jvm = None
    try:
        yield stop_requested
    finally:
        if previous_jvm is not None:
            jvm.sun.misc.Signal.handle(term, previous_jvm)
        signal.signal(signal.SIGTERM, previous)


def await_streams(queries, stop_requested: threading.Event, poll_seconds: float = 1.0,
                  on_poll: Callable[[], None] | None = None) -> list[str]:
    """Wait for every stream; when one fails, stop the others (a batch that failed wrote nothing
    visible: its Delta commits are all-or-nothing and the next run replays it). When a stop is
    requested, each query is stopped between two micro-batches, from this (the main) thread.
    `on_poll` runs on this thread between waits (the progress recorder's flush)."""
    failures: list[str] = []
    pending = list(queries)
    while pending:
        if on_poll is not None:
            on_poll()
        if stop_requested.is_set() or failures:
            for query in pending:
                _stop_between_batches(query)
        for query in list(pending):
            try:
                finished = query.awaitTermination(poll_seconds)
            except Exception as error:
                failures.append(f"{query.name}: {first_line(error)}")
                finished = True
            if finished:
                pending.remove(query)
    return failures


def _stop_between_batches(query, patience_seconds: float = 120.0) -> None:
    """Stop a query once its running micro-batch (if any) has committed, so a stop never cuts one."""
    deadline = time.monotonic() + patience_seconds
    while query.isActive and query.status.get("isTriggerActive") and time.monotonic() < deadline:
        time.sleep(0.2)
    query.stop()


if __name__ == "__main__":
    sys.exit(main())
