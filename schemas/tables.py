"""The lake's tables: the data model's star schema (see shared/spec), the quarantine and ops tables.

Surrogate keys are BIGINT: they are 64-bit hashes of the natural keys (jobs/common/keys.py), so a
stream never waits for a dimension and the same id always gets the same key.
"""

from __future__ import annotations

from pyspark.sql import types as T

from schemas.spec import TableSpec, col

KEY = T.LongType()

# Deletion vectors (TableSpec.deletion_vectors), chosen per table by its writes and its readers:
# - event facts, daily facts, quarantine, change logs, ops: appended or replaced per day; an erasure
#   must rewrite the files a user's rows sit in anyway (the purge), so vectors would only add a step;
# - dimensions and history, MERGEd by every dims run: off too. Measured (benchmarks/deletion_vectors.py,
#   1 M users): vectors make a 1,000-user DELETE about 2x faster but need a purge that costs as much
#   before the erasure is physical, and a dims-like MERGE only about 15% faster (its join dominates),
#   while the analysts' delta-rs readers cannot open a table whose protocol lists them at all.
MERGED_DIMENSION_DVS = False

# The event facts' erasure-friendly layout. user_id and user_key are personal, so Delta keeps no
# statistics on them (TableSpec.stats_columns) and cannot skip files by them; user_bucket is a
# coarse, non-identifying hash of the user (users / user_buckets of them share each bucket) that does carry
# min/max statistics. `maintain` Z-orders the facts on it, so one user's rows of a day sit in few
# files and an erasure that filters on the bucket (as well as on the key) rewrites only those.
# Filled by the ingest (jobs/transforms/facts.py with_user_bucket); null only in rows written
# before the column existed, until `maintain` fills them.
USER_BUCKET_COMMENT = "pmod(xxhash64(user_id), maintain.user_buckets): data skipping for erasure, not an id"

dim_users = TableSpec(
    name="dim_users",
    kind="dimension",
    comment="Users, current state: one row per user (creators and consumers).",
    deletion_vectors=MERGED_DIMENSION_DVS,
    schema=T.StructType([
        col("user_key", KEY, "Surrogate key: xxhash64 of user_id", nullable=False, pii=True),
        col("user_id", T.StringType(), "Natural key from the app", nullable=False, pii=True),
        col("registration_date", T.DateType(), "Day the account was created"),
        col("user_type", T.StringType(), "creator, consumer or both"),
        col("creator_tier", T.StringType(), "Tier of the user's latest fact_creator_analytics day (by rule); null before"),
        col("region", T.StringType(), "Country or region code"),
        col("follower_count", T.IntegerType(), "Followers at the latest change"),
        col("following_count", T.IntegerType(), "Accounts followed at the latest change"),
        col("analytics_consent", T.BooleanType(), "false: the user opted out of analytics"),
        col("is_deleted", T.BooleanType(), "The account was deleted (op = delete)", nullable=False),
        col("updated_at", T.TimestampType(), "updated_at of the change that produced this row", nullable=False),
    ]),
)

dim_users_history = TableSpec(
    name="dim_users_history",
    kind="history",
    comment="Attribute history of users (type 2): creator tier, user type and region over time.",
    deletion_vectors=MERGED_DIMENSION_DVS,
    schema=T.StructType([
        col("user_key", KEY, "Surrogate key of the user", nullable=False, pii=True),
        col("user_id", T.StringType(), "Natural key of the user", nullable=False, pii=True),
        col("user_type", T.StringType(), "creator, consumer or both in this period"),
        col("creator_tier", T.StringType(), "Creator tier in this period (by rule, from the daily facts)"),
        col("region", T.StringType(), "Region in this period"),
        col("valid_from", T.TimestampType(), "Start of the period (updated_at of the change)", nullable=False),
        col("valid_to", T.TimestampType(), "End of the period, exclusive; null while current"),
        col("is_current", T.BooleanType(), "The period that is in force now", nullable=False),
    ]),
)

