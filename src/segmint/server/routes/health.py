"""``/health``: is the server up and its store reachable (no key needed)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from segmint import __version__
from segmint.server.deps import Conn

router = APIRouter(tags=["health"])


@router.get("/health")
def health(store: Conn) -> dict[str, Any]:
    """Up, with the store's engine and schema reachable."""
    store.engine.scalar("SELECT 1")
    return {"ok": True, "version": __version__, "engine": store.engine.name}
