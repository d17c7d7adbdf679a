"""The tests' Spark standalone cluster: a master and two workers (scripts/spark_cluster.py), each its
own JVM on loopback, started on first use for the whole session, their logs and work directories in
a temporary directory, stopped at the end. A failing test that used it gets the daemons' and the
executors' logs in its report (tests/e2e/conftest.py's hook)."""

from __future__ import annotations

import pytest

from scripts.spark_cluster import SparkCluster

CLUSTER_LOG_SECTION = "spark cluster logs (tails)"


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory) -> SparkCluster:
    cluster = SparkCluster(tmp_path_factory.mktemp("spark-cluster"))
    try:
        cluster.start()  # returns once the master names both workers alive
    except (RuntimeError, TimeoutError) as error:
        pytest.fail(f"the Spark cluster did not start: {error}")
    yield cluster
    cluster.stop()

