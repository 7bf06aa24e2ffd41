"""The one place the server calls the executor: validate, compile, run.

Everything the API does with a pipeline goes through :class:`FrontDoor`; nothing else in
the server imports the executor. A pipeline is handed over as data (the stored version's
document); two things are decided here before it is:

- **tenancy**: the executor keys incremental state by pipeline name, so a pipeline of a
  tenant other than the default one runs as ``<name>__<tenant>``;
- **sandbox**: a draft run gets every output (and the dead letters) re-pointed into its
  sandbox folder after the profile is applied, and keeps its state apart
  (``<name>__sandbox``), so it can never touch a production output or cursor.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ocht.config import LoadedPipeline, apply_profile, load_pipeline
from ocht.errors import InvalidPipeline, Issue, OchtError
from ocht.executor import Plan, RunResult, compile_plan, make_context, tracked_run
from ocht.observability import RunHooks, add_secrets
from ocht.registry import Registry
from ocht.store import Store

#: the run option the executor checks before committing any output
_CANCEL_OPTION = "cancel"
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
        self.registry = registry

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
        context = make_context(loaded, mode="batch", home=self.home)
        return compile_plan(loaded, mode="batch", registry=self.registry, context=context)

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
            close(self.compile(loaded))
        except InvalidPipeline as exc:
            return list(exc.issues) or [Issue(exc.code, exc.message)]
        except OchtError as exc:
            return [Issue(exc.code, exc.message, hint=exc.hint)]
        return []

    def run(
        self,
        *,
        run_id: str,
        document: Mapping[str, Any],
        tenant: str,
        profile: str | None,
        variables: Mapping[str, Any],
        sandbox: Path | None,
        cancel: threading.Event,
        hooks: RunHooks | None = None,
    ) -> RunResult:
        """Run the document in batch mode, its manifest recorded under ``run_id``.

        A set ``cancel`` event stops the run before any output commits.

        Raises:
            OchtError: the run failed (or was cancelled); outputs untouched.
        """
        loaded = self.load(
            document, tenant=tenant, profile=profile, variables=variables, sandbox=sandbox
        )
        prior = self.store.get_state(loaded.pipeline.name)
        options = {"state": prior, "full_refresh": False, "store": self.store}
        options[_CANCEL_OPTION] = cancel
        context = make_context(loaded, mode="batch", run_id=run_id, home=self.home, options=options)
        plan = compile_plan(loaded, mode="batch", registry=self.registry, context=context)
        return tracked_run(plan, self.store, hooks=hooks)


def close(plan: Plan) -> None:
    """Release the plan's sources."""
    for source in plan.sources.values():
        source.close()
