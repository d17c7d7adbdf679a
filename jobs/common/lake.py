"""The lake on disk: where each table lives, creating it from its spec, idempotent appends."""

from __future__ import annotations

import time
from typing import Callable, TypeVar

from delta import exceptions as delta_exceptions
from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.common.config import join_path
from schemas import ALL_TABLES, TableSpec

CHECKPOINTS = "_checkpoints"
# Delta's Python exceptions are all commit-race conflicts, and they do not share a base class.
COMMIT_CONFLICTS = tuple(getattr(delta_exceptions, name) for name in delta_exceptions.__all__)
T = TypeVar("T")


def table_path(lake: str, spec: TableSpec | str) -> str:
    return join_path(lake, spec if isinstance(spec, str) else spec.name)


def checkpoint_path(lake: str, query: str) -> str:
    return join_path(lake, CHECKPOINTS, query)


def ensure_table(spark: SparkSession, lake: str, spec: TableSpec) -> DeltaTable:
    """Create the table from its spec unless it exists (comments, partitioning, properties)."""
    builder = (
        DeltaTable.createIfNotExists(spark)
        .location(table_path(lake, spec))
        .addColumns(spec.schema)
        .comment(spec.comment)
    )
    if spec.partition_by:
        builder = builder.partitionedBy(*spec.partition_by)
    for key, value in spec.table_properties.items():
        builder = builder.property(key, value)
    return builder.execute()


def conform(frame: DataFrame, spec: TableSpec) -> DataFrame:
    """The schema contract at the edge: exactly the table's columns, in order, with its types."""
    return frame.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in spec.schema.fields])


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


def existing_tables(spark: SparkSession, lake: str) -> list[TableSpec]:
    return [spec for spec in ALL_TABLES if DeltaTable.isDeltaTable(spark, table_path(lake, spec))]


def register_tables(spark: SparkSession, lake: str) -> list[str]:
    """Every lake table as a view under its own name, for Spark SQL."""
    names = []
    for spec in existing_tables(spark, lake):
        spark.read.format("delta").load(table_path(lake, spec)).createOrReplaceTempView(spec.name)
        names.append(spec.name)
    return names
