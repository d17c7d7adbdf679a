"""Unit tests of jobs/common/config.py, jobs/common/cli.py and the pure helpers of jobs/sql.py (no Spark)."""

from __future__ import annotations

import argparse
import datetime as dt
import decimal
import os

import pytest

from jobs import daily, dims, ingest, sql
from jobs.common import cli
from jobs.common.config import ConfigError, load_conf, parse_override

# --- config ------------------------------------------------------------------------------------


def test_load_conf_local_paths_are_absolute(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    conf = load_conf("local")
    root = tmp_path.resolve()
    for path in (conf.lake, conf.landing, conf.archive):
        assert os.path.isabs(path), path
    # relative paths of local.toml are taken from the working directory
    assert conf.lake == str(root / "lake")
    assert conf.landing == str(root / "landing")
    assert conf.archive == str(root / "lake") + "/archive"  # empty archive: <lake>/archive


def test_load_conf_explicit_path_option_wins(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    conf = load_conf("local", ["paths.lake=elsewhere"], lake="s3a://bucket/lake")
    assert conf.lake == "s3a://bucket/lake"  # a URI is left as it is


def test_set_override_integer(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert parse_override("ingest.trigger_seconds=5") == ("ingest.trigger_seconds", 5)
    conf = load_conf("local", ["ingest.trigger_seconds=5"])
    value = conf.get("ingest.trigger_seconds")
    assert value == 5 and type(value) is int


def test_set_override_string(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert parse_override("spark.conf.x=abc") == ("spark.conf.x", "abc")
    conf = load_conf("local", ["spark.conf.x=abc"])
    assert conf.get("spark.conf.x") == "abc"
    # the rest of the section is untouched
    assert conf.section("spark")["conf"]["spark.sql.session.timeZone"] == "UTC"


def test_set_override_other_toml_values():
    assert parse_override("a.b=true") == ("a.b", True)
    assert parse_override("a.b=0.25") == ("a.b", 0.25)
    assert parse_override('a.b="5"') == ("a.b", "5")
    assert parse_override("a.b=x=y") == ("a.b", "x=y")  # split on the first '=' only
    assert parse_override("paths.lake=/tmp/lake") == ("paths.lake", "/tmp/lake")


def test_set_override_without_equals_is_a_config_error():
    with pytest.raises(ConfigError):
        parse_override("ingest.trigger_seconds")


def test_set_override_through_a_value_is_a_config_error():
    with pytest.raises(ConfigError):
        load_conf("local", ["ingest.trigger_seconds.x=1"])


def test_set_override_of_a_dotted_spark_setting(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    conf = load_conf("local", ["spark.conf.spark.sql.shuffle.partitions=4"])
    assert conf.section("spark")["conf"]["spark.sql.shuffle.partitions"] == 4


def test_unknown_env_is_a_config_error():
    with pytest.raises(ConfigError, match="no-such-env"):
        load_conf("no-such-env")


def test_config_get_unknown_key_is_a_config_error():
    with pytest.raises(ConfigError):
        load_conf("local").get("ingest.no_such_key")


# --- cli -----------------------------------------------------------------------------------------


def test_iso_date():
    assert cli.iso_date("2026-11-20") == dt.date(2026, 11, 20)
    for bad in ("2026-13-01", "2026-02-30", "yesterday", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            cli.iso_date(bad)


def test_positive_int():
    assert cli.positive_int("5") == 5
    for bad in ("0", "-3", "1.5", "abc", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            cli.positive_int(bad)


def test_rate():
    assert cli.rate("0") == 0.0
    assert cli.rate("1") == 1.0
    assert cli.rate("0.05") == 0.05
    for bad in ("1.01", "-0.1", "x", "nan", "inf"):
        with pytest.raises(argparse.ArgumentTypeError):
            cli.rate(bad)


def test_existing_file_and_dir(tmp_path):
    file = tmp_path / "q.sql"
    file.write_text("SELECT 1", encoding="utf-8")
    assert cli.existing_file(str(file)) == str(file)
    assert cli.existing_dir(str(tmp_path)) == str(tmp_path)
    assert cli.existing_dir("s3a://bucket/lake") == "s3a://bucket/lake"
    with pytest.raises(argparse.ArgumentTypeError):
        cli.existing_file(str(tmp_path / "missing.sql"))
    with pytest.raises(argparse.ArgumentTypeError):
        cli.existing_dir(str(tmp_path / "missing"))


def test_one_line_parser_error_exits_2(capsys):
    parser = cli.base_parser("job", "a job")
    parser.add_argument("--days", type=cli.positive_int)
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["--days", "0"])
    assert exit_info.value.code == cli.EXIT_USAGE == 2
    err = capsys.readouterr().err
    assert err.startswith("spark-submit.sh job: error: ")
    assert err.count("\n") == 1  # one line, no usage block


def test_one_line_parser_error_direct_and_fail_usage(capsys):
    parser = cli.base_parser("job", "a job")
    with pytest.raises(SystemExit) as exit_info:
        parser.error("boom")
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit) as exit_info:
        cli.fail_usage(parser, "bad env")
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == "spark-submit.sh job: error: boom\nspark-submit.sh job: error: bad env\n"


def test_base_parser_collects_overrides():
    args = cli.base_parser("job", "a job").parse_args(["--set", "a.b=1", "--set", "c.d=x", "--env", "prod"])
    assert args.overrides == ["a.b=1", "c.d=x"]
    assert args.env == "prod"
    assert args.master is None


# --- sql.split_statements ------------------------------------------------------------------------


def test_split_statements_quotes_and_comments():
    text = (
        "SELECT 'a;b' AS x;\n"
        "-- a comment; with a semicolon\n"
        'SELECT "c;d", `e;f` FROM t -- trailing; comment\n'
        ";\n"
        "SELECT '--not a comment' AS y;  -- last comment\n"
    )
    assert sql.split_statements(text) == [
        "SELECT 'a;b' AS x",
        'SELECT "c;d", `e;f` FROM t',
        "SELECT '--not a comment' AS y",
    ]


def test_split_statements_edge_cases():
    assert sql.split_statements("") == []
    assert sql.split_statements(" ; ;\n-- only a comment") == []
    assert sql.split_statements("SELECT 1") == ["SELECT 1"]
    assert sql.split_statements("SELECT 'it''s; fine'; SELECT 2") == ["SELECT 'it''s; fine'", "SELECT 2"]


def test_split_statements_block_comment():
    assert sql.split_statements("SELECT 1 /* one; two */ AS x; SELECT 2") == ["SELECT 1 /* one; two */ AS x", "SELECT 2"]


def test_split_statements_backslash_escaped_quote():
    assert sql.split_statements(r"SELECT 'it\'s; fine'; SELECT 2") == [r"SELECT 'it\'s; fine'", "SELECT 2"]


# --- sql.render ----------------------------------------------------------------------------------

COLUMNS = ["id", "day", "note"]
ROWS = [(1, dt.date(2026, 11, 20), None), (22, dt.date(2026, 1, 2), "a,b")]


def test_render_table():
    assert sql.render(COLUMNS, ROWS, "table") == (
        "+----+------------+------+\n"
        "| id | day        | note |\n"
        "+----+------------+------+\n"
        "| 1  | 2026-11-20 | NULL |\n"
        "| 22 | 2026-01-02 | a,b  |\n"
        "+----+------------+------+\n"
    )


def test_render_csv():
    assert sql.render(COLUMNS, ROWS, "csv") == 'id,day,note\n1,2026-11-20,\n22,2026-01-02,"a,b"\n'


def test_render_json():
    assert sql.render(COLUMNS, ROWS, "json") == (
        '{"id": 1, "day": "2026-11-20", "note": null}\n'
        '{"id": 22, "day": "2026-01-02", "note": "a,b"}\n'
    )


def test_render_timestamps_decimals_and_empty_results():
    rows = [(dt.datetime(2026, 11, 20, 13, 45, 12), decimal.Decimal("1.50"), [dt.date(2026, 1, 1)])]
    assert sql.render(["ts", "amount", "days"], rows, "json") == (
        '{"ts": "2026-11-20 13:45:12", "amount": 1.5, "days": ["2026-01-01"]}\n'
    )
    assert sql.render(["a"], [], "csv") == "a\n"
    assert sql.render(["a"], [], "json") == ""
    assert sql.render(["a"], [], "table") == "+---+\n| a |\n+---+\n+---+\n"


# --- a lake that is not there: exit 2 from the job's own main(), before Spark ---------------------


def _exit_code_and_error(main, argv, capsys) -> tuple[int, str]:
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(argv)  # no spark given: reaching Spark would start a session, and fail this test's time
    return exit_info.value.code, capsys.readouterr().err


def _table_dir(lake, table):
    log = lake / table / "_delta_log"
    log.mkdir(parents=True)
    (log / "00000000000000000000.json").write_text("{}\n", encoding="utf-8")


@pytest.mark.parametrize("job_main, job_args", [(daily.main, ["--pending"]), (sql.main, ["SELECT 1"])])
def test_a_missing_lake_exits_2_before_spark_from_main(job_main, job_args, capsys, monkeypatch, tmp_path):
    missing = tmp_path / "missing"
    code, err = _exit_code_and_error(job_main, ["--lake", str(missing), *job_args], capsys)
    assert code == 2 and err.count("\n") == 1 and f"lake '{missing}' does not exist" in err

    monkeypatch.chdir(tmp_path)  # the environment's default lake: ./lake, not there either
    code, err = _exit_code_and_error(job_main, job_args, capsys)
    assert code == 2 and err.count("\n") == 1 and f"lake '{tmp_path.resolve() / 'lake'}' does not exist" in err

    (tmp_path / "lake").mkdir()  # a directory, but no Delta table in it
    code, err = _exit_code_and_error(job_main, job_args, capsys)
    assert code == 2 and err.count("\n") == 1
    assert ("has no fact_content_engagements table" if job_main is daily.main else "holds no Delta table") in err


@pytest.mark.parametrize("job_main", [ingest.main, dims.main])
def test_an_unusable_micro_batch_bound_exits_2_before_spark_from_main(job_main, capsys, tmp_path):
    (tmp_path / "landing").mkdir()
    argv = ["--landing", str(tmp_path / "landing"), "--lake", str(tmp_path / "lake"),
            "--set", "ingest.max_bytes_per_trigger=0"]
    code, err = _exit_code_and_error(job_main, argv + (["--once"] if job_main is ingest.main else []), capsys)
    assert code == 2 and err.count("\n") == 1 and "ingest.max_bytes_per_trigger must be above 0" in err, err
    assert not (tmp_path / "lake").exists()


def test_the_lake_rules_per_job(tmp_path):
    lake = tmp_path / "lake"
    _table_dir(lake, "dim_users")
    assert cli.lake_problem(str(lake)) is None  # sql: any Delta table makes a lake
    assert "has no fact_content_engagements" in cli.lake_problem(str(lake), "fact_content_engagements")
    (lake / "fact_content_engagements" / "_delta_log").mkdir(parents=True)  # an empty log is no table
    assert "has no fact_content_engagements" in cli.lake_problem(str(lake), "fact_content_engagements")
    _table_dir(tmp_path / "other", "fact_content_engagements")
    assert cli.lake_problem(str(tmp_path / "other"), "fact_content_engagements") is None
    assert cli.lake_problem("s3a://bucket/lake", "fact_content_engagements") is None  # left to Spark
    assert daily.build_parser().parse_args(["--lake", "s3a://bucket/lake", "--date", "2026-11-20"]).lake
