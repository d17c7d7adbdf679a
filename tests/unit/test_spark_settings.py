"""A session's settings: the packages are resolved once, later starts get the jar files."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from jobs.common import spark as spark_module
from jobs.common.config import load_conf
from jobs.common.spark import class_archive, jar_manifest, remember_resolved_jars, spark_settings
from jobs.launch import forget_old_class_archives


@pytest.fixture
def empty_jar_cache(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setattr(spark_module, "JAR_CACHE", tmp_path / "jars")
    return tmp_path / "jars"


def test_the_first_start_resolves_and_the_next_gets_the_jars_it_used(spark, conf, empty_jar_cache):
    packages = list(conf.get("spark.packages"))
    first = spark_settings(conf)
    assert first["spark.jars.packages"] == ",".join(packages) and "spark.jars" not in first

    remember_resolved_jars(spark, packages)  # the test session resolved these packages itself
    second = spark_settings(conf)
    assert "spark.jars.packages" not in second
    jars = second["spark.jars"].split(",")
    assert jars == jar_manifest(packages).read_text(encoding="utf-8").split()
    names = [Path(jar).name for jar in jars]
    assert "io.delta_delta-spark_4.2_2.13-4.4.0.jar" in names
    assert "org.apache.spark_spark-sql-kafka-0-10_2.13-4.2.0.jar" in names
    assert second["spark.submit.pyFiles"] == second["spark.jars"]  # as --packages puts them on the workers' path


def test_a_jar_gone_from_the_cache_means_resolving_again(conf, empty_jar_cache, tmp_path):
    packages = list(conf.get("spark.packages"))
    kept, gone = tmp_path / "kept.jar", tmp_path / "gone.jar"
    kept.write_bytes(b"")
    empty_jar_cache.mkdir()
    jar_manifest(packages).write_text(f"file:{kept}\n", encoding="utf-8")
    assert spark_settings(conf)["spark.jars"] == f"file:{kept}"

    jar_manifest(packages).write_text(f"file:{kept}\nfile:{gone}\n", encoding="utf-8")
    settings = spark_settings(conf)
    assert "spark.jars" not in settings and settings["spark.jars.packages"] == ",".join(packages)


def test_reuse_can_be_switched_off(empty_jar_cache, tmp_path):
    conf = load_conf("local", ["spark.reuse_resolved_jars=false"])
    packages = list(conf.get("spark.packages"))
    kept = tmp_path / "kept.jar"
    kept.write_bytes(b"")
    empty_jar_cache.mkdir()
    jar_manifest(packages).write_text(f"file:{kept}\n", encoding="utf-8")
    assert "spark.jars" not in spark_settings(conf)


def test_another_set_of_packages_has_its_own_manifest():
    assert jar_manifest(["a:b:1"]) != jar_manifest(["a:b:1", "c:d:2"])
    assert jar_manifest(["a:b:1", "c:d:2"]) == jar_manifest(["c:d:2", "a:b:1"])


def test_a_python_worker_imports_delta_as_with_packages(spark):
    """Jobs' Python UDFs live in modules that import `delta` (jobs/common/landing.py): the workers
    must find it whether the session resolved the packages or got the jars."""
    def delta_version(_):
        import delta  # noqa: F401 (the import is the check)
        return "ok"

    from pyspark.sql import functions as F
    assert spark.range(1).select(F.udf(delta_version, "string")("id")).first()[0] == "ok"


def test_the_jvms_run_in_utc_whatever_the_hosts_zone(spark, conf):
    """Spark's default JVM options pin the driver's and executors' zone, after any the environment
    sets; the test session's driver (the process runs in another zone on CI) has it."""
    own = load_conf("local", ["spark.conf.spark.executor.defaultJavaOptions=-XX:+UseG1GC"])
    assert spark_settings(conf)["spark.driver.defaultJavaOptions"] == "-Duser.timezone=UTC"
    assert spark_settings(own)["spark.executor.defaultJavaOptions"] == "-XX:+UseG1GC -Duser.timezone=UTC"
    assert spark.sparkContext._jvm.java.util.TimeZone.getDefault().getID() == "UTC"


