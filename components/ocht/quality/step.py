"""The ``check`` step: flags, repairs and routes rows with Polars expressions only.

Checks run in the order written; a ``fix`` changes the row for the checks after it. Each
row-level check becomes one boolean column; one streamable ``map_batches`` per step sums
those columns per batch (no per-row Python) into a :class:`CheckRun`, which the executor
reads after the query (``check_results``) and asks to judge the run (``verify``). The
main branch keeps rows that no ``dead_letter`` check failed; the ``DEAD_LETTER`` branch
carries the others as dead-letter records (see :mod:`ocht.quality.records`).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from typing import Any

import polars as pl

from ocht.errors import InvalidPipeline
from ocht.observability import get_logger
from ocht.pipeline_model import Check
from ocht.quality.checks import CompiledCheck, compile_check
from ocht.quality.dtypes import convert, parse_duration
from ocht.quality.errors import CheckFailed, check_error
from ocht.quality.records import record_columns, with_values
from ocht.transform import DEAD_LETTER, MAIN, BuildContext, CompiledStep

_ORIG = "__ocht_orig_"


class CheckRun:
    """What one check step saw in one run: rows, failures and samples per check.

    Thread-safe: Polars may call :meth:`observe` from several threads.
    """

    def __init__(
        self,
        step: str,
        checks: list[CompiledCheck],
        *,
        mode: str,
        sample_size: int,
        originals: dict[str, str] | None = None,
    ) -> None:
        self.step = step
        self.originals = originals or {}
        self.checks = checks
        self.mode = mode
        self.sample_size = sample_size
        self._lock = threading.Lock()
        self.rows = 0
        self.failed = [0] * len(checks)
        self.samples: list[list[Any]] = [[] for _ in checks]
        self.changes: list[list[dict[str, Any]]] = [[] for _ in checks]
        self.newest: list[Any] = [None] * len(checks)
        self._row_checks = [c for c in checks if c.violation is not None]

    # -- while the query runs --------------------------------------------------------------
    def observe(self, df: pl.DataFrame) -> pl.DataFrame:
        """Count one batch's failures (a streamable ``map_batches`` callback)."""
        if df.height == 0:
            return df
        # Series methods, not df.select: this runs once per morsel, so the per-call
        # overhead of a query (about a millisecond) would dominate
        fresh = {
            c.index: df.get_column(c.columns[0]).max() for c in self.checks if c.type == "freshness"
        }
        batch_failed: dict[int, int] = {}
        for c in self._row_checks:
            n = df.get_column(c.flag).sum()
            if n:
                batch_failed[c.index] = int(n)
        samples = {
            i: self._sample(df, self.checks[i])
            for i in batch_failed
            if len(self.samples[i]) < self.sample_size
        }
        changes = {
            i: self._changes(df, self.checks[i])
            for i in batch_failed
            if self.checks[i].action == "fix" and len(self.changes[i]) < self.sample_size
        }
        with self._lock:
            self.rows += df.height
            for i, n in batch_failed.items():
                self.failed[i] += n
            for i, values in samples.items():
                room = self.sample_size - len(self.samples[i])
                self.samples[i].extend(values[:room])
            for i, rows in changes.items():
                room = self.sample_size - len(self.changes[i])
                self.changes[i].extend(rows[:room])
            for i, value in fresh.items():
                if value is not None and (self.newest[i] is None or value > self.newest[i]):
                    self.newest[i] = value
        if self.mode == "stream":
            # a stream has no end to wait for: each micro-batch is judged on its own
            self._judge(batch=df.height, failed=batch_failed, newest=fresh)
        return df

    def _changes(self, df: pl.DataFrame, check: CompiledCheck) -> list[dict[str, Any]]:
        """Rows a fix changed: each fixed column's value before the step and after it."""
        cols = [c for c in check.columns if self.originals.get(c, c) in df.columns]
        if not cols or check.action != "fix":
            return []
        picked = df.filter(pl.col(check.flag)).head(self.sample_size)
        before = picked.select(pl.col(self.originals.get(c, c)) for c in cols).rows()
        after = picked.select(cols).rows()
        return [
            {"before": dict(zip(cols, b, strict=True)), "after": dict(zip(cols, a, strict=True))}
            for b, a in zip(before, after, strict=True)
        ]

    def _sample(self, df: pl.DataFrame, check: CompiledCheck) -> list[Any]:
        bad = df.filter(pl.col(check.flag)).head(self.sample_size)
        # fixed columns are sampled as they were before any fix
        cols = {c: self.originals.get(c, c) for c in check.columns}
        cols = {c: src for c, src in cols.items() if src in bad.columns}
        if not cols:
            return []
        if len(cols) == 1:
            return bad.get_column(next(iter(cols.values()))).to_list()
        return [dict(zip(cols, row, strict=True)) for row in bad.select(list(cols.values())).rows()]

    # -- after the query -------------------------------------------------------------------
    def check_results(self) -> list[dict[str, Any]]:
        """One dict per check: name, type, action, rows checked, failed, samples."""
        with self._lock:
            out = []
            for c in self.checks:
                failed = self.failed[c.index]
                if c.type in ("row_count", "freshness"):
                    failed = (
                        1 if self._whole_input_problem(c, self.rows, self.newest[c.index]) else 0
                    )
                out.append(
                    {
                        "step": self.step,
                        "check": c.name,
                        "type": c.type,
                        "action": c.action,
                        "rows_checked": self.rows,
                        "failed": failed,
                        "samples": list(self.samples[c.index]),
                        "changes": list(self.changes[c.index]),
                    }
                )
            return out

    def verify(self) -> None:
        """Judge the whole run: log warnings, raise :class:`CheckFailed` for a fail check.

        Raises:
            CheckFailed: the first ``fail`` check that found a problem.
        """
        with self._lock:
            failed = {c.index: self.failed[c.index] for c in self._row_checks}
            rows, newest = self.rows, dict(enumerate(self.newest))
        if self.mode != "stream":
            self._judge(batch=rows, failed=failed, newest=newest)

    def _judge(self, *, batch: int, failed: dict[int, int], newest: dict[int, Any]) -> None:
        log = get_logger()
        for c in self.checks:
            if c.type in ("row_count", "freshness"):
                problem = self._whole_input_problem(c, batch, newest.get(c.index))
                if problem is None:
                    continue
                if c.action == "warn":
                    log.warning("check warning", step=self.step, check=c.name, detail=problem)
                    continue
                raise CheckFailed(
                    f"step '{self.step}': check '{c.name}' failed: {problem}",
                    step=self.step,
                    check=c.name,
                    failed=1,
                    hint="fix the input or change the check's action to warn",
                )
            n = failed.get(c.index, 0)
            if not n:
                continue
            if c.action == "warn":
                log.warning(
                    "check warning", step=self.step, check=c.name, failed=n, reason=c.reason
                )
            elif c.action == "fail":
                samples = self.samples[c.index][: self.sample_size]
                # a null is no example (a not_null check's samples are all null)
                shown = ", ".join(repr(s) for s in samples if s is not None)
                raise CheckFailed(
                    f"step '{self.step}': check '{c.name}' failed on {n:,} row"
                    f"{'s' if n != 1 else ''} ({c.reason})" + (f"; e.g. {shown}" if shown else ""),
                    step=self.step,
                    check=c.name,
                    failed=n,
                    samples=samples,
                    hint="fix the data, or set the check's action to warn, dead_letter or fix",
                )

    @staticmethod
    def _whole_input_problem(c: CompiledCheck, rows: int, newest: Any) -> str | None:
        spec = c.options
        if c.type == "row_count":
            if spec.min is not None and rows < spec.min:
                return f"{rows:,} rows, fewer than {spec.min:,}"
            if spec.max is not None and rows > spec.max:
                return f"{rows:,} rows, more than {spec.max:,}"
            return None
        if newest is None:
            return f"no value in '{spec.column}' to judge freshness by"
        now = dt.datetime.now(dt.UTC)
        if isinstance(newest, dt.datetime):
            stamp = newest if newest.tzinfo else newest.replace(tzinfo=dt.UTC)
        else:
            stamp = dt.datetime.combine(newest, dt.time(), tzinfo=dt.UTC)
        age = now - stamp
        if age > parse_duration(spec.max_age):
            return f"newest '{spec.column}' is {stamp.isoformat()}, older than {spec.max_age}"
        return None


