"""The tests' "today": UTC midnight as the running test module first asked for it.

Tests build event times relative to today (`days_ago(2, 9)`). Read from the clock at each call, two
calls around midnight UTC gave different days, so a change written twice to be a repeat was not
one (CI's run crossed midnight). One midnight per module (tests/conftest.py resets it) keeps a
module's times consistent; a module is a few minutes long, so its times stay in the recent past.
"""

from __future__ import annotations

import datetime as dt

_midnight: dt.datetime | None = None


def utc_midnight() -> dt.datetime:
    global _midnight
    if _midnight is None:
        _midnight = dt.datetime.now(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return _midnight


def days_ago(days: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    """That many days before the module's today, at hour:minute UTC."""
    return utc_midnight() - dt.timedelta(days=days) + dt.timedelta(hours=hour, minutes=minute)


def new_day() -> None:
    """The next call of utc_midnight() reads the clock again (a new module starts)."""
    global _midnight
    _midnight = None
