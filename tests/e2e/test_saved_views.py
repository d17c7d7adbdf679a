"""Every saved view (analytics/views/*.sql) and the model's two queries, on a small lake written by
hand, against answers worked out by hand: a removed video, a taken-down one, a viewer and a creator
who opted out of analytics (after their days were computed: the facts still hold them), a creator
and a viewer the lake has no user row for (they count as consenting), and normal rows.

The facts are written as they are, not computed by daily: the views only read them, so their
numbers need not add up; they are chosen so that each rule changes the answer.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from chispa import assert_df_equality

from jobs import sql
from jobs.common.lake import register_tables, table_path
from jobs.common.config import load_conf
from jobs.common.views import ANALYTICS_DIR, SUPPRESSED_SUFFIX, register_views, view_files
from schemas import TABLES
from tests.e2e.test_further_analyses import FURTHER_VIEWS

pytestmark = pytest.mark.e2e
UTC = dt.timezone.utc
TODAY = dt.datetime.now(UTC).date()  # CURRENT_DATE of the model's queries (the session's zone is UTC)
# Yesterday and today: both stay inside the 48-hour window even when the run crosses midnight UTC.
D1, D2 = TODAY - dt.timedelta(days=1), TODAY


def at(day: dt.date, hour: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def hour_key(day: dt.date, hour: int = 0) -> int:
    return int(day.strftime("%Y%m%d")) * 100 + hour


def stamp(month: int, day: int) -> dt.datetime:
    return dt.datetime(2026, month, day, tzinfo=UTC)


# Users: cre1, cre2 creators; creX a creator who opted out; fan1 a viewer, fanX a viewer who opted
# out, gone a deleted account. fan9 (key 13) and creZ (key 4) have no row: they count as consenting.
USERS = [
    (1, "cre1", dt.date(2025, 3, 1), "creator", "top", "BR", 2_000_000, 10, True, False, stamp(3, 12)),
    (2, "cre2", dt.date(2025, 4, 1), "both", "rising", "US", 20_000, 30, True, False, stamp(3, 1)),
    (3, "creX", dt.date(2025, 5, 1), "creator", "established", "DE", 200_000, 5, False, False, stamp(1, 11)),
    (11, "fan1", dt.date(2025, 6, 1), "consumer", None, "BR", 3, 40, True, False, stamp(1, 1)),
    (12, "fanX", dt.date(2025, 7, 1), "consumer", None, "US", 1, 9, False, False, stamp(1, 1)),
    (14, "gone", dt.date(2025, 8, 1), "consumer", None, "FR", 0, 0, True, True, stamp(1, 1)),
]
# Tier periods: cre1 casual -> rising (40 days) -> top (30 days); cre2 casual -> rising (35 days),
# then a region change (no move); creX casual -> established (opted out: never shown).
HISTORY = [
    (1, "cre1", "creator", "casual", "BR", stamp(1, 1), stamp(2, 10), False),
    (1, "cre1", "creator", "rising", "BR", stamp(2, 10), stamp(3, 12), False),
    (1, "cre1", "creator", "top", "BR", stamp(3, 12), None, True),
    (2, "cre2", "both", "casual", "US", stamp(1, 1), stamp(2, 5), False),
    (2, "cre2", "both", "rising", "US", stamp(2, 5), stamp(3, 1), False),
    (2, "cre2", "both", "rising", "BR", stamp(3, 1), None, True),
    (3, "creX", "creator", "casual", "DE", stamp(1, 1), stamp(1, 11), False),
    (3, "creX", "creator", "established", "DE", stamp(1, 11), None, True),
]
# v2 removed by moderation, v4 by the creator who opted out, v5 taken down, v6 by creZ (no user row).
CONTENT = [
    (101, "v1", 1, "cre1", "original", "dance", 20, "m1", ["dance", "fyp"], ["bling"],
     at(D1 - dt.timedelta(days=3), 10), "approved", False, stamp(1, 1)),
    (102, "v2", 1, "cre1", "original", "dance", 15, None, ["fyp"], [], at(D1, 8), "removed", False, stamp(1, 1)),
    (103, "v3", 2, "cre2", "duet", "comedy", 30, None, ["fyp"], [], at(D2, 6), "approved", False, stamp(1, 1)),
    (104, "v4", 3, "creX", "original", "dance", 20, None, ["dance"], ["bling"],
     at(D1 - dt.timedelta(days=1), 9), "approved", False, stamp(1, 1)),
    (105, "v5", 2, "cre2", "original", "comedy", 10, None, ["lol"], [],
     at(D1 - dt.timedelta(days=10), 9), "approved", True, stamp(1, 1)),
    (106, "v6", 4, "creZ", "original", "comedy", 12, None, ["lol"], [],
     at(D1 - dt.timedelta(days=1), 9), "approved", False, stamp(1, 1)),
]
USER_IDS = {1: "cre1", 11: "fan1", 12: "fanX", 13: "fan9"}
CONTENT_IDS = {101: "v1", 102: "v2", 103: "v3", 104: "v4"}


def engagement_row(event: str, user: int, content: int, kind: int, hour: int):
    """A fact row; the small user keys are their own user_bucket (pmod(key, 1024))."""
    when = at(D2, hour)
    return (int(event[1:]), event, user, user, content, kind, hour_key(D2, hour), when, 10.0, 50.0, "for_you",
            USER_IDS[user], CONTENT_IDS[content], None, "e.jsonl", when, D2)


# e2 (fanX opted out) and e4 (on creX's v4) leave visible_engagements; e3 (fan9, no user row) and
# e5 (on the removed v2: history) stay.
ENGAGEMENTS = [
    engagement_row("e1", 11, 101, 1, 10),
    engagement_row("e2", 12, 101, 2, 11),
    engagement_row("e3", 13, 103, 2, 12),
    engagement_row("e4", 11, 104, 1, 13),
    engagement_row("e5", 11, 102, 2, 14),
]


def discovery_row(event: str, user: int, content: int, source: str, position: int, clicked: bool,
                  seconds: float | None):
    when = at(D2, 10)
    return (int(event[1:]), event, user, user, content, hour_key(D2, 10), source, position, when, clicked, seconds,
            None, None, USER_IDS[user], CONTENT_IDS[content], "d.jsonl", when, D2)


DISCOVERY = [
    discovery_row("d1", 11, 101, "for_you", 0, True, 1.5),
    discovery_row("d2", 13, 103, "for_you", 2, False, None),
    discovery_row("d3", 12, 101, "for_you", 0, True, 3.0),  # fanX opted out: left out
    discovery_row("d4", 11, 104, "following", 12, True, 2.0),  # fan1 consents, creX opted out: left out
    discovery_row("d5", 11, 102, "for_you", 1, True, 0.5),
]


def performance_row(content: int, day: dt.date, views: int, likes: int, comments: int, shares: int, saves: int,
                    watch: float, completion: float | None, score: int, viral: int):
    return (content, hour_key(day), views, views, likes, comments, shares, saves, watch, completion, score, viral,
            day)


PERFORMANCE = [  # views, likes, comments, shares, saves, watch, completion, score, viral
    performance_row(101, D1, 2, 2, 1, 0, 0, 10.0, 0.5, 15, 600),
    performance_row(101, D2, 4, 1, 0, 1, 0, 20.0, 1.0, 15, 400),
    performance_row(102, D1, 10, 5, 2, 2, 0, 5.0, 0.2, 55, 2000),
    performance_row(102, D2, 5, 1, 0, 0, 0, 6.0, 0.4, 8, 300),
    performance_row(103, D2, 3, 0, 0, 1, 1, 8.0, None, 21, 700),
    performance_row(104, D2, 6, 3, 0, 0, 0, 12.0, 0.8, 15, 900),
    performance_row(105, D1, 1, 1, 0, 0, 0, 4.0, 0.3, 4, 100),
    performance_row(106, D2, 1, 0, 0, 0, 0, 3.0, 1.0, 2, 100),
]
CREATORS = [  # posted, views, engagements, followers, churn, rate, trending ids, tier
    (1, hour_key(D1), 1, 4, 1, 1, 0, 0.25, '["v1"]', "top", D1),
    (1, hour_key(D2), 0, 12, 2, 0, 0, 2 / 12, '["v2","v1"]', "top", D2),
    (2, hour_key(D1), 0, 1, 1, 0, 1, 1.0, "[]", "rising", D1),
    (2, hour_key(D2), 1, 3, 2, 2, 0, 2 / 3, '["v3"]', "rising", D2),
    (3, hour_key(D2), 0, 6, 3, 0, 0, 0.5, '["v4"]', "established", D2),  # computed before creX opted out
]
DATES = [(hour_key(d), d, d.year, d.month, d.day, d.isoweekday() % 7 + 1, 0, d.weekday() >= 5) for d in (D1, D2)]


@pytest.fixture(scope="module")
def hand_lake(spark, tmp_path_factory):
    lake = str(tmp_path_factory.mktemp("views") / "lake")
    for name, rows in (
        ("dim_users", USERS), ("dim_users_history", HISTORY), ("dim_content", CONTENT), ("dim_date", DATES),
        ("fact_content_engagements", ENGAGEMENTS), ("fact_discovery_events", DISCOVERY),
        ("fact_content_performance", PERFORMANCE), ("fact_creator_analytics", CREATORS),
    ):
        spec = TABLES[name]
        spark.createDataFrame(rows, spec.schema).write.format("delta").save(table_path(lake, spec))
    return lake


def hand_rows(spark, name: str, rows: list[tuple], *ids: str):
    """The rows written to table `name` whose natural id (the second column) is one of `ids`."""
    return spark.createDataFrame([row for row in rows if row[1] in ids], TABLES[name].schema)


def worked_out(spark, ddl: str, rows: list[tuple]):
    """An answer worked out by hand, with the view's column names and types spelled out."""
    return spark.createDataFrame(rows, ddl)


