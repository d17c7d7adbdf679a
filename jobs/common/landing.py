"""The landing zone as the jobs read it: each feed's files as a stream of raw lines."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.common.config import Conf, is_uri, join_path
from jobs.common.lake import stream_app_id
from jobs.transforms.validation import TimeRules


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


class LandingBatchWriter:
    """What every foreachBatch writer of a landing feed shares: the stream's identity for
    idempotent writes, the configured time rules, the write retries and the run's totals."""

    job = "stream"

    def __init__(self, spark: SparkSession, conf: Conf, feed: str, checkpoint: str) -> None:
        self.spark = spark
        self.conf = conf
        self.checkpoint = checkpoint
        self.settings = conf.section("ingest")
        self.retries = int(self.settings["write_retries"])
        self.time_rules = TimeRules.from_settings(self.settings)
        self.totals: Counter[str] = Counter()
        self._feed = feed
        self._app_id: str | None = None

    @property
    def app_id(self) -> str:
        """The stream's identity: its query id, kept in the checkpoint (a reset checkpoint gets a new one)."""
        if self._app_id is None:
            self._app_id = stream_app_id(self.spark, self.checkpoint, f"{self.job}-{self._feed}")
        return self._app_id
