"""generate: realistic, deterministic synthetic landing files for all four feeds (events.md).

A small simulated app: users (consumers and creators of four tiers), a video catalog that grows
every day, and a day of engagements and feed impressions drawn from power-law popularity,
power-law user activity and a diurnal UTC curve. Delivery is as messy as events.md allows:
duplicates (same or later file), late events (a later day's files), bad lines of every kind the
contract names, a few blank lines, and three file flavours (.jsonl, .json, .jsonl.gz).

The same arguments give byte-identical files: every draw comes from numpy generators seeded
with (seed, day, stream); only the default start date reads the clock. Files are written
atomically and never replaced, so a rerun with the same arguments writes nothing new.

No Spark here: draws are vectorised numpy arrays per day, lines are built with f-strings (every
string value comes from a fixed ASCII vocabulary, so no JSON escaping is needed); only the rare
CDC and bad lines go through json.dumps.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import json
import math
import os
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from jobs.common.cli import (
    EXIT_FAILED,
    EXIT_OK,
    OneLineParser,
    base_parser,
    iso_date,
    positive_int,
    rate,
)
from jobs.common.config import Conf, ConfigError, is_uri, load_conf
from jobs.common.report import JobReport

# --- time -----------------------------------------------------------------------------------
MS_PER_SECOND = 1_000
MS_PER_HOUR = 3_600_000
MS_PER_DAY = 86_400_000
HOURS_PER_DAY = 24
EPOCH = dt.date(1970, 1, 1)
NEVER = np.iinfo(np.int64).max  # "not deleted / not taken down"

# Share of the day's activity per UTC hour: quiet 04-08 UTC, busiest in the (UTC) evening.
HOURLY_ACTIVITY = (
    0.90, 0.75, 0.60, 0.45, 0.30, 0.25, 0.25, 0.30, 0.40, 0.50, 0.60, 0.65,
    0.70, 0.75, 0.80, 0.85, 0.90, 1.00, 1.15, 1.30, 1.40, 1.40, 1.25, 1.10,
)  # fmt: skip

# --- users ----------------------------------------------------------------------------------
MIN_USERS = 10
USER_ID_DIGITS = 6
USER_TYPES = ("consumer", "creator", "both")
CONSUMER, CREATOR, BOTH = range(3)
USER_TYPE_SHARES = (0.85, 0.10, 0.05)
CREATOR_TIERS = ("casual", "rising", "established", "top")
NO_TIER = -1
CASUAL = 0
TIER_SHARES = (0.55, 0.28, 0.13, 0.04)
TIER_MEDIAN_FOLLOWERS = (300, 6_000, 90_000, 2_500_000)
CREATOR_FOLLOWER_SPREAD = 0.9  # sigma of the log-normal around the tier median
CONSUMER_MEDIAN_FOLLOWERS = 25
CONSUMER_FOLLOWER_SPREAD = 1.3
MAX_FOLLOWERS = 300_000_000
MEDIAN_FOLLOWING = 150
FOLLOWING_SPREAD = 1.0
MAX_FOLLOWING = 10_000  # the app's follow limit
REGIONS = ("US", "BR", "IN", "ID", "GB", "DE", "MX", "JP", "FR", "PH", "TR", "VN", "KR", "NG", "CA")
REGION_SHARES = (22, 12, 14, 10, 6, 5, 7, 5, 4, 5, 4, 3, 3, 2, 3)
OPT_OUT_SHARE = 0.03
CONSENT_OMITTED_SHARE = 0.10  # older producers leave the optional flag out (default true)
MEAN_ACCOUNT_AGE_DAYS = 500
MAX_ACCOUNT_AGE_DAYS = 2_500
ACTIVITY_SPREAD = 1.2  # log-normal sigma of how much a user engages: a few heavy users
CLIENTS = (  # (os, app version, share of users)
    ("ios", "31.2.0", 20), ("ios", "31.1.1", 12), ("ios", "30.9.0", 8),
    ("android", "31.2.0", 22), ("android", "31.1.0", 15), ("android", "30.8.2", 13),
    ("android", "29.4.1", 5), ("web", "2026.11.1", 5),
)  # fmt: skip

# Daily profile changes (probability per user per day).
CREATOR_FOLLOWER_UPDATE_RATE = 0.25
CONSUMER_FOLLOWER_UPDATE_RATE = 0.02
FOLLOWER_DAILY_GROWTH = 0.01
FOLLOWER_DAILY_SPREAD = 0.03
FOLLOWER_JITTER = (-2, 10)
FOLLOWING_UPDATE_RATE = 0.03
FOLLOWING_JITTER = (-3, 15)
PROMOTION_RATE_BY_TIER = (0.02, 0.01, 0.004, 0.0)  # casual->rising->established->top
PROMOTION_FOLLOWER_BOOST = (2.0, 4.0)
BECOME_CREATOR_RATE = 0.001
OPT_OUT_RATE = 0.0005
USER_DELETE_RATE = 0.0004

# --- content --------------------------------------------------------------------------------
CONTENT_ID_DIGITS = 7
CONTENT_TYPES = ("original", "remix", "duet", "response")
CONTENT_TYPE_SHARES = (0.72, 0.10, 0.10, 0.08)
CATEGORIES = (
    "dance", "comedy", "education", "food", "sports", "music", "beauty", "gaming", "pets", "travel",
)  # fmt: skip
CATEGORY_SHARES = (18, 17, 8, 10, 8, 12, 8, 9, 6, 4)
FAVOURITE_CATEGORY_SHARE = 0.7  # creators mostly stick to their niche
MEDIAN_DURATION_SECONDS = 21
DURATION_SPREAD = 0.75
MIN_DURATION_SECONDS = 5
MAX_DURATION_SECONDS = 180
MUSIC_SHARE = 0.75  # the rest use original audio (music_id null)
MUSIC_CATALOG_SIZE = 5_000
MUSIC_ZIPF = 1.4  # a few trending sounds are on most videos
GENERAL_HASHTAGS = ("fyp", "foryou", "viral", "trending", "foryoupage", "tiktok", "funny", "duet")
GENERAL_HASHTAG_SHARES = (30, 22, 18, 10, 8, 6, 4, 2)
CATEGORY_HASHTAGS = {
    "dance": ("dance", "dancechallenge", "choreo", "tutorial"),
    "comedy": ("comedy", "lol", "skit", "prank"),
    "education": ("learnontiktok", "science", "history", "studytok"),
    "food": ("food", "recipe", "foodtok", "cooking"),
    "sports": ("sports", "football", "fitness", "gym"),
    "music": ("music", "cover", "singing", "newmusic"),
    "beauty": ("beauty", "makeup", "skincare", "grwm"),
    "gaming": ("gaming", "gamer", "minecraft", "fortnite"),
    "pets": ("pets", "dogsoftiktok", "catsoftiktok", "cute"),
    "travel": ("travel", "traveltok", "wanderlust", "beach"),
}
CATEGORY_HASHTAG_SHARES = (12, 6, 4, 3)
HASHTAG_COUNT_SHARES = (0.10, 0.20, 0.25, 0.20, 0.15, 0.10)  # 0..5 hashtags
EFFECTS = (
    "green_screen", "beauty_filter", "slow_mo", "time_warp_scan", "text_to_speech",
    "voice_changer", "transition_zoom", "split_screen", "ai_anime", "bling",
)  # fmt: skip
EFFECT_SHARES = (15, 20, 10, 8, 12, 8, 10, 6, 7, 4)
EFFECT_COUNT_SHARES = (0.45, 0.30, 0.17, 0.08)  # 0..3 effects
MODERATION_STATUSES = ("approved", "pending", "removed")
APPROVED, PENDING, REMOVED = range(3)
BACKLOG_STATUS_SHARES = (0.97, 0.0, 0.03)
UPLOAD_STATUS_SHARES = (0.93, 0.06, 0.01)
STATUS_OMITTED_SHARE = 0.05  # on first upserts of approved videos (the default)
INITIAL_VIDEOS_BY_TIER = (3.0, 8.0, 15.0, 30.0)  # mean videos posted before day 1
BACKLOG_DAYS = 60
DAILY_UPLOADS_BY_TIER = (0.12, 0.35, 0.6, 0.9)  # mean uploads per creator per day
PENDING_RESOLUTION_RATE = 0.7
PENDING_REMOVAL_SHARE = 0.15
TAKEDOWN_RATE = 0.0005
CREATOR_DELETE_RATE = 0.0003

# --- popularity -----------------------------------------------------------------------------
APPEAL_TAIL = 1.1  # Pareto shape of a video's intrinsic appeal: a few videos get most views
APPEAL_FLOOR = 0.05
TIER_REACH = (1.0, 3.0, 10.0, 40.0)
RECENCY_HALF_LIFE_DAYS = 1.5
RECENCY_FLOOR = 0.03
DAILY_BUZZ_SPREAD = 0.7  # day-to-day luck of a video: makes viral and trending days
PENDING_REACH = 0.1  # videos under review get limited distribution

# --- engagements ----------------------------------------------------------------------------
ENGAGEMENT_TYPES = (
    "view",
    "like",
    "comment",
    "share",
    "save",
    "follow",
    "unfollow",
    "duet",
    "remix",
)
ENGAGEMENT_TYPE_SHARES = (0.70, 0.15, 0.03, 0.03, 0.03, 0.025, 0.005, 0.015, 0.015)
VIEW = 0
# How a view ends: swipe away (< 3 s), partial watch, full watch, watched in a loop.
VIEW_PATTERN_SHARES = (0.25, 0.45, 0.22, 0.08)
MIN_WATCH_SECONDS = 0.2
SWIPE_MAX_SECONDS = 3.0
PARTIAL_WATCH_BETA = (1.6, 2.4)
FULL_WATCH_MIN_FRACTION = 0.95
LOOP_MAX_FRACTION = 3.0
MAX_WATCH_SECONDS = int(MAX_DURATION_SECONDS * LOOP_MAX_FRACTION)
FULL_PERCENT = 100.0
NON_VIEW_WATCH_SHARE = 0.4  # other interactions that also report how long the video played
CONTEXTS = ("for_you", "following", "search", "hashtag", "sound", "profile", "share_link", "live")
CONTEXT_SHARES = (62, 14, 7, 5, 4, 5, 2, 1)  # "live" is one of the "or other" values
CONTEXT_OMITTED_SHARE = 0.02
CLIENT_OMITTED_SHARE = 0.01

# --- discovery ------------------------------------------------------------------------------
SOURCES = (
    "for_you",
    "following",
    "search",
    "hashtag",
    "sound",
    "profile",
    "share_link",
    "notification",
)
SOURCE_SHARES = (60, 15, 8, 5, 4, 5, 2, 1)
SOURCE_CLICK_LIFT = (1.0, 1.3, 1.6, 1.1, 1.1, 1.2, 1.5, 1.4)
POSITION_P = 0.12  # geometric: most impressions are near the top of the feed
MAX_POSITION = 50
CLICK_BASE = 0.4
CLICK_POSITION_DECAY = 8.0
CLICK_FLOOR = 0.02
CLICK_MAX = 0.95
MEDIAN_TIME_TO_ENGAGE_SECONDS = 1.8
TIME_TO_ENGAGE_SPREAD = 0.8
EXPERIMENT_SHARE = 0.3
EXPERIMENTS = ("exp_feed_ranker_v2", "exp_cold_start_boost")
EXPERIMENT_SHARES = (2, 1)
VARIANTS = ("A", "B")
RANKER_V2_B = 1  # experiment * len(VARIANTS) + variant: the treatment that really works
RANKER_V2_B_CLICK_LIFT = 1.12

# --- delivery -------------------------------------------------------------------------------
FEEDS = ("engagements", "discovery", "users", "content")
MAX_LATE_DAYS = 3
SAME_FILE_DUP_SHARE = 0.5
BLANK_LINE_FILE_SHARE = 0.1
GZIP_EVERY = 4  # one event file in four is gzip-compressed, one in eight is named .json
GZIP_LEVEL = 1  # landing files are transient: speed over size
WRITE_CHUNK_LINES = 20_000
BAD_ID_OFFSET = 1 << 31  # bad lines get ids of their own, never a good event's
# Each event feed keys its ids differently, so the two id spaces are unrelated.
ENGAGEMENT_ID_SALT = 0x656E67
DISCOVERY_ID_SALT = 0x646973
PROGRESS_MIN_EVENTS = 500_000

# Seed streams: each (seed, day, stream) gets its own generator so days and feeds are independent.
STREAM_WORLD, STREAM_USERS, STREAM_CONTENT, STREAM_AUDIENCE = range(4)
STREAM_ENGAGEMENTS, STREAM_DISCOVERY, STREAM_ENGAGEMENT_DELIVERY, STREAM_DISCOVERY_DELIVERY = range(
    4, 8
)

JSON_SEPARATORS = (",", ":")
ID_HEX_DIGITS = 16


# --- the spec -------------------------------------------------------------------------------


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


# --- small helpers --------------------------------------------------------------------------


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
JSON_BOOLEANS = np.array(["false", "true"], dtype=object)
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


def diurnal_times(rng: np.random.Generator, count: int, day_start: int) -> np.ndarray:
    """Sorted epoch-ms times within one UTC day, following the diurnal activity curve."""
    hours = draw_categorical(rng, HOURLY_ACTIVITY, count)
    return np.sort(day_start + hours * MS_PER_HOUR + rng.integers(0, MS_PER_HOUR, count))


def dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, separators=JSON_SEPARATORS)


def json_strings(values: list[str]) -> str:
    """A JSON array of plain-ASCII vocabulary strings (no escaping needed)."""
    return "[" + ",".join(f'"{value}"' for value in values) + "]"


# --- users ----------------------------------------------------------------------------------


@dataclass
class Population:
    """The users and their current profile; `advance_users` moves it on by one day."""

    user_ids: np.ndarray  # object array of "u000123"
    registration_dates: list[str]
    registration_ms: np.ndarray
    user_type: np.ndarray
    tier: np.ndarray
    region: np.ndarray
    followers: np.ndarray
    following: np.ndarray
    consent: np.ndarray
    activity: np.ndarray
    client: np.ndarray
    favourite_category: np.ndarray
    experiment: np.ndarray  # experiment * len(VARIANTS) + variant, -1 = not enrolled
    deleted_ms: np.ndarray

    @property
    def size(self) -> int:
        return len(self.user_ids)

    @property
    def posts_videos(self) -> np.ndarray:
        return self.user_type != CONSUMER


def build_population(spec: GeneratorSpec, rng: np.random.Generator) -> Population:
    n = spec.users
    width = max(USER_ID_DIGITS, len(str(n)))
    user_type = draw_categorical(rng, USER_TYPE_SHARES, n).astype(np.int8)
    if not (user_type != CONSUMER).any():
        user_type[0] = CREATOR  # without a creator there would be no videos to watch
    posts = user_type != CONSUMER
    tier = np.where(posts, draw_categorical(rng, TIER_SHARES, n), NO_TIER).astype(np.int8)
    creator_median = np.asarray(TIER_MEDIAN_FOLLOWERS, dtype=np.float64)[np.maximum(tier, 0)]
    followers = np.where(
        posts,
        rng.lognormal(np.log(creator_median), CREATOR_FOLLOWER_SPREAD),
        rng.lognormal(np.log(CONSUMER_MEDIAN_FOLLOWERS), CONSUMER_FOLLOWER_SPREAD, n),
    )
    following = rng.lognormal(np.log(MEDIAN_FOLLOWING), FOLLOWING_SPREAD, n)
    account_age = 1 + np.minimum(
        rng.exponential(MEAN_ACCOUNT_AGE_DAYS, n).astype(np.int64), MAX_ACCOUNT_AGE_DAYS
    )
    registration_day = (spec.start_date - EPOCH).days - account_age
    enrolled = rng.random(n) < EXPERIMENT_SHARE
    experiment = draw_categorical(rng, EXPERIMENT_SHARES, n) * len(VARIANTS) + rng.integers(
        0, len(VARIANTS), n
    )
    return Population(
        user_ids=np.array([f"u{i:0{width}d}" for i in range(1, n + 1)], dtype=object),
        registration_dates=[
            (EPOCH + dt.timedelta(days=int(d))).isoformat() for d in registration_day
        ],
        registration_ms=registration_day * MS_PER_DAY,
        user_type=user_type,
        tier=tier,
        region=draw_categorical(rng, REGION_SHARES, n),
        followers=np.minimum(followers, MAX_FOLLOWERS).astype(np.int64),
        following=np.minimum(following, MAX_FOLLOWING).astype(np.int64),
        consent=rng.random(n) >= OPT_OUT_SHARE,
        activity=rng.lognormal(0.0, ACTIVITY_SPREAD, n),
        client=draw_categorical(rng, tuple(share for _, _, share in CLIENTS), n),
        favourite_category=draw_categorical(rng, CATEGORY_SHARES, n),
        experiment=np.where(enrolled, experiment, -1),
        deleted_ms=np.full(n, NEVER, dtype=np.int64),
    )


def user_upsert_line(pop: Population, user: int, updated_at: str, omit_consent: bool) -> str:
    tier = int(pop.tier[user])
    creator_tier = f'"{CREATOR_TIERS[tier]}"' if tier != NO_TIER else "null"
    consents = bool(pop.consent[user])
    # Only a consenting profile may leave the flag out: its default is true.
    consent = (
        "" if omit_consent and consents else f',"analytics_consent":{JSON_BOOLEANS[int(consents)]}'
    )
    return (
        f'{{"op":"upsert","user_id":"{pop.user_ids[user]}","updated_at":"{updated_at}",'
        f'"registration_date":"{pop.registration_dates[user]}",'
        f'"user_type":"{USER_TYPES[pop.user_type[user]]}","creator_tier":{creator_tier},'
        f'"region":"{REGIONS[pop.region[user]]}","follower_count":{int(pop.followers[user])},'
        f'"following_count":{int(pop.following[user])}{consent}}}'
    )


def user_delete_line(pop: Population, user: int, updated_at: str) -> str:
    return dumps({"op": "delete", "user_id": pop.user_ids[user], "updated_at": updated_at})


def user_snapshot_lines(pop: Population, start_ms: int, rng: np.random.Generator) -> list[str]:
    """Every profile as it stood before day 1 (last changed between registration and then)."""
    span = start_ms - pop.registration_ms
    updated = pop.registration_ms + (rng.random(pop.size) * span).astype(np.int64)
    omit_consent = rng.random(pop.size) < CONSENT_OMITTED_SHARE
    stamps = iso_timestamps(updated)
    return [user_upsert_line(pop, u, stamps[u], bool(omit_consent[u])) for u in range(pop.size)]


def advance_users(pop: Population, day_start: int, rng: np.random.Generator) -> list[str]:
    """One day of profile changes (growth, promotions, opt-outs, deletions) as CDC lines."""
    n = pop.size
    alive = pop.deleted_ms == NEVER
    posts = pop.posts_videos
    follower_rate = np.where(posts, CREATOR_FOLLOWER_UPDATE_RATE, CONSUMER_FOLLOWER_UPDATE_RATE)
    follower_update = alive & (rng.random(n) < follower_rate)
    grown = np.rint(
        pop.followers * np.exp(rng.normal(FOLLOWER_DAILY_GROWTH, FOLLOWER_DAILY_SPREAD, n))
    )
    grown = np.clip(grown + rng.integers(*FOLLOWER_JITTER, n), 0, MAX_FOLLOWERS).astype(np.int64)
    following_update = alive & (rng.random(n) < FOLLOWING_UPDATE_RATE)
    followed = np.clip(pop.following + rng.integers(*FOLLOWING_JITTER, n), 0, MAX_FOLLOWING)
    promotion_rate = np.asarray(PROMOTION_RATE_BY_TIER)[np.maximum(pop.tier, 0)]
    promoted = alive & posts & (rng.random(n) < promotion_rate)
    boost = rng.uniform(*PROMOTION_FOLLOWER_BOOST, n)
    converted = alive & ~posts & (rng.random(n) < BECOME_CREATOR_RATE)
    opted_out = alive & pop.consent & (rng.random(n) < OPT_OUT_RATE)
    deleted = alive & (rng.random(n) < USER_DELETE_RATE)
    omit_consent = rng.random(n) < CONSENT_OMITTED_SHARE
    updated_ms = day_start + rng.integers(0, MS_PER_DAY, n)

    pop.followers = np.where(follower_update, grown, pop.followers)
    pop.following = np.where(following_update, followed, pop.following)
    pop.followers = np.where(
        promoted, np.minimum(pop.followers * boost, MAX_FOLLOWERS), pop.followers
    )
    pop.followers = pop.followers.astype(np.int64)
    pop.tier = np.where(promoted, pop.tier + 1, pop.tier).astype(np.int8)
    pop.user_type = np.where(converted, BOTH, pop.user_type).astype(np.int8)
    pop.tier = np.where(converted, CASUAL, pop.tier).astype(np.int8)
    pop.consent = pop.consent & ~opted_out
    pop.deleted_ms = np.where(deleted, updated_ms, pop.deleted_ms)

    changed = (follower_update | following_update | promoted | converted | opted_out) & ~deleted
    touched = np.flatnonzero(changed | deleted)
    stamps = iso_timestamps(updated_ms[touched])
    return [
        user_delete_line(pop, int(u), stamp)
        if deleted[u]
        else user_upsert_line(pop, int(u), stamp, bool(omit_consent[u]))
        for u, stamp in zip(touched, stamps)
    ]


# --- content --------------------------------------------------------------------------------


@dataclass
class Catalog:
    """Every video ever posted, in upload order; index = content number - 1."""

    content_ids: np.ndarray  # object array of "c0000123"
    creator: np.ndarray
    content_type: np.ndarray
    category: np.ndarray
    duration: np.ndarray
    music: np.ndarray  # -1 = original audio
    hashtags: list[list[str]]
    effects: list[list[str]]
    upload_ms: np.ndarray
    status: np.ndarray
    gone_ms: np.ndarray  # when it was taken down or deleted
    appeal: np.ndarray

    @property
    def size(self) -> int:
        return len(self.content_ids)

    def extended(self, more: Catalog) -> Catalog:
        joined = {
            f.name: (
                getattr(self, f.name) + getattr(more, f.name)
                if isinstance(getattr(self, f.name), list)
                else np.concatenate([getattr(self, f.name), getattr(more, f.name)])
            )
            for f in fields(self)
        }
        return Catalog(**joined)


def draw_tags(
    rng: np.random.Generator,
    count_shares: tuple[float, ...],
    pools: list[tuple[str, ...]],
    pool_shares: tuple[float, ...],
) -> list[list[str]]:
    """0..N distinct tags per video from that video's pool (all pools have the same length)."""
    counts = draw_categorical(rng, count_shares, len(pools))
    picks = draw_categorical(rng, pool_shares, (len(pools), len(count_shares) - 1))
    return [
        list(dict.fromkeys(pool[p] for p in row[:count]))
        for pool, row, count in zip(pools, picks.tolist(), counts.tolist())
    ]