dim_content = TableSpec(
    name="dim_content",
    kind="dimension",
    comment="Videos, current state: one row per video, linked to its creator.",
    deletion_vectors=MERGED_DIMENSION_DVS,
    schema=T.StructType([
        col("content_key", KEY, "Surrogate key: xxhash64 of content_id", nullable=False),
        col("content_id", T.StringType(), "Natural key of the video", nullable=False),
        col("creator_user_key", KEY, "FK to dim_users.user_key of the creator", pii=True),
        col("creator_id", T.StringType(), "user_id of the creator", pii=True),
        col("content_type", T.StringType(), "original, remix, duet or response"),
        col("category", T.StringType(), "dance, comedy, education, ..."),
        col("duration_seconds", T.IntegerType(), "Length of the video"),
        col("music_id", T.StringType(), "Sound used, if any"),
        col("hashtags", T.ArrayType(T.StringType()), "Hashtags (the model's JSON array)"),
        col("effects_used", T.ArrayType(T.StringType()), "Filters and effects (the model's JSON array)"),
        col("upload_timestamp", T.TimestampType(), "When the video was posted (UTC)"),
        col("moderation_status", T.StringType(), "approved, pending or removed"),
        col("is_deleted", T.BooleanType(), "Taken down (op = delete)", nullable=False),
        col("updated_at", T.TimestampType(), "updated_at of the change that produced this row", nullable=False),
    ]),
)

dim_date = TableSpec(
    name="dim_date",
    kind="dimension",
    comment="Calendar at hourly grain, UTC: every hour from the earliest accepted event to a year ahead.",
    schema=T.StructType([
        col("date_key", T.IntegerType(), "UTC hour as yyyymmddhh", nullable=False),
        col("full_date", T.DateType(), "UTC calendar date", nullable=False),
        col("year", T.IntegerType(), "Year", nullable=False),
        col("month", T.IntegerType(), "Month 1..12", nullable=False),
        col("day_of_month", T.IntegerType(), "Day 1..31", nullable=False),
        col("day_of_week", T.IntegerType(), "1 = Sunday .. 7 = Saturday (Spark's dayofweek)", nullable=False),
        col("hour", T.IntegerType(), "Hour 0..23", nullable=False),
        col("is_weekend", T.BooleanType(), "Saturday or Sunday", nullable=False),
    ]),
)

dim_engagement_type = TableSpec(
    name="dim_engagement_type",
    kind="dimension",
    comment="Kinds of interaction and their scoring weights (from configuration).",
    schema=T.StructType([
        col("engagement_key", T.IntegerType(), "Fixed key from configuration", nullable=False),
        col("engagement_type", T.StringType(), "view, like, comment, ...", nullable=False),
        col("engagement_weight", T.IntegerType(), "Weight in the engagement score", nullable=False),
        col("counts_as_view", T.BooleanType(), "Counts towards views (when it qualifies)", nullable=False),
    ]),
)

