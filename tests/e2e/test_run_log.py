"""What operators see: every lake job's run in ops_job_runs, the ingest streams' progress in
ops_stream_progress, both answered by the sql job (the README's queries)."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs import archive, daily, gdpr, ingest, sql
from jobs.common.lake import ensure_table
from jobs.common.runlog import REDACTED
from schemas import TABLES
from tests.e2e.conftest import last_json_line, run_job_in_process
from tests.e2e.producer import Landing
from tests.e2e.test_dims_daily_e2e import days_ago
from tests.timezones import UTC, as_utc

pytestmark = pytest.mark.e2e
RUN_COLUMNS = "job string, arguments array<string>, status string, exit_code int, error string, pid int"

# The README's queries (docs: "What operators see"), run here as written.
HOW_LATE = """
SELECT feed, source,
       max(progress_at)                                              AS last_report_at,
       timestampdiff(SECOND, max(progress_at), current_timestamp())  AS seconds_since_report,
       max_by(event, progress_at)                                    AS last_event,
       max_by(offsets_behind, progress_at)                           AS offsets_behind,
       max_by(batch_duration_ms, progress_at)                        AS last_batch_ms,
       round(avg(processed_rows_per_second), 1)                      AS avg_rows_per_second
FROM ops_stream_progress
WHERE progress_date >= date_sub(current_date(), 1)
GROUP BY feed, source
ORDER BY feed, source
"""
LAST_RUNS = """
SELECT job, status, exit_code, started_at, ended_at,
       timestampdiff(SECOND, started_at, ended_at) AS seconds,
       error, concat_ws(' ', arguments) AS arguments
FROM ops_job_runs
WHERE run_date >= date_sub(current_date(), 7)
ORDER BY started_at DESC
LIMIT 20
"""


def runs(spark, lake: Path):
    return spark.read.format("delta").load(str(lake / "ops_job_runs"))


def logged_runs(spark, lake: Path):
    """The run log's columns a test can know beforehand."""
    return runs(spark, lake).select("job", "arguments", "status", "exit_code", "error", "pid")


def run_sql(spark, capsys, lake: Path, query: str) -> list[dict]:
    capsys.readouterr()
    assert sql.main(["--lake", str(lake), "--format", "json", query], spark=spark) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    return [json.loads(line) for line in lines[:-1]]


@pytest.fixture(scope="module")
def ingested(spark, tmp_path_factory) -> dict:
    """One ingest --once of two engagement files (one micro-batch each) and a discovery file."""
    root = tmp_path_factory.mktemp("runlog")
    landing, lake = root / "landing", root / "lake"
    producer = Landing(landing)
    events = [producer.engagement(days_ago(1, hour)) for hour in range(6)]
    producer.write("engagements", "a.jsonl", producer.good_lines(events[:3]) + producer.repeat(events[:1]) + [""])
    producer.write("engagements", "b.jsonl", producer.good_lines(events[3:]) + producer.bad_lines(days_ago(1))[:2])
    producer.write("discovery", "d.jsonl", [json.dumps({
        "discovery_id": "d1", "user_id": "user_1", "content_id": "vid_1", "discovery_source": "for_you",
        "position_in_feed": 0, "discovery_timestamp": events[0]["event_timestamp"], "clicked_through": False})])
    argv = ["--landing", str(landing), "--lake", str(lake), "--once", "--set", "ingest.max_files_per_trigger=1"]
    before = dt.datetime.now(UTC)
    code = ingest.main(argv, spark=spark)
    return {"lake": lake, "argv": argv, "code": code, "before": before, "after": dt.datetime.now(UTC),
            "lines": producer.lines_written}


def test_a_run_is_logged_with_its_arguments_times_and_final_line(spark, ingested):
    logged = runs(spark, ingested["lake"])
    assert ingested["code"] == 0
    expected = spark.createDataFrame([("ingest", ingested["argv"], "ok", 0, None, os.getpid())], RUN_COLUMNS)
    assert_df_equality(logged_runs(spark, ingested["lake"]), expected, ignore_nullable=True, ignore_metadata=True)
    row = logged.first()
    report = json.loads(row["report"])
    assert (report["job"], report["status"], report["lines_read"]) == ("ingest", "ok", ingested["lines"]), report
    started, ended = as_utc(row["started_at"]), as_utc(row["ended_at"])
    assert ingested["before"] <= started <= ended <= ingested["after"], row
    assert row["run_date"] == started.date()
    assert row["app_id"] == spark.sparkContext.applicationId and row["host"]


