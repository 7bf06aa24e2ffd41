"""Rust panics from the engine, as a stable error: never the panic text itself.

Polars raises ``pyo3_runtime.PanicException`` (a ``BaseException``, so ``except
Exception`` misses it) when its Rust code panics: a corrupt Parquet page, a writer
interrupted mid-file. People get :class:`EngineFailure` naming the inputs and outputs
involved; the panic message is kept only under ``--debug`` (the traceback).
"""

from __future__ import annotations

from collections.abc import Iterable

from ocht.errors.core import ExecutionError

PANIC_HINT = (
    "the data engine stopped on this data: check that the inputs are complete, valid files "
    "and that the outputs' disk has room; --debug shows the engine's own message"
)


class EngineFailure(ExecutionError):
    """The data engine (Polars) panicked while reading the inputs or writing the outputs."""

    code = "engine-failed"


def is_panic(exc: BaseException) -> bool:
    """Whether ``exc`` is a Rust panic surfaced through PyO3.

    Example:
        >>> is_panic(ValueError("x"))
        False
    """
    return any(t.__name__ == "PanicException" for t in type(exc).__mro__)


def engine_failure(
    exc: BaseException, *, inputs: Iterable[str] = (), outputs: Iterable[str] = ()
) -> EngineFailure | None:
    """:class:`EngineFailure` for a panic (naming ``inputs`` and ``outputs``), else ``None``.

    Example:
        >>> engine_failure(ValueError("x")) is None
        True
    """
    if not is_panic(exc):
        return None
    ins, outs = list(inputs), list(outputs)
    where = []
    if ins:
        where.append("reading " + ", ".join(ins))
    if outs:
        where.append("writing " + ", ".join(outs))
    return EngineFailure(
        "the data engine failed" + (f" while {' / '.join(where)}" if where else ""),
        hint=PANIC_HINT,
        inputs=ins,
        outputs=outs,
    )