fact_content_engagements = TableSpec(
    name="fact_content_engagements",
    kind="fact",
    comment="One row per accepted engagement event (duplicates dropped, bad lines quarantined).",
    partition_by=("event_date",),
    schema=T.StructType([
        col("engagement_id", KEY, "Surrogate key: xxhash64 of event_id", nullable=False),
        col("event_id", T.StringType(), "The producer's event id, kept to detect duplicates", nullable=False),
        col("user_key", KEY, "FK to dim_users", nullable=False, pii=True),
        col("user_bucket", T.IntegerType(), USER_BUCKET_COMMENT),
        col("content_key", KEY, "FK to dim_content", nullable=False),
        col("engagement_key", T.IntegerType(), "FK to dim_engagement_type", nullable=False),
        col("date_key", T.IntegerType(), "FK to dim_date: the event's UTC hour", nullable=False),
        col("engagement_timestamp", T.TimestampType(), "When it happened (UTC)", nullable=False),
        col("watch_duration_seconds", T.DoubleType(), "Seconds watched"),
        col("completion_percentage", T.DoubleType(), "Share of the video watched, 0..100"),
        col("engagement_context", T.StringType(), "Where it happened: for_you, following, search, ..."),
        col("user_id", T.StringType(), "Natural key of the acting user", nullable=False, pii=True),
        col("content_id", T.StringType(), "Natural key of the video", nullable=False),
        col("client", T.StringType(), "Producer metadata as JSON, kept and never interpreted", pii=True),
        col("source_file", T.StringType(), "Landing file the event came from, or kafka:<topic>/<partition>/<offset>"),
        col("ingested_at", T.TimestampType(), "When the ingest accepted it", nullable=False),
        col("event_date", T.DateType(), "UTC date of engagement_timestamp (partition)", nullable=False),
    ]),
)

fact_discovery_events = TableSpec(
    name="fact_discovery_events",
    kind="fact",
    comment="One row per accepted feed impression / discovery event.",
    partition_by=("event_date",),
    schema=T.StructType([
        col("discovery_id", KEY, "Surrogate key: xxhash64 of the producer's discovery_id", nullable=False),
        col("event_id", T.StringType(), "The producer's discovery_id, kept to detect duplicates", nullable=False),
        col("user_key", KEY, "FK to dim_users", nullable=False, pii=True),
        col("user_bucket", T.IntegerType(), USER_BUCKET_COMMENT),
        col("content_key", KEY, "FK to dim_content", nullable=False),
        col("date_key", T.IntegerType(), "FK to dim_date: the event's UTC hour", nullable=False),
        col("discovery_source", T.StringType(), "for_you, following, search, ... or other", nullable=False),
        col("position_in_feed", T.IntegerType(), "0 = first slot", nullable=False),
        col("discovery_timestamp", T.TimestampType(), "When it was shown (UTC)", nullable=False),
        col("clicked_through", T.BooleanType(), "The user engaged from this impression", nullable=False),
        col("time_to_engagement", T.DoubleType(), "Seconds until engagement; null without one"),
        col("experiment_id", T.StringType(), "A/B test of the feed that served it"),
        col("variant", T.StringType(), "A/B variant"),
        col("user_id", T.StringType(), "Natural key of the user", nullable=False, pii=True),
        col("content_id", T.StringType(), "Natural key of the video", nullable=False),
        col("source_file", T.StringType(), "Landing file the event came from, or kafka:<topic>/<partition>/<offset>"),
        col("ingested_at", T.TimestampType(), "When the ingest accepted it", nullable=False),
        col("event_date", T.DateType(), "UTC date of discovery_timestamp (partition)", nullable=False),
    ]),
)

fact_content_performance = TableSpec(
    name="fact_content_performance",
    kind="fact",
    comment="Daily performance per video (metrics.md rules); one row per content per day with engagement.",
    partition_by=("event_date",),
    schema=T.StructType([
        col("content_key", KEY, "FK to dim_content", nullable=False),
        col("date_key", T.IntegerType(), "FK to dim_date: hour 00 of the day", nullable=False),
        col("total_views", T.IntegerType(), "Qualifying views (view, >= 3 s)", nullable=False),
        col("unique_viewers", T.IntegerType(), "Distinct users with a qualifying view", nullable=False),
        col("total_likes", T.IntegerType(), "like events", nullable=False),
        col("total_comments", T.IntegerType(), "comment events", nullable=False),
        col("total_shares", T.IntegerType(), "share events", nullable=False),
        col("total_saves", T.IntegerType(), "save events", nullable=False),
        col("avg_watch_duration", T.DoubleType(), "Mean watch seconds of qualifying views"),
        col("completion_rate", T.DoubleType(), "Mean completion (0..1) of qualifying views that carry one"),
        col("engagement_score", T.LongType(), "Sum of weight x count, completion bonus included", nullable=False),
        col("viral_score", T.IntegerType(), "100 x score / creator's 30-day baseline; 500 Trending, 1000 Viral"),
        col("event_date", T.DateType(), "The day described (partition)", nullable=False),
    ]),
)

