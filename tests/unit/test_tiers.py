"""Creator tiers by rule (metrics.md "Creator tier") on hand-built rows, at each threshold's edge.

conf/local.toml [tiers]: top >= 1,000,000 followers and consistency >= 0.75 (21 of 28 days),
established >= 100,000 and >= 0.5 (14 days), rising >= 10,000 and >= 0.25 (7 days), else casual.
"""

from __future__ import annotations

import datetime as dt

import pytest
from chispa import assert_df_equality

from jobs.transforms.tiers import TierRules, earlier_engaged_days, with_creator_tier

DAY = dt.date(2026, 11, 28)
CREATOR_ROWS = "user_key long, total_engagements_received int, event_date date"
HISTORY = "user_key long, event_date date, total_engagements_received int"


@pytest.fixture(scope="module")
def rules(conf) -> TierRules:
    return TierRules.from_conf(conf)


def engaged_on(user_key: int, days_before: list[int], engagements: int = 1) -> list[tuple]:
    return [(user_key, DAY - dt.timedelta(days=n), engagements) for n in days_before]


def test_rules_come_from_the_configuration(rules):
    assert rules.window_days == 28 and rules.fallback == "casual"
    assert [(lvl.tier, lvl.min_followers, lvl.min_consistency) for lvl in rules.levels] == [
        ("top", 1_000_000, 0.75), ("established", 100_000, 0.5), ("rising", 10_000, 0.25)]


def test_earlier_engaged_days_count_the_window_before_the_day_only(spark, rules):
    history = spark.createDataFrame(
        engaged_on(1, [0, 1, 27, 28])     # the day itself and day 28 before are outside: 2 days
        + engaged_on(2, [3], engagements=0)  # a row without engagements (posted only): not engaged
        + engaged_on(3, [5, 5])            # one day counted once
        + engaged_on(3, [0], engagements=0),  # the day's own row (daily's new row of the day)
        HISTORY)
    actual = earlier_engaged_days(history, [DAY], rules)
    expected = spark.createDataFrame([(1, DAY, 2), (3, DAY, 1)], "user_key long, event_date date, engaged_days bigint")
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_a_day_computed_in_the_same_pass_counts_for_the_days_after_it(spark, rules):
    before = DAY - dt.timedelta(days=1)
    history = spark.createDataFrame(engaged_on(1, [1, 0]) + engaged_on(2, [1], engagements=0) + engaged_on(2, [0]),
                                    HISTORY)
    actual = earlier_engaged_days(history, [before, DAY], rules)
    expected = spark.createDataFrame([(1, DAY, 1)], "user_key long, event_date date, engaged_days bigint")
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_each_tier_needs_both_minimums_exactly_at_the_edge(spark, rules):
    # (user, followers, earlier engaged days, engagements today): consistency = (days + today) / 28
    cases = [
        (1, 1_000_000, 20, 1, "top"),          # 21/28 = 0.75 and 1,000,000: top at both edges
        (2, 1_000_000, 20, 0, "established"),  # 20/28 < 0.75: the next tier whose minimums are met
        (3, 999_999, 27, 5, "established"),    # one follower short of top
        (4, 100_000, 13, 1, "established"),    # 14/28 = 0.5
        (5, 100_000, 13, 0, "rising"),         # 13/28
        (6, 10_000, 6, 1, "rising"),           # 7/28 = 0.25
        (7, 10_000, 6, 0, "casual"),           # 6/28
        (8, 9_999, 27, 1, "casual"),           # always engaged, too few followers
        (9, None, 27, 1, "casual"),            # unknown to dim_users: no followers
        (10, 5_000_000, None, 0, "casual"),    # no engaged day in the window
    ]
    rows = spark.createDataFrame([(u, today, DAY) for u, _, _, today, _ in cases], CREATOR_ROWS)
    earlier = spark.createDataFrame([(u, DAY, days) for u, _, days, _, _ in cases if days is not None],
                                    "user_key long, event_date date, engaged_days bigint")
    followers = spark.createDataFrame([(u, f) for u, f, _, _, _ in cases if f is not None],
                                      "user_key long, follower_count int")
    actual = with_creator_tier(rows, earlier, followers, rules).select("user_key", "creator_tier")
    expected = spark.createDataFrame([(u, tier) for u, _, _, _, tier in cases], "user_key long, creator_tier string")
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)
