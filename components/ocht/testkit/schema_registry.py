"""A Confluent-compatible schema registry on loopback, for Avro-over-Kafka tests.

It speaks the subset of the REST API clients use: register (``POST
/subjects/{s}/versions``), look up (``POST /subjects/{s}``), latest and numbered versions,
schemas by id, subjects, and compatibility (``POST /compatibility/subjects/{s}/versions/
latest``) under the BACKWARD rule: a new record schema may add fields only with defaults,
and may not change a kept field's type except by Avro's promotions (int → long → float →
double, string ↔ bytes). Incompatible registrations answer 409, as the real one does.

Example:
    >>> from confluent_kafka.schema_registry import SchemaRegistryClient, Schema
    >>> with SchemaRegistry() as reg:
    ...     client = SchemaRegistryClient({"url": reg.url})
    ...     client.register_schema("t-value", Schema('"string"', "AVRO"))
    1
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote, urlsplit

from ocht.testkit.loopback import LoopbackServer

_PROMOTIONS = {
    "int": {"int", "long", "float", "double"},
    "long": {"long", "float", "double"},
    "float": {"float", "double"},
    "double": {"double"},
    "string": {"string", "bytes"},
    "bytes": {"bytes", "string"},
}


def backward_compatible(new: Any, old: Any) -> bool:
    """Whether data written with ``old`` can be read with ``new`` (BACKWARD)."""
    if isinstance(new, dict) and isinstance(old, dict):
        if new.get("type") == "record" and old.get("type") == "record":
            kept = {f["name"]: f for f in old["fields"]}
            for field in new["fields"]:
                before = kept.get(field["name"])
                if before is None:
                    if "default" not in field:
                        return False
                elif not backward_compatible(field["type"], before["type"]):
                    return False
            return True
        return _base(new) in _PROMOTIONS.get(_base(old), {_base(old)})
    if isinstance(new, list):
        olds = old if isinstance(old, list) else [old]
        return all(any(backward_compatible(n, o) for n in new) for o in olds)
    if isinstance(old, list):
        return False
    return _base(new) in _PROMOTIONS.get(_base(old), {_base(old)})


def _base(schema: Any) -> str:
    if isinstance(schema, dict):
        return str(schema.get("logicalType") or schema.get("type"))
    return str(schema)


class SchemaRegistry(LoopbackServer):
    """The registry server; :attr:`url` is ``http://127.0.0.1:PORT``."""

    def __init__(self) -> None:
        self.schemas: list[str] = []  # id - 1 → schema text
        self.subjects: dict[str, list[int]] = {}  # subject → ids by version
        self._lock = threading.Lock()
        super().__init__(_handler(self))
        self.url = f"http://127.0.0.1:{self.port}"

    def register(self, subject: str, schema: str) -> tuple[int, int]:
        """(id, http status) of registering ``schema`` under ``subject``."""
        text = json.dumps(json.loads(schema), sort_keys=True)
        with self._lock:
            versions = self.subjects.setdefault(subject, [])
            if text in self.schemas and self.schemas.index(text) + 1 in versions:
                return self.schemas.index(text) + 1, 200
            if versions:
                latest = json.loads(self.schemas[versions[-1] - 1])
                if not backward_compatible(json.loads(text), latest):
                    return 0, 409
            if text not in self.schemas:
                self.schemas.append(text)
            schema_id = self.schemas.index(text) + 1
            versions.append(schema_id)
            return schema_id, 200


def _handler(reg: SchemaRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _missing(self, what: str) -> None:
            self._send(404, {"error_code": 40401, "message": f"{what} not found"})

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            found: dict[str, Any] = json.loads(self.rfile.read(length) or b"{}")
            return found

        def _version(self, subject: str, version: str) -> None:
            ids = reg.subjects.get(subject)
            if not ids:
                return self._missing(f"subject {subject}")
            number = len(ids) if version == "latest" else int(version)
            if not 1 <= number <= len(ids):
                return self._missing(f"version {version}")
            schema_id = ids[number - 1]
            self._send(
                200,
                {
                    "subject": subject,
                    "version": number,
                    "id": schema_id,
                    "schema": reg.schemas[schema_id - 1],
                },
            )
            return None

        def do_GET(self) -> None:
            parts = [unquote(p) for p in urlsplit(self.path).path.strip("/").split("/")]
            if parts == ["subjects"]:
                return self._send(200, sorted(reg.subjects))
            if len(parts) == 3 and parts[:2] == ["schemas", "ids"]:
                index = int(parts[2]) - 1
                if not 0 <= index < len(reg.schemas):
                    return self._missing(f"schema {parts[2]}")
                return self._send(200, {"schema": reg.schemas[index]})
            if len(parts) == 3 and parts[0] == "subjects" and parts[2] == "versions":
                ids = reg.subjects.get(parts[1])
                return (
                    self._send(200, list(range(1, len(ids) + 1)))
                    if ids
                    else self._missing(parts[1])
                )
            if len(parts) == 4 and parts[0] == "subjects" and parts[2] == "versions":
                return self._version(parts[1], parts[3])
            return self._missing(self.path)

        def do_POST(self) -> None:
            parts = [unquote(p) for p in urlsplit(self.path).path.strip("/").split("/")]
            body = self._body()
            if len(parts) == 3 and parts[0] == "subjects" and parts[2] == "versions":
                schema_id, status = reg.register(parts[1], body["schema"])
                if status == 409:
                    return self._send(
                        409,
                        {"error_code": 409, "message": "Schema being registered is incompatible"},
                    )
                return self._send(200, {"id": schema_id})
            if len(parts) == 2 and parts[0] == "subjects":
                text = json.dumps(json.loads(body["schema"]), sort_keys=True)
                ids = reg.subjects.get(parts[1], [])
                for number, schema_id in enumerate(ids, start=1):
                    if reg.schemas[schema_id - 1] == text:
                        return self._send(
                            200,
                            {
                                "subject": parts[1],
                                "version": number,
                                "id": schema_id,
                                "schema": text,
                            },
                        )
                return self._missing("schema")
            if len(parts) == 5 and parts[0] == "compatibility":
                history = reg.subjects.get(parts[2])
                if not history:
                    return self._send(200, {"is_compatible": True})
                latest = json.loads(reg.schemas[history[-1] - 1])
                ok = backward_compatible(json.loads(body["schema"]), latest)
                return self._send(200, {"is_compatible": ok})
            return self._missing(self.path)

    return Handler
