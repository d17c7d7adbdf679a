"""report: one self-contained HTML page of charts for the analysts' main questions.

Each section is a saved view (analytics/views/) or a model query (analytics/*.sql), read with
Spark over the lake as of --date (default: the latest day in fact_content_performance), collected
(aggregates: small) and drawn with Plotly (jobs/common/charts.py). The page needs no network to
open: plotly.js is inlined once. A new view becomes a section by adding one `Section` to SECTIONS.

As of --date: the fact tables hold only their days up to it, and CURRENT_DATE in a model query's
text stands for it, so the report of a past day shows what the lake said then about the facts
(dimensions, consent and moderation are as they are now).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import sys
import time
from pathlib import Path

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.common import cli
from jobs.common.charts import Drawn, Section, render_page
from jobs.common.config import ConfigError, absolute, load_conf
from jobs.common.lake import register_tables
from jobs.common.report import JobReport, configure_logging, first_line
from jobs.common.spark import start_spark
from jobs.common.views import ANALYTICS_DIR, SUPPRESSED_SUFFIX, register_archive_views, register_views
from jobs.sql import collect_rows, run_statements, split_statements
from schemas import TABLES

REPORT_TITLE = "Short-video analytics report"
DATE_COLUMN = "event_date"  # the fact tables' day (their partition)
log = logging.getLogger("shortvideo.report")
CURRENT_DATE = re.compile(r"\bCURRENT_DATE\b(\s*\(\s*\))?", re.IGNORECASE)

SECTIONS: tuple[Section, ...] = (
    Section("Trending and viral content, last 48 hours", "trending_content.sql", "bar",
            x="content_id", value="engagement_score", series="content_status", order_by="engagement_score",
            limit=20, explanation="The data model's trending query as of the report's day: the videos a trending "
            "list may show, by engagement score, Viral above 10x and Trending above 5x their creator's average."),
    Section("Completion rate by category", "completion_rate_by_category", "line",
            x="event_date", value="completion_rate", series="category", since_days=30,
            explanation="Per day and category, the share of a video viewers watch (weighted by qualifying "
            "views), the last 30 days."),
    Section("Hashtag performance", "hashtag_performance", "bar",
            x="hashtag", value="score_per_video_day", order_by="engagement_score", limit=20,
            explanation="The hashtags with the most engagement: mean engagement score per video and day, "
            "every day up to the report's."),
    Section("Effect performance", "effect_performance", "bar",
            x="effect", value="score_per_video_day", order_by="engagement_score", limit=20,
            explanation="Effects (filters), and videos with none: mean engagement score per video and day, "
            "every day up to the report's."),
    Section("Creator tier mix, last 30 days", "creator_tier_analysis.sql", "bar",
            x="creator_tier", value="creator_count", suppressed_column="groups_suppressed",
            explanation="The data model's creator tier query: active creators per tier (tiers by followers "
            "and engagement consistency)."),
    Section("Creator tier progression", "creator_tier_progression", "heatmap",
            x="to_tier", series="from_tier", value="creators",
            explanation="Creators who moved from one tier (rows) to another (columns), all history."),
    Section("Discovery click-through rate by source and feed position", "discovery_effectiveness", "bar",
            x="discovery_source", value="click_through_rate", series="position_band",
            explanation="Share of impressions clicked through, by discovery source and position band in the "
            "feed, every day up to the report's."),
    Section("Click-through rate by feed position", "discovery_ctr_by_position", "bar",
            x="position_bucket", value="ctr", series="discovery_source", order_by="position_from", ascending=True,
            explanation="Share of impressions clicked through at each position of the feed (0 is the top), "
            "per discovery source."),
    Section("A/B experiments: click-through rate against control", "ab_experiment_results", "bar",
            x="variant", value="ctr_difference", series="experiment_id", error_low="ci_lower", error_high="ci_upper",
            explanation="Each variant's click-through rate minus its experiment's control, with the 95% "
            "confidence interval (two-proportion z-test); an interval clear of 0 is significant."),
    Section("Personalization: for you against following", "personalization_ctr", "line",
            x="event_date", value="ctr", series="discovery_source,user_group", since_days=30,
            explanation="Daily click-through rate of the for-you and following feeds, for new users "
            "(registered under 7 days before) and established ones, the last 30 days."),
    Section("Retention by weekly sign-up cohort", "retention_cohorts", "line",
            x="cohort_week", value="retention_week_1,retention_week_2,retention_week_4",
            explanation="Share of each week's new users active 1, 2 and 4 weeks after signing up (a week the "
            "lake does not cover yet for the whole cohort is left out)."),
    Section("Engagement per active user", "engagement_trends", "line",
            x="event_date", value="engagements_per_active_user", since_days=30,
            explanation="Engagements per active user and day, the last 30 days."),
    Section("Diversity: echo chambers per week", "echo_chamber_by_week", "bar",
            x="iso_week", value="echo_chamber_share", order_by="week_start", ascending=True,
            explanation="Share of active users (10 or more qualifying views in the week) whose favourite "
            "category holds over 80% of their views."),
    Section("Feature adoption by upload day", "feature_adoption", "line",
            x="upload_date", value="share_with_effect,share_with_music,share_with_hashtag",
            since_days=30, date_column="upload_date",
            explanation="Share of each day's new videos with an effect, with music, with a hashtag, the last "
            "30 days."),
    Section("Moderation: videos removed per day and category", "moderation_by_day_category", "bar",
            x="removal_date", value="removed_videos", series="category", order_by="removal_date", ascending=True,
            since_days=30, date_column="removal_date",
            explanation="Videos removed by moderation per day of removal and category, the last 30 days."),
)


class ReportParser(cli.LakeParser):
    def check_arguments(self, parsed) -> None:
        if parsed.out and not Path(parsed.out).resolve().parent.is_dir():
            self.error(f"directory of --out '{parsed.out}' does not exist")


def build_parser() -> cli.OneLineParser:
    parser = cli.base_parser("report", "Write one self-contained HTML page of charts from the lake's views.",
                             parser_class=ReportParser)
    parser.add_argument("--lake", help="lake root (default: the environment's)")
    parser.add_argument("--date", type=cli.iso_date,
                        help="the report's day YYYY-MM-DD (default: the latest in fact_content_performance)")
    parser.add_argument("--out", help="the HTML file to write (default: conf report.out)")
    return parser


def latest_day(spark: SparkSession) -> dt.date | None:
    if not spark.catalog.tableExists("fact_content_performance"):
        return None
    return spark.table("fact_content_performance").agg(F.max(DATE_COLUMN)).first()[0]


def cut_facts_at(spark: SparkSession, names: list[str], day: dt.date) -> None:
    """Each registered fact table (and its archive views) as of `day`: its days up to it only."""
    fact_tables = {name for name, spec in TABLES.items() if spec.kind == "fact"}
    for name in names:
        if name.split("_archive")[0].removesuffix("_all") in fact_tables:
            facts = spark.table(name)
            if DATE_COLUMN in facts.columns:
                facts.where(F.col(DATE_COLUMN) <= F.lit(day)).createOrReplaceTempView(name)


def read_source(spark: SparkSession, section: Section, day: dt.date) -> DataFrame:
    if section.source.endswith(".sql"):
        text = (ANALYTICS_DIR / section.source).read_text(encoding="utf-8")
        return run_statements(spark, split_statements(CURRENT_DATE.sub(f"DATE'{day.isoformat()}'", text)))
    return spark.table(section.source)


def section_rows(spark: SparkSession, section: Section, day: dt.date,
                 default_limit: int) -> tuple[list[str], list[tuple]]:
    rows = read_source(spark, section, day)
    if section.since_days is not None:
        rows = rows.where(F.col(section.date_column) > F.lit(day - dt.timedelta(days=section.since_days)))
    if section.order_by:
        rank = F.col(section.order_by)
        rows = rows.orderBy(rank.asc_nulls_last() if section.ascending else rank.desc_nulls_last(), F.col(section.x))
    return rows.columns, collect_rows(rows, section.limit or default_limit)


def suppressed_count(spark: SparkSession, section: Section, columns: list[str], rows: list[tuple],
                     views: list[str]) -> int | None:
    """How many groups of users the section's source left out: its `<view>_suppressed`, or the
    column a model query says it in (None when the source does not say)."""
    if section.suppressed_column:
        return int(rows[0][columns.index(section.suppressed_column)]) if rows else None
    if section.source + SUPPRESSED_SUFFIX not in views:
        return None
    return int(spark.table(section.source + SUPPRESSED_SUFFIX).first()["suppressed_groups"])


def draw_section(spark: SparkSession, section: Section, day: dt.date, views: list[str], default_limit: int) -> Drawn:
    started = time.monotonic()
    if not section.source.endswith(".sql") and section.source not in views:
        return Drawn(section, [], [], unavailable=f"the lake has no tables for {section.source} yet")
    try:
        columns, rows = section_rows(spark, section, day, default_limit)
    except AnalysisException as error:  # a young lake without a table the model query reads
        return Drawn(section, [], [], unavailable=first_line(error))
    drawn = Drawn(section, columns, rows, suppressed=suppressed_count(spark, section, columns, rows, views))
    log.info("section %s: %d rows in %.1f s", section.source, len(rows), time.monotonic() - started)
    return drawn


def draw_sections(spark: SparkSession, day: dt.date, views: list[str], default_limit: int) -> list[Drawn]:
    return [draw_section(spark, section, day, views, default_limit) for section in SECTIONS]


def main(argv: list[str] | None = None, spark: SparkSession | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        conf = load_conf(args.env, args.overrides, lake=args.lake)
        settings, k = conf.section("report"), int(conf.get("analytics.k_anonymity"))
        out = Path(absolute(args.out or conf.get("report.out")))
    except ConfigError as error:
        cli.fail_usage(parser, str(error))
    if not out.parent.is_dir():
        cli.fail_usage(parser, f"directory of the report '{out}' does not exist")

    configure_logging()
    report = JobReport("report")
    spark = spark or start_spark("report", conf, args.master)
    tables = register_tables(spark, conf.lake)
    archived = register_archive_views(spark, conf.lake, conf.archive)
    day = args.date or latest_day(spark)
    if day is None:
        report.emit(status="failed", error="fact_content_performance has no day (run daily first), or give --date")
        return cli.EXIT_FAILED
    cut_facts_at(spark, tables + archived, day)
    views = register_views(spark, k, conf)
    log.info("lake as of %s: %d tables, %d views registered", day, len(tables), len(views))
    drawn = draw_sections(spark, day, views, int(settings["max_rows"]))
    generated = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    facts = [f"Lake {conf.lake}, as of {day.isoformat()} (UTC days); written {generated}.",
             f"Groups of fewer than {k} distinct users are left out of every chart (k-anonymity)."]
    out.write_text(render_page(REPORT_TITLE, facts, drawn, k, int(settings["chart_height"])), encoding="utf-8")
    report.add(date=day.isoformat(), sections=len(drawn), charts=sum(1 for d in drawn if d.rows),
               no_data=[d.section.source for d in drawn if not d.rows], rows=sum(len(d.rows) for d in drawn),
               out=str(out))
    report.emit()
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
