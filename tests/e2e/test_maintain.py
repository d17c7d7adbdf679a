"""maintain on a lake that several ingest micro-batches, dims, daily, archive and gdpr left: compaction,
Z-order, the due purge, vacuum within the retention, and every analyst-facing table (the archive's
too) readable by delta-rs (`deltalake`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
from chispa import assert_df_equality
from deltalake import DeltaTable as RustDeltaTable
from pyspark.sql import functions as F, types as T

from jobs import archive, daily, dims, gdpr, ingest, maintain
from jobs.common.lake import ensure_table, existing_tables, table_path
from schemas import TABLES
from tests.e2e.conftest import run_job_in_process
from tests.e2e.producer import Landing, iso
from tests.e2e.test_dims_daily_e2e import content_change, days_ago, user_change

pytestmark = pytest.mark.e2e
EVENT_FACTS = ("fact_content_engagements", "fact_discovery_events")
ANALYST_KINDS = ("fact", "dimension", "history")
DAYS = (1, 2)
ENGAGEMENT_FILES, DISCOVERY_FILES = 2, 2  # one micro-batch each: 2+ files in every partition
ZERO_RETENTION = ["--set", "maintain.vacuum_floor_hours=0", "--set", "maintain.defaults.vacuum_retention_hours=0"]
# The kinds no test here looks at are left alone (same code path as the others; it saves time).
ARCHIVE = "archive"  # the archive root under the lake (paths.archive left empty)
ERASED = "user_erased"  # in a landing file of its own: its erasure leaves the other files as they are
UNTESTED_KINDS = [f"maintain.kinds.{kind}.{step}=false" for kind in ("ops", "changelog", "quarantine")
                  for step in ("compact", "vacuum", "checkpoint")]


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


def lake_tables(spark, lake: Path) -> dict[str, tuple[Path, object]]:
    """label (as maintain's report names it) -> (directory, spec), the archive's tables too."""
    tables = {spec.name: (lake / spec.name, spec) for spec in existing_tables(spark, str(lake))}
    tables.update({f"{ARCHIVE}/{spec.name}": (lake / ARCHIVE / spec.name, spec)
                   for spec in existing_tables(spark, str(lake / ARCHIVE))})
    return tables


def snapshot(spark, lake: Path) -> dict:
    """Every table's rows, held in memory (time travel would not survive the vacuum)."""
    frames = {}
    for label, (directory, _) in lake_tables(spark, lake).items():
        frame = spark.read.format("delta").load(str(directory))
        frames[label] = spark.createDataFrame(frame.collect(), frame.schema)
    return frames


def run(job, spark, capsys, *argv: str) -> dict:
    code, report = run_job_in_process(job.main, list(argv), spark, capsys)
    assert code == 0, report
    return report


@dataclasses.dataclass
class Maintained:
    lake: Path
    before: dict  # table -> its rows before maintain
    report: dict  # maintain's report


@pytest.fixture(scope="module")
def built() -> dict:
    return {}


@pytest.fixture
def maintained(spark, tmp_path_factory, capsys, built) -> Maintained:
    """Ingest (one micro-batch per landing file, so each day gets many small files), dims and daily;
    then maintain with no vacuum retention (the floor lowered too), so that no replaced file may stay.
    Built once for the module (by the first test: the jobs' reports are read through capsys)."""
    if not built:
        built["lake"] = build_maintained_lake(spark, tmp_path_factory, capsys)
    return built["lake"]


def build_maintained_lake(spark, tmp_path_factory, capsys) -> Maintained:
    root = tmp_path_factory.mktemp("maintain")
    landing, lake = root / "landing", root / "lake"
    producer = Landing(landing)
    producer.write("users", "u.jsonl", [user_change(user, days_ago(5), "casual")
                                        for user in [f"user_{n}" for n in range(50)] + [ERASED]])
    producer.write("content", "c.jsonl", [content_change(f"vid_{n}", f"user_{n % 5}", days_ago(4), days_ago(4))
                                          for n in range(30)])
    for n in range(ENGAGEMENT_FILES):
        events = [producer.engagement(days_ago(DAYS[i % len(DAYS)], 6 + i % 12)) for i in range(30)]
        producer.write("engagements", f"e{n}.jsonl", producer.good_lines(events))
    producer.write("engagements", "e_erased.jsonl", producer.good_lines(
        [producer.engagement(days_ago(day, 20), user_id=ERASED) for day in DAYS]))  # hot and archived
    for n in range(DISCOVERY_FILES):
        producer.write("discovery", f"d{n}.jsonl",
                       [discovery(producer, n * 100 + i, DAYS[i % 2]) for i in range(20)])

    lake_args = ["--lake", str(lake)]
    run(ingest, spark, capsys, "--landing", str(landing), *lake_args, "--once",
        "--set", "ingest.max_files_per_trigger=1")
    run(dims, spark, capsys, "--landing", str(landing), *lake_args)
    run(daily, spark, capsys, *lake_args, "--date", days_ago(min(DAYS)).date().isoformat())
    # The older day moves to the archive; a user is erased, the purge due at once (maintain's step).
    run(archive, spark, capsys, *lake_args, "--before", days_ago(min(DAYS)).date().isoformat())
    run(gdpr, spark, capsys, *lake_args, "--user-id", ERASED, "--set", "gdpr.purge_delay_hours=0")

    before = snapshot(spark, lake)
    lean = [arg for setting in UNTESTED_KINDS for arg in ("--set", setting)]
    return Maintained(lake, before, run(maintain, spark, capsys, *lake_args, *ZERO_RETENTION, *lean))


def test_compaction_leaves_one_file_per_partition_and_every_row(spark, maintained):
    hot_day, archived_day = (days_ago(day).date().isoformat() for day in DAYS)
    for name in EVENT_FACTS:
        report = maintained.report["per_table"][name]
        per_partition = report["files_per_partition"]
        assert list(per_partition["before"]) == [hot_day], report
        assert all(files > 1 for files in per_partition["before"].values()), report  # micro-batches' files
        assert all(files == 1 for files in per_partition["after"].values()), report  # small data: one file
        assert report["zorder_by"] == ["user_bucket"]
        if name not in maintained.report["pending_purges"]["tables_purged"]:  # a purge forgets the log
            optimize = spark.sql(f"DESCRIBE HISTORY delta.`{maintained.lake / name}`").where("operation = 'OPTIMIZE'")
            assert json.loads(optimize.first()["operationParameters"]["zOrderBy"]) == ["user_bucket"]
        archived = maintained.report["per_table"][f"{ARCHIVE}/{name}"]
        assert archived["files_after"] == 1 and archived["vacuum_retention_hours"] == 0, archived
        assert spark.read.format("delta").load(str(maintained.lake / ARCHIVE / name)).select(
            "event_date").distinct().collect()[0][0].isoformat() == archived_day
    for label, rows in maintained.before.items():
        if label == "ops_gdpr_requests":
            continue  # the purge stamps purged_at (test_the_due_purge_runs_in_maintain)
        now = spark.read.format("delta").load(str(lake_tables(spark, maintained.lake)[label][0]))
        if label == "ops_job_runs":
            now = now.where("job != 'maintain'")  # maintain's own run, logged after its line
        # A map cannot be sorted, and its entries' order does not survive collect(): sorted entries.
        maps = [f.name for f in now.schema.fields if isinstance(f.dataType, T.MapType)]
        now, rows = (frame.withColumns({c: F.array_sort(F.map_entries(c)) for c in maps}) for frame in (now, rows))
        assert_df_equality(now, rows, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)


def test_the_due_purge_runs_in_maintain(spark, maintained):
    purges = maintained.report["pending_purges"]
    assert purges["requests_purged"] == 1, purges
    assert {"fact_content_engagements", "dim_users", "archive.fact_content_engagements"} <= set(
        purges["tables_purged"]), purges
    audit = spark.read.format("delta").load(str(maintained.lake / "ops_gdpr_requests")).first()
    assert audit["purged_at"] is not None and audit["purged_at"] >= audit["requested_at"]
    for label, (directory, spec) in lake_tables(spark, maintained.lake).items():
        if "user_id" in spec.columns:
            table = spark.read.format("delta").load(str(directory))
            assert table.where(f"user_id = '{ERASED}'").count() == 0, label


def test_vacuum_leaves_no_replaced_file_beyond_the_retention(spark, maintained):
    for name in EVENT_FACTS:  # compaction replaced files, which the vacuum (retention 0) deleted
        report = maintained.report["per_table"][name]
        assert report["files_before"] > report["files_after"], report
    vacuumed = [spec for spec in existing_tables(spark, str(maintained.lake)) if spec.kind in ANALYST_KINDS]
    for spec in vacuumed:
        live = referenced_files(spark, str(maintained.lake / spec.name))
        assert data_files_on_disk(maintained.lake / spec.name) == live, spec.name
        assert maintained.report["per_table"][spec.name]["vacuum_retention_hours"] == 0


def test_every_analyst_table_reads_the_same_with_deltalake(spark, maintained):
    """delta-rs (deltalake 1.6, Polars' read_delta) refuses a table whose protocol lists deletion
    vectors: none of the analysts' tables may, in the lake or in the archive."""
    analyst_tables = {label: (directory, spec) for label, (directory, spec) in lake_tables(spark, maintained.lake).items()
                      if spec.kind in ANALYST_KINDS}
    assert set(analyst_tables) >= {*EVENT_FACTS, *(f"{ARCHIVE}/{name}" for name in EVENT_FACTS), "dim_users",
                                   "dim_content", "fact_content_performance", "fact_creator_analytics"}
    for label, (directory, spec) in analyst_tables.items():
        by_delta_rs = spark.createDataFrame(RustDeltaTable(str(directory)).to_pyarrow_table())
        by_spark = spark.read.format("delta").load(str(directory))
        assert by_spark.count() > 0, label
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

    on_disk_before = data_files_on_disk(tmp_path / spec.name)
    code, report = run_job_in_process(maintain.main, ["--lake", lake], spark, capsys)
    assert code == 0, report
    assert report["per_table"][spec.name]["features_dropped"] == ["deletionVectors"]
    replaced = on_disk_before - referenced_files(spark, table_path(lake, spec))
    assert replaced, "the purge of the deletion vectors and the compaction replaced the old files"
    assert replaced <= data_files_on_disk(tmp_path / spec.name), "the default retention (168 h) keeps them"
    code, again = run_job_in_process(maintain.main, ["--lake", lake], spark, capsys)
    assert code == 0, again
    second = again["per_table"][spec.name]  # nothing left to change: no column, feature, property or file
    assert set(second) == {"files_before", "files_after", "partitions_rewritten", "vacuum_retention_hours",
                           "checkpoint_version"}, second
    assert (second["files_before"], second["files_after"], second["partitions_rewritten"]) == (1, 1, 0), second
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
