"""``/api/deals``: create, update, read and list deals (by contact, company, status, stage or owner).

Every write is a one-row load (:mod:`segmint.server.routes.records`): a
contact_id or company_id the store lacks creates that record, as in a file.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from segmint.model.tables import DEALS
from segmint.server.deps import CanRead, CanWrite, Conn, state_of
from segmint.server.routes.records import (
    create_record,
    patch_record,
    put_record,
    read_record,
    require_key,
    search_records,
)
from segmint.server.schemas import NO_NUL, DealCreate, DealFields, Page, page

router = APIRouter(prefix="/api/deals", tags=["deals"])

DealId = Annotated[str, Path(min_length=1, max_length=200, pattern=NO_NUL, description="The deal's id.")]
Filter = Annotated[str | None, Query(max_length=200, pattern=NO_NUL)]


@router.get("")
def list_deals(
    store: Conn,
    _: CanRead,
    paging: Annotated[Page, Depends(page)],
    contact_id: Annotated[
        str | None, Query(max_length=200, pattern=NO_NUL, description="Deals of this contact.")
    ] = None,
    company_id: Annotated[
        str | None, Query(max_length=200, pattern=NO_NUL, description="Deals of this company.")
    ] = None,
    status: Filter = None,
    stage: Filter = None,
    owner: Filter = None,
) -> dict[str, Any]:
    """Deals sorted by id, filtered by contact, company, status, stage or owner (whole values, case ignored)."""
    filters = {"contact_id": contact_id, "company_id": company_id, "status": status, "stage": stage, "owner": owner}
    return search_records(store, DEALS, paging, filters=filters)


@router.post("", status_code=201)
def create_deal(body: DealCreate, request: Request, store: Conn, _: CanWrite) -> dict[str, Any]:
    """Create a deal (409 if its id exists); bad values answer 422 with each reason at its field."""
    return create_record(state_of(request), store, DEALS, body)


@router.put("/{deal_id}")
def put_deal(
    deal_id: DealId, body: DealFields, request: Request, response: Response, store: Conn, _: CanWrite
) -> dict[str, Any]:
    """Create or update the deal with this id (201 when created); fields left out keep their values."""
    answer = put_record(state_of(request), store, DEALS, deal_id, body)
    response.status_code = 201 if answer["created"] else 200
    return answer


@router.patch("/{deal_id}")
def update_deal(deal_id: DealId, body: DealFields, request: Request, store: Conn, _: CanWrite) -> dict[str, Any]:
    """Change the given fields of a deal (a stage, a status with closed_at); a field left out keeps its value."""
    return patch_record(state_of(request), store, DEALS, lambda s: require_key(s, DEALS, deal_id), body)


@router.get("/{deal_id}")
def get_deal(deal_id: DealId, store: Conn, _: CanRead) -> dict[str, Any]:
    """One deal, with the ids of its contact and company."""
    return {"ok": True, "deal": read_record(store, DEALS, require_key(store, DEALS, deal_id))}
