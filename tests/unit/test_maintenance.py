"""The [maintain] policy: defaults < kind < table, and every rule that stops `maintain` with exit 2."""

from __future__ import annotations

import pytest

from jobs import maintain
from jobs.common.config import ConfigError, load_conf
from jobs.common.maintenance import maintain_policy, user_buckets
from jobs.maintain import ranges_overlap
from schemas import TABLES


def policy(*overrides: str):
    return maintain_policy(load_conf("local", list(overrides)))


def test_a_table_takes_defaults_then_its_kind_then_its_own_values():
    chosen = policy(
        "maintain.defaults.vacuum_retention_hours=200",
        "maintain.kinds.ops.vacuum_retention_hours=300",
        "maintain.kinds.ops.compact=false",
        "maintain.tables.ops_daily_runs.vacuum_retention_hours=400",
    )
    assert chosen.of(TABLES["dim_users"]).vacuum_retention_hours == 200
    assert chosen.of(TABLES["ops_ingest_batches"]).vacuum_retention_hours == 300
    assert chosen.of(TABLES["ops_ingest_batches"]).compact is False
    assert chosen.of(TABLES["ops_daily_runs"]).vacuum_retention_hours == 400
    assert chosen.of(TABLES["ops_daily_runs"]).compact is False  # the kind's value still applies
    assert chosen.of(TABLES["fact_content_engagements"]).zorder_by == ("user_bucket",)
    assert chosen.of(TABLES["fact_content_performance"]).zorder_by == ()
    assert chosen.of(TABLES["dim_users"]).properties == {
        "delta.logRetentionDuration": "interval 30 days",
        "delta.deletedFileRetentionDuration": "interval 200 hours",
        "delta.checkpointInterval": "10",
    }


def test_the_tables_each_micro_batch_commits_to_checkpoint_less_often():
    chosen = policy()
    stream_tables = ("fact_content_engagements", "fact_discovery_events", "quarantine", "ops_ingest_arrivals",
                     "ops_ingest_batches")
    assert {name: chosen.of(TABLES[name]).checkpoint_interval for name in stream_tables} == dict.fromkeys(
        stream_tables, 100)
    assert chosen.of(TABLES["dim_users"]).checkpoint_interval == 10
    assert chosen.of(TABLES["fact_content_performance"]).checkpoint_interval == 10


@pytest.mark.parametrize("override, message", [
    ("maintain.defaults.vacuum_retention_hours=23", "below the safe floor maintain.vacuum_floor_hours = 24"),
    ("maintain.tables.dim_users.vacuum_retention_hours=1", "policy of dim_users: vacuum_retention_hours = 1"),
    ("maintain.tables.fact_content_engagements.zorder_by=[\"user_key\"]", "cannot Z-order by user_key"),
    ("maintain.tables.fact_content_engagements.zorder_by=[\"event_date\"]", "cannot Z-order by event_date"),
    ("maintain.tables.no_such_table.compact=false", "unknown table no_such_table"),
    ("maintain.kinds.facts.compact=false", "unknown kind facts"),
    ("maintain.defaults.compaction=true", "unknown key 'compaction'"),
    ("maintain.defaults.compact=\"yes\"", "compact must be a bool"),
    ("maintain.defaults.log_retention_days=0", "log_retention_days of dim_users must be a whole number >= 1"),
    ("maintain.kinds.ops.checkpoint_interval=0",
     "checkpoint_interval of ops_ingest_batches must be a whole number >= 1"),
    ("maintain.user_buckets=0", "user_buckets must be a whole number >= 1"),
    ("maintain.target_file_mb=true", "target_file_mb must be a whole number >= 1"),
    ("maintain.tables.fact_discovery_events.target_file_mb=0",
     "target_file_mb of fact_discovery_events must be a whole number >= 1"),
    ("maintain.defaults.target_file_mb=\"8\"", "target_file_mb must be a int"),
])
def test_a_broken_policy_is_refused_with_its_reason(override, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        policy(override)


def test_the_floor_itself_is_configuration():
    chosen = policy("maintain.vacuum_floor_hours=0", "maintain.defaults.vacuum_retention_hours=0")
    assert chosen.of(TABLES["dim_users"]).vacuum_retention_hours == 0


def test_user_buckets_come_from_the_configuration():
    assert user_buckets(load_conf("local")) == 1024
    assert user_buckets(load_conf("local", ["maintain.user_buckets=16"])) == 16


def test_maintain_refuses_a_retention_below_the_floor_before_spark(tmp_path, capsys):
    (tmp_path / "dim_users" / "_delta_log").mkdir(parents=True)
    (tmp_path / "dim_users" / "_delta_log" / "00000000000000000000.json").write_text("{}")
    with pytest.raises(SystemExit) as stopped:
        maintain.main(["--lake", str(tmp_path), "--set", "maintain.defaults.vacuum_retention_hours=2"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "below the safe floor" in err[0], err


def test_the_file_size_is_a_table_policy_defaulting_to_the_lake_wide_one():
    mb = 1024 * 1024
    chosen = policy("maintain.target_file_mb=64", "maintain.kinds.dimension.target_file_mb=32",
                    "maintain.tables.fact_discovery_events.target_file_mb=4")
    assert chosen.target_file_bytes == 64 * mb
    assert chosen.of(TABLES["ops_daily_runs"]).target_file_bytes == 64 * mb
    assert chosen.of(TABLES["dim_users"]).target_file_bytes == 32 * mb
    assert chosen.of(TABLES["fact_discovery_events"]).target_file_bytes == 4 * mb


def test_files_that_each_span_the_buckets_are_not_laid_out_and_z_ordered_ranges_are():
    # Micro-batches: every file holds users of nearly every bucket.
    assert ranges_overlap([(0, 1023), (2, 1021), (1, 1023)])
    # A Z-order's files: consecutive ranges, neighbours sharing a few values (Delta's noise).
    assert not ranges_overlap([(0, 340), (338, 690), (689, 1023)])
    assert not ranges_overlap([(7, 7), (7, 9)])  # two files of nearly one value
    assert ranges_overlap([(0, 1023), (None, None)])  # no statistics: cannot tell, rewrite

