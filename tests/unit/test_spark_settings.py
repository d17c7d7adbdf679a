"""A session's settings: the packages are resolved once, later starts get the jar files."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.common import spark as spark_module
from jobs.common.config import load_conf
from jobs.common.spark import jar_manifest, remember_resolved_jars, spark_settings


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
