"""The CDC feeds (users, content) as change logs, and the dimensions derived from them.

Every valid change is kept once in a change log (cdc_users, cdc_content). The current-state
dimension and the attribute history of an entity are then pure functions of that entity's whole
change log, so the result never depends on the order files arrived in, and replaying a file
derives the very same rows (latest `updated_at` wins; see README "Dimensions").
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs.common.keys import surrogate_key

UPSERT, DELETE = "upsert", "delete"
USER_FIELDS = ("registration_date", "user_type", "creator_tier", "region", "follower_count", "following_count",
               "analytics_consent")
CONTENT_FIELDS = ("creator_user_id", "content_type", "category", "duration_seconds", "music_id", "hashtags",
                  "effects_used", "upload_timestamp", "moderation_status")
# The attributes whose history is kept (creator tier progression, type and region changes).
HISTORY_FIELDS = ("user_type", "creator_tier", "region")
DEFAULT_CONSENT = True  # events.md: analytics_consent defaults to true
DEFAULT_MODERATION = "approved"
SECONDS_PER_DAY = 86400
# Fields whose omission (or null) keeps the last value sent: an opt-out or a removal never lapses.
USER_STICKY_FIELDS = ("analytics_consent",)
CONTENT_STICKY_FIELDS = ("moderation_status",)


def _change_id(natural_key: str, fields: tuple[str, ...]) -> Column:
    """A change's identity: the same change delivered twice hashes the same."""
    return F.xxhash64(F.col(natural_key), F.col("op"), F.col("updated_at"), *[F.col(f) for f in fields])


def _changes(valid: DataFrame, natural_key: str, key: str, fields: tuple[str, ...],
             ingested_at: dt.datetime) -> DataFrame:
    return (
        valid.select(
            surrogate_key(natural_key).alias(key),
            F.col(natural_key),
            F.col("op"),
            F.col("updated_at"),
            _change_id(natural_key, fields).alias("change_id"),
            *[F.col(f) for f in fields],
            F.col("source_file"),
            F.lit(ingested_at).alias("ingested_at"),
        )
        # One row per change: a change repeated within the batch keeps its first file.
        .withColumn("_copy", F.row_number().over(
            Window.partitionBy(key, "updated_at", "change_id").orderBy("source_file")))
        .where(F.col("_copy") == 1)
        .drop("_copy")
    )


def to_user_changes(valid: DataFrame, ingested_at: dt.datetime) -> DataFrame:
    """Valid `users` lines -> cdc_users rows, one per distinct change."""
    return _changes(valid, "user_id", "user_key", USER_FIELDS, ingested_at)


def to_content_changes(valid: DataFrame, ingested_at: dt.datetime) -> DataFrame:
    """Valid `content` lines -> cdc_content rows, one per distinct change."""
    return _changes(valid, "content_id", "content_key", CONTENT_FIELDS, ingested_at)


def change_order() -> Column:
    """Which of two changes is later: updated_at, then a delete over an upsert of the same instant,
    then the change's hash (arbitrary but the same in every run, so ties never flip).

    The hash is of the change's fields (change_id), not of its file or arrival, so two changes of
    one key at the same instant are settled the same way whatever the file order."""
    return F.struct(F.col("updated_at"), (F.col("op") == DELETE).alias("is_delete"), F.col("change_id"))


def filter_instant_winners(changes: DataFrame, key: str) -> DataFrame:
    """One change per entity and instant: of changes with the same `updated_at`, the one
    `change_order` puts last (so history periods never share a start)."""
    latest_first = Window.partitionBy(key, "updated_at").orderBy(change_order().desc())
    return (
        changes.withColumn("_rank", F.row_number().over(latest_first))
        .where(F.col("_rank") == 1)
        .drop("_rank")
    )


def _last_sent(field: str) -> Column:
    """The field's value in the latest change that carries one; null when no change ever did.

    An omitted field (or an explicit null) thus keeps the last value sent, and a late-arriving
    older change never undoes a newer one: the order is `change_order`, not the arrival."""
    return F.max_by(F.col(field), F.when(F.col(field).isNotNull(), change_order()))


