"""The pure parts of GDPR erasure: rules, ids, tombstones, the in-flight flag, landing retention."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path
from urllib.parse import urlparse

from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs.common.config import load_conf
from jobs.common.erasure import delete_matching, may_hold_deletion_vectors, purge, read_tombstones, record_requests
from jobs.common.retention import expired_files, source_log_entries
from jobs.gdpr import requested_ids
from jobs.maintain import data_files
from jobs.transforms.erasure import (
    ERASURE_RULES,
    bucket_condition,
    latest_requests,
    requested_users,
    user_hash,
    user_hash_hex,
    with_erased_content_flag,
    with_erased_flag,
)
from schemas import ALL_TABLES, TABLES
from tests.timezones import as_utc, utc

SALT = "pepper"


def test_every_table_with_personal_columns_has_an_erasure_rule_on_its_own_columns():
    holding_ids = {spec.name for spec in ALL_TABLES if spec.pii_columns}
    assert holding_ids <= set(ERASURE_RULES), holding_ids - set(ERASURE_RULES)
    for name, rule in ERASURE_RULES.items():
        for column in re.findall(r"\bt\.(\w+)", rule.condition):
            assert column in TABLES[name].columns, (name, column)


def test_surrogate_keys_are_personal_so_they_stay_out_of_file_statistics():
    for spec in ALL_TABLES:
        for column in ("user_key", "creator_user_key", "user_id", "creator_id", "creator_user_id", "raw_line"):
            if column in spec.columns:
                assert column in spec.pii_columns and column not in spec.stats_columns, (spec.name, column)


def test_requested_ids_are_trimmed_deduplicated_and_comments_skipped(tmp_path):
    requests = tmp_path / "requests.txt"
    requests.write_text("# ticket 42\n u1 \n\nu2\nu1\n", encoding="utf-8")
    assert requested_ids([], str(requests)) == ["u1", "u2"]
    assert requested_ids(["b", "a", "b", " "], None) == ["a", "b"]


def test_the_salted_hash_is_the_same_in_python_and_in_spark(spark):
    assert user_hash_hex("u1", SALT) == hashlib.sha256(b"pepper:u1").hexdigest()
    assert user_hash_hex("u1", SALT) != user_hash_hex("u1", "other salt")
    row = spark.createDataFrame([("u1",)], "user_id string").select(user_hash(F.col("user_id"), SALT)).first()
    assert row[0] == user_hash_hex("u1", SALT)


def test_requested_users_carry_the_surrogate_key_of_each_id_once(spark):
    request = utc(2026, 11, 20, 12)
    users = requested_users(spark, ["u2", "u1", "u2"], request)
    expected = spark.createDataFrame([("u1", request), ("u2", request)], "user_id string, erased_before timestamp").select(
        "user_id", F.xxhash64("user_id").alias("user_key"), "erased_before")
    assert_df_equality(users, expected, ignore_row_order=True, ignore_nullable=True)


def test_a_returning_users_events_and_changes_from_the_request_on_stay(spark, tmp_path):
    """Stored before the MERGE ran, but happened at or after the request: a returning user's data."""
    request = utc(2026, 11, 20, 12)
    before, after = utc(2026, 11, 20, 11, 59), request
    users = requested_users(spark, ["gone"], request)
    rows = {
        "fact_content_engagements": ("engagement_timestamp", "e"),
        "fact_discovery_events": ("discovery_timestamp", "d"),
        "cdc_users": ("updated_at", "c"),
    }
    for table, (time_column, prefix) in rows.items():
        path = str(tmp_path / table)
        stored = spark.createDataFrame(
            [(f"{prefix}1", "gone", before), (f"{prefix}2", "gone", after), (f"{prefix}3", "other", before)],
            f"id string, user_id string, {time_column} timestamp",
        ).withColumn("user_key", F.xxhash64("user_id"))
        stored.write.format("delta").save(path)

        removed = delete_matching(spark, path, users, ERASURE_RULES[table].condition)

        assert removed == 1, table
        left = spark.read.format("delta").load(path).select("id")
        expected = spark.createDataFrame([(f"{prefix}2",), (f"{prefix}3",)], "id string")
        assert_df_equality(left, expected, ignore_row_order=True)


