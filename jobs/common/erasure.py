"""GDPR erasure on the lake: the logical delete (one MERGE per table), the audit trail (which is the
ingest's tombstone list), and the physical purge that leaves no byte of an erased id behind.

The purge, per touched table:
1. `REORG TABLE ... APPLY (PURGE)`: rewrites the files whose deletion vectors hide erased rows.
2. `VACUUM ... RETAIN 0 HOURS`: deletes every file the table no longer references (the old data
   files and deletion vectors). Delta's retention check is switched off for that call only.
3. The log forgets: a checkpoint is written at the latest version, then every commit JSON, .crc,
   older checkpoint and staged commit before it is deleted, as Delta's own log cleanup does.
   Delta's cleanup (delta.logRetentionDuration, at each checkpoint) cannot be used for this: it
   truncates its cutoff to the day (MetadataCleanup.truncateDate(..., DAY)), so today's commits
   stay, and it leaves .crc files alone. What stays is what a reader needs: the checkpoint (the
   live files, the set transactions that keep the ingest's writes idempotent), _last_checkpoint and
   the commits after it. Time travel before the purge ends there, by design.
The pii columns are out of Delta's file statistics (schemas/spec.py), so neither the new checkpoint
nor any commit holds an id or a user key; the MERGEs log only their join conditions.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
import uuid

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.common.config import Conf
from jobs.common.lake import delta_log_dir, delta_log_snapshot, is_table, retry_on_conflict, table_path
from jobs.common.maintenance import ensure_job_table, user_buckets
from jobs.common.spark import session_settings
from jobs.transforms.erasure import (
    BUCKET_COLUMN,
    CONTENT,
    ERASURE_RULES,
    bucket_condition,
    creators_content,
    latest_requests,
    user_hash_hex,
)
from jobs.transforms.facts import user_bucket
from schemas import TABLES, TableSpec

DELETION_VECTORS = "deletionVectors"  # Delta's table feature

log = logging.getLogger("shortvideo.gdpr")
AUDIT = TABLES["ops_gdpr_requests"]
ERASED_CONTENT = TABLES["ops_gdpr_erased_content"]
ARCHIVE_PREFIX = "archive."
RETENTION_CHECK = "spark.databricks.delta.retentionDurationCheck.enabled"
LISTING_PARALLELISM = "spark.sql.sources.parallelPartitionDiscovery.parallelism"
# A log entry's version: 00000000000000000012.json / .crc / .checkpoint[.N.M].parquet /
# .checkpoint.<uuid>.parquet / 00000000000000000010.00000000000000000012.compacted.json, and the
# staged commits of coordinated commits (<version>.<uuid>.json).
LOG_ENTRY_VERSION = re.compile(r"^(\d{20})\.")


def salt_of(conf: Conf) -> str:
    salt = str(conf.get("gdpr.salt"))
    if not salt:
        raise ValueError("gdpr.salt is empty: set the environment's secret salt (--set gdpr.salt=...)")
    return salt


# --- The audit trail and the tombstones -------------------------------------------------------------

def audit_path(conf: Conf) -> str:
    return table_path(conf.lake, AUDIT)


def read_tombstones(spark: SparkSession, conf: Conf) -> DataFrame | None:
    """user_hash -> erased_before, or None when no erasure was ever recorded (nothing to filter)."""
    if not is_table(spark, audit_path(conf)):
        return None
    salt_of(conf)
    return latest_requests(spark.read.format("delta").load(audit_path(conf)))


def read_erased_content(spark: SparkSession, conf: Conf) -> DataFrame | None:
    """content_key -> erased_before (its latest request), or None when no creator's video was erased."""
    path = table_path(conf.lake, ERASED_CONTENT)
    if not is_table(spark, path):
        return None
    return spark.read.format("delta").load(path).groupBy("content_key").agg(
        F.max("erased_before").alias("erased_before"))


def record_erased_content(spark: SparkSession, conf: Conf, content_keys: list[int], requested_at: dt.datetime) -> None:
    """The erased creators' videos, appended before any table loses them (a rerun appends them again,
    which reads the same)."""
    if not content_keys:
        return
    ensure_job_table(spark, conf, ERASED_CONTENT)
    spark.createDataFrame([(key, requested_at) for key in content_keys], ERASED_CONTENT.schema).write.format(
        "delta").mode("append").save(table_path(conf.lake, ERASED_CONTENT))


