"""One SparkSession (with Delta) for the whole test run, configured like the local environment."""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from jobs.common.config import load_conf
from jobs.common.views import K_VARIABLE, RULE_VARIABLES
from jobs.common.spark import remember_resolved_jars, spark_settings
from jobs.launch import ensure_class_archive
from tests.clock import new_day
from tests.small_data import ONE_PARTITION, SMALL_DATA_SETTINGS


TEST_SESSION_GC = "-XX:+UseParallelGC"

# The modules that take longest, longest first (the durations .ci/run prints). `-n 2 --dist loadfile`
# hands whole modules to the two processes in collection order, each taking the next as it gets
# free: a long module collected last kept one process busy for minutes while the other sat idle.
LONGEST_MODULES_FIRST = (
    "tests/e2e/test_airflow_dag.py",
    "tests/e2e/test_maintain.py",
    "tests/e2e/test_new_user.py",
    "tests/e2e/test_gdpr_e2e.py",
    "tests/e2e/test_crash_recovery.py",
    "tests/e2e/test_dims_crash.py",
    "tests/e2e/test_daily_crash.py",
)


def pytest_collection_modifyitems(config, items) -> None:
    """Put the longest modules first (a stable sort: the rest keep their order)."""
    rank = {module: place for place, module in enumerate(LONGEST_MODULES_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


@pytest.fixture(scope="session")
def conf():
    return load_conf("local")


@contextlib.contextmanager
def one_start_at_a_time():
    """An exclusive lock held while a test process starts its session (Spark's package resolver
    shares one cache between processes and is not safe to run twice at once)."""
    lock_path = Path(tempfile.gettempdir()) / "shortvideo-tests-spark-start.lock"
    with open(lock_path, "a", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def spark(conf) -> SparkSession:
    # Under the lock: a later process's settings then name the jars the first one resolved.
    with one_start_at_a_time():
        # The first process makes the class archive that this session and every job a test starts
        # as a process then map (jobs/launch.py).
        settings = ensure_class_archive(conf, spark_settings(conf, master="local[2]"))
        settings.update({
            "spark.default.parallelism": "1",
            "spark.ui.enabled": "false",
            "spark.driver.memory": "4g",
            # The throughput collector: the same four e2e modules in one process took 466 s of CPU
            # with it and 501 s with the JVM's default G1 (2026-12-05, one run each; docs/testing.md).
            "spark.driver.extraJavaOptions": f"{settings['spark.driver.extraJavaOptions']} {TEST_SESSION_GC}",
            # Spark's default room for compiled queries: a session that runs a process's share of
            # the suite ran out of memory late in the run with conf's 5000 (2 GiB) and 1000 (3 GiB).
            "spark.sql.codegen.cache.maxEntries": "100",
            **ONE_PARTITION,
            **SMALL_DATA_SETTINGS,
        })
        builder = SparkSession.builder.appName("shortvideo-tests")
        for key, value in settings.items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
        remember_resolved_jars(session, list(conf.get("spark.packages")))
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session", autouse=True)
def packages_resolved_before_any_test(request):
    """Under pytest-xdist, each worker starts its session before its first test: the jobs a test
    starts as processes then find the resolved jars (a second resolver running at the same time as
    the first could break the shared cache)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        request.getfixturevalue("spark")


@pytest.fixture(scope="module", autouse=True)
def one_today_per_module():
    """Each module's relative times stand on one midnight (tests/clock.py)."""
    new_day()
    yield


@pytest.fixture(scope="module", autouse=True)
def fresh_catalog_per_module():
    """Each module starts from a session without the temporary views and variables an earlier module
    registered (jobs register tables and saved views by name in the shared session, so a view of an
    earlier module's lake could otherwise answer a later module's query)."""
    yield
    session = SparkSession.getActiveSession()
    if session is None:
        return
    for view in session.sql("SHOW VIEWS").where("isTemporary").collect():
        session.catalog.dropTempView(view["viewName"])
    for variable in (K_VARIABLE, *(name for name, _, _ in RULE_VARIABLES)):
        session.sql(f"DROP TEMPORARY VARIABLE IF EXISTS {variable}")
