"""``/api/consents`` and ``/api/contacts/{contact}/consents``: record consent, and see it.

Consent records are never changed, only added: the latest record per
contact, channel and purpose is in force (DATA.md), so withdrawing is
posting a ``revoked`` record.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from segmint.server.deps import CanRead, CanWrite, Conn, state_of
from segmint.server.routes.records import write_row, written
from segmint.server.schemas import NO_NUL, ConsentCreate
from segmint.store.profiles import contact_profile

router = APIRouter(tags=["consents"])


@router.post("/api/consents", status_code=201)
def record_consent(body: ConsentCreate, request: Request, store: Conn, _: CanWrite) -> dict[str, Any]:
    """Record a consent given or withdrawn; answers the contact's consents in force after it.

    A channel or status outside DATA.md's values, or a bad timestamp,
    answers 422 with the reason at its field; posting the same record twice
    stores it once.
    """
    row = body.model_dump(exclude_none=True)
    row.setdefault("ts", datetime.now(UTC).isoformat())
    state = state_of(request)
    with state.write_lock:
        summary = write_row(state, store, "consents", row)
    profile = contact_profile(store, row["contact_id"], events=0)
    stored = summary.total("loaded") > 0
    return {"ok": True, "stored": stored, "consents": profile["consents"], **written(summary)}


@router.get("/api/contacts/{contact}/consents")
def contact_consents(
    contact: Annotated[str, Path(max_length=320, pattern=NO_NUL, description="The contact's id or email.")],
    store: Conn,
    _: CanRead,
) -> dict[str, Any]:
    """A contact's consents: those in force (the latest per channel and purpose) and every record, newest first."""
    profile = contact_profile(store, contact, events=0)
    return {
        "ok": True,
        "contact_id": profile["contact"]["contact_id"],
        "consents": profile["consents"],
        "history": profile["consent_history"],
    }
