"""maintain: keep every lake table (and its archive copy) fast, readable and within its retention.

One pass per step over the tables that exist, each table by its policy (jobs/common/maintenance.py):

1. spec: the table gets the columns, properties and features its declaration asks for (schemas/):
   new columns, the policy's retention properties, and no deletion-vector feature where the spec
   says none (Delta's DROP FEATURE purges the vectors first and leaves a reader version 1
   protocol, which delta-rs opens).
2. user buckets: event-fact rows written before user_bucket existed get it.
3. compaction: partitions holding 2+ files under the target size are rewritten by OPTIMIZE, Z-ordered
   by the policy's columns (the event facts: user_bucket, so an erasure rewrites few files).
4. pending purges: the gdpr requests whose purge delay has passed (jobs/common/erasure.py purge_due).
5. vacuum: files unreferenced for longer than the policy's retention, never below the floor.
6. checkpoint: a checkpoint of the log, then log entries older than the log retention are deleted.

Each step is one or a few Delta commits that change no row, so readers and a running ingest carry
on; a conflict with a concurrent writer is retried. A second run finds nothing to rewrite.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.common import cli
from jobs.common.config import Conf, ConfigError, load_conf
from jobs.common.erasure import DELETION_VECTORS, purge_due
from jobs.common.lease import writer_lease
from jobs.common.lake import (
    add_missing_columns,
    delta_log_snapshot,
    existing_tables,
    retry_on_conflict,
    table_path,
)
from jobs.common.landing import utc_now
from jobs.common.maintenance import MaintainPolicy, TablePolicy, maintain_policy
from jobs.common.report import JobReport, configure_logging, first_line
from jobs.common.runlog import RunLog, command_line
from jobs.common.spark import session_settings, start_spark
from jobs.transforms.facts import user_bucket
from schemas import TableSpec

log = logging.getLogger("shortvideo.maintain")
BUCKET_COLUMN = "user_bucket"
UNPARTITIONED = ""  # the partition label of a table without partitions
LAID_OUT_COVERAGE = 1.5  # how often files may cover a partition's range and count as laid out (ranges_overlap)
# OPTIMIZE's file sizes: files under minFileSize are compacted, into files of up to maxFileSize.
OPTIMIZE_SIZES = ("spark.databricks.delta.optimize.minFileSize", "spark.databricks.delta.optimize.maxFileSize")
VACUUM_LISTING = "spark.sql.sources.parallelPartitionDiscovery.parallelism"


class MaintainParser(cli.LakeParser):
    """The policy is checked with the arguments (exit 2 before any JVM starts), the VACUUM floor too."""

    def check_arguments(self, parsed) -> None:
        try:
            maintain_policy(load_conf(parsed.env, parsed.overrides, lake=parsed.lake))
        except ConfigError as error:
            self.error(f"unusable configuration: {error}")


def build_parser() -> MaintainParser:
    parser = cli.base_parser("maintain", "Compaction, Z-order, checkpoints and vacuum per table policy.",
                             parser_class=MaintainParser)
    parser.add_argument("--lake", help="lake root (default: the environment's)")
    return parser


@dataclass(frozen=True)
class LakeTable:
    """A table as found on disk: its spec, where it is, and how the report names it."""

    spec: TableSpec
    root: str
    label: str

    @property
    def path(self) -> str:
        return table_path(self.root, self.spec)


def lake_tables(spark: SparkSession, conf: Conf) -> list[LakeTable]:
    """Every declared table under the lake root, and the archive's copies (same names)."""
    found = [LakeTable(spec, conf.lake, spec.name) for spec in existing_tables(spark, conf.lake)]
    if conf.archive.rstrip("/") != conf.lake.rstrip("/"):
        found += [LakeTable(spec, conf.archive, f"archive/{spec.name}")
                  for spec in existing_tables(spark, conf.archive)]
    return found


def data_files(spark: SparkSession, path: str) -> DataFrame:
    """The table's current data files, from its log: path, partitionValues, size, ..."""
    _, snapshot = delta_log_snapshot(spark, path)
    return DataFrame(snapshot.allFiles().toDF(), spark)


def files_per_partition(spark: SparkSession, table: LakeTable, small_below: int) -> dict[str, tuple[int, int]]:
    """partition value -> (files, files smaller than `small_below` bytes); read from the log only."""
    counts: dict[str, tuple[int, int]] = {}
    for row in data_files(spark, table.path).select(_partition(table).alias("partition"), "size").collect():
        files, small = counts.get(row["partition"], (0, 0))
        counts[row["partition"]] = (files + 1, small + int(row["size"] < small_below))
    return counts


def _partition(table: LakeTable):
    return (F.col("partitionValues")[table.spec.partition_by[0]] if table.spec.partition_by
            else F.lit(UNPARTITIONED))


