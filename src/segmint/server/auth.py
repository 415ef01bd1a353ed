"""API keys: made and revoked by an admin, stored hashed, checked on every request.

A key reads ``sm_<key id>_<secret>``.  Only the SHA-256 of the secret is
stored, so a stolen database gives no working key; the key is shown once,
when it is made.  Scopes:

- ``ingest``: the tracking endpoints only (an analytics library's write key);
- ``read``: every ``GET`` of the API;
- ``admin``: everything, tracking included.

>>> import tempfile, os
>>> from segmint.store import open_store
>>> with open_store(os.path.join(tempfile.mkdtemp(), "crm.duckdb")) as store:
...     made = create_key(store, "read", name="dashboard")
...     verify_key(store, made.token).scope
'read'
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
from sqlglot import exp

from segmint.errors import ForbiddenError, NotFoundError, UnauthorizedError, UsageError
from segmint.model.tables import API_KEYS
from segmint.store.store import Store

SCOPES = ("ingest", "read", "admin")
PREFIX = "sm"

#: what each scope may do: "track" (the tracking endpoints), "read" (GET), "write" (every other change)
ALLOWED = {"ingest": {"track"}, "read": {"read"}, "admin": {"track", "read", "write"}}


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    name: str
    scope: str
    created_at: datetime | None = None
    revoked_at: datetime | None = None

    def allows(self, action: str) -> bool:
        return action in ALLOWED.get(self.scope, set())

    def to_dict(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "name": self.name,
            "scope": self.scope,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
        }


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    token: str  # shown once


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_key(store: Store, scope: str, *, name: str = "") -> NewKey:
    """Make a key of ``scope``; its token is in the result and nowhere else."""
    if scope not in SCOPES:
        raise UsageError(f"unknown scope '{scope}' (expected one of {', '.join(SCOPES)})")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    store.engine.load_arrow(
        API_KEYS.name,
        pa.table(
            {
                "key_id": [key_id],
                "name": [name or f"{scope} key"],
                "scope": [scope],
                "secret_hash": [_hash(secret)],
                "created_at": pa.array([now], pa.timestamp("us", tz="UTC")),
                "revoked_at": pa.array([None], pa.timestamp("us", tz="UTC")),
            }
        ),
    )
    return NewKey(ApiKey(key_id, name or f"{scope} key", scope, now), f"{PREFIX}_{key_id}_{secret}")


def list_keys(store: Store) -> list[ApiKey]:
    rows = store.engine.query(
        exp.select("key_id", "name", "scope", "created_at", "revoked_at").from_(API_KEYS.name).order_by("created_at")
    ).to_pylist()
    return [ApiKey(**r) for r in rows]


def revoke_key(store: Store, key: str) -> ApiKey:
    """Revoke a key by its id (or its whole token); it stops working at once."""
    key_id = key.split("_", 2)[1] if key.startswith(f"{PREFIX}_") and key.count("_") >= 2 else key
    found = [k for k in list_keys(store) if k.key_id == key_id]
    if not found:
        raise NotFoundError(f"no API key '{key_id}'")
    # delete and insert again, not UPDATE: Spark's plain tables have no UPDATE
    row = store.engine.query(
        exp.select("*").from_(API_KEYS.name).where(exp.column("key_id").eq(exp.Literal.string(key_id)))
    )
    revoked = row.set_column(
        row.column_names.index("revoked_at"),
        "revoked_at",
        pa.array([datetime.now(UTC)] * row.num_rows, pa.timestamp("us", tz="UTC")),
    )
    with store.engine.transaction():
        store.engine.delete_where(API_KEYS.name, store.engine.sql(exp.column("key_id").eq(exp.Literal.string(key_id))))
        store.engine.load_arrow(API_KEYS.name, revoked)
    return found[0]


def verify_key(store: Store, token: str | None) -> ApiKey:
    """The key a token names, or :class:`UnauthorizedError` (missing, malformed, unknown, revoked)."""
    if not token:
        raise UnauthorizedError("an API key is required: Authorization: Bearer <key>")
    parts = token.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        raise UnauthorizedError("not a segmint API key (they read sm_<id>_<secret>)")
    rows = store.engine.query(
        exp.select("key_id", "name", "scope", "created_at", "revoked_at", "secret_hash")
        .from_(API_KEYS.name)
        .where(exp.column("key_id").eq(exp.Literal.string(parts[1])))
    ).to_pylist()
    if not rows or not hmac.compare_digest(rows[0]["secret_hash"], _hash(parts[2])):
        raise UnauthorizedError("unknown API key")
    row = rows[0]
    if row["revoked_at"] is not None:
        raise UnauthorizedError("this API key was revoked")
    row.pop("secret_hash")
    return ApiKey(**row)


def require(key: ApiKey, action: str) -> None:
    if not key.allows(action):
        raise ForbiddenError(f"a key of scope '{key.scope}' may not {action}; ask an admin for a key that may")


__all__ = ["SCOPES", "ApiKey", "NewKey", "create_key", "list_keys", "require", "revoke_key", "verify_key"]
