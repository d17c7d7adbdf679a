"""Delta round trips of jobs/common/lake.py on real tables under tmp_path."""

from __future__ import annotations

import datetime as dt
import shutil
import threading
import time

import pytest
from chispa import assert_df_equality
from delta.tables import DeltaTable
from pyspark.sql import functions as F

from jobs import maintain
from jobs.common.config import load_conf
from jobs.common.lake import (
    COMMIT_CONFLICTS,
    append_counted,
    append_once,
    conform,
    ensure_table,
    is_table,
    latest_version,
    read_pinned,
    register_tables,
    side_by_side,
    table_path,
    upsert_rows,
)
from jobs.common.maintenance import ensure_job_table, maintain_policy
from jobs.maintain import LakeTable
from schemas import TABLES
from tests.timezones import utc

ARRIVALS = TABLES["ops_ingest_arrivals"]


def arrival_rows(spark, day: dt.date, rows: int):
    return spark.createDataFrame(
        [("engagements", day, rows, True, "app", 0, utc(2026, 11, 20, 1, 2, 3))], ARRIVALS.schema
    )


def test_ensure_table_creates_the_declared_table_once(spark, tmp_path):
    lake = str(tmp_path)
    spec = TABLES["fact_content_engagements"]
    ensure_table(spark, lake, spec)
    ensure_table(spark, lake, spec)  # a second call changes nothing

    table = DeltaTable.forPath(spark, table_path(lake, spec))
    detail = table.detail().first()
    assert detail.partitionColumns == ["event_date"]
    assert detail.description == spec.comment
    assert table.history().count() == 1
    stats_columns = detail.properties["delta.dataSkippingStatsColumns"].split(",")
    assert "user_id" not in stats_columns and "user_key" not in stats_columns and "client" not in stats_columns
    assert "engagement_timestamp" in stats_columns and "content_key" in stats_columns
    assert detail.properties["delta.enableDeletionVectors"] == "false"  # delta-rs cannot read them
    assert "user_bucket" in stats_columns  # the layout that lets an erasure skip files
    schema = spark.read.format("delta").load(table_path(lake, spec)).schema
    assert [f.name for f in schema.fields] == spec.columns
    assert schema["watch_duration_seconds"].metadata["comment"] == "Seconds watched"
    assert not schema["event_id"].nullable


def test_a_table_is_born_with_its_retention_so_maintain_has_no_property_to_set(spark, tmp_path):
    lake = str(tmp_path)
    conf = load_conf("local", ["maintain.kinds.dimension.vacuum_retention_hours=200"], lake=lake)
    born, older = TABLES["dim_users"], TABLES["dim_content"]
    ensure_job_table(spark, conf, born)  # as every job makes its tables
    ensure_table(spark, lake, older)  # as code before the retention made it

    properties = DeltaTable.forPath(spark, table_path(lake, born)).detail().first().properties
    assert properties["delta.deletedFileRetentionDuration"] == "interval 200 hours"
    assert properties["delta.logRetentionDuration"] == "interval 30 days"
    assert properties["delta.enableDeletionVectors"] == "false"  # the spec's own properties stay
    policy = maintain_policy(conf)
    assert maintain.bring_to_spec(spark, LakeTable(born, lake, born.name), policy.of(born), 1) == {}
    assert maintain.bring_to_spec(spark, LakeTable(older, lake, older.name), policy.of(older), 1) == {
        "properties_set": ["delta.checkpointInterval", "delta.deletedFileRetentionDuration",
                           "delta.logRetentionDuration"]}
    assert DeltaTable.forPath(spark, table_path(lake, born)).history().count() == 1  # no ALTER commit


def test_a_table_checkpoints_at_its_policys_interval(spark, tmp_path):
    lake = str(tmp_path)
    conf = load_conf("local", ["maintain.kinds.ops.checkpoint_interval=3"], lake=lake)
    ensure_job_table(spark, conf, ARRIVALS)  # version 0
    for day in range(1, 4):  # versions 1 to 3
        arrival_rows(spark, dt.date(2026, 11, day), day).write.format("delta").mode("append").save(
            table_path(lake, ARRIVALS))

    log = tmp_path / ARRIVALS.name / "_delta_log"
    assert sorted(path.name for path in log.glob("*.checkpoint*.parquet")) == [
        "00000000000000000003.checkpoint.parquet"]
    properties = DeltaTable.forPath(spark, table_path(lake, ARRIVALS)).detail().first().properties
    assert properties["delta.checkpointInterval"] == "3"


def test_append_once_skips_a_replayed_version_but_not_a_new_app(spark, tmp_path):
    lake = str(tmp_path)
    ensure_table(spark, lake, ARRIVALS)
    day = dt.date(2026, 11, 20)
    append_once(arrival_rows(spark, day, 5), lake, ARRIVALS, "stream-a", 0)
    append_once(arrival_rows(spark, day, 5), lake, ARRIVALS, "stream-a", 0)  # the crash replay
    append_once(arrival_rows(spark, day, 7), lake, ARRIVALS, "stream-a", 1)
    append_once(arrival_rows(spark, day, 9), lake, ARRIVALS, "stream-b", 0)  # a reset checkpoint

    rows = sorted(r.rows for r in spark.read.format("delta").load(table_path(lake, ARRIVALS)).collect())
    assert rows == [5, 7, 9]


