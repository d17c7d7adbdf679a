"""Kill the ingest (SIGKILL to the driver and its JVM) at several points in turn, each run a restart
of the one killed before it, then restart once more and prove that the lake ends exactly as a run
that never crashed leaves it: every fact column, the quarantine (raw lines, reasons, files, batches)
and ops_ingest_arrivals, with bad lines in every batch, so the replayed batch always holds some."""

from __future__ import annotations

import datetime as dt
import signal
from collections import Counter

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs import ingest
from tests.e2e.conftest import run_job_in_process, run_spark_submit
from tests.e2e.producer import Landing

pytestmark = pytest.mark.e2e

# In this order, each run restarting from what the run before it left: batch 1 is replayed three
# times, each replay killed one step further, then batch 2 dies once every table holds it.
KILL_POINTS = [
    "after_quarantine:1",   # quarantine committed, facts not yet
    "during_facts:1",       # in the middle of the facts write (files half written, no commit)
    "after_facts:1",        # facts committed, batch log and checkpoint not
    "before_checkpoint:2",  # every table committed, Spark's checkpoint commit not yet written
]
FILES, PER_BATCH = 6, 2
# Columns a run sets from its own clock or identity: everything else must match the clean run.
RUN_TIME_COLUMNS = {"ingested_at", "ingest_date", "app_id", "is_late"}


def ingest_args(landing, lake) -> list[str]:
    return ["--landing", str(landing), "--lake", str(lake), "--once", "--feeds", "engagements",
            "--set", f"ingest.max_files_per_trigger={PER_BATCH}"]


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> tuple:
    """The landing files every kill point reads (read only), and what the producer knows of them."""
    root = tmp_path_factory.mktemp("crash") / "landing"
    producer = Landing(root)
    start = dt.datetime.now(dt.timezone.utc).replace(minute=0, second=0, microsecond=0) - dt.timedelta(days=2)
    for part in range(FILES):
        events = [producer.engagement(start + dt.timedelta(minutes=7 * i + part)) for i in range(400)]
        lines = producer.good_lines(events) + producer.repeat(events[:5]) + producer.bad_lines(start)
        producer.write("engagements", f"part-{part}.jsonl", lines)
    return root, producer


@pytest.fixture(scope="module")
def clean_lake(spark, landing, tmp_path_factory):
    """The same files through an ingest that never crashed (in process, once for all kill points)."""
    root, producer = landing
    lake = tmp_path_factory.mktemp("clean") / "lake"
    assert ingest.main(ingest_args(root, lake), spark=spark) == 0
    facts = table(spark, lake, "fact_content_engagements")
    assert sorted(r.event_id for r in facts.select("event_id").collect()) == sorted(producer.good)
    return lake


def table(spark, lake, name: str) -> DataFrame:
    return spark.read.format("delta").load(str(lake / name))


def comparable(spark, lake, name: str) -> DataFrame:
    frame = table(spark, lake, name)
    return frame.select(*sorted(c for c in frame.columns if c not in RUN_TIME_COLUMNS))


def assert_same_table(spark, lake, clean_lake, name: str) -> None:
    assert_df_equality(comparable(spark, lake, name), comparable(spark, clean_lake, name),
                       ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)


def output(run) -> str:
    return f"exit {run.returncode}\n--- stdout ---\n{run.stdout[-3000:]}\n--- stderr ---\n{run.stderr[-3000:]}"


def test_an_ingest_killed_at_each_point_in_turn_restarts_as_if_it_never_crashed(spark, capsys, tmp_path, landing,
                                                                                  clean_lake):
    root, producer = landing
    lake = tmp_path / "lake"

    for kill_point in KILL_POINTS:
        crashed = run_spark_submit(["ingest", *ingest_args(root, lake)],
                                   env={"SHORTVIDEO_FAILPOINT": kill_point, "SHORTVIDEO_FAILPOINT_DELAY": "0.3"})
        # The process spark-submit.sh becomes (the driver's JVM) died of the failpoint's SIGKILL.
        assert crashed.returncode == -signal.SIGKILL, f"{kill_point}: {output(crashed)}"
        assert not any(line.startswith('{"job"') for line in crashed.stdout.splitlines()), output(crashed)

    # The restart needs no process of its own: only the kill does (the restart is in this process,
    # on the tests' session, a JVM that never saw the killed run's state).
    code, restarted = run_job_in_process(ingest.main, ingest_args(root, lake), spark, capsys)
    assert (code, restarted["status"]) == (0, "ok"), restarted

    # Every column of every fact, every quarantined line (raw text, reason, file, batch) and every
    # arrival (date, rows, batch) as the clean run wrote them: none lost, none doubled.
    for name in ("fact_content_engagements", "quarantine", "ops_ingest_arrivals"):
        assert_same_table(spark, lake, clean_lake, name)

    # ... and as the producer wrote them.
    quarantine = table(spark, lake, "quarantine")
    assert Counter((r.raw_line, r.reason) for r in quarantine.collect()) == Counter(producer.bad)
    bad_per_file = Counter(r.source_file.rsplit("/", 1)[-1] for r in quarantine.select("source_file").collect())
    assert bad_per_file == {f"part-{part}.jsonl": len(producer.bad) // FILES for part in range(FILES)}
    arrivals = table(spark, lake, "ops_ingest_arrivals")
    assert arrivals.agg(F.sum("rows")).first()[0] == len(producer.good) + producer.duplicate_lines
    assert arrivals.groupBy("batch_id", "event_date").count().where(F.col("count") > 1).count() == 0

    batches = table(spark, lake, "ops_ingest_batches").collect()
    assert sorted(b.batch_id for b in batches) == list(range(FILES // PER_BATCH))
    for batch in batches:
        assert batch.lines_read == batch.accepted + batch.duplicates + batch.quarantined + batch.erased, batch
        assert batch.quarantined == PER_BATCH * len(producer.bad) // FILES, batch
