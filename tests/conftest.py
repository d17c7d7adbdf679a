"""One SparkSession (with Delta) for the whole test run, configured like the local environment."""

from __future__ import annotations

import pytest
from pyspark.sql import SparkSession

from jobs.common.config import load_conf
from jobs.common.spark import remember_resolved_jars, spark_settings


@pytest.fixture(scope="session")
def conf():
    return load_conf("local")


@pytest.fixture(scope="session")
def spark(conf) -> SparkSession:
    settings = spark_settings(conf, master="local[2]")
    settings.update({
        "spark.sql.shuffle.partitions": "2",
        "spark.default.parallelism": "2",
        "spark.ui.enabled": "false",
        "spark.driver.memory": "2g",
        "spark.databricks.delta.snapshotPartitions": "2",
    })
    builder = SparkSession.builder.appName("shortvideo-tests")
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    remember_resolved_jars(session, list(conf.get("spark.packages")))
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module", autouse=True)
def fresh_catalog_per_module():
    """Each module starts from a session without the temporary views and variables an earlier module
    registered (jobs register tables and saved views by name in the shared session, so a view of an
    earlier module's lake could otherwise answer a later module's query)."""
    yield
    session = SparkSession.getActiveSession()
    if session is None:
        return
    for table in session.catalog.listTables():
        if table.isTemporary:
            session.catalog.dropTempView(table.name)
    session.sql("DROP TEMPORARY VARIABLE IF EXISTS k_anonymity")
