"""The tests' Kafka: one real single-node broker (scripts/kafka_broker.py) for the whole session,
started on first use on a free loopback port, its data in a temporary directory, stopped at the end.
A failing test that used it gets the broker's log in its report (tests/e2e/conftest.py's hook)."""

from __future__ import annotations

import pytest

from scripts.kafka_broker import KafkaBroker

BROKER_LOG_SECTION = "kafka broker log (tail)"


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory) -> KafkaBroker:
    broker = KafkaBroker(tmp_path_factory.mktemp("kafka"))
    try:
        broker.start()  # returns once a metadata request names the broker and a controller
    except (RuntimeError, TimeoutError) as error:
        broker.stop()
        pytest.fail(f"the Kafka broker did not start: {error}")
    yield broker
    broker.stop()

