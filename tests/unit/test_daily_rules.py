"""Each business rule of the daily facts (metrics.md) on small hand-built frames, edges included."""

from __future__ import annotations

import datetime as dt

import pytest
from chispa import assert_approx_df_equality, assert_df_equality
from pyspark.sql import functions as F

from jobs.transforms.daily import (
    DailyRules,
    baseline_history,
    consenting_engagements,
    content_day_measures,
    creator_baselines,
    day_key,
    to_content_performance,
    to_creator_analytics,
    trending_lists,
)
from tests.timezones import utc

DAY = dt.date(2026, 11, 20)
ENGAGEMENTS = ("content_key long, user_key long, engagement_key int, watch_duration_seconds double, "
               "completion_percentage double")
CONTENT = ("content_key long, content_id string, creator_user_key long, upload_timestamp timestamp, "
           "moderation_status string, is_deleted boolean")
USERS = "user_key long, analytics_consent boolean"
SCORES = "event_date date, content_key long, viral_score int"
VIEW, LIKE, COMMENT, SHARE, SAVE, FOLLOW, UNFOLLOW, DUET, REMIX = range(1, 10)  # conf/local.toml keys


@pytest.fixture(scope="module")
def rules(conf) -> DailyRules:
    return DailyRules.from_conf(conf)


def events(spark, rows, day: dt.date = DAY):
    return spark.createDataFrame(rows, ENGAGEMENTS).withColumn("event_date", F.lit(day))


def measures_of(spark, rules, rows, *columns):
    return content_day_measures(events(spark, rows), rules).select("content_key", *columns)


def test_a_view_qualifies_from_three_seconds(spark, rules):
    actual = measures_of(spark, rules, [
        (1, 10, VIEW, 2.9, 50.0),   # 2.9 s: kept in the facts, not a view in any aggregate
        (1, 11, VIEW, 3.0, 50.0),
        (1, 11, VIEW, 10.0, None),  # the same viewer again: 2 views, 1 viewer
    ], "views", "unique_viewers", "watch_seconds", "completion_sum", "completion_count", "engagement_score")
    expected = spark.createDataFrame([(1, 2, 1, 13.0, 0.5, 1, 2)],
                                     "content_key long, views long, unique_viewers long, watch_seconds double, "
                                     "completion_sum double, completion_count long, engagement_score long")
    assert_approx_df_equality(actual, expected, 1e-12, ignore_nullable=True)


def test_completion_bonus_only_above_eighty_percent(spark, rules):
    actual = measures_of(spark, rules, [
        (1, 10, VIEW, 5.0, 80.0),   # exactly 80: weight 1
        (2, 10, VIEW, 5.0, 80.1),   # above 80: counts twice
        (3, 10, VIEW, 2.0, 100.0),  # not a qualifying view: no points, no bonus
    ], "engagement_score")
    expected = spark.createDataFrame([(1, 1), (2, 2), (3, 0)], "content_key long, engagement_score long")
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_each_type_counts_with_its_weight_and_unfollow_scores_nothing(spark, rules):
    actual = measures_of(spark, rules, [
        (1, 10, LIKE, None, None), (1, 10, COMMENT, None, None), (1, 11, SHARE, None, None),
        (1, 11, SAVE, None, None), (1, 12, FOLLOW, None, None), (1, 13, UNFOLLOW, None, None),
        (1, 13, DUET, None, None), (1, 14, REMIX, None, None),
    ], "likes", "comments", "shares", "saves", "follows", "unfollows", "engagements_received",
        "engagement_score", "views", "unique_viewers")
    expected = spark.createDataFrame(
        [(1, 1, 1, 1, 1, 1, 1, 6, 3 + 5 + 10 + 8 + 6 + 0 + 7 + 7, 0, 0)],
        "content_key long, likes long, comments long, shares long, saves long, follows long, unfollows long, "
        "engagements_received long, engagement_score long, views long, unique_viewers long",
    )
    assert_df_equality(actual, expected, ignore_nullable=True)


