"""The landing-zone contract (shared/spec/events.md) as data: one rule per field of each feed.

The ingest builds its explicit JSON schema and its validation from these rules, so a field is
described once. `json_type` is the JSON type the contract requires; `spark_type` is what the
value becomes once it passes.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import types as T

ENGAGEMENT_TYPES = ("view", "like", "comment", "share", "save", "follow", "unfollow", "duet", "remix")
USER_TYPES = ("creator", "consumer", "both")
CREATOR_TIERS = ("casual", "rising", "established", "top")
CONTENT_TYPES = ("original", "remix", "duet", "response")
MODERATION_STATUSES = ("approved", "pending", "removed")
CDC_OPS = ("upsert", "delete")

JSON_TO_SPARK: dict[str, T.DataType] = {
    "string": T.StringType(),
    "timestamp": T.StringType(),  # parsed by the ingest with a strict ISO-8601 rule
    "date": T.StringType(),
    "number": T.DoubleType(),
    "integer": T.LongType(),
    "boolean": T.BooleanType(),
    "object": T.StringType(),  # kept as its JSON text
    "string_array": T.ArrayType(T.StringType()),
}


@dataclass(frozen=True)
class FieldRule:
    name: str
    json_type: str
    required: bool = False
    required_when: tuple[str, str] | None = None  # (field, value): required only then
    enum: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None

    @property
    def spark_type(self) -> T.DataType:
        return JSON_TO_SPARK[self.json_type]


@dataclass(frozen=True)
class Feed:
    name: str
    id_field: str | None  # the producer's unique id (duplicates are judged on it)
    time_field: str | None  # the event's own time: the partition date comes from it
    rules: tuple[FieldRule, ...]

    @property
    def json_schema(self) -> T.StructType:
        return T.StructType([T.StructField(r.name, r.spark_type, True) for r in self.rules])

    def rule(self, name: str) -> FieldRule:
        return next(r for r in self.rules if r.name == name)


ENGAGEMENTS = Feed(
    name="engagements",
    id_field="event_id",
    time_field="event_timestamp",
    rules=(
        FieldRule("event_id", "string", required=True),
        FieldRule("user_id", "string", required=True),
        FieldRule("content_id", "string", required=True),
        FieldRule("engagement_type", "string", required=True, enum=ENGAGEMENT_TYPES),
        FieldRule("event_timestamp", "timestamp", required=True),
        FieldRule("watch_duration_seconds", "number", required_when=("engagement_type", "view"), minimum=0),
        FieldRule("completion_percentage", "number", minimum=0, maximum=100),
        FieldRule("engagement_context", "string"),
        FieldRule("client", "object"),
    ),
)

DISCOVERY = Feed(
    name="discovery",
    id_field="discovery_id",
    time_field="discovery_timestamp",
    rules=(
        FieldRule("discovery_id", "string", required=True),
        FieldRule("user_id", "string", required=True),
        FieldRule("content_id", "string", required=True),
        FieldRule("discovery_source", "string", required=True),
        FieldRule("position_in_feed", "integer", required=True, minimum=0),
        FieldRule("discovery_timestamp", "timestamp", required=True),
        FieldRule("clicked_through", "boolean", required=True),
        FieldRule("time_to_engagement_seconds", "number", minimum=0),
        FieldRule("experiment_id", "string"),
        FieldRule("variant", "string"),
    ),
)

USERS = Feed(
    name="users",
    id_field=None,
    time_field="updated_at",
    rules=(
        FieldRule("op", "string", required=True, enum=CDC_OPS),
        FieldRule("user_id", "string", required=True),
        FieldRule("updated_at", "timestamp", required=True),
        FieldRule("registration_date", "date", required_when=("op", "upsert")),
        FieldRule("user_type", "string", required_when=("op", "upsert"), enum=USER_TYPES),
        FieldRule("creator_tier", "string", enum=CREATOR_TIERS),
        FieldRule("region", "string", required_when=("op", "upsert")),
        FieldRule("follower_count", "integer", required_when=("op", "upsert"), minimum=0),
        FieldRule("following_count", "integer", required_when=("op", "upsert"), minimum=0),
        FieldRule("analytics_consent", "boolean"),
    ),
)

CONTENT = Feed(
    name="content",
    id_field=None,
    time_field="updated_at",
    rules=(
        FieldRule("op", "string", required=True, enum=CDC_OPS),
        FieldRule("content_id", "string", required=True),
        FieldRule("updated_at", "timestamp", required=True),
        FieldRule("creator_user_id", "string", required_when=("op", "upsert")),
        FieldRule("content_type", "string", required_when=("op", "upsert"), enum=CONTENT_TYPES),
        FieldRule("category", "string", required_when=("op", "upsert")),
        FieldRule("duration_seconds", "integer", required_when=("op", "upsert"), minimum=1),
        FieldRule("music_id", "string"),
        FieldRule("hashtags", "string_array"),
        FieldRule("effects_used", "string_array"),
        FieldRule("upload_timestamp", "timestamp", required_when=("op", "upsert")),
        FieldRule("moderation_status", "string", enum=MODERATION_STATUSES),
    ),
)

LANDING_SCHEMAS: dict[str, Feed] = {feed.name: feed for feed in (ENGAGEMENTS, DISCOVERY, USERS, CONTENT)}
