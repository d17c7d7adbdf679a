"""archive on a small hand-built lake: old partitions move, every event stays exactly once across hot
and archive (also after a SIGKILL between a partition's two commits), the `_all` views of `sql` show
each event once, and ingest drops a repeat delivery of an archived event."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import signal

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs import archive, daily, ingest, sql
from jobs.common.lake import append_once, read_table, table_version
from jobs.common.views import register_archive_views
from schemas import TABLES
from tests.clock import days_ago as day_at
from tests.e2e.conftest import run_job_in_process, run_spark_submit
from tests.e2e.producer import Landing, iso

pytestmark = pytest.mark.e2e
HOT_DAYS = ["--set", "ingest.hot_days=5"]
ENGAGEMENTS, DISCOVERY = TABLES["fact_content_engagements"], TABLES["fact_discovery_events"]
OLD_DAYS, RECENT_DAY = (12, 11), 1  # days ago: with hot_days=5 the old ones move, the recent one stays


def discovery_line(discovery_id: str, when: dt.datetime) -> str:
    return json.dumps({"discovery_id": discovery_id, "user_id": "user_1", "content_id": "vid_1",
                       "discovery_source": "for_you", "position_in_feed": 0, "discovery_timestamp": iso(when),
                       "clicked_through": False})


@pytest.fixture(scope="module")
def source(spark, tmp_path_factory):
    """A lake ingested once (tests copy it): 3 engagements on each of two old days and a recent one,
    2 discovery events on an old day and 1 on the recent one."""
    root = tmp_path_factory.mktemp("archive_source")
    producer = Landing(root / "landing")
    days = (*OLD_DAYS, RECENT_DAY)
    events = [producer.engagement(day_at(days_ago, hour)) for days_ago in days for hour in (1, 9, 17)]
    producer.write("engagements", "e1.jsonl", producer.good_lines(events))
    producer.write("discovery", "d1.jsonl", [
        discovery_line("d-old-1", day_at(12, 3)), discovery_line("d-old-2", day_at(12, 4)),
        discovery_line("d-new-1", day_at(RECENT_DAY, 5)),
    ])
    lake = root / "lake"
    assert ingest.main(["--landing", str(producer.root), "--lake", str(lake), "--once"], spark=spark) == 0
    return producer, lake, sorted(producer.good)


@pytest.fixture
def lake(source, tmp_path):
    """A copy of the source lake (Delta logs hold paths relative to each table)."""
    copy = tmp_path / "lake"
    shutil.copytree(source[1], copy)
    return copy


def run_archive(spark, capsys, lake) -> dict:
    code, report = run_job_in_process(archive.main, ["--lake", str(lake), *HOT_DAYS], spark, capsys)
    assert code == 0 and report["status"] == "ok", report
    return report


def hot_and_archive(spark, lake, spec):
    """Every row the lake holds for `spec`, hot and archived, duplicates kept."""
    return read_table(spark, str(lake), spec).unionByName(archived(spark, lake, spec))


def archived(spark, lake, spec):
    """The archive's table (a read: DeltaTable.isDeltaTable may answer from a stale cached log)."""
    return spark.read.format("delta").load(str(lake / "archive" / spec.name))


def snapshot(spark, lake, spec):
    """The table as it is now, pinned to its version (later reads do not move it)."""
    return read_table(spark, str(lake), spec, table_version(spark, str(lake), spec))


def assert_same_rows(actual, expected):
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)


def event_ids_in_view(capsys, spark, lake, view: str) -> list[str]:
    """Every event_id the analysts' view shows, through the `sql` job, duplicates kept."""
    capsys.readouterr()
    code = sql.main(["--lake", str(lake), "--format", "json", f"SELECT event_id FROM {view}"], spark=spark)
    lines = capsys.readouterr().out.splitlines()
    assert code == 0, lines[-1:]
    return sorted(json.loads(line)["event_id"] for line in lines[:-1])


def dates(frame) -> set[dt.date]:
    return {r["event_date"] for r in frame.select("event_date").distinct().collect()}


