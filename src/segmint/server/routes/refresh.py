"""``/api/refresh``: start a full refresh in the background and follow it (see :mod:`segmint.server.refresher`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from segmint.server.deps import CanRead, CanWrite, state_of
from segmint.server.refresher import refresher_of
from segmint.server.schemas import Page, page, timestamp_param

router = APIRouter(prefix="/api/refresh", tags=["refresh"])


@router.post("", status_code=202)
def start_refresh(
    request: Request,
    response: Response,
    _: CanWrite,
    as_of: Annotated[
        str | None, Query(max_length=64, description="Refresh as of this instant (ISO 8601). Default: now.")
    ] = None,
) -> dict[str, Any]:
    """Start a full refresh (every trait, then every dynamic segment); 202 with its id, 409 while one runs.

    Follow it at ``/api/refresh/{id}``: running, then done with each segment's
    size, entries and exits, or failed with the error.
    """
    run = refresher_of(state_of(request)).start(timestamp_param(as_of, "as_of"))
    response.headers["Location"] = f"/api/refresh/{run.id}"
    return {"ok": True, "refresh": run.to_dict()}


@router.get("")
def list_refreshes(request: Request, _: CanRead, paging: Annotated[Page, Depends(page)]) -> dict[str, Any]:
    """The refreshes started since the server started, newest first."""
    runs = refresher_of(state_of(request)).runs()
    return paging.answer([r.to_dict() for r in runs[paging.offset : paging.offset + paging.limit]], len(runs))


@router.get("/{refresh_id}")
def refresh_status(refresh_id: Annotated[int, Path(ge=1, le=2**62)], request: Request, _: CanRead) -> dict[str, Any]:
    """A refresh's status (running, done, failed), with its result once done."""
    return {"ok": True, "refresh": refresher_of(state_of(request)).get(refresh_id).to_dict()}
