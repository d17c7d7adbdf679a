"""Kill dims (SIGKILL to the driver and its JVM) between the commits of one micro-batch, look at
what a reader sees in between, kill its rerun one commit further, look again, rerun, and prove every
table equals a clean run's on the same files."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal

import pytest
from chispa import assert_df_equality

from jobs import dims
from tests.e2e.conftest import run_job_in_process, run_spark_submit
from tests.e2e.producer import Landing, iso

pytestmark = pytest.mark.e2e
UTC = dt.timezone.utc
TABLES = ("cdc_users", "dim_users", "dim_users_history", "quarantine")
RUN_TIMESTAMPS = ("ingested_at", "ingest_date")  # when the job ran, not what it derived
FIRST, SECOND = (dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - dt.timedelta(days=d)
                 for d in (3, 1))


def user_change(user: str, when: dt.datetime, region: str, **fields) -> str:
    return json.dumps({"op": "upsert", "user_id": user, "updated_at": iso(when), "registration_date": "2025-03-01",
                       "user_type": "creator", "creator_tier": "casual", "region": region, "follower_count": 5,
                       "following_count": 1, **fields})


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    """Two files, one micro-batch each (max_files_per_trigger=1, oldest first); bad lines in both."""
    root = tmp_path_factory.mktemp("dims_crash") / "landing"
    producer = Landing(root)
    bo = user_change("bo", FIRST, "PT")
    first = producer.write("users", "1.jsonl", [user_change("ana", FIRST, "BR", analytics_consent=False), bo,
                                                '{"op": "upsert", "user_id": "cut'])
    second = producer.write("users", "2.jsonl", [user_change("ana", SECOND, "FR"), bo,
                                                 json.dumps({"op": "upsert", "updated_at": iso(SECOND)})])
    now = dt.datetime.now().timestamp()
    os.utime(first, (now - 120, now - 120))
    os.utime(second, (now - 60, now - 60))
    return root


def dims_args(landing, lake) -> list[str]:
    # A short calendar (dim_date) keeps each run small; it plays no part here.
    return ["--landing", str(landing), "--lake", str(lake), "--feeds", "users",
            "--set", "ingest.max_files_per_trigger=1",
            "--set", f'ingest.earliest_event="{iso(FIRST - dt.timedelta(days=7))}"',
            "--set", "dims.calendar_days_ahead=1"]


def read(spark, lake, name):
    return spark.read.format("delta").load(str(lake / name)).drop(*RUN_TIMESTAMPS)


@pytest.fixture(scope="module")
def clean_lake(spark, landing, tmp_path_factory):
    lake = tmp_path_factory.mktemp("dims_clean") / "lake"
    assert dims.main(dims_args(landing, lake), spark=spark) == 0
    return lake


def rows(frame, *columns) -> list[tuple]:
    return sorted(tuple(r) for r in frame.select(*columns).collect())


# What a reader sees after each kill in batch 1 (ana moves from BR to FR): (cdc_users, dim_users,
# history). In this order: the second run restarts from what the first left.
BETWEEN_COMMITS = {
    "after_change_log:1": (3, "BR", [("BR", True)]),   # the change is logged, nothing derived from it
    "after_dimension:1": (3, "FR", [("BR", True)]),    # dim_users is new, its history still the old period
}


def test_killed_dims_reruns_repair_every_table(spark, capsys, landing, clean_lake, tmp_path):
    lake = tmp_path / "lake"
    ana = "user_id = 'ana'"
    for kill_point, (changes, region, periods) in BETWEEN_COMMITS.items():
        crashed = run_spark_submit(["dims", *dims_args(landing, lake)], env={"SHORTVIDEO_FAILPOINT": kill_point})
        output = f"{kill_point}: stdout:\n{crashed.stdout[-3000:]}\nstderr:\n{crashed.stderr[-3000:]}"
        assert crashed.returncode == -signal.SIGKILL, output
        assert not any(line.startswith('{"job"') for line in crashed.stdout.splitlines()), output

        assert read(spark, lake, "cdc_users").count() == changes, kill_point
        assert rows(read(spark, lake, "dim_users").where(ana), "region") == [(region,)], kill_point
        assert rows(read(spark, lake, "dim_users_history").where(ana), "region", "is_current") == periods
        assert read(spark, lake, "quarantine").count() == 2  # both batches' bad lines, committed first

    code, report = run_job_in_process(dims.main, dims_args(landing, lake), spark, capsys)
    assert code == 0 and report["status"] == "ok", report
    for name in TABLES:
        assert_df_equality(read(spark, lake, name), read(spark, clean_lake, name), ignore_row_order=True,
                           ignore_column_order=True, ignore_nullable=True, ignore_metadata=True)
    assert rows(read(spark, lake, "dim_users").where(ana), "region", "analytics_consent") == [("FR", False)]
