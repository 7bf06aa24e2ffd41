"""Checking that a partition's log reaches an offset (a checkpoint's), without a group."""

from __future__ import annotations

import time

from ocht.connector_kafka.config import consumer_config
from ocht.pipeline_model import KafkaConnector

PartitionKey = tuple[str, int]


def unreachable(
    spec: KafkaConnector,
    group: str,
    offsets: dict[PartitionKey, int],
    *,
    timeout_s: float = 5.0,
) -> set[PartitionKey]:
    """The partitions whose log does not reach ``offsets`` (a recreated or truncated
    topic): reading from the record just before each offset finds nothing there.

    A separate consumer (no group, nothing committed) reads from ``offset - 1``: a
    record at or after it, or the end reported at or after ``offset``, confirms the
    offset; an end before it, or nothing at all within ``timeout_s`` (some brokers
    answer a fetch past the end with silence), marks the partition stale.
    """
    from confluent_kafka import Consumer, KafkaError
    from confluent_kafka import TopicPartition as KafkaTP

    wanted = {k: o for k, o in offsets.items() if o > 0}
    if not wanted:
        return set()
    conf = consumer_config(spec, f"{group}-verify")
    consumer = Consumer({**conf, "auto.offset.reset": "error"})
    try:
        consumer.assign([KafkaTP(t, p, o - 1) for (t, p), o in wanted.items()])
        unsure = dict(wanted)
        stale: set[PartitionKey] = set()
        deadline = time.monotonic() + timeout_s
        while unsure and time.monotonic() < deadline:
            for m in consumer.consume(100, timeout=0.2):
                key = (m.topic(), m.partition())
                if key not in unsure:
                    continue
                err = m.error()
                if err is None:
                    unsure.pop(key)  # the log reaches the checkpoint
                elif err.code() == KafkaError._PARTITION_EOF:
                    want = unsure.pop(key)
                    if (m.offset() or 0) < want:
                        stale.add(key)
                else:  # out of range (auto.offset.reset=error) and the like
                    unsure.pop(key)
                    stale.add(key)
        return stale | set(unsure)
    finally:
        consumer.close()
