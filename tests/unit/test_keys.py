"""Unit tests of jobs/common/keys.py: the UTC hour key and the xxhash64 surrogate key."""

from __future__ import annotations


from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs.common.keys import hour_key, surrogate_key
from tests.timezones import utc


def test_hour_key_first_and_last_instant_of_a_day(spark):
    stamps = spark.createDataFrame(
        [
            ("midnight", utc(2026, 11, 20, 0, 0, 0)),
            ("last_ms", utc(2026, 11, 20, 23, 59, 59, 999000)),
            ("new_year", utc(2027, 1, 1, 0, 0, 0)),
            ("leap_day", utc(2028, 2, 29, 9, 5, 0)),
        ],
        "name string, ts timestamp",
    )
    actual = stamps.select("name", hour_key("ts").alias("date_key"))
    expected = spark.createDataFrame(
        [("midnight", 2026112000), ("last_ms", 2026112023), ("new_year", 2027010100), ("leap_day", 2028022909)],
        "name string, date_key int",
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_hour_key_uses_the_utc_hour_of_offset_inputs(spark):
    texts = spark.createDataFrame(
        [
            ("2026-01-01T01:30:00+02:00",),  # 2025-12-31 23:30 UTC
            ("2025-12-31T22:30:00-05:00",),  # 2026-01-01 03:30 UTC
            ("2026-03-01T00:15:00+00:30",),  # 2026-02-28 23:45 UTC
        ],
        "text string",
    )
    actual = texts.select("text", hour_key(F.col("text").cast("timestamp")).alias("date_key"))
    expected = spark.createDataFrame(
        [
            ("2026-01-01T01:30:00+02:00", 2025123123),
            ("2025-12-31T22:30:00-05:00", 2026010103),
            ("2026-03-01T00:15:00+00:30", 2026022823),
        ],
        "text string, date_key int",
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_hour_key_of_null_is_null(spark):
    row = spark.createDataFrame([(None,)], "ts timestamp").select(hour_key("ts").alias("k")).first()
    assert row["k"] is None


def test_surrogate_key_equals_spark_sql_xxhash64(spark):
    expected = spark.sql(
        "SELECT 'u1' AS id, xxhash64('u1') AS key UNION ALL SELECT '12345', xxhash64('12345') "
        "UNION ALL SELECT '', xxhash64('')"
    )
    ids = spark.createDataFrame([("u1",), ("12345",), ("",)], "id string")
    by_name = ids.select("id", surrogate_key("id").alias("key"))
    by_column = ids.select("id", surrogate_key(F.col("id")).alias("key"))
    assert_df_equality(by_name, expected, ignore_row_order=True, ignore_nullable=True)
    assert_df_equality(by_column, expected, ignore_row_order=True, ignore_nullable=True)
    assert dict(by_name.dtypes)["key"] == "bigint"


def test_surrogate_key_deterministic_and_distinct_for_10k_ids(spark):
    ids = spark.range(10_000).select(F.concat(F.lit("u"), F.col("id").cast("string")).alias("user_id"))
    first = ids.select("user_id", surrogate_key("user_id").alias("key"))
    # A second, independent computation (other partitioning) must give the very same key per id.
    second = ids.repartition(3).select("user_id", surrogate_key("user_id").alias("key_again"))
    stats = first.join(second, "user_id").agg(
        F.count("*").alias("rows"),
        F.countDistinct("key").alias("distinct_keys"),
        F.sum(F.when(F.col("key") != F.col("key_again"), 1).otherwise(0)).alias("mismatches"),
        F.sum(F.col("key").isNull().cast("int")).alias("null_keys"),
    ).first()
    assert stats["rows"] == 10_000
    assert stats["distinct_keys"] == 10_000  # no collision
    assert stats["mismatches"] == 0
    assert stats["null_keys"] == 0
