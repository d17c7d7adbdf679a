"""Spark settings of every Spark the tests start (their shared session, and the jobs they run as
processes): on a test's tiny data, compiling each query to Java code (Janino) and re-planning at
each shuffle (adaptive query execution) cost more time than they save. Building test_maintain's
lake (ingest, dims, daily, archive, gdpr and maintain in one new session, 2 cores, nothing else
running) took 212 s with these settings and 291, 299 and 332 s without.

Spark gives the same rows either way (whole-stage code is an optimisation of the same operators;
the plan without adaptive execution is the one it starts from): the jobs' own configuration
(conf/) is left as it is, and the demo in a clean clone (tests/e2e/test_new_user.py) and the
benchmarks run with it. Spark's interpreted expressions (spark.sql.codegen.factoryMode=NO_CODEGEN)
are not used: the catalog's listTables() fails under them in Spark 4.2."""

SMALL_DATA_SETTINGS = {
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.adaptive.enabled": "false",
}


def as_jvm_options() -> str:
    """The settings as JVM system properties (SPARK_SUBMIT_OPTS): a SparkConf reads spark.* ones."""
    return " ".join(f"-D{key}={value}" for key, value in SMALL_DATA_SETTINGS.items())