def expected_views(spark) -> dict:
    # Pass-through views: the hand-built rows that must remain.
    return {
        "opted_out_users": worked_out(spark, "user_key bigint", [(3,), (12,)]),
        "opted_out_content": worked_out(spark, "content_key bigint", [(104,)]),  # creX's v4
        "current_users": hand_rows(spark, "dim_users", USERS, "cre1", "cre2", "fan1").select(
            "user_key", "user_id", "registration_date", "user_type", "creator_tier", "region", "follower_count",
            "following_count"),
        "visible_content": hand_rows(spark, "dim_content", CONTENT, "v1", "v2", "v3", "v5", "v6"),
        "trending_eligible_content": hand_rows(spark, "dim_content", CONTENT, "v1", "v3", "v6"),
        "current_content": hand_rows(spark, "dim_content", CONTENT, "v1", "v2", "v3", "v6").drop(
            "is_deleted", "updated_at"),
        "visible_engagements": hand_rows(spark, "fact_content_engagements", ENGAGEMENTS, "e1", "e3", "e5"),
        # Per day and category, over v1, v2 (removed: history), v5 (taken down: history), v3, v6; not
        # creX's v4. Completion weighted by views: D1 dance (2 x .5 + 10 x .2) / 12; D2 dance
        # (4 x 1 + 5 x .4) / 9; D2 comedy only v6 has one. Watch seconds likewise.
        "completion_rate_by_category": worked_out(
            spark, "event_date date, category string, videos bigint, qualifying_views bigint, "
                   "completion_rate double, avg_watch_seconds double", [
                (D1, "dance", 2, 12, 3.0 / 12, 70.0 / 12),
                (D1, "comedy", 1, 1, 0.3, 4.0),
                (D2, "dance", 2, 9, 6.0 / 9, 110.0 / 9),
                (D2, "comedy", 2, 4, 1.0, 27.0 / 4),
            ]),
        # Only v1 [dance, fyp], v3 [fyp] and v6 [lol]: v2 removed, v5 taken down, v4 creX's. fyp: three
        # video-days (15 + 15 + 21), completion the mean of .5 and 1 (v3 has none), viral 600 and 700.
        "hashtag_performance": worked_out(
            spark, "hashtag string, videos bigint, qualifying_views bigint, engagement_score bigint, "
                   "score_per_video_day double, avg_completion_rate double, trending_video_days bigint", [
                ("dance", 1, 6, 30, 15.0, 0.75, 1),
                ("fyp", 2, 9, 51, 17.0, 0.75, 2),
                ("lol", 1, 1, 2, 2.0, 1.0, 0),
            ]),
        "effect_performance": worked_out(
            spark, "effect string, videos bigint, qualifying_views bigint, engagement_score bigint, "
                   "score_per_video_day double, avg_completion_rate double", [
                ("bling", 1, 6, 30, 15.0, 0.75),
                ("(no effect)", 2, 4, 23, 11.5, 1.0),
            ]),
        # cre1 and cre2 left casual after 40 and 35 days (latest 10 Feb), cre1 rising after 30;
        # cre2's region change is no move; creX (opted out) is left out.
        "creator_tier_progression": worked_out(
            spark, "from_tier string, to_tier string, creators bigint, moves bigint, "
                   "avg_days_in_previous_tier double, latest_move timestamp", [
                ("casual", "rising", 2, 2, 37.5, stamp(2, 10)),
                ("rising", "top", 1, 1, 30.0, stamp(3, 12)),
            ]),
        # fanX's d3 and d4 (on creX's v4) are left out; fan9 (no user row) counts; the median ignores
        # d2's missing time.
        "discovery_effectiveness": worked_out(
            spark, "discovery_source string, position_band string, impressions bigint, click_throughs bigint, "
                   "click_through_rate double, median_seconds_to_engagement double", [
                ("for_you", "00", 1, 1, 1.0, 1.5),
                ("for_you", "01-02", 2, 1, 0.5, 0.5),
            ]),
        # Every visible video-day (removed v2 and taken-down v5 are history), not creX's v4.
        "content_lifecycle": worked_out(
            spark, "content_id string, category string, event_date date, age_days int, total_views int, "
                   "engagement_score bigint, peak_date date, peak_views int, share_of_peak double, phase string", [
                ("v1", "dance", D1, 3, 2, 15, D2, 4, 0.5, "growth"),
                ("v1", "dance", D2, 4, 4, 15, D2, 4, 1.0, "peak"),
                ("v2", "dance", D1, 0, 10, 55, D1, 10, 1.0, "peak"),
                ("v2", "dance", D2, 1, 5, 8, D1, 10, 0.5, "decay"),
                ("v3", "comedy", D2, 0, 3, 21, D2, 3, 1.0, "peak"),
                ("v5", "comedy", D1, 10, 1, 4, D1, 1, 1.0, "peak"),
                ("v6", "comedy", D2, 2, 1, 2, D2, 1, 1.0, "peak"),
            ]),
    }


