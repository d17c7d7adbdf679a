"""The derived dimensions: calendar rows from hour keys, engagement types from configuration."""

from __future__ import annotations

import datetime as dt

from chispa import assert_df_equality

from jobs.transforms.dimensions import engagement_type_rows, to_dim_date
from schemas import TABLES


def test_to_dim_date_one_row_per_hour_with_every_model_column(spark):
    keys = spark.createDataFrame([(2026112913,), (2026112913,), (2026113000,), (2026120223,), (None,)],
                                 "date_key int")
    actual = to_dim_date(keys)
    expected = spark.createDataFrame(
        [
            (2026112913, dt.date(2026, 11, 29), 2026, 11, 29, 1, 13, True),   # a Sunday
            (2026113000, dt.date(2026, 11, 30), 2026, 11, 30, 2, 0, False),   # a Monday, midnight
            (2026120223, dt.date(2026, 12, 2), 2026, 12, 2, 4, 23, False),    # a Wednesday, last hour
        ],
        TABLES["dim_date"].schema,
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)


def test_engagement_type_rows_follow_the_configuration(spark, conf):
    actual = engagement_type_rows(spark, conf.engagement_types)
    by_type = {r.engagement_type: r for r in actual.collect()}
    assert set(by_type) == {"view", "like", "comment", "share", "save", "follow", "unfollow", "duet", "remix"}
    assert (by_type["share"].engagement_weight, by_type["save"].engagement_weight) == (10, 8)
    assert by_type["unfollow"].engagement_weight == 0
    assert [t for t, r in by_type.items() if r.counts_as_view] == ["view"]
    assert len({r.engagement_key for r in by_type.values()}) == 9