def test_a_table_created_by_another_process_is_seen_after_a_look_during_its_creation(spark, tmp_path):
    """The moment between another process making `_delta_log` and committing version 0."""
    lake, elsewhere = str(tmp_path / "lake"), str(tmp_path / "elsewhere")
    path = table_path(lake, ARRIVALS)
    (tmp_path / "lake" / ARRIVALS.name / "_delta_log").mkdir(parents=True)
    assert not is_table(spark, path)
    ensure_table(spark, elsewhere, ARRIVALS)
    shutil.rmtree(path)
    shutil.copytree(table_path(elsewhere, ARRIVALS), path)  # its first commit, as this session sees it
    assert not DeltaTable.isDeltaTable(spark, path)  # why is_table exists: Delta's cached answer
    assert is_table(spark, path)


def test_the_latest_version_is_the_logs_and_a_table_being_created_has_none(spark, tmp_path):
    lake, elsewhere = str(tmp_path / "lake"), str(tmp_path / "elsewhere")
    path = table_path(lake, ARRIVALS)
    assert latest_version(spark, path) is None  # no folder
    (tmp_path / "lake" / ARRIVALS.name / "_delta_log").mkdir(parents=True)
    assert latest_version(spark, path) is None  # its creator has not committed yet
    ensure_table(spark, elsewhere, ARRIVALS)
    arrival_rows(spark, dt.date(2026, 11, 20), 1).write.format("delta").mode("append").save(
        table_path(elsewhere, ARRIVALS))
    shutil.rmtree(path)
    shutil.copytree(table_path(elsewhere, ARRIVALS), path)  # two commits another process made
    history = DeltaTable.forPath(spark, path).history().select("version")
    assert latest_version(spark, path) == history.agg(F.max("version")).first()[0] == 1
    assert_df_equality(read_pinned(spark, path), spark.read.format("delta").load(path), ignore_row_order=True)


def test_conform_orders_and_casts_to_the_spec(spark):
    frame = spark.createDataFrame(
        [(3, "2026-11-20", "discovery", 1, "app", True, "2026-11-20 01:02:03")],
        "rows int, event_date string, feed string, batch_id int, app_id string, is_late boolean, "
        "ingested_at string",
    )
    actual = conform(frame, ARRIVALS)
    expected = spark.createDataFrame(
        [("discovery", dt.date(2026, 11, 20), 3, True, "app", 1, utc(2026, 11, 20, 1, 2, 3))],
        ARRIVALS.schema,
    )
    assert_df_equality(actual, expected, ignore_nullable=True, ignore_metadata=True)


def test_register_tables_names_every_lake_table(spark, tmp_path):
    lake = str(tmp_path)
    ensure_table(spark, lake, ARRIVALS)
    append_once(arrival_rows(spark, dt.date(2026, 11, 21), 4), lake, ARRIVALS, "app", 0)
    assert register_tables(spark, lake) == ["ops_ingest_arrivals"]
    assert spark.sql("SELECT SUM(rows) AS n FROM ops_ingest_arrivals").first().n == 4


def test_append_counted_returns_the_rows_it_wrote(spark, tmp_path):
    lake = str(tmp_path)
    ensure_table(spark, lake, ARRIVALS)
    first = arrival_rows(spark, dt.date(2026, 11, 19), 5).unionByName(arrival_rows(spark, dt.date(2026, 11, 20), 7))
    assert append_counted(first, lake, ARRIVALS) == 2
    nothing_new = arrival_rows(spark, dt.date(2026, 11, 21), 1).where(F.col("rows") > 100)
    assert append_counted(nothing_new, lake, ARRIVALS) == 0
    assert append_counted(arrival_rows(spark, dt.date(2026, 11, 21), 1), lake, ARRIVALS) == 1
    stored = spark.read.format("delta").load(table_path(lake, ARRIVALS))
    assert sorted(r.rows for r in stored.collect()) == [1, 5, 7]


def test_an_append_of_rows_read_from_the_pinned_table_is_blind(spark, tmp_path):
    """Rows de-duplicated against the table they go to: appended from a plain read, the commit
    records a read of the table (and a concurrent MERGE of those dates fails it); from the
    pinned read, it does not."""
    lake = str(tmp_path)
    ensure_table(spark, lake, ARRIVALS)
    path = table_path(lake, ARRIVALS)
    append_once(arrival_rows(spark, dt.date(2026, 11, 20), 5), lake, ARRIVALS, "app", 0)

    def not_loaded_yet(rows: int, loaded_table):
        loaded = loaded_table.select("event_date", "rows")
        return arrival_rows(spark, dt.date(2026, 11, 20), rows).join(loaded, ["event_date", "rows"], "left_anti")

    def last_commit_is_blind() -> bool:
        return DeltaTable.forPath(spark, path).history(1).first().isBlindAppend

    assert append_counted(not_loaded_yet(6, spark.read.format("delta").load(path)), lake, ARRIVALS) == 1
    assert not last_commit_is_blind()  # the control: the plain read is the append's read
    assert append_counted(not_loaded_yet(7, read_pinned(spark, path)), lake, ARRIVALS) == 1
    assert last_commit_is_blind()
    # Pinned at the latest version: what was just written is seen.
    assert append_counted(not_loaded_yet(7, read_pinned(spark, path)), lake, ARRIVALS) == 0
    assert sorted(r.rows for r in spark.read.format("delta").load(path).collect()) == [5, 6, 7]