def test_opted_out_users_are_left_out_and_unknown_users_count(spark):
    engagements = events(spark, [(1, 10, VIEW, 5.0, None), (1, 11, VIEW, 5.0, None), (1, 12, LIKE, None, None)])
    users = spark.createDataFrame([(10, True), (11, False)], USERS)  # 12 is not in dim_users yet
    actual = consenting_engagements(engagements, users).select("user_key")
    expected = spark.createDataFrame([(10,), (12,)], "user_key long")
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def performance(spark, rules, measures_rows, history_rows, content_rows):
    measures = content_day_measures(events(spark, measures_rows), rules)
    content = spark.createDataFrame(content_rows, CONTENT)
    history = spark.createDataFrame(history_rows, "content_key long, engagement_score long").withColumn(
        "event_date", F.lit(DAY - dt.timedelta(days=1)))
    scores = history.unionByName(measures.select("content_key", "engagement_score", "event_date"))
    return to_content_performance(measures, content, creator_baselines(scores, content, [DAY], rules), rules)


def video(content_key, creator, uploaded=utc(2026, 11, 1), status="approved", deleted=False):
    return (content_key, f"c{content_key}", creator, uploaded, status, deleted)


def test_viral_score_against_the_creators_baseline_or_the_platform_mean(spark, rules):
    actual = performance(
        spark, rules,
        measures_rows=[
            *[(1, u, SHARE, None, None) for u in range(10)],   # creator 100: score 100
            *[(2, u, LIKE, None, None) for u in range(2)],     # creator 200, no history: score 6
            (3, 1, LIKE, None, None),                          # creator unknown to dim_content: score 3
        ],
        history_rows=[(1, 10), (4, 30)],  # creator 100's videos averaged 20 per day
        content_rows=[video(1, 100), video(2, 200), video(4, 100)],
    ).select("content_key", "date_key", "engagement_score", "viral_score")
    platform_mean = (100 + 6 + 3) / 3
    expected = spark.createDataFrame(
        [(1, day_key(DAY), 100, 500),
         (2, day_key(DAY), 6, round(100 * 6 / platform_mean)),
         (3, day_key(DAY), 3, round(100 * 3 / platform_mean))],
        "content_key long, date_key int, engagement_score long, viral_score int",
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_baseline_window_is_the_30_days_before_the_day(spark, rules):
    """Rows 30 days before and the day before count; 31 days before and the day itself do not."""
    assert rules.baseline_days == 30
    days_before = {n: DAY - dt.timedelta(days=n) for n in (31, 30, 1)}
    performance_rows = spark.createDataFrame(
        [(1, 1000, days_before[31]), (2, 10, days_before[30]), (3, 30, days_before[1]), (4, 5000, DAY)],
        "content_key long, engagement_score long, event_date date",
    )
    content = spark.createDataFrame([video(n, 100) for n in (1, 2, 3, 4)], CONTENT)
    history = baseline_history(performance_rows, [DAY], rules)  # the day's own row is not the lake's to give
    assert sorted(r["content_key"] for r in history.collect()) == [2, 3]
    baselines = creator_baselines(performance_rows, content, [DAY], rules)
    expected = spark.createDataFrame([(100, DAY, 20.0)], "creator_user_key long, event_date date, creator_baseline double")
    assert_df_equality(baselines, expected, ignore_nullable=True)

    measures = content_day_measures(events(spark, [(4, u, SHARE, None, None) for u in range(10)]), rules)
    viral = to_content_performance(measures, content, baselines, rules).select("content_key", "viral_score")
    assert_df_equality(viral, spark.createDataFrame([(4, 500)], "content_key long, viral_score int"),
                       ignore_nullable=True)  # 100 points against the window's mean of 20


def test_baseline_is_never_below_one(spark, rules):
    actual = performance(
        spark, rules,
        measures_rows=[(1, 10, LIKE, None, None)],
        history_rows=[(1, 0)],  # the creator's history scored nothing
        content_rows=[video(1, 100)],
    ).select("content_key", "viral_score")
    expected = spark.createDataFrame([(1, 300)], "content_key long, viral_score int")
    assert_df_equality(actual, expected, ignore_nullable=True)


def test_averages_cover_qualifying_views_only(spark, rules):
    actual = performance(
        spark, rules,
        measures_rows=[(1, 10, VIEW, 4.0, 50.0), (1, 11, VIEW, 8.0, None), (1, 12, VIEW, 1.0, 90.0),
                       (2, 10, LIKE, None, None)],
        history_rows=[],
        content_rows=[video(1, 100)],
    ).select("content_key", "total_views", "unique_viewers", "total_likes", "avg_watch_duration", "completion_rate")
    expected = spark.createDataFrame(
        [(1, 2, 2, 0, 6.0, 0.5), (2, 0, 0, 1, None, None)],
        "content_key long, total_views int, unique_viewers int, total_likes int, avg_watch_duration double, "
        "completion_rate double",
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_trending_keeps_the_48_hours_best_first_without_removed_videos(spark, rules):
    before, two_before = DAY - dt.timedelta(days=1), DAY - dt.timedelta(days=2)
    scores = spark.createDataFrame(
        [(DAY, 1, 600), (DAY, 2, 400), (DAY, 3, 2000), (DAY, 5, 900),
         (before, 2, 1000), (before, 4, 700), (before, 1, 100),
         (two_before, 6, 5000)],  # 48 hours before: out of the day's window
        SCORES)
    content = spark.createDataFrame(
        [video(1, 100), video(2, 100), video(3, 100, status="removed"), video(4, 100), video(5, 200, deleted=True),
         video(6, 100)],
        CONTENT,
    )
    actual = trending_lists(scores, content, [DAY], rules)
    # 1: 600 + 50 = 650; 2: 400 + 500 = 900; 4: 0 + 350 = 350; 3 removed, 5 taken down.
    expected = spark.createDataFrame([(100, DAY, '["c2","c1","c4"]')],
                                     "user_key long, event_date date, trending_content_ids string")
    assert_df_equality(actual, expected, ignore_nullable=True)


def test_trending_lists_of_two_days_in_one_pass_each_see_their_own_day_before(spark, rules):
    before = DAY - dt.timedelta(days=1)
    scores = spark.createDataFrame([(before, 1, 600), (before, 2, 100), (DAY, 2, 800)], SCORES)
    content = spark.createDataFrame([video(1, 100), video(2, 100)], CONTENT)
    actual = trending_lists(scores, content, [before, DAY], rules)
    # the day before: c1 alone (c2's 100 is not Trending); the day: c2 800 + 50, c1 0 + 300.
    expected = spark.createDataFrame([(100, before, '["c1"]'), (100, DAY, '["c2","c1"]')],
                                     "user_key long, event_date date, trending_content_ids string")
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_trending_lists_at_most_the_configured_number(spark, rules):
    count = rules.trending_limit + 3
    today = spark.createDataFrame([(DAY, n, 500 + n) for n in range(count)], SCORES)
    content = spark.createDataFrame([video(n, 100) for n in range(count)], CONTENT)
    listed = trending_lists(today, content, [DAY], rules).first()["trending_content_ids"]
    assert listed == "[" + ",".join(f'"c{n}"' for n in reversed(range(3, count))) + "]"


def test_creator_analytics_rows_for_activity_without_opted_out_creators(spark, rules):
    measures = content_day_measures(events(spark, [
        (1, 10, VIEW, 5.0, None), (1, 11, LIKE, None, None), (1, 12, FOLLOW, None, None),
        (1, 13, UNFOLLOW, None, None), (2, 10, VIEW, 1.0, None),  # creator 200: a 1 s view only
        (3, 10, LIKE, None, None),                                 # creator 300 opted out
    ]), rules)
    content = spark.createDataFrame([
        video(1, 100), video(2, 200), video(3, 300),
        video(4, 400, uploaded=utc(2026, 11, 20, 23, 59)),  # posted today, nothing received
        video(5, 100, uploaded=utc(2026, 11, 20, 0, 0)),
    ], CONTENT)
    users = spark.createDataFrame([(300, False), (100, True)], USERS)
    trending = spark.createDataFrame([(100, DAY, '["c1"]')], "user_key long, event_date date, trending_content_ids string")
    actual = to_creator_analytics(measures, content, users, trending, [DAY])
    expected = spark.createDataFrame(
        [
            (100, day_key(DAY), 1, 1, 1, 1, 1, 1.0, '["c1"]', DAY),
            (200, day_key(DAY), 0, 0, 0, 0, 0, None, "[]", DAY),  # no qualifying view: rate null
            (400, day_key(DAY), 1, 0, 0, 0, 0, None, "[]", DAY),
        ],
        "user_key long, date_key int, content_posted int, total_views_received int, "
        "total_engagements_received int, new_followers int, follower_churn int, engagement_rate double, "
        "trending_content_ids string, event_date date",
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_day_key_is_hour_zero_of_the_day():
    assert day_key(dt.date(2026, 10, 1)) == 2026100100
