"""Lines that break events.md on purpose, one kind at a time, made from good events."""

from __future__ import annotations

from typing import Any

import numpy as np

from jobs.generator.draws import pick
from jobs.generator.formatting import dumps

ENGAGEMENT_REQUIRED = ("event_id", "user_id", "content_id", "engagement_type", "event_timestamp")
DISCOVERY_REQUIRED = (
    "discovery_id", "user_id", "content_id", "discovery_source", "position_in_feed",
    "discovery_timestamp", "clicked_through",
)  # fmt: skip
UNKNOWN_ENGAGEMENT_TYPES = ("superlike", "repost", "dislike", "stitch")
UNPARSEABLE_TIMESTAMPS = ("not-a-timestamp", "2026-13-45T25:61:00Z", "20/11/2026 13:45", "")
TOO_OLD_DATE = "2015-06-01"
FAR_FUTURE_DATE = "2099-01-01"
BAD_COMPLETIONS = (150.0, 100.5, -3.0)
TIMESTAMP_KINDS = ("unparseable_timestamp", "timestamp_before_2016", "timestamp_in_future")
ENGAGEMENT_BAD_KINDS = (
    "malformed_json", "missing_field", "view_without_watch", "wrong_type",
    "unknown_engagement_type", "negative_watch", "completion_out_of_range", *TIMESTAMP_KINDS,
)  # fmt: skip
DISCOVERY_BAD_KINDS = (
    "malformed_json", "missing_field", "wrong_type", "negative_position",
    "negative_time_to_engagement", *TIMESTAMP_KINDS,
)  # fmt: skip


def truncated(line: str, rng: np.random.Generator) -> str:
    """A strict prefix of a JSON object is never valid JSON (its closing brace is missing)."""
    return line[: int(rng.integers(1, len(line) - 1))]


def bad_timestamp(kind: str, good: str, rng: np.random.Generator) -> str:
    time_part = good[len("YYYY-MM-DD") :]
    if kind == "timestamp_before_2016":
        return TOO_OLD_DATE + time_part
    if kind == "timestamp_in_future":
        return FAR_FUTURE_DATE + time_part
    return pick(rng, UNPARSEABLE_TIMESTAMPS)


def corrupt_engagement(record: dict[str, Any], kind: str, rng: np.random.Generator) -> str:
    if kind == "malformed_json":
        return truncated(dumps(record), rng)
    if kind == "missing_field":
        del record[pick(rng, ENGAGEMENT_REQUIRED)]
    elif kind == "view_without_watch":
        record["engagement_type"] = "view"
        record.pop("watch_duration_seconds", None)
        record.pop("completion_percentage", None)
    elif kind == "wrong_type":
        variant = pick(
            rng, ("watch_as_text", "user_as_number", "completion_as_text", "time_as_number")
        )
        if variant == "watch_as_text":
            record["engagement_type"] = "view"
            record["watch_duration_seconds"] = str(int(record.get("watch_duration_seconds", 12)))
        elif variant == "user_as_number":
            record["user_id"] = int(record["user_id"].lstrip("u"))
        elif variant == "completion_as_text":
            record["completion_percentage"] = f"{int(record.get('completion_percentage', 45))}%"
        else:
            record["event_timestamp"] = int(rng.integers(1_700_000_000_000, 1_800_000_000_000))
    elif kind == "unknown_engagement_type":
        record["engagement_type"] = pick(rng, UNKNOWN_ENGAGEMENT_TYPES)
    elif kind == "negative_watch":
        record["engagement_type"] = "view"
        record["watch_duration_seconds"] = -round(float(rng.uniform(0.5, 30.0)), 3)
        record.pop("completion_percentage", None)
    elif kind == "completion_out_of_range":
        record["completion_percentage"] = pick(rng, BAD_COMPLETIONS)
    else:
        record["event_timestamp"] = bad_timestamp(kind, record["event_timestamp"], rng)
    return dumps(record)


def corrupt_discovery(record: dict[str, Any], kind: str, rng: np.random.Generator) -> str:
    if kind == "malformed_json":
        return truncated(dumps(record), rng)
    if kind == "missing_field":
        del record[pick(rng, DISCOVERY_REQUIRED)]
    elif kind == "wrong_type":
        variant = pick(
            rng, ("clicked_as_text", "position_as_text", "position_as_float", "user_as_number")
        )
        if variant == "clicked_as_text":
            record["clicked_through"] = "yes" if record["clicked_through"] else "no"
        elif variant == "position_as_text":
            record["position_in_feed"] = str(record["position_in_feed"])
        elif variant == "position_as_float":
            record["position_in_feed"] = record["position_in_feed"] + 0.5
        else:
            record["user_id"] = int(record["user_id"].lstrip("u"))
    elif kind == "negative_position":
        record["position_in_feed"] = -int(rng.integers(1, 6))
    elif kind == "negative_time_to_engagement":
        record["clicked_through"] = True
        record["time_to_engagement_seconds"] = -round(float(rng.uniform(0.1, 5.0)), 3)
    else:
        record["discovery_timestamp"] = bad_timestamp(kind, record["discovery_timestamp"], rng)
    return dumps(record)