def test_the_test_session_runs_the_throughput_collector(spark):
    """tests/conftest.py gives the shared session's JVM the parallel collector (less CPU than G1 on
    the suite's two cores): the JVM names its collectors by it."""
    beans = spark.sparkContext._jvm.java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()
    assert sorted(bean.getName() for bean in beans) == ["PS MarkSweep", "PS Scavenge"]


def test_the_driver_maps_the_class_archive_once_it_exists(conf, tmp_path, monkeypatch):
    monkeypatch.setattr(spark_module, "CLASS_ARCHIVES", tmp_path / "archives")
    archive = class_archive()
    assert archive.parent == tmp_path / "archives"
    assert "SharedArchiveFile" not in spark_settings(conf)["spark.driver.extraJavaOptions"]  # none made yet

    archive.parent.mkdir()
    archive.write_bytes(b"")
    options = spark_settings(conf)["spark.driver.extraJavaOptions"].split()
    assert f"-XX:SharedArchiveFile={archive}" in options
    assert "-Dlog4j2.configurationFile=" in options[0]  # the environment's own options stay first
    # The JVM's warnings (an archive that does not match) go to stderr: stdout ends with the JSON line.
    assert options[-2:] == ["-Xlog:disable", "-Xlog:all=warning:stderr"]

    switched_off = load_conf("local", ["spark.class_archive=false"])
    assert "SharedArchiveFile" not in spark_settings(switched_off)["spark.driver.extraJavaOptions"]


def test_another_jdk_or_spark_installation_has_its_own_archive(tmp_path, monkeypatch):
    here = class_archive()
    other_java = tmp_path / "jdk" / "bin" / "java"
    other_java.parent.mkdir(parents=True)
    other_java.write_bytes(b"")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))
    assert class_archive() != here


def test_a_job_with_its_own_driver_heap_gets_it_and_the_others_get_the_environments():
    environments = load_conf("local").get("spark.conf")["spark.driver.memory"]
    assert spark_settings(load_conf("local"), job="ingest")["spark.driver.memory"] == "1200m"  # conf's own
    assert spark_settings(load_conf("local"), job="daily")["spark.driver.memory"] == environments  # none set
    assert spark_settings(load_conf("cluster"), job="ingest")["spark.driver.memory"] == load_conf("cluster").get(
        "spark.conf")["spark.driver.memory"]  # "": the environment's
    smaller = load_conf("local", ["ingest.driver_memory=1500m"])
    assert spark_settings(smaller, job="ingest")["spark.driver.memory"] == "1500m"
    assert spark_settings(smaller, job="daily")["spark.driver.memory"] == environments
    assert spark_settings(smaller)["spark.driver.memory"] == environments


def test_only_the_newest_class_archives_are_kept(tmp_path):
    for age, name in enumerate(["newest", "second", "third", "fourth", "fifth"]):
        archive = tmp_path / f"{name}.jsa"
        archive.write_bytes(b"")
        os.utime(archive, (1_800_000_000 - age * 60, 1_800_000_000 - age * 60))
    (tmp_path / "other.txt").write_text("not an archive")
    forget_old_class_archives(tmp_path, keep=3)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["newest.jsa", "other.txt", "second.jsa", "third.jsa"]


def test_the_test_session_evaluates_expressions_without_compiling_them(spark):
    """tests/small_data.py: on tiny data, Janino's compiling of each query's projections and
    predicates costs more than it saves. Spark counts each class it compiles (CodegenMetrics)."""
    compiled = spark.sparkContext._jvm.org.apache.spark.metrics.source.CodegenMetrics.METRIC_COMPILATION_TIME()
    before = compiled.getCount()
    marker = uuid.uuid4().int % 1_000_003  # an expression no earlier query compiled (Spark caches classes)
    rows = spark.range(5).selectExpr(f"id * {marker} + 1 AS value").where(f"value % 2 = {marker % 2}").collect()
    assert sorted(r.value for r in rows) == sorted(i * marker + 1 for i in range(5) if (i * marker + 1) % 2 == marker % 2)
    assert compiled.getCount() == before
