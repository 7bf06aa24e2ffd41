"""OpenLineage run events from a lineage graph, and where they are sent.

Batch runs send START, then COMPLETE or FAIL; stream runs send START, then RUNNING at
checkpoints. Events go to a file (one JSON event per line) or an HTTP endpoint (Marquez or
any OpenLineage consumer), chosen by settings: ``OCHT_LINEAGE_FILE`` or
``OCHT_LINEAGE_URL`` (with ``OCHT_LINEAGE_NAMESPACE``, default ``ocht``). Sending never
fails a run: a consumer that is away is logged as a warning.

openlineage-python is an extra (``pip install 'ocht-cli[lineage]'``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from ocht.lineage.graph import Dataset, LineageGraph
from ocht.observability import get_logger

EventType = Literal["START", "RUNNING", "COMPLETE", "FAIL", "ABORT"]

PRODUCER = "https://github.com/ocht-data/ocht"
_RUN_NAMESPACE = uuid.UUID("6f1c1b8e-3d2a-4c55-9a3e-0c8d7a1e4b21")


def run_uuid(run_id: str) -> str:
    """OpenLineage wants a UUID per run: a stable one derived from Ocht's run id."""
    return str(uuid.uuid5(_RUN_NAMESPACE, run_id))


def run_event(
    data: LineageGraph,
    *,
    run_id: str,
    event_type: EventType,
    namespace: str = "ocht",
    when: datetime | None = None,
    error: Mapping[str, Any] | None = None,
) -> Any:
    """An ``openlineage.client.event_v2.RunEvent`` for one moment of a run."""
    from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent
    from openlineage.client.facet_v2 import error_message_run

    run_facets: dict[str, Any] = {}
    if error is not None:
        run_facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
            message=f"{error.get('code', 'error')}: {error.get('message', '')}",
            programmingLanguage="python",
        )
    return RunEvent(
        eventType=getattr(_event_types(), event_type),
        eventTime=(when or datetime.now(UTC)).isoformat(),
        run=Run(runId=run_uuid(run_id), facets=run_facets),
        job=Job(namespace=namespace, name=data.job),
        producer=PRODUCER,
        inputs=[
            InputDataset(namespace=d.namespace, name=d.name, facets=_facets(d, data))
            for d in data.inputs
        ],
        outputs=[
            OutputDataset(namespace=d.namespace, name=d.name, facets=_facets(d, data))
            for d in data.outputs
        ],
    )


def _event_types() -> Any:
    from openlineage.client.event_v2 import RunState

    return RunState


def _facets(d: Dataset, data: LineageGraph) -> dict[str, Any]:
    from openlineage.client.facet_v2 import column_lineage_dataset, schema_dataset

    facets: dict[str, Any] = {}
    if d.columns:
        facets["schema"] = schema_dataset.SchemaDatasetFacet(
            fields=[schema_dataset.SchemaDatasetFacetFields(name=n, type=t) for n, t in d.columns]
        )
    mapping = data.column_lineage.get(d.key) if d.role == "output" else None
    if mapping:
        facets["columnLineage"] = column_lineage_dataset.ColumnLineageDatasetFacet(
            fields={
                col: column_lineage_dataset.Fields(
                    inputFields=[
                        column_lineage_dataset.InputField(namespace=ns, name=name, field=col_in)
                        for ns, name, col_in in sources
                    ],
                    transformationType="IDENTITY",
                    transformationDescription="carried through unchanged",
                )
                for col, sources in mapping.items()
            }
        )
    return facets


@dataclass
class LineageEmitter:
    """Sends run events to the configured transport (file or HTTP)."""

    transport: Any
    namespace: str = "ocht"

    @classmethod
    def from_settings(cls, env: Mapping[str, str] | None = None) -> LineageEmitter | None:
        """The emitter ``OCHT_LINEAGE_FILE`` / ``OCHT_LINEAGE_URL`` ask for, or ``None``."""
        env = os.environ if env is None else env
        path, url = env.get("OCHT_LINEAGE_FILE"), env.get("OCHT_LINEAGE_URL")
        if not (path or url):
            return None
        namespace = env.get("OCHT_LINEAGE_NAMESPACE", "ocht")
        if path:
            from openlineage.client.transport.file import FileConfig, FileTransport

            return cls(FileTransport(FileConfig(log_file_path=path, append=True)), namespace)
        from openlineage.client.transport.http import HttpConfig, HttpTransport

        assert url is not None
        return cls(HttpTransport(HttpConfig(url=url, timeout=5.0)), namespace)

    def emit(
        self,
        data: LineageGraph,
        *,
        run_id: str,
        event_type: EventType,
        error: Mapping[str, Any] | None = None,
    ) -> bool:
        """Send one event; ``False`` (and a warning) when the consumer did not take it."""
        event = run_event(
            data, run_id=run_id, event_type=event_type, namespace=self.namespace, error=error
        )
        try:
            self.transport.emit(event)
        except Exception as exc:  # lineage must never fail the run it describes
            get_logger("ocht.lineage").warning(
                "lineage event not sent",
                event_type=event_type,
                error=f"{type(exc).__name__}: {exc}",
            )
            return False
        return True
