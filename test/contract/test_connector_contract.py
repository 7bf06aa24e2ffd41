"""Every built-in connector passes the connector contract (ocht.testkit.ConnectorContract)."""

from __future__ import annotations

from typing import Any, ClassVar

import fastavro
import polars as pl
import pytest

from ocht.errors import OchtError
from ocht.executor import Cancelled, CancelToken
from ocht.testkit import CancelMidway, ConnectorContract, RestApi, S3Server, unique_name

ALL = ("id", "qty", "amount", "price", "name", "ok", "day", "at")
CSV_SCHEMA = {
    "id": "int64",
    "qty": "int32",
    "amount": "float64",
    "price": "decimal(10,2)",
    "name": "string",
    "ok": "boolean",
    "day": "date",
    "at": "datetime",
}


class TestParquet(ConnectorContract):
    exact_types = ALL

    def output_spec(self, target: str) -> dict[str, Any]:
        return {"type": "parquet", "path": str(self.root / f"{target}.parquet")}

    def input_spec(self, target: str) -> dict[str, Any]:
        return self.output_spec(target)


class TestCsv(ConnectorContract):
    exact_types = ALL  # with a declared schema every type comes back

    def output_spec(self, target: str) -> dict[str, Any]:
        return {"type": "csv", "path": str(self.root / f"{target}.csv")}

    def input_spec(self, target: str) -> dict[str, Any]:
        return {**self.output_spec(target), "schema": CSV_SCHEMA}


class TestNdjson(ConnectorContract):
    columns = ("id", "qty", "amount", "name", "ok")  # JSON has no date, time or decimal
    exact_types = columns

    def output_spec(self, target: str) -> dict[str, Any]:
        return {"type": "ndjson", "path": str(self.root / f"{target}.ndjson")}

    def input_spec(self, target: str) -> dict[str, Any]:
        schema = {k: CSV_SCHEMA[k] for k in self.columns}
        return {**self.output_spec(target), "schema": schema}


class TestAvro(ConnectorContract):
    exact_types = ("id", "qty", "amount", "price", "name", "ok", "day")
    batch_rows = 512

    def output_spec(self, target: str) -> dict[str, Any]:
        return {"type": "avro", "path": str(self.root / f"{target}.avro"), "batch_size": 512}

    def input_spec(self, target: str) -> dict[str, Any]:
        return self.output_spec(target)

    def test_the_file_is_standard_avro(self) -> None:
        self.write("t", self.frame(3))
        with (self.root / "t.avro").open("rb") as f:
            assert [r["id"] for r in fastavro.reader(f)] == [1, 2, 3]


class TestSqlite(ConnectorContract):
    exact_types = ("id", "amount", "name", "ok", "day", "at")
    batch_rows = 500
    can_upsert = True

    def _url(self) -> str:
        return f"sqlite:///{self.root / 'contract.db'}"

    def output_spec(self, target: str) -> dict[str, Any]:
        return {
            "type": "sql",
            "url": self._url(),
            "table": target,
            "mode": "replace",
            "chunk_size": 500,
        }

    def input_spec(self, target: str) -> dict[str, Any]:
        return {"type": "sql", "url": self._url(), "table": target, "chunk_size": 500}

    def upsert_spec(self, target: str, key: list[str]) -> dict[str, Any]:
        return {**self.output_spec(target), "mode": "upsert", "primary_key": key}


@pytest.mark.postgres
class TestPostgres(TestSqlite):
    exact_types = ("id", "qty", "amount", "price", "name", "ok", "day", "at")

    @pytest.fixture(autouse=True)
    def _pg(self, postgres_url: str) -> None:
        self.url = postgres_url

    def _url(self) -> str:
        return self.url

    def output_spec(self, target: str) -> dict[str, Any]:
        table = getattr(self, "_tables", {}).setdefault(target, unique_name("contract"))
        self._tables = {**getattr(self, "_tables", {}), target: table}
        return {
            "type": "sql",
            "url": self.url,
            "table": table,
            "mode": "replace",
            "chunk_size": 500,
        }

    def input_spec(self, target: str) -> dict[str, Any]:
        return {"type": "sql", "url": self.url, "table": self._tables[target], "chunk_size": 500}


class TestS3Parquet(ConnectorContract):
    exact_types = ALL

    @pytest.fixture(autouse=True)
    def _bucket(self, s3_server: S3Server) -> None:
        self.s3 = s3_server
        self.bucket = unique_name("contract").replace("_", "-")
        s3_server.create_bucket(self.bucket)

    def output_spec(self, target: str) -> dict[str, Any]:
        return {
            "type": "parquet",
            "path": f"s3://{self.bucket}/{target}.parquet",
            "storage_options": self.s3.options,
        }

    def input_spec(self, target: str) -> dict[str, Any]:
        return self.output_spec(target)


class TestS3Csv(TestS3Parquet):
    def output_spec(self, target: str) -> dict[str, Any]:
        return {
            "type": "csv",
            "path": f"s3://{self.bucket}/{target}.csv",
            "storage_options": self.s3.options,
        }

    def input_spec(self, target: str) -> dict[str, Any]:
        return {**self.output_spec(target), "schema": CSV_SCHEMA}


class TestHttpOutput(ConnectorContract):
    """POSTs cannot be read back through the connector: the server's record is read."""

    columns = ("id", "qty", "amount", "name", "ok")
    can_read: ClassVar[bool] = False

    @pytest.fixture(autouse=True)
    def _api(self):
        with RestApi() as api:
            self.api = api
            yield

    def output_spec(self, target: str) -> dict[str, Any]:
        return {"type": "http", "url": self.api.url("/ingest"), "batch_size": 250}

    def read_back(self, target: str) -> pl.DataFrame:
        # a replacing output is what the contract reads back: the last run's rows
        return pl.DataFrame(self._last_run_rows(), schema=self.frame(0).schema)

    def write(self, target: str, data: pl.DataFrame, **kw: Any) -> Any:
        self._mark = len(self.api.received)
        return super().write(target, data, **kw)

    def _last_run_rows(self) -> list[dict[str, Any]]:
        return [row for batch in self.api.received[self._mark :] for row in batch]

    def test_failed_run_leaves_the_output_unchanged(self) -> None:
        # an endpoint cannot be rolled back: a failed run must send nothing at all
        before = len(self.api.received)
        with pytest.raises(OchtError):
            self.write(
                "t",
                self.frame(600),
                steps=[
                    {"kind": "check", "checks": [{"type": "range", "columns": ["id"], "max": 599}]}
                ],
            )
        assert len(self.api.received) == before

    def test_a_cancelled_write_leaves_nothing_visible(self) -> None:
        # nothing to take back at an endpoint either: a cancelled run sends nothing
        before = len(self.api.received)
        token = CancelToken()
        with pytest.raises(Cancelled):
            self.write("t", self.frame(600), cancel=token, hooks=CancelMidway(token))
        assert len(self.api.received) == before and self.files() == set()
