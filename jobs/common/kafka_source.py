"""Kafka topics as the ingest reads them: each feed's records as a stream of raw lines.

Spark's own connector (spark-sql-kafka-0-10, conf [spark] packages) reads one topic per feed
(conf [kafka.topics]); the offsets read live in the stream's checkpoint, so a restarted stream goes
on where the last committed micro-batch ended. A record's value is one landing line: it goes
through the very validation, de-duplication, quarantine and erasure of a file's line, and where a
file's line names its file (source_file), a record names itself: kafka:<topic>/<partition>/<offset>.
"""

from __future__ import annotations

import argparse
import json

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.common.config import Conf

SOURCE_PREFIX = "kafka:"
FEEDS = ["engagements", "discovery"]  # the event feeds; users and content stay landing files


def feed_topic(text: str) -> tuple[str, str]:
    """The command line's FEED=TOPIC."""
    feed, _, topic = text.partition("=")
    if feed not in FEEDS or not topic:
        raise argparse.ArgumentTypeError(f"'{text}' is not FEED=TOPIC with FEED one of {', '.join(FEEDS)}")
    return feed, topic


def kafka_overrides(bootstrap: str | None, feed_topics: list[tuple[str, str]] | None) -> list[str]:
    """--kafka-bootstrap / --kafka and --topics as `--set` assignments (TOML strings: a topic may
    look like a number)."""
    overrides = [f"kafka.bootstrap_servers={json.dumps(bootstrap)}"] if bootstrap else []
    return overrides + [f"kafka.topics.{feed}={json.dumps(topic)}" for feed, topic in feed_topics or []]


def topics(conf: Conf) -> dict[str, str]:
    """Feed -> topic."""
    return dict(conf.section("kafka").get("topics", {}))


def record_source(topic: str, partition: int, offset: int) -> str:
    """How a record is named in the quarantine's source_file (the lake's spelling of its address)."""
    return f"{SOURCE_PREFIX}{topic}/{partition}/{offset}"


def read_kafka_lines(spark: SparkSession, conf: Conf, feed: str) -> DataFrame:
    """The feed's topic as a stream of raw lines (`value`, `source_file`), as read_landing_lines gives
    a file's. A record without a value (null) is an empty line: counted as blank and ignored."""
    settings = conf.section("kafka")
    records = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", settings["bootstrap_servers"])
        .option("subscribe", topics(conf)[feed])
        .option("startingOffsets", settings["starting_offsets"])
        .option("failOnDataLoss", str(bool(settings["fail_on_data_loss"])).lower())
        .option("maxOffsetsPerTrigger", int(settings["max_offsets_per_trigger"]))
        .load()
    )
    source = F.concat(F.lit(SOURCE_PREFIX), F.col("topic"), F.lit("/"), F.col("partition").cast("string"),
                      F.lit("/"), F.col("offset").cast("string"))
    return records.select(F.coalesce(F.col("value").cast("string"), F.lit("")).alias("value"),
                          source.alias("source_file"))


class NoLandingSweep:
    """A Kafka stream has no landing files to delete: the topic's own retention ages its records."""

    deleted = 0

    def sweep(self, force: bool = False) -> None:  # noqa: ARG002 (LandingSweeper's signature)
        return None
