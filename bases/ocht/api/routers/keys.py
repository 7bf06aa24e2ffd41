"""``/v1/keys``: API keys of the caller's tenant (admin only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from ocht.api.routers.common import Admin, Svc, problems
from ocht.api.schemas import KeyCreated, KeyIn, KeyList, KeyOut
from ocht.store import ApiKey

router = APIRouter(tags=["keys"])
KeyId = Annotated[str, Path(pattern=r"^(ocht_)?[0-9a-f]{12}$")]


def _view(key: ApiKey) -> KeyOut:
    return KeyOut.model_validate(key.to_dict())


@router.post(
    "/v1/keys",
    status_code=201,
    response_model=KeyCreated,
    responses=problems(),
    summary="Create an API key in your tenant (its secret is shown once)",
)
def create_key(body: KeyIn, who: Admin, svc: Svc) -> KeyCreated:
    new = svc.keys.create(tenant=who.tenant, role=body.role, name=body.name)
    return KeyCreated(key=_view(new.key), secret=new.secret)


@router.get(
    "/v1/keys", response_model=KeyList, responses=problems(), summary="List your tenant's keys"
)
def list_keys(who: Admin, svc: Svc) -> KeyList:
    return KeyList(items=[_view(k) for k in svc.keys.all(tenant=who.tenant)])


@router.delete(
    "/v1/keys/{key_id}", response_model=KeyOut, responses=problems(404), summary="Revoke a key"
)
def revoke_key(key_id: KeyId, who: Admin, svc: Svc) -> KeyOut:
    return _view(svc.keys.revoke(key_id, tenant=who.tenant))
