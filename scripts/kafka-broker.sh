#!/usr/bin/env bash
# A single-node Apache Kafka (KRaft) on loopback for tests and the demo (scripts/kafka_broker.py).
#   scripts/kafka-broker.sh start [--dir DIR] [--port N]   prints the bootstrap address
#   scripts/kafka-broker.sh stop  [--dir DIR]
# Needs java (17+) and mvn; the jars are resolved from Maven Central once, into ~/.cache/shortvideo.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
exec "${SHORTVIDEO_PYTHON:-python3}" -m scripts.kafka_broker "$@"
