"""Dead letters from every producer, brought to one format before they are written.

Batch and stream runs use the same normaliser. A step's ``DEAD_LETTER`` branch (or a
source's ``dead_letters()``) gives what it knows; :func:`normalize_dead_letters` fills
the rest so every dead letter has the same columns, whatever rejected it (documented in
:mod:`ocht.quality.records`):

``record, reason, code, step, check, run_id, source, position, ts``

``record`` is always JSON text: the producer's original columns as a JSON object (a
producer's columns outside that list are taken as the record), or, for a raw line a
source could not parse, that line as a JSON string. Written as NDJSON it is an object
(:mod:`ocht.executor.dead_files`). ``reason`` goes through the one redaction.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from ocht.executor.contracts import CONTRACT_CODE, rejects_key
from ocht.executor.counting import Counters
from ocht.executor.plan import Plan
from ocht.executor.samples import Samples
from ocht.observability import MASK, registered_secrets
from ocht.transform import DEAD_LETTER, DEAD_LETTER_SCHEMA

#: The dead-letter columns, in order, with their types.
DEAD_LETTER_COLUMNS = DEAD_LETTER_SCHEMA

#: Position columns a stream source may add; kept beside the standard ones.
POSITION_COLUMNS: dict[str, pl.DataType] = {
    "topic": pl.String(),
    "partition": pl.Int32(),
    "offset": pl.Int64(),
}


def json_text(expr: pl.Expr) -> pl.Expr:
    """A string column as JSON string literals (``a"b`` → ``"a\\"b"``), vectorised."""
    encoded = pl.struct(expr.alias("r")).struct.json_encode()
    return encoded.str.strip_prefix('{"r":').str.strip_suffix("}")


def redacted(expr: pl.Expr) -> pl.Expr:
    """``expr`` (strings) with every registered secret masked."""
    secrets = sorted(registered_secrets(), key=len, reverse=True)
    return expr.str.replace_many(secrets, [MASK] * len(secrets)) if secrets else expr


def normalize_dead_letters(
    frame: pl.LazyFrame,
    *,
    run_id: str,
    step: str,
    source: str | None,
    code: str = "rejected",
    record_is_json: bool = True,
    keep_positions: bool = False,
) -> pl.LazyFrame:
    """``frame`` as dead-letter records with exactly :data:`DEAD_LETTER_COLUMNS`.

    Args:
        frame: what the producer gave.
        run_id: this run.
        step: the producer (a step id, or ``input:<name>``), used when ``step`` is absent.
        source: the input the records came from, used when ``source`` is absent.
        code: used when ``code`` is absent.
        record_is_json: whether a ``record`` the producer gave is JSON already (false
            for raw lines, which become JSON strings).
        keep_positions: keep a stream source's ``topic``, ``partition``, ``offset``.

    Example:
        >>> lf = pl.LazyFrame({"a": [1], "reason": ["bad"]})
        >>> out = normalize_dead_letters(lf, run_id="r", step="s", source="in").collect()
        >>> out.select("record", "reason", "code", "step", "source").row(0)
        ('{"a":1}', 'bad', 'rejected', 's', 'in')
    """
    schema = frame.collect_schema()
    names = schema.names()
    extra = [n for n in names if n not in DEAD_LETTER_COLUMNS and n not in POSITION_COLUMNS]
    defaults: dict[str, pl.Expr] = {
        "record": (pl.struct(extra).struct.json_encode() if extra else pl.lit(None)),
        "reason": pl.lit(None),
        "code": pl.lit(code),
        "step": pl.lit(step),
        "check": pl.lit(None),
        "run_id": pl.lit(run_id),
        "source": pl.lit(source),
        "position": pl.lit(None),
        "ts": pl.lit(datetime.now(UTC)),
    }
    if "position" not in names and {"topic", "partition", "offset"} <= set(names):
        defaults["position"] = pl.format("{}:{}:{}", "topic", "partition", "offset")
    columns = {**DEAD_LETTER_COLUMNS, **(POSITION_COLUMNS if keep_positions else {})}
    cols = []
    for name, dtype in columns.items():
        expr = pl.col(name) if name in names else defaults.get(name, pl.lit(None))
        if name == "record" and name in names:
            text = pl.col(name).cast(pl.String)
            expr = text if record_is_json else json_text(text)
        if name == "reason":
            expr = redacted(expr.cast(pl.String))
        cols.append(expr.cast(dtype).alias(name))
    return frame.select(cols)


def origin(plan: Plan, step_id: str) -> str | None:
    """The input a step's rows come from (following each step's main input back)."""
    by_id = {s.id: s for s in plan.steps}
    name = step_id
    seen = set()
    while name in by_id and name not in seen:
        seen.add(name)
        name = by_id[name].reads[0]
    name = name.split(".", 1)[0] if name not in plan.sources else name
    return name if name in plan.sources else None


def dead_letter_frame(
    plan: Plan,
    frames: dict[str, pl.LazyFrame],
    counters: Counters | None = None,
    samples: Samples | None = None,
) -> tuple[pl.LazyFrame | None, list[str]]:
    """Every producer's dead letters, normalized and stacked; and the producers' names.

    Producers are steps with a ``DEAD_LETTER`` branch (named by step id) and sources with
    a ``dead_letters()`` method returning a lazy frame or ``None`` (named ``input:NAME``).
    With ``counters``, each producer's rows are counted as ``dead:<producer>``; with
    ``samples``, its first records are kept for the trace.
    """
    run_id = plan.context.run_id
    parts: list[pl.LazyFrame] = []
    producers: list[str] = []
    for s in plan.steps:
        if DEAD_LETTER not in s.compiled.outputs:
            continue
        part = normalize_dead_letters(
            frames[f"{s.id}.{DEAD_LETTER}"], run_id=run_id, step=s.id, source=origin(plan, s.id)
        )
        tap = samples.dead_tap(s.id) if samples else None
        parts.append(counters.wrap(f"dead:{s.id}", part, tap=tap) if counters else part)
        producers.append(s.id)
    for name, src in plan.sources.items():
        found = src.dead_letters()
        if not isinstance(found, pl.LazyFrame):
            continue
        producer = f"input:{name}"
        part = normalize_dead_letters(
            found,
            run_id=run_id,
            step=producer,
            source=name,
            code="unreadable-record",
            record_is_json=False,
        )
        tap = samples.dead_tap(producer) if samples else None
        parts.append(counters.wrap(f"dead:{producer}", part, tap=tap) if counters else part)
        producers.append(producer)
    for name in plan.sources:  # rows refused by a discard_row schema contract
        if rejects_key(name) not in frames:
            continue
        producer = rejects_key(name)
        part = normalize_dead_letters(
            frames[producer], run_id=run_id, step=producer, source=name, code=CONTRACT_CODE
        )
        tap = samples.dead_tap(producer) if samples else None
        parts.append(counters.wrap(f"dead:{producer}", part, tap=tap) if counters else part)
        producers.append(producer)
    if not parts:
        return None, []
    return (parts[0] if len(parts) == 1 else pl.concat(parts, how="vertical")), producers
