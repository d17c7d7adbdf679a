"""What decides a run's files (GeneratorSpec), what it counts, and one landing file."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class GeneratorSpec:
    """Everything that decides the generated files; equal specs give byte-identical files."""

    landing: str
    start_date: dt.date
    days: int
    events_per_day: int
    users: int
    seed: int
    bad_rate: float
    dup_rate: float
    late_rate: float
    discovery_per_engagement: float
    files_per_day: int

    @property
    def fingerprint(self) -> str:
        """Digest of every argument but the landing: names files and keys ids of this run."""
        values = {k: v for k, v in asdict(self).items() if k != "landing"}
        return hashlib.sha256(repr(sorted(values.items())).encode()).hexdigest()

    @property
    def run_tag(self) -> str:
        return self.fingerprint[:8]

    @property
    def id_key(self) -> int:
        return int(self.fingerprint[8:24], 16)

    @property
    def discovery_per_day(self) -> int:
        return round(self.events_per_day * self.discovery_per_engagement)

    def day(self, day_index: int) -> dt.date:
        return self.start_date + dt.timedelta(days=day_index)


@dataclass
class GenerationStats:
    """The run's counts, as the final report line shows them (the dataset, written or skipped)."""

    files: int = 0
    skipped_files: int = 0
    engagements: int = 0
    discovery: int = 0
    users: int = 0
    content: int = 0
    user_changes: int = 0
    content_changes: int = 0
    bad_lines: int = 0
    blank_lines: int = 0
    duplicates: int = 0
    late: int = 0

    def count_events(self, feed: str, events: int) -> None:
        setattr(self, feed, getattr(self, feed) + events)


@dataclass(frozen=True)
class Delivery:
    """One landing file: its feed directory, its name and its lines."""

    feed: str
    name: str
    lines: list[str]
