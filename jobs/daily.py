"""daily: (re)compute fact_content_performance and fact_creator_analytics for whole UTC days.

A day reads only its own partition of fact_content_engagements, the performance rows of the
baseline window before it, and the dimensions. Each table's day is replaced in one Delta commit
(replaceWhere on the day's partition), so readers see the old day or the new one, never a mix.
Days of a range run in date order: a day's viral scores stand on the days before it.
`--pending` picks the days that received late engagements since they were last computed, and the
days computed while some of their videos were unknown to dim_content that has changed since.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys

from delta.tables import DeltaTable
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.common import cli
from jobs.common.config import Conf, ConfigError, load_conf
from jobs.common.landing import utc_now
from jobs.common.lake import conform, ensure_table, read_table, table_path, table_version
from jobs.common.report import JobReport, configure_logging, first_line
from jobs.common.spark import start_spark
from jobs.transforms.daily import (
    DailyRules,
    consenting_engagements,
    content_day_measures,
    creator_baselines,
    to_content_performance,
    to_creator_analytics,
    trending_lists,
)
from schemas import TABLES, TableSpec

log = logging.getLogger("shortvideo.daily")
ENGAGEMENT_COLUMNS = ("user_key", "content_key", "engagement_key", "watch_duration_seconds", "completion_percentage")
CONTENT_COLUMNS = ("content_key", "content_id", "creator_user_key", "upload_timestamp", "moderation_status",
                   "is_deleted")
NO_VERSION = -1  # ops_daily_runs.dim_content_version when there was no dim_content yet
OUTPUTS = ("fact_content_performance", "fact_creator_analytics", "ops_daily_runs")


class DailyParser(cli.LakeParser):
    """The day options' rules and the lake (it must hold fact_content_engagements) are checked with
    the arguments, so the launcher rejects them before any JVM starts."""

    required_table = "fact_content_engagements"

    def check_arguments(self, parsed) -> None:
        ranged = parsed.first is not None or parsed.last is not None
        if ranged and (parsed.first is None or parsed.last is None):
            self.error("--from and --to go together")
        if ranged and (parsed.date or parsed.pending):
            self.error("choose one of --date, --from/--to, --pending")
        if not ranged and not parsed.date and not parsed.pending:
            self.error("one of --date, --from/--to or --pending is required")
        if ranged and parsed.first > parsed.last:
            self.error(f"--from {parsed.first} is after --to {parsed.last}")


def build_parser() -> DailyParser:
    parser = cli.base_parser("daily", "(Re)compute the daily content and creator facts for whole days.",
                             parser_class=DailyParser)
    parser.add_argument("--lake", help="lake root (default: the environment's)")
    parser.add_argument("--from", dest="first", type=cli.iso_date, metavar="D", help="first day of a range")
    parser.add_argument("--to", dest="last", type=cli.iso_date, metavar="D", help="last day of a range")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--date", type=cli.iso_date, metavar="D", help="one day (YYYY-MM-DD)")
    which.add_argument("--pending", action="store_true", help="the days that received late data since computed")
    return parser


def days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def pending_days(spark: SparkSession, lake: str) -> list[dt.date]:
    """Days with late engagement arrivals after their last computation (or never computed), and
    days computed with videos unknown to dim_content, when dim_content has changed since."""
    runs = read_table(spark, lake, TABLES["ops_daily_runs"]).groupBy("event_date").agg(
        F.max("computed_at").alias("last_computed"),
        F.max_by("unattributed_content", "computed_at").alias("unattributed"),
        F.max_by("dim_content_version", "computed_at").alias("content_version"),
    )
    late = (
        read_table(spark, lake, TABLES["ops_ingest_arrivals"])
        .where((F.col("feed") == "engagements") & F.col("is_late"))
        .join(runs, on="event_date", how="left")
        .where(F.col("last_computed").isNull() | (F.col("ingested_at") > F.col("last_computed")))
        .select("event_date")
    )
    current_version = table_version(spark, lake, TABLES["dim_content"])
    current_version = NO_VERSION if current_version is None else current_version
    unresolved = runs.where((F.col("unattributed") > 0) & (F.col("content_version") < current_version))
    days = late.union(unresolved.select("event_date")).distinct().collect()
    return sorted(row["event_date"] for row in days)


def replace_day(frame: DataFrame, lake: str, spec: TableSpec, day: dt.date) -> None:
    """The day's partition replaced in one commit: readers see the old day or the new one."""
    (
        conform(frame, spec)
        .write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", f"event_date = DATE'{day.isoformat()}'")
        .save(table_path(lake, spec))
    )


