"""The data model's two example queries, through `sql --file`, on a lake whose answers are worked
out by hand from the events below (the saved views' known answers: test_saved_views.py)."""

from __future__ import annotations

import json

import pytest
from chispa import assert_approx_df_equality

from jobs import daily, dims, ingest, sql
from jobs.common.views import ANALYTICS_DIR, view_files
from schemas.tables import ARCHIVED_TABLES
from tests.e2e.producer import Landing
from tests.e2e.test_dims_daily_e2e import content_change, days_ago, engagement, run, user_change

pytestmark = pytest.mark.e2e


def views(n: int, video: str, day: int, prefix: str) -> list[str]:
    return [engagement(f"{prefix}{i}", f"fan{i}", video, days_ago(day, 9), "view", watch_duration_seconds=10.0,
                       completion_percentage=50.0) for i in range(n)]


def events(kind: str, n: int, video: str, day: int, prefix: str) -> list[str]:
    return [engagement(f"{prefix}{i}", f"fan{i}", video, days_ago(day, 10), kind) for i in range(n)]


@pytest.fixture(scope="module")
def example_lake(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("analytics")
    landing, lake = root / "landing", root / "lake"
    producer = Landing(landing)
    producer.write("users", "u.jsonl", [
        user_change("cre1", days_ago(40), "top"),
        user_change("cre2", days_ago(40), "casual", user_type="both"),
        user_change("cre2", days_ago(5), "rising", user_type="both"),  # a promotion: tier progression
    ])
    producer.write("content", "c.jsonl", [
        content_change("v1", "cre1", days_ago(20), days_ago(20), hashtags=["dance"], effects_used=["bling"]),
        content_change("v2", "cre1", days_ago(20), days_ago(20)),
        content_change("v3", "cre2", days_ago(20), days_ago(20), category="comedy"),
    ])
    producer.write("engagements", "e.jsonl", [
        *views(4, "v1", 1, "a"), *events("like", 2, "v1", 1, "b"), *events("comment", 1, "v1", 1, "c"),
        *events("share", 1, "v1", 1, "d"),
        *views(1, "v2", 2, "e"), *events("like", 1, "v2", 2, "f"),
        *views(2, "v3", 1, "g"), *events("share", 1, "v3", 1, "h"), *events("follow", 1, "v3", 1, "i"),
    ])
    producer.write("discovery", "d.jsonl", [json.dumps({
        "discovery_id": f"d{i}", "user_id": f"fan{i}", "content_id": "v1", "discovery_source": "for_you",
        "position_in_feed": i, "discovery_timestamp": "2026-11-20T10:00:00Z", "clicked_through": i % 2 == 0,
    }) for i in range(4)])
    return landing, lake


def answer(spark, capsys, lake, query_file):
    capsys.readouterr()
    # k = 1: this lake's groups are one or two creators (k-anonymity: test_saved_views)
    code = sql.main(["--lake", str(lake), "--format", "json", "--set", "analytics.k_anonymity=1",
                     "--file", str(ANALYTICS_DIR / query_file)], spark=spark)
    lines = capsys.readouterr().out.splitlines()
    assert code == 0, lines[-1:]
    # every saved view registers on a lake the jobs built, a view that groups users with its _suppressed
    grouped = sum(1 for path in view_files() if "group_users" in path.read_text(encoding="utf-8"))
    # and each archived fact table's <table>_all (this lake has no archive yet)
    assert json.loads(lines[-1])["views"] == len(view_files()) + grouped + len(ARCHIVED_TABLES), lines[-1]
    return [json.loads(line) for line in lines[:-1]]  # the last line is the job's status


def test_the_model_queries_answer_correctly(spark, capsys, example_lake):
    landing, lake = example_lake
    lake_args = ["--landing", str(landing), "--lake", str(lake)]
    run(ingest, spark, capsys, *lake_args, "--once")
    run(dims, spark, capsys, *lake_args)
    run(daily, spark, capsys, "--lake", str(lake), "--from", days_ago(2).date().isoformat(),
        "--to", days_ago(1).date().isoformat())

    trending = answer(spark, capsys, lake, "trending_content.sql")
    # The model's score: likes + 5 x comments + 10 x shares. v1: 2 + 5 + 10 = 17, v3: 10, v2: 1.
    # Baselines (mean daily engagements received): cre1 (4 + 1) / 2 = 2.5, cre2 1 (a follow is none).
    # Viral above 10x the baseline, Trending above 5x: v1 17 > 12.5, v3 10 > 5, v2 1 is Normal.
    expected_trending = [
        {"content_id": "v1", "category": "dance", "total_views": 4, "engagement_score": 17,
         "avg_completion_rate": 0.5, "content_status": "Trending"},
        {"content_id": "v3", "category": "comedy", "total_views": 2, "engagement_score": 10,
         "avg_completion_rate": 0.5, "content_status": "Trending"},
        {"content_id": "v2", "category": "dance", "total_views": 1, "engagement_score": 1,
         "avg_completion_rate": 0.5, "content_status": "Normal"},
    ]
    assert trending == expected_trending

    tiers = answer(spark, capsys, lake, "creator_tier_analysis.sql")
    # The tiers are the lake's, not the feed's "top" and "rising": 100 followers each, so both are
    # casual. cre1: views 4 and 1, rate 4/4 and 1/1; cre2: 2 views, 1 engagement, 1 follower.
    expected_tiers = spark.createDataFrame(
        [("casual", 2, 7 / 3, 2.5 / 3, 1 / 3, 0)],
        "creator_tier string, creator_count long, avg_daily_views double, avg_engagement_rate double, "
        "avg_net_follower_growth double, groups_suppressed long",
    )
    actual_tiers = spark.createDataFrame([tuple(row.values()) for row in tiers], expected_tiers.schema)
    assert_approx_df_equality(actual_tiers, expected_tiers, 1e-12)
