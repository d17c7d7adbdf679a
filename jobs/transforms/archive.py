"""Archival's rules: which days leave the hot tables, and hot plus archive without a row twice."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame


def archive_cutoff(today: dt.date, hot_days: int, before: dt.date | None = None) -> dt.date:
    """The first day that stays hot: `before` when given, else `hot_days` days before today (so a
    day exactly hot_days old stays, and an older one moves)."""
    return before if before is not None else today - dt.timedelta(days=hot_days)


def filter_unarchived(hot: DataFrame, archived: DataFrame, identity: list[str]) -> DataFrame:
    """The hot rows whose event the archive does not hold (a row is in both between the archive's
    commit and the hot delete, or when a repeat delivery raced the archival)."""
    return hot.join(archived.select(*identity), on=identity, how="left_anti")


def union_hot_and_archive(hot: DataFrame, archived: DataFrame, identity: list[str]) -> DataFrame:
    """Every event once: the archive's rows, then the hot rows it does not hold."""
    return archived.unionByName(hot.transform(filter_unarchived, archived, identity))
