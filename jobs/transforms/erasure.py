"""GDPR erasure as data: which rows of each table belong to erased users, and the in-flight filter.

Every delete is a MERGE against a small DataFrame of the requested users (or of their videos),
never a DELETE with the ids in its predicate: Delta writes a DELETE's predicate, literals and all,
into the commit's operationParameters, while a MERGE logs only its join condition.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.common.keys import surrogate_key
from jobs.transforms.changes import DELETE
from jobs.transforms.facts import USER_ID_IN_RAW_LINE

USERS = "users"      # source rows: user_id, user_key
CONTENT = "content"  # source rows: content_key of an erased creator's videos
ERASED_FLAG = "is_erased"
# Whose line it is: an event's or a user change's user_id, else a content change's creator.
USER_FIELDS = ("user_id", "creator_user_id")
SALT_SEPARATOR = ":"


@dataclass(frozen=True)
class ErasureRule:
    """How a table's rows of erased users are found: a MERGE condition (target `t`, source `s`)
    against the `source` kind of rows."""

    source: str
    condition: str


# Tables holding both the id and its key match on both (an equi-join, exact even if two ids' keys
# collided). The quarantine's raw lines may hold the id anywhere in their text, so any line that
# contains it goes (a longer id that contains it goes too: over-erasing a bad line is harmless).
# An erased creator's videos go from the content tables, and their performance rows with them;
# other users' engagements with those videos are the other users' data and stay.
# Events and user changes that happened at or after the request are a returning user's new data
# (the same line ingest draws for in-flight events): they stay, even when they were stored before
# the MERGE ran. The dimensions are re-derived from the changes that stay.
ERASURE_RULES: dict[str, ErasureRule] = {
    "fact_content_engagements": ErasureRule(
        USERS, "t.user_key = s.user_key AND t.user_id = s.user_id AND t.engagement_timestamp < s.erased_before"),
    "fact_discovery_events": ErasureRule(
        USERS, "t.user_key = s.user_key AND t.user_id = s.user_id AND t.discovery_timestamp < s.erased_before"),
    "fact_creator_analytics": ErasureRule(USERS, "t.user_key = s.user_key"),
    "fact_content_performance": ErasureRule(CONTENT, "t.content_key = s.content_key"),
    "quarantine": ErasureRule(USERS, "t.user_id = s.user_id OR contains(t.raw_line, s.user_id)"),
    "dim_users_history": ErasureRule(USERS, "t.user_key = s.user_key AND t.user_id = s.user_id"),
    "dim_users": ErasureRule(USERS, "t.user_key = s.user_key AND t.user_id = s.user_id"),
    "cdc_users": ErasureRule(USERS, "t.user_key = s.user_key AND t.user_id = s.user_id AND t.updated_at < s.erased_before"),
    # Last: the erased creators' videos are looked up in these two, so a rerun after a crash
    # still finds them while any table that depends on them is left.
    "dim_content": ErasureRule(CONTENT, "t.content_key = s.content_key"),
    "cdc_content": ErasureRule(CONTENT, "t.content_key = s.content_key"),
}


BUCKET_COLUMN = "user_bucket"


def bucket_condition(buckets: list[int]) -> str:
    """The target-only conjunct that lets a MERGE skip files: Delta prunes the files a MERGE reads by
    its condition's target-only predicates, by their min/max statistics. The bucket numbers land in
    the commit's logged condition; each is shared by users / user_buckets users, so they identify no
    one. Rows written before the column existed have a null bucket and are read too."""
    listed = ", ".join(str(b) for b in sorted(set(buckets)))
    return f"(t.{BUCKET_COLUMN} IN ({listed}) OR t.{BUCKET_COLUMN} IS NULL)"


def user_hash_hex(user_id: str, salt: str) -> str:
    """The audit table's salted hash of an id (the same value as `user_hash` computes in Spark)."""
    return hashlib.sha256(f"{salt}{SALT_SEPARATOR}{user_id}".encode("utf-8")).hexdigest()


def user_hash(user_id: Column, salt: str) -> Column:
    return F.sha2(F.concat(F.lit(salt + SALT_SEPARATOR), user_id), 256)