fact_creator_analytics = TableSpec(
    name="fact_creator_analytics",
    kind="fact",
    comment="Daily analytics per creator; one row per creator per day with any activity.",
    partition_by=("event_date",),
    schema=T.StructType([
        col("user_key", KEY, "FK to dim_users: the creator", nullable=False, pii=True),
        col("date_key", T.IntegerType(), "FK to dim_date: hour 00 of the day", nullable=False),
        col("content_posted", T.IntegerType(), "Videos uploaded that day", nullable=False),
        col("total_views_received", T.IntegerType(), "Qualifying views on the creator's videos", nullable=False),
        col("total_engagements_received", T.IntegerType(), "like/comment/share/save/duet/remix received", nullable=False),
        col("new_followers", T.IntegerType(), "follow events on the creator's videos", nullable=False),
        col("follower_churn", T.IntegerType(), "unfollow events on the creator's videos", nullable=False),
        col("engagement_rate", T.DoubleType(), "engagements / views; null without views"),
        col("trending_content_ids", T.StringType(), "JSON array of Trending/Viral content ids, best first"),
        col("creator_tier", T.StringType(),
            "Tier of the day by rule: followers now and the share of the 28 days to it with an engagement"),
        col("event_date", T.DateType(), "The day described (partition)", nullable=False),
    ]),
)

cdc_users = TableSpec(
    name="cdc_users",
    kind="changelog",
    comment="Every valid user change ever received, once each: dim_users and its history are derived from it.",
    schema=T.StructType([
        col("user_key", KEY, "Surrogate key of the user", nullable=False, pii=True),
        col("user_id", T.StringType(), "Natural key of the user", nullable=False, pii=True),
        col("op", T.StringType(), "upsert or delete", nullable=False),
        col("updated_at", T.TimestampType(), "When the change happened: orders a user's changes", nullable=False),
        col("change_id", KEY, "Hash of the change's content: a repeated change is the same change", nullable=False),
        col("registration_date", T.DateType(), "Day the account was created"),
        col("user_type", T.StringType(), "creator, consumer or both"),
        col("creator_tier", T.StringType(), "As the app reported it (kept here only: the lake derives tiers)"),
        col("region", T.StringType(), "Country or region code"),
        col("follower_count", T.LongType(), "Followers"),
        col("following_count", T.LongType(), "Accounts followed"),
        col("analytics_consent", T.BooleanType(), "As sent; null = not sent (default true)"),
        col("source_file", T.StringType(), "Landing file of the first delivery"),
        col("ingested_at", T.TimestampType(), "When the dims job read it", nullable=False),
    ]),
)

cdc_content = TableSpec(
    name="cdc_content",
    kind="changelog",
    comment="Every valid content change ever received, once each: dim_content is derived from it.",
    schema=T.StructType([
        col("content_key", KEY, "Surrogate key of the video", nullable=False),
        col("content_id", T.StringType(), "Natural key of the video", nullable=False),
        col("op", T.StringType(), "upsert or delete (taken down)", nullable=False),
        col("updated_at", T.TimestampType(), "When the change happened: orders a video's changes", nullable=False),
        col("change_id", KEY, "Hash of the change's content: a repeated change is the same change", nullable=False),
        col("creator_user_id", T.StringType(), "user_id of the creator", pii=True),
        col("content_type", T.StringType(), "original, remix, duet or response"),
        col("category", T.StringType(), "dance, comedy, education, ..."),
        col("duration_seconds", T.LongType(), "Length of the video"),
        col("music_id", T.StringType(), "Sound used, if any"),
        col("hashtags", T.ArrayType(T.StringType()), "Hashtags"),
        col("effects_used", T.ArrayType(T.StringType()), "Filters and effects"),
        col("upload_timestamp", T.TimestampType(), "When the video was posted (UTC)"),
        col("moderation_status", T.StringType(), "As sent; null = not sent (default approved)"),
        col("source_file", T.StringType(), "Landing file of the first delivery"),
        col("ingested_at", T.TimestampType(), "When the dims job read it", nullable=False),
    ]),
)

