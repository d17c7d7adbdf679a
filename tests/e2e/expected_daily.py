"""The daily facts computed independently, in plain Python, from the raw landing files.

Nothing here comes from jobs/: this is a second reading of shared/spec/metrics.md (and of the
lead's decisions on what it leaves open), written against the landing contract (events.md) only,
so that the end-to-end test compares the jobs with something they did not compute themselves.

Rows use natural ids (content_id, creator user_id); the test maps them to surrogate keys.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

UTC = dt.timezone.utc
FEED_SUFFIXES = (".jsonl", ".json", ".jsonl.gz")

WEIGHTS = {"view": 1, "like": 3, "comment": 5, "share": 10, "save": 8, "follow": 6, "unfollow": 0,
           "duet": 7, "remix": 7}
QUALIFYING_SECONDS = 3
COMPLETION_BONUS_ABOVE = 80
BASELINE_DAYS = 30
MIN_BASELINE = 1.0
TRENDING_SCORE = 500
RECENCY_FACTOR = 0.5
TRENDING_LIMIT = 10
RECEIVED_TYPES = ("like", "comment", "share", "save", "duet", "remix")
HIDDEN_STATUSES = ("removed",)
TIER_WINDOW_DAYS = 28
TIERS = (("top", 1_000_000, 0.75), ("established", 100_000, 0.5), ("rising", 10_000, 0.25))  # best first
FALLBACK_TIER = "casual"


# --- landing -----------------------------------------------------------------------------------

def read_feed(landing: Path, feed: str) -> list[dict]:
    """Every non-blank line of every file of one feed, parsed (in file-name order)."""
    records = []
    for path in sorted((landing / feed).iterdir()):
        if not path.name.endswith(FEED_SUFFIXES):
            continue
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as handle:
            records.extend(json.loads(line) for line in handle if line.strip())
    return records


def instant(text: str) -> dt.datetime:
    """An ISO-8601 timestamp with an offset or Z, as an aware UTC datetime."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def utc_day(text: str) -> dt.date:
    return instant(text).date()


def unique_events(records: list[dict]) -> list[dict]:
    """Engagements once each: a repeated event_id is a repeat delivery of the same event."""
    seen: dict[str, dict] = {}
    for record in records:
        seen.setdefault(record["event_id"], record)
    return list(seen.values())


@dataclass
class Current:
    """A CDC entity's current state: attributes of its latest upsert, deleted if its latest change is a delete."""

    upsert: dict | None
    deleted: bool


def change_order(change: dict) -> tuple[dt.datetime, int]:
    """Changes of one id ordered by updated_at (as an instant); a delete after an upsert at the same instant."""
    return instant(change["updated_at"]), 1 if change["op"] == "delete" else 0


def current_states(changes: list[dict], id_field: str) -> dict[str, Current]:
    by_id: dict[str, list[dict]] = defaultdict(list)
    for change in changes:
        by_id[change[id_field]].append(change)
    states = {}
    for natural_id, rows in by_id.items():
        latest = max(rows, key=change_order)
        upserts = [r for r in rows if r["op"] == "upsert"]
        latest_upsert = max(upserts, key=change_order) if upserts else None
        if latest_upsert is not None:  # the expectation must not depend on file order
            rivals = {json.dumps(r, sort_keys=True) for r in upserts
                      if change_order(r) == change_order(latest_upsert)}
            assert len(rivals) == 1, f"{id_field} {natural_id}: different upserts at the same updated_at"
        states[natural_id] = Current(upsert=latest_upsert, deleted=latest["op"] == "delete")
    return states


def last_sent(changes: list[dict], id_field: str, field_name: str) -> dict[str, object]:
    """Per id: the value of the latest change that carries the field (events.md: an omitted or
    null field keeps the last value sent)."""
    sent: dict[str, tuple] = {}
    for change in changes:
        if change.get(field_name) is None:
            continue
        key = change[id_field]
        if key not in sent or change_order(change) > sent[key][0]:
            sent[key] = (change_order(change), change[field_name])
    return {key: value for key, (_, value) in sent.items()}


def opted_out_users(user_changes: list[dict]) -> set[str]:
    """Users whose last sent analytics_consent is false (never sent means true)."""
    return {uid for uid, consent in last_sent(user_changes, "user_id", "analytics_consent").items()
            if consent is False}


