"""Unit tests of jobs/transforms/validation.py on the content feed (CDC): its own rules of events.md.

duration_seconds is an integer > 0 for an upsert, content_type and moderation_status are enums,
hashtags and effects_used are arrays of strings, and an upsert needs creator_user_id and
upload_timestamp (a delete needs only op, content_id and updated_at).
"""

from __future__ import annotations

from typing import Any

from schemas.landing import CONTENT
from tests.unit.test_validation import DROP, assert_judged, classify, line
from tests.timezones import as_utc, utc

CONTENT_UPSERT: dict[str, Any] = {
    "op": "upsert",
    "content_id": "c1",
    "updated_at": "2026-11-20T13:00:00Z",
    "creator_user_id": "u1",
    "content_type": "original",
    "category": "dance",
    "duration_seconds": 30,
    "music_id": "m1",
    "hashtags": ["fyp", "dance"],
    "effects_used": ["green_screen"],
    "upload_timestamp": "2026-11-20T12:00:00Z",
    "moderation_status": "approved",
}


def content(**changes: Any) -> str:
    return line(CONTENT_UPSERT, **changes)


def delete(**changes: Any) -> str:
    only_keys = {name: DROP for name in CONTENT_UPSERT if name not in ("op", "content_id", "updated_at")}
    return line(CONTENT_UPSERT, **{**only_keys, "op": "delete", **changes})


def judged(spark, expected):
    assert_judged(spark, expected, feed=CONTENT)


def test_valid_content_lines(spark):
    judged(
        spark,
        [
            (content(), None, None),
            (delete(content_id="c2"), None, None),  # a delete needs no upload time, creator or duration
            (content(content_id="c3", music_id=None, hashtags=[], effects_used=DROP, moderation_status=DROP),
             None, None),
            # non-ASCII text and digit-only strings are strings
            (content(content_id="c4", hashtags=["Z\u00fcrich", "\U0001f3b5", "2026", "-1", "true"]), None, None),
            (content(content_id="c5", duration_seconds=1, content_type="response", moderation_status="removed"),
             None, None),
            (content(content_id="c6", upload_timestamp="2026-11-20t12:00:00z"), None, None),  # lowercase t and z
        ],
    )


def test_valid_content_line_keeps_typed_fields(spark):
    row = classify(spark, [content(hashtags=["Z\u00fcrich", "42"])], feed=CONTENT).first()
    assert row["reason"] is None
    assert row["hashtags"] == ["Z\u00fcrich", "42"]
    assert row["effects_used"] == ["green_screen"]
    assert row["duration_seconds"] == 30
    assert as_utc(row["upload_timestamp"]) == utc(2026, 11, 20, 12, 0, 0)


def test_content_required_fields_of_an_upsert(spark):
    judged(
        spark,
        [
            (content(), None, None),
            (content(content_id="c2", upload_timestamp=DROP), "missing_field", "upload_timestamp"),
            (content(content_id="c3", upload_timestamp=None), "missing_field", "upload_timestamp"),
            (content(content_id="c4", creator_user_id=DROP), "missing_field", "creator_user_id"),
            (content(content_id="c5", creator_user_id=None), "missing_field", "creator_user_id"),
            (content(content_id="c6", duration_seconds=DROP), "missing_field", "duration_seconds"),
            (delete(content_id="c7", updated_at=DROP), "missing_field", "updated_at"),
        ],
    )


def test_content_duration_must_be_a_positive_integer(spark):
    judged(
        spark,
        [
            (content(duration_seconds=1), None, None),
            (content(content_id="c2", duration_seconds=-5), "negative_value", "duration_seconds"),
            (content(content_id="c3", duration_seconds=0), "out_of_range", "duration_seconds"),  # must be > 0
            (content(content_id="c4", duration_seconds=1.5), "wrong_type", "duration_seconds"),
            (content(content_id="c5", duration_seconds="30"), "wrong_type", "duration_seconds"),
            (content(content_id="c6", duration_seconds=2_147_483_648), "out_of_range", "duration_seconds"),
        ],
    )


def test_content_enums(spark):
    judged(
        spark,
        [
            (content(), None, None),
            (content(content_id="c2", content_type="video"), "unknown_enum", "content_type"),
            (content(content_id="c3", content_type="Original"), "unknown_enum", "content_type"),  # case matters
            (content(content_id="c4", moderation_status="banned"), "unknown_enum", "moderation_status"),
            (content(content_id="c5", moderation_status=None), None, None),  # optional: null is no value
            (content(content_id="c6", op="update"), "unknown_enum", "op"),
        ],
    )


def test_content_arrays_hold_only_strings(spark):
    """Spark's parse would read [1] as ["1"]: every item must be a JSON string, and none null."""
    judged(
        spark,
        [
            (content(hashtags=["1", "{x}"]), None, None),  # strings that look like other types
            (content(content_id="c2", hashtags=["a", 1]), "wrong_type", "hashtags"),
            (content(content_id="c3", hashtags=[{"x": 1}]), "wrong_type", "hashtags"),
            (content(content_id="c4", hashtags=[None]), "wrong_type", "hashtags"),
            (content(content_id="c5", hashtags="tag"), "wrong_type", "hashtags"),
            (content(content_id="c6", effects_used=["a", [1]]), "wrong_type", "effects_used"),
            (content(content_id="c7", effects_used=[True]), "wrong_type", "effects_used"),
            (content(content_id="c8", hashtags=["a", None]), "wrong_type", "hashtags"),
        ],
    )


def test_content_array_items_checked_only_at_the_top_level(spark):
    """An array of the same name elsewhere in the line does not decide the top-level one's type."""
    nested_first = '{"extra": {"hashtags": ["a"]}, ' + content(content_id="c2", hashtags=[7])[1:]
    judged(
        spark,
        [
            (content(extra={"hashtags": [1]}), None, None),
            (nested_first, "wrong_type", "hashtags"),
        ],
    )