quarantine = TableSpec(
    name="quarantine",
    kind="quarantine",
    comment="Landing lines that broke the events.md contract, with their raw text and a reason code.",
    partition_by=("ingest_date",),
    schema=T.StructType([
        col("feed", T.StringType(), "engagements, discovery, users or content", nullable=False),
        col("reason", T.StringType(), "Reason code (docs/ingest.md: quarantine reasons)", nullable=False),
        col("reason_detail", T.StringType(), "The field or value at fault"),
        col("raw_line", T.StringType(), "The line exactly as it landed", nullable=False, pii=True),
        col("user_id", T.StringType(), "user_id when the line yields one (for erasure)", pii=True),
        col("source_file", T.StringType(), "Landing file of the line, or kafka:<topic>/<partition>/<offset> of the record", nullable=False),
        col("ingested_at", T.TimestampType(), "When the ingest read it", nullable=False),
        col("batch_id", T.LongType(), "Micro-batch of the stream that read it", nullable=False),
        col("ingest_date", T.DateType(), "UTC date of ingested_at (partition, for retention)", nullable=False),
    ]),
)

ops_ingest_batches = TableSpec(
    name="ops_ingest_batches",
    kind="ops",
    comment="One row per ingest micro-batch and feed: what it read and what became of it.",
    schema=T.StructType([
        col("feed", T.StringType(), "engagements or discovery", nullable=False),
        col("app_id", T.StringType(), "Stream identity (txnAppId of its Delta writes)", nullable=False),
        col("batch_id", T.LongType(), "Micro-batch id (txnVersion of its Delta writes)", nullable=False),
        col("files", T.LongType(), "Landing files in the batch", nullable=False),
        col("lines_read", T.LongType(), "Non-blank lines read", nullable=False),
        col("blank_lines", T.LongType(), "Blank lines ignored", nullable=False),
        col("accepted", T.LongType(), "Rows appended to the fact table", nullable=False),
        col("duplicates", T.LongType(), "Lines dropped as repeat deliveries", nullable=False),
        col("quarantined", T.LongType(), "Lines sent to the quarantine", nullable=False),
        col("started_at", T.TimestampType(), "Batch start", nullable=False),
        col("finished_at", T.TimestampType(), "Batch end", nullable=False),
        # Added with GDPR erasure (last, so a table created before gains it by ALTER TABLE).
        col("erased", T.LongType(), "Lines of erased users dropped (in flight during the request); null before erasure existed"),
    ]),
)

ops_ingest_arrivals = TableSpec(
    name="ops_ingest_arrivals",
    kind="ops",
    comment="Which fact partitions each ingest batch appended to, and whether the data was late.",
    schema=T.StructType([
        col("feed", T.StringType(), "engagements or discovery", nullable=False),
        col("event_date", T.DateType(), "Partition that received rows", nullable=False),
        col("rows", T.LongType(), "Valid lines delivered for that date (before de-duplication)", nullable=False),
        col("is_late", T.BooleanType(), "event_date is before the ingest's UTC date", nullable=False),
        col("app_id", T.StringType(), "Stream identity", nullable=False),
        col("batch_id", T.LongType(), "Micro-batch id", nullable=False),
        col("ingested_at", T.TimestampType(), "When the batch was written", nullable=False),
    ]),
)

