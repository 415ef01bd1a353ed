"""``/api/reports/segments``: how segments perform against the whole list (``segmint report segment(s)``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from segmint.insights.report import DEFAULT_MIN_SIZE, rank_segments, segment_report
from segmint.server.deps import CanRead, Conn
from segmint.server.schemas import timestamp_param

router = APIRouter(prefix="/api/reports", tags=["reports"])

Since = Annotated[
    str | None,
    Query(max_length=64, description="Start of the window, included (ISO 8601). Default: 90 days before until."),
]
Until = Annotated[str | None, Query(max_length=64, description="End of the window, excluded (ISO 8601). Default: now.")]


@router.get("/segments")
def segments_report(
    store: Conn,
    _: CanRead,
    since: Since = None,
    until: Until = None,
    min_size: Annotated[
        int, Query(ge=1, description="Segments with fewer contacts are listed last, not judged.")
    ] = DEFAULT_MIN_SIZE,
) -> dict[str, Any]:
    """Every segment ranked and marked performing well, performing poorly or high potential and under-served."""
    rankings = rank_segments(store, timestamp_param(since, "since"), timestamp_param(until, "until"), min_size=min_size)
    return {"ok": True, "segments": [r.to_dict() for r in rankings]}


@router.get("/segments/{name}")
def segment_performance(
    name: Annotated[str, Path(max_length=63, description="A stored segment's name.")],
    store: Conn,
    _: CanRead,
    since: Since = None,
    until: Until = None,
) -> dict[str, Any]:
    """One segment's members against the whole list over [since, until): size and trend, email, value, tickets."""
    report = segment_report(store, name, timestamp_param(since, "since"), timestamp_param(until, "until"))
    return {"ok": True, **report.to_dict()}
