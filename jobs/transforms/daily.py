"""The daily facts by the rules of shared/spec/metrics.md, as pure transforms.

Every transform takes any number of days at once (rows carry their `event_date`): one pass over
the days' engagement facts yields every per-video measure (`content_day_measures`);
fact_content_performance and fact_creator_analytics are both derived from those measures, the
dimensions and the performance rows of the days before. A day's baseline and trending list stand on
earlier days, which may be computed in the same pass: those transforms take the lake's rows of the
other days together with the pass's new rows (`other_days_and`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.common.config import Conf, EngagementType

# Per-type counts the facts carry, named as metrics.md names them.
TYPE_COUNTS = {"like": "likes", "comment": "comments", "share": "shares", "save": "saves",
               "follow": "follows", "unfollow": "unfollows"}


@dataclass(frozen=True)
class DailyRules:
    """The business rules' numbers (conf [daily]) and the engagement types' weights."""

    types: tuple[EngagementType, ...]
    qualifying_view_seconds: float
    completion_bonus_above: float
    completion_bonus_factor: int
    baseline_days: int
    min_baseline: float
    trending_score: int
    recency_factor: float
    trending_limit: int
    engagements_received: tuple[str, ...]
    hidden_from_trending: tuple[str, ...]

    @classmethod
    def from_conf(cls, conf: Conf) -> "DailyRules":
        daily: dict[str, Any] = conf.section("daily")
        return cls(
            types=tuple(conf.engagement_types),
            qualifying_view_seconds=float(daily["qualifying_view_seconds"]),
            completion_bonus_above=float(daily["completion_bonus_above"]),
            completion_bonus_factor=int(daily["completion_bonus_factor"]),
            baseline_days=int(daily["baseline_days"]),
            min_baseline=float(daily["min_baseline"]),
            trending_score=int(daily["trending_score"]),
            recency_factor=float(daily["recency_factor"]),
            trending_limit=int(daily["trending_limit"]),
            engagements_received=tuple(daily["engagements_received"]),
            hidden_from_trending=tuple(daily["hidden_from_trending"]),
        )

    def key(self, engagement_type: str) -> int:
        return next(t.key for t in self.types if t.engagement_type == engagement_type)

    @property
    def view_keys(self) -> list[int]:
        return [t.key for t in self.types if t.counts_as_view]


def day_key(day: dt.date) -> int:
    """A daily fact's date_key: hour 00 of its day."""
    return int(day.strftime("%Y%m%d")) * 100


def day_key_of(event_date: Column) -> Column:
    """`day_key` of a date column."""
    return (F.date_format(event_date, "yyyyMMdd").cast("int") * F.lit(100)).cast("int")


def day_number(event_date: Column) -> Column:
    """Days since 1970-01-01: the order of a window whose frame is a number of days."""
    return F.datediff(event_date, F.lit(dt.date(1970, 1, 1)))


def other_days_and(lake_rows: DataFrame, new_rows: DataFrame, days: list[dt.date]) -> DataFrame:
    """The lake's rows of the days not being computed, and the new rows of those that are."""
    return lake_rows.where(~F.col("event_date").isin(*days)).unionByName(new_rows)


def consenting_engagements(engagements: DataFrame, users: DataFrame) -> DataFrame:
    """Engagements less those of users who opted out of analytics (unknown users count as
    consenting: events.md's default)."""
    opted_out = users.where(F.col("analytics_consent") == F.lit(False)).select("user_key")
    return engagements.join(opted_out, on="user_key", how="left_anti")


def _is_type(rules: DailyRules, *names: str) -> Column:
    return F.col("engagement_key").isin(*[rules.key(n) for n in names])


def engagement_points(rules: DailyRules) -> tuple[Column, Column]:
    """(is a qualifying view, the event's points in the engagement score)."""
    is_view = F.col("engagement_key").isin(*rules.view_keys)
    qualifying = is_view & (F.col("watch_duration_seconds") >= rules.qualifying_view_seconds)
    weight = F.create_map(*[F.lit(x) for t in rules.types for x in (t.key, t.weight)])[F.col("engagement_key")]
    completed = F.col("completion_percentage") > rules.completion_bonus_above
    multiplier = (
        F.when(~is_view, 1)
        .when(qualifying & completed, rules.completion_bonus_factor)
        .when(qualifying, 1)
        .otherwise(0)
    )
    return qualifying, (weight * multiplier).cast("long")


