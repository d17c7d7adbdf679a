"""daily killed between its two fact commits (SIGKILL to the driver and its JVM): what a reader sees
in between, and that a rerun of the day and `daily --pending` (on a copy of the crashed lake) both
repair it.

daily replaces the day in fact_content_performance, then in fact_creator_analytics, then records the
run in ops_daily_runs. Killed after the first commit, the lake holds the day's new performance rows
beside its old creator rows, and no record of the run, so the day stays pending.
"""

from __future__ import annotations

import shutil
import signal

import pytest
from chispa import assert_df_equality

from jobs import daily, dims, ingest
from tests.e2e.conftest import run_spark_submit
from tests.e2e.producer import Landing
from tests.e2e.test_dims_daily_e2e import content_change, days_ago, engagement, run, table

pytestmark = pytest.mark.e2e
FACTS = ("fact_content_performance", "fact_creator_analytics")
KILL_POINT = "daily_after_performance:0"  # the day's performance committed, its creator rows not yet


def frozen(spark, frame):
    """The rows as they are now (a Delta read would follow later commits)."""
    return spark.createDataFrame(frame.collect(), frame.schema)


def assert_same(actual, expected, what: str) -> None:
    try:
        assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)
    except AssertionError as error:
        raise AssertionError(f"{what}:\n{error}") from error


def test_a_rerun_and_pending_repair_a_day_killed_between_its_commits(spark, capsys, tmp_path):
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    producer = Landing(landing)
    lake_args = ["--landing", str(landing), "--lake", str(lake)]
    day = days_ago(2).date()
    producer.write("content", "c.jsonl", [content_change(video, "eve", days_ago(9), days_ago(9))
                                          for video in ("v1", "v2")])
    producer.write("engagements", "e0.jsonl", [
        engagement("a1", "fan1", "v1", days_ago(2, 9), "view", watch_duration_seconds=4.0, completion_percentage=50.0),
        engagement("a2", "fan2", "v1", days_ago(2, 10), "like"),
    ])
    run(ingest, spark, capsys, *lake_args, "--once", "--feeds", "engagements")
    run(dims, spark, capsys, *lake_args)
    run(daily, spark, capsys, "--lake", str(lake), "--date", day.isoformat())

    # New engagements of the day, ingested; a clean run's facts, computed on a copy of the lake.
    producer.write("engagements", "e1.jsonl", [
        engagement("e1-view", "fan3", "v2", days_ago(2, 11), "view", watch_duration_seconds=6.0,
                   completion_percentage=100.0),
        engagement("e1-share", "fan3", "v2", days_ago(2, 12), "share"),
    ])
    run(ingest, spark, capsys, *lake_args, "--once", "--feeds", "engagements")
    old_creators = frozen(spark, table(spark, lake, "fact_creator_analytics"))
    clean_lake = tmp_path / "clean"
    shutil.copytree(lake, clean_lake)
    run(daily, spark, capsys, "--lake", str(clean_lake), "--date", day.isoformat())
    clean = {name: frozen(spark, table(spark, clean_lake, name)) for name in FACTS}
    assert set(old_creators.collect()) != set(clean["fact_creator_analytics"].collect()), \
        "the new events must change the creator's row, or the checks below could not fail"

    crashed = run_spark_submit(["daily", "--lake", str(lake), "--date", day.isoformat()],
                               env={"SHORTVIDEO_FAILPOINT": KILL_POINT})
    assert crashed.returncode == -signal.SIGKILL, (
        f"exit {crashed.returncode}, not SIGKILL's\nstdout:\n{crashed.stdout[-3000:]}\n"
        f"stderr:\n{crashed.stderr[-5000:]}")

    # In between: the day's new performance rows beside its old creator rows, and no record of the run.
    assert_same(table(spark, lake, "fact_content_performance"), clean["fact_content_performance"],
                "performance after the kill")
    assert_same(table(spark, lake, "fact_creator_analytics"), old_creators, "creator analytics after the kill")
    assert runs_of_the_day(spark, lake, day) == 1

    # Two repairs of the same crashed lake: a rerun of the day, and --pending on a copy.
    crashed_copy = tmp_path / "crashed-copy"
    shutil.copytree(lake, crashed_copy)
    for repaired, repair in ((lake, ["--date", day.isoformat()]), (crashed_copy, ["--pending"])):
        report = run(daily, spark, capsys, "--lake", str(repaired), *repair)
        assert sorted(report["per_day"]) == [day.isoformat()], repair
        for name in FACTS:
            assert_same(table(spark, repaired, name), clean[name], f"{name} after {repair[0]}")
        assert runs_of_the_day(spark, repaired, day) == 2
        assert run(daily, spark, capsys, "--lake", str(repaired), "--pending")["days"] == 0, repair


def runs_of_the_day(spark, lake, day) -> int:
    return table(spark, lake, "ops_daily_runs").where(f"event_date = DATE'{day.isoformat()}'").count()
