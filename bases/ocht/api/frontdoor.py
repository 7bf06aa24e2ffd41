"""The one place the server calls the executor's front door (:class:`ocht.executor.Runner`).

Everything the API does with a pipeline goes through :class:`FrontDoor`, which loads the
stored version's document and hands it to the Runner to validate, compile or run. Two
things are decided here before it does:

- **tenancy**: the executor keys incremental state by pipeline name, so a pipeline of a
  tenant other than the default one runs as ``<name>__<tenant>``;
- **sandbox**: a draft run gets every output (and the dead letters) re-pointed into its
  sandbox folder after the profile is applied, and keeps its state apart
  (``<name>__sandbox``), so it can never touch a production output or cursor.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ocht.config import LoadedPipeline, apply_profile, load_pipeline
from ocht.errors import InvalidPipeline, Issue
from ocht.executor import (
    CancelToken,
    Plan,
    Runner,
    RunRequest,
    RunResult,
    RunServices,
)
from ocht.observability import RunHooks, add_secrets
from ocht.registry import Registry
from ocht.store import Store

_FILE_TYPES = {"csv": "csv", "parquet": "parquet", "ndjson": "ndjson", "json": "json"}


def executor_name(name: str, tenant: str, default_tenant: str, *, sandbox: bool) -> str:
    """The name a pipeline runs under (its state and manifests are keyed by it).

    Example:
        >>> executor_name("orders", "acme", "default", sandbox=True)
        'orders__acme__sandbox'
    """
    out = name if tenant == default_tenant else f"{name}__{tenant}"
    return f"{out}__sandbox" if sandbox else out


def sandboxed(document: Mapping[str, Any], folder: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """``document`` with every output and the dead letters written under ``folder``.

    File outputs keep their format and options; any other output (SQL, Kafka, a plugin)
    becomes a Parquet file. Returns the document and ``{output: sandbox path}``.
    """
    data = copy.deepcopy(dict(document))
    where: dict[str, str] = {}
    outputs = data.get("outputs")
    if isinstance(outputs, dict):
        for name, spec in list(outputs.items()):
            outputs[name] = _into(spec, folder / str(name))
            where[str(name)] = str(outputs[name]["path"])
    data["dead_letter"] = {"type": "ndjson", "path": str(folder / "dead_letters.ndjson")}
    where["dead_letter"] = str(folder / "dead_letters.ndjson")
    return data, where


def _into(spec: Any, base: Path) -> dict[str, Any]:
    kind = spec.get("type") if isinstance(spec, dict) else None
    if isinstance(kind, str) and kind in _FILE_TYPES:
        out = {k: v for k, v in spec.items() if k not in ("path",)}
        out["path"] = str(base.with_suffix(f".{_FILE_TYPES[kind]}"))
        return out
    return {"type": "parquet", "path": str(base.with_suffix(".parquet"))}


class FrontDoor:
    """Validate, compile and run stored pipelines for the server.

    Args:
        store: the run store (manifests, state).
        home: the folder holding each run's own folder.
        workdir: where relative paths in pipelines resolve.
        default_tenant: the tenant whose pipelines run under their own name.
        registry: step kinds and connectors (default: built-ins and plugins).
    """

    def __init__(
        self,
        store: Store,
        *,
        home: Path,
        workdir: Path,
        default_tenant: str = "default",
        registry: Registry | None = None,
    ) -> None:
        self.store = store
        self.home = home
        self.workdir = workdir
        self.default_tenant = default_tenant
        self.services = RunServices(store=store, registry=registry, home=home)
        self.runner = Runner(self.services)

    def load(
        self,
        document: Mapping[str, Any],
        *,
        tenant: str,
        profile: str | None = None,
        variables: Mapping[str, Any] | None = None,
        sandbox: Path | None = None,
    ) -> LoadedPipeline:
        """The document validated (profile applied, variables interpolated).

        Raises:
            InvalidPipeline: every problem found, with field paths.
        """
        data = dict(document)
        name = str(data.get("name", ""))
        if sandbox is not None:  # the profile first, so it cannot re-point an output
            data = apply_profile(data, profile, file=None)
            data.pop("profiles", None)
            data, _ = sandboxed(data, sandbox)
        loaded = load_pipeline(
            data, profile=None if sandbox is not None else profile, variables=variables
        )
        add_secrets(loaded.secrets)
        run_name = executor_name(name, tenant, self.default_tenant, sandbox=sandbox is not None)
        pipeline = loaded.pipeline
        if run_name != pipeline.name:
            pipeline = pipeline.model_copy(update={"name": run_name})
        return dataclasses.replace(
            loaded, pipeline=pipeline, base_dir=self.workdir, profile=profile
        )

    def compile(self, loaded: LoadedPipeline) -> Plan:
        """The plan (input schemas read, no data; the caller closes its sources).

        Raises:
            InvalidPipeline: every problem found.
            OchtError: a source could not be opened.
        """
        return self.runner.compile(RunRequest(loaded))

    def validate(
        self,
        document: Mapping[str, Any],
        *,
        tenant: str,
        profile: str | None = None,
        variables: Mapping[str, Any] | None = None,
    ) -> list[Issue]:
        """Every problem of the document at once (model, then compile); none is valid."""
        try:
            loaded = self.load(document, tenant=tenant, profile=profile, variables=variables)
        except InvalidPipeline as exc:
            return list(exc.issues) or [Issue(exc.code, exc.message)]
        return self.runner.validate(RunRequest(loaded))

    def run(
        self,
        *,
        run_id: str,
        document: Mapping[str, Any],
        tenant: str,
        profile: str | None,
        variables: Mapping[str, Any],
        sandbox: Path | None,
        cancel: CancelToken,
        hooks: RunHooks | None = None,
    ) -> RunResult:
        """Run the document in batch mode, its manifest recorded under ``run_id``.

        A cancelled token stops the run before any output commits.

        Raises:
            Cancelled: the token was cancelled (recorded ``cancelled``).
            OchtError: the run failed; outputs untouched.
        """
        loaded = self.load(
            document, tenant=tenant, profile=profile, variables=variables, sandbox=sandbox
        )
        runner = Runner(dataclasses.replace(self.services, hooks=hooks)) if hooks else self.runner
        return runner.run(RunRequest(loaded, run_id=run_id), cancel=cancel)


def close(plan: Plan) -> None:
    """Release the plan's sources."""
    for source in plan.sources.values():
        source.close()
