"""Helpers for end-to-end tests: run the real jobs on a temporary lake."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from jobs.common.spark import class_archive, class_archive_options
from tests.e2e.cluster_fixture import CLUSTER_LOG_SECTION, spark_cluster  # noqa: F401 (a fixture)
from tests.e2e.kafka_fixture import BROKER_LOG_SECTION, kafka_broker  # noqa: F401 (a fixture)
from tests.small_data import as_jvm_options

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SPARK_SUBMIT = PROJECT_ROOT / "spark-submit.sh"
# The environment of every job a test starts as a process. Such a JVM lives a minute or two on tiny
# data, and on two cores the C2 compiler's threads take the CPU its work needs: the client compiler
# alone (-XX:TieredStopAtLevel=1) runs a cold `daily` about a quarter faster. Tests only: the jobs'
# own configuration (conf/) is left as it is; the tests' shared session keeps both compilers. The
# tests' small-data Spark settings (tests/small_data.py) go in as system properties. On a cluster the
# executors are such short-lived JVMs too: with the client compiler alone, ingest and dims on the
# tests' standalone cluster took 46 and 84 s instead of 75 and 117 (tiny lake, nothing else running).
# The executors on that cluster (this machine, the drivers' class path) also map the drivers' class
# archive: `daily --pending` on a tiny lake took 22 and 23 s of CPU with it against 26 and 27 without.
CLASS_ARCHIVE = class_archive()
EXECUTOR_JVM_OPTIONS = f"-XX:TieredStopAtLevel=1 {class_archive_options(CLASS_ARCHIVE)}"
# A driver's temporary folder holds a copy of the resolved jars (~97 MB). Spark deletes it in a
# shutdown hook, which a crash test's SIGKILL skips: nine such folders were left in /tmp by every
# run of the suite. The children's JVMs take their temporary folder under one of this test
# process's, removed at the end of the session.
CHILD_SCRATCH = Path(tempfile.gettempdir()) / f"shortvideo-test-children-{os.getpid()}"
CHILD_JVM_ENV = {"SPARK_LOCAL_IP": "127.0.0.1",
                 "SPARK_SUBMIT_OPTS": (f"-XX:TieredStopAtLevel=1 {as_jvm_options()} "
                                       f"-Djava.io.tmpdir={CHILD_SCRATCH} "
                                       f'-Dspark.executor.extraJavaOptions="{EXECUTOR_JVM_OPTIONS}"')}


def child_env(**more: str) -> dict[str, str]:
    """This process's environment with CHILD_JVM_ENV and `more` on top."""
    CHILD_SCRATCH.mkdir(exist_ok=True)  # the JVM's temporary folder must exist (native libraries go there)
    return {**os.environ, **CHILD_JVM_ENV, **more}


@pytest.fixture(scope="session", autouse=True)
def children_scratch():
    """CHILD_SCRATCH, with what killed children left in it, removed after the session."""
    yield CHILD_SCRATCH
    shutil.rmtree(CHILD_SCRATCH, ignore_errors=True)


def last_json_line(stdout: str) -> dict:
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    assert lines, f"no JSON status line in output:\n{stdout[-2000:]}"
    return json.loads(lines[-1])


def run_job_in_process(job_main, argv: list[str], spark, capsys) -> tuple[int, dict]:
    """Run a job's main() in this test process, on the shared SparkSession."""
    capsys.readouterr()
    code = job_main(argv, spark=spark)
    return code, last_json_line(capsys.readouterr().out)


def run_spark_submit(args: list[str], env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    """The entry point users call, in its own process group (so a crash can take the JVM too)."""
    full_env = child_env(**(env or {}))
    return subprocess.run(
        [str(SPARK_SUBMIT), *args],
        cwd=PROJECT_ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        start_new_session=True,
    )


# The session's servers (fixture name -> report section): each has log_tail().
SERVER_LOG_SECTIONS = {"kafka_broker": BROKER_LOG_SECTION, "spark_cluster": CLUSTER_LOG_SECTION}


@pytest.fixture
def lake_dirs(tmp_path: Path) -> tuple[Path, Path]:
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    landing.mkdir()
    return landing, lake


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test that used a server of the session (broker, cluster) gets its logs in the report."""
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    for fixture, section in SERVER_LOG_SECTIONS.items():
        server = getattr(item, "funcargs", {}).get(fixture)
        if server is not None:
            report.sections.append((section, server.log_tail()))
