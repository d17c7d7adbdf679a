"""Who watches what, when: one day's active users and hourly video popularity."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jobs.generator.catalog import Catalog
from jobs.generator.draws import draw_weighted, utc_hours
from jobs.generator.parameters import (
    CATEGORIES,
    DAILY_BUZZ_SPREAD,
    HOURS_PER_DAY,
    MS_PER_DAY,
    MS_PER_HOUR,
    PENDING,
    NARROW_TASTE_FOCUS,
    PENDING_REACH,
    RECENCY_FLOOR,
    RECENCY_HALF_LIFE_DAYS,
)
from jobs.generator.population import Population


@dataclass(frozen=True)
class DayAudience:
    """Who is active and which videos the feed serves, hour by hour, on one day.

    Shared by engagements and discovery so impressions and views follow the same popularity.
    """

    day_start: int
    user_cdf: np.ndarray
    user_utc_offset: np.ndarray
    hourly_content_cdfs: tuple[np.ndarray, ...]
    user_favourite: np.ndarray  # each user's favourite category ...
    user_narrow: np.ndarray  # ... and whether the feed mostly serves them that
    category_videos: tuple[np.ndarray, ...]  # the catalog indexes of each category's videos
    # [hour][category]: the running sums of the weights of category_videos' videos
    hourly_category_cdfs: tuple[tuple[np.ndarray, ...], ...]
    taste_rng: np.random.Generator  # the tastes' own draws: the feeds' draws stay as they were

    def draw(
        self, count: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(epoch-ms sorted, user index, content index) for `count` interactions.

        Each user is active at the hours of their own local day; the feed serves the videos of
        the UTC hour it is in (for users with a narrow taste, mostly their favourite category's).
        """
        users = draw_weighted(rng, self.user_cdf, count)
        hours = utc_hours(rng, self.user_utc_offset[users])
        times = self.day_start + hours * MS_PER_HOUR + rng.integers(0, MS_PER_HOUR, count)
        order = np.argsort(times, kind="stable")
        times, users = times[order], users[order]
        per_hour = np.bincount(hours, minlength=HOURS_PER_DAY)
        videos = [
            draw_weighted(rng, self.hourly_content_cdfs[hour], hour_count)
            for hour, hour_count in enumerate(per_hour.tolist())
        ]
        return times, users, self.with_tastes(np.concatenate(videos), users, hours[order])

    def with_tastes(self, videos: np.ndarray, users: np.ndarray, hours: np.ndarray) -> np.ndarray:
        """Videos redrawn, for a NARROW_TASTE_FOCUS share of a narrow-taste user's interactions,
        from their favourite category's videos of that hour (by the same popularity)."""
        rng = self.taste_rng
        focused = self.user_narrow[users] & (rng.random(len(users)) < NARROW_TASTE_FOCUS)
        slots = np.flatnonzero(focused)
        category = self.user_favourite[users[slots]]
        for hour, favourite in sorted(set(zip(hours[slots].tolist(), category.tolist()))):
            cdf = self.hourly_category_cdfs[hour][favourite]
            if len(cdf) == 0 or cdf[-1] <= 0:
                continue
            chosen = slots[(hours[slots] == hour) & (category == favourite)]
            videos[chosen] = self.category_videos[favourite][draw_weighted(rng, cdf, len(chosen))]
        return videos


def build_audience(
    pop: Population, catalog: Catalog, day_start: int, rng: np.random.Generator
) -> DayAudience:
    day_end = day_start + MS_PER_DAY
    active = pop.activity * (pop.deleted_ms >= day_end)
    if active.sum() <= 0:
        active = pop.activity
    buzz = rng.lognormal(0.0, DAILY_BUZZ_SPREAD, catalog.size)
    reach = catalog.appeal * buzz * np.where(catalog.status == PENDING, PENDING_REACH, 1.0)
    category_videos = tuple(
        np.flatnonzero(catalog.category == c) for c in range(len(CATEGORIES))
    )
    cdfs, category_cdfs = [], []
    for hour in range(HOURS_PER_DAY):
        hour_start = day_start + hour * MS_PER_HOUR
        # Only videos already uploaded and still online for the whole hour can be served.
        servable = (catalog.upload_ms < hour_start) & (catalog.gone_ms > hour_start + MS_PER_HOUR)
        age_days = np.maximum(hour_start - catalog.upload_ms, 0) / MS_PER_DAY
        weights = np.where(
            servable, reach * (RECENCY_FLOOR + 0.5 ** (age_days / RECENCY_HALF_LIFE_DAYS)), 0.0
        )
        if weights.sum() <= 0:
            weights = (catalog.upload_ms < hour_start).astype(np.float64)
        cdfs.append(np.cumsum(weights))
        category_cdfs.append(tuple(np.cumsum(weights[videos]) for videos in category_videos))
    return DayAudience(
        day_start,
        np.cumsum(active),
        pop.utc_offset,
        tuple(cdfs),
        pop.favourite_category,
        pop.narrow_taste,
        category_videos,
        tuple(category_cdfs),
        np.random.default_rng(rng.integers(2**63)),  # the audience's stream has no later draws
    )
