"""Compile a pipeline into a :class:`Plan`: connectors resolved, steps built and checked.

Compiling reads input schemas (a file header, a table's columns) but no data. Every
problem found is reported at once, each with its field path and, for files, its line; a
step whose input could not be resolved is skipped so one mistake is reported once.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from ocht.config import LoadedPipeline
from ocht.errors import ConnectorError, InvalidPipeline, Issue, OchtError
from ocht.executor.contracts import contract_of, planned_schema
from ocht.executor.resolve import (
    check_targets,
    input_files,
    locate,
    other_inputs,
    plugin_options,
    resolve_connector,
    target_of,
)
from ocht.executor.services import RunStore
from ocht.pipeline_model import Pipeline, resolve_input, resolve_output_source
from ocht.registry import (
    CancelToken,
    ConnectorType,
    Mode,
    Registry,
    RunContext,
    Sink,
    Source,
    default_registry,
)
from ocht.transform import MAIN, BuildContext, CompiledStep, StepKind, check_schema


@dataclass(frozen=True)
class PlannedStep:
    """A step ready to run: its id, kind, the frames it reads and its compiled functions."""

    id: str
    kind: StepKind
    spec: Any
    reads: tuple[str, ...]
    compiled: CompiledStep
    path: str

    def frame_names(self) -> dict[str, str]:
        """``{branch: frame name}``: the step id for the main output, ``id.branch`` else."""
        return {b: self.id if b == MAIN else f"{self.id}.{b}" for b in self.compiled.outputs}


@dataclass(frozen=True)
class PlannedOutput:
    """An output ready to open: its sink and the frame it writes."""

    name: str
    reads: str
    connector: ConnectorType
    sink: Sink


@dataclass(frozen=True)
class Plan:
    """A compiled pipeline, bound to one run's context.

    A plan is never changed after compiling; ``schemas_to_record`` holds the input
    schemas that the run records in the store when (and only when) it commits.
    """

    pipeline: Pipeline
    context: RunContext
    mode: Mode
    sources: dict[str, Source]
    steps: list[PlannedStep]
    outputs: list[PlannedOutput]
    schemas: dict[str, pl.Schema]
    dead_letter: PlannedOutput | None = None
    profile: str | None = None
    secrets: frozenset[str] = field(default_factory=frozenset)
    schemas_to_record: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def describe(self) -> str:
        """The step graph as text (what ``--explain`` prints before Polars' plan)."""
        lines = [f"pipeline {self.pipeline.name} ({self.mode})"]
        for name, src in self.sources.items():
            lines.append(f"  input  {name}: {src.describe()}  {_cols(self.schemas[name])}")
        for step in self.steps:
            outs = ", ".join(step.frame_names().values())
            lines.append(
                f"  step   {step.id} [{step.kind.name}] reads {', '.join(step.reads)} -> {outs}"
            )
        for out in self.outputs:
            lines.append(f"  output {out.name}: {out.sink.describe()} <- {out.reads}")
        return "\n".join(lines)


def _cols(schema: pl.Schema) -> str:
    names = list(schema.names())
    shown = ", ".join(f"{n}:{schema[n]}" for n in names[:8])
    return f"({shown}{', ...' if len(names) > 8 else ''})"


def new_run_id(now: datetime | None = None) -> str:
    """A sortable run id: UTC time plus random suffix, e.g. ``20240101T101500-3f9a2c``."""
    return f"{now or datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def make_context(
    loaded: LoadedPipeline | Pipeline,
    *,
    mode: Mode = "batch",
    run_id: str | None = None,
    home: str | Path = ".ocht",
    full_refresh: bool = False,
    state: Mapping[str, Any] | None = None,
    cancel: CancelToken | None = None,
) -> RunContext:
    """The run context for a loaded pipeline (paths relative to its file's folder)."""
    pipeline = loaded.pipeline if isinstance(loaded, LoadedPipeline) else loaded
    base = loaded.base_dir if isinstance(loaded, LoadedPipeline) else Path.cwd()
    rid = run_id or new_run_id()
    return RunContext(
        run_id=rid,
        pipeline=pipeline.name,
        base_dir=base,
        run_dir=Path(home).resolve() / "runs" / rid,
        mode=mode,
        full_refresh=full_refresh,
        state=dict(state or {}),
        cancel=cancel or CancelToken(),
    )


