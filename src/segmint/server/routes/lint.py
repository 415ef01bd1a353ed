"""``/api/lint``: health checks of the segments (``segmint lint``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from segmint.insights.lint import lint
from segmint.server.deps import CanRead, Conn
from segmint.server.schemas import NO_NUL, timestamp_param

router = APIRouter(tags=["reports"])


@router.get("/api/lint")
def lint_report(
    store: Conn,
    _: CanRead,
    check: Annotated[
        str | None,
        Query(max_length=1000, pattern=NO_NUL, description="Checks to run, comma-separated (default: every check)."),
    ] = None,
    as_of: Annotated[
        str | None,
        Query(max_length=64, pattern=NO_NUL, description="Look back from this instant (default: the last refresh)."),
    ] = None,
) -> dict[str, Any]:
    """Every finding of the health checks, each with its check, severity, subject, message and fix.

    ``clean`` is true when there is none.  An unknown check is a 400; a store
    without contacts a 422.
    """
    checks = [c.strip() for c in check.split(",") if c.strip()] if check is not None else None
    findings = lint(store, checks=checks or None, as_of=timestamp_param(as_of, "as_of"))
    return {"ok": True, "clean": not findings, "findings": [f.to_dict() for f in findings]}
