"""The built-in step kinds."""

from __future__ import annotations

from typing import Any

from ocht.pipeline_model import Derive, Filter
from ocht.transform.basic import build_derive, build_filter
from ocht.transform.kinds import BuildContext, CompiledStep, StepKind

STEP_KINDS: tuple[StepKind, ...] = (
    StepKind("filter", Filter, build_filter, "Keep rows where a SQL condition holds."),
    StepKind("derive", Derive, build_derive, "Add or replace columns from SQL expressions."),
)

_BY_NAME = {k.name: k for k in STEP_KINDS}


def build_step(spec: Any, ctx: BuildContext) -> CompiledStep:
    """Build a built-in step from its spec (plugins go through the registry)."""
    return _BY_NAME[spec.kind].build(spec, ctx)
