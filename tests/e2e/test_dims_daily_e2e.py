"""dims and daily on a temporary lake: CDC order, attribute history, reruns (--pending: test_daily_pending)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs import daily, dims, ingest
from tests.clock import days_ago
from tests.e2e.conftest import run_job_in_process
from tests.e2e.producer import Landing, iso

pytestmark = pytest.mark.e2e
UTC = dt.timezone.utc


def user_change(user: str, when: dt.datetime, tier: str | None, **fields) -> str:
    change = {"op": "upsert", "user_id": user, "updated_at": iso(when), "registration_date": "2025-03-01",
              "user_type": "creator", "creator_tier": tier, "region": "BR", "follower_count": 100,
              "following_count": 7, **fields}
    return json.dumps(change)


def content_change(content: str, creator: str, uploaded: dt.datetime, when: dt.datetime, **fields) -> str:
    change = {"op": "upsert", "content_id": content, "updated_at": iso(when), "creator_user_id": creator,
              "content_type": "original", "category": "dance", "duration_seconds": 20,
              "upload_timestamp": iso(uploaded), **fields}
    return json.dumps(change)


def engagement(event_id: str, user: str, content: str, when: dt.datetime, kind: str = "like", **fields) -> str:
    return json.dumps({"event_id": event_id, "user_id": user, "content_id": content, "engagement_type": kind,
                       "event_timestamp": iso(when), **fields})


def run(job, spark, capsys, *argv):
    code, report = run_job_in_process(job.main, list(argv), spark, capsys)
    assert code == 0, report
    return report


def table(spark, lake, name):
    return spark.read.format("delta").load(str(lake / name))


def version(spark, lake, name) -> int:
    return spark.sql(f"DESCRIBE HISTORY delta.`{lake / name}` LIMIT 1").first()["version"]


def test_latest_change_wins_against_arrival_order_and_history_follows_the_region(spark, capsys, lake_dirs):
    landing, lake = lake_dirs
    producer = Landing(landing)
    lake_args = ["--landing", str(landing), "--lake", str(lake)]
    producer.write("users", "1.jsonl", [user_change("ana", days_ago(3), "casual"),
                                        user_change("ana", days_ago(1), "rising", region="CL", follower_count=900)])
    run(dims, spark, capsys, *lake_args)
    # An older change arrives later (and a repeated file): neither may win over the newer state.
    producer.write("users", "2.jsonl", [user_change("ana", days_ago(2), "top", region="AR")])
    producer.write("users", "3.jsonl", [user_change("ana", days_ago(1), "rising", region="CL", follower_count=900)])
    report = run(dims, spark, capsys, *lake_args)
    assert report["users"]["duplicates"] == 1

    # The feed's tier is not the lake's: daily derives tiers (test_tiers_e2e), none before it runs.
    users = table(spark, lake, "dim_users").select("user_id", "creator_tier", "region", "follower_count", "updated_at")
    expected_users = spark.createDataFrame(
        [("ana", None, "CL", 900, days_ago(1))],
        "user_id string, creator_tier string, region string, follower_count int, updated_at timestamp")
    assert_df_equality(users, expected_users, ignore_nullable=True, ignore_metadata=True)

    history = table(spark, lake, "dim_users_history").select("region", "valid_from", "valid_to", "is_current")
    when = [days_ago(n) for n in (3, 2, 1)]
    expected_history = spark.createDataFrame(
        [("BR", when[0], when[1], False), ("AR", when[1], when[2], False), ("CL", when[2], None, True)],
        "region string, valid_from timestamp, valid_to timestamp, is_current boolean",
    )
    assert_df_equality(history, expected_history, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)

    # The user's keys are the ones the stream puts into the facts, and the calendar covers today.
    assert table(spark, lake, "dim_users").where(F.col("user_key") != F.xxhash64("user_id")).count() == 0
    today_hour = int(dt.datetime.now(UTC).strftime("%Y%m%d%H"))
    assert table(spark, lake, "dim_date").where(F.col("date_key") == today_hour).count() == 1


def test_reruns_change_nothing(spark, capsys, lake_dirs):
    landing, lake = lake_dirs
    producer = Landing(landing)
    day = days_ago(2).date()
    producer.write("users", "u.jsonl", [user_change("bea", days_ago(9), "top")])
    producer.write("content", "c.jsonl", [content_change("v1", "bea", days_ago(2, 8), days_ago(2, 8))])
    producer.write("engagements", "e.jsonl", [
        engagement(f"e{n}", f"fan{n}", "v1", days_ago(2, 10), "view", watch_duration_seconds=9.0,
                   completion_percentage=95.0) for n in range(5)])
    lake_args = ["--landing", str(landing), "--lake", str(lake)]
    run(ingest, spark, capsys, *lake_args, "--once")

    def snapshot():
        run(dims, spark, capsys, *lake_args)
        run(daily, spark, capsys, "--lake", str(lake), "--date", day.isoformat())
        return {name: table(spark, lake, name).collect() for name in
                ("dim_users", "dim_users_history", "dim_content", "dim_engagement_type",
                 "fact_content_performance", "fact_creator_analytics")}

    first = snapshot()
    dimension_versions = {name: version(spark, lake, name) for name in ("dim_users", "dim_content", "dim_date")}
    second = snapshot()
    for name, rows in first.items():
        assert sorted(second[name], key=str) == sorted(rows, key=str), name  # str: a period's tier may be null
    assert {name: version(spark, lake, name) for name in dimension_versions} == dimension_versions
    performance = first["fact_content_performance"]
    assert [(r.total_views, r.engagement_score) for r in performance] == [(5, 10)]  # 5 views, bonus each