def draw_videos(
    pop: Population,
    creators: np.ndarray,
    upload_ms: np.ndarray,
    status: np.ndarray,
    first_number: int,
    rng: np.random.Generator,
) -> Catalog:
    n = len(creators)
    niche = rng.random(n) < FAVOURITE_CATEGORY_SHARE
    category = np.where(
        niche, pop.favourite_category[creators], draw_categorical(rng, CATEGORY_SHARES, n)
    )
    duration = np.rint(rng.lognormal(np.log(MEDIAN_DURATION_SECONDS), DURATION_SPREAD, n))
    music = (rng.zipf(MUSIC_ZIPF, n) - 1) % MUSIC_CATALOG_SIZE
    hashtag_pools = [GENERAL_HASHTAGS + CATEGORY_HASHTAGS[CATEGORIES[c]] for c in category.tolist()]
    return Catalog(
        content_ids=np.array(
            [f"c{i:0{CONTENT_ID_DIGITS}d}" for i in range(first_number, first_number + n)],
            dtype=object,
        ),
        creator=creators.astype(np.int64),
        content_type=draw_categorical(rng, CONTENT_TYPE_SHARES, n),
        category=category,
        duration=np.clip(duration, MIN_DURATION_SECONDS, MAX_DURATION_SECONDS).astype(np.int64),
        music=np.where(rng.random(n) < MUSIC_SHARE, music, -1),
        hashtags=draw_tags(
            rng,
            HASHTAG_COUNT_SHARES,
            hashtag_pools,
            GENERAL_HASHTAG_SHARES + CATEGORY_HASHTAG_SHARES,
        ),
        effects=draw_tags(rng, EFFECT_COUNT_SHARES, [EFFECTS] * n, EFFECT_SHARES),
        upload_ms=upload_ms.astype(np.int64),
        status=status.astype(np.int8),
        gone_ms=np.where(status == REMOVED, upload_ms, NEVER).astype(np.int64),
        appeal=(rng.pareto(APPEAL_TAIL, n) + APPEAL_FLOOR)
        * np.asarray(TIER_REACH)[np.maximum(pop.tier[creators], 0)],
    )


