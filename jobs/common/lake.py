"""The lake on disk: where each table lives, creating it from its spec, idempotent appends."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Mapping, TypeVar

from delta import exceptions as delta_exceptions
from delta.tables import DeltaMergeBuilder, DeltaTable
from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from jobs.common.config import join_path
from jobs.common.hadoop_fs import hadoop_path
from schemas import ALL_TABLES, TableSpec

CHECKPOINTS = "_checkpoints"
# Delta's Python exceptions are all commit-race conflicts, and they do not share a base class.
COMMIT_CONFLICTS = tuple(getattr(delta_exceptions, name) for name in delta_exceptions.__all__)
T = TypeVar("T")
# A MERGE's result row (DeltaMergeBuilder.execute) -> the commit metric of the same count.
MERGE_COUNTS = {"numTargetRowsInserted": "num_inserted_rows", "numTargetRowsUpdated": "num_updated_rows",
                "numTargetRowsDeleted": "num_deleted_rows"}


def table_path(lake: str, spec: TableSpec | str) -> str:
    return join_path(lake, spec if isinstance(spec, str) else spec.name)


def checkpoint_path(lake: str, query: str) -> str:
    return join_path(lake, CHECKPOINTS, query)


def ensure_table(spark: SparkSession, lake: str, spec: TableSpec, policy: Mapping[str, str] | None = None) -> None:
    """Create the table from its spec unless it exists (comments, partitioning, properties, and the
    properties of its maintain `policy`: maintenance.ensure_job_table gives them); an existing
    table gets the columns the spec added since (`maintain` brings its properties)."""
    if is_table(spark, table_path(lake, spec)):
        add_missing_columns(spark, lake, spec)
        return  # cheaper than the builder's own check, which plans a CREATE every time
    builder = (
        DeltaTable.createIfNotExists(spark)
        .location(table_path(lake, spec))
        .addColumns(spec.schema)
        .comment(spec.comment)
    )
    if spec.partition_by:
        builder = builder.partitionedBy(*spec.partition_by)
    for key, value in {**spec.table_properties, **(policy or {})}.items():
        builder = builder.property(key, value)
    builder.execute()


def add_missing_columns(spark: SparkSession, lake: str, spec: TableSpec) -> list[str]:
    """ALTER TABLE ... ADD COLUMNS for the spec's columns an existing table lacks, each at its place
    (AFTER the column before it): a lake written by older code takes the new code's rows. Delta adds
    them nullable; the rows already there read null until something fills them (see `maintain`)."""
    present = set(spark.read.format("delta").load(table_path(lake, spec)).columns)
    missing = []
    for position, field in enumerate(spec.schema.fields):
        if field.name in present:
            continue
        place = "FIRST" if position == 0 else f"AFTER `{spec.schema.fields[position - 1].name}`"
        comment = field.metadata.get("comment", "").replace("'", "\\'")
        spark.sql(f"ALTER TABLE delta.`{table_path(lake, spec)}` ADD COLUMNS "
                  f"(`{field.name}` {field.dataType.simpleString()} COMMENT '{comment}' {place})")
        missing.append(field.name)
    return missing


def conform(frame: DataFrame, spec: TableSpec, *extra: str) -> DataFrame:
    """The schema contract at the edge: exactly the table's columns, in order, with its types
    (and any `extra` working columns after them, e.g. a MERGE's flags)."""
    return frame.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in spec.schema.fields], *extra)


def append_once(frame: DataFrame, lake: str, spec: TableSpec, app_id: str, version: int) -> None:
    """Append exactly once per (app_id, version): Delta skips a write it has already committed.

    This is what makes a replayed micro-batch harmless after a crash (Delta's idempotent writes).
    """
    (
        conform(frame, spec)
        .write.format("delta")
        .mode("append")
        .option("txnAppId", app_id)
        .option("txnVersion", version)
        .save(table_path(lake, spec))
    )


def append_counted(frame: DataFrame, lake: str, spec: TableSpec) -> int:
    """Append and return the rows written, counted on the way (an observed metric): one Spark job,
    nothing read back.

    Not an idempotent write: only for rows a replay cannot write twice (the facts, which a replay
    finds in the table and de-duplicates away). The append always runs, so its count always
    arrives (an idempotent write that Delta skipped would leave the observation waiting forever).
    Rows computed from the same table stay a blind append only if they read it through
    `read_pinned`.
    """
    written = Observation()
    conform(frame, spec).observe(written, F.count(F.lit(1)).alias("rows")).write.format("delta").mode(
        "append").save(table_path(lake, spec))
    return written.get["rows"]


