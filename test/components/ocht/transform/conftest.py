"""Build and run steps from plain dicts, as a pipeline document would give them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl
import pytest

from ocht.pipeline_model import BUILTIN_STEPS
from ocht.transform import MAIN, BuildContext, CompiledStep, Mode, build_step


@dataclass(frozen=True)
class Steps:
    """Builds a step from a dict against frames' schemas and runs it."""

    def spec(self, options: dict[str, Any]) -> Any:
        return BUILTIN_STEPS[options["kind"]].model_validate(options)

    def build(
        self,
        options: dict[str, Any],
        *inputs: pl.DataFrame | pl.Schema,
        mode: Mode = "batch",
        path: str = "steps[3]",
    ) -> CompiledStep:
        schemas = tuple(i if isinstance(i, pl.Schema) else i.schema for i in inputs)
        return build_step(self.spec(options), BuildContext("s", path, schemas, mode))

    def run(
        self,
        options: dict[str, Any],
        *frames: pl.DataFrame,
        branch: str = MAIN,
        mode: Mode = "batch",
        engine: str = "in-memory",
    ) -> pl.DataFrame:
        step = self.build(options, *frames, mode=mode)
        return step.apply([f.lazy() for f in frames], branch).collect(engine=engine)  # type: ignore[arg-type]


@pytest.fixture
def steps() -> Steps:
    return Steps()