def test_every_saved_view_gives_its_known_answer(spark, hand_lake):
    register_tables(spark, hand_lake)  # the sql job's registration
    # k = 0: every group shown (this lake's groups are of one or two users; suppression: below)
    names = [name for name in register_views(spark, k=0) if name.removesuffix(SUPPRESSED_SUFFIX) not in FURTHER_VIEWS]
    views = sorted(path.stem for path in view_files() if path.stem not in FURTHER_VIEWS)  # further: their own test
    assert sorted(name for name in names if not name.endswith(SUPPRESSED_SUFFIX)) == views
    assert sorted(name for name in names if name.endswith(SUPPRESSED_SUFFIX)) == sorted(
        stem + SUPPRESSED_SUFFIX for stem in GROUPED_VIEWS)
    expected = expected_views(spark)
    assert sorted(expected) == views, "every view needs a known answer"
    for view, answer in expected.items():
        # Exact, floats too: each expected double is computed as the view computes it.
        assert_df_equality(spark.table(view), answer, ignore_row_order=True, ignore_nullable=True,
                           ignore_metadata=True)


def answer(spark, capsys, lake: str, query_file: str, k: int = 1) -> list[dict]:
    capsys.readouterr()
    code = sql.main(["--lake", lake, "--format", "json", "--set", f"analytics.k_anonymity={k}",
                     "--file", str(ANALYTICS_DIR / query_file)], spark=spark)
    lines = capsys.readouterr().out.splitlines()
    assert code == 0, lines[-1:]
    return [json.loads(line) for line in lines[:-1]]  # the last line is the job's status