def read_pinned(spark: SparkSession, path: str) -> DataFrame:
    """The Delta table at `path` as it is now, read as of its version number (time travel).

    Delta records a scan of a table's latest state inside a write to that table as the write's
    read: an append de-duplicated against the table then fails when a DELETE or MERGE of the same
    partitions (an erasure, an archive) commits meanwhile. A scan of a fixed version is not the
    transaction's read (Delta's PrepareDeltaScan takes a time-travel scan's files from its own
    snapshot), so the append stays blind (isBlindAppend): no concurrent commit fails it (the
    other way round still holds: Delta's only isolation, Serializable, fails a MERGE when an append
    to a date it reads commits first; see lease.erasure_lease). The version is the latest, whose
    snapshot Delta has cached: the read costs what a plain one does.
    """
    version = latest_version(spark, path)
    reader = spark.read.format("delta")
    if version is not None:  # else no table: the read fails with Delta's own error
        reader = reader.option("versionAsOf", version)
    return reader.load(path)


def retry_on_conflict(action: Callable[[], T], attempts: int, pause_seconds: float = 1.0) -> T:
    """Run a Delta write again when a concurrent DELETE/OPTIMIZE/archive won the commit race."""
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except COMMIT_CONFLICTS:
            if attempt == attempts:
                raise
            time.sleep(pause_seconds * attempt)
    raise AssertionError("unreachable")


def side_by_side(*writes: Callable[[], T]) -> list[T]:
    """Run independent writes at once, each on its own thread, and return their results in order.

    Spark runs their jobs together, and a small write is mostly the driver's work (planning,
    Delta's log, the commit), which then overlaps. Every write ends before the first failure is
    raised, so no write is left running behind the caller.
    """
    with ThreadPoolExecutor(max_workers=len(writes)) as pool:
        running = [pool.submit(write) for write in writes]
    return [outcome.result() for outcome in running]


def read_table(spark: SparkSession, lake: str, spec: TableSpec, version: int | None = None) -> DataFrame:
    """A lake table (at `version`, when given); a table not created yet reads as empty (e.g. no
    change feed has arrived, so there are no dimension rows)."""
    path = table_path(lake, spec)
    if version is None and not is_table(spark, path):
        return spark.createDataFrame([], spec.schema)
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    return reader.load(path)


def table_version(spark: SparkSession, lake: str, spec: TableSpec) -> int | None:
    """The table's latest version, None when it does not exist."""
    return latest_version(spark, table_path(lake, spec))


def stream_app_id(spark: SparkSession, checkpoint: str, stream: str) -> str:
    """A stream's identity for idempotent writes: its query id, kept in the checkpoint (a reset
    checkpoint is a new stream and gets a new id, so its batch ids never collide with the old)."""
    query_id = spark.read.json(join_path(checkpoint, "metadata")).first()["id"]
    return f"{stream}-{query_id}"


def _differs(columns: list[str]) -> str:
    return " OR ".join(f"NOT (target.`{c}` <=> source.`{c}`)" for c in columns)


def upsert_rows(spark: SparkSession, lake: str, spec: TableSpec, rows: DataFrame, keys: list[str]) -> dict:
    """MERGE rows by key: insert the new, update the ones that differ, leave equal rows alone (so a
    rerun writes no file). Returns its row counts (_row_counts)."""
    source = conform(rows, spec)
    on = " AND ".join(f"target.`{k}` = source.`{k}`" for k in keys)
    values = [c for c in spec.columns if c not in keys]
    merge = (
        _target(spark, lake, spec)
        .merge(source.alias("source"), on)
        .whenMatchedUpdateAll(condition=_differs(values))
        .whenNotMatchedInsertAll()
    )
    return _row_counts(merge)


def insert_new_rows(spark: SparkSession, lake: str, spec: TableSpec, rows: DataFrame, keys: list[str],
                    target_filter: str | None = None) -> dict:
    """MERGE that only inserts rows whose key the table lacks (an append that is safe to replay).
    `target_filter` (SQL on `target`) limits the rows compared, e.g. to one partition."""
    on = _match_condition(keys, target_filter)
    merge = (
        _target(spark, lake, spec)
        .merge(conform(rows, spec).alias("source"), on)
        .whenNotMatchedInsertAll()
    )
    return _row_counts(merge)


def sync_rows(spark: SparkSession, lake: str, spec: TableSpec, changes: DataFrame, keys: list[str],
              stale_flag: str = "_stale") -> dict:
    """MERGE a set of rows in place of another: `changes` holds the wanted rows plus, flagged
    `stale_flag`, the existing rows that must go (see transforms.changes.history_changes)."""
    on = " AND ".join(f"target.`{k}` = source.`{k}`" for k in keys)
    values = [c for c in spec.columns if c not in keys]
    source = conform(changes, spec, stale_flag)
    merge = (
        _target(spark, lake, spec)
        .merge(source.alias("source"), on)
        .whenMatchedDelete(condition=f"source.`{stale_flag}`")
        .whenMatchedUpdate(condition=_differs(values), set={c: f"source.`{c}`" for c in values})
        .whenNotMatchedInsert(condition=f"NOT source.`{stale_flag}`",
                              values={c: f"source.`{c}`" for c in spec.columns})
    )
    return _row_counts(merge)


