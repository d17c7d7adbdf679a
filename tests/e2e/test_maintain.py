"""maintain on a lake that several ingest micro-batches, dims and daily left: compaction, Z-order,
vacuum within the retention, and every analyst-facing table readable by delta-rs (`deltalake`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
from chispa import assert_df_equality
from deltalake import DeltaTable as RustDeltaTable
from pyspark.sql import types as T

from jobs import daily, dims, ingest, maintain
from jobs.common.lake import ensure_table, existing_tables, table_path
from schemas import TABLES
from tests.e2e.conftest import run_job_in_process
from tests.e2e.producer import Landing, iso
from tests.e2e.test_dims_daily_e2e import content_change, days_ago, user_change

pytestmark = pytest.mark.e2e
EVENT_FACTS = ("fact_content_engagements", "fact_discovery_events")
ANALYST_KINDS = ("fact", "dimension", "history")
DAYS = (1, 2)
ENGAGEMENT_FILES, DISCOVERY_FILES = 5, 2
ZERO_RETENTION = ["--set", "maintain.vacuum_floor_hours=0", "--set", "maintain.defaults.vacuum_retention_hours=0"]


def discovery(producer: Landing, serial: int, day: int) -> str:
    return json.dumps({
        "discovery_id": f"d{serial}", "user_id": f"user_{producer.rng.randrange(50)}",
        "content_id": f"vid_{producer.rng.randrange(30)}", "discovery_source": "for_you",
        "position_in_feed": serial % 7, "discovery_timestamp": iso(days_ago(day, 8 + serial % 10)),
        "clicked_through": serial % 3 == 0,
    })


def data_files_on_disk(table_dir: Path) -> set[str]:
    return {str(p.relative_to(table_dir)) for p in table_dir.rglob("*.parquet") if "_delta_log" not in p.parts}


def referenced_files(spark, path: str) -> set[str]:
    return {row["path"] for row in maintain.data_files(spark, path).select("path").collect()}


def snapshot(spark, lake: Path) -> dict:
    """Every table's rows, held in memory (time travel would not survive the vacuum)."""
    frames = {}
    for spec in existing_tables(spark, str(lake)):
        frame = spark.read.format("delta").load(table_path(str(lake), spec))
        frames[spec.name] = spark.createDataFrame(frame.collect(), frame.schema)
    return frames


def run(job, spark, capsys, *argv: str) -> dict:
    code, report = run_job_in_process(job.main, list(argv), spark, capsys)
    assert code == 0, report
    return report


@dataclasses.dataclass
class Maintained:
    lake: Path
    before: dict  # table -> its rows before maintain
    first: dict  # the first maintain's report (the configured retention)
    second: dict  # the second's (retention 0, floor 0)
    on_disk_after_first: dict  # event fact table -> data files on disk after the first run


@pytest.fixture(scope="module")
def built() -> dict:
    return {}


@pytest.fixture
def maintained(spark, tmp_path_factory, capsys, built) -> Maintained:
    """Ingest (one micro-batch per landing file, so each day gets many small files), dims and daily;
    then maintain twice: with the configured retention, then with none, the floor lowered too.
    Built once for the module (by the first test: the jobs' reports are read through capsys)."""
    if not built:
        built["lake"] = build_maintained_lake(spark, tmp_path_factory, capsys)
    return built["lake"]


def build_maintained_lake(spark, tmp_path_factory, capsys) -> Maintained:
    root = tmp_path_factory.mktemp("maintain")
    landing, lake = root / "landing", root / "lake"
    producer = Landing(landing)
    producer.write("users", "u.jsonl", [user_change(f"user_{n}", days_ago(5), "casual") for n in range(50)])
    producer.write("content", "c.jsonl", [content_change(f"vid_{n}", f"user_{n % 5}", days_ago(4), days_ago(4))
                                          for n in range(30)])
    for n in range(ENGAGEMENT_FILES):
        events = [producer.engagement(days_ago(DAYS[i % len(DAYS)], 6 + i % 12)) for i in range(30)]
        producer.write("engagements", f"e{n}.jsonl", producer.good_lines(events))
    for n in range(DISCOVERY_FILES):
        producer.write("discovery", f"d{n}.jsonl", [discovery(producer, n * 100 + i, DAYS[i % 2]) for i in range(20)])

    lake_args = ["--lake", str(lake)]
    run(ingest, spark, capsys, "--landing", str(landing), *lake_args, "--once", "--set", "ingest.max_files_per_trigger=1")
    run(dims, spark, capsys, "--landing", str(landing), *lake_args)
    first_day, last_day = (days_ago(max(DAYS)).date().isoformat(), days_ago(min(DAYS)).date().isoformat())
    run(daily, spark, capsys, *lake_args, "--from", first_day, "--to", last_day)

    before = snapshot(spark, lake)
    first = run(maintain, spark, capsys, *lake_args)
    on_disk = {name: data_files_on_disk(lake / name) for name in EVENT_FACTS}
    second = run(maintain, spark, capsys, *lake_args, *ZERO_RETENTION)
    return Maintained(lake, before, first, second, on_disk)


