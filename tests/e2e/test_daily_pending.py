"""`daily --pending` on a temporary lake: every kind of stale day is picked, a day that is not stale
is not, and after `daily --pending` a second `--pending` picks nothing.

Kinds of staleness (jobs/daily.py pending_days):
- engagements that arrived after the day's last computation, late or not, and days never computed
  that received engagements (today's events, which are not late, included);
- content changes that arrived after the day's computation and reach it: the video's upload day,
  old or new (content_posted); the days of its performance rows and the day after (trending lists,
  e.g. a removal, or the catalog entry of a video that was unknown when the day was computed); once
  its creator changed, the 30-day baseline window after its rows.
Each kind is the only one to reach at least one of the days expected, so each is proven needed.
"""

from __future__ import annotations

import datetime as dt

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs import daily, dims, ingest
from tests.e2e.producer import Landing
from tests.e2e.test_dims_daily_e2e import content_change, engagement, run, table

pytestmark = pytest.mark.e2e
UTC = dt.timezone.utc


def test_pending_picks_every_stale_day_and_only_those(spark, capsys, lake_dirs):
    landing, lake = lake_dirs
    producer = Landing(landing)
    lake_args = ["--landing", str(landing), "--lake", str(lake)]
    recent = dt.datetime.now(UTC) - dt.timedelta(minutes=2)  # today's events, in the past
    midnight = recent.replace(hour=0, minute=0, second=0, microsecond=0)

    def at(days_before: int, hour: int = 12) -> dt.datetime:
        return midnight - dt.timedelta(days=days_before) + dt.timedelta(hours=hour)

    def day(days_before: int) -> dt.date:
        return at(days_before).date()

    def pending() -> list[str]:
        report = run(daily, spark, capsys, "--lake", str(lake), "--pending")
        return sorted(report["per_day"])

    long_ago = at(60)
    producer.write("content", "c1.jsonl", [
        content_change("old", "ann", long_ago, long_ago),        # engaged with 40 days ago only
        content_change("keep", "cat", long_ago, long_ago),       # engaged with every computed day, never changes
        content_change("posted", "cat", at(1, 8), at(1, 8)),     # posted yesterday, no events
    ])  # "gone", engaged with 3 days ago only, is not in the catalog yet
    computed = [40, 10, 9, 7, 5, 3, 2, 1]
    producer.write("engagements", "e1.jsonl", [
        *[engagement(f"k{n}", "fan", "keep", at(n)) for n in computed],
        engagement("k0", "fan", "keep", recent),
        engagement("o40", "fan", "old", at(40)),
        engagement("g3", "fan", "gone", at(3)),
    ])
    run(ingest, spark, capsys, *lake_args, "--once")
    run(dims, spark, capsys, *lake_args)
    # Never computed, all received events: the late days and today, whose events are not late.
    report = run(daily, spark, capsys, "--lake", str(lake), "--pending")
    assert sorted(report["per_day"]) == sorted([day(n).isoformat() for n in computed] + [recent.date().isoformat()])
    assert report["unattributed_content"] == 1  # "gone", on its day
    assert pending() == []

    # More events of today and a late one, and three content changes, all after every day was computed.
    producer.write("engagements", "e2.jsonl", [engagement("k0b", "fan2", "keep", recent),
                                               engagement("k7b", "fan2", "keep", at(7))])
    producer.write("content", "c2.jsonl", [
        content_change("posted", "cat", at(5, 8), at(0, 0)),  # upload day moved: yesterday -> 5 days ago
        content_change("gone", "dan", long_ago, at(0, 0), moderation_status="removed"),  # known at last
        content_change("old", "bob", long_ago, at(0, 0)),     # another creator: 40 days ago's baselines
    ])
    run(ingest, spark, capsys, *lake_args, "--once")
    run(dims, spark, capsys, *lake_args)
    expected = {
        recent.date(),        # events arrived on the day itself
        day(7),               # a late event
        day(1), day(5),       # content_posted: the old upload day and the new one
        day(3), day(2),       # the removed video's performance row, and the day after (trending lists)
        day(40), day(10),     # the re-attributed video's row, and the baseline window up to 30 days after
    }                         # not: 9 days ago (31 days after the row)
    report = run(daily, spark, capsys, "--lake", str(lake), "--pending")
    assert sorted(report["per_day"]) == sorted(d.isoformat() for d in expected)
    assert report["unattributed_content"] == 0
    assert pending() == []

    posted = (table(spark, lake, "fact_creator_analytics")
              .where((F.col("user_key") == F.xxhash64(F.lit("cat"))) & F.col("event_date").isin(day(1), day(5)))
              .select("event_date", "content_posted"))
    assert_df_equality(posted, spark.createDataFrame([(day(1), 0), (day(5), 1)], "event_date date, content_posted int"),
                       ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)
