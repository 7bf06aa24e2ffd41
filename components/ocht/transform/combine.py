"""Steps over several frames: join and union (``ctx.schemas[1:]`` are the ``with`` frames)."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from ocht.pipeline_model import Join, Union
from ocht.transform.errors import step_error
from ocht.transform.expressions import check_columns
from ocht.transform.kinds import BuildContext, CompiledStep

_STREAM_HOWS = ("inner", "left", "semi", "anti", "cross")


def build_join(spec: Join, ctx: BuildContext) -> CompiledStep:
    """Join the input (left) with the ``with`` frame (right).

    Keys are ``on`` (same names on both sides) or ``left_on`` + ``right_on``. A ``full``
    join on ``on`` keeps one key column (SQL's ``USING``). In stream mode the right side is
    a bounded lookup read whole for every micro-batch, so only joins that keep no
    unmatched right rows are allowed.
    """
    left, right = ctx.schemas[0], ctx.schemas[1]
    how = spec.how
    if ctx.mode == "stream" and how not in _STREAM_HOWS:
        raise step_error(
            "batch-only-step",
            f"a {how} join keeps unmatched rows of '"
            f"{spec.with_}', which a stream cannot know until it ends",
            step=ctx.step_id,
            path=f"{ctx.path}.how",
            hint="use how: left or inner (the `with` side is a lookup table)",
        )
    left_on, right_on = _keys(spec, ctx)
    for field, names, schema, within in (
        ("left_on" if spec.left_on else "on", left_on, left, None),
        ("right_on" if spec.right_on else "on", right_on, right, spec.with_),
    ):
        for i, name in enumerate(names):
            check_columns(
                [name], schema, step=ctx.step_id, path=f"{ctx.path}.{field}[{i}]", within=within
            )
    for i, (lk, rk) in enumerate(zip(left_on, right_on, strict=True)):
        if not _comparable(left[lk], right[rk]):
            raise step_error(
                "schema-mismatch",
                f"join key '{lk}' is {left[lk]} but '{rk}' in '{spec.with_}' is {right[rk]}",
                step=ctx.step_id,
                path=f"{ctx.path}.{'on' if spec.on else 'right_on'}[{i}]",
                hint="cast one side first so the keys have the same type",
            )
    suffix = spec.suffix
    same_names = bool(spec.on)

    def fn(frames: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
        if how == "cross":
            return frames[0].join(frames[1], how="cross", suffix=suffix)
        if same_names:
            return frames[0].join(
                frames[1],
                on=left_on,
                how=how,
                suffix=suffix,
                coalesce=True if how == "full" else None,
            )
        return frames[0].join(frames[1], left_on=left_on, right_on=right_on, how=how, suffix=suffix)

    return CompiledStep.single(ctx.step_id, fn)


def _keys(spec: Join, ctx: BuildContext) -> tuple[list[str], list[str]]:
    if spec.how == "cross":
        if spec.on or spec.left_on or spec.right_on:
            raise step_error(
                "invalid-value",
                "a cross join takes no keys",
                step=ctx.step_id,
                path=f"{ctx.path}.on" if spec.on else f"{ctx.path}.left_on",
            )
        return [], []
    if spec.on:
        if spec.left_on or spec.right_on:
            raise step_error(
                "invalid-value",
                "give either `on` or `left_on` and `right_on`, not both",
                step=ctx.step_id,
                path=f"{ctx.path}.on",
            )
        return list(spec.on), list(spec.on)
    if not spec.left_on or not spec.right_on:
        missing = "right_on" if spec.left_on else "left_on"
        raise step_error(
            "missing-field",
            f"a join needs `on`, or `left_on` and `right_on` (`{missing}` is missing)",
            step=ctx.step_id,
            path=f"{ctx.path}.{missing}" if spec.left_on or spec.right_on else f"{ctx.path}.on",
        )
    if len(spec.left_on) != len(spec.right_on):
        raise step_error(
            "invalid-value",
            f"`left_on` has {len(spec.left_on)} columns and `right_on` {len(spec.right_on)}",
            step=ctx.step_id,
            path=f"{ctx.path}.right_on",
        )
    return list(spec.left_on), list(spec.right_on)


def _comparable(a: pl.DataType, b: pl.DataType) -> bool:
    # Polars decides which key types it can match (numbers widen, str ≠ int)
    probe = pl.LazyFrame(schema={"k": a}).join(pl.LazyFrame(schema={"k": b}), on="k")
    try:
        probe.collect_schema()
    except pl.exceptions.PolarsError:
        return False
    return True


def build_union(spec: Union, ctx: BuildContext) -> CompiledStep:
    """Stack the ``with`` frames' rows under the input's.

    ``how: by_name`` matches columns by name (a column missing from a frame is null there;
    types widen to a common one); ``how: strict`` needs the same columns, in the same order,
    with the same types. ``distinct`` drops repeated rows (keeping the first).
    """
    base = ctx.schemas[0]
    for i, (name, other) in enumerate(zip(spec.with_, ctx.schemas[1:], strict=True)):
        path = f"{ctx.path}.with[{i}]"
        if spec.how == "strict":
            _same_schema(base, other, name, ctx, path)
        else:
            try:
                pl.concat(
                    [pl.LazyFrame(schema=base), pl.LazyFrame(schema=other)], how="diagonal_relaxed"
                ).collect_schema()
            except pl.exceptions.PolarsError as exc:
                raise step_error(
                    "schema-mismatch",
                    f"'{name}' cannot be stacked under the input: {str(exc).splitlines()[0]}",
                    step=ctx.step_id,
                    path=path,
                ) from None
    if spec.distinct and ctx.mode == "stream":
        raise step_error(
            "batch-only-step",
            "`distinct` would only see one micro-batch at a time",
            step=ctx.step_id,
            path=f"{ctx.path}.distinct",
            hint="add a dedupe step after the union: it keeps its keys across micro-batches",
        )
    strict = spec.how == "strict"
    distinct = spec.distinct

    def fn(frames: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
        out = pl.concat(list(frames), how="vertical" if strict else "diagonal_relaxed")
        return out.unique(maintain_order=True) if distinct else out

    return CompiledStep.single(ctx.step_id, fn)


def _same_schema(
    base: pl.Schema, other: pl.Schema, name: str, ctx: BuildContext, path: str
) -> None:
    if base == other:
        return
    left, right = list(base.names()), list(other.names())
    if set(left) != set(right):
        missing = [c for c in left if c not in other]
        extra = [c for c in right if c not in base]
        parts = ([f"lacks {', '.join(missing)}"] if missing else []) + (
            [f"has extra {', '.join(extra)}"] if extra else []
        )
        detail = " and ".join(parts)
    elif left != right:
        detail = f"has the columns in another order ({', '.join(right)})"
    else:
        col = next(c for c in left if base[c] != other[c])
        detail = f"has '{col}' as {other[col]}, the input as {base[col]}"
    raise step_error(
        "schema-mismatch",
        f"strict union: '{name}' {detail}",
        step=ctx.step_id,
        path=path,
        hint="use how: by_name to match columns by name and widen "
        "types, or select/cast the inputs first",
    )