def build_backlog(pop: Population, start_ms: int, rng: np.random.Generator) -> Catalog:
    """The videos already online before day 1, posted over the previous weeks."""
    mean_videos = np.asarray(INITIAL_VIDEOS_BY_TIER)[np.maximum(pop.tier, 0)] * pop.posts_videos
    counts = rng.poisson(mean_videos)
    if counts.sum() == 0:
        counts[np.flatnonzero(pop.posts_videos)[0]] = 1  # someone must have posted something
    creators = np.repeat(np.arange(pop.size), counts)
    earliest = np.maximum(pop.registration_ms[creators], start_ms - BACKLOG_DAYS * MS_PER_DAY)
    upload = earliest + (rng.random(len(creators)) * (start_ms - earliest)).astype(np.int64)
    order = np.argsort(upload, kind="stable")
    status = draw_categorical(rng, BACKLOG_STATUS_SHARES, len(creators))
    return draw_videos(pop, creators[order], upload[order], status, 1, rng)


def content_line(
    catalog: Catalog,
    pop: Population,
    video: int,
    updated_at: str,
    uploaded_at: str,
    omit_status: bool = False,
) -> str:
    music = int(catalog.music[video])
    music_id = f'"m{music:06d}"' if music >= 0 else "null"
    status = int(catalog.status[video])
    moderation = (
        ""
        if omit_status and status == APPROVED
        else f',"moderation_status":"{MODERATION_STATUSES[status]}"'
    )
    return (
        f'{{"op":"upsert","content_id":"{catalog.content_ids[video]}","updated_at":"{updated_at}",'
        f'"creator_user_id":"{pop.user_ids[catalog.creator[video]]}",'
        f'"content_type":"{CONTENT_TYPES[catalog.content_type[video]]}",'
        f'"category":"{CATEGORIES[catalog.category[video]]}",'
        f'"duration_seconds":{int(catalog.duration[video])},"music_id":{music_id},'
        f'"hashtags":{json_strings(catalog.hashtags[video])},'
        f'"effects_used":{json_strings(catalog.effects[video])},'
        f'"upload_timestamp":"{uploaded_at}"{moderation}}}'
    )


