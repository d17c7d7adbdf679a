"""CDC change logs -> current-state dimensions and attribute history, on hand-built changes."""

from __future__ import annotations

import datetime as dt

from chispa import assert_df_equality
from pyspark.sql import functions as F
from tests.timezones import as_utc

from jobs.transforms.changes import (
    history_changes,
    to_content_changes,
    to_dim_content,
    to_dim_users,
    to_user_changes,
    to_user_history,
)

USER_LINES = ("op string, user_id string, updated_at timestamp, registration_date date, user_type string, "
              "creator_tier string, region string, follower_count long, following_count long, "
              "analytics_consent boolean, source_file string")
CONTENT_LINES = ("op string, content_id string, updated_at timestamp, creator_user_id string, content_type string, "
                 "category string, duration_seconds long, music_id string, hashtags array<string>, "
                 "effects_used array<string>, upload_timestamp timestamp, moderation_status string, source_file string")
INGESTED = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
REGISTERED = dt.date(2025, 1, 1)


def at(day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, tzinfo=dt.UTC)


def upsert(user: str, when: dt.datetime, tier: str | None = "casual", user_type: str = "creator",
           region: str = "FR", followers: int = 10, consent: bool | None = None, file: str = "f1"):
    return ("upsert", user, when, REGISTERED, user_type, tier, region, followers, 3, consent, file)


def delete(user: str, when: dt.datetime, file: str = "f1"):
    return ("delete", user, when, None, None, None, None, None, None, None, file)


def user_changes(spark, rows):
    return to_user_changes(spark.createDataFrame(rows, USER_LINES), INGESTED)


