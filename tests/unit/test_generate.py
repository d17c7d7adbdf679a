"""Unit tests of the generator (jobs/generate.py and jobs/generator/): determinism, the events.md contract, delivery quirks, CLI."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from jobs import generate as gen
from jobs.generator.files import generate, write_delivery
from jobs.generator.formatting import event_ids, iso_timestamps
from jobs.generator.parameters import CATEGORIES, MAX_LATE_DAYS, MAX_POSITION
from jobs.generator.spec import Delivery, GenerationStats, GeneratorSpec

START = dt.date(2025, 3, 1)
DAYS = 4
EVENTS_PER_DAY = 3_000
USERS = 300
BAD_RATE = 0.05
DUP_RATE = 0.05
LATE_RATE = 0.05
FILES_PER_DAY = 4
DISCOVERY_PER_ENGAGEMENT = 0.5

ENGAGEMENT_TYPES = {
    "view",
    "like",
    "comment",
    "share",
    "save",
    "follow",
    "unfollow",
    "duet",
    "remix",
}
ISO_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
EARLIEST = dt.datetime(2016, 1, 1, tzinfo=dt.UTC)


# --- an independent reading of shared/spec/events.md -----------------------------------------


def timestamp_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return "timestamp is not a string"
    if not ISO_TIMESTAMP.match(value):
        return "timestamp is not ISO-8601"
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return "timestamp does not parse"
    if moment < EARLIEST:
        return "timestamp before 2016"
    if moment > dt.datetime.now(dt.UTC) + dt.timedelta(hours=1):
        return "timestamp in the future"
    return None


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def engagement_problem(record: dict[str, Any]) -> str | None:
    for name in ("event_id", "user_id", "content_id", "engagement_type", "event_timestamp"):
        if name not in record or record[name] is None:
            return f"missing {name}"
    for name in ("event_id", "user_id", "content_id", "engagement_type"):
        if not isinstance(record[name], str):
            return f"{name} is not a string"
    if record["engagement_type"] not in ENGAGEMENT_TYPES:
        return "unknown engagement_type"
    watch = record.get("watch_duration_seconds")
    if record["engagement_type"] == "view" and watch is None:
        return "view without watch_duration_seconds"
    if watch is not None and (not is_number(watch) or watch < 0):
        return "bad watch_duration_seconds"
    completion = record.get("completion_percentage")
    if completion is not None and (not is_number(completion) or not 0 <= completion <= 100):
        return "bad completion_percentage"
    context = record.get("engagement_context")
    if context is not None and not isinstance(context, str):
        return "engagement_context is not a string"
    if "client" in record and not isinstance(record["client"], dict):
        return "client is not an object"
    return timestamp_problem(record["event_timestamp"])


def discovery_problem(record: dict[str, Any]) -> str | None:
    required = (
        "discovery_id", "user_id", "content_id", "discovery_source", "position_in_feed",
        "discovery_timestamp", "clicked_through",
    )  # fmt: skip
    for name in required:
        if name not in record or record[name] is None:
            return f"missing {name}"
    for name in ("discovery_id", "user_id", "content_id", "discovery_source"):
        if not isinstance(record[name], str):
            return f"{name} is not a string"
    position = record["position_in_feed"]
    if not isinstance(position, int) or isinstance(position, bool) or position < 0:
        return "bad position_in_feed"
    if not isinstance(record["clicked_through"], bool):
        return "clicked_through is not a boolean"
    wait = record.get("time_to_engagement_seconds")
    if wait is not None and (not is_number(wait) or wait < 0):
        return "bad time_to_engagement_seconds"
    for name in ("experiment_id", "variant"):
        if name in record and not isinstance(record[name], str):
            return f"{name} is not a string"
    return timestamp_problem(record["discovery_timestamp"])


PROBLEMS = {"engagements": engagement_problem, "discovery": discovery_problem}
ID_FIELDS = {"engagements": "event_id", "discovery": "discovery_id"}
TIME_FIELDS = {"engagements": "event_timestamp", "discovery": "discovery_timestamp"}


def line_problem(feed: str, line: str) -> str | None:
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return "malformed json"
    if not isinstance(record, dict):
        return "not an object"
    return PROBLEMS[feed](record)


# --- helpers ---------------------------------------------------------------------------------


def make_spec(landing: Path, **changes: Any) -> GeneratorSpec:
    values: dict[str, Any] = {
        "landing": str(landing),
        "start_date": START,
        "days": DAYS,
        "events_per_day": EVENTS_PER_DAY,
        "users": USERS,
        "seed": 42,
        "bad_rate": BAD_RATE,
        "dup_rate": DUP_RATE,
        "late_rate": LATE_RATE,
        "discovery_per_engagement": DISCOVERY_PER_ENGAGEMENT,
        "files_per_day": FILES_PER_DAY,
    }
    values.update(changes)
    return GeneratorSpec(**values)


def read_lines(path: Path) -> list[str]:
    data = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
    text = data.decode("utf-8")
    assert text == "" or text.endswith("\n")
    return text.split("\n")[:-1]


def delivery_day(path: Path) -> dt.date:
    return dt.date.fromisoformat(path.name[:10])


def snapshot(landing: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(landing)): p.read_bytes()
        for p in sorted(landing.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationStats]:
    root = tmp_path_factory.mktemp("landing")
    return root, generate(make_spec(root))


@pytest.fixture(scope="module")
def event_lines(landing: tuple[Path, GenerationStats]) -> dict[str, list[tuple[Path, str]]]:
    root, _ = landing
    return {
        feed: [
            (path, line) for path in sorted((root / feed).iterdir()) for line in read_lines(path)
        ]
        for feed in ("engagements", "discovery")
    }


def good_records(
    lines: list[tuple[Path, str]], feed: str
) -> list[tuple[Path, str, dict[str, Any]]]:
    return [
        (p, line, json.loads(line))
        for p, line in lines
        if line and line_problem(feed, line) is None
    ]


# --- determinism -----------------------------------------------------------------------------


def test_same_seed_gives_identical_files_and_another_seed_does_not(tmp_path: Path) -> None:
    small: dict[str, Any] = {"days": 2, "events_per_day": 800, "users": 60}
    generate(make_spec(tmp_path / "a", **small))
    generate(make_spec(tmp_path / "b", **small))
    generate(make_spec(tmp_path / "c", seed=7, **small))
    first, second, other = (snapshot(tmp_path / name) for name in "abc")
    assert first and first == second
    assert set(first).isdisjoint(other), "a different seed must never reuse a file name"
    assert sorted(first.values()) != sorted(other.values())


def test_runs_with_other_start_dates_never_collide(tmp_path: Path) -> None:
    generate(make_spec(tmp_path, days=2, events_per_day=300, users=30))
    generate(
        make_spec(
            tmp_path, days=2, events_per_day=300, users=30, start_date=START + dt.timedelta(1)
        )
    )
    names = [p.name for p in (tmp_path / "engagements").iterdir()]
    assert len(names) == 2 * 2 * FILES_PER_DAY


# --- the contract ----------------------------------------------------------------------------


def test_every_feed_has_files_of_all_three_flavours(
    landing: tuple[Path, GenerationStats],
) -> None:
    root, stats = landing
    for feed in ("engagements", "discovery"):
        names = [p.name for p in (root / feed).iterdir()]
        assert len(names) == DAYS * FILES_PER_DAY
        assert {n.split(".", 1)[1] for n in names} == {"jsonl", "json", "jsonl.gz"}
        assert names == [
            n for n in names if re.match(r"^\d{4}-\d{2}-\d{2}_part-\d{4}_s42-[0-9a-f]{8}\.", n)
        ]
    for feed in ("users", "content"):
        assert len(list((root / feed).iterdir())) == DAYS
    assert stats.files == 2 * DAYS * FILES_PER_DAY + 2 * DAYS


@pytest.mark.parametrize("feed", ["engagements", "discovery"])
def test_good_lines_follow_events_md_and_bad_lines_break_it(
    feed: str,
    landing: tuple[Path, GenerationStats],
    event_lines: dict[str, list[tuple[Path, str]]],
) -> None:
    _, stats = landing
    lines = [line for _, line in event_lines[feed]]
    blank = [line for line in lines if line == ""]
    bad = [line for line in lines if line and line_problem(feed, line) is not None]
    good = good_records(event_lines[feed], feed)
    distinct = {record[ID_FIELDS[feed]] for _, _, record in good}
    expected_events = EVENTS_PER_DAY * DAYS if feed == "engagements" else stats.discovery
    assert len(distinct) == expected_events
    assert abs(len(bad) / expected_events - BAD_RATE) < 0.015
    assert len(distinct & {json.loads(b).get(ID_FIELDS[feed]) for b in bad if b.endswith("}")}) == 0
    reasons = Counter(line_problem(feed, line).split(" ")[0] for line in bad)  # type: ignore[union-attr]
    assert {
        "malformed",
        "missing",
        "unknown" if feed == "engagements" else "bad",
        "timestamp",
    } <= set(reasons)
    assert len(blank) <= stats.blank_lines


def test_bad_and_blank_counts_match_the_report(
    landing: tuple[Path, GenerationStats], event_lines: dict[str, list[tuple[Path, str]]]
) -> None:
    _, stats = landing
    bad = sum(
        1
        for feed, lines in event_lines.items()
        for _, line in lines
        if line and line_problem(feed, line)
    )
    blank = sum(1 for lines in event_lines.values() for _, line in lines if line == "")
    assert bad == stats.bad_lines
    assert blank == stats.blank_lines


def test_engagement_values_are_realistic(event_lines: dict[str, list[tuple[Path, str]]]) -> None:
    records = [r for _, _, r in good_records(event_lines["engagements"], "engagements")]
    types = Counter(r["engagement_type"] for r in records)
    assert set(types) == ENGAGEMENT_TYPES
    assert 0.9 < types["view"] / len(records) < 0.99, "most events are views (calibration.py)"
    views = [r for r in records if r["engagement_type"] == "view"]
    assert all("completion_percentage" in r for r in views)
    assert any(r["watch_duration_seconds"] < 3 for r in views), "quick swipes exist"
    assert any(r["completion_percentage"] == 100 for r in views), "full watches exist"
    contexts = Counter(r.get("engagement_context") for r in records)
    assert contexts.most_common(1)[0][0] == "for_you"
    hours = Counter(int(r["event_timestamp"][11:13]) for r in records)
    assert max(hours.values()) > 1.5 * min(hours.values()), "a daily cycle, even across zones"
    views_per_video = Counter(r["content_id"] for r in views).most_common()
    top = views_per_video[: max(1, len(views_per_video) // 20)]
    assert sum(n for _, n in top) > 0.3 * len(views), "a few videos get most views"


def test_discovery_values_are_realistic(event_lines: dict[str, list[tuple[Path, str]]]) -> None:
    records = [r for _, _, r in good_records(event_lines["discovery"], "discovery")]
    assert all(r["position_in_feed"] <= MAX_POSITION for r in records)
    assert all((r["time_to_engagement_seconds"] is None) != r["clicked_through"] for r in records)
    top = [r["clicked_through"] for r in records if r["position_in_feed"] < 3]
    deep = [r["clicked_through"] for r in records if r["position_in_feed"] >= 15]
    assert sum(top) / len(top) > sum(deep) / len(deep)
    in_experiment = [r for r in records if "experiment_id" in r]
    assert 0.15 < len(in_experiment) / len(records) < 0.45
    assert {r["variant"] for r in in_experiment} == {"A", "B"}


def test_cdc_feeds_follow_events_md_and_tie_up_with_events(
    landing: tuple[Path, GenerationStats], event_lines: dict[str, list[tuple[Path, str]]]
) -> None:
    root, stats = landing
    users = [json.loads(line) for p in sorted((root / "users").iterdir()) for line in read_lines(p)]
    content = [
        json.loads(line) for p in sorted((root / "content").iterdir()) for line in read_lines(p)
    ]
    assert len(users) == stats.user_changes and len(content) == stats.content_changes
    for record in users:
        assert (
            record["op"] in {"upsert", "delete"} and timestamp_problem(record["updated_at"]) is None
        )
        if record["op"] == "upsert":
            dt.date.fromisoformat(record["registration_date"])
            assert record["user_type"] in {"creator", "consumer", "both"}
            assert (record["creator_tier"] is None) == (record["user_type"] == "consumer")
            assert record["creator_tier"] in {None, "casual", "rising", "established", "top"}
            assert isinstance(record["follower_count"], int) and record["follower_count"] >= 0
            assert isinstance(record["following_count"], int) and record["following_count"] >= 0
            assert isinstance(record.get("analytics_consent", True), bool)
    user_type = {r["user_id"]: r["user_type"] for r in users if r["op"] == "upsert"}
    assert len(user_type) == USERS
    first_seen = {}
    for record in users:
        first_seen.setdefault(record["user_id"], record["updated_at"])
    assert max(first_seen.values()) < START.isoformat(), "every user is known before day 1"
    assert any(r.get("analytics_consent") is False for r in users)
    uploads: dict[str, str] = {}
    for record in content:
        assert (
            record["op"] in {"upsert", "delete"} and timestamp_problem(record["updated_at"]) is None
        )
        if record["op"] == "upsert":
            assert user_type[record["creator_user_id"]] in {"creator", "both"}
            assert record["content_type"] in {"original", "remix", "duet", "response"}
            assert record["category"] in CATEGORIES
            assert 5 <= record["duration_seconds"] <= 180
            assert 0 <= len(record["hashtags"]) <= 5 and 0 <= len(record["effects_used"]) <= 3
            assert record.get("moderation_status", "approved") in {"approved", "pending", "removed"}
            uploads[record["content_id"]] = record["upload_timestamp"]
    assert min(uploads.values()) < START.isoformat() < max(uploads.values())
    for _, _, record in good_records(event_lines["engagements"], "engagements"):
        assert record["user_id"] in user_type
        assert uploads[record["content_id"]] < record["event_timestamp"], (
            "only uploaded videos are seen"
        )


def test_deletes_happen_in_both_cdc_feeds(tmp_path: Path) -> None:
    stats = generate(make_spec(tmp_path, days=6, events_per_day=200, users=3_000))
    ops = Counter(
        (feed, json.loads(line)["op"])
        for feed in ("users", "content")
        for p in (tmp_path / feed).iterdir()
        for line in read_lines(p)
    )
    assert ops[("users", "delete")] >= 1 and ops[("content", "delete")] >= 1
    assert ops[("users", "upsert")] > stats.users


# --- delivery quirks -------------------------------------------------------------------------


@pytest.mark.parametrize("feed", ["engagements", "discovery"])
def test_duplicates_are_identical_lines_at_about_dup_rate(
    feed: str, event_lines: dict[str, list[tuple[Path, str]]]
) -> None:
    copies: dict[str, list[tuple[Path, str]]] = defaultdict(list)
    for path, line, record in good_records(event_lines[feed], feed):
        copies[record[ID_FIELDS[feed]]].append((path, line))
    repeated = {event_id: c for event_id, c in copies.items() if len(c) > 1}
    assert all(len({line for _, line in c}) == 1 for c in repeated.values())
    extra = sum(len(c) - 1 for c in repeated.values())
    assert abs(extra / len(copies) - DUP_RATE) < 0.015
    same_file = sum(1 for c in repeated.values() if len({p for p, _ in c}) == 1)
    assert 0 < same_file < len(repeated), "some repeats share the file, some come later"


def test_late_events_arrive_in_a_later_days_files(
    landing: tuple[Path, GenerationStats], event_lines: dict[str, list[tuple[Path, str]]]
) -> None:
    _, stats = landing
    late_ids = set()
    for feed, lines in event_lines.items():
        for path, _, record in good_records(lines, feed):
            lag = (delivery_day(path) - dt.date.fromisoformat(record[TIME_FIELDS[feed]][:10])).days
            assert 0 <= lag <= MAX_LATE_DAYS
            if lag:
                late_ids.add(record[ID_FIELDS[feed]])
    assert late_ids
    # A late event's duplicate may land in a later day too; the originals are counted once.
    assert stats.late <= len(late_ids) <= stats.late + stats.duplicates
    events = stats.engagements + stats.discovery
    assert abs(stats.late / events - LATE_RATE * (DAYS - 1) / DAYS) < 0.015


# --- files -----------------------------------------------------------------------------------


def test_rerun_skips_existing_files_and_leaves_no_temp_files(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, days=2, events_per_day=500, users=50)
    first = generate(spec)
    before = snapshot(tmp_path)
    again = generate(spec)
    assert first.skipped_files == 0 and first.files == len(before)
    assert again.files == 0 and again.skipped_files == first.files
    assert snapshot(tmp_path) == before
    assert not [p for p in tmp_path.rglob(".*")], "no temp files left behind"
    assert (first.engagements, first.duplicates) == (again.engagements, again.duplicates)


def test_an_empty_day_part_is_still_a_valid_file(tmp_path: Path) -> None:
    stats = generate(make_spec(tmp_path, days=1, events_per_day=1, users=10, files_per_day=8))
    assert stats.engagements == 1
    assert sum(len(read_lines(p)) for p in (tmp_path / "engagements").iterdir()) >= 1


def test_write_delivery_is_atomic_and_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "engagements").mkdir()
    delivery = Delivery("engagements", "2025-03-01_part-0001_s1-abc.jsonl.gz", ['{"a":1}', ""])
    assert write_delivery(tmp_path, delivery)
    assert read_lines(tmp_path / "engagements" / delivery.name) == ['{"a":1}', ""]
    assert not write_delivery(tmp_path, Delivery("engagements", delivery.name, ['{"b":2}']))
    assert read_lines(tmp_path / "engagements" / delivery.name) == ['{"a":1}', ""]
    assert [p.name for p in (tmp_path / "engagements").iterdir()] == [delivery.name]


def test_timestamps_and_ids_are_formatted_as_the_contract_says() -> None:
    import numpy as np

    stamps = iso_timestamps(np.array([0, 1_795_000_000_123], dtype=np.int64))
    assert stamps == ["1970-01-01T00:00:00.000Z", "2026-11-18T11:06:40.123Z"]
    ids = event_ids("e-", 12345, 0, np.arange(100_000))
    assert len(set(ids)) == 100_000 and all(re.fullmatch(r"e-[0-9a-f]{16}", i) for i in ids[:100])


# --- command line ----------------------------------------------------------------------------


def test_main_prints_one_json_report_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--landing", str(tmp_path), "--days", "1", "--events-per-day", "200", "--users", "20"]
    assert gen.main([*argv, "--seed", "3", "--start-date", "2025-03-01", "--bad-rate", "0.1"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    report = json.loads(out[0])
    assert report["job"] == "generate" and report["status"] == "ok"
    assert report["landing"] == str(tmp_path) and report["engagements"] == 200
    for key in (
        "files",
        "discovery",
        "users",
        "content",
        "bad_lines",
        "duplicates",
        "late",
        "seconds",
    ):
        assert key in report


def test_defaults_come_from_the_configuration(tmp_path: Path) -> None:
    args = gen.build_parser().parse_args(["--landing", str(tmp_path), "--set", "generate.days=2"])
    conf = gen.load_conf(args.env, args.overrides, landing=args.landing)
    spec = gen.resolve_spec(args, conf)
    assert spec.days == 2 and spec.events_per_day == conf.get("generate.events_per_day")
    assert spec.files_per_day == conf.get("generate.files_per_day")
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    assert spec.day(spec.days - 1) == yesterday


@pytest.mark.parametrize(
    "bad_args",
    [
        ["--days", "0"],
        ["--bad-rate", "2"],
        ["--start-date", "2026-13-01"],
        ["--users", "5"],
        ["--events-per-day", "many"],
        ["--seed", "-1"],
        ["--set", "generate.files_per_day=0"],
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    bad_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        gen.main(["--landing", str(tmp_path), *bad_args])
    assert stopped.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1 and "error" in captured.err


def test_the_generator_does_not_import_spark() -> None:
    modules = [Path(gen.__file__), *Path(gen.__file__).with_name("generator").glob("*.py")]
    assert len(modules) > 5
    for module in modules:
        source = module.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(import|from)\s+pyspark", source, re.MULTILINE), module



def test_some_users_watch_mostly_one_category_and_many_signed_up_in_recent_weeks(
    tmp_path: Path,
) -> None:
    # What the diversity, retention and personalization views need (metrics.md "Further analyses"),
    # on a population large enough for a catalog of many videos per category.
    spec = make_spec(tmp_path, days=2, users=2_000, events_per_day=10_000, bad_rate=0.0,
                     dup_rate=0.0, late_rate=0.0)
    assert generate(spec).users == 2_000
    feed: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for name in ("users", "content", "engagements"):
        for path in sorted((tmp_path / name).iterdir()):
            feed[name] += [json.loads(line) for line in read_lines(path)]
    category = {r["content_id"]: r["category"] for r in feed["content"] if r["op"] == "upsert"}
    watched: dict[str, Counter[str]] = defaultdict(Counter)
    for record in feed["engagements"]:
        if record["engagement_type"] == "view" and record["content_id"] in category:
            watched[record["user_id"]][category[record["content_id"]]] += 1
    # Narrow tastes: a top category over 80% of ten or more views, for some users, not most.
    active = [views for views in watched.values() if sum(views.values()) >= 10]
    narrow = [views for views in active if max(views.values()) > 0.8 * sum(views.values())]
    share = len(narrow) / len(active)
    assert len(active) >= 200 and 0.1 <= share <= 0.5, (len(narrow), len(active))
    # Weekly cohorts: a good share of the users signed up in the 8 weeks before day 1, every week.
    registered = {r["user_id"]: dt.date.fromisoformat(r["registration_date"])
                  for r in feed["users"] if r["op"] == "upsert"}
    weeks = Counter((START - d).days // 7 for d in registered.values() if (START - d).days < 56)
    assert sorted(weeks) == list(range(8)) and sum(weeks.values()) >= 0.2 * len(registered), weeks