def content_day_measures(engagements: DataFrame, rules: DailyRules) -> DataFrame:
    """Engagements (already consent-filtered) of any days -> one row of measures per video and day.

    Aggregated per (day, video, viewer) first, then per (day, video): the distinct-viewer count then
    needs no second pass over the events.
    """
    qualifying, points = engagement_points(rules)
    completion_known = qualifying & F.col("completion_percentage").isNotNull()
    per_viewer = engagements.groupBy("event_date", "content_key", "user_key").agg(
        F.count_if(qualifying).alias("views"),
        F.sum(F.when(qualifying, F.col("watch_duration_seconds"))).alias("watch_seconds"),
        F.sum(F.when(completion_known, F.col("completion_percentage") / 100)).alias("completion_sum"),
        F.count_if(completion_known).alias("completion_count"),
        *[F.count_if(_is_type(rules, t)).alias(name) for t, name in TYPE_COUNTS.items()],
        F.count_if(_is_type(rules, *rules.engagements_received)).alias("engagements_received"),
        F.sum(points).alias("engagement_score"),
        F.count("*").alias("events"),
    )
    summed = ["views", "watch_seconds", "completion_sum", "completion_count", *TYPE_COUNTS.values(),
              "engagements_received", "engagement_score", "events"]
    return per_viewer.groupBy("event_date", "content_key").agg(
        *[F.sum(c).alias(c) for c in summed],
        F.count_if(F.col("views") > 0).alias("unique_viewers"),
    )


def baseline_history(performance: DataFrame, days: list[dt.date], rules: DailyRules) -> DataFrame:
    """The lake's performance rows the days' baselines stand on: the `baseline_days` days before the
    first of them up to the last, the days themselves left out (their new scores join them:
    `other_days_and`)."""
    first, last = min(days) - dt.timedelta(days=rules.baseline_days), max(days)
    return (performance.where(F.col("event_date").between(F.lit(first), F.lit(last)))
            .where(~F.col("event_date").isin(*days))
            .select("event_date", "content_key", "engagement_score"))


def creator_baselines(scores: DataFrame, content: DataFrame, days: list[dt.date], rules: DailyRules) -> DataFrame:
    """(creator_user_key, event_date, creator_baseline) for each of `days`: the creator's mean daily
    engagement_score per video over the `baseline_days` days before that day, from `scores`
    (event_date, content_key, engagement_score: performance rows, videos mapped to creators by
    dim_content). A creator without rows in the window gets none."""
    window = (Window.partitionBy("creator_user_key").orderBy(day_number(F.col("event_date")))
              .rangeBetween(-rules.baseline_days, -1))
    per_creator_day = (
        scores.join(content.select("content_key", "creator_user_key"), on="content_key")
        .where(F.col("creator_user_key").isNotNull())
        .groupBy("creator_user_key", "event_date")
        .agg(F.sum("engagement_score").alias("score"), F.count("*").alias("rows"))
    )
    return (
        per_creator_day
        .select("creator_user_key", "event_date",
                (F.sum("score").over(window) / F.nullif(F.sum("rows").over(window), F.lit(0))).alias("creator_baseline"))
        .where(F.col("event_date").isin(*days) & F.col("creator_baseline").isNotNull())
    )


def to_content_performance(measures: DataFrame, content: DataFrame, baselines: DataFrame,
                           rules: DailyRules) -> DataFrame:
    """Per-video measures -> fact_content_performance rows of their days, with the viral score.

    A video whose creator has no history (or whose creator is not known yet) is measured against
    the platform's mean score per video of the day; no baseline is below `min_baseline`.
    """
    platform_mean = measures.groupBy("event_date").agg(F.avg("engagement_score").alias("platform_mean"))
    baseline = F.greatest(F.coalesce(F.col("creator_baseline"), F.col("platform_mean")), F.lit(rules.min_baseline))
    return (
        measures.join(content.select("content_key", "creator_user_key"), on="content_key", how="left")
        .join(baselines, on=["creator_user_key", "event_date"], how="left")
        .join(platform_mean, on="event_date")
        .select(
            "content_key",
            day_key_of(F.col("event_date")).alias("date_key"),
            F.col("views").cast("int").alias("total_views"),
            F.col("unique_viewers").cast("int").alias("unique_viewers"),
            F.col("likes").cast("int").alias("total_likes"),
            F.col("comments").cast("int").alias("total_comments"),
            F.col("shares").cast("int").alias("total_shares"),
            F.col("saves").cast("int").alias("total_saves"),
            (F.col("watch_seconds") / F.nullif(F.col("views"), F.lit(0))).alias("avg_watch_duration"),
            (F.col("completion_sum") / F.nullif(F.col("completion_count"), F.lit(0))).alias("completion_rate"),
            F.col("engagement_score"),
            F.round(F.lit(100.0) * F.col("engagement_score") / baseline).cast("int").alias("viral_score"),
            F.col("event_date"),
        )
    )


