"""The further analyses (metrics.md "Further analyses"), saved views under analytics/views/, on a
small lake written by hand, against answers worked out by hand; and their k-anonymity.

The tables are written as they are, not computed by the jobs: the views only read them, so the
facts need not add up (fact_content_performance is not daily's sum of the engagements below); each
row is chosen so that a rule changes the answer. Users: creators c1 (key 1), c2 (2), cX (3, opted
out of analytics), creZ (4, no user row: counts as consenting); viewers u11..u16, u17 (deleted
account, never active) and uX (19, opted out). Weeks are ISO weeks (Monday 2026-03-02 is 2026-W10).
"""

from __future__ import annotations

import datetime as dt
import math

import pytest
from chispa.rows_comparer import assert_basic_rows_equality
from chispa.schema_comparer import SchemasNotEqualError, assert_schema_equality
from pyspark.sql import Row

from jobs.common.lake import register_tables, table_path
from jobs.common.views import SUPPRESSED_SUFFIX, VIEWS_DIR, create_view, declare_k, register_views, view_files
from schemas import TABLES

pytestmark = pytest.mark.e2e
UTC = dt.timezone.utc

# The views this module answers for (test_saved_views answers for the others).
FURTHER_VIEWS = (
    "visible_discovery_events", "ab_experiment_results", "discovery_ctr_by_position", "personalization_ctr",
    "diversity_by_user_week", "echo_chamber_by_week", "retention_cohorts", "engagement_trends",
    "feature_adoption", "moderation_by_day_category", "creator_audience_growth", "content_strategy",
    "viral_content_patterns", "creator_comparison",
)
NOT_GROUPS = ("visible_discovery_events", "diversity_by_user_week", "creator_audience_growth",  # rows of one
              "creator_comparison")
VIEW, LIKE = 1, 2  # engagement keys (dim_engagement_type)


def d(month: int, day: int) -> dt.date:
    return dt.date(2026, month, day)


