"""Seeded random streams and the vectorised draws built on them."""

from __future__ import annotations

from typing import Any

import numpy as np

from jobs.generator.parameters import HOURS_PER_DAY, LOCAL_HOURLY_ACTIVITY, MS_PER_HOUR
from jobs.generator.spec import GeneratorSpec

# Seed streams: each (seed, day, stream) gets its own generator so days and feeds are independent.
STREAM_WORLD, STREAM_USERS, STREAM_CONTENT, STREAM_AUDIENCE = range(4)
STREAM_ENGAGEMENTS, STREAM_DISCOVERY, STREAM_ENGAGEMENT_DELIVERY, STREAM_DISCOVERY_DELIVERY = range(
    4, 8
)
STREAM_TASTES = 8  # added later: its own stream, so the others' draws stay as they were


def stream_rng(spec: GeneratorSpec, stream: int, day_index: int = -1) -> np.random.Generator:
    return np.random.default_rng([spec.seed, day_index + 1, stream])


def shares(weights: tuple[float, ...]) -> np.ndarray:
    values = np.asarray(weights, dtype=np.float64)
    return values / values.sum()


def draw_categorical(rng: np.random.Generator, weights: tuple[float, ...], size: Any) -> np.ndarray:
    """Category indexes drawn with the given relative weights (vectorised)."""
    cdf = np.cumsum(shares(weights))
    return np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), len(weights) - 1)


def draw_weighted(rng: np.random.Generator, cdf: np.ndarray, size: int) -> np.ndarray:
    """Indexes drawn in proportion to the weights whose running sum is `cdf` (weight 0: never)."""
    picks = np.searchsorted(cdf, rng.random(size) * cdf[-1], side="right")
    return np.minimum(picks, len(cdf) - 1)


def pick(rng: np.random.Generator, options: tuple[Any, ...]) -> Any:
    return options[int(rng.integers(len(options)))]


def utc_hours(rng: np.random.Generator, utc_offsets: np.ndarray) -> np.ndarray:
    """An hour of the UTC day per actor, drawn from the activity curve of the actor's local day."""
    local = draw_categorical(rng, LOCAL_HOURLY_ACTIVITY, len(utc_offsets))
    return (local - utc_offsets) % HOURS_PER_DAY


def diurnal_times(rng: np.random.Generator, utc_offsets: np.ndarray, day_start: int) -> np.ndarray:
    """Epoch-ms times within one UTC day, one per actor, following its local activity curve."""
    hours = utc_hours(rng, utc_offsets)
    return day_start + hours * MS_PER_HOUR + rng.integers(0, MS_PER_HOUR, len(utc_offsets))
