"""daily: (re)compute fact_content_performance and fact_creator_analytics for whole UTC days.

The days of a run are computed together, in passes of up to `daily.days_per_pass` days in date
order (a pass stands on the facts the passes before it wrote; within a pass a day's baseline,
trending list and tier count the pass's own earlier days). A pass reads only its days' partitions of
fact_content_engagements (hot plus archive, so an archived day recomputes to the same rows), the
performance rows of the baseline window before them, the creator rows of the tier window before
them, and the dimensions. Each table's days are replaced in one Delta commit (replaceWhere on the
days' partitions): fact_content_performance first, then fact_creator_analytics (with each creator's
tier of the day), then the days' creators whose dim_users tier or tier history disagrees with the
new facts get both derived again (dims' `derive_from_log`: two MERGEs), then the pass's days
are recorded in ops_daily_runs. A reader between two of these commits sees the days' new performance
rows beside their old creator rows, or new tiers in the fact before the dimension; a crash there
leaves them so until the days are rerun. The record is a pass's last commit, so a day that was
pending stays pending until a pass over it completes, and its rerun derives the dimension again.
`--pending` picks the days whose inputs changed after their last computation (`pending_days`); the
tiers of the 27 days after a recomputed day are not picked (see `pending_days`).
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from typing import NamedTuple

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.common import cli
from jobs.common.config import Conf, ConfigError, load_conf
from jobs.common.failpoints import failpoint
from jobs.common.landing import utc_now
from jobs.common.lease import writer_lease
from jobs.common.lake import conform, is_table, read_table, retry_on_conflict, table_path, table_version
from jobs.common.maintenance import ensure_job_table
from jobs.common.report import JobReport, StepTimes, configure_logging, first_line
from jobs.common.runlog import RunLog, command_line
from jobs.common.spark import start_spark
from jobs.common.views import hot_and_archive
from jobs.transforms.daily import (
    DailyRules,
    baseline_history,
    consenting_engagements,
    content_day_measures,
    creator_baselines,
    other_days_and,
    to_content_performance,
    to_creator_analytics,
    trending_lists,
)
from jobs.dims import CHANGE_FEEDS, derive_from_log, tier_days
from jobs.transforms.tiers import TierRules, creators_with_stale_tiers, earlier_engaged_days, with_creator_tier
from schemas import TABLES, TableSpec

log = logging.getLogger("shortvideo.daily")
ENGAGEMENT_COLUMNS = ("user_key", "content_key", "engagement_key", "watch_duration_seconds", "completion_percentage")
CONTENT_COLUMNS = ("content_key", "content_id", "creator_user_key", "upload_timestamp", "moderation_status",
                   "is_deleted")
NO_VERSION = -1  # ops_daily_runs.dim_content_version when there was no dim_content yet
OUTPUTS = ("fact_content_performance", "fact_creator_analytics", "ops_daily_runs")
TIER_TABLES = ("cdc_users", "dim_users", "dim_users_history")  # the tiers' MERGE targets (dims' tables)


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


def pending_days(spark: SparkSession, lake: str, baseline_days: int) -> list[dt.date]:
    """The days whose facts are older than their inputs: days that received engagements after their
    last computation (late or not; never computed counts as before), and computed days that a
    content change arriving after their computation alters (`content_reach`).

    Tiers: a recomputed day whose creators' engaged days changed also changes the tiers of the
    computed days up to `tiers.window_days` - 1 after it, and a follower-count change the tier of
    the latest day; neither is picked here (it would recompute four weeks for every late event).
    Such tiers are brought up to date by `--from`/`--to` over the days after, or by the next
    computation of each day."""
    runs = read_table(spark, lake, TABLES["ops_daily_runs"]).groupBy("event_date").agg(
        F.max("computed_at").alias("last_computed"))
    by_events = (
        read_table(spark, lake, TABLES["ops_ingest_arrivals"])
        .where(F.col("feed") == "engagements")
        .groupBy("event_date")
        .agg(F.max("ingested_at").alias("changed_at"))
        .join(runs, on="event_date", how="left")
        .where(F.col("last_computed").isNull() | (F.col("changed_at") > F.col("last_computed")))
        .select("event_date")
    )
    by_content = (
        content_reach(spark, lake, baseline_days)
        .join(runs, on="event_date", how="inner")
        .where(F.col("changed_at") > F.col("last_computed"))
        .select("event_date")
    )
    days = by_events.union(by_content).distinct().collect()
    return sorted(row["event_date"] for row in days)


def content_reach(spark: SparkSession, lake: str, baseline_days: int) -> DataFrame:
    """(event_date, changed_at): the days whose facts depend on a video, with the time its latest
    change arrived. A video reaches the upload days it ever had (content_posted), each day it has a
    performance row and the day after (its viral score, its creator's row, the 48-hour trending
    lists) and, once its creator has changed, the baseline window after each such day."""
    changes = (
        read_table(spark, lake, TABLES["cdc_content"])
        .groupBy("content_key")
        .agg(
            F.max("ingested_at").alias("changed_at"),
            F.collect_set(F.to_date("upload_timestamp")).alias("upload_days"),
            (F.count_distinct("creator_user_id") > 1).alias("creator_changed"),
        )
    )
    posted = changes.select("changed_at", F.explode("upload_days").alias("event_date"))
    reach = F.when(F.col("creator_changed"), F.lit(baseline_days)).otherwise(F.lit(1))
    measured = (
        read_table(spark, lake, TABLES["fact_content_performance"])
        .select("content_key", F.col("event_date").alias("row_date"))
        .join(changes, on="content_key", how="inner")
        .select("changed_at",
                F.explode(F.sequence(F.col("row_date"), F.date_add(F.col("row_date"), reach))).alias("event_date"))
    )
    return posted.unionByName(measured)


def all_engagements(spark: SparkSession, conf: Conf) -> DataFrame:
    """fact_content_engagements, hot plus archive, every event once (empty before the first ingest)."""
    spec = TABLES["fact_content_engagements"]
    snapshot = hot_and_archive(spark, conf.lake, conf.archive, spec)
    return spark.createDataFrame([], spec.schema) if snapshot is None else snapshot[0]


def replace_days(frame: DataFrame, lake: str, spec: TableSpec, days: list[dt.date]) -> None:
    """The days' partitions replaced in one commit: readers see the old days or the new ones."""
    dates = ", ".join(f"DATE'{day.isoformat()}'" for day in days)
    (
        conform(frame, spec)
        .write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", f"event_date IN ({dates})")
        .save(table_path(lake, spec))
    )


