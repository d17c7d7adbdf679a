"""Creator tiers by rule (metrics.md "Creator tier") on hand-built rows, at each threshold's edge.

conf/local.toml [tiers]: top >= 1,000,000 followers and consistency >= 0.75 (21 of 28 days),
established >= 100,000 and >= 0.5 (14 days), rising >= 10,000 and >= 0.25 (7 days), else casual.
"""

from __future__ import annotations

import datetime as dt

import pytest
from chispa import assert_df_equality

from jobs.transforms.tiers import TierRules, creators_with_stale_tiers, earlier_engaged_days, with_creator_tier

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


def midnight(days_after: int) -> dt.datetime:
    return dt.datetime.combine(DAY + dt.timedelta(days=days_after), dt.time(), tzinfo=dt.timezone.utc)


def test_only_creators_whose_stored_tiers_contradict_the_facts_are_derived_again(spark):
    tier_days = spark.createDataFrame([
        (1, DAY, "rising"),
        (2, DAY, "rising"),
        (3, DAY, "rising"),
        (4, DAY - dt.timedelta(days=2), "rising"),   # no row on the day: the tier before it holds
        (5, DAY, "rising"),
        (6, DAY, "rising"),
        (7, DAY, "rising"),
        (8, DAY, "rising"), (8, DAY + dt.timedelta(days=3), "top"),  # a later day decides the dimension
    ], "user_key long, event_date date, creator_tier string")
    dim_users = spark.createDataFrame(
        [(1, "rising"), (2, "casual"), (3, "rising"), (4, "rising"), (5, "rising"), (6, "rising"), (8, "top"),
         (9, None)],
        "user_key long, creator_tier string")
    history = spark.createDataFrame([
        (1, "casual", midnight(-9), midnight(-5)), (1, "rising", midnight(-5), None),
        (2, "rising", midnight(-1), None),
        (3, "casual", midnight(-4), None),          # the day's tier is not in the history yet
        (4, "rising", midnight(-2), None),
        (5, "rising", midnight(-9), midnight(-1)),  # no period in force at the day (deleted since)
        (6, "rising", midnight(-3), None), (6, "rising", midnight(-1), None),  # two in force: repaired
        (7, "rising", midnight(-3), None),          # no dim_users row
        (8, "rising", midnight(-2), midnight(3)), (8, "top", midnight(3), None),
        (9, None, midnight(-2), None),              # a creator with no row: expected null tiers, held
    ], "user_key long, creator_tier string, valid_from timestamp, valid_to timestamp")
    creators = spark.createDataFrame([(n,) for n in range(1, 10)], "user_key long")

    stale = creators_with_stale_tiers(creators, tier_days, [DAY], dim_users, history)

    assert sorted(row.user_key for row in stale.collect()) == [2, 3, 5, 6, 7]


def test_each_day_of_a_pass_is_checked_against_its_own_tier(spark):
    day_before = DAY - dt.timedelta(days=1)
    tier_days = spark.createDataFrame([(1, day_before, "casual"), (1, DAY, "rising"),
                                       (2, day_before, "casual"), (2, DAY, "rising")],
                                      "user_key long, event_date date, creator_tier string")
    dim_users = spark.createDataFrame([(1, "rising"), (2, "rising")], "user_key long, creator_tier string")
    history = spark.createDataFrame([
        (1, "casual", midnight(-1), midnight(0)), (1, "rising", midnight(0), None),
        (2, "rising", midnight(-1), None),  # the day before's tier was casual: stale
    ], "user_key long, creator_tier string, valid_from timestamp, valid_to timestamp")
    creators = spark.createDataFrame([(1,), (2,)], "user_key long")

    stale = creators_with_stale_tiers(creators, tier_days, [day_before, DAY], dim_users, history)

    assert [row.user_key for row in stale.collect()] == [2]
