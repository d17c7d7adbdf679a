"""`ingest --continuous` picks up files as they land, and stops on SIGTERM without harm."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import time

import pytest
from delta.tables import DeltaTable

from tests.e2e.conftest import PROJECT_ROOT, SPARK_SUBMIT, last_json_line, run_spark_submit
from tests.e2e.producer import Landing

pytestmark = pytest.mark.e2e


def wait_for_rows(spark, table_dir, expected: int, timeout: float = 180) -> int:
    deadline = time.monotonic() + timeout
    count = -1
    while time.monotonic() < deadline:
        if DeltaTable.isDeltaTable(spark, str(table_dir)):
            count = spark.read.format("delta").load(str(table_dir)).count()
            if count >= expected:
                return count
        time.sleep(2)
    return count


def test_continuous_ingest_follows_the_landing_zone(spark, tmp_path):
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    producer = Landing(landing)
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=5)
    first = [producer.engagement(start + dt.timedelta(seconds=i)) for i in range(50)]
    producer.write("engagements", "first.jsonl", producer.good_lines(first))

    args = ["ingest", "--landing", str(landing), "--lake", str(lake), "--continuous", "--feeds", "engagements",
            "--set", "ingest.trigger_seconds=1"]
    stream = subprocess.Popen([str(SPARK_SUBMIT), *args], cwd=PROJECT_ROOT, start_new_session=True,
                              env={**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        facts = lake / "fact_content_engagements"
        assert wait_for_rows(spark, facts, 50) == 50

        second = [producer.engagement(start + dt.timedelta(minutes=10, seconds=i)) for i in range(30)]
        producer.write("engagements", "second.jsonl", producer.good_lines(second) + producer.repeat(first[:5]))
        assert wait_for_rows(spark, facts, 80) == 80
        assert stream.poll() is None, "a continuous ingest must keep running"
    finally:
        os.killpg(stream.pid, signal.SIGTERM)
        stream.wait(timeout=120)

    table = spark.read.format("delta").load(str(lake / "fact_content_engagements"))
    assert sorted(r.event_id for r in table.select("event_id").collect()) == sorted(producer.good)
    caught_up = run_spark_submit(["ingest", "--landing", str(landing), "--lake", str(lake), "--once",
                                  "--feeds", "engagements"])
    report = last_json_line(caught_up.stdout)
    assert caught_up.returncode == 0 and report["accepted"] == 0
    assert table.count() == 80
