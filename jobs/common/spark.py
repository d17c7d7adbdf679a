"""The Spark session of a job, configured from conf/ (spark-submit.sh passes the same settings)."""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

from pyspark.sql import SparkSession

from jobs.common.config import LOG4J_CONF, Conf

# Dates in the lake are UTC calendar dates of the events (events.md): not a setting. The JVM's own
# default zone (the host's TZ) is left alone: no result depends on it (CI runs tests in another zone).
SESSION_TIME_ZONE = "UTC"
# Set by jobs/launch.py: spark-submit already received every setting, the session only joins.
LAUNCHED_FLAG = "SHORTVIDEO_LAUNCHED"


def spark_settings(conf: Conf, master: str | None = None) -> dict[str, str]:
    """Everything a session needs: master, Delta packages, and the environment's spark.conf."""
    settings = {str(k): str(v) for k, v in conf.section("spark").get("conf", {}).items()}
    settings["spark.master"] = master or conf.get("spark.master")
    settings["spark.jars.packages"] = ",".join(conf.get("spark.packages"))
    settings["spark.sql.session.timeZone"] = SESSION_TIME_ZONE
    settings.setdefault("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{LOG4J_CONF}")
    return settings


def start_spark(job: str, conf: Conf, master: str | None = None) -> SparkSession:
    """Join the session spark-submit prepared, or build one (tests, `python -m jobs.X`)."""
    builder = SparkSession.builder.appName(f"shortvideo-{job}")
    if not os.environ.get(LAUNCHED_FLAG):
        for key, value in spark_settings(conf, master).items():
            builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.conf.set("spark.sql.session.timeZone", SESSION_TIME_ZONE)
    spark.sparkContext.setLogLevel("WARN")
    return spark


@contextlib.contextmanager
def session_settings(spark: SparkSession, settings: dict[str, str]) -> Iterator[None]:
    """Spark settings for the duration of a step, restored after (tests share the session)."""
    before = {key: spark.conf.get(key, None) for key in settings}
    for key, value in settings.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)
