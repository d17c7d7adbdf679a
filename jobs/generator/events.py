"""One day's good engagement events and feed impressions, columnar, and their JSON lines."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from jobs.generator.audience import DayAudience
from jobs.generator.catalog import Catalog
from jobs.generator.draws import draw_categorical
from jobs.generator.formatting import JSON_BOOLEANS, event_ids, fragments, time_of_day_parts
from jobs.generator.parameters import (
    CLICK_BASE,
    CLICK_FLOOR,
    CLICK_MAX,
    CLICK_POSITION_DECAY,
    CLIENT_OMITTED_SHARE,
    CLIENTS,
    CONTEXT_OMITTED_SHARE,
    CONTEXT_SHARES,
    CONTEXTS,
    ENGAGEMENT_TYPE_SHARES,
    ENGAGEMENT_TYPES,
    EXPERIMENTS,
    FULL_PERCENT,
    LOOP_MAX_FRACTION,
    LOOP_MEAN_EXTRA,
    MAX_POSITION,
    MAX_WATCH_SECONDS,
    MEDIAN_TIME_TO_ENGAGE_SECONDS,
    MIN_WATCH_SECONDS,
    MS_PER_SECOND,
    NON_VIEW_WATCH_SHARE,
    PARTIAL_WATCH_BETA,
    POSITION_P,
    RANKER_V2_B,
    RANKER_V2_B_CLICK_LIFT,
    SOURCE_CLICK_LIFT,
    SOURCE_SHARES,
    SOURCES,
    SWIPE_MAX_SECONDS,
    TIME_TO_ENGAGE_SPREAD,
    VARIANTS,
    VIEW,
    VIEW_PATTERN_SHARES,
)
from jobs.generator.population import Population
from jobs.generator.spec import GeneratorSpec

# Each event feed keys its ids differently, so the two id spaces are unrelated.
ENGAGEMENT_ID_SALT = 0x656E67
DISCOVERY_ID_SALT = 0x646973

# Lines are assembled from these pre-built texts: formatting each value is the costly part.
ENGAGEMENT_TYPE_NAMES = np.array(ENGAGEMENT_TYPES, dtype=object)
SOURCE_NAMES = np.array(SOURCES, dtype=object)
CONTEXT_FRAGMENTS = fragments("engagement_context", CONTEXTS)
CLIENT_FRAGMENTS = np.array(
    [f',"client":{{"os":"{os_name}","app_version":"{version}"}}' for os_name, version, _ in CLIENTS]
    + [""],
    dtype=object,
)
EXPERIMENT_FRAGMENTS = np.array(
    [f',"experiment_id":"{e}","variant":"{v}"' for e in EXPERIMENTS for v in VARIANTS] + [""],
    dtype=object,
)
WATCH_SECONDS_TEXT = np.array(
    [f',"watch_duration_seconds":{s}.' for s in range(MAX_WATCH_SECONDS + 1)], dtype=object
)
WATCH_MILLIS_TEXT = np.array([f"{ms:03d}" for ms in range(MS_PER_SECOND)], dtype=object)
COMPLETION_TEXT = np.array(
    [
        f',"completion_percentage":{c // 100}.{c % 100:02d}'
        for c in range(int(FULL_PERCENT) * 100 + 1)
    ],
    dtype=object,
)


@dataclass(frozen=True)
class EngagementBatch:
    """One day's good engagement events, columnar, in time order."""

    day_index: int
    day_text: str
    id_key: int
    timestamps_ms: np.ndarray
    user_ids: np.ndarray
    content_ids: np.ndarray
    types: np.ndarray
    watch_ms: np.ndarray  # -1 = not reported
    completion_centi: np.ndarray  # hundredths of a percent, -1 = not reported
    context: np.ndarray  # -1 = left out
    client: np.ndarray  # -1 = left out

    def __len__(self) -> int:
        return len(self.timestamps_ms)

    def ids(self, sequence: np.ndarray) -> list[str]:
        return event_ids("e-", self.id_key, self.day_index, sequence)

    def lines(self, idx: np.ndarray) -> list[str]:
        times, millis = time_of_day_parts(self.timestamps_ms[idx])
        measures = measure_fragments(self.watch_ms[idx], self.completion_centi[idx])
        day = self.day_text
        return [
            f'{{"event_id":"{e}","user_id":"{u}","content_id":"{c}","engagement_type":"{t}",'
            f'"event_timestamp":"{day}{hms}{ms}"{m}{x}{cl}}}'
            for e, u, c, t, hms, ms, m, x, cl in zip(
                self.ids(idx),
                self.user_ids[idx].tolist(),
                self.content_ids[idx].tolist(),
                ENGAGEMENT_TYPE_NAMES[self.types[idx]].tolist(),
                times,
                millis,
                measures,
                CONTEXT_FRAGMENTS[self.context[idx]].tolist(),
                CLIENT_FRAGMENTS[self.client[idx]].tolist(),
            )
        ]


