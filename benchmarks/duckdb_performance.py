"""The single-node yardstick of the daily benchmark: DuckDB computes one day's
fact_content_performance from the lake's Parquet files, by the rules of metrics.md, and checks it
against the rows the Spark job wrote for that day.

    .venv/bin/python -m benchmarks.duckdb_performance --lake LAKE --date D

Which Parquet files make up a Delta table now is read from its log (`active_files`: the newest
complete checkpoint, then the JSON commits after it), outside the timed region. Timed: connect,
run the query, fetch the result into memory. Prints one JSON line (seconds, rows, equality).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import duckdb
import numpy as np

from jobs.common.config import load_conf
from jobs.transforms.daily import DailyRules, day_key
from schemas import TABLES

CHECKPOINT_FILE = re.compile(r"^(\d{20})\.checkpoint(?:\.(\d{10})\.(\d{10}))?\.parquet$")
COMMIT_FILE = re.compile(r"^(\d{20})\.json$")
PERFORMANCE_COLUMNS = TABLES["fact_content_performance"].columns
INTEGER_COLUMNS = ("content_key", "date_key", "total_views", "unique_viewers", "total_likes", "total_comments",
                   "total_shares", "total_saves", "engagement_score", "viral_score")
DOUBLE_COLUMNS = ("avg_watch_duration", "completion_rate")
TOLERANCE = 1e-9


def _newest_checkpoint(log_dir: Path) -> tuple[int, list[Path]]:
    """(version, files) of the newest classic checkpoint whose parts are all there; (-1, []) if none."""
    parts: dict[tuple[int, int], list[Path]] = {}
    for path in log_dir.iterdir():
        match = CHECKPOINT_FILE.match(path.name)
        if match:
            version, _, total = match.groups()
            parts.setdefault((int(version), int(total or 1)), []).append(path)
    complete = [(version, sorted(files)) for (version, total), files in parts.items() if len(files) == total]
    return max(complete, default=(-1, []))


def _file_path(table_dir: Path, path: str) -> str:
    if "://" in path or path.startswith("file:"):
        return unquote(urlparse(path).path)
    return str(table_dir / unquote(path))


def active_files(table_dir: Path) -> dict[str, dict]:
    """The table's current data files: path -> {"partition": {...}, "deletion_vector": bool}.

    A reader's log replay: the newest complete checkpoint (Parquet, read with DuckDB), then every
    JSON commit after it in order, adds and removes by path. Only classic checkpoints are read
    (this lake uses no v2 checkpoints); a commit missing from the chain is an error.
    """
    log_dir = table_dir / "_delta_log"
    version, checkpoint = _newest_checkpoint(log_dir)
    files: dict[str, dict] = {}
    if checkpoint:
        with duckdb.connect() as con:
            rows = con.execute(
                "SELECT add.path, add.partitionValues, add.deletionVector IS NOT NULL FROM read_parquet(?) "
                "WHERE add IS NOT NULL", [[str(p) for p in checkpoint]]).fetchall()
        for path, partition, has_dv in rows:
            files[_file_path(table_dir, path)] = {"partition": dict(partition or {}), "deletion_vector": has_dv}
    commits = sorted((int(m.group(1)), p) for p in log_dir.iterdir() if (m := COMMIT_FILE.match(p.name)))
    expected = version + 1
    for number, path in commits:
        if number <= version:
            continue
        if number != expected:
            raise RuntimeError(f"{log_dir}: commit {expected} is missing (next is {number})")
        expected += 1
        for line in path.read_text(encoding="utf-8").splitlines():
            action = json.loads(line) if line.strip() else {}
            if "add" in action:
                add = action["add"]
                files[_file_path(table_dir, add["path"])] = {
                    "partition": add.get("partitionValues") or {},
                    "deletion_vector": add.get("deletionVector") is not None,
                }
            elif "remove" in action:
                files.pop(_file_path(table_dir, action["remove"]["path"]), None)
    return files


def table_files(lake: Path, table: str, first: dt.date | None = None, last: dt.date | None = None) -> list[str]:
    """Active files of a table (of the event_date partitions first..last, when given). A file with
    a deletion vector would need Delta's reader: refused, so that DuckDB never counts deleted rows."""
    chosen = []
    for path, info in active_files(lake / table).items():
        if first is not None:
            day = dt.date.fromisoformat(info["partition"]["event_date"])
            if not first <= day <= last:
                continue
        if info["deletion_vector"]:
            raise RuntimeError(f"{path} has a deletion vector: DuckDB cannot read it as plain Parquet")
        chosen.append(path)
    return sorted(chosen)