def test_in_flight_lines_of_erased_users_before_their_request_are_flagged(spark):
    request = utc(2026, 11, 20, 12)
    audit = spark.createDataFrame(
        [(user_hash_hex("gone", SALT), utc(2026, 11, 19)), (user_hash_hex("gone", SALT), request)],
        "user_hash string, requested_at timestamp")
    tombstones = latest_requests(audit)
    schema = "value string, user_id string, event_timestamp timestamp, reason string"
    lines = spark.createDataFrame([
        ('{"user_id":"gone"}', "gone", utc(2026, 11, 20, 11), None),          # before: erased
        ('{"user_id":"gone"}', "gone", utc(2026, 11, 20, 13), None),          # after: a returning user
        ('{"user_id": "gone", "content_id": ', None, None, "malformed_json"),  # salvaged, no time: erased
        ('{"user_id":"kept"}', "kept", utc(2026, 11, 20, 11), None),          # someone else
        ("[1, 2]", None, None, "malformed_json"),                              # nobody
    ], schema)
    flagged = with_erased_flag(lines, tombstones, SALT, "event_timestamp")
    expected = lines.withColumn("is_erased", F.col("value").isNotNull()).limit(0).union(spark.createDataFrame([
        ('{"user_id":"gone"}', "gone", utc(2026, 11, 20, 11), None, True),
        ('{"user_id":"gone"}', "gone", utc(2026, 11, 20, 13), None, False),
        ('{"user_id": "gone", "content_id": ', None, None, "malformed_json", True),
        ('{"user_id":"kept"}', "kept", utc(2026, 11, 20, 11), None, False),
        ("[1, 2]", None, None, "malformed_json", False),
    ], schema + ", is_erased boolean"))
    assert_df_equality(flagged, expected, ignore_row_order=True, ignore_nullable=True)
    assert with_erased_flag(lines, None, SALT, "event_timestamp").where("is_erased").count() == 0


def test_a_stream_that_looked_while_the_first_request_was_recorded_sees_it(spark, tmp_path):
    """A continuous ingest reads the tombstones every micro-batch; one that first looked between
    gdpr making the audit table's `_delta_log` and committing it must still see the request."""
    conf, recorder = (load_conf("local", lake=str(tmp_path / name)) for name in ("lake", "gdpr"))
    audit = tmp_path / "lake" / TABLES["ops_gdpr_requests"].name
    (audit / "_delta_log").mkdir(parents=True)
    assert read_tombstones(spark, conf) is None
    requested_at = utc(2026, 11, 20, 8)
    record_requests(spark, recorder, ["u-gone"], requested_at, requested_at)
    shutil.rmtree(audit)
    shutil.copytree(tmp_path / "gdpr" / audit.name, audit)  # the commit, as the stream's session sees it
    stones = read_tombstones(spark, conf)
    assert stones is not None
    assert [(r.user_hash, as_utc(r.erased_before)) for r in stones.collect()] == [
        (user_hash_hex("u-gone", conf.get("gdpr.salt")), requested_at)]


def test_content_changes_of_erased_creators_before_their_request_are_flagged(spark):
    request = utc(2026, 11, 20, 12)
    tombstones = latest_requests(spark.createDataFrame(
        [(user_hash_hex("gone", SALT), request)], "user_hash string, requested_at timestamp"))
    schema = "value string, content_id string, creator_user_id string, updated_at timestamp, reason string"
    lines = spark.createDataFrame([
        ('{"creator_user_id":"gone"}', "v1", "gone", utc(2026, 11, 20, 11), None),    # before: erased
        ('{"creator_user_id":"gone"}', "v2", "gone", utc(2026, 11, 20, 13), None),    # after: back
        ('{"op": "upsert", "creator_user_id": "gone", ', None, None, None, "malformed_json"),  # salvaged
        ('{"creator_user_id":"kept"}', "v3", "kept", utc(2026, 11, 20, 11), None),    # another creator
        ('{"content_id":"v1","op":"delete"}', "v1", None, utc(2026, 11, 20, 11), None),  # no creator named
    ], schema)
    flagged = with_erased_flag(lines, tombstones, SALT, "updated_at")
    expected = spark.createDataFrame(
        [(*row, erased) for row, erased in zip(lines.collect(), [True, False, True, False, False])],
        schema + ", is_erased boolean")
    assert_df_equality(flagged, expected, ignore_row_order=True, ignore_nullable=True)


def test_changes_of_erased_creators_videos_are_flagged_by_key_when_they_do_not_name_the_creator(spark):
    request = utc(2026, 11, 20, 12)
    erased_content = spark.createDataFrame([("v1", request)], "content_id string, erased_before timestamp").select(
        F.xxhash64("content_id").alias("content_key"), "erased_before")
    schema = "value string, op string, content_id string, updated_at timestamp, is_erased boolean"
    lines = spark.createDataFrame([
        ("d1", "delete", "v1", utc(2026, 11, 20, 11), False),   # a delete before the request: erased
        ("d2", "delete", "v1", utc(2026, 11, 20, 13), False),   # a delete after it: the video is gone
        ("u1", "upsert", "v1", utc(2026, 11, 20, 11), False),   # an upsert before it: erased
        ("u2", "upsert", "v1", utc(2026, 11, 20, 13), False),   # after it: a returning creator's video
        ("u3", "upsert", "v2", utc(2026, 11, 20, 11), False),   # another video
        ("u4", "upsert", "v2", utc(2026, 11, 20, 11), True),    # flagged by the creator's tombstone: stays so
        ("bad", None, None, None, False),                       # no key parsed: unchanged
    ], schema)
    flagged = with_erased_content_flag(lines, erased_content, "updated_at")
    expected = spark.createDataFrame(
        [(*row[:-1], erased) for row, erased in zip(lines.collect(), [True, True, True, False, False, True, False])],
        schema)
    assert_df_equality(flagged, expected, ignore_row_order=True, ignore_nullable=True)
    assert with_erased_content_flag(lines, None, "updated_at") is lines