def record_requests(spark: SparkSession, conf: Conf, user_ids: list[str], requested_at: dt.datetime,
                    purge_due_at: dt.datetime) -> str:
    """One audit row per user, written before anything is erased: from its commit on, the ingest
    drops the users' in-flight events. Returns the request id."""
    ensure_job_table(spark, conf, AUDIT)
    salt = salt_of(conf)
    request_id = uuid.uuid4().hex
    rows = [(request_id, user_hash_hex(u, salt), requested_at, [], {}, purge_due_at, None)
            for u in sorted(set(user_ids))]
    spark.createDataFrame(rows, AUDIT.schema).write.format("delta").mode("append").save(audit_path(conf))
    return request_id


def complete_request(spark: SparkSession, conf: Conf, request_id: str, removed: dict[str, int]) -> None:
    touched = sorted(name for name, rows in removed.items() if rows)
    counts = F.create_map(*[F.lit(x) for name in sorted(removed) for x in (name, removed[name])]) \
        if removed else F.create_map().cast("map<string,bigint>")
    retry_on_conflict(lambda: DeltaTable.forPath(spark, audit_path(conf)).update(
        condition=F.col("request_id") == F.lit(request_id),
        set={"tables_touched": F.array(*[F.lit(t) for t in touched]).cast("array<string>"),
             "rows_removed": counts.cast("map<string,bigint>")},
    ), int(conf.get("gdpr.write_retries")))


# --- The logical erasure ----------------------------------------------------------------------------

def erasure_targets(spark: SparkSession, conf: Conf) -> list[tuple[str, str, TableSpec]]:
    """(audit name, path, spec) of every table that may hold erased users: the lake's, then the same
    names under the archive root; tables not created yet are skipped."""
    targets = []
    for root, prefix in ((conf.lake, ""), (conf.archive, ARCHIVE_PREFIX)):
        for name in ERASURE_RULES:
            path = table_path(root, name)
            if is_table(spark, path):
                targets.append((prefix + name, path, TABLES[name]))
    return targets


def delete_matching(spark: SparkSession, path: str, source: DataFrame, condition: str) -> int:
    """MERGE ... WHEN MATCHED THEN DELETE: one commit (none when nothing matches); rows deleted."""
    metrics = (
        DeltaTable.forPath(spark, path).alias("t")
        .merge(source.alias("s"), condition)
        .whenMatchedDelete()
        .execute()
        .first()
    )
    return int(metrics["num_deleted_rows"]) if metrics is not None else 0


def erase_users(spark: SparkSession, conf: Conf, users: DataFrame, requested_at: dt.datetime) -> dict[str, int]:
    """Every erasure target, one MERGE each (retried on conflicts): table -> rows removed. The
    erased creators' videos are recorded first (ops_gdpr_erased_content), for dims."""
    targets = erasure_targets(spark, conf)
    by_name = {name: path for name, path, _ in targets}
    content_tables = [spark.read.format("delta").load(by_name[n]) if n in by_name
                      else spark.createDataFrame([], TABLES[n].schema) for n in ("dim_content", "cdc_content")]
    # Collected once, before the content tables lose them: a small list of keys.
    content_keys = [r["content_key"] for r in creators_content(*content_tables, users).collect()]
    record_erased_content(spark, conf, content_keys, requested_at)
    content = spark.createDataFrame([(k,) for k in content_keys], "content_key bigint")
    users = users.cache()
    buckets = [r[0] for r in users.select(user_bucket("user_key", user_buckets(conf))).distinct().collect()]
    retries = int(conf.get("gdpr.write_retries"))
    removed = {}
    try:
        for name, path, spec in targets:
            rule = ERASURE_RULES[spec.name]
            source = content if rule.source == CONTENT else users
            condition = rule.condition
            if rule.source != CONTENT and buckets and BUCKET_COLUMN in DeltaTable.forPath(spark, path).toDF().columns:
                condition = f"{condition} AND {bucket_condition(buckets)}"
            started = time.monotonic()
            removed[name] = retry_on_conflict(
                lambda path=path, source=source, condition=condition: delete_matching(spark, path, source, condition),
                retries)
            log.info("erased %s rows from %s in %.1fs", removed[name], name, time.monotonic() - started)
    finally:
        users.unpersist()
    return removed


# --- The physical purge -----------------------------------------------------------------------------

def resolve_table(conf: Conf, name: str) -> str:
    if name.startswith(ARCHIVE_PREFIX):
        return table_path(conf.archive, name[len(ARCHIVE_PREFIX):])
    return table_path(conf.lake, name)


