"""The Spark session of a job, configured from conf/ (spark-submit.sh passes the same settings)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

from pyspark.find_spark_home import _find_spark_home
from pyspark.sql import SparkSession

from jobs.common.config import LOG4J_CONF, Conf

# Dates in the lake are UTC calendar dates of the events (events.md): not a setting. The JVMs' own
# default zone (driver and executors) is pinned to it too: no result depends on the host's TZ, but
# Delta 4.4 re-derives a small table's whole state after every commit in a JVM whose zone is not UTC
# (`allFilesInCrc` verification, forced on outside UTC): 20 appends to a tiny table ran 46 Spark jobs
# and 29-33 s in a Pacific/Chatham JVM, 26 jobs and 12-14 s in a UTC one (docs/testing.md).
SESSION_TIME_ZONE = "UTC"
JVM_TIME_ZONE_OPTION = f"-Duser.timezone={SESSION_TIME_ZONE}"
# Set by jobs/launch.py: spark-submit already received every setting, the session only joins.
LAUNCHED_FLAG = "SHORTVIDEO_LAUNCHED"
# The jars Spark's resolver found for a set of packages, one manifest per set: a session started
# from the manifest skips the repository resolution (seconds at every start).
CACHE = Path(os.environ.get("SHORTVIDEO_CACHE", Path.home() / ".cache" / "shortvideo"))
JAR_CACHE = CACHE / "jars"
# Class data sharing (the JDK's AppCDS): a JVM start loads and verifies thousands of Spark's classes
# from its jars; mapped from an archive made once per JDK and Spark installation, the same start
# took 5.7 s to a first query instead of 8.3-8.7 s (docs/benchmarks.md). jobs/launch.py makes it.
CLASS_ARCHIVES = CACHE / "class-archives"


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


def class_archive() -> Path:
    """Where the class archive of this JDK and this Spark installation is (or would be). The JVM
    checks an archive against its own build and class path and ignores one that does not match."""
    java_home = os.environ.get("JAVA_HOME")
    java = Path(java_home) / "bin" / "java" if java_home else Path(shutil.which("java") or "java")
    spark_jars = Path(_find_spark_home()) / "jars"
    identity = [str(java.resolve()), str(spark_jars.resolve()), *sorted(jar.name for jar in spark_jars.glob("*.jar"))]
    return CLASS_ARCHIVES / f"{hashlib.sha256(chr(10).join(identity).encode()).hexdigest()[:16]}.jsa"


def class_archive_options(archive: Path) -> str:
    """The driver JVM's options to map the archive. The JVM's own warnings (an archive that does
    not match, say) go to stderr: stdout ends with the job's JSON line."""
    return f"-XX:SharedArchiveFile={archive} -Xshare:auto -Xlog:disable -Xlog:all=warning:stderr"


def spark_settings(conf: Conf, master: str | None = None, job: str | None = None) -> dict[str, str]:
    """Everything a session needs: master, Delta packages (or the jars they resolved to before), and
    the environment's spark.conf; a job's own driver heap (`<job>.driver_memory`) over it."""
    settings = {str(k): str(v) for k, v in conf.section("spark").get("conf", {}).items()}
    driver_memory = conf.section(job).get("driver_memory") if job else None
    if driver_memory:
        settings["spark.driver.memory"] = str(driver_memory)
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
    # Spark's default JVM options, which it puts before the extra ones a user or a test may set.
    for role in ("driver", "executor"):
        key = f"spark.{role}.defaultJavaOptions"
        settings[key] = " ".join(filter(None, [settings.get(key), JVM_TIME_ZONE_OPTION]))
    settings.setdefault("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{LOG4J_CONF}")
    archive = class_archive() if conf.get("spark.class_archive") else None
    if archive is not None and archive.is_file():
        settings["spark.driver.extraJavaOptions"] += " " + class_archive_options(archive)
    return settings


def start_spark(job: str, conf: Conf, master: str | None = None) -> SparkSession:
    """Join the session spark-submit prepared, or build one (tests, `python -m jobs.X`)."""
    builder = SparkSession.builder.appName(f"shortvideo-{job}")
    if not os.environ.get(LAUNCHED_FLAG):
        for key, value in spark_settings(conf, master, job).items():
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
