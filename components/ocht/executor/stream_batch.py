"""One micro-batch through the plan's steps, partition by partition.

Stateless steps run exactly as in batch mode, lazily. When the plan has stateful steps,
the batch is first split by source partition and each partition's rows flow through the
steps on their own (Kafka Streams' tasks): a stateful step gets its input one partition
at a time (``part``), so its state, event time and watermark are per partition. What a
stateful step emits belongs to no partition (``""``); steps after it see one frame.
Bounded inputs (lookups) are shared by every partition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from ocht.executor.contracts import CONTRACT_CODE, contract_of, enforce, rejects_key
from ocht.executor.counting import Counters
from ocht.executor.dead_letters import normalize_dead_letters
from ocht.executor.plan import Plan
from ocht.executor.stream_dead import late_letters
from ocht.transform import DEAD_LETTER, UNPARTITIONED, StreamOperator

_PART = "__ocht_part"
Parts = dict[str, pl.LazyFrame]


@dataclass
class Transformed:
    """A batch after the steps: per output its frame, dead letters, row counts."""

    targets: list[pl.LazyFrame]
    dead_parts: list[pl.LazyFrame]
    counts: dict[str, int]
    counters: Counters
    #: partitions whose state changed (``None``: possibly every held one)
    dirty: set[str] | None = field(default_factory=set)

    def rows_of(self, name: str) -> int:
        return self.counts[name] if name in self.counts else self.counters.get(name)


def _merged(parts: Parts) -> pl.LazyFrame:
    frames = list(parts.values())
    return frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical_relaxed")


def split(frame: pl.DataFrame, parts: list[str] | None) -> dict[str, pl.DataFrame]:
    """``frame`` cut by each row's partition (one piece when not tracked)."""
    if parts is None or frame.height == 0 or len(parts) != frame.height:
        return {UNPARTITIONED: frame}
    pieces = frame.with_columns(pl.Series(_PART, parts)).partition_by(
        _PART, as_dict=True, include_key=False, maintain_order=True
    )
    return {str(k[0]): v for k, v in pieces.items()}


def transform(
    plan: Plan,
    input_name: str,
    pieces: dict[str, pl.DataFrame],
    lookups: dict[str, pl.LazyFrame],
    ops: dict[str, StreamOperator],
    *,
    now: float,
    phase: str,
) -> Transformed:
    """Run the plan's steps over one batch (``pieces``: the input by partition)."""
    run_id = plan.context.run_id
    counters = Counters()
    dead_parts: list[pl.LazyFrame] = []
    counts = {input_name: sum(p.height for p in pieces.values())}
    source: Parts = {part: df.lazy() for part, df in pieces.items()}
    contract = contract_of(plan.pipeline.inputs[input_name])
    if contract is not None:  # checked per micro-batch: a stream's schema can drift
        for part, lf in list(source.items()):
            shaped, rejects = enforce(lf, input_name, contract, plan.schemas[input_name])
            source[part] = shaped
            if rejects is not None:
                dead_parts.append(
                    normalize_dead_letters(
                        rejects,
                        run_id=run_id,
                        step=rejects_key(input_name),
                        source=input_name,
                        code=CONTRACT_CODE,
                    )
                )
    frames: dict[str, Parts] = {input_name: source}
    frames.update({n: {UNPARTITIONED: lf} for n, lf in lookups.items()})
    dirty: set[str] | None = set(pieces) if phase == "batch" else None
    for step in plan.steps:
        main = frames[step.reads[0]]
        op = ops.get(step.id)
        if op is None:
            others = [_merged(frames[r]) for r in step.reads[1:]]
            for part, lf in main.items():
                for branch, name in step.frame_names().items():
                    out = step.compiled.apply([lf, *others], branch)
                    if branch == DEAD_LETTER:
                        dead_parts.append(
                            normalize_dead_letters(
                                out, run_id=run_id, step=step.id, source=input_name
                            )
                        )
                    else:
                        frames.setdefault(name, {})[part] = counters.wrap(name, out)
            continue
        names = list(main)
        collected = pl.collect_all([main[n] for n in names])
        emitted: list[pl.DataFrame] = []
        for part, df in zip(names, collected, strict=True):
            if not df.height:
                continue
            result = op.process(df, now=now, part=part)
            emitted.append(result.rows)
            if result.late is not None and result.late.height:
                dead_parts.append(late_letters(result.late, step.id).lazy())
        extra = op.on_idle(now=now) if phase == "idle" else op.flush() if phase == "flush" else None
        if extra is not None:
            emitted.append(extra)
        emitted = [e for e in emitted if e.width and e.height]
        if emitted and dirty is not None and _emits_windows(op):
            dirty = None  # an emitted window left every partition's state
        if dirty is not None:
            dirty.add(UNPARTITIONED)
        rows = (
            pl.concat(emitted, how="vertical_relaxed")
            if emitted
            else pl.DataFrame(schema=plan.schemas[step.id])
        )
        frames[step.id] = {UNPARTITIONED: rows.lazy()}
        counts[step.id] = rows.height
    targets = [_merged(frames[o.reads]) for o in plan.outputs]
    return Transformed(targets, dead_parts, counts, counters, dirty)


def _emits_windows(op: Any) -> bool:
    return hasattr(op, "emitted")


def copartitioning(plan: Plan, input_name: str, ops: dict[str, StreamOperator]) -> list[str]:
    """The stateful steps whose groups may span partitions: their keys do not include
    what the input declares it is ``partitioned_by``.

    State is per source partition and a worker merges the partitions it holds, so these
    steps give the batch answer on one worker; with several workers in one group, a
    group split across partitions held by different workers would be emitted in parts.
    """
    declared = set(getattr(plan.pipeline.inputs[input_name], "partitioned_by", None) or ())
    loose = []
    for step in plan.steps:
        if step.id not in ops:
            continue
        keys = set(getattr(step.spec, "by", None) or getattr(step.spec, "keys", None) or ())
        if not declared or not declared <= keys:
            loose.append(step.id)
    return loose
