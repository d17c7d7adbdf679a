"""Creator tiers by rule, end to end: daily derives them, dim_users and its history follow, dims
keeps them, and the tier the feed sent stays in the change log only.

The consistency window is set to 4 days (--set tiers.window_days=4), so one engaged day of four is
the 0.25 that `rising` needs (with 10,000 followers) and two computed days show a creator cross it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs import daily, dims, ingest
from tests.e2e.conftest import run_job_in_process
from tests.e2e.producer import Landing
from tests.e2e.test_dims_daily_e2e import content_change, days_ago, engagement, run, table, user_change

pytestmark = pytest.mark.e2e
WINDOW = ["--set", "tiers.window_days=4"]


def midnight(days: int) -> dt.datetime:
    return days_ago(days, hour=0)


def test_a_creator_crossing_a_threshold_gets_the_tier_in_the_fact_the_dimension_and_the_history(
        spark, capsys, lake_dirs):
    landing, lake = lake_dirs
    producer = Landing(landing)
    lake_args = ["--landing", str(landing), "--lake", str(lake)]
    # The app says "top"; by the rule star is casual, then rising (20,000 followers, 1 of 4 days engaged).
    producer.write("users", "u.jsonl", [user_change("star", days_ago(10), "top", follower_count=20_000),
                                        user_change("few", days_ago(10), "top", follower_count=9_999)])
    producer.write("content", "c.jsonl", [content_change("v1", "star", days_ago(9), days_ago(9)),
                                          content_change("v2", "few", days_ago(9), days_ago(9))])
    producer.write("engagements", "e.jsonl", [
        engagement("e1", "fan", "v1", days_ago(3), "view", watch_duration_seconds=9.0),  # no engagement received
        engagement("e2", "fan", "v1", days_ago(2), "like"),
        engagement("e3", "fan", "v2", days_ago(2), "like"),  # engaged too, one follower short of rising
    ])
    run(ingest, spark, capsys, *lake_args, "--once", "--feeds", "engagements")
    run(dims, spark, capsys, *lake_args)
    days = ["--from", days_ago(3).date().isoformat(), "--to", days_ago(2).date().isoformat()]
    run(daily, spark, capsys, "--lake", str(lake), *days, *WINDOW)

    facts = table(spark, lake, "fact_creator_analytics").select("user_key", "event_date", "creator_tier")
    expected_facts = spark.createDataFrame(
        [("star", days_ago(3).date(), "casual"), ("star", days_ago(2).date(), "rising"),
         ("few", days_ago(2).date(), "casual")],
        "user_id string, event_date date, creator_tier string",
    ).select(F.xxhash64("user_id").alias("user_key"), "event_date", "creator_tier")
    assert_df_equality(facts, expected_facts, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)

    def dimension_and_history():
        users = table(spark, lake, "dim_users").select("user_id", "creator_tier", "follower_count")
        history = table(spark, lake, "dim_users_history").where(F.col("user_id") == "star").select(
            "creator_tier", "valid_from", "valid_to", "is_current")
        return users, history

    users, history = dimension_and_history()
    assert_df_equality(users, spark.createDataFrame([("star", "rising", 20_000), ("few", "casual", 9_999)],
                                                    "user_id string, creator_tier string, follower_count int"),
                       ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)
    expected_history = spark.createDataFrame(
        [(None, days_ago(10), midnight(3), False),        # before daily computed a tier
         ("casual", midnight(3), midnight(2), False),
         ("rising", midnight(2), None, True)],            # the crossing: a new period from its day
        "creator_tier string, valid_from timestamp, valid_to timestamp, is_current boolean")
    assert_df_equality(history, expected_history, ignore_row_order=True, ignore_nullable=True,
                       ignore_metadata=True)
    # The app's tier stays what it reported, in the change log only.
    reported = {r.creator_tier for r in table(spark, lake, "cdc_users").select("creator_tier").collect()}
    assert reported == {"top"}

    # dims after daily: a follower update keeps the lake's tier (and no period starts), and daily
    # run again changes nothing.
    producer.write("users", "u2.jsonl", [user_change("star", days_ago(1), "top", follower_count=20_001)])
    run(dims, spark, capsys, *lake_args)
    versions = {name: table_version(spark, lake, name) for name in ("dim_users", "dim_users_history")}
    run(daily, spark, capsys, "--lake", str(lake), *days, *WINDOW)
    assert {name: table_version(spark, lake, name) for name in versions} == versions
    users, history = dimension_and_history()
    assert users.where(F.col("user_id") == "star").first()["creator_tier"] == "rising"
    assert_df_equality(history, expected_history, ignore_row_order=True, ignore_nullable=True,
                       ignore_metadata=True)


def table_version(spark, lake, name) -> int:
    return spark.sql(f"DESCRIBE HISTORY delta.`{lake / name}` LIMIT 1").first()["version"]


def test_a_run_failing_after_the_creator_rows_leaves_the_tiers_that_its_rerun_derives(
        spark, capsys, lake_dirs, monkeypatch):
    """The facts' tiers are committed before the dimension's: a rerun finds the same tiers in the
    facts and must still bring dim_users and the history up to them."""
    landing, lake = lake_dirs
    producer = Landing(landing)
    lake_args = ["--landing", str(landing), "--lake", str(lake)]
    producer.write("users", "u.jsonl", [user_change("star", days_ago(10), "top", follower_count=20_000)])
    producer.write("content", "c.jsonl", [content_change("v1", "star", days_ago(9), days_ago(9))])
    producer.write("engagements", "e.jsonl", [engagement("e1", "fan", "v1", days_ago(2), "like")])
    run(ingest, spark, capsys, *lake_args, "--once", "--feeds", "engagements")
    run(dims, spark, capsys, *lake_args)
    day = ["--date", days_ago(2).date().isoformat()]

    monkeypatch.setenv("SHORTVIDEO_FAILPOINT", "daily_after_creators:0")
    monkeypatch.setenv("SHORTVIDEO_FAILPOINT_ACTION", "raise")
    code, report = run_job_in_process(daily.main, ["--lake", str(lake), *day, *WINDOW], spark, capsys)
    assert (code, report["status"]) == (1, "failed") and "daily_after_creators:0" in report["error"]
    assert table(spark, lake, "fact_creator_analytics").first()["creator_tier"] == "rising"
    assert table(spark, lake, "dim_users").first()["creator_tier"] is None  # what a reader sees in between

    monkeypatch.delenv("SHORTVIDEO_FAILPOINT")
    run(daily, spark, capsys, "--lake", str(lake), *day, *WINDOW)
    assert table(spark, lake, "dim_users").first()["creator_tier"] == "rising"
    history = table(spark, lake, "dim_users_history").select("creator_tier", "valid_from", "valid_to")
    expected = spark.createDataFrame([(None, days_ago(10), midnight(2)), ("rising", midnight(2), None)],
                                     "creator_tier string, valid_from timestamp, valid_to timestamp")
    assert_df_equality(history, expected, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)
