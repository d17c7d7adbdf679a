"""generate -> ingest -> dims -> daily on a temporary lake, and every column of both daily facts
compared with an expectation computed independently from the raw landing lines
(tests/e2e/expected_daily.py: plain Python over json/gzip, nothing from jobs/).

Besides the generated days, the landing gets two small hand-written files, so that rules the
generator alone does not reach in this window are exercised too:
- content CDC taking down (moderation_status "removed") one video that is Trending and deleting
  another (an upsert and a delete at the same updated_at, the delete written first): both must leave
  the trending lists, and the tie must resolve as a delete;
- a few engagements on a video no content CDC ever described: its performance row is measured
  against the platform's mean of the day, and it belongs to no creator.
Not covered here: deleted users (the generator deletes none with these parameters; erasure is not
the daily job's concern), and a baseline window reaching back more than the 3 generated days before
the last one (the 30-day cut-off is tested in tests/unit/test_daily_rules.py).

A second test runs daily with other weights and another recency factor (`--set`) on hand-written
events and checks the scores and the trending order against values worked out by hand.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pytest
from chispa import assert_approx_df_equality, assert_df_equality
from delta.tables import DeltaTable
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs import daily, dims, generate, ingest
from schemas import TABLES
from tests.e2e.conftest import last_json_line, run_job_in_process
from tests.e2e.expected_daily import (
    TRENDING_SCORE,
    Expected,
    expected_daily,
    instant,
    is_qualifying,
    read_feed,
    unique_events,
    utc_day,
)
from tests.e2e.producer import Landing
from tests.e2e.test_dims_daily_e2e import content_change, engagement, run, table

pytestmark = pytest.mark.e2e
UTC = dt.timezone.utc

DAYS, EVENTS_PER_DAY, USERS, SEED = 4, 3000, 300, 11
UNKNOWN_VIDEO = "c9999999"
PRECISION = 1e-9


def iso(day: dt.date, time: str = "00:00:00.000") -> str:
    return f"{day.isoformat()}T{time}Z"


def write_lines(landing: Path, feed: str, name: str, records: list[dict]) -> None:
    (landing / feed / name).write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def add_takedowns(landing: Path, first_pass: Expected, when: str) -> tuple[str, str]:
    """Content CDC after the generated days: the two best Trending videos of consenting creators
    leave the trending lists, one removed by moderation, one deleted (tie with an upsert)."""
    trending = sorted(
        (r for r in first_pass.performance
         if r["viral_score"] >= TRENDING_SCORE
         and first_pass.catalog[r["content_id"]].creator not in first_pass.opted_out
         and not first_pass.catalog[r["content_id"]].deleted),
        key=lambda r: (-r["viral_score"], r["content_id"]),
    )
    chosen = list(dict.fromkeys(r["content_id"] for r in trending))[:2]
    assert len(chosen) == 2, "the scenario needs two trending videos to take down"
    removed, deleted = chosen
    latest = {}
    for change in read_feed(landing, "content"):
        if change["op"] == "upsert" and change["content_id"] in chosen:
            previous = latest.get(change["content_id"])
            if previous is None or instant(change["updated_at"]) > instant(previous["updated_at"]):
                latest[change["content_id"]] = change
    write_lines(landing, "content", "zz-takedowns.jsonl", [
        latest[removed] | {"updated_at": when, "moderation_status": "removed"},
        {"op": "delete", "content_id": deleted, "updated_at": when},
        latest[deleted] | {"updated_at": when},
    ])
    return removed, deleted


def add_unknown_video_events(landing: Path, day: dt.date, user_id: str) -> None:
    """Engagements on a video no content CDC describes, with what generated data rarely has: a view
    on both boundaries (exactly 3 s: qualifies; exactly 80 %: no completion bonus) and a qualifying
    view without completion_percentage (counted in views, left out of completion_rate)."""
    def event(n: int, kind: str, time: str, **measures) -> dict:
        return {"event_id": f"e2e-unknown-{n}", "user_id": user_id, "content_id": UNKNOWN_VIDEO,
                "engagement_type": kind, "event_timestamp": iso(day, time), "engagement_context": "search",
                **measures}

    write_lines(landing, "engagements", "zz-unknown-video.jsonl", [
        event(1, "view", "10:00:00.000", watch_duration_seconds=12.5, completion_percentage=95.0),
        event(2, "view", "10:05:00.250", watch_duration_seconds=3, completion_percentage=80),
        event(3, "view", "10:06:00.000", watch_duration_seconds=1.2),
        event(4, "view", "10:06:30.000", watch_duration_seconds=7.0),
        event(5, "like", "10:07:00.000"),
        event(6, "follow", "10:08:00.000"),
    ])


def assert_scenario_exercises_the_rules(exp: Expected, days: list[dt.date], taken_down: tuple[str, str]) -> None:
    """Guards against a vacuous pass: every rule the comparison checks has data that tests it."""
    events = [e for day in days for e in exp.events_by_day[day]]
    views = [e for e in events if e["engagement_type"] == "view"]
    assert any(e["watch_duration_seconds"] < 3 for e in views), "no view under 3 s"
    assert any(is_qualifying(e) and (e.get("completion_percentage") or 0) > 80 for e in views), "no completion bonus"
    assert any(is_qualifying(e) and (e.get("completion_percentage") or 0) <= 80 for e in views)
    assert any(is_qualifying(e) and e.get("completion_percentage") is None for e in views)
    assert exp.excluded_events > 0, "no engagement by an opted-out user"
    assert any(e["engagement_type"] == "unfollow" for e in events), "no unfollow"
    assert any(e["engagement_type"] == "follow" for e in events)
    assert {"duet", "remix"} <= {e["engagement_type"] for e in events}

    perf = exp.performance
    assert any(r["viral_score"] >= TRENDING_SCORE for r in perf), "nothing Trending"
    assert any(r["viral_score"] >= 1000 for r in perf), "nothing Viral"
    assert any(r["avg_watch_duration"] is None for r in perf), "every row has a qualifying view"
    assert any(r["unique_viewers"] < r["total_views"] for r in perf), "no repeat viewer"
    assert any(r["content_id"] == UNKNOWN_VIDEO for r in perf)
    assert {r["event_date"] for r in perf} == set(days)

    creators = exp.creators
    lists = [json.loads(r["trending_content_ids"]) for r in creators]
    assert any(len(ids) >= 2 for ids in lists), "no trending list to order"
    assert any(r["content_posted"] > 0 and r["total_views_received"] == 0 for r in creators), "no null engagement_rate"
    assert any(r["follower_churn"] > 0 for r in creators)
    opted_out_creators = {v.creator for cid, v in exp.catalog.items()
                          if any(e["content_id"] == cid for e in events)} & exp.opted_out
    assert opted_out_creators, "no opted-out creator whose videos were engaged with"
    removed, deleted = taken_down
    assert exp.catalog[removed].moderation_status == "removed" and exp.catalog[deleted].deleted
    for cid in taken_down:  # Trending on a day its (consenting) creator has a row: only the takedown hides it
        trending_days = {r["event_date"] for r in perf if r["content_id"] == cid and r["viral_score"] >= TRENDING_SCORE}
        assert any(r["creator_id"] == exp.catalog[cid].creator and r["event_date"] in trending_days
                   for r in creators)
        assert all(cid not in ids for ids in lists)


def expected_frame(spark, rows: list[dict], table: str, key: str, natural_id: str):
    """The expected rows as a frame of the table's schema, keys computed by Spark's xxhash64."""
    spec = TABLES[table]
    fields = [T.StructField(natural_id, T.StringType())] + [
        T.StructField(f.name, f.dataType, True) for f in spec.schema.fields if f.name != key]
    frame = spark.createDataFrame([tuple(r[f.name] for f in fields) for r in rows], T.StructType(fields))
    return frame.withColumn(key, F.xxhash64(natural_id)).select(natural_id, *spec.columns)


def same_value(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=0, abs_tol=PRECISION)
    return a == b


def differences(actual, expected, key: str, natural_id: str, limit: int = 8) -> list[str]:
    """A readable account of what differs (rows missing, extra, or with other values)."""
    names = {r[key]: r[natural_id] for r in expected.select(key, natural_id).collect()}
    act = {(r[key], r["event_date"]): r.asDict() for r in actual.collect()}
    exp = {(r[key], r["event_date"]): r.asDict() for r in expected.drop(natural_id).collect()}
    problems = [f"missing {names.get(k[0], k[0])} {k[1]}: expected {exp[k]}" for k in sorted(exp.keys() - act.keys())]
    problems += [f"unexpected row {names.get(k[0], k[0])} {k[1]}: {act[k]}" for k in sorted(act.keys() - exp.keys())]
    for k in sorted(exp.keys() & act.keys()):
        for column, value in exp[k].items():
            if not same_value(act[k][column], value):
                problems.append(f"{names[k[0]]} {k[1]} {column}: job {act[k][column]!r}, expected {value!r}")
    if len(problems) > limit:
        problems = problems[:limit] + [f"... and {len(problems) - limit} more"]
    return problems


def assert_table_matches(spark, lake: Path, rows: list[dict], table: str, key: str, natural_id: str) -> None:
    spec = TABLES[table]
    # the lake's columns carry comments (metadata), which chispa's approx comparison does not ignore
    actual = spark.read.format("delta").load(str(lake / table)).select(
        *[F.col(c).alias(c, metadata={}) for c in spec.columns])
    expected = expected_frame(spark, rows, table, key, natural_id)
    problems = differences(actual, expected, key, natural_id)
    assert not problems, f"{table} differs from the independent computation:\n" + "\n".join(problems)
    assert_approx_df_equality(actual, expected.drop(natural_id), precision=PRECISION,
                              ignore_nullable=True, ignore_row_order=True)


def test_daily_facts_match_an_independent_computation(spark, capsys, lake_dirs):
    landing, lake = lake_dirs
    today = dt.datetime.now(UTC).date()
    first = today - dt.timedelta(days=6)
    days = [first + dt.timedelta(days=n) for n in range(DAYS)]
    last = days[-1]

    capsys.readouterr()
    assert generate.main([
        "--landing", str(landing), "--days", str(DAYS), "--events-per-day", str(EVENTS_PER_DAY),
        "--users", str(USERS), "--seed", str(SEED), "--start-date", first.isoformat(),
        "--bad-rate", "0", "--dup-rate", "0.05", "--late-rate", "0.05",
    ]) == 0
    generated = last_json_line(capsys.readouterr().out)
    assert generated["duplicates"] > 0 and generated["late"] > 0 and generated["bad_lines"] == 0

    first_pass = expected_daily(landing, days)
    taken_down = add_takedowns(landing, first_pass, iso(last + dt.timedelta(days=1)))
    consenting_user = first_pass.events_by_day[days[1]][0]["user_id"]  # events_by_day: consenting users only
    assert UNKNOWN_VIDEO not in first_pass.catalog
    add_unknown_video_events(landing, days[1], consenting_user)

    exp = expected_daily(landing, days)
    assert_scenario_exercises_the_rules(exp, days, taken_down)
    raw_engagements = read_feed(landing, "engagements")
    unique = unique_events(raw_engagements)
    assert len(raw_engagements) > len(unique), "no duplicate deliveries"

    code, ingested = run_job_in_process(  # daily does not read discovery
        ingest.main, ["--landing", str(landing), "--lake", str(lake), "--once", "--feeds", "engagements"],
        spark, capsys)
    assert code == 0, ingested
    assert ingested["engagements"]["accepted"] == len(unique), ingested
    assert ingested["engagements"]["duplicates"] == len(raw_engagements) - len(unique), ingested
    assert ingested["quarantined"] == 0, ingested

    code, changed = run_job_in_process(dims.main, ["--landing", str(landing), "--lake", str(lake)], spark, capsys)
    assert code == 0, changed
    assert changed["quarantined"] == 0, changed
    quarantine = lake / "quarantine"
    assert not DeltaTable.isDeltaTable(spark, str(quarantine)) or \
        spark.read.format("delta").load(str(quarantine)).count() == 0

    code, report = run_job_in_process(
        daily.main, ["--lake", str(lake), "--from", first.isoformat(), "--to", last.isoformat()], spark, capsys)
    assert code == 0, report
    assert report["days"] == DAYS
    assert report["engagements_read"] == sum(1 for e in unique if first <= utc_day(e["event_timestamp"]) <= last)
    assert report["engagements_excluded"] == exp.excluded_events
    assert report["unattributed_content"] == 1  # the unknown video, on its one day
    # The profile: every step's seconds, and together no more than the run took.
    assert set(report["step_seconds"]) == {
        "open_tables", "content_measures", "content_rows", "replace_content_performance", "creator_rows",
        "replace_creator_analytics", "tiers", "counts", "record_runs"}, report
    assert 0 < sum(report["step_seconds"].values()) <= report["seconds"], report

    assert_table_matches(spark, lake, exp.performance, "fact_content_performance", "content_key", "content_id")
    assert_table_matches(spark, lake, exp.creators, "fact_creator_analytics", "user_key", "creator_id")


def test_weights_and_recency_factor_are_configuration(spark, capsys, lake_dirs):
    landing, lake = lake_dirs
    producer = Landing(landing)
    midnight = dt.datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    first, second, third = (midnight - dt.timedelta(days=n) + dt.timedelta(hours=12) for n in (3, 2, 1))
    producer.write("content", "c.jsonl", [
        content_change(video, "kim", first - dt.timedelta(days=5), first - dt.timedelta(days=5))
        for video in ("v0", "v1", "v2")])
    producer.write("engagements", "e.jsonl", [
        engagement("short", "fan0", "v0", first, "view", watch_duration_seconds=1.0),  # a row scoring 0
        engagement("s1", "fan1", "v1", second, "share"), engagement("s2", "fan2", "v1", second, "share"),
        engagement("l1", "fan1", "v2", third, "like"), engagement("l2", "fan2", "v2", third, "like"),
    ])
    lake_args = ["--landing", str(landing), "--lake", str(lake)]
    run(ingest, spark, capsys, *lake_args, "--once", "--feeds", "engagements")
    run(dims, spark, capsys, *lake_args)
    run(daily, spark, capsys, "--lake", str(lake), "--from", first.date().isoformat(), "--to", third.date().isoformat(),
        "--set", "engagement_types.like.weight=10", "--set", "engagement_types.share.weight=3",
        "--set", "daily.recency_factor=2.0",
        "--set", "daily.days_per_pass=2")  # the second day stands on the first in its pass, the third on the lake

    # By hand, with like = 10, share = 3 (the defaults swapped) and recency factor 2.0:
    # v0: score 0, no history: platform mean 0 -> baseline 1 -> viral 0.
    # v1: 2 shares = 6 against kim's history (v0: 0 -> baseline 1) -> viral 600: Trending.
    # v2: 2 likes = 20 against kim's history (v0: 0, v1: 6 -> 3) -> viral round(2000 / 3) = 667.
    # Third day's list: v1 2.0 x 600 = 1200 before v2 667 (with 0.5, v2 would lead: 667 > 300;
    # with the default weights v1 would score 20, viral 2000, and v2 6, viral 60: not trending).
    days = (first.date(), second.date(), third.date())
    performance = table(spark, lake, "fact_content_performance").select(
        "content_key", "event_date", "engagement_score", "viral_score")
    expected = spark.createDataFrame(
        [("v0", days[0], 0, 0), ("v1", days[1], 6, 600), ("v2", days[2], 20, 667)],
        "content_id string, event_date date, engagement_score long, viral_score int",
    ).select(F.xxhash64("content_id").alias("content_key"), "event_date", "engagement_score", "viral_score")
    assert_df_equality(performance, expected, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)

    lists = table(spark, lake, "fact_creator_analytics").where(F.col("user_key") == F.xxhash64(F.lit("kim"))).select(
        "event_date", "trending_content_ids")
    expected_lists = spark.createDataFrame([(days[0], "[]"), (days[1], '["v1"]'), (days[2], '["v1","v2"]')],
                                           "event_date date, trending_content_ids string")
    assert_df_equality(lists, expected_lists, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)
