"""sql: Spark SQL over the lake, every table registered under its own name, with the saved views
of analytics/views/ and, for each archived fact table, `<table>_archive` and `<table>_all` (hot plus
archive, every event once: jobs/common/views.register_archive_views).

Results go to stdout (or --output) as an aligned table, CSV or JSON lines; the job's final JSON
status line follows them, as for every job.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import sys
from pathlib import Path
from typing import Any, Sequence

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from jobs.common import cli
from jobs.common.config import ConfigError, load_conf
from jobs.common.lake import register_tables
from jobs.common.report import JobReport, configure_logging, first_line
from jobs.common.spark import start_spark
from jobs.common.views import register_archive_views, register_views

FORMATS = ("table", "csv", "json")


def build_parser() -> cli.OneLineParser:
    parser = cli.base_parser("sql", "Run Spark SQL with every lake table registered under its own name.",
                             parser_class=cli.LakeParser)
    parser.add_argument("--lake", help="lake root (default: the environment's)")
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    parser.add_argument("--limit", type=cli.positive_int, default=1000, help="most rows printed (default 1000)")
    parser.add_argument("--output", help="write the result here instead of stdout")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("query", nargs="?", help="the SQL text")
    source.add_argument("--file", type=cli.existing_file, help="a .sql file (statements separated by ';')")
    return parser


def split_statements(sql_text: str) -> list[str]:
    """Split on ';' outside quotes and comments; the last statement's result is printed."""
    statements, current, quote, i = [], [], None, 0
    while i < len(sql_text):
        char = sql_text[i]
        if quote:
            current.append(char)
            if char == "\\" and quote != "`" and i + 1 < len(sql_text):
                current.append(sql_text[i + 1])  # Spark SQL's backslash escape inside a string
                i += 1
            elif char == quote:
                quote = None
        elif char in ("'", '"', "`"):
            quote = char
            current.append(char)
        elif sql_text.startswith("--", i):
            end = sql_text.find("\n", i)
            i = len(sql_text) if end == -1 else end
            continue
        elif sql_text.startswith("/*", i):
            end = sql_text.find("*/", i + 2)
            end = len(sql_text) if end == -1 else end + 2
            current.append(sql_text[i:end])  # kept: Spark reads it as a comment
            i = end
            continue
        elif char == ";":
            statements.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    statements.append("".join(current))
    return [s.strip() for s in statements if s.strip()]


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _utc(value: Any, data_type: T.DataType) -> Any:
    """PySpark's collect() gives a timestamp as a naive datetime in this process's time zone; the
    lake's timestamps are UTC instants, so they are shown in UTC whatever the host's zone."""
    if value is None:
        return None
    if isinstance(data_type, T.TimestampType):
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    if isinstance(data_type, T.ArrayType):
        return [_utc(v, data_type.elementType) for v in value]
    if isinstance(data_type, T.StructType):
        return tuple(_utc(v, f.dataType) for v, f in zip(value, data_type.fields))
    if isinstance(data_type, T.MapType):
        return {_utc(k, data_type.keyType): _utc(v, data_type.valueType) for k, v in value.items()}
    return value


def collect_rows(result: DataFrame, limit: int) -> list[tuple]:
    """At most `limit` rows of a query, its timestamps in UTC."""
    fields = result.schema.fields
    return [tuple(_utc(v, f.dataType) for v, f in zip(row, fields)) for row in result.limit(limit).collect()]


def render(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str) -> str:
    if fmt == "json":
        return "".join(json.dumps(dict(zip(columns, map(_plain, row))), default=str) + "\n" for row in rows)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([["" if v is None else _plain(v) for v in row] for row in rows])
        return buffer.getvalue()
    cells = [[("NULL" if v is None else str(_plain(v))) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    body = [line, "| " + " | ".join(c.ljust(w) for c, w in zip(columns, widths)) + " |", line]
    body += ["| " + " | ".join(v.ljust(w) for v, w in zip(r, widths)) + " |" for r in cells]
    body.append(line)
    return "\n".join(body) + "\n"


def run_statements(spark: SparkSession, statements: list[str]) -> DataFrame:
    result = None
    for statement in statements:
        result = spark.sql(statement)
    assert result is not None
    return result


def main(argv: list[str] | None = None, spark: SparkSession | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        conf = load_conf(args.env, args.overrides, lake=args.lake)
    except ConfigError as error:
        cli.fail_usage(parser, str(error))
    sql_text = Path(args.file).read_text(encoding="utf-8") if args.file else args.query
    statements = split_statements(sql_text)
    if not statements:
        cli.fail_usage(parser, "no SQL statement given")

    configure_logging()
    report = JobReport("sql")
    spark = spark or start_spark("sql", conf, args.master)
    tables = register_tables(spark, conf.lake)
    views = register_archive_views(spark, conf.lake, conf.archive) + register_views(spark, conf=conf)
    try:
        result = run_statements(spark, statements)
        rows = collect_rows(result, args.limit + 1)
    except Exception as error:  # an analyst's SQL error: one line, exit 1
        report.add(tables=len(tables), views=len(views))
        report.emit(status="failed", error=first_line(error))
        return cli.EXIT_FAILED
    truncated = len(rows) > args.limit
    text = render(result.columns, rows[: args.limit], args.format)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    if truncated:  # after the rows (spark-submit merges stderr into stdout), before the status line
        sys.stdout.flush()
        sys.stderr.write(f"sql: output cut at {args.limit} rows (--limit)\n")
        sys.stderr.flush()
    report.add(tables=len(tables), views=len(views), rows=min(len(rows), args.limit), truncated=truncated)
    report.emit()
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
