"""The host's time zone does not matter: the jobs run in a Python process whose zone is far from
UTC (the JVM keeps its own, as on a host whose TZ differs from the JVM's -Duser.timezone), and every
timestamp they write is the true UTC instant, every date the UTC date.

Instants are compared inside Spark as epoch microseconds (unix_micros), which no zone touches.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pyspark.sql import functions as F

from jobs import daily, dims, ingest
from tests.e2e.conftest import run_job_in_process
from tests.e2e.producer import Landing
from tests.timezones import UTC, process_time_zone

pytestmark = pytest.mark.e2e
FAR_FROM_UTC = "Pacific/Kiritimati"  # UTC+14: a naive UTC datetime read in this zone is 14 h off


def micros(moment: dt.datetime) -> int:
    return round(moment.timestamp() * 1_000_000)


def instants(spark, lake, table: str, column: str) -> list[int]:
    frame = spark.read.format("delta").load(str(lake / table))
    return [row[0] for row in frame.select(F.unix_micros(column)).collect()]


def test_jobs_write_true_utc_instants_whatever_the_process_time_zone(spark, capsys, lake_dirs):
    landing, lake = lake_dirs
    producer = Landing(landing)
    midnight = dt.datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    day = (midnight - dt.timedelta(days=1)).date()
    events = [producer.engagement(midnight - dt.timedelta(days=1, minutes=-5)),  # 00:05 UTC: `day`
              producer.engagement(midnight - dt.timedelta(minutes=5))]          # 23:55 UTC: `day`
    producer.write("engagements", "e.jsonl", producer.good_lines(events) + producer.bad_lines(midnight)[:1])
    producer.write("users", "u.jsonl", [json.dumps({
        "op": "upsert", "user_id": "ana", "updated_at": "2026-01-01T23:30:00Z", "registration_date": "2025-03-01",
        "user_type": "creator", "creator_tier": "casual", "region": "BR", "follower_count": 1,
        "following_count": 1})])
    lake_args = ["--landing", str(landing), "--lake", str(lake)]

    before = dt.datetime.now(UTC)
    with process_time_zone(FAR_FROM_UTC):
        assert dt.datetime.now().hour != dt.datetime.now(UTC).hour  # the zone took
        for job, argv in ((ingest, [*lake_args, "--once", "--feeds", "engagements"]), (dims, lake_args),
                          (daily, ["--lake", str(lake), "--date", day.isoformat()])):
            code, report = run_job_in_process(job.main, argv, spark, capsys)
            assert code == 0, report
    after = dt.datetime.now(UTC)

    written = {
        "fact_content_engagements": "ingested_at", "quarantine": "ingested_at", "ops_ingest_arrivals": "ingested_at",
        "ops_ingest_batches": "started_at", "cdc_users": "ingested_at", "ops_daily_runs": "computed_at",
    }
    for table, column in written.items():
        values = instants(spark, lake, table, column)
        assert values and all(micros(before) <= v <= micros(after) for v in values), (table, column, values, before)
    facts = spark.read.format("delta").load(str(lake / "fact_content_engagements"))
    assert sorted(r[0] for r in facts.select(F.unix_micros("engagement_timestamp")).collect()) == sorted(
        micros(dt.datetime.fromisoformat(e["event_timestamp"].replace("Z", "+00:00"))) for e in events)
    assert {r[0] for r in facts.select("event_date").distinct().collect()} == {day}
    quarantine = spark.read.format("delta").load(str(lake / "quarantine"))
    assert {r[0] for r in quarantine.select("ingest_date").collect()} <= {before.date(), after.date()}
    assert instants(spark, lake, "dim_users", "updated_at") == [micros(dt.datetime(2026, 1, 1, 23, 30, tzinfo=UTC))]
