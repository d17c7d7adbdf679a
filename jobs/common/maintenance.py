"""The [maintain] configuration: each table's upkeep policy and the event facts' bucket count.

A table's policy is [maintain.defaults], overridden by [maintain.kinds.<kind>], overridden by
[maintain.tables.<table>]; its target_file_mb defaults to the lake-wide maintain.target_file_mb. Every rule is checked here, so a bad policy stops `maintain` with exit
code 2 before Spark starts: unknown tables, kinds or keys, Z-order columns that Delta keeps no
statistics for, and any VACUUM retention below the safe floor (`vacuum_floor_hours`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyspark.sql import SparkSession

from jobs.common.config import Conf, ConfigError
from jobs.common.lake import ensure_table
from schemas import ALL_TABLES, TableSpec

SECTION = "maintain"
BYTES_PER_MB = 1024 * 1024


@dataclass(frozen=True)
class TablePolicy:
    compact: bool
    zorder_by: tuple[str, ...]
    target_file_bytes: int  # OPTIMIZE's file size: smaller files are compacted into files this big
    checkpoint: bool
    checkpoint_interval: int  # delta.checkpointInterval: a commit whose version is a multiple of it writes a checkpoint
    log_retention_days: int
    vacuum: bool
    vacuum_retention_hours: int

    @property
    def properties(self) -> dict[str, str]:
        """The table properties this policy gives its table: the retention (Delta's own VACUUM check
        then accepts exactly this retention and nothing shorter, whoever runs VACUUM) and how often
        a commit writes a checkpoint."""
        return {
            "delta.logRetentionDuration": f"interval {self.log_retention_days} days",
            "delta.deletedFileRetentionDuration": f"interval {self.vacuum_retention_hours} hours",
            "delta.checkpointInterval": str(self.checkpoint_interval),
        }


POLICY_KEYS = {
    "compact": bool,
    "zorder_by": list,
    "target_file_mb": int,
    "checkpoint": bool,
    "checkpoint_interval": int,
    "log_retention_days": int,
    "vacuum": bool,
    "vacuum_retention_hours": int,
}


@dataclass(frozen=True)
class MaintainPolicy:
    user_buckets: int
    target_file_bytes: int
    vacuum_floor_hours: int
    vacuum_listing_parallelism: int
    tables: dict[str, TablePolicy]

    def of(self, spec: TableSpec) -> TablePolicy:
        return self.tables[spec.name]


def _whole(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{SECTION}.{name} must be a whole number >= {minimum}, got {value!r}")
    return value


def user_buckets(conf: Conf) -> int:
    """How many buckets the event facts' user_bucket has (schemas/tables.py)."""
    return _whole("user_buckets", conf.section(SECTION).get("user_buckets"), 1)


def _checked_values(where: str, values: Any) -> dict[str, Any]:
    if not isinstance(values, dict):
        raise ConfigError(f"{where} must be a table of policy keys")
    for key, value in values.items():
        expected = POLICY_KEYS.get(key)
        if expected is None:
            raise ConfigError(f"{where}: unknown key '{key}' (known: {', '.join(POLICY_KEYS)})")
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(f"{where}.{key} must be a {expected.__name__}, got {value!r}")
    return values


def _table_policy(spec: TableSpec, values: dict[str, Any], floor_hours: int) -> TablePolicy:
    where = f"{SECTION} policy of {spec.name}"
    missing = [key for key in POLICY_KEYS if key not in values]
    if missing:
        raise ConfigError(f"{where}: no value for {', '.join(missing)} (set them in [{SECTION}.defaults])")
    zorder_by = tuple(values["zorder_by"])
    unusable = [c for c in zorder_by if c not in spec.stats_columns]
    if unusable:
        raise ConfigError(f"{where}: cannot Z-order by {', '.join(unusable)} (not a column Delta keeps "
                          f"statistics for: {', '.join(spec.stats_columns)})")
    retention = _whole(f"vacuum_retention_hours of {spec.name}", values["vacuum_retention_hours"], 0)
    if retention < floor_hours:
        raise ConfigError(f"{where}: vacuum_retention_hours = {retention} is below the safe floor "
                          f"{SECTION}.vacuum_floor_hours = {floor_hours} (VACUUM could delete the files "
                          f"of a write still in progress)")
    return TablePolicy(
        compact=values["compact"],
        zorder_by=zorder_by,
        target_file_bytes=_whole(f"target_file_mb of {spec.name}", values["target_file_mb"], 1) * BYTES_PER_MB,
        checkpoint=values["checkpoint"],
        checkpoint_interval=_whole(f"checkpoint_interval of {spec.name}", values["checkpoint_interval"], 1),
        log_retention_days=_whole(f"log_retention_days of {spec.name}", values["log_retention_days"], 1),
        vacuum=values["vacuum"],
        vacuum_retention_hours=retention,
    )


def ensure_job_table(spark: SparkSession, conf: Conf, spec: TableSpec, root: str | None = None) -> None:
    """A job's table under `root` (default: the lake), created unless it exists, with the
    properties its maintain policy gives it (every table a job writes is made here): so it keeps its
    retention and checkpoint interval before `maintain` first runs, and that run has no property to set."""
    ensure_table(spark, root or conf.lake, spec, maintain_policy(conf).of(spec).properties)


def maintain_policy(conf: Conf) -> MaintainPolicy:
    """Every table's policy from the configuration (ConfigError on any rule broken)."""
    section = conf.section(SECTION)
    kinds = {spec.kind for spec in ALL_TABLES}
    names = {spec.name for spec in ALL_TABLES}
    by_kind = section.get("kinds", {})
    by_table = section.get("tables", {})
    for label, given, known in (("kinds", by_kind, kinds), ("tables", by_table, names)):
        unknown = sorted(set(given) - known)
        if unknown:
            raise ConfigError(f"[{SECTION}.{label}]: unknown {label[:-1]} {', '.join(unknown)} "
                              f"(known: {', '.join(sorted(known))})")
    floor = _whole("vacuum_floor_hours", section.get("vacuum_floor_hours"), 0)
    target_file_mb = _whole("target_file_mb", section.get("target_file_mb"), 1)
    defaults = {"target_file_mb": target_file_mb,
                **_checked_values(f"[{SECTION}.defaults]", section.get("defaults", {}))}
    tables = {}
    for spec in ALL_TABLES:
        values = {
            **defaults,
            **_checked_values(f"[{SECTION}.kinds.{spec.kind}]", by_kind.get(spec.kind, {})),
            **_checked_values(f"[{SECTION}.tables.{spec.name}]", by_table.get(spec.name, {})),
        }
        tables[spec.name] = _table_policy(spec, values, floor)
    return MaintainPolicy(
        user_buckets=user_buckets(conf),
        target_file_bytes=target_file_mb * BYTES_PER_MB,
        vacuum_floor_hours=floor,
        vacuum_listing_parallelism=_whole("vacuum_listing_parallelism",
                                          section.get("vacuum_listing_parallelism"), 1),
        tables=tables,
    )
