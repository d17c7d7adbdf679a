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
if [ ! -f "$stamp" ]; then
  echo "spark-submit.sh: setting up $VENV (first run; installs pyspark and delta-spark)..." >&2
  "$BOOTSTRAP_PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --editable "$ROOT[test]" >&2
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
