"""SQL outputs in stream mode: one transaction per micro-batch, exactly once.

The stream executor opens the sink per micro-batch, writes the batch, and commits with
:meth:`SqlStreamSink.commit_with`: the source offsets and the operator state of that
batch are written by the executor **inside the sink's transaction** (the run store's
checkpoint table, created in the output's database), so rows, offsets and state commit
together. A crash at any point (kill -9 included) leaves either all of them or none; a
restart resumes at the offsets that committed with the rows, so every record lands
once. ``append`` and ``upsert`` work as in batch mode; ``replace`` would empty the table
every micro-batch and is refused.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from ocht.connector_sql.errors import InvalidSqlSpec, SqlWriteError
from ocht.connector_sql.sink import SqlSink
from ocht.errors import Issue
from ocht.pipeline_model import SqlConnector
from ocht.registry import RunContext


class SqlOutput(SqlSink):
    """The ``sql`` connector's sink: a :class:`SqlSink` in batch runs, a
    :class:`SqlStreamSink` in stream runs."""

    def __new__(cls, spec: SqlConnector, *, name: str, context: RunContext) -> SqlOutput:
        if cls is SqlOutput and context.mode == "stream":
            return super().__new__(SqlStreamSink)
        return super().__new__(cls)


class SqlStreamSink(SqlOutput):
    """A :class:`SqlSink` that keeps its engine between micro-batches and commits with
    the stream's checkpoint in its transaction (see the module docstring)."""

    def __init__(self, spec: SqlConnector, *, name: str, context: RunContext) -> None:
        super().__init__(spec, name=name, context=context)
        if spec.mode == "replace":
            msg = (
                f"output '{name}': mode replace would empty the table at every micro-batch "
                "in stream mode"
            )
            raise InvalidSqlSpec(
                msg,
                issues=[
                    Issue(
                        "not-streamable",
                        msg,
                        f"outputs.{name}.mode",
                        hint="use mode: append or mode: upsert (with primary_key)",
                    )
                ],
            )

    def checkpoint_engine(self) -> sa.Engine:
        """The output database's engine (where the stream's checkpoints live)."""
        return self.engine

    def commit_with(self, write: Callable[[sa.Connection], None]) -> None:
        """Send what is buffered, call ``write(connection)`` in the same transaction
        (offsets and state), then commit everything at once."""
        if self._conn is None or self._tx is None:
            raise SqlWriteError(f"{self.describe()}: commit() without open()")
        self._guard(self._flush)
        conn = self._conn
        self._guard(lambda: write(conn))
        self._guard(self._tx.commit)
        self._close()

    def _close(self) -> None:
        # the engine (its pool) stays for the next micro-batch; close() releases it
        if self._conn is not None:
            self._conn.close()
        self._conn, self._tx = None, None

    def close(self) -> None:
        """Release the engine (end of the stream run)."""
        self.dispose()
