"""A new user: a clean clone, the README's demo command. The clone's environment is this run's
(SHORTVIDEO_VENV): the environment spark-submit.sh sets up on first use is what CI itself proves,
since .ci/run runs the README's test command on a fresh clone, which creates it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import PROJECT_ROOT, last_json_line

pytestmark = pytest.mark.e2e
# The README's command on a tenth of its data (conf [demo]): what is tested here is that a clean clone
# runs it end to end, and the full size takes minutes more on CI's two cores.
SMALLER_DEMO = ["--set", "demo.events_per_day=2000", "--set", "demo.users=300"]


def readme_command(verb: str) -> list[str]:
    """The command as the README gives it (so README and test cannot drift apart)."""
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"^(\./spark-submit\.sh {verb}\b.*)$", readme, flags=re.MULTILINE)
    assert match, f"README.md has no './spark-submit.sh {verb}' command"
    return match.group(1).split()


@pytest.mark.skipif(not (PROJECT_ROOT / ".git").exists(), reason="needs the project's git history to clone")
def test_clean_clone_runs_the_demo_and_the_tests(tmp_path: Path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(PROJECT_ROOT), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHORTVIDEO_", "VIRTUAL_ENV", "PYTHONPATH"))}
    env["SPARK_LOCAL_IP"] = "127.0.0.1"
    env["SHORTVIDEO_VENV"] = sys.prefix  # installed from the same pyproject.toml: no second install

    demo = subprocess.run([*readme_command("demo"), *SMALLER_DEMO], cwd=clone, env=env, capture_output=True,
                          text=True, timeout=1500)
    assert demo.returncode == 0, demo.stderr[-3000:]
    status = last_json_line(demo.stdout)
    assert status["status"] == "ok"
    page = Path(status["report"])
    assert page.is_relative_to(clone) and page.is_file() and "plotly" in page.read_text(encoding="utf-8")
    assert "Rows per fact table and day" in demo.stdout
    assert "fact_content_engagements" in demo.stdout
    # The README's other command, `./spark-submit.sh test`, is what CI runs on its own fresh clone.
    assert readme_command("test") == ["./spark-submit.sh", "test"]