def test_the_model_queries_leave_out_removed_and_opted_out(spark, capsys, hand_lake):
    # Model score likes + 5 x comments + 10 x shares over D1 and D2: v1 (2 + 5) + (1 + 10) = 18 against
    # cre1's mean daily engagements (1 + 2) / 2 = 1.5: Viral; v3 10 against cre2's 1.5: Trending.
    # v2 (removed, 36), v4 (creX opted out, 3) and v5 (taken down, 1) would be listed without the
    # filter; v6's creator has no analytics rows, so the model's join drops it.
    assert answer(spark, capsys, hand_lake, "trending_content.sql") == [
        {"content_id": "v1", "category": "dance", "total_views": 6, "engagement_score": 18,
         "avg_completion_rate": 0.75, "content_status": "Viral"},
        {"content_id": "v3", "category": "comedy", "total_views": 3, "engagement_score": 10,
         "avg_completion_rate": None, "content_status": "Trending"},
    ]
    # creX (established, opted out after its day was computed) is left out.
    tiers = answer(spark, capsys, hand_lake, "creator_tier_analysis.sql")
    assert tiers == [
        {"creator_tier": "top", "creator_count": 1, "avg_daily_views": 8.0,
         "avg_engagement_rate": (0.25 + 2 / 12) / 2, "avg_net_follower_growth": 0.5, "groups_suppressed": 0},
        {"creator_tier": "rising", "creator_count": 1, "avg_daily_views": 2.0,
         "avg_engagement_rate": (1.0 + 2 / 3) / 2, "avg_net_follower_growth": 0.5, "groups_suppressed": 0},
    ]
    # k = 2: each tier is one creator, so both are left out.
    assert answer(spark, capsys, hand_lake, "creator_tier_analysis.sql", k=2) == []


