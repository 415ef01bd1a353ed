"""``/api/stats``: what data the store holds (``segmint stats``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from segmint.insights.stats import store_stats
from segmint.server.deps import CanRead, Conn

router = APIRouter(tags=["stats"])


@router.get("/api/stats")
def stats(store: Conn, _: CanRead) -> dict[str, Any]:
    """Each table's rows, the time they span and how often each field is filled in; events by name."""
    return {"ok": True, **store_stats(store).to_dict()}
