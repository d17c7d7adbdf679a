"""Kill the ingest (SIGKILL to the driver and its JVM) at several points, restart, and prove that
every event is in the table exactly once and nothing is lost."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from pyspark.sql import functions as F

from tests.e2e.conftest import last_json_line, run_spark_submit
from tests.e2e.producer import Landing

pytestmark = pytest.mark.e2e

KILL_POINTS = [
    "after_quarantine:1",   # quarantine committed, facts not yet
    "during_facts:1",       # in the middle of the facts write (files half written, no commit)
    "after_facts:1",        # facts committed, batch log and checkpoint not
    "before_checkpoint:2",  # every table committed, Spark's checkpoint commit not yet written
]


def write_landing(landing) -> Landing:
    producer = Landing(landing)
    start = dt.datetime.now(dt.timezone.utc).replace(minute=0, second=0, microsecond=0) - dt.timedelta(days=2)
    for part in range(6):
        events = [producer.engagement(start + dt.timedelta(minutes=7 * i + part)) for i in range(400)]
        lines = producer.good_lines(events) + producer.repeat(events[:5])
        if part == 1:
            lines += producer.bad_lines(start)
        producer.write("engagements", f"part-{part}.jsonl", lines)
    return producer


@pytest.mark.parametrize("kill_point", KILL_POINTS)
def test_killed_ingest_restarts_without_loss_or_doubles(spark, tmp_path, kill_point):
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    producer = write_landing(landing)
    args = ["ingest", "--landing", str(landing), "--lake", str(lake), "--once", "--feeds", "engagements",
            "--set", "ingest.max_files_per_trigger=2"]

    crashed = run_spark_submit(args, env={"SHORTVIDEO_FAILPOINT": kill_point, "SHORTVIDEO_FAILPOINT_DELAY": "0.3"})
    assert crashed.returncode != 0, "the failpoint did not fire"
    assert not any(line.startswith('{"job"') for line in crashed.stdout.splitlines())

    restarted = run_spark_submit(args)
    assert restarted.returncode == 0, restarted.stderr[-3000:]
    report = last_json_line(restarted.stdout)
    assert report["status"] == "ok"

    facts = spark.read.format("delta").load(str(lake / "fact_content_engagements"))
    per_event = Counter(r.event_id for r in facts.select("event_id").collect())
    assert set(per_event) == set(producer.good), "events lost or invented"
    assert max(per_event.values()) == 1, "events doubled"

    quarantine = spark.read.format("delta").load(str(lake / "quarantine"))
    assert Counter(r.raw_line for r in quarantine.select("raw_line").collect()) == Counter(
        line for line, _ in producer.bad)
    batches = spark.read.format("delta").load(str(lake / "ops_ingest_batches"))
    assert batches.groupBy("batch_id").count().where(F.col("count") > 1).count() == 0
    assert batches.agg(F.max("batch_id")).first()[0] == 2  # 6 files, 2 per batch