# The views that group users (their query has group_users), and how many of the hand lake's groups
# have fewer than 2 distinct users.
GROUPED_VIEWS = {
    # for_you/00: fan1 (fanX opted out); for_you/01-02: fan9 and fan1 (following/11+: creX's v4 only)
    "discovery_effectiveness": 1,
    # casual->rising: cre1 and cre2; rising->top: cre1
    "creator_tier_progression": 1,
    # D1 (no engagement on D1 in this lake): 0 viewers each; D2 dance: fan1 (e1, e5); D2 comedy: fan9
    "completion_rate_by_category": 4,
    # dance: v1 fan1; fyp: v1 fan1, v3 fan9; lol: v6 none
    "hashtag_performance": 2,
    # bling: v1 fan1; (no effect): v3 fan9, v6 none
    "effect_performance": 2,
}


def test_a_group_of_k_minus_one_users_is_left_out_and_one_of_k_stays(spark, hand_lake):
    register_tables(spark, hand_lake)
    register_views(spark, k=2)
    kept = spark.table("discovery_effectiveness").select("discovery_source", "position_band", "impressions")
    assert_df_equality(kept, worked_out(spark, "discovery_source string, position_band string, impressions bigint",
                                        [("for_you", "01-02", 2)]),
                       ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)
    kept_moves = spark.table("creator_tier_progression").select("from_tier", "to_tier", "creators")
    assert_df_equality(kept_moves, worked_out(spark, "from_tier string, to_tier string, creators bigint",
                                              [("casual", "rising", 2)]),
                       ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)
    suppressed = {view: spark.table(view + SUPPRESSED_SUFFIX).first()["suppressed_groups"] for view in GROUPED_VIEWS}
    assert suppressed == GROUPED_VIEWS
    assert "group_users" not in spark.table("hashtag_performance").columns
    assert spark.table("hashtag_performance").select("hashtag").collect() == [("fyp",)]


def test_the_views_follow_the_rules_configuration(spark, hand_lake):
    # daily's settings reach the views as session variables: with no status hidden from trending,
    # removed v2 is eligible again (taken-down v5 and opted-out creX's v4 stay out).
    conf = load_conf("local", ["daily.hidden_from_trending=[]", "daily.qualifying_view_seconds=5.5"])
    register_tables(spark, hand_lake)
    register_views(spark, k=0, conf=conf)
    eligible = spark.table("trending_eligible_content").select("content_id")
    assert_df_equality(eligible, worked_out(spark, "content_id string", [("v1",), ("v2",), ("v3",), ("v6",)]),
                       ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)
    assert spark.sql("SELECT qualifying_view_seconds AS seconds").first()["seconds"] == 5.5
    register_views(spark, k=0)  # the local environment's rules again, for the tests after this one