def requested_users(spark: SparkSession, user_ids: list[str], requested_at: dt.datetime) -> DataFrame:
    """The MERGE source for the user tables: each requested id with its surrogate key, and the
    request's time (`erased_before`: what happened from then on is a returning user's)."""
    ids = spark.createDataFrame([(u, requested_at) for u in sorted(set(user_ids))],
                                "user_id string, erased_before timestamp")
    return ids.select("user_id", surrogate_key("user_id").alias("user_key"), "erased_before")


def creators_content(dim_content: DataFrame, cdc_content: DataFrame, users: DataFrame) -> DataFrame:
    """content_key of every video an erased user created, by the dimension or by any logged change."""
    by_dimension = dim_content.join(
        users, on=dim_content["creator_user_key"] == users["user_key"], how="left_semi").select("content_key")
    by_change = cdc_content.join(
        users, on=cdc_content["creator_user_id"] == users["user_id"], how="left_semi").select("content_key")
    return by_dimension.union(by_change).distinct()


def latest_requests(audit: DataFrame) -> DataFrame:
    """The tombstones: per salted hash, the time of its latest erasure request."""
    return audit.groupBy("user_hash").agg(F.max("requested_at").alias("erased_before"))


def with_erased_flag(lines: DataFrame, tombstones: DataFrame | None, salt: str, time_field: str) -> DataFrame:
    """Classified landing lines -> plus `is_erased`: the line belongs to an erased user and happened
    before the request (it was in flight). A line whose time did not parse counts as before.

    The user comes from the parsed `user_id` (a content change's `creator_user_id`), else from that
    field in the raw text, as the quarantine salvages it. Without tombstones every line keeps
    `is_erased = false`.
    """
    if tombstones is None:
        return lines.withColumn(ERASED_FLAG, F.lit(False))
    field = next((c for c in USER_FIELDS if c in lines.columns), USER_FIELDS[0])
    parsed = F.col(field) if field in lines.columns else F.lit(None)
    in_raw_line = USER_ID_IN_RAW_LINE.replace('"user_id"', f'"{field}"')
    user = F.coalesce(parsed, F.nullif(F.regexp_extract(F.col("value"), in_raw_line, 1), F.lit("")))
    keyed = lines.withColumn("_user_hash", user_hash(user, salt))
    stones = F.broadcast(tombstones.select(F.col("user_hash").alias("_stone"), "erased_before"))
    happened = F.col(time_field)
    erased = F.col("erased_before").isNotNull() & (happened.isNull() | (happened < F.col("erased_before")))
    return (
        keyed.join(stones, on=F.col("_user_hash") == F.col("_stone"), how="left")
        .withColumn(ERASED_FLAG, F.coalesce(erased, F.lit(False)))
        .drop("_user_hash", "_stone", "erased_before")
    )


def with_erased_content_flag(lines: DataFrame, erased_content: DataFrame | None, time_field: str) -> DataFrame:
    """Classified content lines (after `with_erased_flag`) -> `is_erased` also true for a change of
    a video whose creator was erased that was made before the request, or that deletes it (at any
    time: the video is gone). Such a change need not name the creator (a delete need not), so the
    user's tombstone cannot find it, and kept it would bring the video's dim_content row back.
    `erased_content` is (content_key, erased_before); None leaves the flag as it is."""
    if erased_content is None:
        return lines
    stones = F.broadcast(erased_content.select(F.col("content_key").alias("_erased_content"),
                                               F.col("erased_before").alias("_content_erased_before")))
    happened = F.col(time_field)
    erased = F.col("_erased_content").isNotNull() & (
        happened.isNull() | (happened < F.col("_content_erased_before")) | (F.col("op") == DELETE))
    return (
        lines.join(stones, on=surrogate_key("content_id") == F.col("_erased_content"), how="left")
        .withColumn(ERASED_FLAG, F.col(ERASED_FLAG) | F.coalesce(erased, F.lit(False)))
        .drop("_erased_content", "_content_erased_before")
    )