def _current_state(changes: DataFrame, key: str, natural_key: str, fields: tuple[str, ...],
                   sticky: tuple[str, ...] = ()) -> DataFrame:
    """Per entity: the attributes of its latest upsert, deleted when its latest change is a delete;
    each `sticky` field as `last_sent_<field>` (see _last_sent)."""
    attributes = F.struct(*[F.col(f) for f in fields])
    return changes.groupBy(key, natural_key).agg(
        F.max_by(attributes, F.when(F.col("op") == UPSERT, change_order())).alias("latest_upsert"),
        F.max_by(F.col("op"), change_order()).alias("latest_op"),
        F.max("updated_at").alias("updated_at"),
        *[_last_sent(f).alias(f"last_sent_{f}") for f in sticky],
    )


def latest_tiers(tier_days: DataFrame) -> DataFrame:
    """(user_key, creator_tier): each creator's tier of their latest day in fact_creator_analytics."""
    return tier_days.groupBy("user_key").agg(F.max_by("creator_tier", "event_date").alias("creator_tier"))


def to_dim_users(changes: DataFrame, tier_days: DataFrame | None = None) -> DataFrame:
    """cdc_users rows (all of each user's changes) -> dim_users rows, one per user.

    The tier is the lake's (metrics.md): that of the user's latest day in `tier_days`
    (fact_creator_analytics' user_key, event_date, creator_tier), null without one; the tier the
    feed sent stays in the change log only."""
    state = _current_state(changes, "user_key", "user_id", USER_FIELDS, USER_STICKY_FIELDS)
    if tier_days is None:
        state = state.withColumn("creator_tier", F.lit(None).cast("string"))
    else:
        state = state.join(latest_tiers(tier_days), on="user_key", how="left")
    upsert = F.col("latest_upsert")
    return state.select(
        "user_key",
        "user_id",
        upsert["registration_date"].alias("registration_date"),
        upsert["user_type"].alias("user_type"),
        "creator_tier",
        upsert["region"].alias("region"),
        upsert["follower_count"].cast("int").alias("follower_count"),
        upsert["following_count"].cast("int").alias("following_count"),
        F.coalesce(F.col("last_sent_analytics_consent"), F.lit(DEFAULT_CONSENT)).alias("analytics_consent"),
        (F.col("latest_op") == DELETE).alias("is_deleted"),
        "updated_at",
    )


def to_dim_content(changes: DataFrame) -> DataFrame:
    """cdc_content rows (all of each video's changes) -> dim_content rows, linked to the creator."""
    state = _current_state(changes, "content_key", "content_id", CONTENT_FIELDS, CONTENT_STICKY_FIELDS)
    upsert = F.col("latest_upsert")
    creator = upsert["creator_user_id"]
    return state.select(
        "content_key",
        "content_id",
        F.when(creator.isNotNull(), surrogate_key(creator)).alias("creator_user_key"),
        creator.alias("creator_id"),
        upsert["content_type"].alias("content_type"),
        upsert["category"].alias("category"),
        upsert["duration_seconds"].cast("int").alias("duration_seconds"),
        upsert["music_id"].alias("music_id"),
        upsert["hashtags"].alias("hashtags"),
        upsert["effects_used"].alias("effects_used"),
        upsert["upload_timestamp"].alias("upload_timestamp"),
        F.coalesce(F.col("last_sent_moderation_status"), F.lit(DEFAULT_MODERATION)).alias("moderation_status"),
        (F.col("latest_op") == DELETE).alias("is_deleted"),
        "updated_at",
    )


