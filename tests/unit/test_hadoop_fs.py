"""Unit tests of jobs/common/hadoop_fs.py on the session's real Hadoop filesystem."""

from __future__ import annotations

from jobs.common.hadoop_fs import hadoop_path, hadoop_path_of_uri, read_text


def test_a_joined_path_and_a_file_uri_name_the_same_file(spark, tmp_path):
    folder = tmp_path / "a folder"
    folder.mkdir()
    (folder / "entry 1.json").write_text('{"path": "é"}\n', encoding="utf-8")

    fs, joined = hadoop_path(spark, str(tmp_path), "a folder/", "/entry 1.json")
    assert fs.exists(joined)
    assert read_text(spark, fs, joined) == '{"path": "é"}\n'

    # Spark's file sources name their files as percent-encoded URIs.
    uri_fs, from_uri = hadoop_path_of_uri(spark, (folder / "entry 1.json").as_uri())
    assert "%20" in (folder / "entry 1.json").as_uri()
    assert uri_fs.exists(from_uri) and from_uri.toUri().getPath() == joined.toUri().getPath()
    missing_fs, missing = hadoop_path(spark, str(tmp_path), "missing.json")
    assert not missing_fs.exists(missing)
