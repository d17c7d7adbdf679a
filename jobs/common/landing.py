"""The landing zone as the jobs read it: each feed's files as a stream of raw lines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.common.config import Conf, is_uri, join_path


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def read_landing_lines(spark: SparkSession, conf: Conf, feed: str) -> DataFrame:
    """The feed's landing files as a stream of raw lines, each with the file it came from.

    Read as text, not as JSON, so a line that breaks the contract survives verbatim for the
    quarantine; the stream's checkpoint remembers which files were read.
    """
    settings = conf.section("ingest")
    return (
        spark.readStream.format("text")
        .option("pathGlobFilter", settings["file_glob"])
        .option("maxFilesPerTrigger", int(settings["max_files_per_trigger"]))
        .load(join_path(conf.landing, feed))
        .select(F.col("value"), F.col("_metadata.file_path").alias("source_file"))
    )


def ensure_landing_dirs(conf: Conf, feeds: list[str]) -> None:
    """A feed that has not delivered yet is an empty directory, not an error."""
    if is_uri(conf.landing):
        return
    for feed in feeds:
        Path(conf.landing, feed).mkdir(parents=True, exist_ok=True)
