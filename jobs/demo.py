"""demo: the whole pipeline on generated data, then a few analyst answers from Spark SQL.

Runs in one Spark application: generate (plain Python), ingest (--once), then SQL summaries.
Re-running it on the same work directory changes nothing (every step is idempotent).
"""

from __future__ import annotations

import sys
from pathlib import Path

from pyspark.sql import SparkSession

from jobs import generate, ingest
from jobs.common import cli
from jobs.common.config import Conf, ConfigError, load_conf
from jobs.common.lake import append_once, ensure_table, register_tables, table_path
from jobs.common.report import JobReport
from jobs.common.spark import start_spark
from jobs.sql import render
from jobs.transforms.dimensions import engagement_type_rows
from schemas import TABLES

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


def build_parser() -> cli.OneLineParser:
    parser = cli.base_parser("demo", "Generate, ingest and query a small lake end to end.")
    parser.add_argument("--workdir", help="where landing/ and lake/ go (default: conf demo.workdir)")
    return parser


def ensure_engagement_types(spark: SparkSession, conf: Conf) -> None:
    """The demo's joins need dim_engagement_type; the dims job (a later stage) owns it for real."""
    spec = TABLES["dim_engagement_type"]
    ensure_table(spark, conf.lake, spec)
    if spark.read.format("delta").load(table_path(conf.lake, spec)).limit(1).count() == 0:
        append_once(engagement_type_rows(spark, conf.engagement_types), conf.lake, spec, "demo-engagement-types", 0)


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

    generated = generate.main([
        *common, "--landing", landing, "--days", str(demo["days"]),
        "--events-per-day", str(demo["events_per_day"]), "--users", str(demo["users"]), "--seed", str(demo["seed"]),
    ])
    if generated != cli.EXIT_OK:
        return generated
    spark = spark or start_spark("demo", conf, args.master)
    ingested = ingest.main([*common, "--landing", landing, "--lake", lake, "--once"], spark=spark)
    if ingested != cli.EXIT_OK:
        return ingested

    lake_conf = load_conf(args.env, args.overrides, lake=lake)
    ensure_engagement_types(spark, lake_conf)
    register_tables(spark, lake)
    for title, query in SUMMARIES.items():
        result = spark.sql(query)
        sys.stdout.write(f"\n== {title}\n")
        sys.stdout.write(render(result.columns, [tuple(r) for r in result.collect()], "table"))
    report.add(workdir=str(workdir), landing=landing, lake=lake)
    report.emit()
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
