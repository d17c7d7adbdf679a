"""The generated app against published figures of short-video apps (generator/calibration.py).

A realistic sample (2,000 users, 3 days of 20,000 engagements; no Spark: the files are read here)
is measured independently of the generator's code and every figure must be within a factor of
calibration.TOLERANCE_FACTOR of its cited target.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from jobs.generator import calibration as cal
from jobs.generator.files import generate
from jobs.generator.parameters import REGION_UTC_OFFSETS, REGIONS
from jobs.generator.spec import GeneratorSpec

SAMPLE = {"days": 3, "events_per_day": 20_000, "users": 2_000, "seed": 42}
START = dt.date(2025, 3, 1)
ENGAGEMENT_TARGETS = {
    "like": cal.LIKE_PER_VIEW,
    "comment": cal.COMMENT_PER_VIEW,
    "share": cal.SHARE_PER_VIEW,
    "save": cal.SAVE_PER_VIEW,
    "follow": cal.FOLLOW_PER_VIEW,
}


def read_records(folder: Path) -> list[dict[str, Any]]:
    records = []
    for path in sorted(folder.iterdir()):
        data = path.read_bytes()
        data = gzip.decompress(data) if path.name.endswith(".gz") else data
        for line in data.decode("utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict):
                records.append(record)
    return records


def top_share(counts: np.ndarray, fraction: float) -> float:
    ranked = np.sort(counts)[::-1]
    return float(ranked[: max(1, round(len(ranked) * fraction))].sum() / ranked.sum())


def gini(counts: np.ndarray) -> float:
    ranked = np.sort(counts).astype(np.float64)
    n = len(ranked)
    return float((2 * np.arange(1, n + 1) - n - 1) @ ranked / (n * ranked.sum()))


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The figures of a clean generated sample, measured from its files."""
    root = tmp_path_factory.mktemp("calibration")
    generate(
        GeneratorSpec(
            landing=str(root), start_date=START, bad_rate=0.0, dup_rate=0.02, late_rate=0.02,
            discovery_per_engagement=0.5, files_per_day=4, **SAMPLE,
        )  # fmt: skip
    )
    events = {r["event_id"]: r for r in read_records(root / "engagements") if "event_id" in r}
    users = read_records(root / "users")
    content = read_records(root / "content")
    region = {r["user_id"]: r["region"] for r in users if r["op"] == "upsert"}
    offset = dict(zip(REGIONS, REGION_UTC_OFFSETS))

    types = Counter(r["engagement_type"] for r in events.values())
    views = [r for r in events.values() if r["engagement_type"] == "view"]
    duration = {r["content_id"]: r["duration_seconds"] for r in content if r["op"] == "upsert"}
    watched = np.array([r["watch_duration_seconds"] for r in views])
    ratio = watched / np.array([duration[r["content_id"]] for r in views])

    end = (START + dt.timedelta(days=SAMPLE["days"])).isoformat()
    gone = {r["content_id"] for r in content if r["op"] == "delete"} | {
        r["content_id"] for r in content if r.get("moderation_status") == "removed"
    }
    online = {cid for cid, r in ((r["content_id"], r) for r in content if r["op"] == "upsert")
              if r["upload_timestamp"] < end and cid not in gone}  # fmt: skip
    per_video = Counter(r["content_id"] for r in views)
    view_counts = np.array([per_video.get(cid, 0) for cid in online])

    local_hours = Counter(
        (int(r["event_timestamp"][11:13]) + offset[region[r["user_id"]]]) % 24
        for r in events.values()
    )
    return {
        "types": types,
        "views": len(views),
        "ratio": ratio,
        "watched": watched,
        "durations": np.array(list(duration.values())),
        "view_counts": view_counts,
        "local_hour_share": np.array([local_hours[h] for h in range(24)]) / len(events),
        "users": users,
        "content": content,
    }


