"""The saved views' creation order (jobs/common/views.py): each view after the views it reads."""

from __future__ import annotations

import re

from jobs.common.views import in_dependency_order, view_files


def test_a_view_comes_after_the_views_its_query_reads_and_comments_do_not_count():
    texts = {
        "a": "CREATE OR REPLACE TEMPORARY VIEW a AS SELECT * FROM c",
        "b": "-- feeds a, through c\nCREATE OR REPLACE TEMPORARY VIEW b AS SELECT * FROM dim_users",
        "c": "CREATE OR REPLACE TEMPORARY VIEW c AS /* unlike a */ SELECT * FROM b JOIN dim_content USING (k)",
    }
    assert in_dependency_order(texts) == ["b", "c", "a"]


def test_every_saved_view_comes_after_the_views_it_selects_from():
    texts = {path.stem: path.read_text(encoding="utf-8") for path in view_files()}
    order = in_dependency_order(texts)
    assert sorted(order) == sorted(texts)
    place = {name: n for n, name in enumerate(order)}
    read_after = 0
    for name, text in texts.items():
        for other in set(re.findall(r"\b(?:FROM|JOIN)\s+(\w+)", text, flags=re.IGNORECASE)) & set(texts):
            assert place[other] < place[name], (other, name)
            read_after += 1
    assert read_after >= len(texts)  # the files do read each other (the consent and moderation rules)
