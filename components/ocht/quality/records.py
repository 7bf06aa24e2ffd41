"""The dead-letter record: one format whatever rejected the record.

Every dead letter, from a check, a cast, a parser or a late stream record, has these
columns (the executor fills the ones the producer does not know):

=========  =====================  ===================================================
column     type                   meaning
=========  =====================  ===================================================
record     string                 the original record as a JSON object (or the raw
                                  line when it could not be parsed)
reason     string                 what was wrong, for people
code       string                 stable code: ``check-failed``, ``malformed-line``,
                                  ``bad-json``, ``cast-failed``, ``late-record`` ...
step       string                 the step id (or ``input:<name>`` for a source)
check      string                 the failing check's name(s), comma-separated, or null
run_id     string                 the run
source     string                 the input the record came from
position   string                 where in it, when known: ``file:line`` or
                                  ``topic/partition/offset``
ts         datetime[us, UTC]      when it was rejected
=========  =====================  ===================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl


def with_values(reason: str, columns: Sequence[str] | Mapping[str, pl.Expr]) -> pl.Expr:
    """``reason`` followed by each column and its value on the row: ``... (amount=-5)``.

    Args:
        reason: the check's reason.
        columns: the columns the check looks at (or each one's value expression, when
            the value to show is not the column's current one, as after a fix).

    Example:
        >>> df = pl.DataFrame({"amount": [-5], "id": [None]})
        >>> df.select(with_values("outside [0, inf]", ["amount", "id"])).item()
        'outside [0, inf] (amount=-5, id=null)'
    """
    values = columns if isinstance(columns, Mapping) else {c: pl.col(c) for c in columns}
    parts = [
        pl.concat_str([pl.lit(f"{c}="), v.cast(pl.String).fill_null("null")])
        for c, v in values.items()
    ]
    if not parts:
        return pl.lit(reason)
    return pl.concat_str([pl.lit(f"{reason} ("), pl.concat_str(parts, separator=", "), pl.lit(")")])


def record_columns(
    original: list[pl.Expr],
    *,
    step: str,
    reasons: Sequence[tuple[pl.Expr, str | pl.Expr, str]],
    code: str = "check-failed",
) -> list[pl.Expr]:
    """The producer's part of a dead-letter record, as expressions over failing rows.

    Args:
        original: the original columns (JSON-encoded together into ``record``).
        step: the step id.
        reasons: ``(flag, reason, check name)`` per check; every check whose flag is
            true on a row is named in ``reason`` and ``check``. A reason may be an
            expression (:func:`with_values` names the columns and their values).
        code: the stable code.

    Example:
        >>> df = pl.DataFrame({"a": [None]})
        >>> cols = record_columns([pl.col("a")], step="s",
        ...                       reasons=[(pl.col("a").is_null(), "a is null", "nn")])
        >>> df.select(cols).row(0)
        ('{"a":null}', 'a is null', 'check-failed', 's', 'nn')
    """

    def joined(parts: list[pl.Expr], sep: str) -> pl.Expr:
        return pl.concat_str(parts, separator=sep, ignore_nulls=True)

    return [
        pl.struct(original).struct.json_encode().alias("record"),
        joined(
            [pl.when(f).then(r if isinstance(r, pl.Expr) else pl.lit(r)) for f, r, _ in reasons],
            "; ",
        ).alias("reason"),
        pl.lit(code).alias("code"),
        pl.lit(step).alias("step"),
        joined([pl.when(f).then(pl.lit(n)) for f, _, n in reasons], ",").alias("check"),
    ]
