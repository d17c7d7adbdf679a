"""Archival's rules (jobs/transforms/archive.py) and the Delta helpers it adds to jobs/common/lake.py."""

from __future__ import annotations

import datetime as dt

import pytest
from chispa import assert_df_equality

from jobs import archive
from jobs.common.lake import delete_matching_rows, ensure_table, read_if_table, table_path
from jobs.transforms.archive import archive_cutoff, union_hot_and_archive
from schemas import TABLES
from schemas.tables import ARCHIVED_TABLES

DAY, OTHER_DAY = dt.date(2026, 8, 1), dt.date(2026, 8, 2)
EVENTS = "event_date date, engagement_id bigint, event_id string, source_file string"
IDENTITY = list(ARCHIVED_TABLES["fact_content_engagements"])


def test_cutoff_keeps_hot_days_or_stops_at_before():
    today = dt.date(2026, 11, 20)
    assert archive_cutoff(today, 90) == dt.date(2026, 8, 22)  # 2026-08-22 is 90 days old: it stays
    assert archive_cutoff(today, 0) == today
    assert archive_cutoff(today, 90, before=dt.date(2026, 1, 1)) == dt.date(2026, 1, 1)


def test_union_shows_an_event_in_both_places_once_from_the_archive(spark):
    hot = spark.createDataFrame([
        (DAY, 1, "e1", "hot copy"),         # also archived (between the two commits, or a raced repeat)
        (DAY, 2, "e2", "late"),             # a late event for an archived day, not archived yet
        (OTHER_DAY, 3, "e3", "hot"),        # same id as an archived event of another day: another event
    ], EVENTS)
    archived = spark.createDataFrame([
        (DAY, 1, "e1", "archive"),
        (DAY, 4, "e4", "archive"),
        (DAY, 3, "e3", "archive"),
    ], EVENTS)
    expected = spark.createDataFrame([
        (DAY, 1, "e1", "archive"), (DAY, 4, "e4", "archive"), (DAY, 3, "e3", "archive"),
        (DAY, 2, "e2", "late"), (OTHER_DAY, 3, "e3", "hot"),
    ], EVENTS)
    assert_df_equality(union_hot_and_archive(hot, archived, IDENTITY), expected, ignore_row_order=True)


def test_union_of_an_empty_archive_is_the_hot_table(spark):
    hot = spark.createDataFrame([(DAY, 1, "e1", "hot")], EVENTS)
    empty = spark.createDataFrame([], EVENTS)
    assert_df_equality(union_hot_and_archive(hot, empty, IDENTITY), hot, ignore_row_order=True)


def test_read_if_table_sees_a_table_created_after_it_looked(spark, tmp_path):
    spec = TABLES["fact_content_engagements"]
    path = table_path(str(tmp_path), spec)
    assert read_if_table(spark, path) is None  # no directory
    (tmp_path / spec.name).mkdir()
    assert read_if_table(spark, path) is None  # a directory, no Delta log
    ensure_table(spark, str(tmp_path), spec)
    table = read_if_table(spark, path)
    assert table is not None and table.columns == spec.columns


def test_delete_matching_rows_removes_only_the_rows_given_in_the_partition_given(spark, tmp_path):
    spec, lake = TABLES["ops_ingest_arrivals"], str(tmp_path)
    ensure_table(spark, lake, spec)
    at = dt.datetime(2026, 8, 3, tzinfo=dt.timezone.utc)
    held = ((DAY, 1), (DAY, 2), (DAY, 3), (OTHER_DAY, 1))
    rows = [("engagements", day, n, True, "app", n, at) for day, n in held]
    spark.createDataFrame(rows, spec.schema).write.format("delta").mode("append").save(table_path(lake, spec))
    given = spark.createDataFrame([(DAY, 1), (DAY, 2), (OTHER_DAY, 1)], "event_date date, batch_id long")

    metrics = delete_matching_rows(spark, lake, spec, given, ["event_date", "batch_id"],
                                   target_filter=f"target.event_date = DATE'{DAY}'")

    assert metrics == {"numTargetRowsInserted": 0, "numTargetRowsUpdated": 0, "numTargetRowsDeleted": 2}
    left = spark.read.format("delta").load(table_path(lake, spec)).select("event_date", "batch_id")
    expected = spark.createDataFrame([(DAY, 3), (OTHER_DAY, 1)], "event_date date, batch_id long")
    assert_df_equality(left, expected, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)


def fake_lake(root) -> str:
    """A directory the launcher takes for a lake (a table with a non-empty log), no Spark involved."""
    (root / "fact_content_engagements" / "_delta_log").mkdir(parents=True)
    (root / "fact_content_engagements" / "_delta_log" / "00000000000000000000.json").write_text("{}")
    return str(root)


def test_bad_arguments_exit_2_before_spark(tmp_path, capsys):
    lake = fake_lake(tmp_path)
    for argv, message in [
        (["--lake", lake, "--before", "2026-13-01"], "is not a date"),
        (["--lake", lake, "--set", "ingest.hot_days=-1"], "ingest.hot_days must be"),
        (["--lake", str(tmp_path / "nowhere")], "does not exist"),
    ]:
        with pytest.raises(SystemExit) as exit_info:
            archive.main(argv)  # no spark= given: reaching Spark would start a session
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err