def delete_matching_rows(spark: SparkSession, lake: str, spec: TableSpec, rows: DataFrame, keys: list[str],
                         target_filter: str | None = None) -> dict:
    """MERGE that deletes the table's rows whose key `rows` holds, and no other (rows that arrived
    meanwhile stay, unlike a DELETE by predicate). Returns its row counts."""
    merge = (
        _target(spark, lake, spec)
        .merge(rows.select(*keys).alias("source"), _match_condition(keys, target_filter))
        .whenMatchedDelete()
    )
    return _row_counts(merge)


def _match_condition(keys: list[str], target_filter: str | None) -> str:
    on = " AND ".join(f"target.`{k}` = source.`{k}`" for k in keys)
    return f"({target_filter}) AND {on}" if target_filter else on


def delta_log_dir(spark: SparkSession, path: str, *parts: str):
    """The table's `_delta_log` folder (or `parts` under it) as a Hadoop path, and its filesystem
    (the session's Hadoop configuration): (filesystem, path), for a look at the log that Delta's API
    does not offer."""
    return hadoop_path(spark, path, "_delta_log", *parts)


def has_delta_log(spark: SparkSession, path: str) -> bool:
    """Whether `path` has a `_delta_log` folder: one filesystem call, where Delta's own answer for a
    path without a table (a read that fails) takes about 0.1 s, an exception carried through Py4J."""
    filesystem, log_dir = delta_log_dir(spark, path)
    return bool(filesystem.exists(log_dir))


def delta_log_snapshot(spark: SparkSession, path: str):
    """Delta's JVM DeltaLog of the table at `path` and its latest snapshot, brought up to date from
    the log (a listing, no Spark job): for what Delta's Python API does not offer (the latest
    version without a history query, the log's files and checkpoints)."""
    jvm = spark.sparkContext._jvm
    delta_log = jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, path)
    none = jvm.scala.Option.empty()
    return delta_log, delta_log.update(False, none, none)


def latest_version(spark: SparkSession, path: str) -> int | None:
    """The table's latest committed version, None when there is none yet (no log, or a log its
    creator has not committed to: Delta's snapshot of it is version -1). Delta's `history(1)` gives
    the same with a Spark job over the log: ~90 ms against ~7 ms here, paid by every ingest
    micro-batch (its pinned read) and each table `daily` pins."""
    if not has_delta_log(spark, path):
        return None
    version = int(delta_log_snapshot(spark, path)[1].version())
    return version if version >= 0 else None


def read_if_table(spark: SparkSession, path: str) -> DataFrame | None:
    """The Delta table at `path`, or None when there is none yet (see `is_table`)."""
    return spark.read.format("delta").load(path) if is_table(spark, path) else None


def is_table(spark: SparkSession, path: str) -> bool:
    """Whether `path` holds a Delta table now: its log has a committed version, read afresh.

    Not DeltaTable.isDeltaTable: it answers from the session's cached log of the path. A path first
    looked at while another process was creating the table (its `_delta_log` made, no commit yet)
    would stay "no table" for the session's whole life: a continuous ingest would never see the
    first erasure request.
    """
    return latest_version(spark, path) is not None


def _target(spark: SparkSession, lake: str, spec: TableSpec) -> DeltaTable:
    return DeltaTable.forPath(spark, table_path(lake, spec)).alias("target")


def _row_counts(merge: DeltaMergeBuilder) -> dict[str, int]:
    """Execute a MERGE and return the rows it inserted, updated and deleted, by the names of Delta's
    commit metrics (zeros when no row changed). The counts are the MERGE's own result: no read of
    the table's history before and after it."""
    counts = merge.execute().first()
    return {metric: int(counts[column]) for metric, column in MERGE_COUNTS.items()}


def existing_tables(spark: SparkSession, lake: str) -> list[TableSpec]:
    return [spec for spec in ALL_TABLES if is_table(spark, table_path(lake, spec))]


def register_tables(spark: SparkSession, lake: str) -> list[str]:
    """Every lake table as a view under its own name, for Spark SQL."""
    names = []
    for spec in existing_tables(spark, lake):
        spark.read.format("delta").load(table_path(lake, spec)).createOrReplaceTempView(spec.name)
        names.append(spec.name)
    return names
