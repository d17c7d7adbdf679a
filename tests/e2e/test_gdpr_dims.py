"""dims after an erasure: a change of the erased user (or a content change of the erased creator)
made before the request and arriving after it does not bring the user back; it is counted as
`erased`, never stored, never quarantined. A change made after the request is a returning user's."""

from __future__ import annotations

import json

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs import dims, gdpr
from jobs.common.landing import utc_now
from tests.e2e.producer import iso
from tests.e2e.test_gdpr_e2e import ALICE, CAROL, days_ago, run, user, video, write

pytestmark = pytest.mark.e2e


def user_change(user_id: str, when, region: str, **fields) -> str:
    return json.dumps({"op": "upsert", "user_id": user_id, "updated_at": iso(when), "registration_date": "2025-03-01",
                       "user_type": "creator", "creator_tier": "rising", "region": region, "follower_count": 10,
                       "following_count": 3, **fields})


def content_change(content_id: str, creator: str, when) -> str:
    return json.dumps({"op": "upsert", "content_id": content_id, "updated_at": iso(when),
                       "creator_user_id": creator, "content_type": "original", "category": "dance",
                       "duration_seconds": 30, "upload_timestamp": iso(days_ago(9))})


def rows(spark, lake, table: str, *columns: str):
    return spark.read.format("delta").load(str(lake / table)).select(*columns)


def assert_rows(spark, actual, expected: list[tuple]):
    expected_frame = spark.createDataFrame(expected, actual.schema) if expected else actual.limit(0)
    assert_df_equality(actual, expected_frame, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)


def test_changes_of_an_erased_user_made_before_the_request_do_not_bring_them_back(spark, capsys, lake_dirs):
    landing, lake = lake_dirs
    paths = ["--landing", str(landing), "--lake", str(lake)]
    write(landing, "users", "u1.jsonl", [user(ALICE, "creator"), user(CAROL, "creator")])
    write(landing, "content", "c1.jsonl", [video("vid-a1", ALICE), video("vid-c1", CAROL)])
    run(dims, spark, capsys, *paths)
    run(gdpr, spark, capsys, "--lake", str(lake), "--user-id", ALICE)
    back = utc_now()  # after the request: Alice's changes from now on are a returning user's

    write(landing, "users", "u2.jsonl", [
        user_change(ALICE, days_ago(5), "PT"),                      # in flight: made before the request
        user_change(ALICE, days_ago(4), "PT", user_type="alien"),   # in flight and bad: not quarantined
        user_change(CAROL, days_ago(5), "AR"),
        user_change(ALICE, back, "FR"),                             # back
    ])
    write(landing, "content", "c2.jsonl", [
        content_change("vid-a1", ALICE, days_ago(5)),               # in flight: her video does not return
        content_change("vid-a3", ALICE, days_ago(5)),
        content_change("vid-c2", CAROL, days_ago(5)),
        content_change("vid-a4", ALICE, back),                      # her new video
        # Her erased video taken down after the request: a delete need not name the creator.
        json.dumps({"op": "delete", "content_id": "vid-a1", "updated_at": iso(back)}),
    ])
    report = run(dims, spark, capsys, *paths)

    assert (report["users"]["erased"], report["content"]["erased"], report["erased"]) == (2, 3, 5), report
    assert (report["lines_read"], report["accepted"], report["duplicates"], report["quarantined"]) == (
        9, 4, 0, 0), report
    assert_rows(spark, rows(spark, lake, "cdc_users", "user_id", "region").where(F.col("user_id") == ALICE),
                [(ALICE, "FR")])
    assert_rows(spark, rows(spark, lake, "dim_users", "user_id", "region", "updated_at"),
                [(ALICE, "FR", back.replace(microsecond=back.microsecond // 1000 * 1000)),
                 (CAROL, "AR", days_ago(5))])
    assert_rows(spark, rows(spark, lake, "dim_users_history", "user_id", "region", "valid_from"),
                [(ALICE, "FR", back.replace(microsecond=back.microsecond // 1000 * 1000)),
                 (CAROL, "BR", days_ago(10)), (CAROL, "AR", days_ago(5))])
    assert_rows(spark, rows(spark, lake, "dim_content", "content_id", "creator_id"),
                [("vid-a4", ALICE), ("vid-c1", CAROL), ("vid-c2", CAROL)])
    assert_rows(spark, rows(spark, lake, "cdc_content", "content_id").where(F.col("content_id").startswith("vid-a")),
                [("vid-a4",)])
    assert rows(spark, lake, "quarantine", "raw_line").count() == 0
