"""Event lines into landing files: on time, late, duplicated, with bad and blank lines."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from jobs.generator.bad_lines import (
    DISCOVERY_BAD_KINDS,
    ENGAGEMENT_BAD_KINDS,
    corrupt_discovery,
    corrupt_engagement,
)
from jobs.generator.events import DiscoveryBatch, EngagementBatch
from jobs.generator.formatting import day_start_ms
from jobs.generator.parameters import (
    BLANK_LINE_FILE_SHARE,
    GZIP_EVERY,
    MAX_LATE_DAYS,
    MS_PER_DAY,
    SAME_FILE_DUP_SHARE,
)
from jobs.generator.spec import Delivery, GenerationStats, GeneratorSpec

BAD_ID_OFFSET = 1 << 31  # bad lines get ids of their own, never a good event's

Batch = EngagementBatch | DiscoveryBatch


@dataclass(frozen=True)
class EventFeed:
    name: str
    id_field: str
    bad_kinds: tuple[str, ...]
    corrupt: Callable[[dict[str, Any], str, np.random.Generator], str]


ENGAGEMENT_FEED = EventFeed("engagements", "event_id", ENGAGEMENT_BAD_KINDS, corrupt_engagement)
DISCOVERY_FEED = EventFeed("discovery", "discovery_id", DISCOVERY_BAD_KINDS, corrupt_discovery)


def event_file_name(spec: GeneratorSpec, day_index: int, part: int) -> str:
    """`<delivery day>_part-NNNN_s<seed>-<run tag><ext>`: sorts by delivery, unique per run."""
    file_number = day_index * spec.files_per_day + part
    if file_number % GZIP_EVERY == 1:
        extension = ".jsonl.gz"
    elif file_number % (2 * GZIP_EVERY) == 2:
        extension = ".json"
    else:
        extension = ".jsonl"
    return (
        f"{spec.day(day_index).isoformat()}_part-{part:04d}_s{spec.seed}-{spec.run_tag}{extension}"
    )


def cdc_file_name(spec: GeneratorSpec, day_index: int) -> str:
    return f"{spec.day(day_index).isoformat()}_part-0000_s{spec.seed}-{spec.run_tag}.jsonl"


def group_by_slot(slots: np.ndarray, members: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(slot, members in their original order) for every slot that has any."""
    order = np.argsort(slots, kind="stable")
    ordered = slots[order]
    unique, starts = np.unique(ordered, return_index=True)
    ends = np.append(starts[1:], len(ordered))
    return [(int(s), members[order[a:b]]) for s, a, b in zip(unique, starts, ends)]


def interleave(base: list[str], extras: list[str], rng: np.random.Generator) -> list[str]:
    """`base` in its order with `extras` shuffled in at random places."""
    if not extras:
        return base
    shuffled = [extras[i] for i in rng.permutation(len(extras)).tolist()]
    positions = np.sort(rng.integers(0, len(base) + 1, len(extras))).tolist()
    merged: list[str] = []
    previous = 0
    for position, line in zip(positions, shuffled):
        merged.extend(base[previous:position])
        merged.append(line)
        previous = position
    merged.extend(base[previous:])
    return merged


class EventRouter:
    """Puts one event feed's lines into delivery files: on time, late, duplicated, bad, blank.

    A delivery slot is `day_index * files_per_day + part`; lines bound for a later day's slot
    wait in `pending` until that day is written.
    """

    def __init__(self, feed: EventFeed, spec: GeneratorSpec, stats: GenerationStats) -> None:
        self.feed = feed
        self.spec = spec
        self.stats = stats
        self.pending: dict[int, list[str]] = defaultdict(list)

    def deliver(self, batch: Batch, rng: np.random.Generator) -> Iterator[Delivery]:
        spec, day_index, n = self.spec, batch.day_index, len(batch)
        per_day = spec.files_per_day
        first_slot = day_index * per_day
        last_day = spec.days - 1
        final_slot = spec.days * per_day - 1

        part = (batch.timestamps_ms - day_start_ms(spec.day(day_index))) * per_day // MS_PER_DAY
        late_events = (rng.random(n) < spec.late_rate) & (day_index < last_day)
        lag = np.minimum(rng.integers(1, MAX_LATE_DAYS + 1, n), last_day - day_index)
        late_slot = (day_index + lag) * per_day + rng.integers(0, per_day, n)
        delivery_slot = np.where(late_events, late_slot, first_slot + part)
        duplicated = rng.random(n) < spec.dup_rate
        later_slot = np.minimum(delivery_slot + rng.integers(1, per_day + 1, n), final_slot)
        dup_slot = np.where(rng.random(n) < SAME_FILE_DUP_SHARE, delivery_slot, later_slot)

        extras = {
            slot: self.pending.pop(slot, []) for slot in range(first_slot, first_slot + per_day)
        }
        for slot, idx in group_by_slot(delivery_slot[late_events], np.flatnonzero(late_events)):
            self.pending[slot].extend(batch.lines(idx))
        for slot, idx in group_by_slot(dup_slot[duplicated], np.flatnonzero(duplicated)):
            (extras[slot] if slot in extras else self.pending[slot]).extend(batch.lines(idx))
        for slot, line in self.bad_lines(batch, rng):
            extras[slot].append(line)

        self.stats.count_events(self.feed.name, n)
        self.stats.late += int(late_events.sum())
        self.stats.duplicates += int(duplicated.sum())
        for slot in range(first_slot, first_slot + per_day):
            if spec.bad_rate > 0 and rng.random() < BLANK_LINE_FILE_SHARE:
                extras[slot].append("")
                self.stats.blank_lines += 1
            on_time = batch.lines(np.flatnonzero(delivery_slot == slot))
            lines = interleave(on_time, extras.pop(slot), rng)
            yield Delivery(
                self.feed.name, event_file_name(spec, day_index, slot - first_slot), lines
            )

    def bad_lines(self, batch: Batch, rng: np.random.Generator) -> list[tuple[int, str]]:
        """Extra lines that break events.md, built from good events but with ids of their own."""
        n = len(batch)
        count = int(rng.binomial(n, self.spec.bad_rate)) if n else 0
        if count == 0:
            return []
        sources = rng.integers(0, n, count)
        kinds = rng.integers(0, len(self.feed.bad_kinds), count).tolist()
        slots = batch.day_index * self.spec.files_per_day + rng.integers(
            0, self.spec.files_per_day, count
        )
        fresh_ids = batch.ids(BAD_ID_OFFSET + np.arange(count))
        lines = []
        for line, kind, fresh_id in zip(batch.lines(sources), kinds, fresh_ids):
            record = json.loads(line)
            record[self.feed.id_field] = fresh_id
            lines.append(self.feed.corrupt(record, self.feed.bad_kinds[kind], rng))
        self.stats.bad_lines += count
        return list(zip(slots.tolist(), lines))