def performance_sql(rules: DailyRules, day: dt.date) -> str:
    """fact_content_performance of `day` by metrics.md, as jobs/transforms/daily.py computes it.

    Parameters: $engagements (the day's files), $users, $content, $history (the baseline window's
    performance files). An empty history list must be given as a file-less relation (see `run`).
    """
    view_keys = ", ".join(str(k) for k in rules.view_keys)
    weights = " ".join(f"WHEN {t.key} THEN {t.weight}" for t in rules.types)
    counted = {name: rules.key(kind) for kind, name in
               (("like", "likes"), ("comment", "comments"), ("share", "shares"), ("save", "saves"))}
    type_counts = ",\n            ".join(
        f"count(*) FILTER (WHERE engagement_key = {key}) AS {name}" for name, key in counted.items())
    return f"""
    WITH opted_out AS (
        SELECT user_key FROM read_parquet($users) WHERE analytics_consent = false
    ),
    events AS (
        SELECT content_key, user_key, engagement_key, watch_duration_seconds, completion_percentage,
               engagement_key IN ({view_keys}) AS is_view,
               engagement_key IN ({view_keys}) AND watch_duration_seconds >= {rules.qualifying_view_seconds}
                   AS qualifying
        FROM read_parquet($engagements) ANTI JOIN opted_out USING (user_key)
    ),
    per_viewer AS (
        SELECT content_key, user_key,
            count(*) FILTER (WHERE qualifying) AS views,
            sum(watch_duration_seconds) FILTER (WHERE qualifying) AS watch_seconds,
            sum(completion_percentage / 100) FILTER (WHERE qualifying AND completion_percentage IS NOT NULL)
                AS completion_sum,
            count(*) FILTER (WHERE qualifying AND completion_percentage IS NOT NULL) AS completion_count,
            {type_counts},
            sum(CAST((CASE engagement_key {weights} END) * (CASE
                WHEN NOT is_view THEN 1
                WHEN qualifying AND completion_percentage > {rules.completion_bonus_above}
                    THEN {rules.completion_bonus_factor}
                WHEN qualifying THEN 1
                ELSE 0 END) AS BIGINT)) AS engagement_score
        FROM events GROUP BY content_key, user_key
    ),
    measures AS (
        SELECT content_key,
            sum(views) AS views, sum(watch_seconds) AS watch_seconds,
            sum(completion_sum) AS completion_sum, sum(completion_count) AS completion_count,
            {", ".join(f"sum({name}) AS {name}" for name in counted)},
            CAST(sum(engagement_score) AS BIGINT) AS engagement_score,
            count(*) FILTER (WHERE views > 0) AS unique_viewers
        FROM per_viewer GROUP BY content_key
    ),
    content AS (
        SELECT content_key, creator_user_key FROM read_parquet($content)
    ),
    baselines AS (
        SELECT c.creator_user_key, avg(h.engagement_score) AS creator_baseline
        FROM read_parquet($history) h JOIN content c USING (content_key)
        WHERE c.creator_user_key IS NOT NULL
        GROUP BY c.creator_user_key
    ),
    platform AS (SELECT avg(engagement_score) AS platform_mean FROM measures)
    SELECT
        m.content_key,
        CAST({day_key(day)} AS INTEGER) AS date_key,
        CAST(m.views AS INTEGER) AS total_views,
        CAST(m.unique_viewers AS INTEGER) AS unique_viewers,
        CAST(m.likes AS INTEGER) AS total_likes,
        CAST(m.comments AS INTEGER) AS total_comments,
        CAST(m.shares AS INTEGER) AS total_shares,
        CAST(m.saves AS INTEGER) AS total_saves,
        m.watch_seconds / CAST(nullif(m.views, 0) AS DOUBLE) AS avg_watch_duration,
        m.completion_sum / CAST(nullif(m.completion_count, 0) AS DOUBLE) AS completion_rate,
        m.engagement_score,
        CAST(round(CAST(100.0 AS DOUBLE) * m.engagement_score
                   / greatest(coalesce(b.creator_baseline, p.platform_mean), CAST({rules.min_baseline} AS DOUBLE)))
             AS INTEGER) AS viral_score,
        DATE '{day.isoformat()}' AS event_date
    FROM measures m
    LEFT JOIN content c USING (content_key)
    LEFT JOIN baselines b ON b.creator_user_key = c.creator_user_key
    CROSS JOIN platform p
    """


