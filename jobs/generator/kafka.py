"""Deliveries to Kafka: the event feeds' lines as records of their topics, the rest as files.

The simulation is the one `generate` writes files from (same arguments, same lines); each line of an
engagements or discovery delivery becomes one record (no key: the producer spreads them over the
topic's partitions), in delivery order. Users and content are change feeds read by dims: they stay
landing files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from confluent_kafka import KafkaException, Producer

from jobs.generator.files import FEEDS, sync_directory, write_delivery
from jobs.generator.simulation import iter_deliveries
from jobs.generator.spec import GenerationStats, GeneratorSpec


class DeliveryErrors:
    """The producer's delivery reports: every record acknowledged by the broker, or the first error."""

    def __init__(self) -> None:
        self.acknowledged = 0
        self.errors: list[str] = []

    def __call__(self, error: Any, message: Any) -> None:  # noqa: ARG002 (confluent-kafka's callback)
        if error is None:
            self.acknowledged += 1
        else:
            self.errors.append(str(error))


def generate_to_kafka(spec: GeneratorSpec, bootstrap: str, topics: dict[str, str],
                      producer_settings: dict[str, Any]) -> tuple[GenerationStats, dict[str, int]]:
    """Run the simulation; returns its statistics and the records produced per topic."""
    stats = GenerationStats()
    landing = Path(spec.landing)
    producer = Producer({**producer_settings, "bootstrap.servers": bootstrap})
    reports = DeliveryErrors()
    produced = {topic: 0 for topic in topics.values()}
    for delivery in iter_deliveries(spec, stats):
        topic = topics.get(delivery.feed)
        if topic is None:
            (landing / delivery.feed).mkdir(parents=True, exist_ok=True)
            if write_delivery(landing, delivery):
                stats.files += 1
            else:
                stats.skipped_files += 1
            continue
        for line in delivery.lines:
            _produce(producer, topic, line.encode("utf-8"), reports)
        produced[topic] += len(delivery.lines)
    unsent = producer.flush(float(producer_settings.get("message.timeout.ms", 60000)) / 1000)
    for feed in FEEDS:
        if (landing / feed).is_dir():
            sync_directory(landing / feed)
    if unsent or reports.errors:
        raise KafkaException(f"{unsent} records not delivered; errors: {reports.errors[:3]}")
    return stats, produced


def _produce(producer: Producer, topic: str, value: bytes, reports: DeliveryErrors) -> None:
    while True:
        try:
            producer.produce(topic, value=value, on_delivery=reports)
            break
        except BufferError:  # the local queue is full: let the broker catch up
            producer.poll(0.5)
    producer.poll(0)
