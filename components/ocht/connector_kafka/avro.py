"""Avro over Kafka with a Confluent-compatible schema registry.

Each message is the Confluent wire format: a zero byte, the writer's schema id (4 bytes,
big-endian), then the Avro binary body. Decoding looks the writer's schema up by id (once
per id) and resolves it to the reader schema (the subject's latest, or a declared one), so
records written under older compatible schemas come out in today's columns. Encoding
registers the output schema under its subject (the registry runs its compatibility check:
an incompatible schema is refused before anything is produced) and frames every record.
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Sequence
from typing import Any

import polars as pl

from ocht.connector_avro import avro_schema, frame_schema
from ocht.errors import ConnectorError, OchtError

MAGIC = 0


class SchemaRegistryError(ConnectorError):
    """The registry is unreachable, or refused a request (an unknown id or subject)."""

    code = "schema-registry-error"


class IncompatibleSchema(OchtError):
    """The registry refused an output schema as incompatible with the subject's history."""

    code = "incompatible-schema"


class RegistryCodec:
    """Decode and encode Confluent-framed Avro for one subject.

    Args:
        url: the registry (``http://registry:8081``).
        subject: the subject (``<topic>-value`` by convention).
        auth: ``user:password`` for basic auth (use ``${env:NAME}``).
    """

    def __init__(self, url: str, *, subject: str, auth: str | None = None) -> None:
        from confluent_kafka.schema_registry import SchemaRegistryClient

        conf: dict[str, Any] = {"url": url}
        if auth:
            conf["basic.auth.user.info"] = auth
        self.url = url
        self.subject = subject
        self._client = SchemaRegistryClient(conf)
        self._writers: dict[int, Any] = {}
        self._reader: Any = None
        self._reader_json: dict[str, Any] | None = None

    # -- reading --------------------------------------------------------------------------
    def reader_schema(self) -> dict[str, Any]:
        """The subject's latest schema: what decoded records are resolved to."""
        if self._reader_json is None:
            latest = self._call(lambda: self._client.get_latest_version(self.subject))
            self._reader_json = json.loads(latest.schema.schema_str)
        return self._reader_json

    def schema(self) -> pl.Schema:
        """The Polars columns of decoded records."""
        return frame_schema(self.reader_schema())

    def decode(
        self, payloads: Sequence[bytes | None]
    ) -> tuple[pl.DataFrame, list[tuple[int, str]]]:
        """Decode a batch: the frame of good records and ``(index, reason)`` for bad ones."""
        from fastavro import parse_schema, schemaless_reader

        if self._reader is None:
            self._reader = parse_schema(self.reader_schema())
        rows: list[dict[str, Any]] = []
        bad: list[tuple[int, str]] = []
        for i, payload in enumerate(payloads):
            if payload is None or len(payload) < 5 or payload[0] != MAGIC:
                bad.append((i, "not Confluent-framed Avro (no magic byte and schema id)"))
                continue
            schema_id = struct.unpack(">I", payload[1:5])[0]
            try:
                writer = self._writer(schema_id)
            except SchemaRegistryError as exc:
                bad.append((i, exc.message))
                continue
            try:
                record = schemaless_reader(io.BytesIO(payload[5:]), writer, self._reader)
            except Exception as exc:  # fastavro raises many types for a corrupt body
                bad.append((i, f"the Avro body does not decode with schema {schema_id}: {exc}"))
                continue
            rows.append(record)  # type: ignore[arg-type]
        frame = pl.DataFrame(_plain(rows), schema=self.schema(), orient="row")
        return frame, bad

    def _writer(self, schema_id: int) -> Any:
        from fastavro import parse_schema

        if schema_id not in self._writers:
            found = self._call(lambda: self._client.get_schema(schema_id))
            self._writers[schema_id] = parse_schema(json.loads(found.schema_str))
        return self._writers[schema_id]

    # -- writing --------------------------------------------------------------------------
    def register(self, schema: pl.Schema, *, name: str) -> tuple[int, Any]:
        """Register the Avro schema of ``schema`` under the subject; its id and parsed form.

        Raises:
            IncompatibleSchema: the registry's compatibility check refused it.
        """
        from confluent_kafka.schema_registry import Schema
        from confluent_kafka.schema_registry.error import SchemaRegistryError as ClientError
        from fastavro import parse_schema

        avro = avro_schema(schema, name=name)
        try:
            schema_id = self._client.register_schema(self.subject, Schema(json.dumps(avro), "AVRO"))
        except ClientError as exc:
            if exc.http_status_code == 409:
                raise IncompatibleSchema(
                    f"the registry refused the schema of subject '{self.subject}' as "
                    f"incompatible: {exc.error_message}",
                    hint="make the change compatible (add fields with defaults), or use a "
                    "new subject",
                ) from None
            raise self._failure(exc) from None
        except Exception as exc:
            raise self._failure(exc) from None
        return schema_id, parse_schema(avro)

    @staticmethod
    def encode(frame: pl.DataFrame, schema_id: int, parsed: Any) -> list[bytes]:
        """Every row of ``frame`` as a Confluent-framed Avro message."""
        from fastavro import schemaless_writer

        head = bytes([MAGIC]) + struct.pack(">I", schema_id)
        out = []
        for record in frame.iter_rows(named=True):
            buf = io.BytesIO()
            buf.write(head)
            schemaless_writer(buf, parsed, record)
            out.append(buf.getvalue())
        return out

    def close(self) -> None:
        """Release the registry client."""
        self._client.close()

    def _call(self, fn: Any) -> Any:
        try:
            return fn()
        except Exception as exc:
            raise self._failure(exc) from None

    def _failure(self, exc: BaseException) -> SchemaRegistryError:
        status = getattr(exc, "http_status_code", None)
        detail = getattr(exc, "error_message", None) or str(exc).splitlines()[0]
        where = f"schema registry {self.url}"
        if status is None:
            return SchemaRegistryError(
                f"{where} does not answer: {detail}", hint="check the registry url"
            )
        return SchemaRegistryError(f"{where} answered {status}: {detail}")


def _plain(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    import uuid

    for row in rows:
        for key, value in row.items():
            if isinstance(value, uuid.UUID):
                row[key] = str(value)
    return rows