def test_landing_files_expire_with_the_commit_of_their_batch():
    entries = [("file:/l/a", 0), ("file:/l/b", 1), ("file:/l/c", 2), ("file:/l/d", 3)]
    hour = 3600.0
    # Spark kept the commits of batches 1 and 2 only (0's was purged); 3 has not committed.
    commits = {1: 10 * hour, 2: 20 * hour}
    assert expired_files(entries, commits, cutoff=5 * hour) == []
    assert expired_files(entries, commits, cutoff=10 * hour) == ["file:/l/a", "file:/l/b"]
    assert expired_files(entries, commits, cutoff=100 * hour) == ["file:/l/a", "file:/l/b", "file:/l/c"]
    assert expired_files(entries, {}, cutoff=100 * hour) == []


def test_source_log_entries_read_plain_and_compacted_files():
    plain = 'v1\n{"path":"file:///l/a.jsonl","timestamp":1,"batchId":4}\n'
    compact = 'v1\n{"path":"file:///l/x","timestamp":1,"batchId":0}\n{"path":"file:///l/y","timestamp":2,"batchId":9}\n'
    assert source_log_entries(plain, 4) == [("file:///l/a.jsonl", 4)]
    assert source_log_entries(compact, 9) == [("file:///l/x", 0), ("file:///l/y", 9)]
    assert source_log_entries('v1\n{"path":"file:///l/z"}\n', 7) == [("file:///l/z", 7)]



def test_the_bucket_conjunct_lets_a_merge_read_only_the_files_of_the_users_buckets(spark, tmp_path):
    path = str(tmp_path / "facts")
    # One file per bucket (3 buckets), plus a file of rows written before the column existed.
    for bucket, users in ((0, ["a", "b"]), (1, ["c"]), (2, ["d"]), (None, ["a", "d"])):
        rows = [(u, bucket, n) for n, u in enumerate(users)]
        (spark.createDataFrame(rows, "user_id string, user_bucket int, n int").coalesce(1)
         .write.format("delta").mode("append").save(path))
    erased = spark.createDataFrame([("a",)], "user_id string")
    # Buckets 1 and 2's files are taken away: a MERGE that opened them would fail.
    files = spark.read.format("delta").load(path).where("user_bucket IN (1, 2)").select(F.input_file_name()).collect()
    for (uri,) in files:
        Path(urlparse(uri).path).unlink()

    removed = delete_matching(spark, path, erased, f"t.user_id = s.user_id AND {bucket_condition([0])}")

    assert removed == 2  # a's row in bucket 0 and its unbucketed one
    left = spark.read.format("delta").load(path).where("user_bucket = 0 OR user_bucket IS NULL")
    expected = spark.createDataFrame([("b", 0), ("d", None)], "user_id string, user_bucket int")
    assert_df_equality(left.select("user_id", "user_bucket"), expected, ignore_row_order=True)


def test_the_purge_rewrites_only_a_table_that_may_hold_deletion_vectors(spark, tmp_path):
    """REORG ... APPLY (PURGE) runs for a table with the deletion-vector feature (an old one) and
    leaves no vector; a table without the feature has none to purge (and Delta 4.4's REORG fails on
    a cluster's executors, so it is not run there)."""
    lake = tmp_path / "lake"
    for name, vectors in (("old_table", "true"), ("spec_table", "false")):
        spark.sql(f"CREATE TABLE delta.`{lake / name}` (user_id STRING, n INT) USING DELTA "
                  f"TBLPROPERTIES ('delta.enableDeletionVectors' = '{vectors}')")
        spark.createDataFrame([("a", 1), ("b", 2), ("c", 3)], "user_id string, n int").coalesce(1) \
            .write.format("delta").mode("append").save(str(lake / name))
        spark.sql(f"DELETE FROM delta.`{lake / name}` WHERE user_id = 'a'")
    vectors_of = {name: data_files(spark, str(lake / name)).where("deletionVector IS NOT NULL").count()
                  for name in ("old_table", "spec_table")}
    assert vectors_of == {"old_table": 1, "spec_table": 0}  # the old table's DELETE wrote a vector
    assert may_hold_deletion_vectors(spark, str(lake / "old_table"))
    assert not may_hold_deletion_vectors(spark, str(lake / "spec_table"))

    purged = purge(spark, load_conf("local", lake=str(lake)), ["old_table", "spec_table"])

    assert purged["tables_purged"] == ["old_table", "spec_table"]
    assert data_files(spark, str(lake / "old_table")).where("deletionVector IS NOT NULL").count() == 0
    for name in ("old_table", "spec_table"):
        left = spark.read.format("delta").load(str(lake / name))
        assert_df_equality(left, spark.createDataFrame([("b", 2), ("c", 3)], "user_id string, n int"),
                           ignore_row_order=True, ignore_nullable=True)
        on_disk = {p.name for p in (lake / name).glob("*.parquet")}
        assert on_disk == {Path(f).name for (f,) in data_files(spark, str(lake / name)).select("path").collect()}
