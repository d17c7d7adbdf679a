"""The analysts' saved views (analytics/views/*.sql), registered in a session beside the tables."""

from __future__ import annotations

import graphlib
import logging
import re
from pathlib import Path

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.common.config import PROJECT_ROOT, Conf, load_conf
from jobs.common.lake import latest_version, read_table, table_path, table_version
from jobs.transforms.archive import union_hot_and_archive
from schemas import TABLES, TableSpec
from schemas.tables import ARCHIVED_TABLES

ANALYTICS_DIR = PROJECT_ROOT / "analytics"
VIEWS_DIR = ANALYTICS_DIR / "views"
log = logging.getLogger("shortvideo.views")


def view_files() -> list[Path]:
    return sorted(VIEWS_DIR.glob("*.sql"))


# metrics.md "Anonymization for aggregated reporting": a view whose query has this column groups
# users; it holds the group's distinct users, and groups under k of them are left out.
GROUP_USERS = "group_users"
SUPPRESSED_SUFFIX = "_suppressed"  # <view>_suppressed: one row, suppressed_groups (how many were left out)
K_VARIABLE = "k_anonymity"         # the session variable the model queries (analytics/*.sql) read
# The rules the view files share with daily, as session variables that the files read by name:
# (variable, SQL type, configuration key). The configuration stays the one place they are set.
RULE_VARIABLES = (
    ("qualifying_view_seconds", "DOUBLE", "daily.qualifying_view_seconds"),
    ("hidden_from_trending", "ARRAY<STRING>", "daily.hidden_from_trending"),
)
_VIEW_HEADER = re.compile(r"^\s*CREATE\s+OR\s+REPLACE\s+TEMPORARY\s+VIEW\s+(\w+)\s+AS\s+",
                          re.IGNORECASE | re.MULTILINE)


def declare_k(spark: SparkSession, k: int) -> None:
    """The session variable `k_anonymity` = k, for the model queries' own suppression."""
    spark.sql(f"DECLARE OR REPLACE VARIABLE {K_VARIABLE} INT DEFAULT {int(k)}")


def declare_rules(spark: SparkSession, conf: Conf) -> None:
    """The session variables of RULE_VARIABLES, from `conf`."""
    for name, sql_type, key in RULE_VARIABLES:
        spark.sql(f"DECLARE OR REPLACE VARIABLE {name} {sql_type} DEFAULT {sql_literal(conf.get(key), sql_type)}")


def sql_literal(value: object, sql_type: str) -> str:
    """A configuration value (a number, or a list of strings) as a SQL literal of `sql_type`."""
    if isinstance(value, list):
        items = ", ".join("'" + str(item).replace("\\", "\\\\").replace("'", "\\'") + "'" for item in value)
        return f"CAST(ARRAY({items}) AS {sql_type})"
    return f"CAST({float(value)!r} AS {sql_type})"


def create_view(spark: SparkSession, name: str, text: str, k: int) -> list[str]:
    """Run a view file. A view that groups users (its query has `group_users`) is registered as its
    groups of at least k users, without that column, beside `<name>_suppressed`, the count of the
    groups left out; the query of all groups is never registered."""
    header = _VIEW_HEADER.search(text)
    if header is None or header.group(1) != name:
        raise ValueError(f"analytics/views/{name}.sql must be CREATE OR REPLACE TEMPORARY VIEW {name} AS ...")
    groups = spark.sql(text[header.end():])
    if GROUP_USERS not in groups.columns:
        spark.sql(text)
        return [name]
    enough = F.col(GROUP_USERS) >= F.lit(k)
    groups.where(enough).drop(GROUP_USERS).createOrReplaceTempView(name)
    groups.where(~enough).agg(F.count("*").alias("suppressed_groups")).createOrReplaceTempView(
        name + SUPPRESSED_SUFFIX)
    return [name, name + SUPPRESSED_SUFFIX]


_SQL_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)


