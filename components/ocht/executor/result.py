"""What a run reports: rows per input, step and output, dead letters, time per phase."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class StepStats:
    """Rows through one step (``rows_out`` sums every branch of a route).

    ``rows_in`` counts the step's main input; ``rows_other`` the rows of its other inputs
    (a join's lookup side, a union's further inputs).
    """

    step: str
    kind: str
    rows_in: int
    rows_out: int
    branches: dict[str, int] = field(default_factory=dict)
    rows_other: int = 0


@dataclass(frozen=True)
class CheckStats:
    """One data-quality check of a ``check`` step: rows checked, failed, the action.

    ``samples`` are a few failing values (as they were before any fix); ``changes``, for
    ``fix`` checks, a few rows the fix changed: ``{"before": {...}, "after": {...}}``.
    """

    step: str
    check: str
    type: str
    action: str
    rows_checked: int
    failed: int
    samples: list[Any] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class OutputStats:
    """One output: where it went and how many rows."""

    name: str
    target: str
    rows: int


@dataclass(frozen=True)
class RunResult:
    """The structured result of a run (the CLI's summary, the API's answer, the manifest).

    Attributes:
        run_id: the run's id.
        pipeline: the pipeline's name.
        status: ``succeeded``, ``failed`` or ``planned`` (dry run).
        mode: ``batch`` or ``stream``.
        inputs: rows read per input.
        steps: rows in and out per step, in pipeline order.
        outputs: rows written per output.
        dead_letters: rows sent to the dead-letter output.
        dead_letter_target: where they went (``None`` when there were none).
        phases: seconds per phase (``compile``, ``execute``, ``commit``).
        seconds: the whole run's wall time.
        error: the error's ``to_dict()`` when the run failed.
        checks: per data-quality check: rows checked, failed, action taken.
        rejected: dead letters per producer (a step id, or ``input:NAME``).
        reports: what steps tell about themselves, by step id (a ``predict`` step's
            model path, sha256, opset and signature; an ``llm`` step's token usage).
        files: ``(new, skipped)`` files per ``incremental: files`` input.
        skipped: bad records each input dropped under ``on_bad_lines: skip`` (inputs
            that dropped none are absent).
        fanout: rows counted again because a frame is read by several consumers (two
            outputs of one step), less the rows of frames nobody reads (a route branch
            with no output): the accounting invariant's correction for pipeline shapes
            that are not a chain.
    """

    run_id: str
    pipeline: str
    status: str
    mode: str = "batch"
    content_hash: str = ""
    profile: str | None = None
    inputs: dict[str, int] = field(default_factory=dict)
    steps: list[StepStats] = field(default_factory=list)
    outputs: list[OutputStats] = field(default_factory=list)
    dead_letters: int = 0
    dead_letter_target: str | None = None
    phases: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    error: dict[str, Any] | None = None
    checks: list[CheckStats] = field(default_factory=list)
    rejected: dict[str, int] = field(default_factory=dict)
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, tuple[int, int]] = field(default_factory=dict)
    fanout: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the run succeeded (or, for a dry run, compiled)."""
        return self.status in ("succeeded", "planned")

    @property
    def rows_read(self) -> int:
        """Rows read from every input."""
        return sum(self.inputs.values())

    @property
    def rows_written(self) -> int:
        """Rows written to every output."""
        return sum(o.rows for o in self.outputs)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return asdict(self)


def json_ready(value: Any) -> Any:
    """``value`` as JSON-ready Python: mappings and sequences kept, other types as text.

    Example:
        >>> from datetime import date
        >>> json_ready({"d": date(2024, 3, 1), "n": [1, (2, 3)]})
        {'d': '2024-03-01', 'n': [1, [2, 3]]}
    """
    if isinstance(value, str | int | float | bool | type(None)):
        return value
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    return str(value)
