"""The connector contract: behaviour every connector must show, as a reusable pytest suite.

Mix :class:`ConnectorContract` into a test class, say where the connector writes and reads,
and pytest runs the whole contract against it — the built-in connectors do, and a plugin
author runs the same suite on theirs::

    from ocht.testkit import ConnectorContract

    class TestParquet(ConnectorContract):
        def output_spec(self, target):
            return {"type": "parquet", "path": str(self.root / f"{target}.parquet")}

        def input_spec(self, target):
            return self.output_spec(target)

What it checks, each through real pipeline runs:

- what was written reads back, value for value, over the connector's types;
- a run that fails after data started flowing leaves an earlier output unchanged;
- an empty input gives an empty output (and a succeeded run);
- an input larger than the connector's batch size arrives whole;
- a write cancelled midway (a :class:`~ocht.executor.CancelToken` cancelled while rows
  flow) leaves the earlier output as it was and no temporary file; a read cancelled
  midway writes nothing and leaves the input readable;
- with ``can_upsert``, writing the same keyed rows twice keeps them once.

A case that cannot hold for a connector is listed in ``not_applicable`` with the reason,
and is reported as skipped with it (a Kafka output cannot take back records it produced)::

    class TestMyQueue(ConnectorContract):
        not_applicable = {"test_failed_run_leaves_the_output_unchanged": "a queue ..."}
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from pathlib import Path
from typing import Any, ClassVar

import polars as pl
import pytest

from ocht.errors import OchtError
from ocht.executor import Cancelled, CancelToken
from ocht.observability import RunHooks


def contract_frame(n: int = 3) -> pl.DataFrame:
    """Rows covering the common types, with a null in every nullable column."""
    base = dt.datetime(2024, 2, 28, 23, 59, 58, 123456)
    return pl.DataFrame(
        {
            "id": pl.Series(range(1, n + 1), dtype=pl.Int64),
            "qty": pl.Series([i % 5 if i % 3 else None for i in range(n)], dtype=pl.Int32),
            "amount": pl.Series([i * 1.5 if i % 4 else None for i in range(n)], dtype=pl.Float64),
            "price": pl.Series(
                [decimal.Decimal(f"{i}.25") for i in range(n)], dtype=pl.Decimal(10, 2)
            ),
            "name": pl.Series([f"n{i} é" if i % 2 else None for i in range(n)], dtype=pl.String),
            "ok": pl.Series([i % 2 == 0 for i in range(n)], dtype=pl.Boolean),
            "day": pl.Series([dt.date(2024, 2, 28) + dt.timedelta(days=i % 3) for i in range(n)]),
            "at": pl.Series([base + dt.timedelta(seconds=i) for i in range(n)]),
        }
    )


class ConnectorContract:
    """The contract suite; subclasses implement :meth:`output_spec` (and :meth:`input_spec`
    when the connector reads).

    Attributes:
        columns: the columns of :func:`contract_frame` this connector carries (default all).
        exact_types: columns whose type must come back exactly (others compare by value).
        batch_rows: the connector's batch (or chunk) size: "larger than a batch" means more.
        can_read: whether the connector is an input too (else :meth:`read_back` is needed).
        can_upsert: whether :meth:`upsert_spec` gives an idempotent keyed output.
        not_applicable: ``{test name: why it cannot hold for this connector}``; those
            cases are skipped with the reason.
    """

    columns: ClassVar[tuple[str, ...] | None] = None
    exact_types: ClassVar[tuple[str, ...]] = ()
    batch_rows: ClassVar[int] = 1000
    can_read: ClassVar[bool] = True
    can_upsert: ClassVar[bool] = False
    not_applicable: ClassVar[dict[str, str]] = {}

    root: Path

    @pytest.fixture(autouse=True)
    def _contract_root(self, tmp_path: Path, request: pytest.FixtureRequest) -> None:
        name = getattr(request.node, "originalname", None) or request.node.name
        if name in self.not_applicable:
            pytest.skip(f"not applicable: {self.not_applicable[name]}")
        self.root = tmp_path
        self._seq = 0

    # -- what a connector's test class provides -------------------------------------------
    def output_spec(self, target: str) -> dict[str, Any]:
        """The output spec writing to ``target`` (a name unique within the test)."""
        raise NotImplementedError

    def input_spec(self, target: str) -> dict[str, Any]:
        """The input spec reading what :meth:`output_spec` wrote to ``target``."""
        raise NotImplementedError

    def upsert_spec(self, target: str, key: list[str]) -> dict[str, Any]:
        """An output spec upserting by ``key`` into ``target`` (with ``can_upsert``)."""
        raise NotImplementedError

    def read_back(self, target: str) -> pl.DataFrame:
        """Every row at ``target``, read through the connector's own input."""
        out = self.root / f"read-{target}-{self._next()}.parquet"
        self.run_pipeline(
            {"type": "parquet", "path": str(out)}, self.input_spec(target), name="contract_read"
        )
        return pl.read_parquet(out)

    # -- helpers ---------------------------------------------------------------------------
    def frame(self, n: int = 3) -> pl.DataFrame:
        """The contract rows restricted to :attr:`columns`."""
        data = contract_frame(n)
        return data.select(self.columns) if self.columns else data

    def write(self, target: str, data: pl.DataFrame, **kw: Any) -> Any:
        """Run a pipeline writing ``data`` to ``target`` through the connector."""
        source = self.root / f"source-{self._next()}.parquet"
        data.write_parquet(source)
        return self.run_pipeline(
            kw.pop("output", None) or self.output_spec(target),
            {"type": "parquet", "path": str(source)},
            **kw,
        )

    def run_pipeline(
        self,
        output: dict[str, Any],
        source: dict[str, Any],
        *,
        steps: list[dict[str, Any]] | None = None,
        name: str = "contract_write",
        cancel: CancelToken | None = None,
        hooks: RunHooks | None = None,
    ) -> Any:
        """One batch run: ``source`` → ``steps`` → ``output``."""
        from ocht.testkit.running import run_pipeline

        spec = {
            "name": name,
            "inputs": {"rows": source},
            "steps": steps or [],
            "outputs": {"out": output},
        }
        return run_pipeline(spec, home=self.root / ".ocht", cancel=cancel, hooks=hooks)

    def files(self) -> set[str]:
        """Files under the test's folder, but the run home and the helpers' own files (what
        a cancelled run must leave as it found)."""
        return {
            str(p.relative_to(self.root))
            for p in self.root.rglob("*")
            if p.is_file()
            and ".ocht" not in p.relative_to(self.root).parts
            and not p.name.startswith(("source-", "read-"))
        }

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def _same(self, got: pl.DataFrame, want: pl.DataFrame) -> None:
        from polars.testing import assert_frame_equal

        got = got.select(want.columns).sort("id")
        for col in self.exact_types:
            assert got.schema[col] == want.schema[col], (col, got.schema[col], want.schema[col])
        assert_frame_equal(got, want.sort("id"), check_dtypes=False)

    # -- the contract ---------------------------------------------------------------------
    def test_reads_what_was_written(self) -> None:
        data = self.frame(5)
        self.write("t", data)
        self._same(self.read_back("t"), data)

    def test_failed_run_leaves_the_output_unchanged(self) -> None:
        first = self.frame(3)
        self.write("t", first)
        bigger = self.frame(self.batch_rows * 2)
        # the check fails on the last row only: data has flowed when the run stops
        fail = [
            {
                "kind": "check",
                "checks": [{"type": "range", "columns": ["id"], "max": self.batch_rows * 2 - 1}],
            }
        ]
        with pytest.raises(OchtError):
            self.write("t", bigger, steps=fail)
        self._same(self.read_back("t"), first)

    def test_an_empty_input_gives_an_empty_output(self) -> None:
        result = self.write("t", self.frame(3).head(0))
        assert result.status == "succeeded"
        if self.can_read:
            assert self.read_back("t").height == 0

    def test_an_input_larger_than_a_batch_arrives_whole(self) -> None:
        data = self.frame(self.batch_rows * 3 + 7)
        self.write("t", data)
        got = self.read_back("t")
        assert got.height == data.height
        assert got["id"].sum() == data["id"].sum()

    def test_a_cancelled_write_leaves_nothing_visible(self) -> None:
        first = self.frame(3)
        self.write("t", first)
        before = self.files()
        token = CancelToken()
        with pytest.raises(Cancelled):
            self.write(
                "t", self.frame(self.batch_rows * 3), cancel=token, hooks=CancelMidway(token)
            )
        assert self.files() == before  # no temporary file left, no new file
        self._same(self.read_back("t"), first)

    def test_a_cancelled_read_writes_nothing(self) -> None:
        if not self.can_read:
            pytest.skip("this connector is an output only")
        data = self.frame(self.batch_rows * 3)
        self.write("t", data)
        before = self.files()
        token = CancelToken()
        out = self.root / "cancelled.parquet"
        with pytest.raises(Cancelled):
            self.run_pipeline(
                {"type": "parquet", "path": str(out)},
                self.input_spec("t"),
                name="contract_read",
                cancel=token,
                hooks=CancelMidway(token),
            )
        assert not out.exists() and self.files() == before
        self._same(self.read_back("t"), data)  # the input is whole and still readable

    def test_upsert_is_idempotent(self) -> None:
        if not self.can_upsert:
            pytest.skip("this connector does not upsert")
        data = self.frame(4)
        out = self.upsert_spec("t", ["id"])
        self.write("t", data, output=out)
        self.write("t", data, output=out)
        changed = data.with_columns(pl.col("amount").fill_null(0) + 1)
        self.write("t", changed, output=out)
        self._same(self.read_back("t"), changed)


class CancelMidway(RunHooks):
    """Cancels ``token`` as soon as the run has read its first rows (rows are flowing)."""

    def __init__(self, token: CancelToken) -> None:
        self.token = token

    def on_progress(self, *, run_id: str, rows: int, **future: Any) -> None:
        if rows > 0:
            self.token.cancel()


def unique_name(prefix: str) -> str:
    """A name no other test uses (tables, buckets, topics)."""
    return f"{prefix}_{uuid.uuid4().hex[:8]}"