def counts_by_day(frame: DataFrame, *measures: Column) -> dict[dt.date, tuple]:
    return {row[0]: tuple(row[1:]) for row in frame.groupBy("event_date").agg(*measures).collect()}


def computed_once(frame: DataFrame) -> DataFrame:
    """The frame's rows, computed now and kept (a local checkpoint), with no lineage left.

    A cached frame (persist) is dropped and computed again when a table its plan reads is
    written: the days' rows read the facts and dim_users that this job then replaces or MERGEs
    into, so every later use would run the whole day's computation again (and, dim_users having
    changed, could even count other rows). The kept blocks live on the executors: losing one
    fails the run, which a rerun repairs like any other failure."""
    return frame.localCheckpoint(eager=True)


class DayInputs(NamedTuple):
    """What a pass reads, opened once (each Delta table's snapshot loaded here, not at each use)."""

    content: DataFrame          # dim_content's few columns, cached, at `content_version`
    opted_out: DataFrame        # dim_users: the users without analytics consent, cached
    performance: DataFrame      # fact_content_performance, pinned at its version before the pass
    creators_before: DataFrame  # fact_creator_analytics, pinned likewise
    followers: DataFrame        # dim_users: follower counts (the tiers)
    engagements: DataFrame      # the pass's days of fact_content_engagements, hot plus archive
    content_version: int | None


