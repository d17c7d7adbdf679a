"""The command line contract (cli.md): bad input ends with one line and exit code 2, before Spark."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from jobs import sql
from jobs.common.lake import ensure_table
from jobs.common.spark import class_archive
from schemas import TABLES
from tests.e2e.conftest import CHILD_JVM_ENV, last_json_line, run_spark_submit
from tests.timezones import process_time_zone

pytestmark = pytest.mark.e2e


def lake_with_a_table(root: Path, table: str) -> Path:
    """A directory the launcher takes for a lake holding `table` (a non-empty _delta_log), no JVM."""
    log = root / "lake" / table / "_delta_log"
    log.mkdir(parents=True)
    (log / "00000000000000000000.json").write_text("{}\n", encoding="utf-8")
    return root / "lake"


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
        (["daily", "--set", "paths.lake=/no/such/lake", "--pending"], "lake '/no/such/lake' does not exist"),
        (["daily", "--lake", "{lake_without_engagements}", "--pending"], "has no fact_content_engagements table"),
        (["sql", "--lake", "/no/such/lake", "SELECT 1"], "lake '/no/such/lake' does not exist"),
        (["sql", "--set", "paths.lake=/no/such/lake", "SELECT 1"], "lake '/no/such/lake' does not exist"),
        (["sql", "--lake", "{empty_dir}", "SELECT 1"], "holds no Delta table"),
        (["dims", "--landing", "/definitely/not/here"], "does not exist"),
    ],
)
def test_bad_arguments_exit_2_with_one_line_before_spark(args, names, tmp_path):
    places = {"{empty_dir}": tmp_path, "{lake_without_engagements}": lake_with_a_table(tmp_path, "dim_users")}
    args = [str(places.get(arg, arg)) for arg in args]
    started = time.monotonic()
    result = run_spark_submit(args)
    assert result.returncode == 2, result.stdout + result.stderr
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
    lake = lake_with_a_table(tmp_path, "notes")  # a lake, as far as the launcher can tell
    result = run_spark_submit(["sql", "--lake", str(lake), "SELECT no_such_column FROM no_such_table"])
    assert result.returncode == 1
    status = [line for line in result.stdout.splitlines() if line.startswith('{"job"')]
    assert len(status) == 1 and '"status": "failed"' in status[0]


@pytest.fixture(scope="module")
def small_lake(spark, tmp_path_factory) -> str:
    lake = str(tmp_path_factory.mktemp("small") / "lake")
    ensure_table(spark, lake, TABLES["dim_engagement_type"])
    return lake


def test_a_launched_job_maps_the_class_archive_and_its_jvm_runs_in_utc(small_lake):
    """The tests' session made the archive (tests/conftest.py); with -Xshare:on a JVM that cannot
    map it (a class path or a JDK that does not match) stops at once instead of going on without.
    The driver JVM's own zone is UTC on a host in another zone (jobs/common/spark.py)."""
    assert class_archive().is_file()
    strict = {"SPARK_SUBMIT_OPTS": f"{CHILD_JVM_ENV['SPARK_SUBMIT_OPTS']} -Xshare:on", "TZ": "Pacific/Chatham"}
    query = "SELECT 1 AS one, reflect('java.lang.System', 'getProperty', 'user.timezone') AS jvm_zone"
    result = run_spark_submit(["sql", "--lake", small_lake, "--format", "json", query], env=strict)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert '{"one": 1, "jvm_zone": "UTC"}' in result.stdout


def test_sql_says_when_it_cut_its_output_at_limit(spark, small_lake, capsys):
    lake = small_lake
    query = "SELECT id FROM range(5) ORDER BY id"

    capsys.readouterr()
    assert sql.main(["--lake", lake, "--format", "csv", "--limit", "2", query], spark=spark) == 0
    cut = capsys.readouterr()
    assert cut.out.splitlines()[:3] == ["id", "0", "1"] and len(cut.out.splitlines()) == 4, cut.out
    assert cut.err == "sql: output cut at 2 rows (--limit)\n"
    status = last_json_line(cut.out)
    assert (status["status"], status["rows"], status["truncated"]) == ("ok", 2, True)

    assert sql.main(["--lake", lake, "--format", "csv", "--limit", "5", query], spark=spark) == 0
    whole = capsys.readouterr()
    assert whole.out.splitlines()[:6] == ["id", "0", "1", "2", "3", "4"], whole.out
    assert whole.err == ""
    assert last_json_line(whole.out)["truncated"] is False and last_json_line(whole.out)["rows"] == 5


def test_sql_prints_timestamps_in_utc_whatever_the_process_time_zone(spark, small_lake, capsys):
    query = "SELECT TIMESTAMP'2026-11-20 23:45:12.5' AS ts, array(TIMESTAMP'2026-11-20 00:00:00') AS list"
    capsys.readouterr()
    with process_time_zone("Pacific/Kiritimati"):  # UTC+14: collect() gives local wall times
        assert sql.main(["--lake", small_lake, "--format", "json", query], spark=spark) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == '{"ts": "2026-11-20 23:45:12.500000", "list": ["2026-11-20 00:00:00"]}', out
