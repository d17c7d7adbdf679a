"""Unit tests of the damaged-file checks in jobs/common/landing.py (plain Python: no Spark)."""

from __future__ import annotations

import gzip
import os

from jobs.common.landing import _hadoop_path, file_path, gzip_damage

LINES = b"".join(b'{"event_id": "e%d", "pad": "%s"}\n' % (i, os.urandom(20).hex().encode()) for i in range(3000))


def test_whole_gzip_data_is_sound():
    assert gzip_damage(gzip.compress(LINES)) is None
    assert gzip_damage(gzip.compress(LINES[:100]) + gzip.compress(LINES[100:])) is None  # two members
    assert gzip_damage(b"") is None  # an empty file gives no line and no error


def test_truncated_gzip_is_damaged_wherever_it_is_cut():
    whole = gzip.compress(LINES)
    for cut in (1, 10, len(whole) // 2, len(whole) - 4, len(whole) - 1):
        assert gzip_damage(whole[:cut]) is not None, cut
    second_member_cut = gzip.compress(LINES[:100]) + gzip.compress(LINES[100:])[:50]
    assert "truncated" in gzip_damage(second_member_cut)


def test_garbage_and_corruption_are_damaged():
    assert "incorrect header check" in gzip_damage(b"not gzip at all\n")
    whole = bytearray(gzip.compress(LINES))
    whole[len(whole) // 2] ^= 0xFF
    assert gzip_damage(bytes(whole)) is not None
    trailing = gzip.compress(LINES) + b"junk"
    assert gzip_damage(trailing) is not None


def test_paths_as_spark_spells_them():
    # The source log writes file:///x, _metadata.file_path says file:/x; both percent-encoded.
    assert file_path("file:///tmp/land/a%20b.jsonl") == "file:/tmp/land/a%20b.jsonl"
    assert file_path("file:/tmp/land/a.jsonl") == "file:/tmp/land/a.jsonl"
    assert file_path("hdfs://nn:8020/land/a.jsonl") == "hdfs://nn:8020/land/a.jsonl"
    assert file_path("s3a://bucket/land/a.jsonl") == "s3a://bucket/land/a.jsonl"
    assert _hadoop_path("file:/tmp/land/a%20b.jsonl") == "file:/tmp/land/a b.jsonl"
    assert _hadoop_path("s3a://bucket/land/a%25.jsonl") == "s3a://bucket/land/a%.jsonl"
