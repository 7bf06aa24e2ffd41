"""``ocht-api``: serve the API, manage API keys.

    ocht-api serve [--host 127.0.0.1] [--port 8080]
    ocht-api keys create --tenant acme --role operator [--name ci]
    ocht-api keys list [--tenant acme]
    ocht-api keys revoke KEY_ID

The store is ``$OCHT_STORE_URL``, else a SQLite file in ``./.ocht``.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from ocht.errors import OchtError

if TYPE_CHECKING:
    from ocht.store import ApiKeys, Store


def _fail(exc: OchtError) -> None:
    click.echo(f"error [{exc.code}]: {exc.message}", err=True)
    if exc.hint:
        click.echo(f"hint: {exc.hint}", err=True)
    sys.exit(exc.exit_code or 1)


@click.group()
def cli() -> None:
    """Ocht over HTTP: pipelines, runs, API keys."""


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--workers", type=click.IntRange(1, 256), help="Runs executed at once.")
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
def serve(host: str, port: int, workers: int | None, log_level: str) -> None:
    """Start the server (uvicorn)."""
    import uvicorn

    from ocht.api.app import create_app
    from ocht.api.settings import ApiSettings
    from ocht.observability import configure_logging

    configure_logging("json", log_level)
    try:
        app = create_app(ApiSettings.from_env(workers=workers))
    except OchtError as exc:
        _fail(exc)
        return
    # keep-alive longer than a load balancer's idle timeout, so it closes first, not us
    uvicorn.run(
        app, host=host, port=port, log_level=log_level, server_header=False, timeout_keep_alive=75
    )


@cli.command("openapi")
def openapi_command() -> None:
    """Print the OpenAPI 3.1 document (docs/openapi.json is this output)."""
    import tempfile
    from pathlib import Path

    from ocht.api.app import create_app, openapi
    from ocht.api.settings import ApiSettings

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(ApiSettings(workdir=Path(folder), store_url=f"sqlite:///{folder}/o.db"))
        click.echo(json.dumps(openapi(app), indent=2, sort_keys=True))
        app.state.services.close()


@cli.group()
def keys() -> None:
    """Create, list and revoke API keys."""


def _keys() -> tuple[Store, ApiKeys]:
    from ocht.api.settings import ApiSettings
    from ocht.store import ApiKeys, Store

    settings = ApiSettings.from_env()
    store = Store(settings.store_url, base_dir=settings.workdir)
    return store, ApiKeys(store)


@keys.command("create")
@click.option("--tenant", required=True, help="The tenant the key acts in.")
@click.option("--role", required=True, type=click.Choice(["viewer", "operator", "admin"]))
@click.option("--name", default="", help="What the key is for.")
def keys_create(tenant: str, role: str, name: str) -> None:
    """Create a key; its secret is printed once, on standard output."""
    try:
        store, api_keys = _keys()
        with store:
            new = api_keys.create(tenant=tenant, role=role, name=name)
    except OchtError as exc:
        _fail(exc)
        return
    click.echo(
        f"created {new.key.prefix} ({new.key.role} in {new.key.tenant}); "
        "the key below is shown once:",
        err=True,
    )
    click.echo(new.secret)


@keys.command("list")
@click.option("--tenant", help="Only this tenant's keys.")
@click.option("--json", "as_json", is_flag=True, help="JSON lines.")
def keys_list(tenant: str | None, as_json: bool) -> None:
    """List keys (prefixes only: secrets are not kept)."""
    try:
        store, api_keys = _keys()
        with store:
            found = api_keys.all(tenant=tenant)
    except OchtError as exc:
        _fail(exc)
        return
    for key in found:
        if as_json:
            click.echo(json.dumps(key.to_dict()))
        else:
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            click.echo(f"{key.prefix}  {key.tenant:<16} {key.role:<8} {state:<18} {key.name}")


@keys.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke a key (by its id or prefix); it stops working at once."""
    try:
        store, api_keys = _keys()
        with store:
            key = api_keys.revoke(key_id)
    except OchtError as exc:
        _fail(exc)
        return
    click.echo(f"revoked {key.prefix}")


def main() -> None:
    """Entry point of ``ocht-api``."""
    cli()
