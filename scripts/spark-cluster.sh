#!/usr/bin/env bash
# A Spark standalone cluster on loopback (one master, N workers) for tests and the demo
# (scripts/spark_cluster.py).
#   scripts/spark-cluster.sh start [--dir DIR] [--workers N]   prints the master URL (spark://...)
#   scripts/spark-cluster.sh stop  [--dir DIR]
# Runs with the project's environment (created by ./spark-submit.sh on first use).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${SHORTVIDEO_VENV:-$ROOT/.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "spark-cluster.sh: no project environment at $VENV: run ./spark-submit.sh once first" >&2
  exit 1
fi
exec "$VENV/bin/python" -m scripts.spark_cluster "$@"