@dataclass
class _Compiling:
    """What the compile passes share: the registry, the context, the issues found."""

    reg: Registry
    pipeline: Pipeline
    ctx: RunContext
    mode: Mode
    store: RunStore | None
    issues: list[Issue] = field(default_factory=list)
    schemas: dict[str, pl.Schema] = field(default_factory=dict)
    to_record: dict[str, dict[str, str]] = field(default_factory=dict)
    #: inputs whose schema could not be read (an unreachable source): raised as they are
    #: when the document has no other problem, else listed beside those problems
    unreachable: list[OchtError] = field(default_factory=list)
    issues_only_if_others: list[Issue] = field(default_factory=list)


def compile_plan(
    loaded: LoadedPipeline | Pipeline,
    *,
    mode: Mode = "batch",
    registry: Registry | None = None,
    context: RunContext | None = None,
    store: RunStore | None = None,
) -> Plan:
    """Resolve connectors and build every step against its input schema.

    Compiling reads input schemas (and, with ``store``, the schemas recorded by earlier
    runs) but writes nothing.

    Args:
        loaded: a loaded pipeline (from :func:`ocht.config.load_pipeline`) or a model.
        mode: ``batch`` or ``stream`` (batch-only steps are refused for stream).
        registry: where step kinds and connectors are looked up (default: built-ins
            plus plugins).
        context: the run context (default: a new one).
        store: where schema contracts find the schemas of earlier runs.

    Raises:
        InvalidPipeline: every problem found, located in the document when there is one.
        OchtError: a source could not be opened to read its schema.
    """
    pipeline = loaded.pipeline if isinstance(loaded, LoadedPipeline) else loaded
    document = loaded.document if isinstance(loaded, LoadedPipeline) else None
    c = _Compiling(
        registry or default_registry(),
        pipeline,
        context or make_context(loaded, mode=mode),
        mode,
        store,
    )
    connectors = _connectors(c)
    sources = _sources(c, connectors)
    steps = _steps(c)
    outputs, dead_output = _outputs(c, connectors)
    _targets(c, sources, connectors)
    if c.issues:
        for source in sources.values():
            source.close()
        raise InvalidPipeline.from_issues(
            locate([*c.issues, *c.issues_only_if_others], document),
            file=document.file if document else None,
        )
    if c.unreachable:
        for source in sources.values():
            source.close()
        raise c.unreachable[0]
    return Plan(
        pipeline,
        c.ctx,
        mode,
        sources,
        steps,
        outputs,
        c.schemas,
        dead_output,
        loaded.profile if isinstance(loaded, LoadedPipeline) else None,
        loaded.secrets if isinstance(loaded, LoadedPipeline) else frozenset(),
        c.to_record,
    )


def _connectors(c: _Compiling) -> dict[str, tuple[ConnectorType, Any]]:
    found: dict[str, tuple[ConnectorType, Any]] = {}
    for section, specs, need in (
        ("inputs", c.pipeline.inputs, "source"),
        ("outputs", c.pipeline.outputs, "sink"),
    ):
        for name, spec in specs.items():
            hit = resolve_connector(c.reg, spec, f"{section}.{name}", need, c.mode, c.issues)
            if hit:
                found[f"{section}.{name}"] = hit
    if c.pipeline.dead_letter is not None:
        hit = resolve_connector(
            c.reg, c.pipeline.dead_letter, "dead_letter", "sink", c.mode, c.issues
        )
        if hit:
            found["dead_letter"] = hit
    return found


def _sources(c: _Compiling, connectors: dict[str, tuple[ConnectorType, Any]]) -> dict[str, Source]:
    sources: dict[str, Source] = {}
    for name in c.pipeline.inputs:
        if f"inputs.{name}" not in connectors:
            continue
        conn, spec = connectors[f"inputs.{name}"]
        assert conn.source is not None
        source = conn.source(spec, name=name, context=c.ctx)
        sources[name] = source
        try:
            c.schemas[name] = source.schema()
            contract = contract_of(spec)
            if contract is not None:  # a frozen schema breaks here, before reading data
                schema, record = planned_schema(name, contract, c.schemas[name], c.ctx, c.store)
                c.schemas[name] = schema
                if record is not None:
                    c.to_record[f"input:{name}"] = record
        except InvalidPipeline as exc:
            c.issues.extend(exc.issues)
        except OchtError as exc:
            c.unreachable.append(exc)
            c.issues_only_if_others.append(
                Issue(exc.code, exc.message, f"inputs.{name}", hint=exc.hint)
            )
        except (pl.exceptions.PolarsError, OverflowError, RecursionError, ValueError) as exc:
            # the engine could not make sense of the data (not Parquet, a truncated file,
            # JSON too deep or with a number too large): a stable answer naming the input
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            err = ConnectorError(
                f"input '{name}' ({source.describe()}) cannot be read: {text}",
                code="unreadable-input",
                hint=f"check that it holds valid {spec.type} data",
                input=name,
            )
            c.unreachable.append(err)
            c.issues_only_if_others.append(
                Issue(err.code, err.message, f"inputs.{name}", hint=err.hint)
            )
    return sources


