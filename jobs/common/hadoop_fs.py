"""Small files the driver handles itself (leases, the stream's source log, a table's Delta log)
through the session's Hadoop FileSystem, so the same code works on a local lake and on an object
store (s3a://, abfss://)."""

from __future__ import annotations

from pyspark.sql import SparkSession

from jobs.common.config import join_path


def hadoop_path(spark: SparkSession, location: str, *parts: str):
    """(filesystem, Hadoop path) of `location` joined with `parts`, by the session's Hadoop configuration."""
    path = spark.sparkContext._jvm.org.apache.hadoop.fs.Path(join_path(location, *parts))
    return path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), path


def hadoop_path_of_uri(spark: SparkSession, uri: str):
    """(filesystem, Hadoop path) of a percent-encoded URI, as Spark's file sources name their files."""
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(jvm.java.net.URI(uri))
    return path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), path


def read_text(spark: SparkSession, filesystem, path) -> str:
    """A small file's whole text (UTF-8)."""
    stream = filesystem.open(path)
    try:
        return spark.sparkContext._jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
    finally:
        stream.close()