def content_delete_line(catalog: Catalog, video: int, updated_at: str) -> str:
    return dumps(
        {"op": "delete", "content_id": catalog.content_ids[video], "updated_at": updated_at}
    )


def catalog_snapshot_lines(
    catalog: Catalog, pop: Population, rng: np.random.Generator
) -> list[str]:
    omit_status = rng.random(catalog.size) < STATUS_OMITTED_SHARE
    stamps = iso_timestamps(catalog.upload_ms)
    return [
        content_line(catalog, pop, v, stamps[v], stamps[v], bool(omit_status[v]))
        for v in range(catalog.size)
    ]


def advance_catalog(
    catalog: Catalog, pop: Population, day_start: int, rng: np.random.Generator
) -> tuple[Catalog, list[str]]:
    """One day of moderation, takedowns and uploads; returns the grown catalog and its CDC lines."""
    day_end = day_start + MS_PER_DAY
    n = catalog.size
    online = catalog.gone_ms == NEVER
    change_ms = day_start + rng.integers(0, MS_PER_DAY, n)
    owner_deleted_ms = pop.deleted_ms[catalog.creator]
    # An account deleted today takes its videos down with it, a second later.
    owner_gone = online & (owner_deleted_ms < day_end)
    change_ms = np.where(
        owner_gone, np.minimum(owner_deleted_ms + MS_PER_SECOND, day_end - 1), change_ms
    )
    deleted = owner_gone | (online & (rng.random(n) < CREATOR_DELETE_RATE))
    reviewed = (
        online & ~deleted & (catalog.status == PENDING) & (rng.random(n) < PENDING_RESOLUTION_RATE)
    )
    rejected = rng.random(n) < PENDING_REMOVAL_SHARE
    taken_down = online & ~deleted & (catalog.status == APPROVED) & (rng.random(n) < TAKEDOWN_RATE)

    new_status = np.where(reviewed & ~rejected, APPROVED, catalog.status)
    new_status = np.where((reviewed & rejected) | taken_down, REMOVED, new_status)
    catalog.status = new_status.astype(np.int8)
    newly_removed = online & (new_status == REMOVED)
    catalog.gone_ms = np.where(deleted | newly_removed, change_ms, catalog.gone_ms)

    changed = np.flatnonzero(deleted | reviewed | taken_down)
    stamps = iso_timestamps(change_ms[changed])
    uploaded = iso_timestamps(catalog.upload_ms[changed])
    lines = [
        content_delete_line(catalog, int(v), stamp)
        if deleted[v]
        else content_line(catalog, pop, int(v), stamp, uploaded_at)
        for v, stamp, uploaded_at in zip(changed, stamps, uploaded)
    ]

    uploading = pop.posts_videos & (pop.deleted_ms >= day_end)
    mean_uploads = np.asarray(DAILY_UPLOADS_BY_TIER)[np.maximum(pop.tier, 0)] * uploading
    creators = np.repeat(np.arange(pop.size), rng.poisson(mean_uploads))
    creators = rng.permutation(creators)  # upload order is not creator order
    upload_ms = diurnal_times(rng, len(creators), day_start)
    status = draw_categorical(rng, UPLOAD_STATUS_SHARES, len(creators))
    uploads = draw_videos(pop, creators, upload_ms, status, n + 1, rng)
    omit_status = rng.random(uploads.size) < STATUS_OMITTED_SHARE
    upload_stamps = iso_timestamps(uploads.upload_ms)
    lines += [
        content_line(uploads, pop, v, upload_stamps[v], upload_stamps[v], bool(omit_status[v]))
        for v in range(uploads.size)
    ]
    return catalog.extended(uploads), lines