def unordered_partitions(spark: SparkSession, table: LakeTable, column: str) -> set[str]:
    """The partitions of 2+ files that are not laid out by `column` (an integer column) yet, judged
    from the files' min/max statistics in the log (`ranges_overlap`)."""
    stats = F.col("stats")
    ranges = data_files(spark, table.path).select(
        _partition(table).alias("partition"),
        F.get_json_object(stats, f"$.minValues.{column}").cast("long").alias("low"),
        F.get_json_object(stats, f"$.maxValues.{column}").cast("long").alias("high"),
    ).collect()
    by_partition: dict[str, list[tuple[int | None, int | None]]] = {}
    for row in ranges:
        by_partition.setdefault(row["partition"], []).append((row["low"], row["high"]))
    return {partition for partition, files in by_partition.items() if len(files) > 1 and ranges_overlap(files)}


def ranges_overlap(files: list[tuple[int | None, int | None]]) -> bool:
    """Whether the files' [low, high] ranges cover the partition's range much more than once.

    A Z-order on one column range-partitions the rows by it into files of consecutive ranges; Delta
    adds noise to the partitioning key (spark.databricks.io.skipping.mdc.addNoise) so that neighbours
    may share a few values, but together the files cover the span about once. Files of micro-batches
    each cover nearly all of it. Over 1.5 times (or a file without statistics) is not laid out.
    """
    if any(low is None or high is None for low, high in files):
        return True
    span = max(high for _, high in files) - min(low for low, _ in files) + 1
    covered = sum(high - low + 1 for low, high in files)
    return covered > LAID_OUT_COVERAGE * span


def bring_to_spec(spark: SparkSession, table: LakeTable, policy: TablePolicy, attempts: int) -> dict:
    """Columns, features and properties as the spec and the policy declare them."""
    done: dict = {}
    added = add_missing_columns(spark, table.root, table.spec)
    if added:
        done["columns_added"] = added
    delta_table = DeltaTable.forPath(spark, table.path)
    detail = delta_table.detail().first()
    if not table.spec.deletion_vectors and DELETION_VECTORS in (detail["tableFeatures"] or []):
        # Purges the vectors (rewrites their files), then leaves the protocol without the reader
        # feature, guarded by a writer-only checkpointProtection until old versions are cleaned up.
        retry_on_conflict(lambda: delta_table.dropFeatureSupport(DELETION_VECTORS), attempts)
        done["features_dropped"] = [DELETION_VECTORS]
        detail = delta_table.detail().first()
    wanted = {**table.spec.table_properties, **policy.properties}
    current = detail["properties"] or {}
    changed = {key: value for key, value in wanted.items() if current.get(key) != value}
    if changed:
        assignments = ", ".join(f"'{key}' = '{value}'" for key, value in sorted(changed.items()))
        retry_on_conflict(lambda: spark.sql(f"ALTER TABLE delta.`{table.path}` SET TBLPROPERTIES ({assignments})"),
                          attempts)
        done["properties_set"] = sorted(changed)
    return done


def fill_user_buckets(spark: SparkSession, table: LakeTable, buckets: int, attempts: int) -> dict:
    """user_bucket for the rows written before the column existed (one UPDATE, once: the check
    reads only files whose statistics allow a null bucket)."""
    if BUCKET_COLUMN not in table.spec.columns:
        return {}
    rows = spark.read.format("delta").load(table.path).where(F.col(BUCKET_COLUMN).isNull())
    if not rows.limit(1).count():
        return {}
    delta_table = DeltaTable.forPath(spark, table.path)
    retry_on_conflict(lambda: delta_table.update(F.col(BUCKET_COLUMN).isNull(),
                                                 {BUCKET_COLUMN: user_bucket("user_key", buckets)}), attempts)
    metrics = delta_table.history(1).select("operationMetrics").first()["operationMetrics"] or {}
    return {"buckets_filled": int(metrics.get("numUpdatedRows", 0))}


def _partition_filter(spec: TableSpec, partitions: list[str]) -> str:
    column = spec.partition_by[0]
    data_type = spec.schema[column].dataType.simpleString()
    values = ", ".join(f"CAST('{value}' AS {data_type})" for value in sorted(partitions))
    return f"`{column}` IN ({values})"


