"""ingest --source kafka against a real broker: `generate --kafka` sends the generated events (with
their repeats and bad lines) and a few records that are not JSON to the topics; the Kafka ingest
writes exactly the tables the file-source ingest writes from the same generated files, the records
that are not JSON are quarantined under their topic, partition and offset, a second run finds nothing
new (the offsets are in the checkpoint), and an ingest killed mid-batch and restarted neither loses
nor doubles an event."""

from __future__ import annotations

import datetime as dt
import re
import signal
import uuid

import pytest
from chispa import assert_df_equality
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from pyspark.sql import functions as F

from jobs import generate, ingest
from jobs.common.kafka_source import record_source
from tests.e2e.conftest import run_job_in_process, run_spark_submit

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]

PARTITIONS = 2
# Not JSON (one of them not even UTF-8): each must reach the quarantine under its own address.
NOT_JSON = [b"not json at all", b'{"event_id": "cut-short', b"\xff\xfe\x00 binary"]
# Columns a run sets from its own clock or identity, and the quarantine's address of a line.
RUN_TIME_COLUMNS = {"ingested_at", "ingest_date", "app_id", "is_late"}
FACTS = ("fact_content_engagements", "fact_discovery_events")
PER_BATCH = 250  # records per micro-batch and topic in the crash test: two batches of engagements


def generate_args(start: dt.date) -> list[str]:
    return ["--days", "1", "--events-per-day", "400", "--users", "100", "--seed", "11",
            "--start-date", start.isoformat()]


@pytest.fixture(scope="module")
def topics(kafka_broker) -> dict[str, str]:
    run = uuid.uuid4().hex[:8]
    names = {"engagements": f"engagements-{run}", "discovery": f"discovery-{run}"}
    admin = AdminClient({"bootstrap.servers": kafka_broker.bootstrap})
    for future in admin.create_topics([NewTopic(t, PARTITIONS, 1) for t in names.values()]).values():
        future.result(timeout=60)
    return names


def topic_args(kafka_broker, topics: dict[str, str]) -> list[str]:
    return ["--kafka-bootstrap", kafka_broker.bootstrap, "--topics", *(f"{f}={t}" for f, t in topics.items())]


@pytest.fixture(scope="module")
def produced(kafka_broker, topics, tmp_path_factory) -> dict:
    """The same generated events as landing files and as records, plus the records that are not JSON
    (also as one landing file, so the file-source ingest sees the same lines)."""
    start = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=2)
    files = tmp_path_factory.mktemp("kafka-files") / "landing"
    assert generate.main([*generate_args(start), "--landing", str(files)]) == 0
    (files / "engagements" / "not-json.jsonl").write_bytes(b"\n".join(NOT_JSON) + b"\n")

    sent = tmp_path_factory.mktemp("kafka-sent") / "landing"
    bootstrap = kafka_broker.bootstrap
    assert generate.main([*generate_args(start), "--landing", str(sent), "--kafka", bootstrap,
                          "--topics", *(f"{f}={t}" for f, t in topics.items())]) == 0
    # Only the change feeds stayed files.
    assert not list(sent.glob("engagements/*")) and list(sent.glob("users/*"))

    addresses: dict[bytes, str] = {}
    producer = Producer({"bootstrap.servers": bootstrap})
    for value in NOT_JSON:
        producer.produce(topics["engagements"], value=value, on_delivery=lambda error, message: addresses.update(
            {message.value(): None if error else record_source(message.topic(), message.partition(),
                                                               message.offset())}))
    assert producer.flush(60) == 0
    assert None not in addresses.values() and len(addresses) == len(NOT_JSON), addresses
    return {"files": files, "addresses": addresses}


@pytest.fixture(scope="module")
def lakes(spark, kafka_broker, topics, produced, tmp_path_factory) -> dict:
    """The file-source ingest and the Kafka ingest of the same events, each in process."""
    root = tmp_path_factory.mktemp("kafka-lakes")
    runs = {
        "files": ingest.main(["--landing", str(produced["files"]), "--lake", str(root / "files"), "--once"],
                             spark=spark),
        "kafka": ingest.main(["--source", "kafka", *topic_args(kafka_broker, topics),
                              "--lake", str(root / "kafka"), "--once"], spark=spark),
    }
    assert runs == {"files": 0, "kafka": 0}
    return {"files": root / "files", "kafka": root / "kafka"}


def table(spark, lake, name: str):
    return spark.read.format("delta").load(str(lake / name))


def comparable(spark, lake, name: str, leave_out: set[str] = frozenset()):
    frame = table(spark, lake, name)
    return frame.select(*sorted(c for c in frame.columns if c not in RUN_TIME_COLUMNS | leave_out))


def assert_same(left, right) -> None:
    assert_df_equality(left, right, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)