def in_dependency_order(texts: dict[str, str]) -> list[str]:
    """The views' names, each after the views its text names (as a whole word). In the files' own
    order the first pass failed on 40 views whose dependencies came later: 6 s of Spark's analysis
    errors in a new session (and as many error lines in its log)."""
    queries = {name: _SQL_COMMENT.sub(" ", text) for name, text in texts.items()}  # a comment may name a view
    reads = {name: {other for other in texts if other != name and re.search(rf"\b{other}\b", query)}
             for name, query in queries.items()}
    try:
        return list(graphlib.TopologicalSorter(reads).static_order())
    except graphlib.CycleError:  # a name read as a word where it is not a view: the passes sort it out
        return sorted(texts)


def register_views(spark: SparkSession, k: int | None = None, conf: Conf | None = None) -> list[str]:
    """Create every saved view whose tables the lake has (a young lake may lack some), groups of
    users under k left out (`create_view`), and declare `k_anonymity` for the model queries and the
    rules' variables (RULE_VARIABLES) from `conf` (the default environment's when None).

    Views read other saved views (the consent and moderation rules live in opted_out_users,
    visible_content and trending_eligible_content): they are created after the views they name
    (`in_dependency_order`), and a view that fails is still tried again after the ones that succeed
    (passes go on while one registers a view), so an order read wrongly costs time, not a view.
    """
    conf = conf or load_conf()  # a caller without its configuration: the default environment's
    if k is None:
        k = int(conf.get("analytics.k_anonymity"))
    declare_k(spark, k)
    declare_rules(spark, conf)
    texts = {path.stem: path.read_text(encoding="utf-8") for path in view_files()}
    pending = {name: texts[name] for name in in_dependency_order(texts)}
    names: list[str] = []
    errors: dict[str, AnalysisException] = {}
    while pending:
        errors = {}
        for name, text in pending.items():
            try:
                names.extend(create_view(spark, name, text, k))
            except AnalysisException as error:
                errors[name] = error
        if len(errors) == len(pending):
            break
        pending = {name: pending[name] for name in errors}
    for name, error in errors.items():
        log.info("view %s not registered: %s", name, str(error).splitlines()[0])
    return names


ARCHIVE_VIEW_SUFFIX = "_archive"  # the archive's table, e.g. fact_content_engagements_archive
ALL_VIEW_SUFFIX = "_all"          # hot plus archive, every event once, e.g. fact_content_engagements_all


def register_archive_views(spark: SparkSession, lake: str, archive: str) -> list[str]:
    """For each archived fact table that the lake has: `<table>_archive` (the archive's table, when
    archive has made it) and `<table>_all` (hot plus archive, every event once).

    `<table>_all` is a snapshot taken now: the hot table's latest version is read first, then the
    archive's, and both are pinned. archive commits a partition to the archive before deleting it
    from hot, so an event absent from that hot version is in that (later) archive version, and an
    event in both (a move between its two commits, a repeat delivery that raced it) is shown once,
    from the archive.
    """
    names: list[str] = []
    for name in ARCHIVED_TABLES:
        snapshot = hot_and_archive(spark, lake, archive, TABLES[name])
        if snapshot is None:
            continue
        combined, archived = snapshot
        if archived is not None:
            archived.createOrReplaceTempView(name + ARCHIVE_VIEW_SUFFIX)
            names.append(name + ARCHIVE_VIEW_SUFFIX)
        combined.createOrReplaceTempView(name + ALL_VIEW_SUFFIX)
        names.append(name + ALL_VIEW_SUFFIX)
    return names


def hot_and_archive(spark: SparkSession, lake: str, archive: str,
                    spec: TableSpec) -> tuple[DataFrame, DataFrame | None] | None:
    """(hot plus archive with every event once, the archive alone or None): the hot table's latest
    version is read first, then the archive's, both pinned (see `register_archive_views`). None when
    the hot table does not exist."""
    hot_version = table_version(spark, lake, spec)
    if hot_version is None:
        return None
    hot = read_table(spark, lake, spec, hot_version)
    archive_version = latest_version(spark, table_path(archive, spec))
    if archive_version is None:
        return hot, None
    archived = read_table(spark, archive, spec, archive_version)
    return union_hot_and_archive(hot, archived, list(ARCHIVED_TABLES[spec.name])), archived


