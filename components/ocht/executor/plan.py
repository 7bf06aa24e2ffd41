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
from pydantic import BaseModel, ValidationError

from ocht.config import LoadedPipeline
from ocht.errors import InvalidPipeline, Issue, OchtError
from ocht.executor.contracts import contract_of, planned_schema
from ocht.pipeline_model import (
    Document,
    Join,
    Pipeline,
    PluginConnector,
    PluginStep,
    Union,
    format_path,
    resolve_input,
    resolve_output_source,
)
from ocht.registry import ConnectorType, Mode, Registry, RunContext, Sink, Source, default_registry
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


@dataclass
class Plan:
    """A compiled pipeline, bound to one run's context."""

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


def new_run_id() -> str:
    """A sortable run id: UTC time plus random suffix, e.g. ``20240101T101500-3f9a2c``."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def make_context(
    loaded: LoadedPipeline | Pipeline,
    *,
    mode: Mode = "batch",
    run_id: str | None = None,
    home: str | Path = ".ocht",
    options: Mapping[str, Any] | None = None,
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
        options=dict(options or {}),
    )


def compile_plan(
    loaded: LoadedPipeline | Pipeline,
    *,
    mode: Mode = "batch",
    registry: Registry | None = None,
    context: RunContext | None = None,
) -> Plan:
    """Resolve connectors and build every step against its input schema.

    Args:
        loaded: a loaded pipeline (from :func:`ocht.config.load_pipeline`) or a model.
        mode: ``batch`` or ``stream`` (batch-only steps are refused for stream).
        registry: where step kinds and connectors are looked up (default: built-ins
            plus plugins).
        context: the run context (default: a new one).

    Raises:
        InvalidPipeline: every problem found, located in the document when there is one.
        OchtError: a source could not be opened to read its schema.
    """
    reg = registry or default_registry()
    pipeline = loaded.pipeline if isinstance(loaded, LoadedPipeline) else loaded
    document = loaded.document if isinstance(loaded, LoadedPipeline) else None
    ctx = context or make_context(loaded, mode=mode)
    issues: list[Issue] = []

    connectors: dict[str, tuple[ConnectorType, Any]] = {}
    for section, specs, need in (
        ("inputs", pipeline.inputs, "source"),
        ("outputs", pipeline.outputs, "sink"),
    ):
        for name, spec in specs.items():
            found = _connector(reg, spec, f"{section}.{name}", need, mode, issues)
            if found:
                connectors[f"{section}.{name}"] = found
    dead: tuple[ConnectorType, Any] | None = None
    if pipeline.dead_letter is not None:
        dead = _connector(reg, pipeline.dead_letter, "dead_letter", "sink", mode, issues)

    sources: dict[str, Source] = {}
    schemas: dict[str, pl.Schema] = {}
    for name in pipeline.inputs:
        if f"inputs.{name}" not in connectors:
            continue
        conn, spec = connectors[f"inputs.{name}"]
        assert conn.source is not None
        source = conn.source(spec, name=name, context=ctx)
        sources[name] = source
        try:
            schemas[name] = source.schema()
            contract = contract_of(spec)
            if contract is not None:  # a frozen schema breaks here, before reading data
                schemas[name] = planned_schema(name, contract, schemas[name], ctx)
        except OchtError as exc:
            if isinstance(exc, InvalidPipeline):
                issues.extend(exc.issues)
                continue
            raise

    steps: list[PlannedStep] = []
    step_spec: Any
    for i, (step_spec, sid) in enumerate(zip(pipeline.steps, pipeline.step_ids(), strict=True)):
        path = f"steps[{i}]"
        try:
            kind = reg.step(step_spec.kind, path=f"{path}.kind")
        except InvalidPipeline as exc:
            issues.extend(exc.issues)
            continue
        if mode == "stream" and not kind.stream:
            issues.append(
                Issue(
                    "batch-only-step",
                    f"step '{sid}' ({kind.name}) cannot run on a stream: it needs all rows at once",
                    f"{path}.kind",
                    hint=kind.stream_hint,
                )
            )
            continue
        step_spec = _plugin_options(step_spec, kind, path, issues)
        if step_spec is None:
            continue
        reads = (resolve_input(pipeline, i), *_others(step_spec))
        if any(r not in schemas for r in reads):
            continue  # an earlier problem already explains this one
        bctx = BuildContext(
            sid,
            path,
            tuple(schemas[r] for r in reads),
            mode,
            base_dir=ctx.base_dir,
            home=ctx.run_dir.parent.parent,
        )
        try:
            compiled = kind.build(step_spec, bctx)
            planned = PlannedStep(sid, kind, step_spec, reads, compiled, path)
            empties = [pl.LazyFrame(schema=s) for s in bctx.schemas]
            for branch, frame_name in planned.frame_names().items():
                schemas[frame_name] = check_schema(
                    compiled.apply(empties, branch),
                    bctx.schema,
                    text=step_spec.kind,
                    step=sid,
                    path=path,
                )
        except InvalidPipeline as exc:
            issues.extend(exc.issues or [Issue(exc.code, exc.message, path)])
            continue
        steps.append(planned)

    outputs: list[PlannedOutput] = []
    for name in pipeline.outputs:
        if f"outputs.{name}" not in connectors:
            continue
        conn, spec = connectors[f"outputs.{name}"]
        assert conn.sink is not None
        source_ref = resolve_output_source(pipeline, name)
        outputs.append(
            PlannedOutput(name, source_ref, conn, conn.sink(spec, name=name, context=ctx))
        )
    dead_output = None
    if dead is not None and dead[0].sink is not None:
        dead_output = PlannedOutput(
            "dead_letter", "", dead[0], dead[0].sink(dead[1], name="dead_letter", context=ctx)
        )

    if issues:
        raise InvalidPipeline.from_issues(
            _locate(issues, document), file=document.file if document else None
        )
    return Plan(
        pipeline,
        ctx,
        mode,
        sources,
        steps,
        outputs,
        schemas,
        dead_output,
        loaded.profile if isinstance(loaded, LoadedPipeline) else None,
        loaded.secrets if isinstance(loaded, LoadedPipeline) else frozenset(),
    )


def _others(spec: Any) -> tuple[str, ...]:
    if isinstance(spec, Join):
        return (spec.with_,)
    if isinstance(spec, Union):
        return tuple(spec.with_)
    extra = getattr(spec, "with_", None) or (spec.model_extra or {}).get("with")
    if isinstance(extra, str):
        return (extra,)
    return tuple(extra) if isinstance(extra, list | tuple) else ()


def _connector(
    reg: Registry, spec: Any, path: str, need: str, mode: Mode, issues: list[Issue]
) -> tuple[ConnectorType, Any] | None:
    try:
        conn = reg.connector(spec.type, path=f"{path}.type")
    except InvalidPipeline as exc:
        issues.extend(exc.issues)
        return None
    except OchtError as exc:
        issues.append(Issue(exc.code, exc.message, f"{path}.type", hint=exc.hint))
        return None
    if getattr(conn, need) is None:
        role = "read" if need == "source" else "written"
        issues.append(
            Issue(
                "unsupported-connector",
                f"a '{conn.name}' connector cannot be {role}",
                f"{path}.type",
            )
        )
        return None
    # a stream run reads batch inputs once, as lookups, and appends dead letters to files
    bounded = mode == "stream" and conn.batch and (need == "source" or path == "dead_letter")
    if not (conn.stream if mode == "stream" else conn.batch) and not bounded:
        issues.append(
            Issue(
                "unsupported-connector",
                f"the '{conn.name}' connector does not run in {mode} mode",
                f"{path}.type",
            )
        )
        return None
    if isinstance(spec, PluginConnector) or type(spec) is not conn.spec:
        try:
            spec = conn.spec.model_validate(spec.model_dump(by_alias=True, exclude_unset=True))
        except ValidationError as exc:
            issues.extend(_pydantic_issues(exc, path))
            return None
    return conn, spec


def _plugin_options(spec: Any, kind: StepKind, path: str, issues: list[Issue]) -> Any:
    if not isinstance(spec, PluginStep) or kind.spec is PluginStep:
        return spec
    if not (isinstance(kind.spec, type) and issubclass(kind.spec, BaseModel)):
        return spec
    try:
        return kind.spec.model_validate(spec.model_dump(by_alias=True, exclude_unset=True))
    except ValidationError as exc:
        issues.extend(_pydantic_issues(exc, path))
        return None


def _pydantic_issues(exc: ValidationError, base: str) -> list[Issue]:
    out = []
    for err in exc.errors():
        sub = format_path(tuple(err["loc"]))
        code = "unknown-key" if err["type"] == "extra_forbidden" else "invalid-value"
        out.append(Issue(code, err["msg"], f"{base}.{sub}" if sub else base))
    return out


def _locate(issues: list[Issue], document: Document | None) -> list[Issue]:
    if document is None:
        return issues
    out = []
    for i in issues:
        path: list[str | int] = []
        for part in i.path.replace("[", ".[").split("."):
            if part:
                path.append(int(part[1:-1]) if part.startswith("[") else part)
        out.append(
            Issue(
                i.code,
                i.message,
                i.path,
                document.file,
                i.line or document.line_of(tuple(path)),
                i.hint,
            )
        )
    return out
