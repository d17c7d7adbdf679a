"""Creator tiers by rule (shared/spec/metrics.md "Creator tier"), as pure transforms.

A creator's tier of day D stands on two inputs: the follower count dim_users holds now, and the
consistency of the `window_days` days ending at D (the share of them on which the creator received
at least one engagement). The earlier days' engagement days come from fact_creator_analytics
(`total_engagements_received > 0`), so a day reads a few small rows per creator instead of four
weeks of raw events; the days `daily` computes in the same pass count with their new rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.common.config import Conf
from jobs.transforms.changes import latest_tiers, midnight_utc
from jobs.transforms.daily import day_number


@dataclass(frozen=True)
class TierLevel:
    tier: str
    min_followers: int
    min_consistency: float


@dataclass(frozen=True)
class TierRules:
    """conf [tiers]: the levels best first, the tier of everyone else, the consistency window."""

    levels: tuple[TierLevel, ...]
    fallback: str
    window_days: int
    write_retries: int

    @classmethod
    def from_conf(cls, conf: Conf) -> "TierRules":
        tiers: dict[str, Any] = conf.section("tiers")
        followers, consistency = tiers["min_followers"], tiers["min_consistency"]
        return cls(
            levels=tuple(TierLevel(name, int(followers[name]), float(consistency[name])) for name in tiers["order"]),
            fallback=str(tiers["fallback"]),
            window_days=int(tiers["window_days"]),
            write_retries=int(tiers["write_retries"]),
        )


def tier_of(followers: Column, consistency: Column, rules: TierRules) -> Column:
    """The first level (best first) whose both minimums are met, else the fallback."""
    tier = F.lit(rules.fallback)
    for level in reversed(rules.levels):
        meets = (followers >= F.lit(level.min_followers)) & (consistency >= F.lit(level.min_consistency))
        tier = F.when(meets, F.lit(level.tier)).otherwise(tier)
    return tier


def earlier_engaged_days(creator_history: DataFrame, days: list[dt.date], rules: TierRules) -> DataFrame:
    """(user_key, event_date, engaged_days) for each of `days` on which the creator has a row (none
    when zero): per creator, the days of the window
    before that day (the day itself left out) on which fact_creator_analytics says they received an
    engagement. `creator_history` holds the lake's rows of the other days and the new rows of `days`
    (`other_days_and`)."""
    window = (Window.partitionBy("user_key").orderBy(day_number(F.col("event_date")))
              .rangeBetween(-(rules.window_days - 1), -1))
    first = min(days) - dt.timedelta(days=rules.window_days - 1)
    return (
        creator_history
        .where(F.col("event_date").between(F.lit(first), F.lit(max(days))))
        .groupBy("user_key", "event_date")
        .agg(F.max(F.when(F.col("total_engagements_received") > 0, 1).otherwise(0)).alias("engaged"))
        .select("user_key", "event_date", F.sum("engaged").over(window).alias("engaged_days"))
        .where(F.col("event_date").isin(*days) & (F.col("engaged_days") > 0))
    )


def with_creator_tier(creator_rows: DataFrame, earlier: DataFrame, followers: DataFrame,
                      rules: TierRules) -> DataFrame:
    """fact_creator_analytics rows + creator_tier.

    `earlier` is `earlier_engaged_days` of the rows' days; `followers` is (user_key, follower_count)
    of dim_users (a creator the dimension does not know yet has no followers)."""
    engaged_today = F.when(F.col("total_engagements_received") > 0, 1).otherwise(0)
    consistency = (F.coalesce(F.col("engaged_days"), F.lit(0)) + engaged_today) / F.lit(rules.window_days)
    follower_count = F.coalesce(F.col("follower_count"), F.lit(0))
    return (
        creator_rows
        .join(earlier, on=["user_key", "event_date"], how="left")
        .join(followers.select("user_key", "follower_count"), on="user_key", how="left")
        .withColumn("creator_tier", tier_of(follower_count, consistency, rules))
        .drop("engaged_days", "follower_count")
    )


def creators_with_stale_tiers(creators: DataFrame, tier_days: DataFrame, days: list[dt.date],
                              dim_users: DataFrame, history: DataFrame) -> DataFrame:
    """(user_key) of the `creators` whose stored tiers disagree with the daily facts: dim_users'
    creator_tier is not their latest day's tier, or the history period in force at the midnight of
    one of `days` does not carry the tier of that day (of the latest day before it, when the
    creator has no row that day), or there is no such period (a deleted account, or one whose
    first change came later: derived again to be sure, which changes nothing).

    `tier_days` is fact_creator_analytics' (user_key, event_date, creator_tier) of the creators
    as daily just wrote it; `dim_users` and `history` are the tables as they are. A creator not
    returned would derive to the rows the tables hold already: daily derives only the others, so
    a day whose tiers did not move costs one comparison, and a run killed after the facts' commit
    finds the tables behind and derives them on the rerun."""
    keys = creators.select("user_key").distinct()
    dates = creators.sparkSession.createDataFrame([(day,) for day in days], "day date")
    at_midnight = (
        keys.crossJoin(dates)
        .join(tier_days.select(F.col("user_key").alias("tier_user_key"), "event_date", "creator_tier"),
              on=(F.col("user_key") == F.col("tier_user_key")) & (F.col("event_date") <= F.col("day")), how="left")
        .groupBy("user_key", "day")
        .agg(F.max_by("creator_tier", "event_date").alias("expected_tier"))
        .withColumn("at", midnight_utc(F.col("day")))
    )
    periods = history.select("user_key", F.col("creator_tier").alias("period_tier"), "valid_from", "valid_to")
    in_force = (F.col("valid_from") <= F.col("at")) & (F.col("valid_to").isNull() | (F.col("valid_to") > F.col("at")))
    stale_history = (
        at_midnight.join(periods, on="user_key", how="left")
        .withColumn("in_force", in_force)
        .groupBy("user_key", "day")
        .agg(F.count_if("in_force").alias("periods"),
             F.max(F.when(F.col("in_force"), ~F.col("period_tier").eqNullSafe(F.col("expected_tier")))).alias("differs"))
        .where((F.col("periods") != 1) | F.col("differs"))
        .select("user_key")
    )
    stale_dimension = (
        keys.join(latest_tiers(tier_days).withColumnRenamed("creator_tier", "latest_tier"), on="user_key", how="left")
        .join(dim_users.select("user_key", F.col("creator_tier").alias("held_tier"), F.lit(True).alias("held")),
              on="user_key", how="left")
        .where(F.col("held").isNull() | ~F.col("held_tier").eqNullSafe(F.col("latest_tier")))
        .select("user_key")
    )
    return stale_dimension.union(stale_history).distinct()
