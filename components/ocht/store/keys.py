"""API keys: a visible prefix plus random bytes, shown once; only a hash is stored.

A key reads ``ocht_<key id>_<secret>``: the key id (12 hex characters) is the visible part
that lists and logs may show; the secret is 32 random bytes. The store keeps the SHA-256 of
the whole key (the secret has 256 bits of entropy, so a slow password hash adds nothing).

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from ocht.store import ApiKeys, Store
    >>> store = Store(base_dir=Path(tempfile.mkdtemp()))
    >>> keys = ApiKeys(store)
    >>> new = keys.create(tenant="acme", role="operator", name="ci")
    >>> keys.verify(new.secret).role
    'operator'
    >>> keys.revoke(new.key.key_id).revoked_at is not None
    True
    >>> keys.verify(new.secret) is None
    True
    >>> store.close()
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa

from ocht.store.catalog import check_text, ensure_tenant, now, transaction, utc
from ocht.store.catalog_tables import api_keys
from ocht.store.errors import InvalidStoreValue, KeyNotFound

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ocht.store.store import Store

Role = Literal["viewer", "operator", "admin"]
#: Roles from least to most rights: each one may do what those before it may.
ROLES: tuple[str, ...] = ("viewer", "operator", "admin")
KEY_PREFIX = "ocht_"
_KEY = re.compile(r"^ocht_(?P<id>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_\-]{20,100})$")
_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,99}$")


def check_tenant(tenant: str) -> str:
    """``tenant`` if it is a valid tenant name (letters, digits, ``_`` and ``-``; 1 to 100).

    Raises:
        InvalidStoreValue: it is not.
    """
    if not _TENANT.match(tenant):
        raise InvalidStoreValue(
            f"'{tenant}' is not a tenant name", hint="use letters, digits, '_' and '-'"
        )
    return tenant


def check_role(role: str) -> Role:
    """``role`` if it is one of :data:`ROLES`.

    Raises:
        InvalidStoreValue: it is not.
    """
    if role not in ROLES:
        raise InvalidStoreValue(f"unknown role '{role}'", hint=f"use one of {', '.join(ROLES)}")
    return role  # type: ignore[return-value]


def hash_key(key: str) -> str:
    """The SHA-256 hex digest kept in place of a key."""
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    """A stored key, without its secret.

    Attributes:
        key_id: the visible id (``ocht_<key_id>_...``).
        name: what it is for.
        role: ``viewer``, ``operator`` or ``admin``.
        tenant: the tenant it acts in.
        created_at: when it was created (UTC).
        revoked_at: when it was revoked, if it was.
    """

    key_id: str
    name: str
    role: Role
    tenant: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def prefix(self) -> str:
        """The part of the key that may be shown: ``ocht_<key id>``."""
        return f"{KEY_PREFIX}{self.key_id}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (no secret: there is none to show)."""
        return {
            "key_id": self.key_id,
            "prefix": self.prefix,
            "name": self.name,
            "role": self.role,
            "tenant": self.tenant,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


@dataclass(frozen=True)
class NewApiKey:
    """A key just created: ``secret`` is the whole key, shown this once and never again."""

    key: ApiKey
    secret: str


class ApiKeys:
    """API keys kept in a :class:`~ocht.store.Store` (hashes only)."""

    def __init__(self, store: Store) -> None:
        self.engine = store.engine

    def create(self, *, tenant: str, role: str, name: str = "") -> NewApiKey:
        """A new key for ``tenant`` with ``role``.

        Raises:
            InvalidStoreValue: an unknown role or an invalid tenant name.
        """
        check_role(role)
        check_tenant(tenant)
        check_text(name, "the key's name")
        key_id = secrets.token_hex(6)
        secret = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        with transaction(self.engine) as conn:
            ensure_tenant(conn, tenant)
            conn.execute(
                api_keys.insert().values(
                    key_id=key_id,
                    secret_hash=hash_key(secret),
                    name=name[:200],
                    role=role,
                    tenant=tenant,
                    created_at=now(),
                    revoked_at=None,
                )
            )
        return NewApiKey(self.get(key_id), secret)

    def verify(self, presented: str) -> ApiKey | None:
        """The key ``presented`` is, when it exists and is not revoked; else ``None``."""
        m = _KEY.match(presented)
        if m is None:
            return None
        with transaction(self.engine) as conn:
            row = (
                conn.execute(sa.select(api_keys).where(api_keys.c.key_id == m["id"]))
                .mappings()
                .first()
            )
        if row is None or not hmac.compare_digest(row["secret_hash"], hash_key(presented)):
            return None
        key = _key(row)
        return None if key.revoked_at is not None else key

    def get(self, key_id: str, *, tenant: str | None = None) -> ApiKey:
        """One key by id (in ``tenant`` when given).

        Raises:
            KeyNotFound: there is none.
        """
        key_id = key_id.removeprefix(KEY_PREFIX)
        query = sa.select(api_keys).where(api_keys.c.key_id == key_id)
        if tenant is not None:
            query = query.where(api_keys.c.tenant == tenant)
        with transaction(self.engine) as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            raise KeyNotFound(f"no API key with id '{key_id}'")
        return _key(row)

    def all(self, *, tenant: str | None = None) -> list[ApiKey]:
        """Keys, newest first (of one tenant when given)."""
        query = sa.select(api_keys).order_by(api_keys.c.created_at.desc())
        if tenant is not None:
            query = query.where(api_keys.c.tenant == tenant)
        with transaction(self.engine) as conn:
            return [_key(r) for r in conn.execute(query).mappings()]

    def revoke(self, key_id: str, *, tenant: str | None = None) -> ApiKey:
        """Revoke a key: it stops working at once (revoking twice keeps the first time).

        Raises:
            KeyNotFound: there is no such key (in ``tenant``).
        """
        key = self.get(key_id, tenant=tenant)
        if key.revoked_at is None:
            with transaction(self.engine) as conn:
                conn.execute(
                    api_keys.update()
                    .where(api_keys.c.key_id == key.key_id)
                    .values(revoked_at=now())
                )
        return self.get(key.key_id)


def _key(row: Mapping[Any, Any]) -> ApiKey:
    return ApiKey(
        key_id=row["key_id"],
        name=row["name"],
        role=row["role"],
        tenant=row["tenant"],
        created_at=utc(row["created_at"]) or now(),
        revoked_at=utc(row["revoked_at"]),
    )
