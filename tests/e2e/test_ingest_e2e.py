"""The real ingest (--once) on files from an independent producer, on a temporary lake."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest
from chispa import assert_df_equality
from delta.tables import DeltaTable
from pyspark.sql import functions as F

from jobs import ingest
from tests.clock import days_ago as day_at
from tests.e2e.conftest import run_job_in_process
from tests.e2e.producer import Landing

pytestmark = pytest.mark.e2e
UTC = dt.timezone.utc


def run_ingest(spark, capsys, landing, lake, *extra):
    code, report = run_job_in_process(
        ingest.main, ["--landing", str(landing), "--lake", str(lake), "--once", *extra], spark, capsys
    )
    assert code == 0, report
    return report


def facts(spark, lake):
    return spark.read.format("delta").load(str(lake / "fact_content_engagements"))


def expected_fact_rows(spark, events: list[dict]):
    """What the table must hold, computed here from the producer's events (not by the job's code)."""
    rows = []
    for e in events:
        ts = dt.datetime.fromisoformat(e["event_timestamp"].replace("Z", "+00:00")).astimezone(UTC)
        rows.append((
            e["event_id"], e["user_id"], e["content_id"], ts, ts.date(),
            int(ts.strftime("%Y%m%d%H")), e.get("watch_duration_seconds"), e.get("completion_percentage"),
            e.get("engagement_context"),
        ))
    return spark.createDataFrame(
        rows,
        "event_id string, user_id string, content_id string, engagement_timestamp timestamp, event_date date, "
        "date_key int, watch_duration_seconds double, completion_percentage double, engagement_context string",
    )


def fact_columns(frame):
    return frame.select(
        "event_id", "user_id", "content_id", "engagement_timestamp", "event_date", "date_key",
        "watch_duration_seconds", "completion_percentage", "engagement_context",
    )


def test_every_line_is_accepted_dropped_or_quarantined(spark, capsys, lake_dirs):
    landing, lake = lake_dirs
    producer = Landing(landing)
    day1 = [producer.engagement(day_at(2, h, m)) for h in range(24) for m in (5, 35)]
    day2 = [producer.engagement(day_at(1, h, 20)) for h in range(24)]
    producer.write("engagements", "a.jsonl", producer.good_lines(day1[:30]) + producer.repeat(day1[:3]) + [""])
    producer.write("engagements", "b.jsonl.gz", producer.good_lines(day1[30:]) + producer.bad_lines(day_at(2, 9)),
                   compress=True)
    producer.write("engagements", "c.json", producer.good_lines(day2) + producer.repeat(day1[10:15]) + ["   "])

    report = run_ingest(spark, capsys, landing, lake, "--feeds", "engagements")

    assert report["lines_read"] == producer.lines_written
    assert report["lines_read"] == report["accepted"] + report["duplicates"] + report["quarantined"] + report["erased"]
    assert report["accepted"] == len(producer.good)
    assert report["duplicates"] == producer.duplicate_lines
    assert report["quarantined"] == len(producer.bad)
    assert report["blank_lines"] == producer.blank_written

    table = facts(spark, lake)
    assert_df_equality(fact_columns(table), expected_fact_rows(spark, list(producer.good.values())),
                       ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)
    quarantined = spark.read.format("delta").load(str(lake / "quarantine"))
    assert Counter((r.raw_line, r.reason) for r in quarantined.collect()) == Counter(producer.bad)
    assert quarantined.where(F.col("source_file").endswith("b.jsonl.gz")).count() == len(producer.bad)
    detail = DeltaTable.forPath(spark, str(lake / "fact_content_engagements")).detail().first()
    assert detail.partitionColumns == ["event_date"]


def test_duplicates_across_runs_and_a_rerun_changes_nothing(spark, capsys, lake_dirs):
    landing, lake = lake_dirs
    producer = Landing(landing)
    first = [producer.engagement(day_at(1, h)) for h in range(20)]
    producer.write("engagements", "run1.jsonl", producer.good_lines(first))
    run_ingest(spark, capsys, landing, lake, "--feeds", "engagements")

    later = [producer.engagement(day_at(1, h, 30)) for h in range(10)]
    producer.write("engagements", "run2.jsonl", producer.repeat(first[:8]) + producer.good_lines(later))
    report = run_ingest(spark, capsys, landing, lake, "--feeds", "engagements")
    assert (report["accepted"], report["duplicates"]) == (10, 8)
    assert facts(spark, lake).count() == 30
    assert facts(spark, lake).select("event_id").distinct().count() == 30

    versions = {t: DeltaTable.forPath(spark, str(lake / t)).history(1).first().version
                for t in ("fact_content_engagements", "quarantine", "ops_ingest_batches")}
    rerun = run_ingest(spark, capsys, landing, lake, "--feeds", "engagements")
    assert rerun["lines_read"] == 0 and rerun["accepted"] == 0
    assert versions == {t: DeltaTable.forPath(spark, str(lake / t)).history(1).first().version for t in versions}


def test_late_events_land_in_their_own_day_and_are_recorded(spark, capsys, lake_dirs):
    landing, lake = lake_dirs
    producer = Landing(landing)
    producer.write("engagements", "today.jsonl", producer.good_lines([producer.engagement(day_at(0, 0, 1))]))
    run_ingest(spark, capsys, landing, lake, "--feeds", "engagements")

    late = [producer.engagement(day_at(3, 22)), producer.engagement(day_at(5, 1))]
    producer.write("engagements", "late.jsonl", producer.good_lines(late))
    run_ingest(spark, capsys, landing, lake, "--feeds", "engagements")

    by_day = {r.event_date: r["count"] for r in facts(spark, lake).groupBy("event_date").count().collect()}
    assert by_day == {day_at(0, 0).date(): 1, day_at(3, 0).date(): 1, day_at(5, 0).date(): 1}
    arrivals = spark.read.format("delta").load(str(lake / "ops_ingest_arrivals"))
    late_days = {r.event_date for r in arrivals.where("is_late").collect()}
    assert late_days == {day_at(3, 0).date(), day_at(5, 0).date()}


def test_discovery_feed_keeps_its_fields(spark, capsys, lake_dirs):
    landing, lake = lake_dirs
    producer = Landing(landing)
    when = day_at(1, 13, 45)
    good = {"discovery_id": "disc-1", "user_id": "user_1", "content_id": "vid_1", "discovery_source": "for_you",
            "position_in_feed": 0, "discovery_timestamp": "2026-11-20T13:45:12.5+02:00".replace(
                "2026-11-20", when.date().isoformat()), "clicked_through": True,
            "time_to_engagement_seconds": 2.5, "experiment_id": "exp1", "variant": "B"}
    no_click = good | {"discovery_id": "disc-2", "clicked_through": False, "time_to_engagement_seconds": None,
                       "position_in_feed": 7}
    bad = good | {"discovery_id": "disc-3", "position_in_feed": -1}
    producer.write("discovery", "d.jsonl", [json.dumps(good), json.dumps(no_click), json.dumps(bad), json.dumps(good)])
    report = run_ingest(spark, capsys, landing, lake, "--feeds", "discovery")
    assert (report["accepted"], report["duplicates"], report["quarantined"]) == (2, 1, 1)

    table = spark.read.format("delta").load(str(lake / "fact_discovery_events"))
    actual = table.select("event_id", "discovery_timestamp", "position_in_feed", "clicked_through",
                          "time_to_engagement", "experiment_id", "variant", "event_date")
    instant = dt.datetime.fromisoformat(good["discovery_timestamp"]).astimezone(UTC)
    expected = spark.createDataFrame(
        [("disc-1", instant, 0, True, 2.5, "exp1", "B", instant.date()),
         ("disc-2", instant, 7, False, None, "exp1", "B", instant.date())],
        "event_id string, discovery_timestamp timestamp, position_in_feed int, clicked_through boolean, "
        "time_to_engagement double, experiment_id string, variant string, event_date date",
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)
