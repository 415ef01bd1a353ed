"""``/api/reports/send-time``: when a segment (or the whole list) engages (``segmint report send-time``)."""

from __future__ import annotations

import difflib
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from segmint.errors import NotFoundError, Problem
from segmint.insights.send_time import evaluate_send_time, send_time_profile
from segmint.segments import stored_segments
from segmint.server.deps import CanRead, Conn
from segmint.server.schemas import as_of

router = APIRouter(tags=["reports"])

AsOf = Annotated[datetime, Depends(as_of)]


@router.get("/api/reports/send-time")
def send_time_report(
    store: Conn,
    _: CanRead,
    when: AsOf,
    segment: Annotated[
        str | None, Query(max_length=200, description="A stored segment's name; default: the whole list.")
    ] = None,
    evaluate: Annotated[bool, Query(description="Also fit before the hold-out and score the held-out events.")] = False,
    holdout_days: Annotated[int, Query(gt=0, le=3650, description="With evaluate: the days held out.")] = 90,
) -> dict[str, Any]:
    """The 168-hour engagement pattern (Monday 00:00 first), its best hours and, with ``evaluate``, held-out scores."""
    definition = None
    if segment:
        stored = stored_segments(store)
        if segment not in stored:  # a stored name only: the API never reads the server's files
            close = difflib.get_close_matches(segment, list(stored), n=3)
            raise NotFoundError(
                f"no segment named '{segment}'", problems=[Problem("segment", "unknown segment", close)]
            )
        definition = stored[segment]
    profile = send_time_profile(store, definition, when)
    result: dict[str, Any] = {"ok": True, "profile": profile.to_dict()}
    if evaluate:
        result["evaluation"] = evaluate_send_time(store, when, timedelta(days=holdout_days)).to_dict()
    return result
