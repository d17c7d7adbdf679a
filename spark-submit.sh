#!/usr/bin/env bash
# The one entry point (shared/spec/cli.md):  ./spark-submit.sh JOB [options]
#
# First use on a fresh machine creates the project's virtual environment (.venv) and installs the
# project into it; then jobs/launch.py checks the arguments (exit 2 before Spark starts) and execs
# spark-submit with the environment's configuration and the Delta packages.
# `./spark-submit.sh test [pytest args]` runs the test suite in the same environment.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${SHORTVIDEO_VENV:-$ROOT/.venv}"
BOOTSTRAP_PYTHON="${SHORTVIDEO_PYTHON:-python3}"

fingerprint="$(cat "$ROOT/pyproject.toml" | sha256sum | cut -c1-16)"
stamp="$VENV/.installed-$fingerprint"
# The dependencies' wheels, kept once per pyproject.toml on this machine: a later environment (a
# fresh clone, CI's) installs from them without the package index: about 25 s instead of 65-75 s,
# most of which was pip reading the index's pages of 149 packages.
WHEELS="${SHORTVIDEO_CACHE:-$HOME/.cache/shortvideo}/wheels-$fingerprint"

keep_wheels() {  # pip wheel into a folder of its own, moved into place whole (a second clone may race)
  local partial requirements
  mkdir -p "$(dirname "$WHEELS")"
  partial="$(mktemp -d "$WHEELS.partial.XXXXXX")"
  requirements="$partial/requirements.txt"
  if "$BOOTSTRAP_PYTHON" "$ROOT/scripts/requirements.py" "$ROOT/pyproject.toml" > "$requirements" &&
     "$VENV/bin/python" -m pip wheel --quiet --wheel-dir "$partial" -r "$requirements" >&2; then
    touch "$partial/.complete"
    if mv -T "$partial" "$WHEELS" 2>/dev/null; then
      find "$(dirname "$WHEELS")" -maxdepth 1 -name 'wheels-????????????????' ! -name "wheels-$fingerprint" -exec rm -rf {} +
      return
    fi
  fi
  rm -rf "$partial"
}

if [ ! -f "$stamp" ]; then
  echo "spark-submit.sh: setting up $VENV (first run; installs pyspark and delta-spark)..." >&2
  "$BOOTSTRAP_PYTHON" -m venv "$VENV"
  [ -f "$WHEELS/.complete" ] || keep_wheels
  # Without compiling every module now: Python compiles what is imported, on first import.
  if ! { [ -f "$WHEELS/.complete" ] && "$VENV/bin/python" -m pip install --quiet --no-compile --no-index \
           --find-links "$WHEELS" --editable "$ROOT[test]" >&2; }; then
    "$VENV/bin/python" -m pip install --quiet --editable "$ROOT[test]" >&2  # from the index, as a fallback
  fi
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi

if [ "${1:-}" = "test" ]; then
  shift
  cd "$ROOT"
  # Two test processes, a module each at a time (pytest-xdist): much of a test's time is one
  # thread (Spark's planning, Delta's log, a child JVM starting), so two share the two cores.
  # TEST_WORKERS=0 runs everything in this one process.
  exec "$VENV/bin/python" -m pytest -n "${TEST_WORKERS:-2}" --dist loadfile "$@"
fi

exec "$VENV/bin/python" -m jobs.launch "$@"