def open_tables(spark: SparkSession, conf: Conf, days: list[dt.date]) -> DayInputs:
    lake = conf.lake
    content_version = table_version(spark, lake, TABLES["dim_content"])  # the version read is the one recorded
    content_table = read_table(spark, lake, TABLES["dim_content"], content_version)
    # The dimensions' few columns, cached: each is used several times below, and every use of a
    # Delta table would otherwise list its files again.
    content = content_table.select(*CONTENT_COLUMNS).persist(StorageLevel.MEMORY_AND_DISK)
    opted_out = (read_table(spark, lake, TABLES["dim_users"]).select("user_key", "analytics_consent")
                 .where(F.col("analytics_consent") == F.lit(False)).persist(StorageLevel.MEMORY_AND_DISK))
    # Pinned: the rows before the replacement are still read after it (the days' creators, whose tier may go).
    performance = read_table(spark, lake, TABLES["fact_content_performance"],
                             table_version(spark, lake, TABLES["fact_content_performance"]))
    creators_before = read_table(spark, lake, TABLES["fact_creator_analytics"],
                                 table_version(spark, lake, TABLES["fact_creator_analytics"]))
    followers = read_table(spark, lake, TABLES["dim_users"]).select("user_key", "follower_count")
    # Hot plus archive: a day that archive has moved (or is moving) is computed from the same events.
    engagements = (
        all_engagements(spark, conf)
        .where(F.col("event_date").isin(*days))
        .select("event_date", *ENGAGEMENT_COLUMNS)
    )
    return DayInputs(content, opted_out, performance, creators_before, followers, engagements, content_version)


def compute_days(spark: SparkSession, conf: Conf, rules: DailyRules, tier_rules: TierRules, days: list[dt.date],
                 index: int = 0, steps: StepTimes | None = None) -> dict[dt.date, dict]:
    """The days in one pass, in five commits; `index` (the pass's place in the run) names the crash
    points; `steps` gets the seconds of each step (the job's profile)."""
    step = (steps or StepTimes()).step
    lake = conf.lake
    computed_at = utc_now()  # aware UTC: PySpark reads a naive datetime in the OS time zone
    with step("open_tables"):
        content, opted_out, performance, creators_before, followers, engagements, content_version = open_tables(
            spark, conf, days)
    cached = [content, opted_out]
    try:
        with step("content_measures"):
            measures = computed_once(content_day_measures(consenting_engagements(engagements, opted_out), rules))
        with step("content_rows"):
            scores = other_days_and(baseline_history(performance, days, rules),
                                    measures.select("event_date", "content_key", "engagement_score"), days)
            content_rows = computed_once(to_content_performance(
                measures, content, creator_baselines(scores, content, days, rules), rules,
            ))
        with step("replace_content_performance"):
            replace_days(content_rows, lake, TABLES["fact_content_performance"], days)
        failpoint("daily_after_performance", index)
        with step("creator_rows"):
            # The 48-hour lists need each day's scores and the day before's.
            scored_days = sorted({day - dt.timedelta(days=1) for day in days} | set(days))
            viral_scores = other_days_and(performance.where(F.col("event_date").isin(*scored_days)),
                                          content_rows, days).select("event_date", "content_key", "viral_score")
            trending = trending_lists(viral_scores, content, days, rules)
            new_creator_rows = to_creator_analytics(measures, content, opted_out, trending, days).persist(
                StorageLevel.MEMORY_AND_DISK)
            cached.append(new_creator_rows)
            creator_history = other_days_and(
                creators_before.select(*new_creator_rows.columns), new_creator_rows, days)
            creator_rows = computed_once(
                new_creator_rows
                .transform(with_creator_tier, earlier_engaged_days(creator_history, days, tier_rules), followers,
                           tier_rules)
            )
        with step("replace_creator_analytics"):
            replace_days(creator_rows, lake, TABLES["fact_creator_analytics"], days)
        failpoint("daily_after_creators", index)
        with step("tiers"):
            # Computed once: the MERGEs' source materialization would plan and run the keys' lineage again.
            touched = computed_once(creator_rows.select("user_key")
                                    .union(creators_before.where(F.col("event_date").isin(*days)).select("user_key"))
                                    .distinct())
            retry_on_conflict(lambda: derive_stale_tiers(spark, lake, touched, days), tier_rules.write_retries)
        failpoint("daily_after_tiers", index)

        with step("counts"):
            read = counts_by_day(engagements, F.count("*"))
            measured = counts_by_day(measures, F.sum("events"))
            content_counts = counts_by_day(content_rows, F.count("*"))
            creator_counts = counts_by_day(creator_rows, F.count("*"))
            unattributed = counts_by_day(measures.join(content, on="content_key", how="left_anti"), F.count("*"))
    finally:
        for frame in cached:
            frame.unpersist()

    def count(by_day: dict, day: dt.date) -> int:
        return int(by_day.get(day, (0,))[0] or 0)

    per_day = {
        day: {
            "engagements_read": count(read, day),
            "engagements_excluded": count(read, day) - count(measured, day),
            "content_rows": count(content_counts, day),
            "creator_rows": count(creator_counts, day),
            "unattributed_content": count(unattributed, day),
        }
        for day in days
    }
    spec = TABLES["ops_daily_runs"]
    version = NO_VERSION if content_version is None else content_version
    runs = [{"event_date": day, "computed_at": computed_at, **counts, "dim_content_version": version}
            for day, counts in per_day.items()]
    with step("record_runs"):
        spark.createDataFrame([tuple(run[c] for c in spec.columns) for run in runs], spec.schema).write.format(
            "delta").mode("append").save(table_path(lake, spec))
    log.info("daily %s..%s: %s", days[0], days[-1], per_day)
    return per_day