# --- who watches what, when -----------------------------------------------------------------


@dataclass(frozen=True)
class DayAudience:
    """Who is active and which videos the feed serves, hour by hour, on one day.

    Shared by engagements and discovery so impressions and views follow the same popularity.
    """

    day_start: int
    user_cdf: np.ndarray
    hourly_content_cdfs: tuple[np.ndarray, ...]

    def draw(
        self, count: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(epoch-ms sorted, user index, content index) for `count` interactions."""
        per_hour = rng.multinomial(count, shares(HOURLY_ACTIVITY))
        times, videos = [], []
        for hour, hour_count in enumerate(per_hour.tolist()):
            hour_start = self.day_start + hour * MS_PER_HOUR
            times.append(hour_start + np.sort(rng.integers(0, MS_PER_HOUR, hour_count)))
            videos.append(draw_weighted(rng, self.hourly_content_cdfs[hour], hour_count))
        users = draw_weighted(rng, self.user_cdf, count)
        return np.concatenate(times), users, np.concatenate(videos)


def build_audience(
    pop: Population, catalog: Catalog, day_start: int, rng: np.random.Generator
) -> DayAudience:
    day_end = day_start + MS_PER_DAY
    active = pop.activity * (pop.deleted_ms >= day_end)
    if active.sum() <= 0:
        active = pop.activity
    buzz = rng.lognormal(0.0, DAILY_BUZZ_SPREAD, catalog.size)
    reach = catalog.appeal * buzz * np.where(catalog.status == PENDING, PENDING_REACH, 1.0)
    cdfs = []
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
    return DayAudience(day_start, np.cumsum(active), tuple(cdfs))


# --- engagements and discovery --------------------------------------------------------------


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
    partial = length * rng.beta(*PARTIAL_WATCH_BETA, n)
    full = length * rng.uniform(FULL_WATCH_MIN_FRACTION, 1.0, n)
    looped = length * rng.uniform(1.0, LOOP_MAX_FRACTION, n)
    watched = np.maximum(np.choose(pattern, [swipe, partial, full, looped]), MIN_WATCH_SECONDS)
    watch_ms = np.rint(watched * MS_PER_SECOND).astype(np.int64)
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


# --- bad lines ------------------------------------------------------------------------------

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


# --- delivery -------------------------------------------------------------------------------

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


def iter_deliveries(spec: GeneratorSpec, stats: GenerationStats) -> Iterator[Delivery]:
    """Every landing file of the run, in delivery order, with its lines (no I/O)."""
    world_rng = stream_rng(spec, STREAM_WORLD)
    start_ms = day_start_ms(spec.start_date)
    pop = build_population(spec, world_rng)
    catalog = build_backlog(pop, start_ms, world_rng)
    routers = (
        (
            EventRouter(ENGAGEMENT_FEED, spec, stats),
            draw_engagements,
            STREAM_ENGAGEMENTS,
            STREAM_ENGAGEMENT_DELIVERY,
        ),
        (
            EventRouter(DISCOVERY_FEED, spec, stats),
            draw_impressions,
            STREAM_DISCOVERY,
            STREAM_DISCOVERY_DELIVERY,
        ),
    )
    stats.users = pop.size
    for day_index in range(spec.days):
        day_start = day_start_ms(spec.day(day_index))
        user_lines = user_snapshot_lines(pop, start_ms, world_rng) if day_index == 0 else []
        user_lines += advance_users(pop, day_start, stream_rng(spec, STREAM_USERS, day_index))
        content_lines = catalog_snapshot_lines(catalog, pop, world_rng) if day_index == 0 else []
        catalog, changes = advance_catalog(
            catalog, pop, day_start, stream_rng(spec, STREAM_CONTENT, day_index)
        )
        content_lines += changes
        stats.user_changes += len(user_lines)
        stats.content_changes += len(content_lines)
        yield Delivery("users", cdc_file_name(spec, day_index), user_lines)
        yield Delivery("content", cdc_file_name(spec, day_index), content_lines)

        audience = build_audience(
            pop, catalog, day_start, stream_rng(spec, STREAM_AUDIENCE, day_index)
        )
        for router, draw, draw_stream, delivery_stream in routers:
            batch = draw(
                audience, pop, catalog, spec, day_index, stream_rng(spec, draw_stream, day_index)
            )
            yield from router.deliver(batch, stream_rng(spec, delivery_stream, day_index))
    stats.content = catalog.size


# --- I/O at the edge ------------------------------------------------------------------------


def write_lines(handle: Any, lines: list[str]) -> None:
    """Newline-terminated UTF-8 lines, encoded in chunks so a big file is never copied whole."""
    for start in range(0, len(lines), WRITE_CHUNK_LINES):
        chunk = lines[start : start + WRITE_CHUNK_LINES]
        handle.write(("\n".join(chunk) + "\n").encode("utf-8"))


def write_delivery(landing: Path, delivery: Delivery) -> bool:
    """Write one file atomically (hidden temp file, fsync, rename); False if it already exists."""
    directory = landing / delivery.feed
    target = directory / delivery.name
    if target.exists():
        return False  # files are never changed once they appear; a rerun leaves them be
    temporary = directory / f".{delivery.name}.{os.getpid()}.tmp"
    try:
        with open(temporary, "wb") as handle:
            if delivery.name.endswith(".gz"):
                # mtime=0 and no file name in the header: the same lines give the same bytes.
                with gzip.GzipFile(
                    filename="", mode="wb", fileobj=handle, compresslevel=GZIP_LEVEL, mtime=0
                ) as compressed:
                    write_lines(compressed, delivery.lines)
            else:
                write_lines(handle, delivery.lines)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return True


def sync_directory(directory: Path) -> None:
    """Make the renames durable (POSIX); a no-op where directories cannot be opened."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def generate(spec: GeneratorSpec) -> GenerationStats:
    stats = GenerationStats()
    landing = Path(spec.landing)
    for feed in FEEDS:
        (landing / feed).mkdir(parents=True, exist_ok=True)
    files_per_day = 2 + 2 * spec.files_per_day
    quiet = not sys.stderr.isatty() or spec.days * spec.events_per_day < PROGRESS_MIN_EVENTS
    with tqdm(
        total=spec.days * files_per_day, unit="file", disable=quiet, file=sys.stderr
    ) as progress:
        for delivery in iter_deliveries(spec, stats):
            if write_delivery(landing, delivery):
                stats.files += 1
            else:
                stats.skipped_files += 1
            progress.update()
    for feed in FEEDS:
        sync_directory(landing / feed)
    return stats


# --- command line ---------------------------------------------------------------------------


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"'{text}' must be 0 or greater")
    return value


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not value >= 0.0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"'{text}' must be a finite number of 0 or more")
    return value


