"""The documentation stays true to the code: the generated data dictionary matches `schemas/`,
and every relative link in the README and docs/ leads to a file (and heading) that exists.

Pure Python: no Spark session is started.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from schemas.__main__ import COMMAND, data_dictionary_page

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", flags=re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", flags=re.MULTILINE)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", flags=re.IGNORECASE)  # http:, https:, mailto:, ...


def without_code(markdown: str) -> str:
    """The text outside fenced blocks and code spans, where a link is a link."""
    return CODE_SPAN.sub("code", FENCE.sub("", markdown))


def anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as
    hyphens, a repeated heading numbered -1, -2, ..."""
    seen: dict[str, int] = {}
    result = set()
    for heading in HEADING.findall(FENCE.sub("", markdown)):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        result.add(slug if count == 0 else f"{slug}-{count}")
    return result


def relative_links(page: Path) -> list[str]:
    return [target for target in LINK.findall(without_code(page.read_text(encoding="utf-8")))
            if not EXTERNAL.match(target)]


def test_the_data_dictionary_page_is_what_the_schemas_generate():
    page = DOCS / "data-dictionary.md"
    assert page.read_text(encoding="utf-8") == data_dictionary_page(), (
        f"docs/data-dictionary.md is out of date with schemas/: run `{COMMAND}`"
    )


def test_the_data_dictionary_says_it_is_generated_on_its_first_line():
    first_line = (DOCS / "data-dictionary.md").read_text(encoding="utf-8").splitlines()[0]
    assert "Generated" in first_line and COMMAND in first_line


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_leads_to_an_existing_file_and_heading(page: Path):
    broken = []
    for target in relative_links(page):
        path_part, _, anchor = target.partition("#")
        destination = (page.parent / path_part).resolve() if path_part else page
        if not destination.exists():
            broken.append(f"{target}: no such file")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(
                destination.read_text(encoding="utf-8")):
            broken.append(f"{target}: no heading {anchor!r} in {destination.relative_to(ROOT)}")
    assert not broken, f"{page.relative_to(ROOT)} has broken links:\n" + "\n".join(broken)


def test_every_page_under_docs_is_linked_from_the_readme():
    readme_links = relative_links(ROOT / "README.md")
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in readme_links}
    unlinked = [page.name for page in DOCS.glob("*.md") if page.resolve() not in linked]
    assert not unlinked, f"pages under docs/ that README.md does not link: {unlinked}"


def test_the_link_checker_sees_a_broken_link_and_a_broken_anchor(tmp_path: Path):
    """The checks above would pass vacuously if links or anchors were never found."""
    (tmp_path / "a.md").write_text(
        "# Title\n\n## Running it: `--once` and `--continuous`\n\n"
        "[ok](#running-it---once-and---continuous) [gone](missing.md) `[code](not-a-link.md)`\n"
        "```\n[fenced](also-not-a-link.md)\n```\n[web](https://example.org)\n",
        encoding="utf-8",
    )
    markdown = (tmp_path / "a.md").read_text(encoding="utf-8")
    links = relative_links(tmp_path / "a.md")
    assert links == ["#running-it---once-and---continuous", "missing.md"]
    assert anchors(markdown) == {"title", "running-it---once-and---continuous"}
