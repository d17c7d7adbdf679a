"""Benchmark: a DELETE and a MERGE on a dimension-sized table, with and without deletion vectors.

    python -m benchmarks.deletion_vectors [--rows 2000000] [--files 8] [--rounds 2] [--workdir DIR]

A dim_users-shaped table (schemas/tables.py) of ROWS users in FILES files is written twice, once with
`delta.enableDeletionVectors` on and once off. On each, in rounds (a fresh copy per round):

* DELETE of 1,000 users spread over the table (what an erasure batch does to a dimension);
* MERGE of a dims-like batch: 1% of the users changed, 0.1% new (jobs/common/lake.py upsert_rows);
* a full scan after both (deletion vectors are applied at read time);
* with deletion vectors, the REORG ... APPLY (PURGE) that an erasure needs before VACUUM.

Each figure is the best of the rounds; bytes are Delta's own operation metrics (bytes of files
added). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.common.config import load_conf
from jobs.common.lake import conform
from jobs.common.spark import start_spark
from schemas import TABLES

SPEC = TABLES["dim_users"]
DELETED_USERS = 1_000
CHANGED_SHARE, NEW_SHARE = 0.01, 0.001
MB = 1024 * 1024


def users(spark: SparkSession, first: int, count: int, salt: str = "") -> DataFrame:
    user_id = F.concat(F.lit("user_"), F.col("id").cast("string"))
    return conform(
        spark.range(first, first + count).select(
            F.xxhash64(user_id).alias("user_key"),
            user_id.alias("user_id"),
            F.date_sub(F.current_date(), (F.col("id") % 900).cast("int")).alias("registration_date"),
            F.when(F.col("id") % 10 == 0, "creator").otherwise("consumer").alias("user_type"),
            F.when(F.col("id") % 10 == 0, "casual").alias("creator_tier"),
            F.element_at(F.array(*[F.lit(r) for r in ("BR", "US", "IN", "DE", "JP")]),
                         (F.col("id") % 5 + 1).cast("int")).alias("region"),
            (F.col("id") % 5000 + F.length(F.lit(salt))).alias("follower_count"),
            (F.col("id") % 700).alias("following_count"),
            F.lit(True).alias("analytics_consent"),
            F.lit(False).alias("is_deleted"),
            F.current_timestamp().alias("updated_at"),
        ),
        SPEC,
    )


def last_metrics(spark: SparkSession, path: str) -> dict:
    return dict(DeltaTable.forPath(spark, path).history(1).first()["operationMetrics"] or {})


def timed(action) -> float:
    started = time.monotonic()
    action()
    return time.monotonic() - started


def one_round(spark: SparkSession, base: str, path: str, rows: int, with_dvs: bool) -> dict:
    shutil.rmtree(path, ignore_errors=True)
    shutil.copytree(base, path)
    enabled = str(with_dvs).lower()
    spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ('delta.enableDeletionVectors' = '{enabled}')")
    table = DeltaTable.forPath(spark, path)
    step = max(rows // DELETED_USERS, 1)
    doomed = [f"user_{n}" for n in range(0, rows, step)][:DELETED_USERS]
    figures = {"delete_s": timed(lambda: table.delete(F.col("user_id").isin(doomed)))}
    metrics = last_metrics(spark, path)
    figures["delete_mb"] = int(metrics.get("numAddedBytes", 0)) / MB

    changed = users(spark, rows // 3, int(rows * CHANGED_SHARE), salt="changed")
    new = users(spark, rows, int(rows * NEW_SHARE))
    batch = changed.unionByName(new)
    merge = (table.alias("target").merge(batch.alias("source"), "target.user_key = source.user_key")
             .whenMatchedUpdateAll(condition="NOT (target.follower_count <=> source.follower_count)")
             .whenNotMatchedInsertAll())
    figures["merge_s"] = timed(merge.execute)
    metrics = last_metrics(spark, path)
    figures["merge_mb"] = (int(metrics.get("numTargetBytesAdded", 0)) or int(metrics.get("numAddedBytes", 0))) / MB

    figures["scan_s"] = timed(lambda: spark.read.format("delta").load(path)
                              .agg(F.sum("follower_count"), F.count("*")).collect())
    if with_dvs:
        figures["purge_s"] = timed(lambda: spark.sql(f"REORG TABLE delta.`{path}` APPLY (PURGE)").collect())
        figures["purge_mb"] = int(last_metrics(spark, path).get("numAddedBytes", 0)) / MB
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args(argv)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="dv-bench-"))
    spark = start_spark("dv-benchmark", load_conf("local"))
    base = str(workdir / "base")
    shutil.rmtree(base, ignore_errors=True)
    users(spark, 0, args.rows).repartition(args.files).write.format("delta").save(base)
    base_mb = sum(p.stat().st_size for p in Path(base).rglob("*.parquet")) / MB

    results = {}
    for with_dvs in (False, True):
        rounds = [one_round(spark, base, str(workdir / f"dv_{with_dvs}"), args.rows, with_dvs)
                  for _ in range(args.rounds)]
        results[with_dvs] = {key: min(r[key] for r in rounds) for key in rounds[0]}

    print(f"\n{args.rows:,} rows in {args.files} files ({base_mb:.0f} MB); best of {args.rounds} rounds\n")
    print("| deletion vectors | DELETE 1,000 users | MERGE 1% changed + 0.1% new | full scan after | "
          "REORG PURGE |")
    print("|---|---|---|---|---|")
    for with_dvs, r in results.items():
        purge = f"{r['purge_s']:.1f} s, {r['purge_mb']:.1f} MB" if with_dvs else "not needed"
        print(f"| {'on' if with_dvs else 'off'} | {r['delete_s']:.1f} s, {r['delete_mb']:.1f} MB written | "
              f"{r['merge_s']:.1f} s, {r['merge_mb']:.1f} MB written | {r['scan_s']:.2f} s | {purge} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