def build_parser() -> OneLineParser:
    parser = base_parser("generate", "Write realistic synthetic landing files for all four feeds.")
    parser.add_argument(
        "--landing", help="landing directory (default: the environment's paths.landing)"
    )
    parser.add_argument("--days", type=positive_int, help="number of days of events")
    parser.add_argument(
        "--events-per-day", type=positive_int, help="good engagement events per day"
    )
    parser.add_argument(
        "--users", type=positive_int, help=f"number of users (at least {MIN_USERS})"
    )
    parser.add_argument("--seed", type=non_negative_int, help="random seed: same seed, same files")
    parser.add_argument(
        "--start-date",
        type=iso_date,
        help="first day YYYY-MM-DD (default: DAYS days ending yesterday UTC)",
    )
    parser.add_argument("--bad-rate", type=rate, help="extra bad lines per good event (0..1)")
    parser.add_argument("--dup-rate", type=rate, help="share of events delivered twice (0..1)")
    parser.add_argument(
        "--late-rate", type=rate, help="share of events delivered 1-3 days late (0..1)"
    )
    return parser


def conf_setting(conf: Conf, name: str, cli_value: Any, convert: Callable[[str], Any]) -> Any:
    """The option if given, else conf `generate.<name>` checked with the option's own rule."""
    if cli_value is not None:
        return cli_value
    raw = conf.get(f"generate.{name}")
    try:
        return convert(str(raw))
    except argparse.ArgumentTypeError as error:
        raise ConfigError(f"configuration generate.{name}: {error}") from None


