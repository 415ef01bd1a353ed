"""``/api/segments/{name}/...``: a segment's members, count, preview, explanation, SQL and history.

Members are evaluated at ``as_of`` (default now) like ``segmint segment
members --as-of``, not read from the last refresh: what a client sees is what
the definition means at that instant.  ``segment list`` and a segment's page
give the size after the last refresh.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from sqlglot import exp

from segmint.cli.segment import member_rows, write_rows
from segmint.compile import MEMBER_ID
from segmint.dsl import Segment, explain_segment
from segmint.errors import Problem, UsageError, ValidationError
from segmint.model.fields import Field
from segmint.model.tables import COMPANIES
from segmint.segments import segment_history, segment_members, segment_sql
from segmint.segments.evaluate import compiler
from segmint.segments.explain import explain_member
from segmint.server.deps import CanRead, Conn
from segmint.server.routes.records import require_key
from segmint.server.routes.segments import AsOf, SegmentName, in_range, stored_segment
from segmint.server.schemas import NO_NUL, Page, page
from segmint.store.profiles import find_contact_key
from segmint.store.store import Store

router = APIRouter(prefix="/api/segments", tags=["segments"])

#: what a preview shows of each member when no fields are asked for
PREVIEW_FIELDS = {
    "contact": ["email", "first_name", "last_name", "company.name"],
    "company": ["name", "domain", "country", "employees"],
}
WINDOW = "a window at this as_of"
FieldList = Annotated[
    str | None,
    Query(
        max_length=2000, pattern=NO_NUL, description="Fields to show, comma-separated: email,company.name,lead_score."
    ),
]


def _fields(store: Store, segment: Segment, text: str | None, default: list[str]) -> tuple[list[str], list[Field]]:
    """The field names asked for and their registry entries; every unknown name is a problem, with suggestions."""
    names = list(dict.fromkeys(n.strip() for n in text.split(",") if n.strip())) if text is not None else default
    registry = store.registry()
    unknown = [n for n in names if registry.find(segment.entity, n) is None]
    if unknown:
        problems = [
            Problem(f"query.fields.{n}", f"unknown {segment.entity} field '{n}'", registry.suggest(segment.entity, n))
            for n in unknown
        ]
        raise ValidationError(f"unknown {segment.entity} fields: {', '.join(unknown)}", problems=problems)
    return names, [registry.get(segment.entity, n) for n in names]


def _members_page(
    store: Store,
    segment: Segment,
    when: datetime,
    names: list[str],
    fields: list[Field],
    *,
    limit: int,
    offset: int,
    order: exp.Expr | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """A page of members (id first, then the fields) and how many members there are in all."""
    id_name = "company_id" if segment.entity == "company" else "contact_id"
    members = compiler(store, as_of=when, extra=segment).compile(segment, fields=fields).subquery("m")
    columns = [exp.column(f"f_{i}") for i in range(1, len(fields) + 1)]
    query = (
        exp.select(exp.column(MEMBER_ID), *columns)
        .from_(members)
        .order_by(order if order is not None else exp.column(MEMBER_ID))
        .limit(limit)
        .offset(offset)
    )
    rows = store.engine.query(query).to_pylist()
    items = [dict(zip([id_name, *names], row.values(), strict=True)) for row in rows]
    total = int(store.engine.scalar(exp.select(exp.Count(this=exp.Star())).from_(members.copy())) or 0)
    return items, total


@router.get("/{name}/count")
def count_members(name: SegmentName, store: Conn, _: CanRead, when: AsOf) -> dict[str, Any]:
    """How many members the segment has at ``as_of``."""
    segment = stored_segment(store, name)
    with in_range("query.as_of", WINDOW):
        count = segment_members(store, segment, as_of=when).num_rows
    return {"ok": True, "segment": name, "as_of": when, "count": count}


@router.get("/{name}/preview")
def preview(
    name: SegmentName,
    store: Conn,
    _: CanRead,
    when: AsOf,
    sample: Annotated[int, Query(ge=1, le=100, description="Members to show.")] = 10,
    fields: FieldList = None,
) -> dict[str, Any]:
    """The count and a sample of members with a few fields, for a look before using the segment.

    The sample is spread over the segment (ordered by a hash of the id, not
    the id), and the same members come back each time.
    """
    segment = stored_segment(store, name)
    names, resolved = _fields(store, segment, fields, PREVIEW_FIELDS[segment.entity])
    with in_range("query.as_of", WINDOW):
        items, total = _members_page(
            store, segment, when, names, resolved, limit=sample, offset=0, order=exp.func("MD5", exp.column(MEMBER_ID))
        )
    return {"ok": True, "segment": name, "as_of": when, "count": total, "fields": names, "sample": items}


@router.get(
    "/{name}/members",
    response_model=dict[str, Any],
    responses={200: {"content": {"text/csv": {}}, "description": "A page of members, or (format=csv) all of them."}},
)
def members(
    name: SegmentName,
    store: Conn,
    _: CanRead,
    when: AsOf,
    paging: Annotated[Page, Depends(page)],
    fields: FieldList = None,
    format: Annotated[
        Literal["json", "csv"], Query(description="json (paged) or csv (every member, a download).")
    ] = "json",
) -> dict[str, Any] | Response:
    """The members sorted by id with the fields asked for: a page of JSON, or every member as a CSV download."""
    segment = stored_segment(store, name)
    names, resolved = _fields(store, segment, fields, [])
    if format == "csv":
        with in_range("query.as_of", WINDOW):
            rows, header = member_rows(store, segment, when, names)
        out = io.StringIO()
        write_rows(rows, header, "csv", out)
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    with in_range("query.as_of", WINDOW):
        items, total = _members_page(store, segment, when, names, resolved, limit=paging.limit, offset=paging.offset)
    return {**paging.answer(items, total), "segment": name, "as_of": when}


def _member_key(store: Store, segment: Segment, contact: str | None, company: str | None) -> tuple[str, int] | None:
    """The member a request explains: a contact of a contact segment, a company of a company segment."""
    if contact is None and company is None:
        return None
    wanted = "company" if segment.entity == "company" else "contact"
    given = "contact" if contact is not None else "company"
    if given != wanted or (contact is not None and company is not None):
        raise UsageError(
            f"segment '{segment.name}' is a {segment.entity} segment: explain it for one {wanted} (?{wanted}=ID)",
            problems=[Problem(f"query.{given}", f"give {wanted}, not {given}")],
        )
    if contact is not None:
        return contact, find_contact_key(store, contact)
    assert company is not None
    return company, require_key(store, COMPANIES, company)


@router.get("/{name}/explain")
def explain(
    name: SegmentName,
    store: Conn,
    _: CanRead,
    when: AsOf,
    contact: Annotated[
        str | None, Query(max_length=320, pattern=NO_NUL, description="A contact's id or email.")
    ] = None,
    company: Annotated[str | None, Query(max_length=200, pattern=NO_NUL, description="A company's id.")] = None,
) -> dict[str, Any]:
    """The definition in plain language; for one contact (or company), whether each condition holds and why."""
    segment = stored_segment(store, name)
    answer: dict[str, Any] = {"ok": True, "segment": name, "explanation": explain_segment(segment, store.registry())}
    found = _member_key(store, segment, contact, company)
    if found is None:
        return answer
    member, key = found
    with in_range("query.as_of", WINDOW):
        is_member = segment_members(store, segment, as_of=when, keys=[key]).num_rows > 0
        # a static segment has no conditions to check: its list decides
        checks = [] if segment.kind == "static" else explain_member(store, segment, key, as_of=when)
    return {
        **answer,
        "member": member,
        "is_member": is_member,
        "as_of": when,
        "checks": [{"depth": c.depth, "text": c.text, "holds": c.holds, "seen": c.seen} for c in checks],
    }


@router.get("/{name}/sql")
def sql(
    name: SegmentName,
    store: Conn,
    _: CanRead,
    when: AsOf,
    engine: Annotated[
        Literal["duckdb", "postgres", "spark"], Query(description="The engine whose SQL to show.")
    ] = "duckdb",
) -> dict[str, Any]:
    """The SQL an engine runs for the segment, with the cutoffs computed for ``as_of``."""
    segment = stored_segment(store, name)
    with in_range("query.as_of", WINDOW):
        text = segment_sql(store, segment, engine=engine, as_of=when)
    return {"ok": True, "segment": name, "engine": engine, "as_of": when, "sql": text}


@router.get("/{name}/history")
def history(name: SegmentName, store: Conn, _: CanRead, paging: Annotated[Page, Depends(page)]) -> dict[str, Any]:
    """Size, entries and exits of the segment at each refresh, oldest first."""
    stored_segment(store, name)
    rows = segment_history(store, name)
    return {**paging.answer(rows[paging.offset : paging.offset + paging.limit], len(rows)), "segment": name}
