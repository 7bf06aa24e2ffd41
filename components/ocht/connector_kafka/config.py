"""librdkafka settings for Ocht's consumers and producers, and the reachability check."""

from __future__ import annotations

import logging
from typing import Any

from ocht.connector_kafka.errors import BrokerUnreachable
from ocht.pipeline_model import KafkaConnector, Retry
from ocht.resilience import RetriesExhausted, call_with_retry

#: librdkafka's own log lines go through stdlib logging (never to stderr directly).
_LOG = logging.getLogger("ocht.kafka.client")

#: Consumer defaults; a pipeline's ``options`` override them.
CONSUMER_DEFAULTS: dict[str, Any] = {
    # librdkafka's default (1000 ms) caps one consumer near 180k records/s (DESIGN §6)
    "fetch.queue.backoff.ms": 1,
    # a fetch at the end of a partition waits this long for new records: some brokers
    # (Tansu 0.6) answer only when it expires, which a record then waits out
    "fetch.wait.max.ms": 50,
    # what is fetched ahead is bounded, so a slow sink pauses fetching (back-pressure)
    "queued.max.messages.kbytes": 32768,
    "partition.assignment.strategy": "cooperative-sticky",
}

#: Settings Ocht's delivery guarantee depends on; ``options`` cannot override them.
CONSUMER_FIXED: dict[str, Any] = {
    "enable.auto.commit": False,
    "enable.auto.offset.store": False,
    "enable.partition.eof": True,
}

PRODUCER_DEFAULTS: dict[str, Any] = {
    "linger.ms": 5,
    "batch.num.messages": 10_000,
    "compression.type": "none",
    # room for several micro-batches in flight (the executor bounds how many)
    "queue.buffering.max.messages": 1_000_000,
}

PRODUCER_FIXED: dict[str, Any] = {"enable.idempotence": True, "acks": "all"}


def base_config(spec: KafkaConnector) -> dict[str, Any]:
    """Bootstrap servers, the passed-through options and a quiet logger."""
    return {"bootstrap.servers": spec.brokers, "logger": _LOG, **spec.options}


def consumer_config(spec: KafkaConnector, group: str) -> dict[str, Any]:
    """The settings of a consumer in ``group``."""
    return {
        **CONSUMER_DEFAULTS,
        **base_config(spec),
        "group.id": group,
        "auto.offset.reset": spec.start,
        **CONSUMER_FIXED,
    }


def producer_config(spec: KafkaConnector, transactional_id: str | None = None) -> dict[str, Any]:
    """The settings of an idempotent (optionally transactional) producer."""
    conf = {**PRODUCER_DEFAULTS, **base_config(spec), **PRODUCER_FIXED}
    if transactional_id is not None:
        conf["transactional.id"] = transactional_id
    return conf


def check_reachable(spec: KafkaConnector, *, what: str) -> None:
    """Ask the brokers for metadata under the connector's ``retry:`` policy.

    Without ``retry:``, attempts go on with short waits up to ``connect_timeout_s``.

    Raises:
        BrokerUnreachable: nobody answered in time.
    """
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(base_config(spec))
    budget = spec.connect_timeout_s
    policy = spec.retry or Retry(
        attempts=100, initial=0.2, max_delay=2.0, jitter=0.0, timeout=budget
    )
    try:
        call_with_retry(
            admin.list_topics,
            timeout=min(2.0, budget),
            policy=policy,
            what=f"{what}: reach {spec.brokers}",
            transient=lambda e: isinstance(e, KafkaException),
        )
    except (KafkaException, RetriesExhausted) as err:
        exc = err.__cause__ if isinstance(err, RetriesExhausted) and err.__cause__ else err
        raise BrokerUnreachable(
            f"{what}: no Kafka broker answered at {spec.brokers} within {budget:g}s",
            hint="check `brokers` and that the broker is running (raise connect_timeout_s "
            "for slow networks)",
            brokers=spec.brokers,
            reason=str(exc.args[0]) if exc.args else str(exc),
        ) from None
