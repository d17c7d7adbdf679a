"""Datetimes in tests that mean the same instant under any host time zone.

PySpark turns a naive datetime into a timestamp with the Python process's time zone
(`time.mktime`) and gives timestamps back from collect() as naive datetimes in that zone; the lake's
timestamps are UTC instants. So tests build aware UTC datetimes with `utc(...)` and read collected
timestamps with `as_utc(...)`; CI runs part of the suite under another zone to prove it.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from contextlib import contextmanager
from typing import Iterator

UTC = dt.timezone.utc


def utc(*fields: int) -> dt.datetime:
    """dt.datetime(*fields) in UTC: the instant Spark stores, whatever the host's zone."""
    return dt.datetime(*fields, tzinfo=UTC)


def as_utc(collected: dt.datetime | None) -> dt.datetime | None:
    """A timestamp from collect() (naive, in this process's zone) as the aware UTC instant."""
    return None if collected is None else collected.astimezone(UTC)


@contextmanager
def process_time_zone(name: str) -> Iterator[None]:
    """This Python process in another time zone for a while (the JVM keeps its own)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()