def trending_lists(scores: DataFrame, content: DataFrame, days: list[dt.date], rules: DailyRules) -> DataFrame:
    """(user_key, event_date, trending_content_ids) for each of `days`: per creator, the JSON array of
    their Trending/Viral videos over the 48-hour window, best first by viral_score(day) +
    recency_factor x viral_score(day before), at most `trending_limit`. `scores` (event_date,
    content_key, viral_score) holds the days and the day before each.

    Videos whose moderation status hides them (removed) or that were taken down are left out.
    """
    day_scores = scores.select("event_date", "content_key", F.col("viral_score").alias("score_today"))
    next_day_scores = scores.select(F.date_add(F.col("event_date"), 1).alias("event_date"), "content_key",
                                    F.col("viral_score").alias("score_day_before"))
    trending = (
        day_scores.join(next_day_scores, on=["event_date", "content_key"], how="full")
        .where(F.col("event_date").isin(*days))
        .where((F.col("score_today") >= rules.trending_score) | (F.col("score_day_before") >= rules.trending_score))
    )
    shown = content.where(~F.col("is_deleted") & ~F.col("moderation_status").isin(*rules.hidden_from_trending))
    rank = F.coalesce(F.col("score_today"), F.lit(0)) + rules.recency_factor * F.coalesce(F.col("score_day_before"), F.lit(0))
    ranked = (
        trending.join(shown.select("content_key", "content_id", "creator_user_key"), on="content_key")
        .where(F.col("creator_user_key").isNotNull())
        .groupBy("creator_user_key", "event_date")
        .agg(F.array_sort(F.collect_list(F.struct((-rank).alias("order"), F.col("content_id")))).alias("ranked"))
    )
    best = F.slice(F.col("ranked"), 1, rules.trending_limit)
    return ranked.select(
        F.col("creator_user_key").alias("user_key"),
        "event_date",
        F.to_json(F.transform(best, lambda entry: entry["content_id"])).alias("trending_content_ids"),
    )


def to_creator_analytics(measures: DataFrame, content: DataFrame, users: DataFrame, trending: DataFrame,
                         days: list[dt.date]) -> DataFrame:
    """Per-video measures -> fact_creator_analytics rows of `days`: one per creator and day on which
    they posted or their videos received any engagement; creators who opted out of analytics get none."""
    creators = content.select("content_key", F.col("creator_user_key").alias("user_key")).where(
        F.col("user_key").isNotNull())
    received = measures.join(creators, on="content_key").groupBy("user_key", "event_date").agg(
        F.sum("views").alias("views"),
        F.sum("engagements_received").alias("engagements"),
        F.sum("follows").alias("follows"),
        F.sum("unfollows").alias("unfollows"),
    )
    posted = (
        content.withColumn("event_date", F.to_date("upload_timestamp"))
        .where(F.col("event_date").isin(*days))
        .where(F.col("creator_user_key").isNotNull())
        .groupBy(F.col("creator_user_key").alias("user_key"), "event_date")
        .agg(F.count("*").alias("posted"))
    )
    opted_out = users.where(F.col("analytics_consent") == F.lit(False)).select("user_key")
    zero = F.lit(0)
    return (
        received.join(posted, on=["user_key", "event_date"], how="full")
        .join(opted_out, on="user_key", how="left_anti")
        .join(trending, on=["user_key", "event_date"], how="left")
        .select(
            "user_key",
            day_key_of(F.col("event_date")).alias("date_key"),
            F.coalesce(F.col("posted"), zero).cast("int").alias("content_posted"),
            F.coalesce(F.col("views"), zero).cast("int").alias("total_views_received"),
            F.coalesce(F.col("engagements"), zero).cast("int").alias("total_engagements_received"),
            F.coalesce(F.col("follows"), zero).cast("int").alias("new_followers"),
            F.coalesce(F.col("unfollows"), zero).cast("int").alias("follower_churn"),
            (F.col("engagements") / F.nullif(F.col("views"), zero)).cast("double").alias("engagement_rate"),
            F.coalesce(F.col("trending_content_ids"), F.lit("[]")).alias("trending_content_ids"),
            F.col("event_date"),
        )
    )