def build_check(spec: Check, ctx: BuildContext) -> CompiledStep:
    """Build a check step: compile every check, then wire flags, fixes and branches."""
    schema = ctx.schema
    input_cols = list(schema.names())
    stages: list[tuple[CompiledCheck, list[pl.Expr]]] = []
    names: set[str] = set()
    fixed: list[str] = []
    probe = pl.LazyFrame(schema=schema)
    errors: list[InvalidPipeline] = []
    for i, check in enumerate(spec.checks):
        path = f"{ctx.path}.checks[{i}]"
        before = probe
        try:
            compiled = compile_check(check, i, schema, step=ctx.step_id, path=path)
            if compiled.name in names:
                raise check_error(
                    f"two checks are named '{compiled.name}'",
                    step=ctx.step_id,
                    path=f"{path}.name",
                    hint="give one of them a `name`",
                )
            names.add(compiled.name)
            updates = _updates(compiled)
            fixed.extend(c for c in [*compiled.repairs, *compiled.casts] if c not in fixed)
            if compiled.violation is not None:
                probe = probe.with_columns(compiled.violation.alias(compiled.flag))
            if updates:
                probe = probe.with_columns(updates)
            try:
                schema = probe.drop(
                    [c for c in probe.collect_schema().names() if c.startswith("__ocht_")]
                ).collect_schema()
            except pl.exceptions.PolarsError as exc:
                raise check_error(
                    f"check '{compiled.name}' does not fit the data: {str(exc).splitlines()[0]}",
                    step=ctx.step_id,
                    path=path,
                    code="invalid-type",
                ) from None
            stages.append((compiled, updates))
        except InvalidPipeline as exc:  # report every bad check, not just the first
            errors.append(exc)
            probe = before
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise InvalidPipeline.from_issues([i for e in errors for i in e.issues])

    checks = [c for c, _ in stages]
    run = CheckRun(
        ctx.step_id,
        checks,
        mode=ctx.mode,
        sample_size=spec.sample_size,
        originals={c: _ORIG + c for c in fixed},
    )
    flags = [c.flag for c in checks if c.violation is not None]
    dead = [c for c in checks if c.action == "dead_letter"]
    fixes = [c for c in checks if c.action == "fix" and c.repairs]
    keep_orig = bool(fixed)
    internal = [*flags, *([_ORIG + c for c in fixed] if keep_orig else [])]

    # one callable object for every branch: Polars shares (runs once) identical subplans
    # only when the map function is the same object, and each `run.observe` is a new one
    observe = run.observe

    def annotate(frame: pl.LazyFrame) -> pl.LazyFrame:
        if keep_orig:
            frame = frame.with_columns(pl.col(c).alias(_ORIG + c) for c in fixed)
        for compiled, updates in stages:
            if compiled.violation is not None:
                frame = frame.with_columns(compiled.violation.alias(compiled.flag))
            if updates:
                frame = frame.with_columns(updates)
        # no pushdown through the counter: it must see every row and every flag
        return frame.map_batches(
            observe,
            streamable=True,
            predicate_pushdown=False,
            projection_pushdown=False,
            slice_pushdown=False,
        )

    is_dead = pl.any_horizontal([pl.col(c.flag) for c in dead]) if dead else None
    last: list[tuple[pl.LazyFrame, pl.LazyFrame]] = []

    def annotated(frame: pl.LazyFrame) -> pl.LazyFrame:
        # both branches read the same annotated frame, cached so the checks run once per
        # row: Polars shares identical subplans by itself only one fork deep
        if last and last[0][0] is frame:
            return last[0][1]
        out = annotate(frame).cache() if dead else annotate(frame)
        last[:] = [(frame, out)]
        return out

    def main(frames: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
        frame = annotated(frames[0])
        if is_dead is not None:
            frame = frame.filter(~is_dead)
        if fixes and spec.fixes_column:
            frame = frame.with_columns(_fix_names(fixes).alias(spec.fixes_column))
        return frame.drop(internal)

    outputs = {MAIN: main}
    if dead:

        def dead_letters(frames: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
            assert is_dead is not None
            frame = annotated(frames[0]).filter(is_dead)
            original = [
                pl.col(_ORIG + c).alias(c) if keep_orig and c in fixed else pl.col(c)
                for c in input_cols
            ]

            def value(c: str) -> pl.Expr:
                return pl.col(_ORIG + c) if keep_orig and c in fixed else pl.col(c)

            reasons = [
                (pl.col(c.flag), with_values(c.reason, {k: value(k) for k in c.columns}), c.name)
                for c in dead
            ]
            return frame.select(record_columns(original, step=ctx.step_id, reasons=reasons))

        outputs[DEAD_LETTER] = dead_letters
    return CompiledStep(ctx.step_id, outputs, run)


def _updates(c: CompiledCheck) -> list[pl.Expr]:
    out = [expr.alias(col) for col, expr in c.casts.items()]
    for col, (repl, conversion) in c.repairs.items():
        if conversion is None:
            fixed = pl.when(pl.col(c.flag)).then(repl).otherwise(pl.col(col))
        else:
            # the whole column converts so it has one type; failing values are replaced
            source, target = conversion
            fill = pl.lit(None, dtype=target) if repl is None else repl.cast(target, strict=False)
            fixed = (
                pl.when(pl.col(c.flag)).then(fill).otherwise(convert(pl.col(col), source, target))
            )
        out.append(fixed.alias(col))
    return out


def _fix_names(fixes: list[CompiledCheck]) -> pl.Expr:
    """The names of the checks that fixed each row, comma-separated (null: none).

    Joining strings on every row is slow, so the flags become a bit mask that is looked
    up in a table of every combination (for up to 6 fixing checks).
    """
    if len(fixes) == 1:
        return pl.when(pl.col(fixes[0].flag)).then(pl.lit(fixes[0].name))
    if len(fixes) > 6:
        mark = pl.concat_str(
            [pl.when(pl.col(c.flag)).then(pl.lit(c.name)) for c in fixes],
            separator=",",
            ignore_nulls=True,
        )
        return pl.when(mark == "").then(None).otherwise(mark)
    mask = pl.sum_horizontal(
        [pl.col(c.flag).cast(pl.UInt8) * (1 << i) for i, c in enumerate(fixes)]
    )
    names = {
        m: ",".join(c.name for i, c in enumerate(fixes) if m & (1 << i))
        for m in range(1, 1 << len(fixes))
    }
    looked_up = mask.replace_strict(names, default=None, return_dtype=pl.String)
    return pl.when(mask > 0).then(looked_up)