def test_latest_updated_at_wins_whatever_the_arrival_order(spark):
    in_file_order = [upsert("u1", at(20), region="DE", file="b"), upsert("u1", at(10), region="FR", file="a"),
                     upsert("u2", at(5), tier=None, user_type="consumer", consent=False)]
    actual = to_dim_users(user_changes(spark, in_file_order)).select(
        "user_id", "region", "user_type", "analytics_consent", "is_deleted", "updated_at")
    expected = spark.createDataFrame(
        [("u1", "DE", "creator", True, False, at(20)),   # consent not sent: true
         ("u2", "FR", "consumer", False, False, at(5))],
        "user_id string, region string, user_type string, analytics_consent boolean, is_deleted boolean, "
        "updated_at timestamp",
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_a_delete_keeps_the_last_attributes_and_flags_the_row(spark):
    changes = user_changes(spark, [delete("u1", at(20)), upsert("u1", at(10), region="DE"),
                                   upsert("u2", at(10)), delete("u2", at(10))])  # same instant: delete wins
    actual = to_dim_users(changes).select("user_id", "region", "is_deleted", "updated_at")
    expected = spark.createDataFrame([("u1", "DE", True, at(20)), ("u2", "FR", True, at(10))],
                                     "user_id string, region string, is_deleted boolean, updated_at timestamp")
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_a_repeated_change_is_logged_once(spark):
    same = upsert("u1", at(10), file="b")
    changes = user_changes(spark, [same, same[:-1] + ("a",), upsert("u1", at(10), followers=11)])
    actual = changes.select("follower_count", "source_file")
    # The repeat is the same change (kept from its first file); another change at the same instant is not.
    expected = spark.createDataFrame([(10, "a"), (11, "f1")], "follower_count long, source_file string")
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_history_has_a_period_per_attribute_change_and_closes_at_deletion(spark):
    changes = user_changes(spark, [
        upsert("u1", at(1), tier="casual"),
        upsert("u1", at(3), tier="top", followers=500),   # same attributes (the feed's tier is not one): no period
        upsert("u1", at(5), region="PT"),
        delete("u1", at(9)),
        upsert("u2", at(2), tier=None, user_type="consumer"),
        upsert("u2", at(4), tier="casual", user_type="both", region="DE"),
    ])
    actual = to_user_history(changes).select("user_id", "user_type", "creator_tier", "region", "valid_from",
                                             "valid_to", "is_current")
    expected = spark.createDataFrame(
        [
            ("u1", "creator", None, "FR", at(1), at(5), False),
            ("u1", "creator", None, "PT", at(5), at(9), False),  # ended by the deletion
            ("u2", "consumer", None, "FR", at(2), at(4), False),
            ("u2", "both", None, "DE", at(4), None, True),
        ],
        "user_id string, user_type string, creator_tier string, region string, valid_from timestamp, "
        "valid_to timestamp, is_current boolean",
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_history_ignores_arrival_order_and_reopens_after_a_restore(spark):
    rows = [upsert("u1", at(7), region="DE"), delete("u1", at(5)), upsert("u1", at(1), region="FR")]
    actual = to_user_history(user_changes(spark, rows)).select("region", "valid_from", "valid_to", "is_current")
    expected = spark.createDataFrame([("FR", at(1), at(5), False), ("DE", at(7), None, True)],
                                     "region string, valid_from timestamp, valid_to timestamp, is_current boolean")
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_history_changes_flag_the_periods_that_no_longer_exist(spark):
    recomputed = to_user_history(user_changes(spark, [upsert("u1", at(1)), upsert("u1", at(5), region="PT")]))
    existing = to_user_history(user_changes(spark, [upsert("u1", at(1)), upsert("u1", at(3), region="DE")]))
    actual = history_changes(recomputed, existing).select("region", "valid_from", "valid_to", "_stale")
    expected = spark.createDataFrame(
        [("FR", at(1), at(5), False), ("PT", at(5), None, False), ("DE", at(3), None, True)],
        "region string, valid_from timestamp, valid_to timestamp, _stale boolean",
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_content_links_its_creator_with_the_users_surrogate_key(spark):
    lines = spark.createDataFrame([
        ("upsert", "c1", at(1), "u9", "original", "dance", 15, None, ["#a"], [], at(1), None, "f"),
        ("upsert", "c1", at(3), "u9", "original", "comedy", 15, "m1", ["#a"], [], at(1), "removed", "f"),
        ("delete", "c2", at(4), None, None, None, None, None, None, None, None, None, "f"),
        ("upsert", "c2", at(2), "u8", "duet", "dance", 30, None, None, None, at(2), None, "f"),
    ], CONTENT_LINES)
    actual = to_dim_content(to_content_changes(lines, INGESTED)).select(
        "content_id", "creator_id", "creator_user_key", "category", "moderation_status", "is_deleted")
    expected = spark.createDataFrame(
        [("c1", "u9", "comedy", "removed", False), ("c2", "u8", "dance", "approved", True)],
        "content_id string, creator_id string, category string, moderation_status string, is_deleted boolean",
    ).select("content_id", "creator_id", F.xxhash64("creator_id").alias("creator_user_key"), "category",
             "moderation_status", "is_deleted")
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def video(content: str, when: dt.datetime, status: str | None = None, category: str = "dance", file: str = "f"):
    return ("upsert", content, when, "u9", "original", category, 15, None, ["#a"], [], at(1), status, file)


def consent_of(spark, rows):
    return to_dim_users(user_changes(spark, rows)).select("user_id", "analytics_consent")


def test_an_omitted_consent_keeps_the_last_one_sent_whatever_the_arrival_order(spark):
    rows = [
        upsert("kept", at(1), consent=False), upsert("kept", at(5), followers=99),  # omitted: still out
        upsert("never", at(1)), upsert("never", at(5)),                             # never sent: true
        upsert("back", at(1), consent=False), upsert("back", at(5), consent=True),  # re-opt-in works
        # A newer opt-out, a newest change without consent, then an older opt-in arriving last.
        upsert("late", at(5), consent=False), upsert("late", at(9), region="DE"), upsert("late", at(3), consent=True),
        upsert("deleted", at(1), consent=False), delete("deleted", at(4)), upsert("deleted", at(6)),  # restored
    ]
    expected = spark.createDataFrame(
        [("kept", False), ("never", True), ("back", True), ("late", False), ("deleted", False)],
        "user_id string, analytics_consent boolean",
    )
    assert_df_equality(consent_of(spark, rows), expected, ignore_row_order=True, ignore_nullable=True)
    assert_df_equality(consent_of(spark, rows[::-1]), expected, ignore_row_order=True, ignore_nullable=True)


def test_an_omitted_moderation_status_keeps_a_removal(spark):
    rows = [
        video("kept", at(1), "removed"), video("kept", at(5), category="comedy"),   # omitted: still removed
        video("never", at(1)), video("never", at(5)),                               # never sent: approved
        video("back", at(1), "removed"), video("back", at(5), "approved"),          # reinstated explicitly
        video("late", at(5), "removed"), video("late", at(9)), video("late", at(3), "approved"),  # older, later
    ]
    expected = spark.createDataFrame(
        [("kept", "removed"), ("never", "approved"), ("back", "approved"), ("late", "removed")],
        "content_id string, moderation_status string",
    )
    for order in (rows, rows[::-1]):
        actual = to_dim_content(to_content_changes(spark.createDataFrame(order, CONTENT_LINES), INGESTED))
        assert_df_equality(actual.select("content_id", "moderation_status"), expected, ignore_row_order=True,
                           ignore_nullable=True)


def test_two_changes_at_one_instant_give_one_period_whatever_the_order(spark):
    pair = [upsert("u1", at(5), region="PT", file="b"), upsert("u1", at(5), user_type="both", region="DE", file="a")]
    rest = [upsert("u1", at(1)), upsert("u1", at(8), user_type="both", region="DE", followers=50)]
    results = []
    for order in (rest[:1] + pair + rest[1:], pair[::-1] + rest[::-1]):
        changes = user_changes(spark, order)
        results.append((to_dim_users(changes), to_user_history(changes).orderBy("valid_from")))
    (dim, history), (other_dim, other_history) = results
    assert_df_equality(dim, other_dim, ignore_row_order=True)
    assert_df_equality(history, other_history)
    periods = [(r.region, as_utc(r.valid_from), as_utc(r.valid_to)) for r in history.collect()]
    pt_won = [("FR", at(1), at(5)), ("PT", at(5), at(8)), ("DE", at(8), None)]
    de_won = [("FR", at(1), at(5)), ("DE", at(5), None)]  # the change at 8 repeats its attributes
    assert periods in (pt_won, de_won)


TIER_DAYS = "user_id string, event_date date, creator_tier string"


def tier_days(spark, rows):
    """fact_creator_analytics' (user_key, event_date, creator_tier) from (user_id, day of November, tier)."""
    frame = spark.createDataFrame([(u, dt.date(2026, 11, d), t) for u, d, t in rows], TIER_DAYS)
    return frame.select(F.xxhash64("user_id").alias("user_key"), "event_date", "creator_tier")


def test_the_dimension_takes_the_tier_of_the_latest_daily_row_never_the_feeds(spark):
    changes = user_changes(spark, [upsert("u1", at(1), tier="top"), upsert("u2", at(1), tier="top"),
                                   upsert("u3", at(1), tier=None, user_type="consumer")])
    days = tier_days(spark, [("u1", 3, "rising"), ("u1", 9, "established"), ("u1", 5, "top"), ("u2", 2, "casual")])
    actual = to_dim_users(changes, days).select("user_id", "creator_tier")
    expected = spark.createDataFrame([("u1", "established"), ("u2", "casual"), ("u3", None)],
                                     "user_id string, creator_tier string")
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_history_weaves_the_daily_tiers_into_the_feeds_periods(spark):
    changes = user_changes(spark, [
        upsert("u1", at(3), tier="top"),          # the feed's tier plays no part
        upsert("u1", at(6), region="DE"),         # at the midnight of a tier day
        delete("u1", at(12)),
    ])
    days = tier_days(spark, [
        ("u1", 1, "casual"),                      # before the first change: the first period's tier
        ("u1", 4, "casual"),                      # same tier: no period
        ("u1", 6, "rising"),
        ("u1", 8, "rising"),
        ("u1", 13, "top"),                        # after the deletion: no period
        ("u9", 6, "top"),                         # no change log: no history
    ])
    actual = to_user_history(changes, days).select("user_id", "creator_tier", "region", "valid_from", "valid_to",
                                                   "is_current")
    expected = spark.createDataFrame(
        [
            ("u1", "casual", "FR", at(3), at(6), False),
            ("u1", "rising", "DE", at(6), at(12), False),   # one period for the change and the day
        ],
        "user_id string, creator_tier string, region string, valid_from timestamp, valid_to timestamp, "
        "is_current boolean",
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)
