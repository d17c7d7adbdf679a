"""The command line contract (cli.md): bad input ends with one line and exit code 2, before Spark."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import run_spark_submit

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["nosuchjob"], "unknown job"),
        (["ingest", "--landing", "/definitely/not/here"], "does not exist"),
        (["ingest", "--once", "--continuous"], "not allowed with"),
        (["ingest", "--env", "nosuchenv"], "no configuration 'nosuchenv'"),
        (["generate", "--days", "0"], "must be greater than 0"),
        (["generate", "--bad-rate", "1.5"], "between 0 and 1"),
        (["generate", "--start-date", "2026-13-01"], "is not a date"),
        (["sql"], "required"),
        (["sql", "--format", "xml", "select 1"], "invalid choice"),
        (["ingest", "--set", "novalue"], "section.key=value"),
        (["daily", "--lake", "/tmp"], "one of --date, --from/--to or --pending is required"),
        (["daily", "--lake", "/tmp", "--date", "2026-11-02", "--pending"], "not allowed with"),
        (["daily", "--lake", "/tmp", "--from", "2026-11-05", "--to", "2026-11-01"], "is after --to"),
        (["daily", "--lake", "/tmp", "--from", "2026-11-05"], "--from and --to go together"),
        (["daily", "--lake", "/no/such/lake", "--date", "2026-11-05"], "does not exist"),
        (["dims", "--landing", "/definitely/not/here"], "does not exist"),
    ],
)
def test_bad_arguments_exit_2_with_one_line_before_spark(args, names):
    started = time.monotonic()
    result = run_spark_submit(args)
    assert result.returncode == 2
    # (the very first call on a new checkout may also say that it sets up .venv)
    error_lines = [line for line in result.stderr.splitlines() if line.strip() and "setting up" not in line]
    assert len(error_lines) == 1, result.stderr
    assert names in error_lines[0]
    assert result.stdout == ""
    assert time.monotonic() - started < 20, "no JVM should have started"


def test_a_failing_run_exits_1_with_one_status_line(tmp_path):
    (tmp_path / "landing").mkdir()
    not_a_directory = tmp_path / "lake"
    not_a_directory.write_text("a file where the lake should be")
    result = run_spark_submit(["ingest", "--landing", str(tmp_path / "landing"), "--lake", str(not_a_directory)])
    assert result.returncode == 1
    status = [line for line in result.stdout.splitlines() if line.startswith('{"job"')]
    assert len(status) == 1
    assert '"status": "failed"' in status[0] and '"error"' in status[0]


def test_sql_error_is_one_line_and_exit_1(tmp_path):
    result = run_spark_submit(["sql", "--lake", str(tmp_path), "SELECT no_such_column FROM no_such_table"])
    assert result.returncode == 1
    status = [line for line in result.stdout.splitlines() if line.startswith('{"job"')]
    assert len(status) == 1 and '"status": "failed"' in status[0]