def ts(month: int, day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


def hour_key(when: dt.datetime) -> int:
    return int(when.strftime("%Y%m%d%H"))


def rows(name: str, dicts: list[dict]) -> list[tuple]:
    """Rows of table `name` in its schema's column order; columns not given are null."""
    return [tuple(row.get(field) for field in TABLES[name].schema.names) for row in dicts]


USER_NAMES = {1: "c1", 2: "c2", 3: "cX", 4: "creZ", 11: "u11", 12: "u12", 13: "u13", 14: "u14", 15: "u15",
              16: "u16", 17: "u17", 19: "uX"}
REGISTERED = {  # key: registration_date, consent, deleted
    1: (dt.date(2025, 3, 1), True, False), 2: (dt.date(2025, 4, 1), True, False),
    3: (dt.date(2025, 5, 1), False, False),
    11: (d(2, 24), True, False), 12: (d(1, 5), True, False), 13: (d(2, 2), True, False),
    14: (d(2, 4), True, False), 15: (d(2, 8), True, False), 16: (d(2, 3), True, False),
    17: (d(2, 5), True, True), 19: (d(2, 2), False, False),
}
USERS = rows("dim_users", [
    {"user_key": key, "user_id": USER_NAMES[key], "registration_date": registered, "user_type": "consumer",
     "region": "BR", "follower_count": 0, "following_count": 0, "analytics_consent": consent,
     "is_deleted": deleted, "updated_at": ts(1, 1)}
    for key, (registered, consent, deleted) in REGISTERED.items()
])

# key: creator, type, category, duration, music, hashtags, effects, upload, status
VIDEOS = {
    100: (1, "original", "education", 20, None, [], [], ts(1, 10, 12), "approved"),
    101: (1, "original", "dance", 10, "m1", ["dance"], ["bling"], ts(3, 1, 23, 30), "approved"),
    102: (1, "original", "comedy", 15, None, [], [], ts(3, 1, 10), "approved"),
    103: (2, "duet", "dance", 60, "", ["fyp"], None, ts(3, 1, 10), "approved"),
    104: (2, "original", "comedy", 61, "m2", ["lol"], ["glow"], ts(3, 2, 8), "removed"),
    105: (1, "original", "dance", 30, None, [], [], ts(3, 2, 10), "removed"),
    106: (3, "original", "dance", 20, "m1", ["dance"], ["bling"], ts(3, 2, 9), "removed"),  # cX: hidden
    107: (2, "original", "dance", 45, "m3", ["dance"], [], ts(3, 2, 3), "removed"),
}
CONTENT = rows("dim_content", [
    {"content_key": key, "content_id": f"v{key - 100}", "creator_user_key": creator,
     "creator_id": USER_NAMES[creator], "content_type": kind, "category": category, "duration_seconds": seconds,
     "music_id": music, "hashtags": tags, "effects_used": effects, "upload_timestamp": uploaded,
     "moderation_status": status, "is_deleted": False, "updated_at": ts(3, 3)}
    for key, (creator, kind, category, seconds, music, tags, effects, uploaded, status) in VIDEOS.items()
])
# The moderation history: v4 approved, removed at 20:00, then an edit that leaves the status out (no
# change); v5 removed, reinstated, removed again at 06:00 next day (that removal counts); v7 pending,
# then removed; v6 is cX's (hidden).
CDC_CONTENT = rows("cdc_content", [
    {"content_key": key, "content_id": f"v{key - 100}", "op": "upsert", "updated_at": when, "change_id": i,
     "moderation_status": status, "ingested_at": when}
    for i, (key, when, status) in enumerate([
        (104, ts(3, 2, 8), "approved"), (104, ts(3, 2, 20), "removed"), (104, ts(3, 3, 10), None),
        (105, ts(3, 2, 10), None), (105, ts(3, 2, 12), "removed"), (105, ts(3, 2, 18), "approved"),
        (105, ts(3, 3, 6), "removed"),
        (107, ts(3, 2, 3), "pending"), (107, ts(3, 3, 3), "removed"),
        (106, ts(3, 2, 9), "approved"), (106, ts(3, 2, 10), "removed"),
    ])
])
ENGAGEMENT_TYPES = [(VIEW, "view", 1, True), (LIKE, "like", 3, False)]


def engagement(user: int, video: int, when: dt.datetime, kind: int = VIEW, watch: float | None = 10.0) -> dict:
    return {"user_key": user, "user_bucket": user, "content_key": video, "engagement_key": kind,
            "date_key": hour_key(when), "engagement_timestamp": when,
            "watch_duration_seconds": watch if kind == VIEW else None, "completion_percentage": None,
            "engagement_context": "for_you", "user_id": USER_NAMES[user], "content_id": f"v{video - 100}",
            "ingested_at": when, "event_date": when.date()}


ENGAGEMENT_DICTS = [
    # before W10: u16 (registered 3 Feb) in its weeks 1 and 2, u13 (2 Feb) in its week 2
    engagement(16, 100, ts(2, 10)), engagement(13, 100, ts(2, 16)), engagement(16, 100, ts(2, 17)),
    # W10, around the removals: u12's 2 s view does not qualify; u13's view is after v4's removal
    engagement(11, 104, ts(3, 2, 10), watch=5.0), engagement(12, 104, ts(3, 2, 11), watch=2.0),
    engagement(13, 104, ts(3, 2, 21)), engagement(11, 105, ts(3, 2, 13)),
    engagement(14, 105, ts(3, 2, 14), kind=LIKE), engagement(15, 107, ts(3, 2, 5), watch=3.0),
    engagement(19, 107, ts(3, 2, 6)),  # uX opted out
    # W11 (9 Mar): v1 is dance, v2 comedy
    *[engagement(11, 101 if i < 9 else 102, ts(3, 9, 9, i)) for i in range(10)],
    *[engagement(12, 101 if i < 5 else 102, ts(3, 9, 10, i)) for i in range(10)],
    *[engagement(13, 101 if i < 8 else 102, ts(3, 9, 11, i)) for i in range(10)],
    *[engagement(14, 101, ts(3, 9, 12, i)) for i in range(9)],
    engagement(14, 101, ts(3, 9, 13), watch=2.0), engagement(14, 101, ts(3, 9, 14), kind=LIKE),
    *[engagement(19, 101, ts(3, 9, 15, i)) for i in range(10)],  # uX opted out
    *[engagement(15, 106, ts(3, 9, 16, i)) for i in range(10)],  # cX's video
    engagement(12, 103, ts(3, 15), kind=LIKE),  # the lake's latest event_date: 15 Mar
]
ENGAGEMENTS = rows("fact_content_engagements", [
    {**row, "engagement_id": i, "event_id": f"e{i}"} for i, row in enumerate(ENGAGEMENT_DICTS)
])


def impression(user: int, source: str, position: int, clicked: bool, when: dt.datetime, video: int = 101,
               seconds: float | None = None, experiment: str | None = None, variant: str | None = None) -> dict:
    return {"user_key": user, "user_bucket": user, "content_key": video, "date_key": hour_key(when),
            "discovery_source": source, "position_in_feed": position, "discovery_timestamp": when,
            "clicked_through": clicked, "time_to_engagement": (seconds or 1.0) if clicked else None,
            "experiment_id": experiment, "variant": variant, "user_id": USER_NAMES[user],
            "content_id": f"v{video - 100}", "ingested_at": when, "event_date": when.date()}


def trial(experiment: str, variant: str, n: int, users: list[int], clicks: int, seconds) -> list[dict]:
    """n impressions of variant, round-robin over users, the first `clicks` of them clicked after
    seconds(i) seconds; all from search at position 30."""
    return [impression(users[i % len(users)], "search", 30, i < clicks, ts(3, 4), seconds=seconds(i),
                       experiment=experiment, variant=variant) for i in range(n)]


ON_2_MAR = ts(3, 2, 10)
DISCOVERY_DICTS = [
    # exp1: A (control, first by name) 4/20 clicks after 1, 2, 3, 4 s; B 12/20 after 1.5 s
    *trial("exp1", "A", 20, [11, 12, 13], 4, lambda i: i + 1.0),
    *trial("exp1", "B", 20, [14, 15, 16], 12, lambda i: 1.5),
    # exp2: 'control' is the control although 'alpha' comes first by name; 3/10 and 4/10
    *trial("exp2", "control", 10, [11, 12], 3, lambda i: 2.0),
    *trial("exp2", "alpha", 10, [13, 14, 15], 4, lambda i: 4.0),
    impression(19, "search", 30, True, ts(3, 4), experiment="exp1", variant="B"),  # uX opted out
    impression(11, "search", 30, True, ts(3, 4), video=106, experiment="exp1", variant="A"),  # cX's video
    # feed positions on 2 Mar (u11 registered 6 days before: new) and 3 Mar (7 days: established)
    impression(11, "for_you", 0, True, ON_2_MAR), impression(12, "for_you", 0, False, ON_2_MAR),
    impression(13, "for_you", 0, True, ON_2_MAR), impression(11, "for_you", 1, True, ON_2_MAR),
    impression(12, "for_you", 4, False, ON_2_MAR), impression(13, "for_you", 5, True, ON_2_MAR),
    impression(14, "for_you", 10, True, ON_2_MAR), impression(15, "for_you", 11, False, ON_2_MAR),
    impression(11, "following", 2, True, ON_2_MAR), impression(14, "following", 2, False, ON_2_MAR),
    impression(16, "following", 20, True, ON_2_MAR), impression(16, "following", 21, False, ON_2_MAR),
    impression(19, "for_you", 0, True, ON_2_MAR),  # uX opted out
    impression(11, "for_you", 0, True, ON_2_MAR, video=106),  # cX's video
    impression(11, "for_you", 0, False, ts(3, 3, 10)),
]
DISCOVERY = [{**row, "discovery_id": i, "event_id": f"d{i}"} for i, row in enumerate(DISCOVERY_DICTS)]


def performance(video: int, day: dt.date, views: int, completion: float | None, viral: int | None) -> dict:
    return {"content_key": video, "date_key": int(day.strftime("%Y%m%d")) * 100, "total_views": views,
            "unique_viewers": views, "total_likes": 0, "total_comments": 0, "total_shares": 0, "total_saves": 0,
            "engagement_score": views, "completion_rate": completion, "viral_score": viral, "event_date": day}


PERFORMANCE = rows("fact_content_performance", [
    performance(101, d(3, 2), 6, 0.5, 200), performance(101, d(3, 9), 27, 0.9, 600),
    performance(102, d(3, 2), 2, None, 100), performance(102, d(3, 9), 8, 0.3, None),
    performance(103, d(3, 2), 4, 1.0, 800), performance(104, d(3, 2), 1, 0.25, 50),
    performance(105, d(3, 2), 1, 0.75, 100), performance(106, d(3, 2), 9, 1.0, 900),
    performance(107, d(3, 2), 1, 1.0, 300),
])


def creator_day(user: int, day: dt.date, follows: int, unfollows: int) -> dict:
    return {"user_key": user, "date_key": int(day.strftime("%Y%m%d")) * 100, "content_posted": 0,
            "total_views_received": 0, "total_engagements_received": 0, "new_followers": follows,
            "follower_churn": unfollows, "event_date": day}


CREATORS = rows("fact_creator_analytics", [
    creator_day(1, d(3, 2), 3, 1), creator_day(1, d(3, 3), 1, 0), creator_day(1, d(3, 9), 0, 2),
    creator_day(2, d(3, 8), 2, 2), creator_day(2, d(3, 9), 5, 0),
    creator_day(3, d(3, 2), 9, 0),  # cX opted out
    creator_day(4, d(3, 2), 1, 0),  # creZ: no user row
])


@pytest.fixture(scope="module")
def further_lake(spark, tmp_path_factory):
    lake = str(tmp_path_factory.mktemp("further") / "lake")
    for name, table_rows in (
        ("dim_users", USERS), ("dim_users_history", []), ("dim_content", CONTENT),
        ("dim_engagement_type", ENGAGEMENT_TYPES), ("fact_content_engagements", ENGAGEMENTS),
        ("fact_discovery_events", rows("fact_discovery_events", DISCOVERY)), ("fact_content_performance", PERFORMANCE),
        ("fact_creator_analytics", CREATORS), ("cdc_content", CDC_CONTENT),
    ):
        spec = TABLES[name]
        spark.createDataFrame(table_rows, spec.schema).write.format("delta").save(table_path(lake, spec))
    return lake


def two_proportions(control: tuple[int, int], variant: tuple[int, int]) -> tuple[float, float, float, float, bool]:
    """(difference, CI lower, CI upper, z, significant) worked out with Python's statistics module:
    the 95% interval on the unpooled standard error, the z-test on the pooled one."""
    from statistics import NormalDist

    (x1, n1), (x2, n2) = control, variant
    p1, p2 = x1 / n1, x2 / n2
    quantile = NormalDist().inv_cdf(0.975)
    unpooled = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    pooled_p = (x1 + x2) / (n1 + n2)
    z = (p2 - p1) / math.sqrt(pooled_p * (1 - pooled_p) * (1 / n1 + 1 / n2))
    return p2 - p1, p2 - p1 - quantile * unpooled, p2 - p1 + quantile * unpooled, z, abs(z) > quantile


def test_two_proportions_worked_by_hand():
    # exp1: p1 = 4/20 = .2, p2 = 12/20 = .6: unpooled SE sqrt(.2 x .8 / 20 + .6 x .4 / 20) = sqrt(.02)
    # = .141421, so .4 +- 1.959964 x .141421 = [.122819, .677181]; pooled p = 16/40 = .4, SE =
    # sqrt(.4 x .6 x (1/20 + 1/20)) = sqrt(.024) = .154919, z = .4 / .154919 = 2.581989: significant.
    diff, lower, upper, z, significant = two_proportions((4, 20), (12, 20))
    assert (round(diff, 6), round(lower, 6), round(upper, 6), round(z, 6), significant) == (
        0.4, 0.122819, 0.677181, 2.581989, True)
    # exp2: p1 = .3, p2 = .4: SE sqrt(.021 + .024) = .212132, .1 +- .415771 = [-.315771, .515771];
    # pooled .35, SE sqrt(.35 x .65 x .2) = .213307, z = .468807: not significant.
    diff, lower, upper, z, significant = two_proportions((3, 10), (4, 10))
    assert (round(diff, 6), round(lower, 6), round(upper, 6), round(z, 6), significant) == (
        0.1, -0.315771, 0.515771, 0.468807, False)


def expected_views(spark) -> dict:
    def answer(ddl: str, answer_rows: list[tuple]):
        return spark.createDataFrame([], ddl).schema, answer_rows

    exp1_b = two_proportions((4, 20), (12, 20))
    exp2_alpha = two_proportions((3, 10), (4, 10))
    h = math.log2
    week10, week11 = d(3, 2), d(3, 9)
    return {
        # every impression but uX's two and the two of cX's v6
        "visible_discovery_events": answer("event_id string", [
            (given["event_id"],) for given in DISCOVERY if given["user_key"] != 19 and given["content_key"] != 106]),
        # mean time to engagement: A (1 + 2 + 3 + 4) / 4, B 1.5, control 2, alpha 4 (clicked only);
        # the control rows compare with nothing.
        "ab_experiment_results": answer(
            "experiment_id string, variant string, control_variant string, impressions bigint, clicks bigint, "
            "ctr double, mean_time_to_engagement double, ctr_difference double, ci_lower double, "
            "ci_upper double, z_score double, significant boolean", [
                ("exp1", "A", "A", 20, 4, 0.2, 2.5, None, None, None, None, None),
                ("exp1", "B", "A", 20, 12, 0.6, 1.5, *exp1_b),
                ("exp2", "alpha", "control", 10, 4, 0.4, 4.0, *exp2_alpha),
                ("exp2", "control", "control", 10, 3, 0.3, 2.0, None, None, None, None, None),
            ]),
        # for_you 0: u11 (clicked), u12, u13 (clicked) on 2 Mar, u11 on 3 Mar; 10 is in 6-10, 11 and
        # 20 in 11-20; search 21+: the 60 experiment impressions, 4 + 12 + 3 + 4 clicks, u11..u16.
        "discovery_ctr_by_position": answer(
            "discovery_source string, position_bucket string, position_from int, impressions bigint, "
            "clicks bigint, ctr double", [
                ("for_you", "0", 0, 4, 2, 0.5), ("for_you", "1", 1, 1, 1, 1.0), ("for_you", "3-5", 3, 2, 1, 0.5),
                ("for_you", "6-10", 6, 1, 1, 1.0), ("for_you", "11-20", 11, 1, 0, 0.0),
                ("following", "2", 2, 2, 1, 0.5), ("following", "11-20", 11, 1, 1, 1.0),
                ("following", "21+", 21, 1, 0, 0.0), ("search", "21+", 21, 60, 23, 23 / 60),
            ]),
        # u11 (registered 24 Feb) is new on 2 Mar (6 days), established on 3 Mar (7 days)
        "personalization_ctr": answer(
            "event_date date, discovery_source string, user_group string, impressions bigint, clicks bigint, "
            "ctr double", [
                (d(3, 2), "for_you", "new", 2, 2, 1.0), (d(3, 2), "for_you", "established", 6, 3, 0.5),
                (d(3, 2), "following", "new", 1, 1, 1.0), (d(3, 2), "following", "established", 3, 1, 1 / 3),
                (d(3, 3), "for_you", "established", 1, 0, 0.0),
            ]),
        # qualifying views (>= 3 s) by category; u12's 2 s view and u14's 2 s view and likes do not
        # count; uX and cX's v6 are left out. W11: u11 9 dance 1 comedy, u12 5 and 5 (tie: comedy
        # by name), u13 8 and 2, u14 9 dance.
        "diversity_by_user_week": answer(
            "user_key bigint, week_start date, iso_week string, qualifying_views bigint, categories bigint, "
            "entropy_bits double, top_category string, top_category_share double", [
                (16, d(2, 9), "2026-W07", 1, 1, 0.0, "education", 1.0),
                (13, d(2, 16), "2026-W08", 1, 1, 0.0, "education", 1.0),
                (16, d(2, 16), "2026-W08", 1, 1, 0.0, "education", 1.0),
                (11, week10, "2026-W10", 2, 2, 1.0, "comedy", 0.5),
                (13, week10, "2026-W10", 1, 1, 0.0, "comedy", 1.0),
                (15, week10, "2026-W10", 1, 1, 0.0, "dance", 1.0),
                (11, week11, "2026-W11", 10, 2, -(0.9 * h(0.9) + 0.1 * h(0.1)), "dance", 0.9),
                (12, week11, "2026-W11", 10, 2, 1.0, "comedy", 0.5),
                (13, week11, "2026-W11", 10, 2, -(0.8 * h(0.8) + 0.2 * h(0.2)), "dance", 0.8),
                (14, week11, "2026-W11", 9, 1, 0.0, "dance", 1.0),
            ]),
        # W11's active users (>= 10): u11, u12, u13 (u14 has 9); only u11's top share .9 is > .8 (u13's
        # .8 is not). No other week has an active user.
        "echo_chamber_by_week": answer(
            "week_start date, iso_week string, active_users bigint, echo_chamber_users bigint, "
            "echo_chamber_share double, avg_entropy_bits double", [
                (week11, "2026-W11", 3, 1, 1 / 3,
                 (-(0.9 * h(0.9) + 0.1 * h(0.1)) + 1.0 - (0.8 * h(0.8) + 0.2 * h(0.2))) / 3),
            ]),
        # Cohort of 2 Feb: u13, u14, u15, u16 and the deleted u17 (5; uX opted out). Week 1 (days
        # 7-13 after registering): u16 on 10 Feb; week 2: u13 16 Feb, u16 17 Feb; week 4 (28-34): u13
        # 2 Mar (28 days), u14 9 Mar (33). Week 4 of its last day (8 Feb) ends 14 Mar <= 15 Mar, the
        # latest event: known. Cohort of 23 Feb (u11, 24 Feb): active 9 Mar (week 1, ends 14 Mar for
        # a 1 Mar registration); weeks 2 and 4 not over yet: null. u12 (5 Jan), c1, c2: never active
        # in those weeks.
        "retention_cohorts": answer(
            "cohort_week date, cohort_users bigint, active_week_1 bigint, active_week_2 bigint, "
            "active_week_4 bigint, retention_week_1 double, retention_week_2 double, retention_week_4 double", [
                (d(2, 2), 5, 1, 2, 2, 0.2, 0.4, 0.4),
                (d(2, 23), 1, 1, 0, 0, 1.0, None, None),
                (d(1, 5), 1, 0, 0, 0, 0.0, 0.0, 0.0),
                (dt.date(2025, 2, 24), 1, 0, 0, 0, 0.0, 0.0, 0.0),
                (dt.date(2025, 3, 31), 1, 0, 0, 0, 0.0, 0.0, 0.0),
            ]),
        # 2 Mar: u11 (5 + 10 s), u12 (2), u13 (10), u14 (a like), u15 (3): 6 events, 30 s / 5 users.
        # 9 Mar: u11, u12, u13 100 s each, u14 9 x 10 + 2 and a like: 41 events, 392 s / 4.
        "engagement_trends": answer(
            "event_date date, active_users bigint, engagements bigint, engagements_per_active_user double, "
            "watch_seconds_per_active_user double", [
                (d(2, 10), 1, 1, 1.0, 10.0), (d(2, 16), 1, 1, 1.0, 10.0), (d(2, 17), 1, 1, 1.0, 10.0),
                (d(3, 2), 5, 6, 1.2, 6.0), (d(3, 9), 4, 41, 10.25, 98.0), (d(3, 15), 1, 1, 1.0, 0.0),
            ]),
        # 1 Mar: v1 (23:30 UTC: still 1 Mar; effect, music, hashtag), v2 (none), v3 (hashtag; music ''
        # and effects null are none): no views that day. 2 Mar: v4 (all three), v5 (none), v7 (music,
        # hashtag); that day's 15 qualifying views (not cX's v6): effects v1 6 + v4 1 = 7, music v1,
        # v4, v7 = 8, hashtags v1, v3, v4, v7 = 12.
        "feature_adoption": answer(
            "upload_date date, new_videos bigint, share_with_effect double, share_with_music double, "
            "share_with_hashtag double, qualifying_views bigint, views_share_with_effect double, "
            "views_share_with_music double, views_share_with_hashtag double", [
                (d(1, 10), 1, 0.0, 0.0, 0.0, 0, None, None, None),
                (d(3, 1), 3, 1 / 3, 1 / 3, 2 / 3, 0, None, None, None),
                (d(3, 2), 3, 1 / 3, 2 / 3, 2 / 3, 15, 7 / 15, 8 / 15, 12 / 15),
            ]),
        # v4 removed 2 Mar 20:00, 12 h after upload: u11's 5 s view counts, u12's 2 s does not, u13's
        # is after. 3 Mar: v5 (removed again 06:00, 20 h after its 10:00 upload; u11's view of 13:00
        # on 2 Mar was before) and v7 (24 h; u15's 3.0 s view counts, uX's is left out).
        "moderation_by_day_category": answer(
            "removal_date date, category string, removed_videos bigint, avg_hours_to_removal double, "
            "qualifying_views_before_removal bigint", [
                (d(3, 2), "comedy", 1, 12.0, 1),
                (d(3, 3), "dance", 2, 22.0, 2),
            ]),
        # c1 W10: 3 + 1 follows, 1 unfollow; W11: 0 and 2 (no rate); c2 W10 (Sunday 8 Mar) 2 and 2,
        # W11 5 and 0; creZ (no user row) stays; cX is left out.
        "creator_audience_growth": answer(
            "creator_user_key bigint, creator_id string, week_start date, iso_week string, follows bigint, "
            "unfollows bigint, net_follower_growth bigint, churn_rate double", [
                (1, "c1", week10, "2026-W10", 4, 1, 3, 0.25), (1, "c1", week11, "2026-W11", 0, 2, -2, None),
                (2, "c2", week10, "2026-W10", 2, 2, 0, 1.0), (2, "c2", week11, "2026-W11", 5, 0, 5, 0.0),
                (4, None, week10, "2026-W10", 1, 0, 1, 0.0),
            ]),
        # original 15-60 s 10:00 is v2 and v5: viral (100 + 100) / 2 (v2's null day ignored),
        # completion (8 x .3 + 1 x .75) / 9 (v2's null day has no weight); v1 (10 s, 23:30):
        # (200 + 600) / 2, (6 x .5 + 27 x .9) / 33; v0 has no performance rows.
        "content_strategy": answer(
            "content_type string, duration_bucket string, duration_from int, upload_hour int, videos bigint, "
            "avg_viral_score double, completion_rate double", [
                ("original", "15-60s", 15, 10, 2, 100.0, 3.15 / 9),
                ("original", "<15s", 0, 23, 1, 400.0, 27.3 / 33),
                ("duet", "15-60s", 15, 10, 1, 800.0, 1.0),
                ("original", ">60s", 61, 8, 1, 50.0, 0.25),
                ("original", "15-60s", 15, 3, 1, 300.0, 1.0),
                ("original", "15-60s", 15, 12, 1, None, None),
            ]),
        # videos a trending list may show, with performance rows: v1 (dance, original; peaks 200, 600),
        # v2 (comedy, original; 100 and a day without a score), v3 (dance, duet; 800); v0 has no rows,
        # v4, v5, v7 are removed, v6 is cX's. None reaches 1000.
        "viral_content_patterns": answer(
            "category string, content_type string, videos long, trending_videos long, viral_videos long, "
            "trending_share double, viral_share double, avg_peak_viral_score double", [
                ("dance", "original", 1, 1, 0, 1.0, 0.0, 600.0),
                ("comedy", "original", 1, 0, 0, 0.0, 0.0, 100.0),
                ("dance", "duet", 1, 1, 0, 1.0, 0.0, 800.0),
            ]),
        # c1: 3 days, follows 3 + 1 + 0, unfollows 1 + 0 + 2; v1 (6 + 27 views), v2 (2 + 8), v5 (1, removed:
        # history), viral (200 + 600 + 100 + 100) / 4 scored days. c2: 2 days, 7 - 2; v3 (4), v4 (1), v7 (1),
        # (800 + 50 + 300) / 3. creZ: 1 day, no user row, no video. cX opted out. No tier in dim_users:
        # one tier (null), ranked by views: creZ 0, c2 6, c1 44.
        "creator_comparison": answer(
            "creator_user_key long, creator_id string, creator_tier string, active_days long, "
            "net_follower_growth long, videos long, total_views long, avg_viral_score double, "
            "views_percentile_in_tier double", [
                (1, "c1", None, 3, 1, 3, 44, 250.0, 1.0),
                (2, "c2", None, 2, 5, 3, 6, 1150 / 3, 0.5),
                (4, None, None, 1, 1, 0, 0, None, 0.0),
            ]),
    }


def comparable(values) -> tuple:
    """Doubles to 9 decimals: the expected ones are computed in Python, not as the view sums them."""
    return tuple(round(value, 9) if isinstance(value, float) else value for value in values)


def in_order(names: list[str], table_rows) -> list[Row]:
    ordered = sorted((comparable(row) for row in table_rows), key=lambda row: [(v is None, str(v)) for v in row])
    return [Row(**dict(zip(names, row))) for row in ordered]


@pytest.fixture(scope="module")
def registered(spark, further_lake) -> list[str]:
    """The lake's tables and every saved view, k = 0: every group shown (suppression: the last test)."""
    register_tables(spark, further_lake)
    return register_views(spark, k=0)


def test_every_further_analysis_gives_its_known_answer(spark, registered):
    assert sorted(name for name in registered if not name.endswith(SUPPRESSED_SUFFIX)) == sorted(
        path.stem for path in view_files()), "every saved view registers on this lake"
    # a view of the facts: its columns, and (below) which impressions it keeps
    assert spark.table("visible_discovery_events").columns == TABLES["fact_discovery_events"].schema.names
    expected = expected_views(spark)
    assert sorted(expected) == sorted(FURTHER_VIEWS)
    wrong = {}
    for view, (schema, answer_rows) in expected.items():
        actual = spark.table(view).select(schema.names) if view == "visible_discovery_events" else spark.table(view)
        try:  # one Spark action per view: its rows, compared here in a known order
            assert_schema_equality(actual.schema, schema, ignore_nullable=True, ignore_metadata=True)
            assert_basic_rows_equality(in_order(schema.names, actual.collect()), in_order(schema.names, answer_rows))
        except (AssertionError, SchemasNotEqualError) as error:  # every view's difference at once
            wrong[view] = str(error)
    assert not wrong, "\n".join(f"{view}: {error}" for view, error in wrong.items())


# With k = 3, how many groups some views leave out: a group of k - 1 = 2 users goes, one of 3 stays.
SUPPRESSED_AT_3 = {
    "ab_experiment_results": 1,  # exp2 control: u11, u12
    "echo_chamber_by_week": 0,  # W11: 3 active users
    "feature_adoption": 3,  # each upload day's videos come from one or two creators
    "moderation_by_day_category": 1,  # 2 Mar comedy: u11, u12 saw v4 before its removal; 3 Mar dance: 3
    # kept: original 15-60 s 10:00 (v2, v5: u11..u14), v1's group (u11..u14), v4's (u11, u12, u13);
    # left out: v0's (u13, u16), v3's (u12), v7's (u15; uX opted out)
    "content_strategy": 3,
}


def test_a_group_of_k_minus_one_users_is_left_out_and_one_of_k_stays(spark, registered):
    declare_k(spark, 3)  # register_views(k=3) for the further analyses only (the rest: test_saved_views)
    for view in FURTHER_VIEWS:  # in this order, each after the views it reads
        created = create_view(spark, view, (VIEWS_DIR / f"{view}.sql").read_text(encoding="utf-8"), 3)
        assert (len(created) == 2) == (view not in NOT_GROUPS), view
    suppressed = dict(spark.sql(" UNION ALL ".join(  # one Spark action
        f"SELECT '{view}' AS view, suppressed_groups FROM {view}{SUPPRESSED_SUFFIX}" for view in SUPPRESSED_AT_3
    )).collect())
    assert suppressed == SUPPRESSED_AT_3
    # exp2's control is a group of 2: alpha stays (3 users) but shows no comparison, which would give
    # the control's click-through rate away; 3 Mar dance stays, 2 Mar comedy goes.
    ab = spark.table("ab_experiment_results").select("experiment_id", "variant", "ci_lower", "significant")
    moderation = spark.table("moderation_by_day_category").select("removal_date", "category")
    assert sorted(map(tuple, ab.collect())) == [
        ("exp1", "A", None, None), ("exp1", "B", pytest.approx(0.122819, abs=1e-6), True),
        ("exp2", "alpha", None, None)]
    assert [tuple(row) for row in moderation.collect()] == [(d(3, 3), "dance")]
    assert "group_users" not in spark.table("moderation_by_day_category").columns