ops_daily_runs = TableSpec(
    name="ops_daily_runs",
    kind="ops",
    comment="One row per day the daily job computed: when, from what, and what it could not attribute.",
    schema=T.StructType([
        col("event_date", T.DateType(), "The day computed", nullable=False),
        col("computed_at", T.TimestampType(), "When the run started (arrivals after it make the day pending)", nullable=False),
        col("engagements_read", T.LongType(), "Engagement facts of the day read", nullable=False),
        col("engagements_excluded", T.LongType(), "Of those, by users who opted out of analytics", nullable=False),
        col("content_rows", T.LongType(), "fact_content_performance rows written", nullable=False),
        col("creator_rows", T.LongType(), "fact_creator_analytics rows written", nullable=False),
        col("unattributed_content", T.LongType(), "Videos with engagements but no dim_content row yet", nullable=False),
        col("dim_content_version", T.LongType(), "dim_content version the run used", nullable=False),
    ]),
)

# GDPR erasure's audit trail, and the ingest's tombstone list: one row per erased user and request,
# holding no personal data (a salted hash of the id stands in for it).
ops_gdpr_requests = TableSpec(
    name="ops_gdpr_requests",
    kind="ops",
    comment="One row per erased user and request: salted hash, when, what was removed, when purged.",
    schema=T.StructType([
        col("request_id", T.StringType(), "The gdpr run that erased the user (one run, one id)", nullable=False),
        col("user_hash", T.StringType(), "sha256 of the salt, ':' and the user_id (gdpr.salt)", nullable=False),
        col("requested_at", T.TimestampType(), "When the request was recorded: events before it are erased", nullable=False),
        col("tables_touched", T.ArrayType(T.StringType()), "Tables rows were removed from (archive.<name> under the archive root)"),
        col("rows_removed", T.MapType(T.StringType(), T.LongType()), "Rows removed per table, for the whole request"),
        col("purge_due_at", T.TimestampType(), "When the physical purge is due (requested_at + gdpr.purge_delay_hours)", nullable=False),
        col("purged_at", T.TimestampType(), "When the touched tables were purged; null while pending"),
    ]),
)

# The videos of erased creators, by key only: a later change of such a video need not name its
# creator (a delete need not), so dims finds it here instead of in the audit's user hashes.
ops_gdpr_erased_content = TableSpec(
    name="ops_gdpr_erased_content",
    kind="ops",
    comment="One row per video of an erased creator and request: dims drops the video's changes made before it, and its deletes.",
    schema=T.StructType([
        col("content_key", KEY, "Surrogate key of the video (xxhash64 of content_id)", nullable=False),
        col("erased_before", T.TimestampType(), "The request's time: a change made before it is dropped", nullable=False),
    ]),
)

# What operators look at: every job run (its final line as a row) and the ingest streams' progress.
# Neither holds personal data: gdpr's user ids and secret settings are replaced in the arguments
# (jobs/common/runlog.py), so erasure has nothing to do in them.
ops_job_runs = TableSpec(
    name="ops_job_runs",
    kind="ops",
    comment="One row per run of a job that writes the lake: its command line, times, status and final JSON line.",
    partition_by=("run_date",),
    schema=T.StructType([
        col("run_id", T.StringType(), "Random id of the run", nullable=False),
        col("job", T.StringType(), "ingest, dims, daily, archive, gdpr or maintain", nullable=False),
        col("arguments", T.ArrayType(T.StringType()),
            "The command line after the job's name, as given; user ids and secret settings replaced by <redacted>",
            nullable=False),
        col("started_at", T.TimestampType(), "When the job started, before its Spark session (UTC)", nullable=False),
        col("ended_at", T.TimestampType(), "When it printed its final line (UTC)", nullable=False),
        col("status", T.StringType(), "The final line's status: ok, failed or refused", nullable=False),
        col("exit_code", T.IntegerType(), "0 when ok, else 1 (an argument error exits 2 before Spark: no row)",
            nullable=False),
        col("error", T.StringType(), "The error's first line; null when ok"),
        col("report", T.StringType(), "The final JSON line itself: every count the job printed", nullable=False),
        col("host", T.StringType(), "Host name of the driver"),
        col("pid", T.IntegerType(), "Process id of the driver"),
        col("app_id", T.StringType(), "Spark application id of the driver's session"),
        col("run_date", T.DateType(), "UTC date of started_at (partition)", nullable=False),
    ]),
)

