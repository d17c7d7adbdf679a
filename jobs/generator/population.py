"""Users: the population before day 1, its profiles as CDC lines, and a day of changes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from jobs.generator.draws import STREAM_TASTES, draw_categorical, stream_rng
from jobs.generator.formatting import JSON_BOOLEANS, dumps, iso_timestamps
from jobs.generator.parameters import (
    ACTIVITY_SPREAD,
    BECOME_CREATOR_RATE,
    BOTH,
    CASUAL,
    CATEGORY_SHARES,
    CLIENTS,
    CONSENT_OMITTED_ON_UPDATE_SHARE,
    CONSENT_OMITTED_SHARE,
    CONSUMER,
    CONSUMER_FOLLOWER_SPREAD,
    CONSUMER_FOLLOWER_UPDATE_RATE,
    CONSUMER_MEDIAN_FOLLOWERS,
    CREATOR,
    CREATOR_FOLLOWER_SPREAD,
    CREATOR_FOLLOWER_UPDATE_RATE,
    CREATOR_TIERS,
    EPOCH,
    EXPERIMENT_SHARE,
    EXPERIMENT_SHARES,
    FOLLOWER_DAILY_GROWTH,
    FOLLOWER_DAILY_SPREAD,
    FOLLOWER_JITTER,
    FOLLOWING_JITTER,
    FOLLOWING_SPREAD,
    FOLLOWING_UPDATE_RATE,
    MAX_ACCOUNT_AGE_DAYS,
    MAX_FOLLOWERS,
    MAX_FOLLOWING,
    MEAN_ACCOUNT_AGE_DAYS,
    MEDIAN_FOLLOWING,
    MS_PER_DAY,
    NARROW_TASTE_SHARE,
    NEVER,
    NO_TIER,
    OPT_OUT_RATE,
    OPT_OUT_SHARE,
    PROMOTION_FOLLOWER_BOOST,
    PROMOTION_RATE_BY_TIER,
    RECENT_SIGNUP_DAYS,
    RECENT_SIGNUP_SHARE,
    REGION_SHARES,
    REGION_UTC_OFFSETS,
    REGIONS,
    TIER_MEDIAN_FOLLOWERS,
    TIER_SHARES,
    USER_DELETE_RATE,
    USER_ID_DIGITS,
    USER_TYPE_SHARES,
    USER_TYPES,
    VARIANTS,
)
from jobs.generator.spec import GeneratorSpec


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
    narrow_taste: np.ndarray  # the feed mostly serves them their favourite category
    experiment: np.ndarray  # experiment * len(VARIANTS) + variant, -1 = not enrolled
    deleted_ms: np.ndarray

    @property
    def size(self) -> int:
        return len(self.user_ids)

    @property
    def utc_offset(self) -> np.ndarray:
        """Hours from UTC of each user's local time (their region's)."""
        return np.asarray(REGION_UTC_OFFSETS, dtype=np.int64)[self.region]

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
    tastes = stream_rng(spec, STREAM_TASTES)
    recent = tastes.random(n) < RECENT_SIGNUP_SHARE
    account_age = np.where(recent, 1 + tastes.integers(0, RECENT_SIGNUP_DAYS, n), account_age)
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
        narrow_taste=tastes.random(n) < NARROW_TASTE_SHARE,
        experiment=np.where(enrolled, experiment, -1),
        deleted_ms=np.full(n, NEVER, dtype=np.int64),
    )


def user_upsert_line(pop: Population, user: int, updated_at: str, omit_consent: bool) -> str:
    tier = int(pop.tier[user])
    creator_tier = f'"{CREATOR_TIERS[tier]}"' if tier != NO_TIER else "null"
    consents = bool(pop.consent[user])
    # Left out, the flag keeps the user's last value (true if never sent): callers decide when.
    consent = "" if omit_consent else f',"analytics_consent":{JSON_BOOLEANS[int(consents)]}'

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
    # A first profile may leave the flag out only if it is the default (true).
    omit_consent = (rng.random(pop.size) < CONSENT_OMITTED_SHARE) & pop.consent
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
    omit_consent = rng.random(n) < CONSENT_OMITTED_ON_UPDATE_SHARE
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
    # Later upserts may leave the flag out (it keeps its value), except the one that changes it.
    omit_consent = omit_consent & ~opted_out
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