def fetch_files(con: duckdb.DuckDBPyConnection, files: list[str], columns: tuple[str, ...]) -> dict[str, np.ndarray]:
    return con.execute(f"SELECT {', '.join(columns)} FROM read_parquet(?)", [files]).fetchnumpy()


def differences(mine: dict[str, np.ndarray], theirs: dict[str, np.ndarray]) -> list[str]:
    """What differs between two results keyed by content_key (empty: equal). Integer columns
    exactly, doubles within 1e-9 (absolute or relative), nulls in the same places."""
    if len(mine["content_key"]) != len(theirs["content_key"]):
        return [f"row count {len(mine['content_key'])} vs {len(theirs['content_key'])}"]
    a_order, b_order = np.argsort(mine["content_key"]), np.argsort(theirs["content_key"])
    found = []
    for name in (*INTEGER_COLUMNS, *DOUBLE_COLUMNS, "event_date"):
        a, b = np.ma.asarray(mine[name])[a_order], np.ma.asarray(theirs[name])[b_order]
        a_null, b_null = np.ma.getmaskarray(a), np.ma.getmaskarray(b)
        if name in DOUBLE_COLUMNS:
            same = np.isclose(a.filled(0.0), b.filled(0.0), rtol=TOLERANCE, atol=TOLERANCE)
        else:
            same = np.ma.getdata(a) == np.ma.getdata(b)  # masked places are decided by the null test
        same = (a_null == b_null) & (same | a_null)
        if not same.all():
            found.append(f"{name}: {int((~same).sum())} rows differ")
    return found


def run(lake: Path, day: dt.date, rules: DailyRules) -> dict:
    started = time.monotonic()
    window_start = day - dt.timedelta(days=rules.baseline_days)
    parameters = {
        "engagements": table_files(lake, "fact_content_engagements", day, day),
        "users": table_files(lake, "dim_users"),
        "content": table_files(lake, "dim_content"),
        "history": table_files(lake, "fact_content_performance", window_start, day - dt.timedelta(days=1)),
    }
    spark_files = table_files(lake, "fact_content_performance", day, day)
    log_seconds = time.monotonic() - started
    if not parameters["engagements"]:
        raise RuntimeError(f"no fact_content_engagements files for {day}")
    sql = performance_sql(rules, day)
    if not parameters["history"]:  # read_parquet([]) is an error: an empty relation of the same shape
        sql = sql.replace("read_parquet($history)", "(SELECT NULL::BIGINT AS content_key, "
                                                    "NULL::BIGINT AS engagement_score WHERE false)")
        del parameters["history"]

    started = time.monotonic()
    con = duckdb.connect()
    result = con.execute(sql, parameters).fetchnumpy()
    query_seconds = time.monotonic() - started

    spark_rows = fetch_files(con, spark_files, PERFORMANCE_COLUMNS) if spark_files else {"content_key": []}
    found = differences(result, spark_rows) if spark_files else ["Spark wrote no rows for the day"]
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    con.close()
    return {
        "date": day.isoformat(),
        "query_seconds": round(query_seconds, 3),
        "log_replay_seconds": round(log_seconds, 3),
        "threads": threads,
        "files": {name: len(files) for name, files in parameters.items()},
        "rows": len(result["content_key"]),
        "spark_rows": len(spark_rows["content_key"]),
        "equal": not found,
        "differences": found,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake", required=True, type=Path)
    parser.add_argument("--date", required=True, type=dt.date.fromisoformat)
    args = parser.parse_args(argv)
    rules = DailyRules.from_conf(load_conf("local"))
    print(json.dumps(run(args.lake.resolve(), args.date, rules)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
