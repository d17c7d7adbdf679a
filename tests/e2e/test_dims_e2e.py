"""dims in-process on temporary lakes: same-instant changes, and every line of the change feeds counted."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from chispa import assert_df_equality

from jobs import dims
from tests.e2e.conftest import run_job_in_process
from tests.e2e.producer import Landing, iso

pytestmark = pytest.mark.e2e
UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
TIE, LATER = NOW - dt.timedelta(days=3), NOW - dt.timedelta(days=1)
DERIVED = ("cdc_users", "dim_users", "dim_users_history")


def user_change(user: str, when: dt.datetime, tier: str | None, region: str = "BR", **fields) -> str:
    return json.dumps({"op": "upsert", "user_id": user, "updated_at": iso(when), "registration_date": "2025-03-01",
                       "user_type": "creator", "creator_tier": tier, "region": region, "follower_count": 100,
                       "following_count": 7, **fields})


def content_change(content: str, when: dt.datetime, **fields) -> str:
    return json.dumps({"op": "upsert", "content_id": content, "updated_at": iso(when), "creator_user_id": "ana",
                       "content_type": "original", "category": "dance", "duration_seconds": 20,
                       "upload_timestamp": iso(when), **fields})


def run_dims(spark, capsys, landing, lake, *feeds: str) -> dict:
    # A short calendar (dim_date) keeps each run small; it plays no part here.
    argv = ["--landing", str(landing), "--lake", str(lake), "--feeds", *(feeds or ("users",)),
            "--set", f'ingest.earliest_event="{iso(TIE - dt.timedelta(days=7))}"',
            "--set", "dims.calendar_days_ahead=1"]
    code, report = run_job_in_process(dims.main, argv, spark, capsys)
    assert code == 0 and report["status"] == "ok", report
    return report


def read(spark, lake, name):
    # What a run derived, without when it ran or which landing directory the line came from.
    return spark.read.format("delta").load(str(lake / name)).drop("ingested_at", "source_file")


def version(spark, lake, name) -> int:
    return spark.sql(f"DESCRIBE HISTORY delta.`{lake / name}` LIMIT 1").first()["version"]


def test_same_instant_changes_never_fail_and_settle_the_same_whatever_the_arrival(spark, capsys, tmp_path):
    lines = {
        "a.jsonl": [user_change("ana", TIE, "casual", region="BR")],
        "b.jsonl": [user_change("ana", TIE, "rising", region="FR")],  # same user, same instant
        "c.jsonl": [user_change("ana", LATER, "top", region="FR")],
    }
    arrivals = {"ab_then_c": [["a.jsonl", "b.jsonl"], ["c.jsonl"]], "bc_then_a": [["b.jsonl", "c.jsonl"], ["a.jsonl"]]}
    lakes = {}
    for name, runs in arrivals.items():
        landing, lake = tmp_path / name / "landing", tmp_path / name / "lake"
        producer = Landing(landing)
        for files in runs:
            for file in files:
                producer.write("users", file, lines[file])
            run_dims(spark, capsys, landing, lake)  # the MERGE of the history used to fail here
        lakes[name] = lake

    first, other = lakes["ab_then_c"], lakes["bc_then_a"]
    history = read(spark, first, "dim_users_history")
    assert history.count() == history.select("valid_from").distinct().count(), "two periods share a start"
    for name in DERIVED:
        assert_df_equality(read(spark, first, name), read(spark, other, name), ignore_row_order=True,
                           ignore_nullable=True, ignore_metadata=True)

    versions = {name: version(spark, first, name) for name in DERIVED}
    Landing(tmp_path / "ab_then_c" / "landing").write("users", "b-again.jsonl", lines["b.jsonl"])
    report = run_dims(spark, capsys, tmp_path / "ab_then_c" / "landing", first)
    assert (report["users"]["accepted"], report["users"]["duplicates"]) == (0, 1)
    assert {name: version(spark, first, name) for name in DERIVED} == versions, "a repeated tie changed a table"
    assert_df_equality(read(spark, first, "dim_users_history"), history, ignore_row_order=True)


def test_every_change_line_is_accepted_a_duplicate_or_quarantined(spark, capsys, tmp_path):
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    producer = Landing(landing)
    u1, u2, u3 = (user_change(u, TIE, "casual") for u in ("u1", "u2", "u3"))
    producer.write("users", "1.jsonl", [
        u1, u2, u3, u1,                                               # 3 changes, u1 twice in one file
        "",                                                           # blank: not a line read
        '{"op": "upsert", "user_id": "u9"',                           # malformed
        user_change("u9", TIE, "casual", user_type="robot"),          # unknown enum
    ])
    producer.write("users", "2.jsonl", [
        json.dumps(dict(reversed(json.loads(u2).items()))),          # u2 again, keys in another order
        user_change("u4", TIE, None, user_type="consumer"),          # new
        json.dumps({"op": "delete", "updated_at": iso(TIE)}),        # no user_id
    ])
    v1, v2 = content_change("v1", TIE), content_change("v2", TIE, moderation_status="removed")
    producer.write("content", "1.jsonl", [v1, v2, v1, content_change("v9", TIE, duration_seconds=-3)])
    producer.write("content", "2.jsonl", [v2, content_change("v9", TIE, content_type="vlog")])

    report = run_dims(spark, capsys, landing, lake, "users", "content")
    counted = ("lines_read", "accepted", "duplicates", "quarantined", "blank_lines")
    assert {c: report["users"][c] for c in counted} == dict(zip(counted, (9, 4, 2, 3, 1)))
    assert {c: report["content"][c] for c in counted} == dict(zip(counted, (6, 2, 2, 2, 0)))
    assert {c: report[c] for c in counted} == dict(zip(counted, (15, 6, 4, 5, 1)))
    assert read(spark, lake, "cdc_users").count() == 4 and read(spark, lake, "cdc_content").count() == 2
    assert read(spark, lake, "quarantine").count() == 5

    # Another run: a change repeated from an earlier run is a duplicate too, also in a batch of
    # nothing else (its MERGE commits nothing, so the last commit's metrics are not its own).
    producer.write("users", "3.jsonl", [u3, user_change("u5", TIE, "top")])
    producer.write("content", "3.jsonl", [v1])
    report = run_dims(spark, capsys, landing, lake, "users", "content")
    assert {c: report["users"][c] for c in counted} == dict(zip(counted, (2, 1, 1, 0, 0)))
    assert {c: report["content"][c] for c in counted} == dict(zip(counted, (1, 0, 1, 0, 0)))