def test_compaction_leaves_one_file_per_partition_and_every_row(spark, maintained):
    for name in EVENT_FACTS:
        report = maintained.first["per_table"][name]
        per_partition = report["files_per_partition"]
        assert len(per_partition["before"]) == len(DAYS), report
        assert all(files > 1 for files in per_partition["before"].values()), report  # micro-batches' files
        assert all(files == 1 for files in per_partition["after"].values()), report  # small data: one file
        assert report["zorder_by"] == ["user_bucket"]
        optimize = spark.sql(f"DESCRIBE HISTORY delta.`{maintained.lake / name}`").where("operation = 'OPTIMIZE'")
        assert json.loads(optimize.first()["operationParameters"]["zOrderBy"]) == ["user_bucket"]
    for name, rows in maintained.before.items():
        now = spark.read.format("delta").load(str(maintained.lake / name))
        assert_df_equality(now, rows, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)


def test_vacuum_keeps_replaced_files_within_the_retention_and_none_beyond(spark, maintained):
    for name in EVENT_FACTS:
        path = str(maintained.lake / name)
        live = referenced_files(spark, path)
        assert live < maintained.on_disk_after_first[name], "168 h: the compacted files are still there"
        assert data_files_on_disk(maintained.lake / name) == live, "retention 0: only the live files are left"
    for name, report in maintained.second["per_table"].items():
        assert report["partitions_rewritten"] == 0, (name, report)  # a second run rewrites nothing
        assert report["vacuum_retention_hours"] == 0


def test_every_analyst_table_reads_the_same_with_deltalake(spark, maintained):
    """delta-rs (deltalake 1.6, Polars' read_delta) refuses a table whose protocol lists deletion
    vectors: none of the analysts' tables may."""
    analyst_tables = [spec for spec in existing_tables(spark, str(maintained.lake)) if spec.kind in ANALYST_KINDS]
    assert {spec.name for spec in analyst_tables} >= {*EVENT_FACTS, "dim_users", "dim_content",
                                                      "fact_content_performance", "fact_creator_analytics"}
    for spec in analyst_tables:
        path = str(maintained.lake / spec.name)
        by_delta_rs = spark.createDataFrame(RustDeltaTable(path).to_pyarrow_table())
        by_spark = spark.read.format("delta").load(path)
        assert by_spark.count() > 0, spec.name
        assert_df_equality(by_delta_rs.select(*spec.columns), by_spark, ignore_row_order=True,
                           ignore_nullable=True, ignore_metadata=True)


def test_an_old_lake_is_brought_to_its_spec(spark, tmp_path, capsys):
    """A fact table as older code made it: no user_bucket column, deletion vectors on and in use."""
    lake = str(tmp_path)
    spec = TABLES["fact_content_engagements"]
    old = dataclasses.replace(spec, deletion_vectors=True,
                              schema=T.StructType([f for f in spec.schema.fields if f.name != "user_bucket"]))
    ensure_table(spark, lake, old)
    at = dt.datetime(2026, 11, 20, 10, tzinfo=dt.timezone.utc)
    keys = (5, -7, 4096 + 3)
    rows = [(k + 100, f"e{k}", k, 1, 1, 2026112010, at, 1.0, 50.0, "for_you", f"u{k}", "v", None, "f", at,
             at.date()) for k in keys]
    spark.createDataFrame(rows, old.schema).write.format("delta").mode("append").save(table_path(lake, old))
    spark.sql(f"UPDATE delta.`{table_path(lake, old)}` SET engagement_context = 'search' WHERE user_key = 5")
    with pytest.raises(Exception, match="deletionVectors"):
        RustDeltaTable(table_path(lake, old)).to_pyarrow_table()

    code, report = run_job_in_process(maintain.main, ["--lake", lake], spark, capsys)
    assert code == 0, report
    assert report["per_table"][spec.name]["features_dropped"] == ["deletionVectors"]
    table = spark.read.format("delta").load(table_path(lake, spec))
    assert table.columns == spec.columns
    buckets = table.select("user_key", "user_bucket", "engagement_context")
    expected = spark.createDataFrame([(k, k % 1024, "search" if k == 5 else "for_you") for k in keys],
                                     "user_key long, user_bucket int, engagement_context string")
    assert_df_equality(buckets, expected, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)
    detail = spark.sql(f"DESCRIBE DETAIL delta.`{table_path(lake, spec)}`").first()
    assert "deletionVectors" not in detail["tableFeatures"] and detail["minReaderVersion"] == 1
    by_delta_rs = spark.createDataFrame(RustDeltaTable(table_path(lake, spec)).to_pyarrow_table())
    assert_df_equality(by_delta_rs.select(*spec.columns), table, ignore_row_order=True, ignore_nullable=True,
                       ignore_metadata=True)
