"""The derived dimensions: the calendar's hours, engagement types from configuration."""

from __future__ import annotations

import datetime as dt

from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs.transforms.dimensions import calendar_rows, engagement_type_rows
from schemas import TABLES


def test_calendar_rows_one_row_per_utc_hour_with_every_model_column(spark):
    calendar = calendar_rows(spark, dt.date(2026, 11, 29), dt.date(2026, 12, 2))

    keys = [row.date_key for row in calendar.select("date_key").collect()]
    assert len(keys) == len(set(keys)) == 4 * 24
    assert (min(keys), max(keys)) == (2026112900, 2026120223)
    expected = spark.createDataFrame(
        [
            (2026112900, dt.date(2026, 11, 29), 2026, 11, 29, 1, 0, True),    # a Sunday, the first hour
            (2026112913, dt.date(2026, 11, 29), 2026, 11, 29, 1, 13, True),
            (2026113000, dt.date(2026, 11, 30), 2026, 11, 30, 2, 0, False),   # a Monday, midnight
            (2026120114, dt.date(2026, 12, 1), 2026, 12, 1, 3, 14, False),    # across the month's end
            (2026120223, dt.date(2026, 12, 2), 2026, 12, 2, 4, 23, False),    # a Wednesday, the last hour
        ],
        TABLES["dim_date"].schema,
    )
    picked = calendar.where(F.col("date_key").isin(*[row[0] for row in expected.collect()]))
    assert_df_equality(picked, expected, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)


def test_engagement_type_rows_follow_the_configuration(spark, conf):
    actual = engagement_type_rows(spark, conf.engagement_types)
    by_type = {r.engagement_type: r for r in actual.collect()}
    assert set(by_type) == {"view", "like", "comment", "share", "save", "follow", "unfollow", "duet", "remix"}
    assert (by_type["share"].engagement_weight, by_type["save"].engagement_weight) == (10, 8)
    assert by_type["unfollow"].engagement_weight == 0
    assert [t for t, r in by_type.items() if r.counts_as_view] == ["view"]
    assert len({r.engagement_key for r in by_type.values()}) == 9
