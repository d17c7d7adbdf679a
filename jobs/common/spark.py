"""The Spark session of a job, configured from conf/ (spark-submit.sh passes the same settings)."""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

from pyspark.sql import SparkSession

from jobs.common.config import LOG4J_CONF, Conf

# Dates in the lake are UTC calendar dates of the events (events.md): not a setting. The JVM's own
# default zone (the host's TZ) is left alone: no result depends on it (CI runs tests in another zone).
SESSION_TIME_ZONE = "UTC"
# Set by jobs/launch.py: spark-submit already received every setting, the session only joins.
LAUNCHED_FLAG = "SHORTVIDEO_LAUNCHED"
# The jars Spark's resolver found for a set of packages, one manifest per set: a session started
# from the manifest skips the repository resolution (seconds at every start).
JAR_CACHE = Path(os.environ.get("SHORTVIDEO_CACHE", Path.home() / ".cache" / "shortvideo")) / "jars"


def jar_manifest(packages: list[str]) -> Path:
    digest = hashlib.sha256("\n".join(sorted(packages)).encode()).hexdigest()[:16]
    return JAR_CACHE / f"{digest}.txt"


def resolved_jars(packages: list[str]) -> list[str] | None:
    """The jar files an earlier session resolved these packages to, if every one is still there."""
    manifest = jar_manifest(packages)
    if not packages or not manifest.is_file():
        return None
    jars = manifest.read_text(encoding="utf-8").split()
    present = jars and all(Path(urlparse(jar).path if jar.startswith("file:") else jar).is_file() for jar in jars)
    return jars if present else None


def remember_resolved_jars(spark: SparkSession, packages: list[str]) -> None:
    """After a session that resolved `packages`, keep the jar files it used (spark.jars) for the next."""
    if not packages or resolved_jars(packages) is not None:
        return
    jars = [jar for jar in spark.sparkContext.getConf().get("spark.jars", "").split(",") if jar]
    if not jars:
        return
    manifest = jar_manifest(packages)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    partial = manifest.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text("\n".join(jars) + "\n", encoding="utf-8")
    partial.replace(manifest)  # atomic: a concurrent start reads the old state or the whole list


def spark_settings(conf: Conf, master: str | None = None) -> dict[str, str]:
    """Everything a session needs: master, Delta packages (or the jars they resolved to before), and
    the environment's spark.conf."""
    settings = {str(k): str(v) for k, v in conf.section("spark").get("conf", {}).items()}
    settings["spark.master"] = master or conf.get("spark.master")
    packages = list(conf.get("spark.packages"))
    jars = resolved_jars(packages) if conf.get("spark.reuse_resolved_jars") else None
    if jars:
        settings["spark.jars"] = ",".join(filter(None, [settings.get("spark.jars"), *jars]))
        # As with --packages: the jars are on the Python workers' path too (Delta's jar holds the
        # `delta` package, which a Python UDF's module may import on an executor).
        settings["spark.submit.pyFiles"] = ",".join(filter(None, [settings.get("spark.submit.pyFiles"), *jars]))
    elif packages:
        settings["spark.jars.packages"] = ",".join(packages)
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
    remember_resolved_jars(spark, list(conf.get("spark.packages")))
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
