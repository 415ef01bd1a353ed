"""``/api/companies``: create, update, read, list and delete companies.

Like contacts, every write is a one-row load (:mod:`segmint.server.routes.records`).
A company's page adds how many contacts it has and its traits (ICP fit,
bands, its customers' purchases) as of the last refresh.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlglot import exp

from segmint.model.tables import COMPANIES, CONTACTS, DEALS
from segmint.server.deps import CanRead, CanWrite, Conn, state_of
from segmint.server.routes.records import (
    count_where,
    create_record,
    drop_from_static_segments,
    forget_member,
    patch_record,
    put_record,
    read_record,
    refresh_paused,
    require_key,
    search_records,
    unlink,
)
from segmint.server.schemas import NO_NUL, CompanyCreate, CompanyFields, Page, page
from segmint.store.store import Store
from segmint.traits import trait_values

router = APIRouter(prefix="/api/companies", tags=["companies"])

CompanyId = Annotated[str, Path(min_length=1, max_length=200, pattern=NO_NUL, description="The company's id.")]
Filter = Annotated[str | None, Query(max_length=200, pattern=NO_NUL)]


@router.get("")
def list_companies(
    store: Conn,
    _: CanRead,
    paging: Annotated[Page, Depends(page)],
    q: Annotated[
        str | None, Query(max_length=200, pattern=NO_NUL, description="A part of the id, name or domain.")
    ] = None,
    country: Filter = None,
    region: Filter = None,
    sales_region: Filter = None,
    industry: Filter = None,
    owner: Filter = None,
) -> dict[str, Any]:
    """Companies sorted by id; ``q`` matches a part of the id, name or domain, each filter a whole value (case ignored)."""
    filters = {"country": country, "region": region, "sales_region": sales_region, "industry": industry, "owner": owner}
    return search_records(store, COMPANIES, paging, q=q, q_columns=("company_id", "name", "domain"), filters=filters)


@router.post("", status_code=201)
def create_company(body: CompanyCreate, request: Request, store: Conn, _: CanWrite) -> dict[str, Any]:
    """Create a company (409 if its id exists); bad values answer 422 with each reason at its field."""
    return create_record(state_of(request), store, COMPANIES, body)


@router.put("/{company_id}")
def put_company(
    company_id: CompanyId, body: CompanyFields, request: Request, response: Response, store: Conn, _: CanWrite
) -> dict[str, Any]:
    """Create or update the company with this id (201 when created); fields left out keep their values."""
    answer = put_record(state_of(request), store, COMPANIES, company_id, body)
    response.status_code = 201 if answer["created"] else 200
    return answer


@router.patch("/{company_id}")
def update_company(
    company_id: CompanyId, body: CompanyFields, request: Request, store: Conn, _: CanWrite
) -> dict[str, Any]:
    """Change the given fields of a company; a field left out or null keeps its value."""
    return patch_record(state_of(request), store, COMPANIES, lambda s: require_key(s, COMPANIES, company_id), body)


@router.get("/{company_id}")
def get_company(company_id: CompanyId, store: Conn, _: CanRead) -> dict[str, Any]:
    """A company: its fields, how many contacts and deals it has, and its traits as of the last refresh."""
    key = require_key(store, COMPANIES, company_id)
    mine = exp.column("company_key").eq(exp.Literal.number(key))
    return {
        "ok": True,
        "company": read_record(store, COMPANIES, key),
        "contacts": count_where(store, CONTACTS.name, mine),
        "deals": count_where(store, DEALS.name, mine),
        "traits": trait_values(store, "company", key),
    }


def delete_company_rows(store: Store, key: int) -> dict[str, int]:
    """Delete a company in one transaction: its contacts and deals stay, without the company."""
    engine = store.engine
    removed: dict[str, int] = {}
    with engine.transaction():
        removed.update(forget_member(store, "company", key))
        removed["contacts_unlinked"] = unlink(store, CONTACTS.name, "company_key", key)
        removed["deals_unlinked"] = unlink(store, DEALS.name, "company_key", key)
        engine.delete_where(COMPANIES.name, engine.sql(exp.column("company_key").eq(exp.Literal.number(key))))
    return removed


@router.delete("/{company_id}")
def delete_company(company_id: CompanyId, request: Request, store: Conn, _: CanWrite) -> dict[str, Any]:
    """Delete a company with its memberships and segment history; its contacts and deals stay, unlinked.

    Waits for a running refresh, as a contact's deletion does (429 if it takes over half a minute).
    """
    state = state_of(request)
    with state.write_lock:
        key = require_key(store, COMPANIES, company_id)
        with refresh_paused(state):
            removed = delete_company_rows(store, key)
            static = drop_from_static_segments(store, "company", company_id)
    return {"ok": True, "deleted": {"company_id": company_id, **removed, "static_segments": static}}
