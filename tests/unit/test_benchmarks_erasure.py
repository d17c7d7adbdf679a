"""The erasure benchmark's pure helpers: what it reads from the Delta log and from gdpr's log lines."""

from __future__ import annotations

import json

from benchmarks.erasure_benchmark import erase_seconds, latest_version, log_version, merge_metrics, spread


def commit(log_dir, version: int, operation: str, metrics: dict) -> None:
    lines = [{"commitInfo": {"operation": operation, "operationMetrics": {k: str(v) for k, v in metrics.items()}}},
             {"add": {"path": f"part-{version}.parquet", "size": 1}}]
    (log_dir / f"{version:020d}.json").write_text("\n".join(json.dumps(line) for line in lines) + "\n")


def test_merge_metrics_sum_the_merge_commits_after_a_version(tmp_path):
    log_dir = tmp_path / "_delta_log"
    log_dir.mkdir()
    commit(log_dir, 0, "WRITE", {"numFiles": 3})
    commit(log_dir, 1, "MERGE", {"numTargetFilesRemoved": 9, "numTargetBytesRemoved": 900})
    commit(log_dir, 2, "MERGE", {"numTargetFilesRemoved": 2, "numTargetBytesRemoved": 200,
                                 "numTargetFilesAdded": 2, "numTargetBytesAdded": 150, "numTargetRowsDeleted": 7})
    commit(log_dir, 3, "OPTIMIZE", {"numRemovedFiles": 5, "numRemovedBytes": 5000})
    commit(log_dir, 4, "MERGE", {"numTargetFilesRemoved": 1, "numTargetBytesRemoved": 10})
    (log_dir / "00000000000000000004.checkpoint.parquet").write_bytes(b"PAR1")
    (log_dir / "00000000000000000004.crc").write_text("{}")

    assert latest_version(tmp_path) == 4
    assert merge_metrics(tmp_path, after_version=1) == {
        "merges": 2, "files_removed": 3, "bytes_removed": 210, "files_added": 2, "bytes_added": 150,
        "rows_deleted": 7,
    }


def test_log_version_reads_commit_files_only():
    assert log_version("00000000000000000012.json") == 12
    assert log_version("00000000000000000012.crc") is None
    assert log_version("00000000000000000010.checkpoint.parquet") is None
    assert log_version("_last_checkpoint") is None


def test_erase_seconds_add_up_gdpr_s_per_table_lines():
    stderr = ("2026-01-01 INFO shortvideo.gdpr: erased 30 rows from fact_content_engagements in 12.5s\n"
              "2026-01-01 INFO shortvideo.gdpr: erased 0 rows from dim_users in 1.5s\n"
              "2026-01-01 INFO shortvideo.gdpr: erased 4 rows from fact_discovery_events in 3.0s\n")
    assert erase_seconds(stderr) == 17.0
    assert erase_seconds(stderr, ("fact_content_engagements", "fact_discovery_events")) == 15.5


def test_spread_is_min_median_max():
    assert spread([8, 1, 3]) == "1 / 3 / 8"
    assert spread([]) == "-"