def draw_watch(
    types: np.ndarray, durations: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(watch ms, completion in 1/100 %) per event; -1 where the event does not report it."""
    n = len(types)
    length = durations.astype(np.float64)
    pattern = draw_categorical(rng, VIEW_PATTERN_SHARES, n)
    swipe = rng.uniform(MIN_WATCH_SECONDS, np.minimum(SWIPE_MAX_SECONDS, length))
    shortest_partial = np.minimum(SWIPE_MAX_SECONDS, length)
    partial = shortest_partial + (length - shortest_partial) * rng.beta(*PARTIAL_WATCH_BETA, n)
    complete = length * np.minimum(1.0 + rng.exponential(LOOP_MEAN_EXTRA, n), LOOP_MAX_FRACTION)
    watched = np.maximum(np.choose(pattern, [swipe, partial, complete]), MIN_WATCH_SECONDS)
    watch_ms = np.where(
        pattern == len(VIEW_PATTERN_SHARES) - 1,
        np.ceil(watched * MS_PER_SECOND),  # a complete play never rounds below the duration
        np.minimum(np.rint(watched * MS_PER_SECOND), length * MS_PER_SECOND - 1),
    ).astype(np.int64)
    completion = np.rint(
        np.minimum(FULL_PERCENT, watch_ms / (length * MS_PER_SECOND) * FULL_PERCENT) * 100
    )
    is_view = types == VIEW
    reports_watch = is_view | (rng.random(n) < NON_VIEW_WATCH_SHARE)
    return np.where(reports_watch, watch_ms, -1), np.where(is_view, completion.astype(np.int64), -1)


def measure_fragments(watch_ms: np.ndarray, completion_centi: np.ndarray) -> list[str]:
    """`,"watch_duration_seconds":12.345,"completion_percentage":45.67` (each part if reported).

    Built from lookup tables: formatting two floats per line would be the generator's top cost.
    """
    out = np.full(len(watch_ms), "", dtype=object)
    watched = watch_ms >= 0
    ms = watch_ms[watched]
    out[watched] = WATCH_SECONDS_TEXT[ms // MS_PER_SECOND] + WATCH_MILLIS_TEXT[ms % MS_PER_SECOND]
    completed = completion_centi >= 0
    out[completed] = out[completed] + COMPLETION_TEXT[completion_centi[completed]]
    return out.tolist()


def left_out(values: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """Optional fields: a share of producers do not send them (-1 picks the empty fragment)."""
    return np.where(rng.random(len(values)) < share, -1, values)


def draw_engagements(
    audience: DayAudience,
    pop: Population,
    catalog: Catalog,
    spec: GeneratorSpec,
    day_index: int,
    rng: np.random.Generator,
) -> EngagementBatch:
    count = spec.events_per_day
    times, users, videos = audience.draw(count, rng)
    types = draw_categorical(rng, ENGAGEMENT_TYPE_SHARES, count)
    watch_ms, completion_centi = draw_watch(types, catalog.duration[videos], rng)
    return EngagementBatch(
        day_index=day_index,
        day_text=spec.day(day_index).isoformat(),
        id_key=spec.id_key ^ ENGAGEMENT_ID_SALT,
        timestamps_ms=times,
        user_ids=pop.user_ids[users],
        content_ids=catalog.content_ids[videos],
        types=types,
        watch_ms=watch_ms,
        completion_centi=completion_centi,
        context=left_out(draw_categorical(rng, CONTEXT_SHARES, count), CONTEXT_OMITTED_SHARE, rng),
        client=left_out(pop.client[users], CLIENT_OMITTED_SHARE, rng),
    )


@dataclass(frozen=True)
class DiscoveryBatch:
    """One day's good feed impressions, columnar, in time order."""

    day_index: int
    day_text: str
    id_key: int
    timestamps_ms: np.ndarray
    user_ids: np.ndarray
    content_ids: np.ndarray
    sources: np.ndarray
    positions: np.ndarray
    clicked: np.ndarray
    time_to_engagement: np.ndarray  # NaN = no click
    experiment: np.ndarray  # -1 = not enrolled

    def __len__(self) -> int:
        return len(self.timestamps_ms)

    def ids(self, sequence: np.ndarray) -> list[str]:
        return event_ids("d-", self.id_key, self.day_index, sequence)

    def lines(self, idx: np.ndarray) -> list[str]:
        times, millis = time_of_day_parts(self.timestamps_ms[idx])
        waits = ["null" if math.isnan(t) else t for t in self.time_to_engagement[idx].tolist()]
        day = self.day_text
        return [
            f'{{"discovery_id":"{d}","user_id":"{u}","content_id":"{c}","discovery_source":"{s}",'
            f'"position_in_feed":{p},"discovery_timestamp":"{day}{hms}{ms}","clicked_through":{k},'
            f'"time_to_engagement_seconds":{w}{x}}}'
            for d, u, c, s, p, hms, ms, k, w, x in zip(
                self.ids(idx),
                self.user_ids[idx].tolist(),
                self.content_ids[idx].tolist(),
                SOURCE_NAMES[self.sources[idx]].tolist(),
                self.positions[idx].tolist(),
                times,
                millis,
                JSON_BOOLEANS[self.clicked[idx].astype(np.int64)].tolist(),
                waits,
                EXPERIMENT_FRAGMENTS[self.experiment[idx]].tolist(),
            )
        ]


def draw_impressions(
    audience: DayAudience,
    pop: Population,
    catalog: Catalog,
    spec: GeneratorSpec,
    day_index: int,
    rng: np.random.Generator,
) -> DiscoveryBatch:
    count = spec.discovery_per_day
    times, users, videos = audience.draw(count, rng)
    sources = draw_categorical(rng, SOURCE_SHARES, count)
    positions = np.minimum(rng.geometric(POSITION_P, count) - 1, MAX_POSITION)
    experiment = pop.experiment[users]
    lift = np.asarray(SOURCE_CLICK_LIFT)[sources] * np.where(
        experiment == RANKER_V2_B, RANKER_V2_B_CLICK_LIFT, 1.0
    )
    click_chance = (CLICK_BASE * np.exp(-positions / CLICK_POSITION_DECAY) + CLICK_FLOOR) * lift
    clicked = rng.random(count) < np.minimum(click_chance, CLICK_MAX)
    wait = np.round(
        rng.lognormal(np.log(MEDIAN_TIME_TO_ENGAGE_SECONDS), TIME_TO_ENGAGE_SPREAD, count), 3
    )
    return DiscoveryBatch(
        day_index=day_index,
        day_text=spec.day(day_index).isoformat(),
        id_key=spec.id_key ^ DISCOVERY_ID_SALT,
        timestamps_ms=times,
        user_ids=pop.user_ids[users],
        content_ids=catalog.content_ids[videos],
        sources=sources,
        positions=positions,
        clicked=clicked,
        time_to_engagement=np.where(clicked, wait, np.nan),
        experiment=experiment,
    )
