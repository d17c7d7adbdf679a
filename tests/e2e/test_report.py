"""report on the hand-written lake of test_saved_views.py, opened in headless Chromium (Debian's
package): every chart renders, the page logs nothing to the console, loads no script from the
network, and its screenshot is kept (in tmp_path, and in $SHORTVIDEO_ARTIFACTS when set).

k = 2 on that lake: some sections keep groups, some lose all of them (a "no data" note), and the
notes count what was left out (worked out by hand from the lake's rows, below).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from jobs import report
from tests.e2e.conftest import run_job_in_process
from tests.e2e.test_further_analyses import FURTHER_VIEWS, further_lake  # noqa: F401 (a module fixture)
from tests.e2e.test_saved_views import D1, TODAY, hand_lake  # noqa: F401 (the lake, a module fixture)

pytestmark = pytest.mark.e2e
CONSOLE_LINE = re.compile(r":CONSOLE[:(]")   # Chromium's --enable-logging line for any console message
REMOTE_SCRIPT = re.compile(r"<script[^>]*\bsrc\s*=\s*[\"']?\s*(https?:)?//", re.IGNORECASE)
BUDGETS_MS = (5_000, 20_000, 60_000)         # virtual time the page gets, tried in turn until it has rendered
WIDTH, SECTION_HEIGHT = 1280, 600


def chromium() -> str:
    path = shutil.which("chromium")
    assert path, "chromium is not installed: `apt-get install -y chromium` (Debian's package; .ci/run installs it)"
    return path


def browse(page: Path, profile: Path, budget_ms: int, *flags: str) -> subprocess.CompletedProcess:
    command = [chromium(), "--headless", "--disable-gpu", "--no-sandbox", "--disable-dev-shm-usage",
               "--enable-logging=stderr", "--v=0", f"--user-data-dir={profile}", f"--virtual-time-budget={budget_ms}",
               *flags, page.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"chromium failed ({done.returncode}):\n{done.stderr[-3000:]}"
    return done


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if CONSOLE_LINE.search(line)]


def rendered_dom(page: Path, profile: Path, charts: int) -> tuple[str, list[str]]:
    """The page's DOM once `charts` Plotly charts have drawn their SVG (more virtual time while not),
    and the console lines of that load."""
    for budget in BUDGETS_MS:
        done = browse(page, profile, budget, "--dump-dom")
        drawn = len(re.findall(r'class="[^"]*\bjs-plotly-plot\b', done.stdout))
        if drawn == charts and done.stdout.count('class="main-svg"') >= charts:
            return done.stdout, console_lines(done.stderr)
    raise AssertionError(f"{drawn} of {charts} charts rendered within {BUDGETS_MS[-1]} ms of virtual time:\n"
                         f"{done.stderr[-3000:]}")


def keep(screenshot: Path) -> None:
    artifacts = os.environ.get("SHORTVIDEO_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy2(screenshot, Path(artifacts) / screenshot.name)


def test_the_harness_sees_a_console_error_and_an_uncaught_exception(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>console.error('bad thing');"
                    "setTimeout(function () { throw new Error('boom'); }, 10);</script></body></html>")
    lines = console_lines(browse(page, tmp_path / "profile", BUDGETS_MS[0], "--dump-dom").stderr)
    assert any("bad thing" in line for line in lines) and any("boom" in line for line in lines), lines


def test_the_report_renders_every_chart_in_a_browser_without_console_errors(spark, capsys, hand_lake, tmp_path):
    out = tmp_path / "report.html"
    code, line = run_job_in_process(report.main, ["--lake", hand_lake, "--out", str(out),
                                                  "--set", "analytics.k_anonymity=2"], spark, capsys)
    assert code == 0 and line["status"] == "ok", line
    assert line["date"] == TODAY.isoformat(), line  # default: the latest day of fact_content_performance
    # by hand from test_saved_views' rows at k = 2: every group of completion by category (days D1, D2 x
    # dance, comedy) and of effects (bling, none) has one viewer; each tier has one consenting creator
    # (the further analyses' sections are worked out on their own lake: the last test)
    assert sorted(set(line["no_data"]) - set(FURTHER_VIEWS)) == [
        "completion_rate_by_category", "creator_tier_analysis.sql", "effect_performance"], line
    assert line["sections"] == len(report.SECTIONS) and line["charts"] == len(report.SECTIONS) - len(line["no_data"])
    html = out.read_text(encoding="utf-8")
    assert "4 groups under 2 users suppressed" in section_html(html, "completion-rate-by-category")
    assert "1 group under 2 users suppressed" in section_html(html, "creator-tier-progression")  # rising -> top
    assert not REMOTE_SCRIPT.search(html), "the page loads a script from the network"
    assert html.count("* plotly.js v") == 1, "plotly.js is not inlined exactly once"

    dom, console = rendered_dom(out, tmp_path / "profile", line["charts"])
    assert console == [], "the page wrote to the browser console:\n" + "\n".join(console)
    assert dom.count("No data:") == line["sections"] - line["charts"]

    screenshot = tmp_path / "report.png"
    height = 200 + SECTION_HEIGHT * line["sections"]
    shot = browse(out, tmp_path / "profile", BUDGETS_MS[0], f"--window-size={WIDTH},{height}",
                  f"--screenshot={screenshot}", "--hide-scrollbars")
    assert screenshot.is_file() and screenshot.stat().st_size > 10_000, shot.stderr[-3000:]
    assert console_lines(shot.stderr) == []
    keep(screenshot)


def test_a_report_of_a_past_day_shows_the_lake_as_of_that_day(spark, capsys, hand_lake, tmp_path):
    out = tmp_path / "past.html"
    code, line = run_job_in_process(report.main, ["--lake", hand_lake, "--out", str(out), "--date", D1.isoformat(),
                                                  "--set", "analytics.k_anonymity=1"], spark, capsys)
    assert code == 0 and line["date"] == D1.isoformat(), line
    # the trending query as of D1: v1's D1 row only (v3 and v6 have rows of D2 alone, after it; v2 is
    # removed and v5 taken down); as of D2 it would list v1 and v3
    trending = section_html(out.read_text(encoding="utf-8"), "trending-and-viral-content-last-48-hours")
    assert '"v1"' in trending and '"v3"' not in trending and '"v6"' not in trending, trending[-2000:]


def section_html(html: str, slug: str) -> str:
    start = html.index(f'<section id="{slug}">')
    return html[start:html.index("</section>", start)]


def test_the_further_analyses_are_drawn_with_their_intervals_and_measures(spark, capsys, further_lake, tmp_path):
    """On test_further_analyses' lake (every further view has rows there, k = 1): each of their
    sections draws a chart, the A/B section with its intervals, and the page renders cleanly."""
    out = tmp_path / "further.html"
    code, line = run_job_in_process(report.main, ["--lake", further_lake, "--out", str(out),
                                                  "--set", "analytics.k_anonymity=1"], spark, capsys)
    assert code == 0 and line["status"] == "ok", line
    further = {s.source for s in report.SECTIONS} & set(FURTHER_VIEWS)
    assert len(further) == 8 and not further & set(line["no_data"]), line
    html = out.read_text(encoding="utf-8")
    ab = section_html(html, "a-b-experiments-click-through-rate-against-control")
    assert '"error_y"' in ab and '"arrayminus"' in ab, ab[-2000:]  # the interval's two ends
    retention = section_html(html, "retention-by-weekly-sign-up-cohort")
    assert all(f'"retention_week_{n}"' in retention for n in (1, 2, 4)), retention[-2000:]  # a trace each
    dom, console = rendered_dom(out, tmp_path / "profile", line["charts"])
    assert console == [], "the page wrote to the browser console:\n" + "\n".join(console)
