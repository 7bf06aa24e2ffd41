"""The seam between the executor and step implementations.

A :class:`StepKind` says what a step kind is (its spec model, where it may run) and how
to build it; building checks the step against its input schemas and returns a
:class:`CompiledStep`: pure functions from LazyFrames to LazyFrames, one per output
branch (``""`` is the main output; a route has one per branch; ``DEAD_LETTER`` carries
rejected rows).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl

Mode = Literal["batch", "stream"]
StepFn = Callable[[Sequence[pl.LazyFrame]], pl.LazyFrame]

MAIN = ""
DEAD_LETTER = "!dead_letter"

#: The dead-letter record, whatever produced it (a check, a cast, a parser, a late event):
#: the original record as JSON, why and where it was rejected, in this order and these types.
DEAD_LETTER_SCHEMA: dict[str, pl.DataType] = {
    "record": pl.String(),
    "reason": pl.String(),
    "code": pl.String(),
    "step": pl.String(),
    "check": pl.String(),
    "run_id": pl.String(),
    "source": pl.String(),
    "position": pl.String(),
    "ts": pl.Datetime("us", "UTC"),
}


@dataclass(frozen=True)
class BuildContext:
    """What a builder knows about the step it builds.

    Attributes:
        step_id: the step's id (given or defaulted).
        path: the step's field path in the document, e.g. ``steps[2]``.
        schemas: the schemas of the frames the step reads: its input first, then the
            ones named by ``with``, in order.
        mode: ``batch`` or ``stream``.
        base_dir: the pipeline's folder (files a step names are relative to it).
        home: the project home (caches a step keeps across runs live under it).
    """

    step_id: str
    path: str
    schemas: tuple[pl.Schema, ...]
    mode: Mode = "batch"
    base_dir: Path | None = None
    home: Path | None = None

    @property
    def schema(self) -> pl.Schema:
        """The main input's schema."""
        return self.schemas[0]


@dataclass(frozen=True)
class CompiledStep:
    """A built step: pure functions LazyFrame(s) → LazyFrame, one per output branch.

    Attributes:
        step_id: the step's id.
        outputs: ``{branch: fn}``; ``MAIN`` for an ordinary step's output.
        state: an object the step keeps for the run (a check's counters), or ``None``.
        operator: for a stateful step built in stream mode, a factory of its
            :class:`~ocht.transform.StreamOperator` (one per run), built from the same
            compiled expressions as the batch form; ``None`` for stateless steps. A plugin
            step becomes stateful by setting it.
        replayable: the main output may be computed again on a few of the step's input
            rows to show what it dropped and changed (``ocht trace``): it has no side
            effects, and a row it drops or changes in a slice of its input is dropped or
            changed the same way in the whole input (filter, derive, cast, dedupe; not
            a join, an aggregate, a model call or a fill by the column's mean).
    """

    step_id: str
    outputs: Mapping[str, StepFn]
    state: Any = None
    operator: Callable[[], Any] | None = None
    replayable: bool = False

    @classmethod
    def single(
        cls,
        step_id: str,
        fn: StepFn,
        *,
        state: Any = None,
        operator: Callable[[], Any] | None = None,
        replayable: bool = False,
    ) -> CompiledStep:
        """A step with one (main) output."""
        return cls(step_id, {MAIN: fn}, state, operator, replayable)

    def apply(self, frames: Sequence[pl.LazyFrame], branch: str = MAIN) -> pl.LazyFrame:
        """Run one branch over input frames."""
        return self.outputs[branch](frames)


Builder = Callable[[Any, BuildContext], CompiledStep]


@dataclass(frozen=True)
class StepKind:
    """A registered step kind.

    Attributes:
        name: the ``kind`` value in a pipeline.
        spec: the pydantic model of its options.
        build: checks a spec against input schemas and returns a :class:`CompiledStep`.
        summary: one line for ``ocht list steps``.
        batch: runs in batch mode.
        stream: runs in stream mode.
        stateful: keeps state across micro-batches in stream mode.
        stream_hint: for batch-only kinds, what to use in stream mode instead.
        inputs: how many frames it reads (1, or ``None`` for "input + ``with``").
    """

    name: str
    spec: type[Any]
    build: Builder
    summary: str = ""
    batch: bool = True
    stream: bool = True
    stateful: bool = False
    stream_hint: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def capabilities(self) -> tuple[str, ...]:
        """``batch``, ``stream``, ``stateful`` as they apply."""
        caps = [
            c
            for c, on in (
                ("batch", self.batch),
                ("stream", self.stream),
                ("stateful", self.stateful),
            )
            if on
        ]
        return tuple(caps)
