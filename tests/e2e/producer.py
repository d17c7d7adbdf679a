"""An independent producer for end-to-end tests: writes landing files by events.md, by hand.

It shares no code with jobs/generate.py, so the ingest is tested against the contract rather
than against our own generator. It knows the truth: which events are distinct and valid, which
lines are duplicates, and which are bad and why.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import random
from dataclasses import dataclass, field
from pathlib import Path

TYPES = ["view", "like", "comment", "share", "save", "follow", "unfollow", "duet", "remix"]


def iso(ts: dt.datetime) -> str:
    return ts.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class Landing:
    root: Path
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    good: dict[str, dict] = field(default_factory=dict)  # event_id -> event
    bad: list[tuple[str, str]] = field(default_factory=list)  # (raw line, expected reason)
    lines_written: int = 0
    blank_written: int = 0
    duplicate_lines: int = 0
    _serial: int = 0

    def engagement(self, when: dt.datetime, **overrides) -> dict:
        self._serial += 1
        kind = overrides.pop("engagement_type", self.rng.choice(TYPES))
        event = {
            "event_id": f"evt-{self._serial:06d}-{self.rng.randrange(16**6):06x}",
            "user_id": f"user_{self.rng.randrange(50)}",
            "content_id": f"vid_{self.rng.randrange(30)}",
            "engagement_type": kind,
            "event_timestamp": iso(when),
        }
        if kind == "view" or self.rng.random() < 0.3:
            event["watch_duration_seconds"] = round(self.rng.uniform(0, 60), 3)
        if self.rng.random() < 0.7:
            event["completion_percentage"] = round(self.rng.uniform(0, 100), 2)
        if self.rng.random() < 0.8:
            event["engagement_context"] = self.rng.choice(["for_you", "following", "search", "other_place"])
        if self.rng.random() < 0.5:
            event["client"] = {"os": self.rng.choice(["ios", "android"]), "build": self.rng.randrange(100)}
        event.update(overrides)
        return event

    def dumps(self, event: dict) -> str:
        # Producers differ in spacing and key order; the contract allows both.
        if self.rng.random() < 0.5:
            return json.dumps(event, separators=(",", ":"))
        items = list(event.items())
        self.rng.shuffle(items)
        return json.dumps(dict(items))

    def write(self, feed: str, name: str, lines: list[str], compress: bool = False) -> Path:
        """Write atomically (temp name starting with '.', then rename), as events.md requires."""
        directory = self.root / feed
        directory.mkdir(parents=True, exist_ok=True)
        final = directory / name
        temp = directory / f".{name}.tmp"
        data = ("\n".join(lines) + "\n").encode("utf-8")
        temp.write_bytes(gzip.compress(data) if compress else data)
        os.replace(temp, final)
        self.lines_written += sum(1 for line in lines if line.strip())
        self.blank_written += sum(1 for line in lines if not line.strip())
        return final

    def good_lines(self, events: list[dict]) -> list[str]:
        for event in events:
            self.good[event["event_id"]] = event
        return [self.dumps(e) for e in events]

    def repeat(self, events: list[dict]) -> list[str]:
        """Deliver these events again: the very same events (a retry of the producer)."""
        self.duplicate_lines += len(events)
        return [json.dumps(e) for e in events]

    def bad_lines(self, when: dt.datetime) -> list[str]:
        base = self.engagement(when, engagement_type="view", watch_duration_seconds=10.0)
        cases = [
            ('{"event_id": "broken", "user_id": "user_1", ', "malformed_json"),
            ("[1, 2, 3]", "malformed_json"),
            (json.dumps({k: v for k, v in base.items() if k != "user_id"} | {"event_id": "bad-missing"}), "missing_field"),
            (json.dumps(base | {"event_id": "bad-null", "content_id": None}), "missing_field"),
            (json.dumps({k: v for k, v in base.items() if k != "watch_duration_seconds"}
                        | {"event_id": "bad-view-no-watch"}), "missing_field"),
            (json.dumps(base | {"event_id": "bad-type", "watch_duration_seconds": "12"}), "wrong_type"),
            (json.dumps(base | {"event_id": "bad-type-user", "user_id": 12345}), "wrong_type"),
            (json.dumps(base | {"event_id": "bad-enum", "engagement_type": "watch"}), "unknown_enum"),
            (json.dumps(base | {"event_id": "bad-negative", "watch_duration_seconds": -1.5}), "negative_value"),
            (json.dumps(base | {"event_id": "bad-completion", "completion_percentage": 100.5}), "out_of_range"),
            (json.dumps(base | {"event_id": "bad-ts", "event_timestamp": "20/11/2026 13:45"}), "bad_timestamp"),
            (json.dumps(base | {"event_id": "bad-old", "event_timestamp": "2015-12-31T23:59:59Z"}), "timestamp_too_old"),
            (json.dumps(base | {"event_id": "bad-future", "event_timestamp": "2099-01-01T00:00:00Z"}), "timestamp_in_future"),
        ]
        self.bad.extend(cases)
        return [line for line, _ in cases]
