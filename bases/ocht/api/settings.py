"""The server's settings, read from ``OCHT_*`` environment variables.

Secrets (the JWT secret, the store URL's password) are kept out of ``repr`` and logs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ENV = "OCHT_"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"{ENV}{name}")
    return value if value not in (None, "") else default


def _int(name: str, default: int) -> int:
    value = _env(name)
    return int(value) if value is not None else default


@dataclass(frozen=True)
class ApiSettings:
    """What ``ocht-api serve`` runs with.

    Attributes:
        workdir: relative paths in pipelines resolve here; the default SQLite store and
            the run folders live in ``<workdir>/.ocht`` (``OCHT_API_WORKDIR``, default the
            working directory).
        store_url: the run store (``OCHT_STORE_URL``; default SQLite under ``workdir``).
        home: run folders: dead letters, traces, logs (``OCHT_HOME``).
        sandbox: where draft runs write their outputs (``OCHT_API_SANDBOX``, default
            ``<home>/sandbox``).
        workers: runs executed at the same time (``OCHT_API_WORKERS``).
        queue_size: runs waiting beyond those (``OCHT_API_QUEUE``); more answer 429.
        default_tenant: the tenant of runs recorded without the API (a stream worker's).
        jwt_secret: HS256 secret for bearer tokens (``OCHT_API_JWT_SECRET``).
        jwks_url: a JWKS URL for RS256/ES256 bearer tokens (``OCHT_API_JWKS_URL``).
        jwt_audience: the ``aud`` tokens must carry, when set.
        jwt_issuer: the ``iss`` tokens must carry, when set.
        tenant_claim: the claim naming the tenant (``tenant``).
        role_claim: the claim naming the role, a string or a list (``role``).
        max_body: the largest request body accepted, in bytes.
    """

    workdir: Path = field(default_factory=Path.cwd)
    store_url: str | None = field(default=None, repr=False)
    home: Path | None = None
    sandbox: Path | None = None
    workers: int = 2
    queue_size: int = 100
    default_tenant: str = "default"
    jwt_secret: str | None = field(default=None, repr=False)
    jwks_url: str | None = None
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    tenant_claim: str = "tenant"
    role_claim: str = "role"
    max_body: int = 5_000_000

    @property
    def run_home(self) -> Path:
        """The folder holding each run's own folder."""
        return (self.home or self.workdir / ".ocht").resolve()

    @property
    def sandbox_dir(self) -> Path:
        """Where draft runs write."""
        return (self.sandbox or self.run_home / "sandbox").resolve()

    @classmethod
    def from_env(cls, **given: object) -> ApiSettings:
        """Settings from the environment; ``given`` values win."""
        workdir = Path(_env("API_WORKDIR") or Path.cwd())
        home, sandbox = _env("HOME"), _env("API_SANDBOX")
        values: dict[str, object] = {
            "workdir": workdir,
            "store_url": _env("STORE_URL"),
            "home": Path(home) if home else None,
            "sandbox": Path(sandbox) if sandbox else None,
            "workers": _int("API_WORKERS", 2),
            "queue_size": _int("API_QUEUE", 100),
            "default_tenant": _env("API_DEFAULT_TENANT", "default"),
            "jwt_secret": _env("API_JWT_SECRET"),
            "jwks_url": _env("API_JWKS_URL"),
            "jwt_audience": _env("API_JWT_AUDIENCE"),
            "jwt_issuer": _env("API_JWT_ISSUER"),
            "tenant_claim": _env("API_JWT_TENANT_CLAIM", "tenant"),
            "role_claim": _env("API_JWT_ROLE_CLAIM", "role"),
        }
        values.update({k: v for k, v in given.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
