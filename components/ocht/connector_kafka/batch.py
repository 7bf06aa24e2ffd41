"""A micro-batch: consumed messages → decoded rows, dead letters, offsets to commit."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from ocht.connector_kafka.decode import dead_letter_frame, metadata_frame

PartitionKey = tuple[str, int]
Decoder = Callable[[list[bytes | None]], tuple[pl.DataFrame, list[tuple[int, str]]]]


@dataclass
class KafkaBatch:
    """One micro-batch.

    Attributes:
        frame: the decoded records (with metadata columns when asked).
        offsets: ``{(topic, partition): next offset}`` to commit once the batch is written.
        dead_letters: records that could not be decoded (``DEAD_LETTER_SCHEMA``).
        records: how many Kafka records the batch holds (good and bad).
        at_end: every assigned partition was at its end when the batch was cut.
        parts: per row of ``frame``, its partition as ``"topic:partition"`` (only when
            the source was asked to track partitions).
        stale: partitions whose first record came before the offset they were started
            at: the position was reset (a recreated or truncated topic), so the
            checkpoint they were started from does not describe this topic.
    """

    frame: pl.DataFrame
    offsets: dict[PartitionKey, int] = field(default_factory=dict)
    dead_letters: pl.DataFrame | None = None
    records: int = 0
    at_end: bool = False
    parts: list[str] | None = None
    stale: set[PartitionKey] = field(default_factory=set)


def next_offsets(msgs: Sequence[Any], assigned: set[PartitionKey]) -> dict[PartitionKey, int]:
    """Per partition, the offset after its last record in ``msgs`` (scanned from the end,
    stopping once every assigned partition is seen)."""
    offsets: dict[PartitionKey, int] = {}
    parts = len(assigned) or None
    for m in reversed(msgs):
        key = (m.topic(), m.partition())
        if key not in offsets:
            offsets[key] = m.offset() + 1
            if parts is not None and len(offsets) >= parts and assigned <= offsets.keys():
                break
    return offsets


def stale_partitions(msgs: Sequence[Any], expect: dict[PartitionKey, int]) -> set[PartitionKey]:
    """The partitions whose first record in ``msgs`` comes before the offset expected
    for it; the partitions seen are taken out of ``expect``."""
    stale: set[PartitionKey] = set()
    for m in msgs:
        if not expect:
            break
        key = (m.topic(), m.partition())
        want = expect.pop(key, None)
        if want is not None and m.offset() < want:
            stale.add(key)
    return stale


def row_partitions(msgs: Sequence[Any]) -> list[str]:
    """Each message's partition as ``"topic:partition"``."""
    from confluent_kafka import Message

    pairs = list(zip(map(Message.topic, msgs), map(Message.partition, msgs), strict=True))
    labels = {pair: f"{pair[0]}:{pair[1]}" for pair in set(pairs)}
    if len(labels) == 1:
        return [next(iter(labels.values()))] * len(pairs)
    return [labels[pair] for pair in pairs]


def cut_batch(
    msgs: Sequence[Any],
    values: list[bytes | None],
    *,
    decode: Decoder,
    source: str,
    metadata: Sequence[str],
    offsets: dict[PartitionKey, int],
    at_end: bool,
    track_partitions: bool,
    stale: set[PartitionKey],
) -> KafkaBatch:
    """The batch of ``msgs`` (whose values are ``values``), decoded by ``decode``."""
    frame, bad = decode(values)
    dead = None
    kept: Sequence[Any] = msgs
    if bad:
        dead = dead_letter_frame(msgs, bad, source)
        bad_idx = {i for i, _ in bad}
        kept = [m for i, m in enumerate(msgs) if i not in bad_idx]
    if metadata:
        frame = pl.concat([frame, metadata_frame(kept, metadata)], how="horizontal")
    row_parts = row_partitions(kept) if track_partitions else None
    return KafkaBatch(frame, offsets, dead, len(msgs), at_end, row_parts, stale)