def test_kafka_ingest_writes_what_the_file_ingest_writes(spark, lakes, produced, topics):
    # Every fact column but the address of the line it came from (a file's, a record's).
    for name in FACTS:
        assert_same(comparable(spark, lakes["kafka"], name, {"source_file"}),
                    comparable(spark, lakes["files"], name, {"source_file"}))
    # The quarantine holds the same lines for the same reasons; only the address differs.
    assert_same(comparable(spark, lakes["kafka"], "quarantine", {"source_file", "batch_id"}),
                comparable(spark, lakes["files"], "quarantine", {"source_file", "batch_id"}))

    quarantine = table(spark, lakes["kafka"], "quarantine").collect()
    address = re.compile(rf"^kafka:({'|'.join(topics.values())})/[0-{PARTITIONS - 1}]/\d+$")
    facts_sources = [r.source_file for name in FACTS
                     for r in table(spark, lakes["kafka"], name).select("source_file").collect()]
    assert all(address.match(source) for source in [r.source_file for r in quarantine] + facts_sources)
    # Each record that is not JSON, under the topic, partition and offset the broker gave it.
    by_address = {row.source_file: row for row in quarantine}
    for value, where in produced["addresses"].items():
        assert by_address[where].reason == "malformed_json", by_address[where]
        if value.isascii():
            assert by_address[where].raw_line == value.decode(), by_address[where]

    batches = table(spark, lakes["kafka"], "ops_ingest_batches").collect()
    for batch in batches:
        assert batch.lines_read == batch.accepted + batch.duplicates + batch.quarantined + batch.erased, batch
    facts = sum(table(spark, lakes["kafka"], name).count() for name in FACTS)
    assert sum(b.accepted for b in batches) == facts > 0


def test_kafka_progress_counts_every_record_read_and_ends_with_none_behind(spark, lakes):
    """ops_stream_progress (Spark's listener): the records of each feed's batches are the lines and
    blank records ops_ingest_batches counted, and after the last batch no offset is left behind."""
    progress = table(spark, lakes["kafka"], "ops_stream_progress").where("event = 'progress'")
    read = progress.groupBy("feed").agg(F.sum("input_rows").alias("records"),
                                        F.max_by("offsets_behind", "batch_id").alias("behind_at_end"))
    counted = (table(spark, lakes["kafka"], "ops_ingest_batches").groupBy("feed")
               .agg((F.sum("lines_read") + F.sum("blank_lines")).alias("records"))
               .withColumn("behind_at_end", F.lit(0).cast("bigint")))
    assert_same(read, counted)
    assert {r.source for r in progress.select("source").distinct().collect()} == {"kafka"}


def test_a_second_kafka_run_reads_only_new_records(spark, capsys, lakes, kafka_broker, topics):
    code, report = run_job_in_process(ingest.main, ["--source", "kafka", *topic_args(kafka_broker, topics),
                                                    "--lake", str(lakes["kafka"]), "--once"], spark, capsys)
    assert code == 0 and report["status"] == "ok", report
    assert report["lines_read"] == 0 and report["accepted"] == 0, report


def output(run) -> str:
    return f"exit {run.returncode}\n--- stdout ---\n{run.stdout[-3000:]}\n--- stderr ---\n{run.stderr[-3000:]}"


def test_killed_kafka_ingest_restarts_without_loss_or_double(spark, capsys, tmp_path, lakes, kafka_broker, topics):
    lake = tmp_path / "lake"
    args = ["ingest", "--source", "kafka", *topic_args(kafka_broker, topics), "--lake", str(lake), "--once",
            "--feeds", "engagements", "--set", f"kafka.max_offsets_per_trigger={PER_BATCH}"]
    crashed = run_spark_submit(args, env={"SHORTVIDEO_FAILPOINT": "during_facts:1",
                                          "SHORTVIDEO_FAILPOINT_DELAY": "0.3"})
    assert crashed.returncode == -signal.SIGKILL, output(crashed)
    assert table(spark, lake, "ops_ingest_batches").count() == 1  # batch 0 only: killed in batch 1

    # Only the kill needs a process of its own: the restart runs here, on the tests' session.
    code, restarted = run_job_in_process(ingest.main, args[1:], spark, capsys)
    assert (code, restarted["status"]) == (0, "ok"), restarted

    # Every engagement fact and quarantined engagement line as the uncut run wrote them (a fact's
    # source_file names the copy of a repeated event its batch saw first: batches differ in size).
    name = "fact_content_engagements"
    assert_same(comparable(spark, lake, name, {"source_file"}), comparable(spark, lakes["kafka"], name, {"source_file"}))
    engagements = F.col("feed") == "engagements"
    assert_same(comparable(spark, lake, "quarantine", {"batch_id"}).where(engagements),
                comparable(spark, lakes["kafka"], "quarantine", {"batch_id"}).where(engagements))
    batches = table(spark, lake, "ops_ingest_batches").collect()
    assert len(batches) >= 2 and sorted(b.batch_id for b in batches) == list(range(len(batches)))
    assert sum(b.accepted for b in batches) == table(spark, lake, name).count()