@dataclass(frozen=True)
class Video:
    creator: str | None
    upload_day: dt.date | None
    moderation_status: str
    deleted: bool


def videos(content_changes: list[dict]) -> dict[str, Video]:
    catalog = {}
    statuses = last_sent(content_changes, "content_id", "moderation_status")
    for cid, state in current_states(content_changes, "content_id").items():
        up = state.upsert or {}
        catalog[cid] = Video(
            creator=up.get("creator_user_id"),
            upload_day=utc_day(up["upload_timestamp"]) if up.get("upload_timestamp") else None,
            moderation_status=str(statuses.get(cid, "approved")),
            deleted=state.deleted,
        )
    return catalog


# --- the facts ---------------------------------------------------------------------------------

def is_qualifying(event: dict) -> bool:
    watch = event.get("watch_duration_seconds")
    return event["engagement_type"] == "view" and watch is not None and watch >= QUALIFYING_SECONDS


def points(event: dict) -> int:
    weight = WEIGHTS[event["engagement_type"]]
    if event["engagement_type"] != "view":
        return weight
    if not is_qualifying(event):
        return 0
    completion = event.get("completion_percentage")
    return weight * (2 if completion is not None and completion > COMPLETION_BONUS_ABOVE else 1)


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def round_half_up(value: float) -> int:
    return int(Decimal(value).quantize(Decimal(1), ROUND_HALF_UP))


@dataclass
class Expected:
    performance: list[dict] = field(default_factory=list)  # keyed by content_id, event_date
    creators: list[dict] = field(default_factory=list)  # keyed by creator_id, event_date
    events_by_day: dict[dt.date, list[dict]] = field(default_factory=dict)  # consenting events
    opted_out: set[str] = field(default_factory=set)
    catalog: dict[str, Video] = field(default_factory=dict)
    excluded_events: int = 0  # engagements of the days by opted-out users


def day_key(day: dt.date) -> int:
    return int(day.strftime("%Y%m%d")) * 100


def content_row(content_id: str, day: dt.date, events: list[dict]) -> dict:
    qualifying = [e for e in events if is_qualifying(e)]
    count = lambda kind: sum(1 for e in events if e["engagement_type"] == kind)  # noqa: E731
    return {
        "content_id": content_id,
        "date_key": day_key(day),
        "total_views": len(qualifying),
        "unique_viewers": len({e["user_id"] for e in qualifying}),
        "total_likes": count("like"),
        "total_comments": count("comment"),
        "total_shares": count("share"),
        "total_saves": count("save"),
        "avg_watch_duration": mean([float(e["watch_duration_seconds"]) for e in qualifying]),
        "completion_rate": mean([e["completion_percentage"] / 100 for e in qualifying
                                 if e.get("completion_percentage") is not None]),
        "engagement_score": sum(points(e) for e in events),
        "viral_score": None,  # needs the baselines, below
        "event_date": day,
    }


def with_viral_scores(rows: list[dict], history: list[dict], catalog: dict[str, Video], day: dt.date) -> None:
    """viral_score of one day's rows, against the creators' baselines over the 30 days before."""
    window = (day - dt.timedelta(days=BASELINE_DAYS), day - dt.timedelta(days=1))
    creator_scores: dict[str, list[int]] = defaultdict(list)
    for past in history:
        video = catalog.get(past["content_id"])
        if video and video.creator and window[0] <= past["event_date"] <= window[1]:
            creator_scores[video.creator].append(past["engagement_score"])
    platform_mean = mean([r["engagement_score"] for r in rows])
    for row in rows:
        video = catalog.get(row["content_id"])
        creator = video.creator if video else None
        baseline = mean(creator_scores[creator]) if creator in creator_scores else platform_mean
        baseline = max(baseline, MIN_BASELINE)
        row["viral_score"] = round_half_up(100.0 * row["engagement_score"] / baseline)