def to_user_history(changes: DataFrame, tier_days: DataFrame | None = None) -> DataFrame:
    """cdc_users rows and the daily tiers -> dim_users_history: one period per run of equal
    (type, tier, region).

    Type and region come from the change log, the tier from `tier_days` (fact_creator_analytics'
    user_key, event_date, creator_tier: the tier of day D holds from D's midnight UTC). A period
    starts at the change (or the day) that made the attributes what they are and ends where the next
    different attributes (or the account's deletion) start; a change that repeats the attributes (a
    follower-count update, a day of the same tier) does not start a period. An upsert after a delete
    opens a new one. Of two changes at the same instant only the winner counts, and a change at a
    midnight and that day's tier make one state, so no two periods share a start. Periods start with the
    user's first change: a tier of an earlier day is the tier the first period starts with.
    """
    winners = changes.transform(filter_instant_winners, "user_key")
    account = F.struct(
        (F.col("op") == DELETE).alias("deleted"),
        *[F.when(F.col("op") == UPSERT, F.col(f)).alias(f) for f in HISTORY_FIELDS if f != "creator_tier"],
    )
    account_events = winners.select(
        "user_key", "user_id", F.col("updated_at").alias("at"),
        F.struct(F.col("updated_at"), F.lit(0).alias("source"), change_order().alias("change")).alias("event_order"),
        account.alias("account"), F.lit(None).cast("string").alias("tier"),
    )
    events = account_events
    if tier_days is not None:
        ids = winners.select("user_key", "user_id").distinct()
        at = midnight_utc(F.col("event_date"))
        tier_events = tier_days.join(ids, on="user_key", how="inner").select(
            "user_key", "user_id", at.alias("at"),
            F.struct(at.alias("updated_at"), F.lit(1).alias("source"),
                     F.lit(None).cast(change_order_type(winners)).alias("change")).alias("event_order"),
            F.lit(None).cast(account_events.schema["account"].dataType).alias("account"),
            F.col("creator_tier").alias("tier"),
        )
        events = account_events.unionByName(tier_events)
    in_order = Window.partitionBy("user_key").orderBy("event_order")
    so_far = in_order.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    known = (
        events.withColumn("account", F.last("account", ignorenulls=True).over(so_far))
        .withColumn("tier", F.last("tier", ignorenulls=True).over(so_far))
        .where(F.col("account").isNotNull())
        # The state an instant leaves (a change at a tier day's midnight and that day's tier: both).
        .withColumn("_last", F.row_number().over(Window.partitionBy("user_key", "at").orderBy(F.desc("event_order"))))
        .where(F.col("_last") == 1)
        .drop("_last")
    )
    deleted = F.col("account.deleted")
    state = F.struct(
        deleted.alias("deleted"),
        *[(F.when(~deleted, F.col("tier")) if f == "creator_tier" else F.col("account")[f]).alias(f)
          for f in HISTORY_FIELDS],
    )
    starts = (
        known.withColumn("state", state)
        .withColumn("previous_state", F.lag("state").over(in_order))
        .where(F.col("previous_state").isNull() | ~F.col("state").eqNullSafe(F.col("previous_state")))
    )
    periods = starts.withColumn("valid_to", F.lead("at").over(in_order))
    return (
        periods.where(~F.col("state.deleted"))
        .select(
            "user_key",
            "user_id",
            *[F.col("state")[f].alias(f) for f in HISTORY_FIELDS],
            F.col("at").alias("valid_from"),
            "valid_to",
            F.col("valid_to").isNull().alias("is_current"),
        )
    )


def midnight_utc(day: Column) -> Column:
    """The instant a day's tier takes effect in the history: the day's midnight UTC, in any session zone."""
    return F.timestamp_seconds(F.unix_date(day) * SECONDS_PER_DAY)


def change_order_type(changes: DataFrame) -> T.DataType:
    """The type of `change_order()` over these changes (a null of it orders a tier day's row)."""
    return changes.select(change_order().alias("order")).schema["order"].dataType


def history_changes(recomputed: DataFrame, existing: DataFrame, key: str = "user_key") -> DataFrame:
    """What a MERGE must do to make `existing` periods (of the touched entities) equal `recomputed`:
    the recomputed rows (insert or update) plus the existing periods that no longer exist (delete)."""
    period = [key, "valid_from"]
    stale = existing.join(recomputed.select(*period), on=period, how="left_anti")
    return (
        recomputed.withColumn("_stale", F.lit(False))
        .unionByName(stale.select(*recomputed.columns).withColumn("_stale", F.lit(True)))
    )
