"""archive: move the raw event facts older than the hot retention to the archive, partition by partition.

For each table of schemas.ARCHIVED_TABLES and each of its event_date partitions before the cutoff
(today - ingest.hot_days, or --before D), two commits:

1. archive: MERGE the hot partition's rows into the table of the same name, schema and partitioning
   under the archive root, inserting only the events it does not hold yet (a replay inserts nothing);
2. hot: MERGE that deletes the hot partition's rows whose event the archive now holds, and only
   those: an event that a running ingest appends to the partition meanwhile stays hot (a DELETE by
   partition predicate would remove it unarchived) and moves with the next run.

A SIGKILL between or during the commits leaves each event in hot, in the archive, or in both (the
state between 1 and 2); a rerun completes the move, so every event ends exactly once. Readers use
the `<table>_all` views (jobs/common/views.py), which show an event in both places once. Each commit
is retried on conflicts with a concurrent writer (ingest, gdpr). Aggregates stay hot.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.common import cli
from jobs.common.config import Conf, ConfigError, load_conf
from jobs.common.failpoints import failpoint
from jobs.common.landing import utc_now
from jobs.common.lake import (
    delete_matching_rows,
    insert_new_rows,
    read_if_table,
    retry_on_conflict,
    table_path,
)
from jobs.common.lease import writer_lease
from jobs.common.maintenance import ensure_job_table
from jobs.common.report import JobReport, configure_logging, first_line
from jobs.common.runlog import RunLog, command_line
from jobs.common.spark import start_spark
from jobs.transforms.archive import archive_cutoff
from schemas import TABLES, TableSpec
from schemas.tables import ARCHIVED_TABLES

log = logging.getLogger("shortvideo.archive")


def build_parser() -> cli.OneLineParser:
    parser = cli.base_parser("archive", "Move raw event facts older than the hot retention to the archive.",
                             parser_class=cli.LakeParser)
    parser.add_argument("--lake", help="lake root (default: the environment's)")
    parser.add_argument("--before", type=cli.iso_date, metavar="D",
                        help="move the days before D (default: older than ingest.hot_days)")
    return parser


@dataclass
class Moved:
    """What one table's run moved."""

    partitions: int = 0
    rows_archived: int = 0  # inserted into the archive (0 for a partition a crashed run archived)
    rows_removed: int = 0   # deleted from hot, each held by the archive

    def as_report(self) -> dict[str, int]:
        return {"partitions": self.partitions, "rows_archived": self.rows_archived,
                "rows_removed": self.rows_removed}


class Archiver:
    """Moves partitions one by one; `moves` numbers them across tables for the failpoints."""

    def __init__(self, spark: SparkSession, conf: Conf) -> None:
        self.spark, self.conf = spark, conf
        self.retries = int(conf.get("archive.write_retries"))
        self.moves = 0

    def archive_table(self, spec: TableSpec, cutoff: dt.date) -> Moved:
        moved = Moved()
        hot = read_if_table(self.spark, table_path(self.conf.lake, spec))
        if hot is None:
            return moved
        old = hot.where(F.col("event_date") < F.lit(cutoff)).select("event_date").distinct()
        days = sorted(r["event_date"] for r in old.collect())
        if days:
            ensure_job_table(self.spark, self.conf, spec, self.conf.archive)
        for day in days:
            archived, removed = self.move_partition(spec, day)
            moved.partitions += 1
            moved.rows_archived += archived
            moved.rows_removed += removed
            log.info("%s %s: %s archived, %s removed from hot", spec.name, day, archived, removed)
        return moved

    def move_partition(self, spec: TableSpec, day: dt.date) -> tuple[int, int]:
        lake, archive, identity = self.conf.lake, self.conf.archive, list(ARCHIVED_TABLES[spec.name])
        in_day = F.col("event_date") == F.lit(day)
        partition = f"target.event_date = DATE'{day.isoformat()}'"

        def append() -> int:
            rows = self._read(lake, spec).where(in_day).dropDuplicates(identity)
            metrics = insert_new_rows(self.spark, archive, spec, rows, identity, target_filter=partition)
            return metrics["numTargetRowsInserted"]  # 0 when the archive held them all

        def remove() -> int:
            held = self._read(archive, spec).where(in_day)
            metrics = delete_matching_rows(self.spark, lake, spec, held, identity, target_filter=partition)
            return metrics["numTargetRowsDeleted"]

        archived = retry_on_conflict(append, self.retries)
        failpoint("archive_appended", self.moves)  # the partition's rows are in hot and in the archive
        removed = retry_on_conflict(remove, self.retries)
        failpoint("archive_removed", self.moves)
        self.moves += 1
        return archived, removed

    def _read(self, root: str, spec: TableSpec) -> DataFrame:
        return self.spark.read.format("delta").load(table_path(root, spec))


def hot_days(conf: Conf) -> int:
    value = conf.get("ingest.hot_days")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"ingest.hot_days must be a whole number of days, 0 or more (got {value!r})")
    return value


def main(argv: list[str] | None = None, spark: SparkSession | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        conf = load_conf(args.env, args.overrides, lake=args.lake)
        cutoff = archive_cutoff(utc_now().date(), hot_days(conf), args.before)
        conf.get("archive.write_retries")
    except ConfigError as error:
        cli.fail_usage(parser, str(error))
    configure_logging()
    report = JobReport("archive")
    report.add(before=cutoff.isoformat(), archive=conf.archive)

    spark = spark or start_spark("archive", conf, args.master)
    report.log_runs(RunLog(spark, conf, command_line(argv)))
    archiver = Archiver(spark, conf)
    moved: dict[str, Moved] = {}
    try:
        with writer_lease(spark, conf, "archive"):  # a purge waits for the move, and the move for a purge
            for name in ARCHIVED_TABLES:
                moved[name] = archiver.archive_table(TABLES[name], cutoff)
    except Exception as error:  # each commit is atomic: a rerun completes the move
        report.add(**{name: m.as_report() for name, m in moved.items()})
        report.emit(status="failed", error=first_line(error))
        return cli.EXIT_FAILED

    report.add(partitions=sum(m.partitions for m in moved.values()),
               rows=sum(m.rows_removed for m in moved.values()))
    report.add(**{name: m.as_report() for name, m in moved.items()})
    report.emit()
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