def trending_ids(creator: str, day: dt.date, score_of: dict[tuple[str, dt.date], int],
                 catalog: dict[str, Video]) -> str:
    yesterday = day - dt.timedelta(days=1)
    candidates = []
    for cid, video in catalog.items():
        if video.creator != creator or video.deleted or video.moderation_status in HIDDEN_STATUSES:
            continue
        today_score, before = score_of.get((cid, day)), score_of.get((cid, yesterday))
        if (today_score or 0) >= TRENDING_SCORE or (before or 0) >= TRENDING_SCORE:
            candidates.append(((today_score or 0) + RECENCY_FACTOR * (before or 0), cid))
    ranked = sorted(candidates, key=lambda c: (-c[0], c[1]))[:TRENDING_LIMIT]
    return json.dumps([cid for _, cid in ranked], separators=(",", ":"))


def creator_rows(day: dt.date, events: list[dict], score_of: dict[tuple[str, dt.date], int],
                 catalog: dict[str, Video], opted_out: set[str]) -> list[dict]:
    posted: dict[str, int] = defaultdict(int)
    for video in catalog.values():
        if video.creator and video.upload_day == day:
            posted[video.creator] += 1
    received: dict[str, list[dict]] = defaultdict(list)
    for event in events:
        video = catalog.get(event["content_id"])
        if video and video.creator:
            received[video.creator].append(event)
    rows = []
    for creator in sorted(set(posted) | set(received)):
        if creator in opted_out:
            continue
        got = received.get(creator, [])
        views = sum(1 for e in got if is_qualifying(e))
        engagements = sum(1 for e in got if e["engagement_type"] in RECEIVED_TYPES)
        rows.append({
            "creator_id": creator,
            "date_key": day_key(day),
            "content_posted": posted.get(creator, 0),
            "total_views_received": views,
            "total_engagements_received": engagements,
            "new_followers": sum(1 for e in got if e["engagement_type"] == "follow"),
            "follower_churn": sum(1 for e in got if e["engagement_type"] == "unfollow"),
            "engagement_rate": engagements / views if views else None,
            "trending_content_ids": trending_ids(creator, day, score_of, catalog),
            "event_date": day,
        })
    return rows


def creator_tier(creator: str, day: dt.date, rows: list[dict], followers: dict[str, int]) -> str:
    """The first tier whose minimums the creator meets: followers now, and the share of the 28 days
    ending at `day` on which their row (computed before, or of the day) shows an engagement received."""
    first = day - dt.timedelta(days=TIER_WINDOW_DAYS - 1)
    engaged = {r["event_date"] for r in rows if r["creator_id"] == creator and first <= r["event_date"] <= day
               and r["total_engagements_received"] > 0}
    consistency = len(engaged) / TIER_WINDOW_DAYS
    for tier, min_followers, min_consistency in TIERS:
        if followers.get(creator, 0) >= min_followers and consistency >= min_consistency:
            return tier
    return FALLBACK_TIER


def expected_daily(landing: Path, days: list[dt.date]) -> Expected:
    """Both daily facts for `days` (computed in date order), from the landing files alone."""
    out = Expected()
    user_changes = read_feed(landing, "users")
    out.opted_out = opted_out_users(user_changes)
    followers = {uid: (state.upsert or {}).get("follower_count") or 0
                 for uid, state in current_states(user_changes, "user_id").items()}
    out.catalog = videos(read_feed(landing, "content"))
    by_day: dict[dt.date, list[dict]] = defaultdict(list)
    for event in unique_events(read_feed(landing, "engagements")):
        day = utc_day(event["event_timestamp"])
        if day not in days:
            continue
        if event["user_id"] in out.opted_out:
            out.excluded_events += 1
            continue
        by_day[day].append(event)
    out.events_by_day = {day: by_day.get(day, []) for day in days}

    score_of: dict[tuple[str, dt.date], int] = {}
    for day in sorted(days):
        per_content: dict[str, list[dict]] = defaultdict(list)
        for event in out.events_by_day[day]:
            per_content[event["content_id"]].append(event)
        rows = [content_row(cid, day, events) for cid, events in sorted(per_content.items())]
        with_viral_scores(rows, out.performance, out.catalog, day)
        out.performance.extend(rows)
        score_of.update({(r["content_id"], day): r["viral_score"] for r in rows})
        day_rows = creator_rows(day, out.events_by_day[day], score_of, out.catalog, out.opted_out)
        for row in day_rows:
            row["creator_tier"] = creator_tier(row["creator_id"], day, out.creators + day_rows, followers)
        out.creators.extend(day_rows)
    return out
