"""The orchestrator's schedule (orchestration/shortvideo_dag.py) under Apache Airflow itself.

Airflow's own loader (DagBag) finds the DAG without import errors, with the chain's tasks in order
and retries set; `dag.test()` runs the whole chain once for a date, each job a spark-submit to a
standalone cluster (tests/e2e/cluster_fixture.py), on a temporary lake: every task succeeds, the
master lists each job's application and its executors ran on both workers, the lake holds that
day's facts with the requested user erased, and it equals table by table the lake the same jobs
write in local mode (in this process) from the same files. A job refusing its arguments (exit 2)
fails its task at once, without retries.

Airflow runs in a child process (tests/e2e/airflow_child.py) with its home, sqlite database and
configuration in a temporary directory; its output is shown when an assertion fails.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from chispa import assert_approx_df_equality
from deltalake import DeltaTable

from jobs import archive, daily, dims, gdpr, generate, ingest, maintain
from jobs.common.lake import existing_tables
from tests.e2e.conftest import CLASS_ARCHIVE, PROJECT_ROOT, child_env, run_job_in_process
from tests.e2e.expected_daily import expected_daily, read_feed, unique_events, utc_day
from tests.small_data import ONE_PARTITION

pytestmark = [pytest.mark.e2e, pytest.mark.airflow]

DAG_FOLDER = PROJECT_ROOT / "orchestration"
CHILD = Path(__file__).with_name("airflow_child.py")
CHAIN = ["ingest", "dims", "daily", "daily_pending", "archive", "gdpr_requests_waiting", "gdpr", "maintain"]
SPARK_JOBS = set(CHAIN) - {"gdpr_requests_waiting"}
TASK_JOB = {"daily_pending": "daily"}  # the task runs that job
COMPARED = ("fact", "dimension", "history", "changelog", "quarantine")  # all but the run logs (ops)
RUN_TIMES = ("ingested_at",)
DOUBLE_PRECISION = 1e-9
RUN_TIMEOUT_SECONDS = 1800  # seven Spark applications one after another
QUICK_TIMEOUT_SECONDS = 180  # no Spark: Airflow's start and the jobs' argument checks
SMALL_SPARK = " ".join(f"--set spark.conf.{key}={value}"
                       for key, value in {**ONE_PARTITION, "spark.driver.memory": "1g"}.items())
# maintain's upkeep of every table takes minutes on a cold JVM (tests/e2e/test_maintain.py covers it):
# here it runs the due purge only, which is what the chain's gdpr hands it.
PURGE_ONLY = " ".join(f"--set maintain.defaults.{step}=false" for step in ("compact", "checkpoint", "vacuum"))
# The erasure's physical purge due at once: maintain runs it (on the cluster, in the chain test).
PURGE_NOW = "--set gdpr.purge_delay_hours=0"
JOB_OPTIONS = f"{SMALL_SPARK} {PURGE_ONLY} {PURGE_NOW}"


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory) -> dict[str, str]:
    """Environment of an Airflow whose home, sqlite database and logs are temporary."""
    home = tmp_path_factory.mktemp("airflow-home")
    env = {
        **child_env(),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAG_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
    }
    migrated = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, cwd=home,
                              capture_output=True, text=True, timeout=QUICK_TIMEOUT_SECONDS)
    assert migrated.returncode == 0, output_of(migrated)
    return env


def output_of(process: subprocess.CompletedProcess) -> str:
    return (f"exit {process.returncode}\n--- stdout ---\n{process.stdout[-20000:]}\n"
            f"--- stderr ---\n{process.stderr[-20000:]}")


def airflow_child(env: dict[str, str], timeout: int, *arguments: str) -> tuple[dict, str]:
    """Run airflow_child.py; its RESULT line, and its output (also in AIRFLOW_HOME/child-N.log while it
    runs) for assertion messages. On timeout its process group (the jobs' JVMs too) is killed."""
    home = Path(env["AIRFLOW_HOME"])
    log_path = home / f"child-{len(list(home.glob('child-*.log')))}.log"
    with log_path.open("w+", encoding="utf-8") as log:
        child = subprocess.Popen([sys.executable, str(CHILD), *arguments], env=env, cwd=home, text=True,
                                 stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            code = child.wait()
        log.seek(0)
        output = log.read()
    message = f"exit {code} after at most {timeout} s; output:\n{output[-30000:]}"
    results = [line for line in output.splitlines() if line.startswith("RESULT ")]
    assert code == 0 and results, message
    return json.loads(results[-1].removeprefix("RESULT ")), message


def test_airflow_loads_the_dag_with_the_chain_in_order(airflow_env):
    loaded, output = airflow_child(airflow_env, QUICK_TIMEOUT_SECONDS, "structure", str(DAG_FOLDER))

    assert loaded["import_errors"] == {}, output
    assert loaded["dag_ids"] == ["shortvideo_daily"], output
    tasks = loaded["tasks"]
    assert set(tasks) == set(CHAIN), output
    for before, after in zip(CHAIN, CHAIN[1:]):
        assert tasks[before]["downstream"] == [after], (before, tasks[before])
        assert tasks[after]["upstream"] == [before], (after, tasks[after])
    assert tasks["ingest"]["upstream"] == [] and tasks["maintain"]["downstream"] == []
    for task_id in SPARK_JOBS:
        assert tasks[task_id]["operator"] == "SparkJobOperator", tasks[task_id]
        assert tasks[task_id]["retries"] >= 1 and tasks[task_id]["retry_delay_seconds"] > 0, tasks[task_id]
    assert tasks["gdpr_requests_waiting"]["operator"] == "ShortCircuitOperator"
    assert tasks["maintain"]["trigger_rule"] == "none_failed"  # runs when gdpr was skipped
    assert loaded["max_active_runs"] == 1 and loaded["catchup"] is False
    assert {"project_dir", "landing", "lake", "gdpr_requests"} <= set(loaded["params"])


def test_a_job_refusing_its_arguments_fails_without_retries(airflow_env, tmp_path):
    ran, output = airflow_child(airflow_env, QUICK_TIMEOUT_SECONDS, "run", str(DAG_FOLDER), "2026-12-01",
                                json.dumps({"spark_env": "no-such-environment", "lake": str(tmp_path)}))

    assert ran["tasks"]["ingest"] == {"state": "failed", "try_number": 1}, output
    assert "no configuration 'no-such-environment'" in output
    assert {ran["tasks"][t]["state"] for t in CHAIN[1:]} == {"upstream_failed"}, output
    assert ran["state"] == "failed", output


@pytest.mark.parametrize("content", [None, "# no request today\n\n"], ids=["missing", "no-id"])
def test_gdpr_is_skipped_without_a_requested_id_and_maintain_still_runs(airflow_env, tmp_path, content):
    requests = tmp_path / "requests.txt"
    if content is not None:
        requests.write_text(content, encoding="utf-8")
    ran, output = airflow_child(airflow_env, QUICK_TIMEOUT_SECONDS, "run", str(DAG_FOLDER), "2026-12-01",
                                json.dumps({"gdpr_requests": str(requests)}),
                                f"^({'|'.join(SPARK_JOBS - {'gdpr'})})$")  # these are marked success

    states = {t: s["state"] for t, s in ran["tasks"].items()}
    assert states["gdpr_requests_waiting"] == "success" and states["gdpr"] == "skipped", output
    assert states["maintain"] == "success" and ran["state"] == "success", output


def table_rows(lake: Path, table: str) -> list[dict]:
    return DeltaTable(str(lake / table)).to_pyarrow_table().to_pylist()


def test_dag_test_runs_the_chain_for_a_date_on_the_cluster(airflow_env, spark_cluster, spark, tmp_path, capsys):
    """The chain as the orchestrator runs it, each job a spark-submit to the standalone cluster; the
    lake it writes equals, table by table, the lake local mode writes from the same files."""
    day = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=2)
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    assert generate.main(["--landing", str(landing), "--days", "1", "--events-per-day", "300",
                          "--users", "60", "--seed", "16", "--start-date", day.isoformat(),
                          "--bad-rate", "0", "--late-rate", "0"]) == 0
    capsys.readouterr()
    expected = expected_daily(landing, [day])
    events = [e for e in unique_events(read_feed(landing, "engagements"))
              if utc_day(e["event_timestamp"]) == day]
    creators = {video.creator for video in expected.catalog.values()}
    erased = next(e["user_id"] for e in events if e["user_id"] not in creators)
    requests = tmp_path / "gdpr" / f"{day.isoformat()}.txt"
    requests.parent.mkdir()
    requests.write_text(f"# erasure requests of {day}\n{erased}\n", encoding="utf-8")

    ran, output = airflow_child(airflow_env, RUN_TIMEOUT_SECONDS, "run", str(DAG_FOLDER), day.isoformat(),
                                json.dumps({"landing": str(landing), "lake": str(lake),
                                            "master": spark_cluster.master_url,
                                            "job_options": JOB_OPTIONS,
                                            "gdpr_requests": str(requests.parent / "{ds}.txt")}))

    assert {t: s["state"] for t, s in ran["tasks"].items()} == dict.fromkeys(CHAIN, "success"), output
    assert ran["state"] == "success", output
    ran_on_cluster(spark_cluster, output)
    performance = [r for r in table_rows(lake, "fact_content_performance") if r["event_date"] == day]
    assert len(performance) == len(expected.performance) > 0, output
    assert sum(r["total_views"] for r in performance) == sum(r["total_views"] for r in expected.performance)
    assert [r["event_date"] for r in table_rows(lake, "ops_daily_runs")] == [day]
    stored = {r["event_id"] for r in table_rows(lake, "fact_content_engagements")}
    assert stored == {e["event_id"] for e in events if e["user_id"] != erased}
    [request] = table_rows(lake, "ops_gdpr_requests")
    assert request["purged_at"] is not None, output  # maintain's purge ran on the cluster

    local_lake = tmp_path / "local-lake"
    for job, arguments in [(ingest, ["--landing", str(landing), "--once"]), (dims, ["--landing", str(landing)]),
                           (daily, ["--date", day.isoformat()]), (daily, ["--pending"]), (archive, []),
                           (gdpr, ["--requests", str(requests)]), (maintain, [])]:
        options = [*arguments, "--lake", str(local_lake), *shlex.split(JOB_OPTIONS)]
        code, report = run_job_in_process(job.main, options, spark, capsys)
        assert code == 0, report
    assert_same_lake(spark, lake, local_lake)


def ran_on_cluster(cluster, output: str) -> None:
    """The master lists one finished application per Spark task, and executors of each ran on the
    workers (their work directories hold the application's executor folders)."""
    applications = cluster.status()["completedapps"]
    names = sorted(app["name"] for app in applications)
    assert names == sorted(f"shortvideo-{TASK_JOB.get(t, t)}" for t in SPARK_JOBS), (names, output)
    workers_used = set()
    for application in applications:
        executors = list(cluster.workdir.glob(f"worker-*/{application['id']}/*"))
        assert executors, (application, cluster.log_tail())
        workers_used |= {executor.parent.parent.name for executor in executors}
        for executor in executors:  # the tests' executor options (conftest's CHILD_JVM_ENV) came whole
            command = (executor / "stderr").read_text(errors="replace").partition("\n")[0]
            assert f'"-XX:SharedArchiveFile={CLASS_ARCHIVE}"' in command, command
    assert len(workers_used) == cluster.workers, workers_used


def assert_same_lake(spark, lake: Path, local_lake: Path) -> None:
    """Every table but the run logs holds the same rows in both lakes (ingested_at: the time of the run)."""
    def tables(root: Path) -> dict[str, Path]:
        found = {spec.name: root / spec.name for spec in existing_tables(spark, str(root)) if spec.kind in COMPARED}
        found.update({f"archive/{spec.name}": root / "archive" / spec.name
                      for spec in existing_tables(spark, str(root / "archive")) if spec.kind in COMPARED})
        return found

    on_cluster, in_local_mode = tables(lake), tables(local_lake)
    assert set(on_cluster) == set(in_local_mode)
    assert {"fact_content_engagements", "fact_content_performance", "dim_users", "dim_users_history"} <= set(
        on_cluster)
    for label, directory in on_cluster.items():
        read = [spark.read.format("delta").load(str(d)).drop(*RUN_TIMES) for d in (directory, in_local_mode[label])]
        # Averages are sums of doubles, added in another order over the cluster's two executors.
        assert_approx_df_equality(*read, DOUBLE_PRECISION, ignore_row_order=True, ignore_nullable=True)
