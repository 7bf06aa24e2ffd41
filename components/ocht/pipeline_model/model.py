"""The pipeline: inputs, steps and outputs, validated and frozen."""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from typing import Any, Literal

from pydantic import Field

from ocht.pipeline_model.connectors import Connector
from ocht.pipeline_model.steps import ID_PATTERN, Spec, Step


class Profile(Spec):
    """Overlay applied by ``--profile NAME``: the same steps bound to other connectors."""

    vars: dict[str, Any] = Field(
        description="Values for `${name}` under this profile.", default_factory=dict
    )
    inputs: dict[str, dict[str, Any]] = Field(
        description="Per-input options overlaid (a new `type` replaces the input).",
        default_factory=dict,
    )
    outputs: dict[str, dict[str, Any]] = Field(
        description="Per-output options overlaid (a new `type` replaces the output).",
        default_factory=dict,
    )
    dead_letter: dict[str, Any] | None = Field(
        default=None, description="Options overlaid on the dead-letter output."
    )


class Pipeline(Spec):
    """A whole pipeline: what to read, what to do, where to write.

    Example:
        >>> p = Pipeline.model_validate({
        ...     "name": "demo",
        ...     "inputs": {"orders": {"type": "csv", "path": "orders.csv"}},
        ...     "steps": [{"kind": "filter", "where": "amount > 10"}],
        ...     "outputs": {"big": {"type": "parquet", "path": "out/big.parquet"}},
        ... })
        >>> p.step_ids()
        ['filter_1']
    """

    version: Literal[1] = Field(default=1, description="The document format's version.")
    name: str = Field(pattern=ID_PATTERN, description="Pipeline name (runs, state, metrics).")
    description: str = Field(default="", description="Free text for people reading the pipeline.")
    vars: dict[str, Any] = Field(default_factory=dict, description="Values for `${name}`.")
    inputs: dict[str, Connector] = Field(
        description="`{name: connector}`: what is read.", min_length=1
    )
    steps: list[Step] = Field(
        description="What is done, in order; each step reads the previous one unless told.",
        default_factory=list,
    )
    outputs: dict[str, Connector] = Field(
        description="`{name: connector}`: where results are written.", min_length=1
    )
    dead_letter: Connector | None = Field(
        default=None, description="Where rejected records go (default: a file per run)."
    )
    profiles: dict[str, Profile] = Field(
        description="`{name: overlay}` applied with `--profile name`.", default_factory=dict
    )

    def step_ids(self) -> list[str]:
        """Every step's id, defaulted to ``<kind>_<position>`` (1-based) when not given."""
        return [s.id or f"{s.kind}_{i}" for i, s in enumerate(self.steps, start=1)]

    def incremental_inputs(self) -> list[str]:
        """The inputs that keep incremental state between runs (a ``cursor`` column)."""
        return [n for n, spec in self.inputs.items() if getattr(spec, "cursor", None)]

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON form (profiles excluded: they are already applied)."""
        data = self.model_dump(mode="json", by_alias=True, exclude={"profiles"})
        blob = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(blob.encode()).hexdigest()
