"""The requirements an environment of the project installs (pyproject.toml's dependencies and its
`test` extra, an extra of the project itself expanded in place, and the build backend's, which the
editable install of the project builds with), one per line.

    python scripts/requirements.py [pyproject.toml]

spark-submit.sh keeps their wheels once per pyproject.toml (`pip wheel` of these lines: the project
itself is not built, so no build/ folder appears in the source tree) and installs later environments
from them without the package index. Standard library only: it runs before any environment exists.
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
EXTRA = "test"  # what ./spark-submit.sh installs: the jobs, the tests and the orchestrator


def requirements(pyproject: dict, extra: str = EXTRA) -> list[str]:
    project = pyproject["project"]
    extras = project.get("optional-dependencies", {})
    own = project["name"] + "["

    def expanded(lines: list[str], seen: tuple[str, ...]) -> Iterator[str]:
        for line in lines:
            if not line.startswith(own):
                yield line
                continue
            for name in (part.strip() for part in line[len(own):line.index("]")].split(",")):
                if name not in seen:
                    yield from expanded(extras[name], (*seen, name))

    backend = pyproject.get("build-system", {}).get("requires", [])
    return list(dict.fromkeys([*project["dependencies"], *expanded(extras[extra], (extra,)), *backend]))


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else PYPROJECT
    print("\n".join(requirements(tomllib.loads(path.read_text(encoding="utf-8")))))
