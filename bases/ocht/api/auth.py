"""Who is asking: API keys and JWT bearer tokens, mapped to a tenant and a role.

``Authorization: Bearer <credential>`` (or ``X-API-Key: <key>``). A credential starting
``ocht_`` is an API key, checked against its stored hash; anything else is a JWT, checked
with the HS256 secret or the JWKS URL configured. Roles are ordered: ``viewer`` reads,
``operator`` also runs and cancels, ``admin`` also manages pipelines and keys.
Credentials are never logged or echoed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import jwt
import jwt.types
from fastapi import Request

from ocht.api.problems import ApiProblem
from ocht.api.settings import ApiSettings
from ocht.store import ROLES, ApiKeys, check_tenant

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="ocht"'}


@dataclass(frozen=True)
class Principal:
    """An authenticated caller.

    Attributes:
        subject: who it is, safe to record (a key's prefix, a token's ``sub``).
        tenant: the tenant every query is filtered by.
        role: ``viewer``, ``operator`` or ``admin``.
    """

    subject: str
    tenant: str
    role: str

    def may(self, role: str) -> bool:
        """Whether this caller has ``role`` or a higher one."""
        return ROLES.index(self.role) >= ROLES.index(role)


def _unauthorized(code: str, detail: str) -> ApiProblem:
    return ApiProblem(401, code, detail, headers=_CHALLENGE)


class Authenticator:
    """Turns a request's credentials into a :class:`Principal`, or a 401 problem."""

    def __init__(self, settings: ApiSettings, keys: ApiKeys) -> None:
        self.settings = settings
        self.keys = keys

    @cached_property
    def _jwks(self) -> jwt.PyJWKClient | None:
        if not self.settings.jwks_url:
            return None
        return jwt.PyJWKClient(self.settings.jwks_url, cache_keys=True, lifespan=300)

    def credential(self, request: Request) -> str | None:
        """The credential the request carries, if any."""
        header = request.headers.get("authorization")
        if header:
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                raise _unauthorized(
                    "invalid-credentials", "use Authorization: Bearer <key or token>"
                )
            return value.strip()
        key = request.headers.get("x-api-key")
        return key.strip() if key else None

    def authenticate(self, request: Request) -> Principal:
        """The caller, or a 401 problem (missing, bad, expired or revoked credentials)."""
        presented = self.credential(request)
        if not presented:
            raise _unauthorized("unauthenticated", "credentials are required")
        if presented.startswith("ocht_"):
            key = self.keys.verify(presented)
            if key is None:
                raise _unauthorized("invalid-credentials", "the API key is unknown or revoked")
            return Principal(key.prefix, key.tenant, key.role)
        return self._token(presented)

    def _token(self, token: str) -> Principal:
        s = self.settings
        if not s.jwt_secret and self._jwks is None:
            raise _unauthorized("invalid-credentials", "the credential is not an API key")
        options: jwt.types.Options = {"require": ["exp"]}
        try:
            if s.jwt_secret:
                claims = jwt.decode(
                    token,
                    s.jwt_secret,
                    algorithms=["HS256"],
                    audience=s.jwt_audience,
                    issuer=s.jwt_issuer,
                    options=options,
                )
            else:
                assert self._jwks is not None
                signing = self._jwks.get_signing_key_from_jwt(token)
                claims = jwt.decode(
                    token,
                    signing.key,
                    algorithms=["RS256", "ES256", "PS256", "EdDSA"],
                    audience=s.jwt_audience,
                    issuer=s.jwt_issuer,
                    options=options,
                )
        except jwt.ExpiredSignatureError:
            raise _unauthorized("credentials-expired", "the token has expired") from None
        except (jwt.PyJWTError, ValueError):
            raise _unauthorized("invalid-credentials", "the token was not accepted") from None
        return self._principal(claims)

    def _principal(self, claims: dict[str, Any]) -> Principal:
        tenant = claims.get(self.settings.tenant_claim)
        raw = claims.get(self.settings.role_claim)
        given = raw if isinstance(raw, list) else [raw]
        roles = [r for r in given if isinstance(r, str) and r in ROLES]
        if not isinstance(tenant, str) or not roles:
            raise _unauthorized("invalid-credentials", "the token names no tenant or no known role")
        try:
            check_tenant(tenant)
        except Exception:
            raise _unauthorized("invalid-credentials", "the token's tenant is not valid") from None
        role = max(roles, key=ROLES.index)
        subject = claims.get("sub")
        return Principal(f"jwt:{subject}" if isinstance(subject, str) else "jwt", tenant, role)


def require(role: str) -> Callable[[Request], Principal]:
    """A FastAPI dependency: the caller, who must have at least ``role`` (else 403)."""

    def dependency(request: Request) -> Principal:
        auth: Authenticator = request.app.state.auth
        who = auth.authenticate(request)
        if not who.may(role):
            raise ApiProblem(403, "forbidden", f"this needs the {role} role")
        request.state.principal = who
        return who

    dependency.__name__ = f"require_{role}"
    return dependency
