"""``/api/keys``: API keys, for admins (the CLI's ``segmint keys`` does the same)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from segmint.server.auth import create_key, list_keys, revoke_key
from segmint.server.deps import CanWrite, Conn, forget_keys, state_of

router = APIRouter(prefix="/api/keys", tags=["keys"])


class NewKeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scope: Literal["ingest", "read", "admin"]
    name: str = Field("", max_length=200)


@router.get("")
def keys(store: Conn, _: CanWrite) -> dict[str, Any]:
    """Every key (never their secrets)."""
    return {"ok": True, "keys": [k.to_dict() for k in list_keys(store)]}


@router.post("", status_code=201)
def new_key(body: NewKeyRequest, request: Request, store: Conn, _: CanWrite) -> dict[str, Any]:
    """Make a key; the token is in this answer only."""
    with state_of(request).write_lock:
        made = create_key(store, body.scope, name=body.name)
    return {"ok": True, "key": made.key.to_dict(), "token": made.token}


@router.delete("/{key_id}")
def revoke(key_id: str, request: Request, store: Conn, _: CanWrite) -> dict[str, Any]:
    """Revoke a key: it stops working at once."""
    state = state_of(request)
    with state.write_lock:
        revoked = revoke_key(store, key_id)
    forget_keys(state)
    return {"ok": True, "key": revoked.to_dict()}
