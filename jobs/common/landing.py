"""The landing zone as the jobs read it: each feed's files as a stream of raw lines."""

from __future__ import annotations

import datetime as dt
import zlib
from collections import Counter
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.common.config import Conf, ConfigError, is_uri, join_path
from jobs.common.hadoop_fs import hadoop_path, hadoop_path_of_uri, read_text
from jobs.common.lake import stream_app_id
from jobs.common.retention import SOURCE_LOG, source_log_entries
from jobs.transforms.validation import TimeRules


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def read_landing_lines(spark: SparkSession, conf: Conf, feed: str) -> DataFrame:
    """The feed's landing files as a stream of raw lines, each with the file it came from.

    Read as text, not as JSON, so a line that breaks the contract survives verbatim for the
    quarantine; the stream's checkpoint remembers which files were read.
    """
    settings = conf.section("ingest")
    return lines_with_source(
        spark.readStream.format("text")
        .option("pathGlobFilter", settings["file_glob"])
        .options(**micro_batch_bound(settings))
        .load(join_path(conf.landing, feed))
    )


def micro_batch_bound(settings: dict) -> dict[str, str]:
    """The file source's bound on one micro-batch: in files when `max_files_per_trigger` is set
    (above 0), else in bytes on disk (`max_bytes_per_trigger`; Spark takes one or the other).

    Bytes by default: the ingest keeps a micro-batch's judged lines while it writes them, so its
    heap follows the batch's bytes, not its file count (a batch holds at least one whole file)."""
    files = _whole_number(settings, "max_files_per_trigger", 0)
    if files > 0:
        return {"maxFilesPerTrigger": str(files)}
    size = _whole_number(settings, "max_bytes_per_trigger", None)
    if size <= 0:
        raise ConfigError(f"ingest.max_bytes_per_trigger must be above 0 when max_files_per_trigger is not set: {size}")
    return {"maxBytesPerTrigger": str(size)}


def _whole_number(settings: dict, key: str, default: int | None) -> int:
    value = settings.get(key, default)
    if value is None:
        raise ConfigError(f"ingest.{key} is not set")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"ingest.{key} must be a whole number: {value!r}") from None


def lines_with_source(text: DataFrame) -> DataFrame:
    """Text-source lines as the ingest judges them: `value` and the file each came from."""
    return text.select(F.col("value"), F.col("_metadata.file_path").alias("source_file"))


# --- Damaged files ---------------------------------------------------------------------------------
#
# The stream reads strictly: a file that cannot be read to its end fails the batch's first action,
# at no cost to a batch of sound files. The writer then asks `unreadable_files` which of the batch's
# files are damaged and reads the batch again with `read_files_tolerantly`, which keeps every line
# read before the damage (Spark's ignoreCorruptFiles) and skips a file that vanished.

GZIP_CHECK_CHUNK = 1 << 16  # compressed bytes per step: bounds the memory one check needs
VANISHED = "file not found: it vanished after the stream listed it"


def batch_source_files(spark: SparkSession, checkpoint: str, batch_id: int) -> list[str]:
    """The files Spark's file source gave this micro-batch, spelled as `_metadata.file_path` spells them.

    The source writes them to its log, <checkpoint>/sources/0/<batch id> (a version line, then one
    JSON object with a "path" per file), before the batch runs; every 10th batch is compacted into
    <batch id>.compact, which holds the entries of all batches so far, each with its batchId.
    Read on the driver through the Hadoop filesystem, so any filesystem Spark reads works.
    """
    for name in (str(batch_id), f"{batch_id}.compact"):
        fs, entry = hadoop_path(spark, checkpoint, SOURCE_LOG, name)
        if fs.exists(entry):
            entries = source_log_entries(read_text(spark, fs, entry), batch_id)
            return [file_path(path) for path, batch in entries if batch == batch_id]
    raise FileNotFoundError(f"no source log entry for batch {batch_id} under {join_path(checkpoint, SOURCE_LOG)}")


def file_path(uri: str) -> str:
    """A file URI as `_metadata.file_path` spells it: an empty authority dropped (file:///x -> file:/x)."""
    parts = urlsplit(uri)
    if parts.scheme and not parts.netloc and uri.startswith(f"{parts.scheme}:///"):
        return f"{parts.scheme}:{uri[len(parts.scheme) + 3:]}"
    return uri


def _hadoop_path(path: str) -> str:
    """A file URI (percent-encoded) as the readers' load() takes it: a decoded Hadoop path."""
    parts = urlsplit(path)
    authority = f"//{parts.netloc}" if parts.netloc else ""
    return f"{parts.scheme}:{authority}{unquote(parts.path)}" if parts.scheme else unquote(path)


def gzip_damage(content: bytes | None) -> str | None:
    """None if `content` is whole gzip data to its end (one member or several), else what is wrong."""
    if not content:
        return None
    view, position = memoryview(content), 0
    while position < len(content):
        member = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            while not member.eof:
                if position >= len(content):
                    return "truncated gzip data: it ends before the end-of-stream marker"
                chunk = view[position:position + GZIP_CHECK_CHUNK]
                member.decompress(chunk)
                position += len(chunk)
        except zlib.error as error:
            return str(error).splitlines()[0]
        position -= len(member.unused_data)
    return None


def unreadable_files(spark: SparkSession, files: list[str]) -> dict[str, str]:
    """Of these landing files, the ones that cannot be read to their end -> the error's first line:
    a file that no longer exists, and a .gz file that is not whole gzip data. The gzip check
    decompresses on the executors (binaryFile), so it works on any Hadoop filesystem."""
    def exists(path: str) -> bool:
        fs, hadoop = hadoop_path_of_uri(spark, path)
        return bool(fs.exists(hadoop))

    damaged = {f: VANISHED for f in files if not exists(f)}
    gzipped = [f for f in files if f.lower().endswith(".gz") and f not in damaged]
    if gzipped:
        check = F.udf(gzip_damage, "string")
        rows = (
            spark.read.format("binaryFile").load([_hadoop_path(f) for f in gzipped])
            .select(F.col("path"), check("content").alias("damage"))
            .where(F.col("damage").isNotNull())
            .collect()
        )
        damaged.update({file_path(r["path"]): r["damage"] for r in rows})
    return damaged


def read_files_tolerantly(spark: SparkSession, files: list[str], damaged: dict[str, str]) -> DataFrame:
    """These files' lines as the stream gives them, keeping the lines read before a file's damage
    (Spark's ignoreCorruptFiles) and skipping the files that vanished (and, with
    ignoreMissingFiles, one that vanishes while this runs)."""
    files = [f for f in files if damaged.get(f) != VANISHED]
    if not files:
        return spark.createDataFrame([], "value string, source_file string")
    return lines_with_source(
        spark.read.format("text")
        .option("ignoreCorruptFiles", "true")
        .option("ignoreMissingFiles", "true")
        .load([_hadoop_path(f) for f in files])
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
