"""The landing stream's bound on one micro-batch (jobs/common/landing.py), on Spark's real file source."""

from __future__ import annotations

import os

import pytest

from jobs.common.config import ConfigError, load_conf
from jobs.common.landing import micro_batch_bound, read_landing_lines

LINE = b'{"event_id": "e", "pad": "' + b"x" * 71 + b'"}\n'  # 100 bytes


def land(landing, sizes_in_lines: list[int]) -> None:
    """engagements files named in arrival order, oldest first (the source reads in modification time)."""
    feed = landing / "engagements"
    feed.mkdir(parents=True)
    for number, lines in enumerate(sizes_in_lines):
        path = feed / f"part-{number}.jsonl"
        path.write_bytes(LINE * lines)
        os.utime(path, (1_700_000_000 + number, 1_700_000_000 + number))


def lines_per_batch(spark, tmp_path, overrides: list[str]) -> list[int]:
    conf = load_conf("local", overrides, landing=str(tmp_path / "landing"), lake=str(tmp_path / "lake"))
    batches: list[int] = []
    query = (
        read_landing_lines(spark, conf, "engagements")
        .writeStream.option("checkpointLocation", str(tmp_path / "checkpoint"))
        .foreachBatch(lambda frame, batch_id: batches.append(frame.count()))
        .trigger(availableNow=True)
        .start()
    )
    query.awaitTermination()
    return batches


def test_a_micro_batch_is_bounded_in_bytes_by_default(spark, tmp_path):
    land(tmp_path / "landing", [10, 10, 10, 25, 5])  # 1,000 1,000 1,000 2,500 and 500 bytes
    batches = lines_per_batch(spark, tmp_path, ["ingest.max_bytes_per_trigger=2000"])
    assert len(LINE) == 100
    # Whole files, oldest first, while the batch stays within 2,000 bytes; a larger file is a batch alone.
    assert batches == [20, 10, 25, 5]


def test_a_file_bound_replaces_the_byte_bound(spark, tmp_path):
    land(tmp_path / "landing", [10, 10, 10])
    assert lines_per_batch(spark, tmp_path, ["ingest.max_bytes_per_trigger=1",
                                             "ingest.max_files_per_trigger=2"]) == [20, 10]


def test_the_bound_options():
    assert micro_batch_bound({"max_bytes_per_trigger": 128, "max_files_per_trigger": 0}) == {"maxBytesPerTrigger": "128"}
    assert micro_batch_bound({"max_bytes_per_trigger": 128, "max_files_per_trigger": 3}) == {"maxFilesPerTrigger": "3"}
    assert micro_batch_bound(load_conf("local").section("ingest")) == {"maxBytesPerTrigger": str(512 * 1024 * 1024)}
    with pytest.raises(ConfigError, match="max_bytes_per_trigger must be above 0"):
        micro_batch_bound({"max_bytes_per_trigger": 0, "max_files_per_trigger": 0})
    with pytest.raises(ConfigError, match="ingest.max_bytes_per_trigger is not set"):
        micro_batch_bound({"max_files_per_trigger": 0})
    with pytest.raises(ConfigError, match="ingest.max_bytes_per_trigger must be a whole number: '512m'"):
        micro_batch_bound({"max_bytes_per_trigger": "512m"})