def derive_stale_tiers(spark: SparkSession, lake: str, creators: DataFrame, days: list[dt.date]) -> None:
    """dims' derivation (dim_users and the tier history, from the change log and the facts' tiers)
    of the creators whose stored tiers the days' new facts contradict; the others would derive to
    the rows held already. The stale set is computed once, before the first MERGE changes the
    tables it compares."""
    stale = computed_once(creators_with_stale_tiers(
        creators, tier_days(spark, lake, creators), days,
        read_table(spark, lake, TABLES["dim_users"]), read_table(spark, lake, TABLES["dim_users_history"]),
    ))
    if not stale.isEmpty():
        derive_from_log(spark, lake, CHANGE_FEEDS["users"], stale)


def passes(days: list[dt.date], days_per_pass: int) -> list[list[dt.date]]:
    """The days in date order, cut into passes of at most `days_per_pass` (a pass stands on the
    facts the passes before it wrote)."""
    ordered = sorted(set(days))
    return [ordered[n:n + days_per_pass] for n in range(0, len(ordered), days_per_pass)]


def main(argv: list[str] | None = None, spark: SparkSession | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        conf = load_conf(args.env, args.overrides, lake=args.lake)
        rules = DailyRules.from_conf(conf)
        tier_rules = TierRules.from_conf(conf)
    except (ConfigError, KeyError, StopIteration, ValueError) as error:
        cli.fail_usage(parser, f"unusable configuration: {error}")
    configure_logging()
    report = JobReport("daily")
    steps = StepTimes()

    spark = spark or start_spark("daily", conf, args.master)
    report.log_runs(RunLog(spark, conf, command_line(argv)))
    try:
        if not is_table(spark, table_path(conf.lake, TABLES["fact_content_engagements"])):
            raise FileNotFoundError(f"no fact_content_engagements table under {conf.lake}: run ingest first")
        for name in OUTPUTS + TIER_TABLES:
            ensure_job_table(spark, conf, TABLES[name])
        if args.pending:
            days = pending_days(spark, conf.lake, rules.baseline_days)
        elif args.date:
            days = [args.date]
        else:
            days = days_between(args.first, args.last)
        with writer_lease(spark, conf, "daily"):  # a purge waits for the run, and the run for a purge
            per_day = {
                day.isoformat(): counts
                for index, days_of_pass in enumerate(passes(days, int(conf.get("daily.days_per_pass"))))
                for day, counts in compute_days(spark, conf, rules, tier_rules, days_of_pass, index, steps).items()
            }
    except Exception as error:  # one line; every day already written is whole, the failed one untouched
        report.emit(status="failed", error=first_line(error))
        return cli.EXIT_FAILED

    report.add(days=len(per_day), **{
        name: sum(counts[name] for counts in per_day.values())
        for name in ("engagements_read", "engagements_excluded", "content_rows", "creator_rows", "unattributed_content")
    })
    report.add(per_day=per_day, step_seconds=steps.rounded())
    report.emit()
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
