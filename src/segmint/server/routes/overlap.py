"""``/api/reports/overlap``: how much segments overlap (``segmint report overlap``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from segmint.insights.overlap import overlap
from segmint.server.deps import CanRead, Conn
from segmint.server.schemas import NO_NUL

router = APIRouter(tags=["reports"])


@router.get("/api/reports/overlap")
def overlap_report(
    store: Conn,
    _: CanRead,
    names: Annotated[
        str | None,
        Query(max_length=4000, pattern=NO_NUL, description="Segments to compare, comma-separated (default: all)."),
    ] = None,
    top: Annotated[int, Query(ge=1, le=1000, description="How many pairs and contacts to list.")] = 10,
) -> dict[str, Any]:
    """The Jaccard index of every pair of segments (members of the last refresh) and the contacts in many segments.

    ``pairs`` lists the ``top`` pairs that overlap most; ``matrix`` is the
    whole matrix in the order of ``segments``.  An unknown name is a 404.
    """
    chosen = [n.strip() for n in names.split(",") if n.strip()] if names is not None else None
    return {"ok": True, **overlap(store, chosen or None, top=top).to_dict(top=top)}
