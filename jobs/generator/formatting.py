"""Building blocks of the JSON lines: dates, ISO timestamps, event ids, pre-built fragments."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np

from jobs.generator.parameters import EPOCH, MS_PER_DAY, MS_PER_SECOND

JSON_SEPARATORS = (",", ":")
ID_HEX_DIGITS = 16
JSON_BOOLEANS = np.array(["false", "true"], dtype=object)


def day_start_ms(day: dt.date) -> int:
    return (day - EPOCH).days * MS_PER_DAY


def fragments(key: str, values: tuple[str, ...]) -> np.ndarray:
    """Pre-built `,"key":"value"` JSON fragments; index -1 is the empty one (field left out)."""
    return np.array([f',"{key}":"{value}"' for value in values] + [""], dtype=object)


def _time_of_day_table() -> np.ndarray:
    return np.array(
        [f"T{h:02d}:{m:02d}:{s:02d}." for h in range(24) for m in range(60) for s in range(60)],
        dtype=object,
    )


# Timestamps are built from lookup tables: numpy's datetime_as_string costs ~1 us per value.
TIME_OF_DAY = _time_of_day_table()
MILLIS = np.array([f"{ms:03d}Z" for ms in range(MS_PER_SECOND)], dtype=object)


def iso_date_text(epoch_ms: int) -> str:
    return (EPOCH + dt.timedelta(days=epoch_ms // MS_PER_DAY)).isoformat()


def time_of_day_parts(epoch_ms: np.ndarray) -> tuple[list[str], list[str]]:
    """("THH:MM:SS.", "mmmZ") per timestamp; the date part is prepended by the caller."""
    return (
        TIME_OF_DAY[(epoch_ms // MS_PER_SECOND) % (MS_PER_DAY // MS_PER_SECOND)].tolist(),
        MILLIS[epoch_ms % MS_PER_SECOND].tolist(),
    )


def iso_timestamps(epoch_ms: np.ndarray) -> list[str]:
    """ISO-8601 UTC with milliseconds and Z, e.g. 2026-11-20T13:45:12.123Z."""
    epoch_ms = np.asarray(epoch_ms, dtype=np.int64)
    days, day_of = np.unique(epoch_ms // MS_PER_DAY, return_inverse=True)
    dates = np.array([iso_date_text(int(d) * MS_PER_DAY) for d in days], dtype=object)
    times, millis = time_of_day_parts(epoch_ms)
    return [d + t + m for d, t, m in zip(dates[day_of.ravel()].tolist(), times, millis)]


def mix_ids(counters: np.ndarray, key: int) -> np.ndarray:
    """A bijection of 64-bit counters (splitmix64 finaliser): unique, random-looking ids."""
    z = counters.astype(np.uint64) + np.uint64(key)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def event_ids(prefix: str, key: int, day_index: int, sequence: np.ndarray) -> list[str]:
    """`prefix` + 16 hex digits; hexed in one go (big-endian bytes) as per-id formatting is slow."""
    counters = (np.int64(day_index) << np.int64(32)) + np.asarray(sequence, dtype=np.int64)
    digits = mix_ids(counters, key).astype(">u8").tobytes().hex()
    return [prefix + digits[i : i + ID_HEX_DIGITS] for i in range(0, len(digits), ID_HEX_DIGITS)]


# Only the rare CDC deletes and bad lines go through json; every other line is an f-string,
# which is safe because all its string values come from fixed ASCII vocabularies.
def dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, separators=JSON_SEPARATORS)


def json_strings(values: list[str]) -> str:
    """A JSON array of plain-ASCII vocabulary strings (no escaping needed)."""
    return "[" + ",".join(f'"{value}"' for value in values) + "]"
