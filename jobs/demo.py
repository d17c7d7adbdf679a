"""demo: the whole pipeline on generated data, then the analysts' answers from Spark SQL.

Runs in one Spark application: generate (plain Python), ingest (--once), dims, daily for the
generated days, then a few summaries and the data model's two example queries (analytics/*.sql),
and ends with the analysts' report (`report`: one HTML page of charts) in the work directory.
Re-running it on the same work directory leaves the same lake (every step is idempotent).
"""

from __future__ import annotations

import sys
from pathlib import Path

from pyspark.sql import SparkSession

import datetime as dt

from jobs import daily, dims, generate, ingest, report as report_job
from jobs.common import cli
from jobs.common.config import ConfigError, load_conf
from jobs.common.lake import register_tables
from jobs.common.report import JobReport
from jobs.common.spark import start_spark
from jobs.common.views import ANALYTICS_DIR, register_views
from jobs.sql import collect_rows, render, run_statements, split_statements

SUMMARIES = {
    "Rows per fact table and day": """
        SELECT 'fact_content_engagements' AS table_name, event_date, COUNT(*) AS row_count
        FROM fact_content_engagements GROUP BY event_date
        UNION ALL
        SELECT 'fact_discovery_events', event_date, COUNT(*) FROM fact_discovery_events GROUP BY event_date
        ORDER BY table_name, event_date""",
    "Quarantined lines by feed and reason": """
        SELECT feed, reason, COUNT(*) AS line_count FROM quarantine
        GROUP BY feed, reason ORDER BY feed, line_count DESC, reason""",
    "What each ingest batch did": """
        SELECT feed, batch_id, files, lines_read, accepted, duplicates, quarantined, blank_lines
        FROM ops_ingest_batches ORDER BY feed, started_at""",
    "Days that received data after they had ended (late)": """
        SELECT feed, event_date, SUM(rows) AS late_lines FROM ops_ingest_arrivals
        WHERE is_late GROUP BY feed, event_date ORDER BY feed, event_date""",
    "Engagements by type (qualifying views: watched >= 3 s)": """
        SELECT et.engagement_type, COUNT(*) AS events,
               COUNT_IF(et.engagement_type = 'view' AND f.watch_duration_seconds >= 3) AS qualifying_views
        FROM fact_content_engagements f
        JOIN dim_engagement_type et ON f.engagement_key = et.engagement_key
        GROUP BY et.engagement_type ORDER BY events DESC""",
}


EXAMPLE_QUERIES = {
    "Trending content, last 48 hours (data model example; analytics/trending_content.sql)": "trending_content.sql",
    "Creator tier analysis, last 30 days (data model example; analytics/creator_tier_analysis.sql)":
        "creator_tier_analysis.sql",
}
DEMO_ROWS = 15  # rows printed per answer
REPORT_FILE = "report.html"  # in the work directory


def build_parser() -> cli.OneLineParser:
    parser = cli.base_parser("demo", "Generate, ingest and query a small lake end to end.")
    parser.add_argument("--workdir", help="where landing/ and lake/ go (default: conf demo.workdir)")
    return parser


def main(argv: list[str] | None = None, spark: SparkSession | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        conf = load_conf(args.env, args.overrides)
    except ConfigError as error:
        cli.fail_usage(parser, str(error))
    demo = conf.section("demo")
    workdir = Path(args.workdir or demo["workdir"]).resolve()
    landing, lake = str(workdir / "landing"), str(workdir / "lake")
    common = ["--env", args.env, *[x for o in args.overrides for x in ("--set", o)]]
    report = JobReport("demo")

    first_day = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=int(demo["days"]))  # ends yesterday
    generated = generate.main([
        *common, "--landing", landing, "--days", str(demo["days"]), "--start-date", first_day.isoformat(),
        "--events-per-day", str(demo["events_per_day"]), "--users", str(demo["users"]), "--seed", str(demo["seed"]),
    ])
    if generated != cli.EXIT_OK:
        return generated
    spark = spark or start_spark("demo", conf, args.master)
    lake_args = ["--landing", landing, "--lake", lake]
    last_day = first_day + dt.timedelta(days=int(demo["days"]) - 1)
    for job, job_args in (
        (ingest, [*lake_args, "--once"]),
        (dims, lake_args),
        (daily, ["--lake", lake, "--from", first_day.isoformat(), "--to", last_day.isoformat()]),
    ):
        code = job.main([*common, *job_args], spark=spark)
        if code != cli.EXIT_OK:
            return code

    register_tables(spark, lake)
    register_views(spark, conf=conf)
    answers = {title: spark.sql(query) for title, query in SUMMARIES.items()}
    for title, path in EXAMPLE_QUERIES.items():
        answers[title] = run_statements(spark, split_statements((ANALYTICS_DIR / path).read_text(encoding="utf-8")))
    for title, result in answers.items():
        sys.stdout.write(f"\n== {title}\n")
        sys.stdout.write(render(result.columns, collect_rows(result, DEMO_ROWS), "table"))
    page = workdir / REPORT_FILE
    sys.stdout.write("\n")
    code = report_job.main([*common, "--lake", lake, "--out", str(page)], spark=spark)
    if code != cli.EXIT_OK:
        return code
    sys.stdout.write(f"\n== The analysts' report (open it in a browser): {page}\n")
    report.add(workdir=str(workdir), landing=landing, lake=lake, report=str(page))
    report.emit()
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
