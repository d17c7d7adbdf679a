"""Damaged landing files never stop the stream (events.md, "What counts as bad input"): a truncated
gzip file, a corrupt one and a file that vanishes after the stream listed it each give one
quarantine record (reason unreadable_file); the lines read before the damage are judged as usual;
the next files go on, and the counts invariant holds."""

from __future__ import annotations

import datetime as dt
import os
import zlib
from collections import Counter

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs import ingest
from tests.e2e.conftest import run_job_in_process
from tests.e2e.producer import Landing
from tests.e2e.test_ingest_e2e import day_at, expected_fact_rows, fact_columns, facts

pytestmark = pytest.mark.e2e


def truncated_gzip(lines_before: list[str], lines_after: list[str]) -> bytes:
    """Gzip data cut a few bytes into the block after `lines_before`: a full flush makes every
    line before it decodable, and the cut leaves nothing of the next lines (nor the trailer)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    head = compressor.compress(("\n".join(lines_before) + "\n").encode()) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.compress(("\n".join(lines_after) + "\n").encode()) + compressor.flush()
    return head + tail[:8]


def test_damaged_files_are_quarantined_and_the_stream_goes_on(spark, capsys, lake_dirs, monkeypatch):
    landing, lake = lake_dirs
    producer = Landing(landing)
    feed = landing / "engagements"
    when = [day_at(1, h, m) for h in range(24) for m in (5, 20, 35, 50)]

    before_cut = [producer.engagement(when[i]) for i in range(20)]
    lost = [producer.engagement(when[20 + i]) for i in range(20)]
    truncated = feed / "a-truncated.jsonl.gz"
    feed.mkdir(parents=True)
    truncated.write_bytes(truncated_gzip(producer.good_lines(before_cut), [producer.dumps(e) for e in lost]))
    corrupt = feed / "b-corrupt.jsonl.gz"
    corrupt.write_bytes(b"\x1f\x8b this is not gzip data\n" + os.urandom(200))
    vanishing = producer.write("engagements", "c-vanishing.jsonl",
                               [producer.dumps(producer.engagement(when[41 + i])) for i in range(5)])
    planned_away = producer.write("engagements", "d-planned-away.jsonl.gz",
                                  [producer.dumps(producer.engagement(when[46 + i])) for i in range(5)],
                                  compress=True)
    after = [producer.engagement(when[i]) for i in range(60, 80)]
    following = producer.write("engagements", "e-following.jsonl.gz",
                                producer.good_lines(after) + producer.repeat(after[:3])
                                + producer.bad_lines(day_at(1, 9)), compress=True)
    # Batch 0 reads a, b and c, batch 1 d and e (the file source orders by modification time).
    base = dt.datetime.now().timestamp() - 600
    for i, path in enumerate([truncated, corrupt, vanishing, planned_away, following]):
        os.utime(path, (base + i, base + i))

    # The landing zone loses two files at exact moments, while batch 0 runs: c after the stream
    # planned batch 0 but before its lines are read; d after the stream listed it but before batch 1.
    run_batch = ingest.BatchWriter.__call__

    def losing_files(self, batch, batch_id):
        if batch_id == 0:
            vanishing.unlink()
            planned_away.unlink()
        return run_batch(self, batch, batch_id)

    monkeypatch.setattr(ingest.BatchWriter, "__call__", losing_files)
    code, report = run_job_in_process(
        ingest.main,
        ["--landing", str(landing), "--lake", str(lake), "--once", "--feeds", "engagements",
         "--set", "ingest.max_files_per_trigger=3"],
        spark, capsys,
    )
    assert code == 0, report

    unreadable = [truncated, corrupt, vanishing, planned_away]
    assert report["unreadable_files"] == len(unreadable)
    assert report["accepted"] == len(before_cut) + len(after)
    assert report["duplicates"] == 3
    assert report["quarantined"] == len(producer.bad) + len(unreadable)
    assert report["lines_read"] == report["accepted"] + report["duplicates"] + report["quarantined"] + report["erased"]
    assert report["lines_read"] == len(before_cut) + len(after) + 3 + len(producer.bad) + len(unreadable)
    assert report["files"] == 5 and report["batches"] == 2

    assert_df_equality(fact_columns(facts(spark, lake)), expected_fact_rows(spark, before_cut + after),
                       ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)

    quarantine = spark.read.format("delta").load(str(lake / "quarantine"))
    records = quarantine.where(F.col("reason") == "unreadable_file").collect()
    assert sorted(r.source_file.rsplit("/", 1)[-1] for r in records) == sorted(p.name for p in unreadable)
    assert all(r.raw_line == "" and r.user_id is None and r.reason_detail and "\n" not in r.reason_detail
               and r.feed == "engagements" and r.source_file.startswith("file:/") for r in records)
    by_file = {r.source_file.rsplit("/", 1)[-1]: r for r in records}
    assert [by_file[p.name].batch_id for p in unreadable] == [0, 0, 0, 1]
    assert "not found" in by_file["c-vanishing.jsonl"].reason_detail
    assert "not found" in by_file["d-planned-away.jsonl.gz"].reason_detail
    assert "truncated" in by_file["a-truncated.jsonl.gz"].reason_detail
    lines = quarantine.where(F.col("reason") != "unreadable_file")
    assert Counter((r.raw_line, r.reason) for r in lines.collect()) == Counter(producer.bad)

    batches = spark.read.format("delta").load(str(lake / "ops_ingest_batches"))
    for row in batches.collect():
        assert row.lines_read == row.accepted + row.duplicates + row.quarantined + row.erased, row
    assert batches.agg(F.sum("quarantined")).first()[0] == report["quarantined"]
