"""The real ingest (--once, in-process) on a landing file whose bytes are not all UTF-8."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs import ingest
from tests.e2e.conftest import run_job_in_process

pytestmark = pytest.mark.e2e


def test_a_line_that_is_not_utf8_is_quarantined_with_valid_text(spark, capsys, lake_dirs):
    landing, lake = lake_dirs
    at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(hours=2)
    event = {"event_id": "e1", "user_id": "u1", "content_id": "c1", "engagement_type": "like",
             "event_timestamp": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "engagement_context": "Z\u00fcrich \U0001f3b5"}
    good = json.dumps(event, ensure_ascii=False).encode()
    latin1 = json.dumps(event | {"event_id": "e2", "engagement_context": "Z\u00fcrich"},
                        ensure_ascii=False).encode("latin-1")  # "ü" as the single byte 0xFC
    (landing / "engagements").mkdir()
    (landing / "engagements" / "a.jsonl").write_bytes(good + b"\n" + latin1 + b"\n")

    code, report = run_job_in_process(
        ingest.main, ["--landing", str(landing), "--lake", str(lake), "--once", "--feeds", "engagements"],
        spark, capsys,
    )

    assert code == 0, report
    assert (report["lines_read"], report["accepted"], report["quarantined"]) == (2, 1, 1), report
    accepted = spark.read.format("delta").load(str(lake / "fact_content_engagements"))
    assert [(r.event_id, r.engagement_context) for r in accepted.collect()] == [("e1", "Z\u00fcrich \U0001f3b5")]
    quarantine = spark.read.format("delta").load(str(lake / "quarantine")).select(
        "reason", "reason_detail", "user_id", F.hex("raw_line").alias("raw_line_hex"),
        F.is_valid_utf8("raw_line").alias("raw_line_is_utf8"),
    )
    replaced = latin1.decode("utf-8", errors="replace").encode()  # 0xFC kept as U+FFFD
    expected = spark.createDataFrame(
        [("malformed_json", "not UTF-8", "u1", replaced.hex().upper(), True)],
        "reason string, reason_detail string, user_id string, raw_line_hex string, raw_line_is_utf8 boolean",
    )
    assert_df_equality(quarantine, expected, ignore_nullable=True, ignore_metadata=True)
