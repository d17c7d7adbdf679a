"""Rows of the small dimensions that are derived, not fed: the calendar and the engagement types."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.common.config import EngagementType
from jobs.common.keys import hour_key
from schemas import TABLES

SUNDAY, SATURDAY = 1, 7  # Spark's dayofweek numbering


def calendar_rows(spark: SparkSession, first_day: dt.date, last_day: dt.date) -> DataFrame:
    """dim_date's row of every UTC hour from the start of `first_day` to the end of `last_day`.

    Each row is derived from its hour's timestamp (no key parsed back from text, and no shuffle to
    de-duplicate: the hours are distinct by construction); a lake's first `dims` makes some 100,000.
    The session time zone is UTC."""
    start = dt.datetime.combine(first_day, dt.time(), tzinfo=dt.timezone.utc)
    hours = ((last_day - first_day).days + 1) * 24
    hour_start = F.timestamp_seconds(F.lit(int(start.timestamp())) + F.col("id") * 3600)
    return spark.range(hours).select(
        hour_key(hour_start).alias("date_key"),
        F.to_date(hour_start).alias("full_date"),
        F.year(hour_start).alias("year"),
        F.month(hour_start).alias("month"),
        F.dayofmonth(hour_start).alias("day_of_month"),
        F.dayofweek(hour_start).alias("day_of_week"),
        F.hour(hour_start).alias("hour"),
        F.dayofweek(hour_start).isin(SUNDAY, SATURDAY).alias("is_weekend"),
    )


def engagement_type_rows(spark: SparkSession, types: Iterable[EngagementType]) -> DataFrame:
    """dim_engagement_type from configuration: the weights are data, the keys are fixed."""
    rows = [(t.key, t.engagement_type, t.weight, t.counts_as_view) for t in types]
    return spark.createDataFrame(rows, TABLES["dim_engagement_type"].schema)