def compute_day(spark: SparkSession, conf: Conf, rules: DailyRules, day: dt.date) -> dict:
    lake = conf.lake
    computed_at = utc_now()  # aware UTC: PySpark reads a naive datetime in the OS time zone
    content_version = table_version(spark, lake, TABLES["dim_content"])  # the version read is the one recorded
    content_table = read_table(spark, lake, TABLES["dim_content"], content_version)
    # The dimensions' few columns, cached: each is used several times below, and every use of a
    # Delta table would otherwise list its files again.
    content = content_table.select(*CONTENT_COLUMNS).persist(StorageLevel.MEMORY_AND_DISK)
    users = (read_table(spark, lake, TABLES["dim_users"]).select("user_key", "analytics_consent")
             .where(F.col("analytics_consent") == F.lit(False)).persist(StorageLevel.MEMORY_AND_DISK))
    performance = read_table(spark, lake, TABLES["fact_content_performance"])
    engagements = (
        read_table(spark, lake, TABLES["fact_content_engagements"])
        .where(F.col("event_date") == F.lit(day))
        .select(*ENGAGEMENT_COLUMNS)
    )
    cached = [content, users]
    try:
        measures = content_day_measures(consenting_engagements(engagements, users), rules).persist(
            StorageLevel.MEMORY_AND_DISK)
        cached.append(measures)
        window_start = day - dt.timedelta(days=rules.baseline_days)
        history = performance.where(F.col("event_date").between(F.lit(window_start), F.lit(day - dt.timedelta(days=1))))
        content_rows = to_content_performance(
            measures, content, creator_baselines(history.select("content_key", "engagement_score"), content),
            day, rules,
        ).persist(StorageLevel.MEMORY_AND_DISK)
        cached.append(content_rows)
        replace_day(content_rows, lake, TABLES["fact_content_performance"], day)
        day_before = performance.where(F.col("event_date") == F.lit(day - dt.timedelta(days=1)))
        trending = trending_lists(content_rows, day_before, content, rules)
        creator_rows = to_creator_analytics(measures, content, users, trending, day).persist(
            StorageLevel.MEMORY_AND_DISK)
        cached.append(creator_rows)
        replace_day(creator_rows, lake, TABLES["fact_creator_analytics"], day)

        read = engagements.count()
        counts = {
            "engagements_read": read,
            "engagements_excluded": read - (measures.agg(F.sum("events")).first()[0] or 0),
            "content_rows": content_rows.count(),
            "creator_rows": creator_rows.count(),
            "unattributed_content": measures.join(content, on="content_key", how="left_anti").count(),
        }
    finally:
        for frame in cached:
            frame.unpersist()
    run = {"event_date": day, "computed_at": computed_at, **counts, "dim_content_version": NO_VERSION if content_version is None else content_version}
    spec = TABLES["ops_daily_runs"]
    spark.createDataFrame([tuple(run[c] for c in spec.columns)], spec.schema).write.format("delta").mode(
        "append").save(table_path(lake, spec))
    log.info("daily %s: %s", day, counts)
    return counts


def main(argv: list[str] | None = None, spark: SparkSession | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        conf = load_conf(args.env, args.overrides, lake=args.lake)
        rules = DailyRules.from_conf(conf)
    except (ConfigError, KeyError, StopIteration, ValueError) as error:
        cli.fail_usage(parser, f"unusable configuration: {error}")
    configure_logging()
    report = JobReport("daily")

    spark = spark or start_spark("daily", conf, args.master)
    try:
        if not DeltaTable.isDeltaTable(spark, table_path(conf.lake, TABLES["fact_content_engagements"])):
            raise FileNotFoundError(f"no fact_content_engagements table under {conf.lake}: run ingest first")
        for name in OUTPUTS:
            ensure_table(spark, conf.lake, TABLES[name])
        if args.pending:
            days = pending_days(spark, conf.lake)
        elif args.date:
            days = [args.date]
        else:
            days = days_between(args.first, args.last)
        per_day = {day.isoformat(): compute_day(spark, conf, rules, day) for day in days}
    except Exception as error:  # one line; every day already written is whole, the failed one untouched
        report.emit(status="failed", error=first_line(error))
        return cli.EXIT_FAILED

    report.add(days=len(per_day), **{
        name: sum(counts[name] for counts in per_day.values())
        for name in ("engagements_read", "engagements_excluded", "content_rows", "creator_rows", "unattributed_content")
    })
    report.add(per_day=per_day)
    report.emit()
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