def vacuum_now(spark: SparkSession, path: str) -> None:
    """VACUUM with zero retention: safe only while no writer runs (the caller holds the purge lease).

    For that call only, Delta's retention check is off, and the file listing runs in as many tasks
    as the session has cores instead of Spark's default 10000 (most of a small table's VACUUM time).
    """
    settings = {RETENTION_CHECK: "false", LISTING_PARALLELISM: str(spark.sparkContext.defaultParallelism)}
    with session_settings(spark, settings):
        spark.sql(f"VACUUM delta.`{path}` RETAIN 0 HOURS").collect()


def forget_history(spark: SparkSession, path: str) -> int:
    """Checkpoint the latest version, then delete every log entry before it. Returns files deleted."""
    jvm = spark.sparkContext._jvm
    # The snapshot brought up to date first: DeltaLog.checkpoint() alone takes the session's cached one.
    delta_log, latest = delta_log_snapshot(spark, path)
    delta_log.checkpoint(latest, jvm.scala.Option.empty())
    checkpoint_version = int(delta_log.readLastCheckpointFile().get().version())
    fs, log_dir = delta_log_dir(spark, path)
    _, staged = delta_log_dir(spark, path, "_staged_commits")
    deleted = 0
    for directory in (log_dir, staged):
        if not fs.exists(directory):
            continue
        for status in fs.listStatus(directory):
            match = LOG_ENTRY_VERSION.match(status.getPath().getName())
            if match and int(match.group(1)) < checkpoint_version and fs.delete(status.getPath(), False):
                deleted += 1
    # Cached snapshots may still point at the deleted commits: the next use lists the log afresh.
    jvm.org.apache.spark.sql.delta.DeltaLog.clearCache()
    return deleted


def may_hold_deletion_vectors(spark: SparkSession, path: str) -> bool:
    """Whether the table's protocol allows deletion vectors. Without the feature no file has one and
    the erasure's MERGE rewrote its files: REORG ... APPLY (PURGE) would have nothing to do, and on a
    cluster Delta 4.4's REORG fails on the executors (ReorgTableHelper asks for an active session
    there: "No active or default Spark session found"), so it runs only for a table that has the
    feature (one that maintain has not brought to its spec yet)."""
    features = DeltaTable.forPath(spark, path).detail().first()["tableFeatures"] or []
    return DELETION_VECTORS in features


def purge(spark: SparkSession, conf: Conf, tables: list[str]) -> dict:
    """Purge these tables (audit names, e.g. `dim_users`, `archive.fact_content_engagements`):
    deletion vectors, unreferenced files, log history. The caller holds the purge lease."""
    purged = {}
    for name in sorted(set(tables)):
        path = resolve_table(conf, name)
        if not is_table(spark, path):
            continue
        started = time.monotonic()
        if may_hold_deletion_vectors(spark, path):
            spark.sql(f"REORG TABLE delta.`{path}` APPLY (PURGE)").collect()
        reorganised = time.monotonic()
        vacuum_now(spark, path)
        vacuumed = time.monotonic()
        purged[name] = forget_history(spark, path)
        log.info("purged %s: reorg %.1fs, vacuum %.1fs, log %.1fs (%s log entries forgotten)", name,
                 reorganised - started, vacuumed - reorganised, time.monotonic() - vacuumed, purged[name])
    return {"tables_purged": sorted(purged), "log_entries_deleted": sum(purged.values())}


def purge_due(spark: SparkSession, conf: Conf, now: dt.datetime, lease: bool = True) -> dict:
    """Purge the tables of every pending request whose delay has passed, then stamp purged_at.

    With `lease` (the maintain job) the purge lease is taken first; while a writer is active nothing
    is purged and the requests stay pending: {"purge_skipped": reason}.
    """
    from jobs.common.lease import WriterActive, purge_lease

    if not is_table(spark, audit_path(conf)):
        return {"requests_purged": 0}
    if lease:
        try:
            with purge_lease(spark, conf):
                return purge_due(spark, conf, now, lease=False)
        except WriterActive as error:
            return {"requests_purged": 0, "purge_skipped": str(error)}
    due = (
        spark.read.format("delta").load(audit_path(conf))
        .where(F.col("purged_at").isNull() & (F.col("purge_due_at") <= F.lit(now)))
        .select("request_id", "tables_touched")
        .collect()
    )
    if not due:
        return {"requests_purged": 0}
    request_ids = sorted({r["request_id"] for r in due})
    outcome = purge(spark, conf, [t for r in due for t in (r["tables_touched"] or [])])
    retry_on_conflict(lambda: DeltaTable.forPath(spark, audit_path(conf)).update(
        condition=F.col("request_id").isin(request_ids) & F.col("purged_at").isNull(),
        set={"purged_at": F.lit(now)},
    ), int(conf.get("gdpr.write_retries")))
    return {"requests_purged": len(request_ids), **outcome}
