"""The run log's command line: gdpr's user ids and secret settings never stored, whatever the spelling."""

from __future__ import annotations

from jobs.common.progress import offsets_behind
from jobs.common.runlog import REDACTED, redacted_arguments, redacted_text


def test_hidden_values_and_secret_settings_are_redacted_in_every_spelling():
    argv = ["--lake", "/lake/u1x", "--user-id", " u1 ", "--user=u2", "--user-id=u3", "--set", "gdpr.salt=s3cret",
            "--set=spark.hadoop.fs.s3a.secret.key=abc", "--set", "ingest.trigger_seconds=5", "--requests", "r.txt"]
    assert redacted_arguments(argv, hidden=["u1", "u2", "u3"]) == [
        "--lake", "/lake/u1x", "--user-id", REDACTED, f"--user={REDACTED}", f"--user-id={REDACTED}",
        "--set", f"gdpr.salt={REDACTED}", f"--set=spark.hadoop.fs.s3a.secret.key={REDACTED}",
        "--set", "ingest.trigger_seconds=5", "--requests", "r.txt"]
    assert redacted_arguments(["--once"]) == ["--once"]


def test_an_error_keeps_no_hidden_value_standing_as_a_word():
    assert redacted_text("MERGE failed for u1 in u10", ["u1"]) == f"MERGE failed for {REDACTED} in u10"
    assert redacted_text(None, ["u1"]) is None


def test_kafka_offsets_behind_are_the_records_after_the_batch_end_in_every_partition():
    end = '{"engagements":{"0":10,"1":4}}'
    latest = '{"engagements":{"0":15,"1":4,"2":3}}'
    assert offsets_behind(end, latest) == 5 + 0 + 3
    assert offsets_behind(None, latest) is None
