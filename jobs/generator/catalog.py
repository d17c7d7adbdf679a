"""Videos: the catalog before day 1, its CDC lines, and a day of moderation and uploads."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from jobs.generator.draws import diurnal_times, draw_categorical
from jobs.generator.formatting import dumps, iso_timestamps, json_strings
from jobs.generator.parameters import (
    APPEAL_FLOOR,
    APPEAL_TAIL,
    APPROVED,
    BACKLOG_DAYS,
    BACKLOG_STATUS_SHARES,
    CATEGORIES,
    CATEGORY_HASHTAG_SHARES,
    CATEGORY_HASHTAGS,
    CATEGORY_SHARES,
    CONTENT_ID_DIGITS,
    CONTENT_TYPE_SHARES,
    CONTENT_EDIT_RATE,
    CONTENT_TYPES,
    CREATOR_DELETE_RATE,
    DAILY_UPLOADS_BY_TIER,
    DURATION_SPREAD,
    EFFECT_COUNT_SHARES,
    EFFECT_SHARES,
    EFFECTS,
    FAVOURITE_CATEGORY_SHARE,
    GENERAL_HASHTAG_SHARES,
    GENERAL_HASHTAGS,
    HASHTAG_COUNT_SHARES,
    INITIAL_VIDEOS_BY_TIER,
    MAX_DURATION_SECONDS,
    MEDIAN_DURATION_SECONDS,
    MIN_DURATION_SECONDS,
    MODERATION_STATUSES,
    MS_PER_DAY,
    MS_PER_SECOND,
    MUSIC_CATALOG_SIZE,
    MUSIC_SHARE,
    MUSIC_ZIPF,
    NEVER,
    PENDING,
    PENDING_REMOVAL_SHARE,
    PENDING_RESOLUTION_RATE,
    REMOVED,
    STATUS_OMITTED_ON_EDIT_SHARE,
    STATUS_OMITTED_SHARE,
    TAKEDOWN_RATE,
    TIER_REACH,
    UPLOAD_STATUS_SHARES,
)
from jobs.generator.population import Population


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
    # Left out, the status keeps the video's last value (approved if never sent).
    moderation = "" if omit_status else f',"moderation_status":"{MODERATION_STATUSES[status]}"'

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
    omit_status = (rng.random(catalog.size) < STATUS_OMITTED_SHARE) & (catalog.status == APPROVED)
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

    # Producers also re-send unchanged profiles (an edit outside the contract's fields), removed
    # videos included; such an upsert often leaves the status out, which keeps it.
    moderated = deleted | reviewed | taken_down
    still_listed = (online | (catalog.status == REMOVED)) & ~moderated
    edited = still_listed & (rng.random(n) < CONTENT_EDIT_RATE)
    omit_status = edited & (rng.random(n) < STATUS_OMITTED_ON_EDIT_SHARE)
    changed = np.flatnonzero(moderated | edited)
    stamps = iso_timestamps(change_ms[changed])
    uploaded = iso_timestamps(catalog.upload_ms[changed])
    lines = [
        content_delete_line(catalog, int(v), stamp)
        if deleted[v]
        else content_line(catalog, pop, int(v), stamp, uploaded_at, bool(omit_status[v]))
        for v, stamp, uploaded_at in zip(changed, stamps, uploaded)
    ]

    uploading = pop.posts_videos & (pop.deleted_ms >= day_end)
    mean_uploads = np.asarray(DAILY_UPLOADS_BY_TIER)[np.maximum(pop.tier, 0)] * uploading
    creators = np.repeat(np.arange(pop.size), rng.poisson(mean_uploads))
    upload_ms = diurnal_times(rng, pop.utc_offset[creators], day_start)
    order = np.argsort(upload_ms, kind="stable")  # content ids follow upload order
    creators, upload_ms = creators[order], upload_ms[order]
    status = draw_categorical(rng, UPLOAD_STATUS_SHARES, len(creators))
    uploads = draw_videos(pop, creators, upload_ms, status, n + 1, rng)
    omit_status = (rng.random(uploads.size) < STATUS_OMITTED_SHARE) & (uploads.status == APPROVED)
    upload_stamps = iso_timestamps(uploads.upload_ms)
    lines += [
        content_line(uploads, pop, v, upload_stamps[v], upload_stamps[v], bool(omit_status[v]))
        for v in range(uploads.size)
    ]
    return catalog.extended(uploads), lines