def test_a_delete_committed_while_the_append_runs_fails_it_only_when_the_read_is_not_pinned(spark, tmp_path):
    """The stream's case: an erasure's or archive's commit lands while the append's job runs (its
    transaction open). A UDF in the appended rows holds the job until the delete has committed."""
    lake = str(tmp_path)
    ensure_table(spark, lake, ARRIVALS)
    path = table_path(lake, ARRIVALS)
    day = dt.date(2026, 11, 20)
    started, go = tmp_path / "append-started", tmp_path / "delete-committed"

    @F.udf("long", useArrow=False)
    def held(rows):
        started.touch()
        deadline = time.monotonic() + 120
        while not go.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return rows

    def append_while_a_delete_commits(pinned: bool, rows: int) -> dict:
        append_once(arrival_rows(spark, day, 100 + rows), lake, ARRIVALS, "app", rows)  # the row deleted
        for signal in (started, go):
            signal.unlink(missing_ok=True)
        loaded = (read_pinned(spark, path) if pinned else spark.read.format("delta").load(path))
        new_rows = (arrival_rows(spark, day, rows)
                    .join(loaded.select("event_date", "rows"), ["event_date", "rows"], "left_anti")
                    .withColumn("rows", held("rows")))
        outcome: dict = {}

        def append() -> None:
            try:
                outcome["written"] = append_counted(new_rows, lake, ARRIVALS)
            except COMMIT_CONFLICTS as conflict:
                outcome["conflict"] = conflict

        writer = threading.Thread(target=append)
        writer.start()
        deadline = time.monotonic() + 120
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert started.exists(), "the append's job never ran"
        DeltaTable.forPath(spark, path).delete(F.col("rows") == F.lit(100 + rows))
        go.touch()
        writer.join(timeout=180)
        return outcome

    assert "conflict" in append_while_a_delete_commits(pinned=False, rows=6)  # the control
    assert append_while_a_delete_commits(pinned=True, rows=7) == {"written": 1}
    assert sorted(r.rows for r in spark.read.format("delta").load(path).collect()) == [7]


def test_side_by_side_commits_every_write_and_raises_a_failure_after_all_have_ended(spark, tmp_path):
    lake = str(tmp_path)
    ensure_table(spark, lake, ARRIVALS)
    engagements_arrivals = arrival_rows(spark, dt.date(2026, 11, 20), 3)
    discovery_arrivals = arrival_rows(spark, dt.date(2026, 11, 20), 4).withColumn("feed", F.lit("discovery"))
    written = side_by_side(
        lambda: append_counted(engagements_arrivals, lake, ARRIVALS),
        lambda: append_counted(discovery_arrivals, lake, ARRIVALS),
    )
    assert written == [1, 1]
    stored = spark.read.format("delta").load(table_path(lake, ARRIVALS))
    assert sorted((r.feed, r.rows) for r in stored.collect()) == [("discovery", 4), ("engagements", 3)]

    slow_write_ended = threading.Event()

    def slow_write() -> int:
        rows = append_counted(arrival_rows(spark, dt.date(2026, 11, 21), 9), lake, ARRIVALS)
        slow_write_ended.set()
        return rows

    def failing_write() -> int:
        raise RuntimeError("commit refused")

    with pytest.raises(RuntimeError, match="commit refused"):
        side_by_side(failing_write, slow_write)
    assert slow_write_ended.is_set()
    assert spark.read.format("delta").load(table_path(lake, ARRIVALS)).where("rows = 9").count() == 1


def test_a_merge_returns_the_rows_it_inserted_updated_and_deleted(spark, tmp_path):
    lake, spec = str(tmp_path), TABLES["dim_engagement_type"]
    ensure_table(spark, lake, spec)

    def merge(rows: list[tuple]) -> dict:
        return upsert_rows(spark, lake, spec, spark.createDataFrame(rows, spec.schema), ["engagement_key"])

    assert merge([(1, "view", 1, True), (2, "like", 2, False)]) == {
        "numTargetRowsInserted": 2, "numTargetRowsUpdated": 0, "numTargetRowsDeleted": 0}
    assert merge([(1, "view", 1, True), (2, "like", 3, False), (3, "share", 4, False)]) == {
        "numTargetRowsInserted": 1, "numTargetRowsUpdated": 1, "numTargetRowsDeleted": 0}
    assert merge([(1, "view", 1, True)]) == {  # held as it is: the update's condition leaves it
        "numTargetRowsInserted": 0, "numTargetRowsUpdated": 0, "numTargetRowsDeleted": 0}
