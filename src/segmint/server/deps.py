"""What routes depend on: the server state, a connection to the store, and an API key allowed to act.

``Authorization: Bearer <key>`` (or HTTP Basic with the key as the user, as
analytics libraries send write keys) names the key; ``read`` routes need a
key that may read, changing routes one that may write (admin).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from segmint.server.app import ServerState
from segmint.server.auth import ApiKey, require, verify_key
from segmint.store.store import Store

#: seconds a verified key is trusted without asking the store again (revocations through the API are immediate)
KEY_CACHE_SECONDS = 5.0


def state_of(request: Request) -> ServerState:
    state: ServerState = request.app.state.segmint
    return state


def connection(request: Request) -> Iterator[Store]:
    """A connection to the store of this request's own (closed after the response)."""
    state = state_of(request)
    try:
        store = state.store.connection()
    except NotImplementedError:  # one shared connection (Spark): one request at a time
        with state.shared_lock:
            yield state.store
        return
    try:
        yield store
    finally:
        store.engine.close()


def token_of(request: Request) -> str | None:
    """The API key of a request: a Bearer token, or the user of HTTP Basic (Segment's write key)."""
    header = request.headers.get("authorization", "")
    kind, _, value = header.partition(" ")
    if kind.lower() == "bearer" and value.strip():
        return value.strip()
    if kind.lower() == "basic" and value.strip():
        try:
            user = base64.b64decode(value.strip(), validate=True).decode("utf-8").split(":", 1)[0]
        except (ValueError, UnicodeDecodeError):
            return None
        return user or None
    return None


def check_key(request: Request, store: Store, token: str | None, action: str) -> ApiKey:
    """The key behind ``token``, allowed to ``action`` (track, read or write), or 401/403."""
    state = state_of(request)
    cache: dict[str, tuple[ApiKey, float]] = state.extras.setdefault("key_cache", {})
    now = time.monotonic()
    hit = cache.get(token or "")
    if hit is not None and hit[1] > now:
        key = hit[0]
    else:
        key = verify_key(store, token)
        cache[token or ""] = (key, now + KEY_CACHE_SECONDS)
    require(key, action)
    return key


def forget_keys(state: ServerState) -> None:
    """Drop cached keys (after a revocation)."""
    state.extras.pop("key_cache", None)


def _authorized(action: str):  # type: ignore[no-untyped-def]
    def dependency(request: Request, store: Annotated[Store, Depends(connection)]) -> ApiKey:
        return check_key(request, store, token_of(request), action)

    return dependency


Conn = Annotated[Store, Depends(connection)]
CanRead = Annotated[ApiKey, Depends(_authorized("read"))]
CanWrite = Annotated[ApiKey, Depends(_authorized("write"))]
CanTrack = Annotated[ApiKey, Depends(_authorized("track"))]

__all__ = ["CanRead", "CanTrack", "CanWrite", "Conn", "check_key", "connection", "forget_keys", "state_of", "token_of"]