def _steps(c: _Compiling) -> list[PlannedStep]:
    steps: list[PlannedStep] = []
    step_spec: Any
    for i, (step_spec, sid) in enumerate(zip(c.pipeline.steps, c.pipeline.step_ids(), strict=True)):
        path = f"steps[{i}]"
        try:
            kind = c.reg.step(step_spec.kind, path=f"{path}.kind")
        except InvalidPipeline as exc:
            c.issues.extend(exc.issues)
            continue
        if c.mode == "stream" and not kind.stream:
            c.issues.append(
                Issue(
                    "batch-only-step",
                    f"step '{sid}' ({kind.name}) cannot run on a stream: it needs all rows at once",
                    f"{path}.kind",
                    hint=kind.stream_hint,
                )
            )
            continue
        step_spec = plugin_options(step_spec, kind, path, c.issues)
        if step_spec is None:
            continue
        reads = (resolve_input(c.pipeline, i), *other_inputs(step_spec))
        if any(r not in c.schemas for r in reads):
            continue  # an earlier problem already explains this one
        planned = _step(c, sid, kind, step_spec, reads, path)
        if planned is not None:
            steps.append(planned)
    return steps


def _step(
    c: _Compiling, sid: str, kind: StepKind, spec: Any, reads: tuple[str, ...], path: str
) -> PlannedStep | None:
    """One step built and its output schemas checked (``None`` with issues)."""
    bctx = BuildContext(
        sid,
        path,
        tuple(c.schemas[r] for r in reads),
        c.mode,
        base_dir=c.ctx.base_dir,
        home=c.ctx.run_dir.parent.parent,  # run folders are <home>/runs/<run id>
    )
    try:
        compiled = kind.build(spec, bctx)
        planned = PlannedStep(sid, kind, spec, reads, compiled, path)
        empties = [pl.LazyFrame(schema=s) for s in bctx.schemas]
        for branch, frame_name in planned.frame_names().items():
            c.schemas[frame_name] = check_schema(
                compiled.apply(empties, branch), bctx.schema, text=spec.kind, step=sid, path=path
            )
    except InvalidPipeline as exc:
        c.issues.extend(exc.issues or [Issue(exc.code, exc.message, path)])
        return None
    return planned


def _outputs(
    c: _Compiling, connectors: dict[str, tuple[ConnectorType, Any]]
) -> tuple[list[PlannedOutput], PlannedOutput | None]:
    outputs: list[PlannedOutput] = []
    for name in c.pipeline.outputs:
        if f"outputs.{name}" not in connectors:
            continue
        conn, spec = connectors[f"outputs.{name}"]
        assert conn.sink is not None
        source_ref = resolve_output_source(c.pipeline, name)
        sink = conn.sink(spec, name=name, context=c.ctx)
        outputs.append(PlannedOutput(name, source_ref, conn, sink))
    dead = connectors.get("dead_letter")
    dead_output = None
    if dead is not None and dead[0].sink is not None:
        sink = dead[0].sink(dead[1], name="dead_letter", context=c.ctx)
        dead_output = PlannedOutput("dead_letter", "", dead[0], sink)
    return outputs, dead_output


def _targets(
    c: _Compiling, sources: dict[str, Source], connectors: dict[str, tuple[ConnectorType, Any]]
) -> None:
    """Refuse two outputs writing one place, and an output overwriting an input."""
    outs = {
        key: target_of(spec, c.ctx)
        for key, (_, spec) in connectors.items()
        if key.startswith("outputs.") or key == "dead_letter"
    }
    if not any(outs.values()):
        return
    ins = {name: target_of(connectors[f"inputs.{name}"][1], c.ctx) for name in sources}
    files = {name: input_files(src) for name, src in sources.items() if name in c.schemas}
    c.issues.extend(check_targets(outs, ins, files))