ops_stream_progress = TableSpec(
    name="ops_stream_progress",
    kind="ops",
    comment="The ingest streams' progress as Spark reports it (StreamingQueryListener): one row per micro-batch, "
            "and the latest idle report of each flush.",
    partition_by=("progress_date",),
    schema=T.StructType([
        col("query_name", T.StringType(), "The stream: ingest_<feed>", nullable=False),
        col("feed", T.StringType(), "engagements or discovery", nullable=False),
        col("source", T.StringType(), "files (landing zone) or kafka", nullable=False),
        col("query_id", T.StringType(), "The stream's id (kept in its checkpoint)", nullable=False),
        col("run_id", T.StringType(), "This start of the stream (each ingest run gets a new one)", nullable=False),
        col("event", T.StringType(), "progress (a micro-batch ran) or idle (nothing new to read)", nullable=False),
        col("batch_id", T.LongType(), "Micro-batch id; null when idle"),
        col("progress_at", T.TimestampType(), "When the trigger started, or the stream reported idle (UTC)",
            nullable=False),
        col("input_rows", T.LongType(), "Records (lines) the batch read; 0 when idle", nullable=False),
        col("input_rows_per_second", T.DoubleType(), "Arrival rate: input rows / time since the previous trigger"),
        col("processed_rows_per_second", T.DoubleType(), "Processing rate: input rows / the batch's duration"),
        col("batch_duration_ms", T.LongType(), "The batch's duration, milliseconds"),
        col("durations_ms", T.MapType(T.StringType(), T.LongType()),
            "Where the batch's time went (Spark's durationMs: addBatch, latestOffset, queryPlanning, ...)"),
        col("offsets_behind", T.LongType(),
            "Kafka: records left in the topic after the batch (latest minus end offsets, all partitions); "
            "0 when idle; null for landing files (Spark's file source does not report it)"),
        col("source_description", T.StringType(), "Spark's description of the source"),
        col("start_offset", T.StringType(), "The batch's start offset as Spark reports it (JSON)"),
        col("end_offset", T.StringType(), "The batch's end offset (JSON)"),
        col("latest_offset", T.StringType(), "The source's latest offset when the batch was planned (JSON)"),
        col("progress_date", T.DateType(), "UTC date of progress_at (partition)", nullable=False),
    ]),
)

ALL_TABLES: tuple[TableSpec, ...] = (
    dim_users,
    dim_users_history,
    dim_content,
    dim_date,
    dim_engagement_type,
    fact_content_engagements,
    fact_discovery_events,
    fact_content_performance,
    fact_creator_analytics,
    quarantine,
    ops_ingest_batches,
    ops_ingest_arrivals,
    ops_daily_runs,
    cdc_users,
    cdc_content,
    ops_gdpr_requests,
    ops_gdpr_erased_content,
    ops_job_runs,
    ops_stream_progress,
)

TABLES: dict[str, TableSpec] = {spec.name: spec for spec in ALL_TABLES}


def table(name: str) -> TableSpec:
    return TABLES[name]

# The raw event facts that `archive` moves, once older than ingest.hot_days, to tables of the same
# name, schema and partitioning under the archive root (paths.archive; default <lake>/archive); the
# columns that identify one event there (a repeat delivery has the same event_date, key and id).
ARCHIVED_TABLES: dict[str, tuple[str, ...]] = {
    "fact_content_engagements": ("event_date", "engagement_id", "event_id"),
    "fact_discovery_events": ("event_date", "discovery_id", "event_id"),
}
