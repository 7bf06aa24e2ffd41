"""Per-partition checkpoints of stream runs: offset and operator state, one row each.

A row belongs to one (pipeline, consumer group, topic, partition) and records the
Kafka cluster id it was read from, the next offset to read, and the serialised state of
the stateful steps for that partition. :meth:`PartitionCheckpoints.save` writes every
partition of a micro-batch in **one transaction**, and can write inside a transaction
that is not its own (a SQL sink's, so rows, offsets and state commit together: exactly
once into that database). The table is created by the store's migrations in the run
store, and on first use in a sink's database (:meth:`PartitionCheckpoints.ensure`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from ocht.store.engine import redact_text
from ocht.store.errors import StoreError
from ocht.store.tables import metadata

stream_checkpoints = sa.Table(
    "ocht_stream_checkpoints",
    metadata,
    sa.Column("pipeline", sa.String(200), primary_key=True),
    sa.Column("group_id", sa.String(255), primary_key=True),
    sa.Column("topic", sa.String(255), primary_key=True),
    sa.Column("partition", sa.Integer, primary_key=True),
    sa.Column("cluster_id", sa.String(255), nullable=False, server_default=""),
    sa.Column("next_offset", sa.BigInteger, nullable=False),
    sa.Column("state", sa.LargeBinary),
    sa.Column("run_id", sa.String(64)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class PartitionCheckpoint:
    """Where one partition of a stream run stands.

    Attributes:
        topic: the topic (``""`` with partition ``-1`` for state not tied to a partition).
        partition: the partition number.
        offset: the next offset to read.
        cluster_id: the Kafka cluster it was read from.
        state: the stateful steps' state for this partition (``None``: stateless).
    """

    topic: str
    partition: int
    offset: int
    cluster_id: str = ""
    state: bytes | None = None


class PartitionCheckpoints:
    """Load and save :class:`PartitionCheckpoint` rows through ``engine``.

    Example:
        >>> import sqlalchemy as sa
        >>> engine = sa.create_engine("sqlite://")
        >>> cps = PartitionCheckpoints(engine)
        >>> cps.ensure()
        >>> cps.save("p", "g", [PartitionCheckpoint("t", 0, 42, "c1", b"s")])
        >>> cps.load("p", "g")[("t", 0)].offset
        42
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @contextmanager
    def _tx(self, connection: sa.Connection | None) -> Iterator[sa.Connection]:
        try:
            if connection is not None:
                yield connection
                return
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip()
            raise StoreError(f"stream checkpoint failed: {redact_text(reason)}") from None

    def ensure(self, connection: sa.Connection | None = None) -> None:
        """Create the table where it does not exist yet (a sink's database)."""
        with self._tx(connection) as conn:
            stream_checkpoints.create(conn, checkfirst=True)

    def load(
        self, pipeline: str, group: str, *, connection: sa.Connection | None = None
    ) -> dict[tuple[str, int], PartitionCheckpoint]:
        """Every saved partition of ``pipeline`` in consumer group ``group``."""
        t = stream_checkpoints
        with self._tx(connection) as conn:
            rows = conn.execute(
                sa.select(t).where(t.c.pipeline == pipeline, t.c.group_id == group)
            ).all()
        return {
            (r.topic, r.partition): PartitionCheckpoint(
                r.topic, r.partition, int(r.next_offset), r.cluster_id or "", r.state
            )
            for r in rows
        }

    def save(
        self,
        pipeline: str,
        group: str,
        rows: Iterable[PartitionCheckpoint],
        *,
        run_id: str | None = None,
        connection: sa.Connection | None = None,
    ) -> None:
        """Replace these partitions' rows, all in one transaction (``connection``'s when
        given: then the caller commits)."""
        t = stream_checkpoints
        now = datetime.now(UTC)
        items = list(rows)
        if not items:
            return
        with self._tx(connection) as conn:
            for row in items:
                conn.execute(
                    t.delete().where(
                        t.c.pipeline == pipeline,
                        t.c.group_id == group,
                        t.c.topic == row.topic,
                        t.c.partition == row.partition,
                    )
                )
            conn.execute(
                t.insert(),
                [
                    {
                        "pipeline": pipeline,
                        "group_id": group,
                        "topic": r.topic,
                        "partition": r.partition,
                        "cluster_id": r.cluster_id,
                        "next_offset": r.offset,
                        "state": r.state,
                        "run_id": run_id,
                        "updated_at": now,
                    }
                    for r in items
                ],
            )

    def clear(
        self,
        pipeline: str,
        group: str | None = None,
        keys: Iterable[tuple[str, int]] | None = None,
        *,
        connection: sa.Connection | None = None,
    ) -> int:
        """Forget checkpoints (of one group, or some partitions); returns how many."""
        t = stream_checkpoints
        removed = 0
        with self._tx(connection) as conn:
            query = t.delete().where(t.c.pipeline == pipeline)
            if group is not None:
                query = query.where(t.c.group_id == group)
            if keys is None:
                return int(conn.execute(query).rowcount)
            for topic, partition in keys:
                removed += int(
                    conn.execute(
                        query.where(t.c.topic == topic, t.c.partition == partition)
                    ).rowcount
                )
        return removed
