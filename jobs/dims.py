"""dims: MERGE the user and content change feeds (CDC) into the dimensions and their history.

Each feed is read as a stream (trigger availableNow), so a run reads only the files that arrived
since the last one. Per micro-batch: bad lines go to the quarantine, each valid change is kept
once in the feed's change log (cdc_users / cdc_content), and the touched users' and videos'
current-state rows and history periods are derived again from their whole change log and
MERGEd in. Latest `updated_at` wins whatever the file order, and a replayed file changes nothing.
The quarantine, the change log, the dimension and the history are four commits: a crash between
them leaves the later tables behind, and the rerun replays the batch, which derives them again.
Then dim_engagement_type follows the configuration and dim_date covers the calendar.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from dataclasses import dataclass
from typing import Callable

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.common import cli
from jobs.common.config import Conf, ConfigError, load_conf
from jobs.common.erasure import read_erased_content, read_tombstones
from jobs.common.failpoints import failpoint
from jobs.common.landing import LandingBatchWriter, ensure_landing_dirs, micro_batch_bound, read_landing_lines, utc_now
from jobs.common.lake import (
    append_once,
    checkpoint_path,
    conform,
    insert_new_rows,
    read_table,
    retry_on_conflict,
    sync_rows,
    upsert_rows,
)
from jobs.common.lease import writer_lease
from jobs.common.maintenance import ensure_job_table
from jobs.common.report import STREAM_RUN_COUNTS, JobReport, configure_logging, first_line
from jobs.common.retention import sweep_landing
from jobs.common.runlog import RunLog, command_line
from jobs.common.spark import start_spark
from jobs.transforms.changes import (
    history_changes,
    to_content_changes,
    to_dim_content,
    to_dim_users,
    to_user_changes,
    to_user_history,
)
from jobs.transforms.dimensions import calendar_rows, engagement_type_rows
from jobs.transforms.erasure import ERASED_FLAG, with_erased_content_flag, with_erased_flag
from jobs.transforms.facts import to_quarantine_rows
from jobs.transforms.validation import classify_lines, line_counts, with_blank_flag
from schemas import TABLES, TableSpec
from schemas.landing import CONTENT, USERS, Feed

log = logging.getLogger("shortvideo.dims")


@dataclass(frozen=True)
class ChangeFeed:
    """A CDC feed, its change log, and the tables derived from the log."""

    feed: Feed
    key: str
    change_log: TableSpec
    to_changes: Callable[[DataFrame, dt.datetime], DataFrame]
    dimension: TableSpec
    to_dimension: Callable[[DataFrame], DataFrame]
    history: TableSpec | None = None
    to_history: Callable[[DataFrame], DataFrame] | None = None
    reads_tiers: bool = False  # dimension and history take the daily tiers too (to_dim_users' tier_days)
    erased_by_key: bool = False  # erased creators' videos are dropped by key too (ops_gdpr_erased_content)

    @property
    def tables(self) -> list[TableSpec]:
        return [t for t in (self.change_log, self.dimension, self.history) if t is not None]


CHANGE_FEEDS = {
    "users": ChangeFeed(USERS, "user_key", TABLES["cdc_users"], to_user_changes, TABLES["dim_users"], to_dim_users,
                        TABLES["dim_users_history"], to_user_history, reads_tiers=True),
    "content": ChangeFeed(CONTENT, "content_key", TABLES["cdc_content"], to_content_changes,
                          TABLES["dim_content"], to_dim_content, erased_by_key=True),
}
CHANGE_IDENTITY = ("updated_at", "change_id")


def build_parser() -> cli.OneLineParser:
    parser = cli.base_parser("dims", "MERGE user and content changes into the dimensions and their history.")
    parser.add_argument("--landing", type=cli.existing_dir, help="landing zone (default: the environment's)")
    parser.add_argument("--lake", help="lake root (default: the environment's)")
    parser.add_argument("--feeds", nargs="+", choices=list(CHANGE_FEEDS), help="limit to these feeds")
    return parser


class ChangeBatchWriter(LandingBatchWriter):
    """foreachBatch: quarantine the bad lines, log the new changes, re-derive what they touch.

    As in the ingest, a change of an erased user (a content change of an erased creator) made
    before the erasure request and arriving after it is dropped and counted as `erased`: it would
    bring the user back. Later changes are a returning user's.
    """

    job = "dims"

    def __init__(self, spark: SparkSession, conf: Conf, change_feed: ChangeFeed, checkpoint: str) -> None:
        super().__init__(spark, conf, change_feed.feed.name, checkpoint)
        self.change_feed = change_feed

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        started = utc_now()
        ingested_at = started  # aware UTC: PySpark reads a naive datetime in the OS time zone
        change_feed, lake = self.change_feed, self.conf.lake
        tombstones = read_tombstones(self.spark, self.conf)  # None before the first erasure
        salt = self.conf.get("gdpr.salt") if tombstones is not None else ""
        erased_content = read_erased_content(self.spark, self.conf) if change_feed.erased_by_key else None
        classified = (
            batch.transform(with_blank_flag)
            .transform(classify_lines, change_feed.feed, self.time_rules.at(started))
            .transform(with_erased_flag, tombstones, salt, change_feed.feed.time_field)
            .transform(with_erased_content_flag, erased_content, change_feed.feed.time_field)
            .persist(StorageLevel.MEMORY_AND_DISK)
        )
        try:
            stats = line_counts(classified)
            is_blank, is_bad, is_erased = F.col("is_blank"), F.col("reason").isNotNull(), F.col(ERASED_FLAG)
            erased = {"valid": 0, "bad": 0} if tombstones is None and erased_content is None else classified.agg(
                F.count_if(~is_blank & is_erased & ~is_bad).alias("valid"),
                F.count_if(~is_blank & is_erased & is_bad).alias("bad")).first().asDict()
            bad = classified.where(~is_blank & is_bad & ~is_erased)
            valid = classified.where(~is_blank & ~is_bad & ~is_erased)
            if stats["quarantined"] > erased["bad"]:
                append_once(to_quarantine_rows(bad, change_feed.feed.name, ingested_at, batch_id),
                            lake, TABLES["quarantine"], self.app_id, batch_id)
                failpoint("after_quarantine", batch_id)
            inserted = 0
            if stats["valid"] > erased["valid"]:
                changes = change_feed.to_changes(valid, ingested_at).persist(StorageLevel.MEMORY_AND_DISK)
                try:
                    inserted = retry_on_conflict(lambda: self._log_changes(changes), self.retries)
                    failpoint("after_change_log", batch_id)
                    # Every entity of the batch, not only those with new changes: a batch replayed
                    # after a crash finds its changes logged already and must still derive them.
                    touched = changes.select(change_feed.key).distinct()
                    retry_on_conflict(lambda: self._derive(touched, batch_id), self.retries)
                finally:
                    changes.unpersist()
            self.totals.update({
                "files": stats["files"],
                "lines_read": stats["lines_read"],
                "blank_lines": stats["blank_lines"],
                "quarantined": stats["quarantined"] - erased["bad"],
                "accepted": inserted,
                "duplicates": stats["valid"] - erased["valid"] - inserted,
                "erased": erased["valid"] + erased["bad"],
                "batches": 1,
            })
            log.info("%s batch %s: %s", change_feed.feed.name, batch_id, dict(self.totals))
        finally:
            classified.unpersist()

    def _log_changes(self, changes: DataFrame) -> int:
        spec = self.change_feed.change_log
        metrics = insert_new_rows(self.spark, self.conf.lake, spec, changes, [self.change_feed.key, *CHANGE_IDENTITY])
        return metrics["numTargetRowsInserted"]  # 0 when all were logged already

    def _derive(self, touched: DataFrame, batch_id: int) -> None:
        derive_from_log(self.spark, self.conf.lake, self.change_feed, touched, batch_id)


def tier_days(spark: SparkSession, lake: str, touched: DataFrame) -> DataFrame:
    """(user_key, event_date, creator_tier) of the touched users: the tiers daily derived (rows of a
    lake from before tiers have none and are left out)."""
    facts = read_table(spark, lake, TABLES["fact_creator_analytics"])
    if "creator_tier" not in facts.columns:
        facts = facts.withColumn("creator_tier", F.lit(None).cast("string"))
    return (facts.where(F.col("creator_tier").isNotNull()).select("user_key", "event_date", "creator_tier")
            .join(touched, on="user_key", how="left_semi"))


def not_held(wanted: DataFrame, held: DataFrame, spec: TableSpec) -> DataFrame:
    """The wanted rows that the table does not hold as they are: Delta rewrites every file a MERGE
    matches even when no row changes, so rows already held are left out of it (a rerun commits nothing)."""
    return conform(wanted, spec).exceptAll(conform(held, spec))


def derive_from_log(spark: SparkSession, lake: str, change_feed: ChangeFeed, touched: DataFrame,
                    batch_id: int | None = None) -> None:
    """The touched entities' dimension rows and history periods, from their whole change log (and,
    for users, their daily tiers: daily calls this too, so both jobs derive the same rows)."""
    key = change_feed.key
    cached: list[DataFrame] = []

    def once(frame: DataFrame) -> DataFrame:
        # Read by more than one Spark job (an emptiness check and its MERGE, or both derivations):
        # each would plan and compute the frame's deep plan again.
        cached.append(frame.persist(StorageLevel.MEMORY_AND_DISK))
        return frame

    try:
        all_changes = once(read_table(spark, lake, change_feed.change_log).join(touched, on=key, how="left_semi"))
        extra = [once(tier_days(spark, lake, touched))] if change_feed.reads_tiers else []
        dimension = change_feed.dimension
        current = read_table(spark, lake, dimension).join(touched, on=key, how="left_semi")
        changed = once(not_held(change_feed.to_dimension(all_changes, *extra), current, dimension))
        if not changed.isEmpty():
            upsert_rows(spark, lake, dimension, changed, [key])
        if batch_id is not None:
            failpoint("after_dimension", batch_id)
        if change_feed.history is not None and change_feed.to_history is not None:
            history = change_feed.history
            existing = read_table(spark, lake, history).join(touched, on=key, how="left_semi")
            wanted = change_feed.to_history(all_changes, *extra)
            stale = history_changes(wanted, existing, key).where(F.col("_stale"))
            changes = once(stale.unionByName(not_held(wanted, existing, history).withColumn("_stale", F.lit(False))))
            if not changes.isEmpty():
                sync_rows(spark, lake, history, changes, [key, "valid_from"])
    finally:
        for frame in cached:
            frame.unpersist()


def run_change_feed(spark: SparkSession, conf: Conf, change_feed: ChangeFeed) -> ChangeBatchWriter:
    name = change_feed.feed.name
    checkpoint = checkpoint_path(conf.lake, f"dims_{name}")
    writer = ChangeBatchWriter(spark, conf, change_feed, checkpoint)
    query = (
        read_landing_lines(spark, conf, name)
        .writeStream.queryName(f"dims_{name}")
        .option("checkpointLocation", checkpoint)
        .foreachBatch(writer)
        .trigger(availableNow=True)
        .start()
    )
    query.awaitTermination()
    return writer


def refresh_engagement_types(spark: SparkSession, conf: Conf) -> dict:
    """dim_engagement_type follows the configuration (weights are data)."""
    spec = TABLES["dim_engagement_type"]
    wanted = engagement_type_rows(spark, conf.engagement_types)
    if sorted(read_table(spark, conf.lake, spec).collect()) == sorted(wanted.collect()):
        return {}  # as configured already: no commit
    return upsert_rows(spark, conf.lake, spec, wanted, ["engagement_key"])


def fill_calendar(spark: SparkSession, conf: Conf, today: dt.date) -> int:
    """dim_date holds every hour from the earliest acceptable event to `calendar_days_ahead` days
    from today, so every hour a fact can carry is there before the fact is written."""
    spec = TABLES["dim_date"]
    first_day = dt.date.fromisoformat(conf.get("ingest.earliest_event")[:10])
    last_day = today + dt.timedelta(days=int(conf.get("dims.calendar_days_ahead")))
    wanted_hours = ((last_day - first_day).days + 1) * 24
    held = read_table(spark, conf.lake, spec).agg(F.count("*").alias("n"), F.min("full_date").alias("first"),
                                                  F.max("full_date").alias("last")).first()
    if held["n"] == wanted_hours and held["first"] == first_day and held["last"] == last_day:
        return 0
    metrics = insert_new_rows(spark, conf.lake, spec, calendar_rows(spark, first_day, last_day),
                              ["date_key"])
    return metrics["numTargetRowsInserted"]


def main(argv: list[str] | None = None, spark: SparkSession | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        conf = load_conf(args.env, args.overrides, landing=args.landing, lake=args.lake)
        micro_batch_bound(conf.section("ingest"))
    except ConfigError as error:
        cli.fail_usage(parser, str(error))
    configure_logging()
    report = JobReport("dims")
    feeds = [CHANGE_FEEDS[name] for name in (args.feeds or list(CHANGE_FEEDS))]
    ensure_landing_dirs(conf, [f.feed.name for f in feeds])

    spark = spark or start_spark("dims", conf, args.master)
    report.log_runs(RunLog(spark, conf, command_line(argv)))
    try:
        for spec in [t for f in feeds for t in f.tables] + [TABLES["quarantine"], TABLES["dim_date"],
                                                            TABLES["dim_engagement_type"]]:
            ensure_job_table(spark, conf, spec)
        with writer_lease(spark, conf, "dims"):  # a purge waits for the run, and the run for a purge
            writers = [run_change_feed(spark, conf, change_feed) for change_feed in feeds]
            refresh_engagement_types(spark, conf)
            hours_added = fill_calendar(spark, conf, utc_now().date())
        swept = sum(sweep_landing(spark, conf, checkpoint_path(conf.lake, f"dims_{f.feed.name}")) for f in feeds)
    except Exception as error:  # one line for the orchestrator; every commit above is atomic
        report.emit(status="failed", error=first_line(error))
        return cli.EXIT_FAILED

    counted = (*STREAM_RUN_COUNTS, "erased")
    report.add(**{name: sum((w.totals[name] for w in writers), 0) for name in counted})
    report.add(**{w.change_feed.feed.name: dict(w.totals) for w in writers})
    report.add(calendar_hours_added=hours_added, landing_files_deleted=swept)
    report.emit()
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