def test_archive_moves_old_partitions_once_and_ingest_still_drops_their_repeats(spark, capsys, source, lake):
    producer = source[0]
    before = {spec.name: snapshot(spark, lake, spec) for spec in (ENGAGEMENTS, DISCOVERY)}

    report = run_archive(spark, capsys, lake)

    assert report["fact_content_engagements"] == {"partitions": 2, "rows_archived": 6, "rows_removed": 6}
    assert report["fact_discovery_events"] == {"partitions": 1, "rows_archived": 2, "rows_removed": 2}
    old = {day_at(days_ago, 0).date() for days_ago in OLD_DAYS}
    assert dates(read_table(spark, str(lake), ENGAGEMENTS)) == {day_at(RECENT_DAY, 0).date()}
    assert dates(archived(spark, lake, ENGAGEMENTS)) == old
    for spec in (ENGAGEMENTS, DISCOVERY):  # every row exactly once, unchanged
        assert_same_rows(hot_and_archive(spark, lake, spec), before[spec.name])

    # A repeat delivery of an archived event is dropped; a new late event for an archived day lands hot.
    archived_event = next(e for e in producer.good.values() if e["event_timestamp"] == iso(day_at(11, 9)))
    late = producer.engagement(day_at(11, 20))
    producer.write("engagements", "e2.jsonl", producer.repeat([archived_event]) + producer.good_lines([late]))
    ingest_args = ["--landing", str(producer.root), "--lake", str(lake), "--once", "--feeds", "engagements"]
    code, ingested = run_job_in_process(ingest.main, ingest_args, spark, capsys)
    assert code == 0 and (ingested["accepted"], ingested["duplicates"]) == (1, 1), ingested

    # A hot copy of an archived row (a repeat delivery that raced the archival) is hidden by the view.
    archived_row = (archived(spark, lake, ENGAGEMENTS)
                    .where(F.col("event_id") == archived_event["event_id"]))
    append_once(archived_row, str(lake), ENGAGEMENTS, "test-race", 0)
    assert event_ids_in_view(capsys, spark, lake, "fact_content_engagements_all") == sorted(producer.good)

    report = run_archive(spark, capsys, lake)  # moves the late event, removes the hot copy
    assert report["fact_content_engagements"] == {"partitions": 1, "rows_archived": 1, "rows_removed": 2}
    held = hot_and_archive(spark, lake, ENGAGEMENTS).select("event_id").collect()
    assert sorted(r["event_id"] for r in held) == sorted(producer.good)


def test_archive_killed_between_its_commits_then_rerun_keeps_every_row_once(spark, capsys, source, lake):
    event_ids = source[2]  # the source lake's (another test adds events to its own copy)
    before = {spec.name: snapshot(spark, lake, spec) for spec in (ENGAGEMENTS, DISCOVERY)}

    # Move 1 (the second old engagement day) is in the archive and still hot when the process dies.
    crashed = run_spark_submit(["archive", "--lake", str(lake), *HOT_DAYS],
                               env={"SHORTVIDEO_FAILPOINT": "archive_appended:1"})
    output = f"stdout:\n{crashed.stdout[-3000:]}\nstderr:\n{crashed.stderr[-3000:]}"
    assert crashed.returncode == -signal.SIGKILL, output
    assert not any(line.startswith('{"job"') for line in crashed.stdout.splitlines()), output
    in_both = read_table(spark, str(lake), ENGAGEMENTS).join(
        archived(spark, lake, ENGAGEMENTS).select("event_id"), on="event_id", how="left_semi")
    assert dates(in_both) == {day_at(11, 0).date()}, output

    register_archive_views(spark, str(lake), str(lake / "archive"))  # as `sql` does (the test above)
    shown = spark.table("fact_content_engagements_all").select("event_id").collect()
    assert sorted(r["event_id"] for r in shown) == event_ids

    report = run_archive(spark, capsys, lake)
    assert report["fact_content_engagements"] == {"partitions": 1, "rows_archived": 0, "rows_removed": 3}
    assert report["fact_discovery_events"]["partitions"] == 1
    for spec in (ENGAGEMENTS, DISCOVERY):
        assert_same_rows(hot_and_archive(spark, lake, spec), before[spec.name])


def test_an_archived_day_recomputes_to_the_same_daily_rows(spark, capsys, lake):
    day = day_at(OLD_DAYS[1], 0).date()
    outputs = [TABLES["fact_content_performance"], TABLES["fact_creator_analytics"]]

    def compute() -> None:
        argv = ["--lake", str(lake), "--date", day.isoformat()]
        code, report = run_job_in_process(daily.main, argv, spark, capsys)
        assert code == 0 and report["status"] == "ok", report

    compute()
    before = {spec.name: snapshot(spark, lake, spec) for spec in outputs}
    assert before["fact_content_performance"].count() > 0
    run_archive(spark, capsys, lake)
    assert day in dates(archived(spark, lake, ENGAGEMENTS)) and day not in dates(
        read_table(spark, str(lake), ENGAGEMENTS))

    compute()  # from the archive alone: the hot table no longer holds the day
    for spec in outputs:
        assert_same_rows(read_table(spark, str(lake), spec), before[spec.name])