def within(generated: float, target: float) -> bool:
    return target / cal.TOLERANCE_FACTOR <= generated <= target * cal.TOLERANCE_FACTOR


@pytest.mark.parametrize("kind", sorted(ENGAGEMENT_TARGETS))
def test_interactions_per_view_match_the_targets(kind: str, sample: dict[str, Any]) -> None:
    rate = sample["types"][kind] / sample["views"]
    assert within(rate, ENGAGEMENT_TARGETS[kind].value), (kind, rate)


def test_likes_comments_and_shares_per_view_match_the_published_engagement_rate(
    sample: dict[str, Any],
) -> None:
    engaged = sum(sample["types"][k] for k in ("like", "comment", "share"))
    assert within(engaged / sample["views"], cal.ENGAGEMENT_PER_VIEW.value)


def test_how_views_end_matches_kuairec(sample: dict[str, Any]) -> None:
    ratio, watched = sample["ratio"], sample["watched"]
    p25, p50, p75 = np.percentile(ratio, [25, 50, 75])
    assert within(p25, cal.WATCH_RATIO_P25.value), p25
    assert within(p50, cal.WATCH_RATIO_MEDIAN.value), p50
    assert within(p75, cal.WATCH_RATIO_P75.value), p75
    assert within(float(np.mean(watched < 3)), cal.SHORT_VIEW_SHARE.value)
    assert within(float(np.mean(ratio >= 1)), cal.COMPLETE_VIEW_SHARE.value)
    assert within(float(np.median(sample["durations"])), cal.DURATION_MEDIAN_SECONDS.value)


def test_views_are_as_unequal_as_on_tiktok(sample: dict[str, Any]) -> None:
    counts = sample["view_counts"]
    assert within(top_share(counts, 0.01), cal.TOP_1_PERCENT_VIEW_SHARE.value)
    assert within(top_share(counts, 0.10), cal.TOP_10_PERCENT_VIEW_SHARE.value)
    assert within(gini(counts), cal.VIEWS_GINI.value)


def test_the_day_follows_the_local_activity_curve(sample: dict[str, Any]) -> None:
    share = sample["local_hour_share"]
    profile = np.asarray(cal.LOCAL_HOURLY_ACTIVITY) / sum(cal.LOCAL_HOURLY_ACTIVITY)
    assert all(within(g, t) for g, t in zip(share, profile)), list(zip(share, profile))
    assert int(np.argmax(share)) == cal.BUSIEST_LOCAL_HOUR
    for hour in cal.SECONDARY_PEAK_LOCAL_HOURS:
        assert share[hour] > share[hour - 1] and share[hour] > share[hour + 1], hour


def test_cdc_upserts_sometimes_leave_out_consent_and_moderation(sample: dict[str, Any]) -> None:
    """An omitted field keeps the last value (events.md): a real producer leaves them out, also
    on users who opted out and on videos that were removed."""
    seen_false: set[str] = set()
    omitted_after_opt_out = 0
    for record in sorted(sample["users"], key=lambda r: r["updated_at"]):
        if record["op"] != "upsert":
            continue
        if record.get("analytics_consent") is False:
            seen_false.add(record["user_id"])
        elif "analytics_consent" not in record and record["user_id"] in seen_false:
            omitted_after_opt_out += 1
    assert omitted_after_opt_out > 0
    upserts = [r for r in sample["users"] if r["op"] == "upsert"]
    assert 0.05 < sum("analytics_consent" not in r for r in upserts) / len(upserts) < 0.5

    removed: set[str] = set()
    omitted_after_removal = 0
    for record in sorted(sample["content"], key=lambda r: r["updated_at"]):
        if record["op"] != "upsert":
            continue
        if record.get("moderation_status") == "removed":
            removed.add(record["content_id"])
        elif "moderation_status" not in record and record["content_id"] in removed:
            omitted_after_removal += 1
    assert omitted_after_removal > 0