def test_ingest_once_records_the_progress_of_every_batch(spark, capsys, ingested):
    """Spark's own count of the records read (blank lines too) is the run's lines read plus blanks."""
    lake = ingested["lake"]
    report = json.loads(runs(spark, lake).first()["report"])
    progress = spark.read.format("delta").load(str(lake / "ops_stream_progress"))
    batches = (progress.where("event = 'progress'").groupBy("feed")
               .agg(F.array_join(F.sort_array(F.collect_list("batch_id")), ",").alias("batches"),
                    F.sum("input_rows").alias("rows")))
    expected = spark.createDataFrame(
        [("engagements", "0,1", report["engagements"]["lines_read"] + report["engagements"]["blank_lines"]),
         ("discovery", "0", 1)], "feed string, batches string, rows bigint")
    assert_df_equality(batches, expected, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)
    assert progress.where(F.col("input_rows") > 0).where(
        F.col("batch_duration_ms").isNull() | F.col("source_description").isNull()).count() == 0
    assert {r["source"] for r in progress.select("source").distinct().collect()} == {"files"}

    late = run_sql(spark, capsys, lake, HOW_LATE)
    assert [(r["feed"], r["source"], r["last_event"]) for r in late] == [
        ("discovery", "files", "progress"), ("engagements", "files", "progress")], late
    last = run_sql(spark, capsys, lake, LAST_RUNS)
    assert [(r["job"], r["status"], r["exit_code"]) for r in last] == [("ingest", "ok", 0)], last


def test_a_failed_run_is_logged_with_its_error(spark, capsys, tmp_path):
    lake = tmp_path / "lake"
    ensure_table(spark, str(lake), TABLES["fact_content_engagements"])
    (lake / "fact_content_performance").write_text("not a table")  # daily cannot create its output
    argv = ["--lake", str(lake), "--date", "2026-01-02"]
    code, report = run_job_in_process(daily.main, argv, spark, capsys)
    assert code == 1 and report["status"] == "failed" and report["error"], report
    expected = spark.createDataFrame([("daily", argv, "failed", 1, report["error"], os.getpid())], RUN_COLUMNS)
    assert_df_equality(logged_runs(spark, lake), expected, ignore_nullable=True, ignore_metadata=True)
    assert json.loads(runs(spark, lake).first()["report"]) == report


def test_a_run_log_that_cannot_be_written_changes_neither_exit_code_nor_line(spark, capfd, tmp_path):
    lake = tmp_path / "lake"
    ensure_table(spark, str(lake), TABLES["fact_content_engagements"])
    (lake / "ops_job_runs").write_text("in the way")
    capfd.readouterr()
    code = archive.main(["--lake", str(lake)], spark=spark)
    out, err = capfd.readouterr()
    lines = [line for line in out.splitlines() if line.strip()]
    assert code == 0, (out, err)
    assert last_json_line(out)["status"] == "ok" and lines[-1].startswith("{"), out
    assert "warning: run not recorded in ops_job_runs" in err, err
    assert (lake / "ops_job_runs").read_text() == "in the way"


def test_gdpr_logs_no_user_id_and_no_secret(spark, capsys, tmp_path):
    lake = tmp_path / "lake"
    users = spark.createDataFrame([("keep-me",), ("erase-me",), ("u7",)], "user_id string")
    users.select(F.xxhash64("user_id").alias("user_key"), "user_id").write.format("delta").save(str(lake / "dim_users"))
    argv = ["--lake", str(lake), "--user-id", "erase-me", "--user=u7", "--set", "gdpr.salt=pepper-42"]
    code, report = run_job_in_process(gdpr.main, argv, spark, capsys)
    assert code == 0 and report["rows_removed"] == 2, report
    row = runs(spark, lake).first()
    assert row["arguments"] == ["--lake", str(lake), "--user-id", REDACTED, f"--user={REDACTED}",
                                "--set", f"gdpr.salt={REDACTED}"], row
    stored = runs(spark, lake).select(F.to_json(F.struct("*"))).first()[0]
    assert not any(secret in stored for secret in ("erase-me", "u7", "pepper-42")), stored
