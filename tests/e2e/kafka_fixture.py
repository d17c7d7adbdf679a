"""The tests' Kafka: one real single-node broker (scripts/kafka_broker.py) for the whole session,
started on first use on a free loopback port, its data in a temporary directory, stopped at the end.
A failing test that used it gets the broker's log in its report (conftest's hook)."""

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


def broker_log_section(item, report) -> None:
    """Append the broker's log to the report of a failed test that used the broker."""
    broker = getattr(item, "funcargs", {}).get("kafka_broker")
    if broker is not None and report.failed:
        report.sections.append((BROKER_LOG_SECTION, broker.log_tail()))
