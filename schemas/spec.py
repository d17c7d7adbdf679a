"""The building blocks of a table declaration."""

from __future__ import annotations

from dataclasses import dataclass, field

from pyspark.sql import types as T


def col(name: str, data_type: T.DataType, comment: str, nullable: bool = True, pii: bool = False) -> T.StructField:
    """A column with its comment; `pii` marks personal data (kept out of Delta's file statistics)."""
    return T.StructField(name, data_type, nullable, {"comment": comment, "pii": pii})


@dataclass(frozen=True)
class TableSpec:
    name: str
    kind: str  # dimension, fact, history, quarantine, ops
    comment: str
    schema: T.StructType
    partition_by: tuple[str, ...] = ()
    properties: dict[str, str] = field(default_factory=dict)
    # Deletion vectors: a DELETE/MERGE marks rows gone instead of rewriting their files. Off unless
    # a table's declaration says why: delta-rs (`deltalake`, Polars' read_delta) cannot open a table
    # whose protocol lists the feature, and an erasure must rewrite the files anyway (a purge).
    deletion_vectors: bool = False

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.schema.fields]

    @property
    def pii_columns(self) -> list[str]:
        return [f.name for f in self.schema.fields if f.metadata.get("pii")]

    @property
    def stats_columns(self) -> list[str]:
        """Columns Delta may keep min/max statistics for: never personal data, never partitions."""
        return [
            f.name
            for f in self.schema.fields
            if not f.metadata.get("pii") and f.name not in self.partition_by
            and isinstance(f.dataType, (T.NumericType, T.DateType, T.TimestampType, T.StringType))
        ]

    @property
    def table_properties(self) -> dict[str, str]:
        return {
            "delta.enableDeletionVectors": str(self.deletion_vectors).lower(),
            # Statistics in the Delta log would otherwise hold min/max user ids for years.
            "delta.dataSkippingStatsColumns": ",".join(self.stats_columns),
            **self.properties,
        }
