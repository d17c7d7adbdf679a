"""Spark settings of every Spark the tests start (their shared session, and the jobs they run as
processes): on a test's tiny data, compiling each query's expressions to Java code (Janino) and
re-planning at each shuffle (adaptive query execution) cost more time than they save.

- Whole-stage code generation and adaptive execution off: building test_maintain's lake (ingest,
  dims, daily, archive, gdpr and maintain in one new session, 2 cores, nothing else running) took
  212 s with them off and 291, 299 and 332 s with them on.
- Interpreted expressions (`spark.sql.codegen.factoryMode=NO_CODEGEN`: projections, predicates and
  orderings evaluated without compiling a class for each): four e2e modules (test_tiers_e2e,
  test_daily_e2e, test_dims_e2e, test_dims_daily_e2e; 8 tests) in one test process took 264 s and
  368 s of the machine's CPU against 316 s and 448 s with Spark's default (compiled, interpreted
  only where compiling fails), one run each, one after the other (2026-12-05). Under it the
  catalog's listTables() fails in Spark 4.2 (it decodes its rows into a Scala class, which the
  interpreted path cannot build): the tests list their temporary views with SHOW VIEWS instead, and
  no job calls it.

Spark gives the same rows either way (whole-stage code and compiled expressions are optimisations of
the same operators, which Spark's own tests run both ways; the plan without adaptive execution is
the one it starts from): the jobs' own configuration (conf/) is left as it is, and the demo in a
clean clone (tests/e2e/test_new_user.py) and the benchmarks run with it."""

SMALL_DATA_SETTINGS = {
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
}


def as_jvm_options() -> str:
    """The settings as JVM system properties (SPARK_SUBMIT_OPTS): a SparkConf reads spark.* ones."""
    return " ".join(f"-D{key}={value}" for key, value in SMALL_DATA_SETTINGS.items())


# One partition a shuffle and for Delta's state of a table, for the tests' shared session and the
# DAG test's jobs (tests/e2e/test_airflow_dag.py; other child jobs keep conf's, since the launcher's
# --conf beats a system property): four e2e modules in one process took 236 s and 309 s of CPU with
# 1, 255 s and 353 s with 2 (2026-12-05).
ONE_PARTITION = {
    "spark.sql.shuffle.partitions": "1",
    "spark.databricks.delta.snapshotPartitions": "1",
}