def resolve_spec(args: argparse.Namespace, conf: Conf) -> GeneratorSpec:
    if not conf.landing:
        raise ConfigError("no landing directory: give --landing or set paths.landing")
    if is_uri(conf.landing):
        raise ConfigError(f"generate writes local files; landing '{conf.landing}' is a URI")
    days = conf_setting(conf, "days", args.days, positive_int)
    users = conf_setting(conf, "users", args.users, positive_int)
    if users < MIN_USERS:
        raise ConfigError(f"--users must be at least {MIN_USERS}, got {users}")
    start_date = args.start_date
    if start_date is None:
        configured = str(conf.get("generate.start_date") or "")
        if configured:
            start_date = conf_setting(conf, "start_date", None, iso_date)
        else:
            today = dt.datetime.now(dt.UTC).date()
            start_date = today - dt.timedelta(days=days)
    return GeneratorSpec(
        landing=conf.landing,
        start_date=start_date,
        days=days,
        events_per_day=conf_setting(conf, "events_per_day", args.events_per_day, positive_int),
        users=users,
        seed=conf_setting(conf, "seed", args.seed, non_negative_int),
        bad_rate=conf_setting(conf, "bad_rate", args.bad_rate, rate),
        dup_rate=conf_setting(conf, "dup_rate", args.dup_rate, rate),
        late_rate=conf_setting(conf, "late_rate", args.late_rate, rate),
        discovery_per_engagement=conf_setting(
            conf, "discovery_per_engagement", None, non_negative_float
        ),
        files_per_day=conf_setting(conf, "files_per_day", None, positive_int),
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        conf = load_conf(args.env, args.overrides, landing=args.landing)
        spec = resolve_spec(args, conf)
    except ConfigError as error:
        parser.error(str(error))
    report = JobReport("generate")
    try:
        stats = generate(spec)
    except OSError as error:
        sys.stderr.write(f"{parser.prog}: error: cannot write landing files: {error}\n")
        return EXIT_FAILED
    report.add(landing=spec.landing, **asdict(stats))
    report.emit()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
