"""gdpr on a real lake: erase a creator and a consumer with --purge-now, then read every byte under
the lake root back (Parquet as values, gzip unpacked, the log as text) and find neither their ids
nor their keys; every other row is still there. Then in-flight events, the refusal while a writer
is active, and landing retention."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import struct
import threading
from collections import defaultdict
from functools import reduce
from pathlib import Path

import pytest
from chispa import assert_df_equality
from delta.tables import DeltaTable
from pyspark.sql import functions as F

from jobs import daily, dims, gdpr, ingest
from jobs.common.config import load_conf
from jobs.common.landing import utc_now
from jobs.common.lease import WriterActive, erasure_lease, purge_lease, writer_lease
from schemas import ALL_TABLES
from tests.clock import days_ago
from tests.e2e.conftest import run_job_in_process
from tests.e2e.producer import iso

pytestmark = pytest.mark.e2e
ALICE, BOB, CAROL, DAVE = "alice-7f3a9q", "bob-2c81dz", "carol-55e0bk", "dave-9a1c4m"  # none inside another
ERASED = (ALICE, BOB)
ALICE_VIDEOS = ("vid-a1", "vid-a2")


def write(landing: Path, feed: str, name: str, lines: list[str]) -> None:
    (landing / feed).mkdir(parents=True, exist_ok=True)
    temp = landing / feed / f".{name}.tmp"
    temp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    temp.rename(landing / feed / name)


def user(user_id: str, kind: str) -> str:
    return json.dumps({"op": "upsert", "user_id": user_id, "updated_at": iso(days_ago(10)),
                       "registration_date": "2025-03-01", "user_type": kind,
                       "creator_tier": "rising" if kind == "creator" else None, "region": "BR",
                       "follower_count": 10, "following_count": 3})


def video(content_id: str, creator: str) -> str:
    return json.dumps({"op": "upsert", "content_id": content_id, "updated_at": iso(days_ago(9)),
                       "creator_user_id": creator, "content_type": "original", "category": "dance",
                       "duration_seconds": 30, "upload_timestamp": iso(days_ago(9))})


def engagement(event_id: str, user_id: str, content_id: str, when: dt.datetime, kind: str = "view") -> str:
    return json.dumps({"event_id": event_id, "user_id": user_id, "content_id": content_id,
                       "engagement_type": kind, "event_timestamp": iso(when), "watch_duration_seconds": 12.0,
                       "completion_percentage": 90.0, "client": {"os": "ios"}})


def discovery(discovery_id: str, user_id: str, content_id: str, when: dt.datetime) -> str:
    return json.dumps({"discovery_id": discovery_id, "user_id": user_id, "content_id": content_id,
                       "discovery_source": "for_you", "position_in_feed": 1, "discovery_timestamp": iso(when),
                       "clicked_through": False})


def build_landing(landing: Path) -> None:
    """Three days; the erased users (and Alice's videos) only on the first two."""
    write(landing, "users", "u.jsonl", [user(ALICE, "creator"), user(CAROL, "creator"),
                                        user(BOB, "consumer"), user(DAVE, "consumer")])
    write(landing, "content", "c.jsonl", [video("vid-a1", ALICE), video("vid-a2", ALICE),
                                          video("vid-c1", CAROL), video("vid-c2", CAROL)])
    write(landing, "engagements", "e.jsonl", [
        engagement("e01", BOB, "vid-a1", days_ago(3, 9)), engagement("e02", DAVE, "vid-a1", days_ago(3, 10), "like"),
        engagement("e03", DAVE, "vid-c1", days_ago(3, 11)), engagement("e04", ALICE, "vid-c1", days_ago(3, 12), "like"),
        engagement("e05", CAROL, "vid-a2", days_ago(3, 13)), engagement("e06", BOB, "vid-c1", days_ago(2, 9), "like"),
        engagement("e07", DAVE, "vid-c2", days_ago(2, 10), "comment"), engagement("e08", ALICE, "vid-c2", days_ago(2, 11)),
        engagement("e09", DAVE, "vid-c1", days_ago(1, 9)), engagement("e10", CAROL, "vid-c2", days_ago(1, 10), "like"),
        engagement("e11", DAVE, "vid-c2", days_ago(1, 11), "share"),
        # Quarantined lines: Bob's id in a malformed line, in a bad enum, and loose in garbage; one of Dave's.
        f'{{"event_id": "e90", "user_id": "{BOB}", "content_id": ',
        engagement("e91", BOB, "vid-c1", days_ago(2, 12), "watch"),
        f"garbage {BOB} garbage",
        engagement("e92", DAVE, "vid-c1", days_ago(2, 13), "watch"),
    ])
    write(landing, "discovery", "d.jsonl", [discovery("d1", BOB, "vid-a1", days_ago(3, 8)),
                                            discovery("d2", DAVE, "vid-c1", days_ago(1, 8))])


def run(job, spark, capsys, *argv) -> dict:
    code, report = run_job_in_process(job.main, list(argv), spark, capsys)
    assert code == 0, report
    return report


def snapshot(spark, lake: Path) -> dict[str, tuple]:
    """Every table's rows and schema, in memory (time travel ends with the purge)."""
    tables = {}
    for spec in ALL_TABLES:
        path = lake / spec.name
        if DeltaTable.isDeltaTable(spark, str(path)):
            frame = spark.read.format("delta").load(str(path))
            tables[spec.name] = (frame.schema, frame.collect())
    return tables


def keys_of(spark, ids) -> list[int]:
    return [r[0] for r in spark.createDataFrame([(i,) for i in ids], "i string").select(F.xxhash64("i")).collect()]


def expected_after(name: str, rows: list, erased_keys: set[int], video_keys: set[int]) -> list:
    """The rows that must stay, decided here from the rows' own values."""
    def belongs(row) -> bool:
        values = row.asDict()
        if values.get("user_id") in ERASED or values.get("user_key") in erased_keys:
            return True
        if name in ("dim_content", "cdc_content", "fact_content_performance"):
            return values["content_key"] in video_keys
        if name == "quarantine":
            return any(i in values["raw_line"] for i in ERASED)
        return False
    return [row for row in rows if not belongs(row)]


def traces(spark, root: Path, texts: list[str], keys: list[int]) -> list[str]:
    """Where under `root` any of these ids or keys still is: raw bytes of every file (text, the
    keys' 8-byte encodings), gzip unpacked, and Parquet read back as values (pages are compressed)."""
    needles = [t.encode() for t in texts] + [str(k).encode() for k in keys] + [
        struct.pack(order, k) for k in keys for order in ("<q", ">q")]
    found, parquet = [], defaultdict(list)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        if any(n in data for n in needles):
            found.append(str(path))
        if path.name.endswith(".parquet"):
            parquet[path.parent].append(str(path))
    as_text = [spark.read.parquet(*files).select(F.to_json(F.struct("*")).alias("row"),
                                                  F.input_file_name().alias("file"))
               for files in parquet.values()]
    if as_text:
        hit = reduce(lambda a, b: a | b, [F.col("row").contains(t) for t in texts + [str(k) for k in keys]])
        found += [r["file"] for r in reduce(lambda a, b: a.unionByName(b), as_text).where(hit).select("file")
                  .distinct().collect()]
    return found


def test_erasure_with_purge_now_leaves_no_trace_and_keeps_every_other_row(spark, capsys, lake_dirs):
    landing, lake = lake_dirs
    build_landing(landing)
    paths = ["--landing", str(landing), "--lake", str(lake)]
    run(ingest, spark, capsys, *paths, "--once")
    run(dims, spark, capsys, *paths)
    run(daily, spark, capsys, "--lake", str(lake), "--from", days_ago(3).date().isoformat(),
        "--to", days_ago(1).date().isoformat())
    before = snapshot(spark, lake)
    erased_keys = set(keys_of(spark, ERASED))
    video_keys = set(keys_of(spark, ALICE_VIDEOS))
    # The scan finds them before (one table's files and log suffice to show it can).
    assert traces(spark, lake / "dim_users", list(ERASED), sorted(erased_keys))

    report = run(gdpr, spark, capsys, "--lake", str(lake), "--user-id", ALICE, "--user-id", BOB, "--purge-now")

    assert report["users"] == 2 and report["requests_purged"] == 1, report
    assert not any(i in json.dumps(report) for i in ERASED)
    assert traces(spark, lake, list(ERASED), sorted(erased_keys)) == []
    after = snapshot(spark, lake)
    removed = 0
    for name, (schema, rows) in before.items():
        if name == "ops_job_runs":  # no id (the traces above): it only gains this run's row
            assert sorted(r["job"] for r in after[name][1]) == sorted([r["job"] for r in rows] + ["gdpr"])
            continue
        expected = expected_after(name, rows, erased_keys, video_keys)
        assert sorted(map(repr, after[name][1])) == sorted(map(repr, expected)), name  # rows collected already
        removed += len(rows) - len(after[name][1])
    facts = [spark.createDataFrame(snap["fact_content_engagements"][1], snap["fact_content_engagements"][0])
             for snap in (before, after)]
    assert_df_equality(facts[1], facts[0].where(~F.col("user_id").isin(*ERASED)), ignore_row_order=True)
    assert removed == report["rows_removed"] > 0
    last_day = days_ago(1).date()
    for name in ("fact_content_performance", "fact_creator_analytics"):
        day_rows = [r for r in before[name][1] if r["event_date"] == last_day]
        assert day_rows and sorted(day_rows) == sorted(r for r in after[name][1] if r["event_date"] == last_day)

    audit = after["ops_gdpr_requests"][1]
    assert len(audit) == 2 and all(r["purged_at"] is not None for r in audit)
    assert {"fact_content_engagements", "quarantine", "dim_content", "fact_creator_analytics"} <= set(
        audit[0]["tables_touched"])

    # In flight: Bob's event from before the request arrives now and is dropped, counted as erased,
    # as is Alice's malformed line; Bob's event from after the request is a returning user's.
    now = utc_now()
    write(landing, "engagements", "late.jsonl", [
        engagement("e20", BOB, "vid-c1", days_ago(2, 15)),
        f'{{"event_id": "e21", "user_id": "{ALICE}", ',
        engagement("e22", BOB, "vid-c1", now),
        engagement("e23", DAVE, "vid-c1", now),
    ])
    late = run(ingest, spark, capsys, *paths, "--once", "--feeds", "engagements")
    assert (late["lines_read"], late["accepted"], late["erased"], late["quarantined"], late["duplicates"]) == (
        4, 2, 2, 0, 0), late
    stored = spark.read.format("delta").load(str(lake / "fact_content_engagements"))
    assert sorted(r["event_id"] for r in stored.where(F.col("user_id") == BOB).collect()) == ["e22"]
    batches = spark.read.format("delta").load(str(lake / "ops_ingest_batches")).where("erased = 2").collect()
    assert len(batches) == 1
    assert batches[0]["lines_read"] == batches[0]["accepted"] + batches[0]["duplicates"] + \
        batches[0]["quarantined"] + batches[0]["erased"]


def small_lake(spark, lake: Path) -> str:
    path = str(lake / "dim_users")
    users = spark.createDataFrame([("keep-me",), ("erase-me",)], "user_id string")
    users.select(F.xxhash64("user_id").alias("user_key"), "user_id").write.format("delta").save(path)
    return path


def test_purge_now_is_refused_while_a_writer_is_active(spark, capsys, tmp_path):
    lake = tmp_path / "lake"
    path = small_lake(spark, lake)
    conf = load_conf("local", lake=str(lake))
    with writer_lease(spark, conf, "ingest-engagements"):
        capsys.readouterr()
        code = gdpr.main(["--lake", str(lake), "--user-id", "erase-me", "--purge-now"], spark=spark)
        out = capsys.readouterr().out.strip().splitlines()
    assert code == 1 and len(out) == 1, out
    refusal = json.loads(out[0])
    assert refusal["status"] == "refused" and "ingest-engagements" in refusal["error"], refusal
    assert spark.read.format("delta").load(path).count() == 2  # nothing erased
    assert not (lake / "ops_gdpr_requests").exists()

    # A writer killed without releasing its lease stops counting once its heartbeat is old.
    stale = {"kind": "writer", "job": "daily", "host": "h", "pid": 1, "acquired_at": 0.0, "heartbeat_at": 0.0}
    (lake / "_leases" / "writer-daily-dead.json").write_text(json.dumps(stale))
    code, report = run_job_in_process(gdpr.main, ["--lake", str(lake), "--user-id", "erase-me", "--purge-now"],
                                      spark, capsys)
    assert code == 0 and report["rows_removed"] == 1, report
    assert [r["user_id"] for r in spark.read.format("delta").load(path).collect()] == ["keep-me"]


def test_a_writer_waits_for_a_running_purge(spark, tmp_path):
    conf = load_conf("local", ["gdpr.purge_wait_seconds=0"], lake=str(tmp_path))
    with purge_lease(spark, conf):
        with pytest.raises(TimeoutError, match="purge"):
            with writer_lease(spark, conf, "dims"):
                pass
    with writer_lease(spark, conf, "dims"):  # the purge is over
        assert list((tmp_path / "_leases").iterdir())
    assert not list((tmp_path / "_leases").iterdir())


def test_an_erasure_waits_for_running_writers_pauses_new_ones_and_shuts_out_a_purge(spark, tmp_path):
    impatient = load_conf("local", ["gdpr.purge_wait_seconds=0"], lake=str(tmp_path))
    with writer_lease(spark, impatient, "ingest-engagements"):
        with pytest.raises(TimeoutError, match="ingest-engagements"):
            with erasure_lease(spark, impatient):
                pass
    with purge_lease(spark, impatient):
        with pytest.raises(TimeoutError, match="purge"):
            with erasure_lease(spark, impatient):
                pass
    with erasure_lease(spark, impatient):
        with pytest.raises(WriterActive, match="gdpr"):
            with purge_lease(spark, impatient):
                pass

    # A writer that starts during the erasure waits, and writes once it ends.
    patient = load_conf("local", ["gdpr.purge_wait_seconds=120"], lake=str(tmp_path))
    writing, erasure_ended = threading.Event(), threading.Event()
    outcome = []

    def write_during_the_erasure() -> None:
        try:
            with writer_lease(spark, patient, "dims"):
                outcome.append(erasure_ended.is_set())
                writing.set()
        except Exception as error:  # noqa: BLE001 (asserted below)
            outcome.append(error)
            writing.set()

    with erasure_lease(spark, patient):
        writer = threading.Thread(target=write_during_the_erasure, name="dims")
        writer.start()
        assert not writing.wait(5), outcome  # five looks at the leases, each one withdrawn
        erasure_ended.set()
    assert writing.wait(60), "the writer did not start after the erasure"
    writer.join()
    assert outcome == [True]
    assert not list((tmp_path / "_leases").iterdir())


def test_processed_landing_files_are_deleted_after_the_retention(spark, capsys, lake_dirs):
    landing, lake = lake_dirs
    write(landing, "engagements", "e.jsonl", [engagement("r1", DAVE, "vid-c1", days_ago(1))])
    paths = ["--landing", str(landing), "--lake", str(lake), "--once", "--feeds", "engagements"]
    kept = run(ingest, spark, capsys, *paths)
    assert kept["accepted"] == 1 and kept["landing_files_deleted"] == 0
    assert (landing / "engagements" / "e.jsonl").exists()  # 72 hours by default

    swept = run(ingest, spark, capsys, *paths, "--set", "gdpr.landing_retention_hours=0")
    assert swept["lines_read"] == 0 and swept["landing_files_deleted"] == 1, swept
    assert not (landing / "engagements" / "e.jsonl").exists()
    assert spark.read.format("delta").load(str(lake / "fact_content_engagements")).count() == 1