def compact(spark: SparkSession, table: LakeTable, policy: TablePolicy, target_bytes: int, attempts: int) -> dict:
    """OPTIMIZE the partitions that hold 2+ files under the target size, and, when the policy
    Z-orders, the partitions whose files are not laid out by its first column yet (a day ingested in
    a few large files); the report gives their files before and after. A second run finds none."""
    before = files_per_partition(spark, table, target_bytes)
    due = {partition for partition, (_, small) in before.items() if small >= 2}
    if policy.compact and policy.zorder_by:
        due |= unordered_partitions(spark, table, policy.zorder_by[0])
    due = sorted(due)
    counts = {"files_before": sum(files for files, _ in before.values())}
    if not policy.compact or not due:
        return {**counts, "files_after": counts["files_before"], "partitions_rewritten": 0}

    def optimize() -> None:
        builder = DeltaTable.forPath(spark, table.path).optimize()
        if table.spec.partition_by:
            builder = builder.where(_partition_filter(table.spec, due))
        if policy.zorder_by:
            builder.executeZOrderBy(*policy.zorder_by)
        else:
            builder.executeCompaction()

    with session_settings(spark, {key: str(target_bytes) for key in OPTIMIZE_SIZES}):
        retry_on_conflict(optimize, attempts)
    after = files_per_partition(spark, table, target_bytes)
    return {
        **counts,
        "files_after": sum(files for files, _ in after.values()),
        "partitions_rewritten": len(due),
        "zorder_by": list(policy.zorder_by),
        "files_per_partition": {
            "before": {partition: before[partition][0] for partition in sorted(due)},
            "after": {partition: after.get(partition, (0, 0))[0] for partition in sorted(due)},
        },
    }


def vacuum(spark: SparkSession, table: LakeTable, policy: TablePolicy, lake_policy: MaintainPolicy) -> dict:
    """VACUUM with the policy's retention, which the policy parser has kept at or above the floor
    (checked again here: this is the line that deletes files)."""
    if not policy.vacuum:
        return {}
    if policy.vacuum_retention_hours < lake_policy.vacuum_floor_hours:
        raise ValueError(f"{table.label}: VACUUM retention {policy.vacuum_retention_hours} h is below the "
                         f"floor {lake_policy.vacuum_floor_hours} h")
    with session_settings(spark, {VACUUM_LISTING: str(lake_policy.vacuum_listing_parallelism)}):
        DeltaTable.forPath(spark, table.path).vacuum(float(policy.vacuum_retention_hours))
    return {"vacuum_retention_hours": policy.vacuum_retention_hours}


def checkpoint(spark: SparkSession, table: LakeTable, policy: TablePolicy) -> dict:
    """A checkpoint of the latest version, then the log cleanup Delta otherwise runs only after a
    commit that happens to checkpoint: entries older than delta.logRetentionDuration go."""
    if not policy.checkpoint:
        return {}
    delta_log, snapshot = delta_log_snapshot(spark, table.path)
    delta_log.checkpointAndCleanUpDeltaLog(snapshot, spark.sparkContext._jvm.scala.Option.empty())
    return {"checkpoint_version": int(snapshot.version())}


def maintain_lake(spark: SparkSession, conf: Conf, policy: MaintainPolicy) -> tuple[dict, dict | None]:
    """The steps, each over every table, in the order the module docstring gives."""
    attempts = int(conf.get("maintain.write_retries"))
    tables = lake_tables(spark, conf)
    per_table: dict[str, dict] = {table.label: {} for table in tables}

    def each_table(step: str, action) -> None:
        for table in tables:
            started = time.monotonic()
            per_table[table.label].update(action(table, policy.of(table.spec)))
            log.info("%s %s: %.1f s", step, table.label, time.monotonic() - started)

    # The steps that rewrite files are a writer: a purge (another maintain's, gdpr --purge-now) waits.
    with writer_lease(spark, conf, "maintain"):
        each_table("spec", lambda table, rules: bring_to_spec(spark, table, rules, attempts))
        each_table("user buckets", lambda table, rules: fill_user_buckets(spark, table, policy.user_buckets, attempts))
        each_table("compaction", lambda table, rules: compact(spark, table, rules, rules.target_file_bytes, attempts))
    # Outside the writer lease, under the purge lease: skipped (and left pending) while a writer is active.
    purges = purge_due(spark, conf, utc_now())
    each_table("vacuum", lambda table, rules: vacuum(spark, table, rules, policy))
    each_table("checkpoint", lambda table, rules: checkpoint(spark, table, rules))
    return per_table, purges


def main(argv: list[str] | None = None, spark: SparkSession | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        conf = load_conf(args.env, args.overrides, lake=args.lake)
        policy = maintain_policy(conf)
    except ConfigError as error:
        cli.fail_usage(parser, f"unusable configuration: {error}")
    configure_logging()
    report = JobReport("maintain")

    spark = spark or start_spark("maintain", conf, args.master)
    report.log_runs(RunLog(spark, conf, command_line(argv)))
    try:
        per_table, purges = maintain_lake(spark, conf, policy)
    except Exception as error:  # one line; every step already committed is whole and changed no row
        report.emit(status="failed", error=first_line(error))
        return cli.EXIT_FAILED

    report.add(
        tables=len(per_table),
        files_before=sum(t.get("files_before", 0) for t in per_table.values()),
        files_after=sum(t.get("files_after", 0) for t in per_table.values()),
        pending_purges=purges,
        per_table=per_table,
    )
    report.emit()
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
