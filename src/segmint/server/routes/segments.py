"""``/api/segments``: validate, create, update, delete and list segment definitions; diff; static members.

A definition is a SEGMENTS.md document sent as JSON, or its YAML text as
``{"yaml": "..."}``.  It is checked against the store's fields and stored
segments with every problem reported at once, each at its path in the
document; an invalid definition is never stored (``segmint segment apply``'s
all-or-nothing rule).  Reading a segment's members, counts and explanations is
in :mod:`segmint.server.routes.membership`.

Segments are named by the path only among the *stored* ones: a name never
reaches the CLI's resolver, which would read a file of that name from the
server's disk.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from sqlglot import exp

from segmint.cli.segment import segment_overview
from segmint.compile import MEMBER_ID
from segmint.dsl import Segment, explain_segment, load_segment, read_yaml
from segmint.errors import ConflictError, NotFoundError, Problem, UsageError, ValidationError
from segmint.model.tables import SEGMENT_MEMBERS, SEGMENTS
from segmint.segments import apply_segments, delete_segment, segment_members, segment_sql, stored_segments
from segmint.segments.definitions import static_member_ids
from segmint.segments.evaluate import now_utc
from segmint.server.deps import CanRead, CanWrite, Conn, state_of
from segmint.server.routes.records import refresh_paused
from segmint.server.schemas import (
    Page,
    SnapshotRequest,
    StaticMembersChange,
    as_of,
    check_document,
    page,
    timestamp_param,
)
from segmint.store.store import Store

router = APIRouter(prefix="/api/segments", tags=["segments"])

NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
SegmentName = Annotated[str, Path(pattern=NAME_PATTERN, description="A stored segment's name.")]
AsOf = Annotated[datetime, Depends(as_of)]

EXAMPLE = {
    "name": "finnish-leads",
    "title": "Leads in Finland",
    "conditions": [
        {"field": "country", "op": "eq", "value": "FI"},
        {"event": "page_view", "where": [{"field": "url", "op": "contains", "value": "/pricing"}], "within": "30d"},
    ],
}
Definition = Annotated[
    dict[str, Any],
    Body(
        description='A SEGMENTS.md definition as JSON, or {"yaml": "<the YAML text>"}.',
        examples=[EXAMPLE, {"yaml": "name: finns\nconditions:\n  - {field: country, op: eq, value: FI}\n"}],
    ),
]


def stored_segment(store: Store, name: str) -> Segment:
    """A stored segment by name, or 404 naming the closest stored names."""
    stored = stored_segments(store)
    if name not in stored:
        close = difflib.get_close_matches(name, list(stored), n=3)
        raise NotFoundError(
            f"no segment named '{name}'", problems=[Problem("name", f"no segment named '{name}'", close)]
        )
    return stored[name]


def _source(body: dict[str, Any], name: str | None) -> Any:
    """The document of a request: the JSON object (named by the path when it names nothing), or the YAML read.

    Either is checked before the reader walks it (:func:`~segmint.server.schemas.check_document`).
    """
    check_document(body)
    if "yaml" in body and len(body) == 1:
        if not isinstance(body["yaml"], str):
            raise ValidationError("yaml: expected the YAML text", problems=[Problem("yaml", "expected a string")])
        try:
            data = read_yaml(body["yaml"], origin="yaml")
        except RecursionError as exc:  # the YAML parser recurses per level of nesting
            raise UsageError(
                "the document is too large to read", problems=[Problem("yaml", "nested too deeply")]
            ) from exc
        check_document(data)
        return data
    if name is not None and "name" not in body:
        return {"name": name, **body}
    return body


@contextmanager
def in_range(path: str, what: str) -> Iterator[None]:
    """A date or window beyond the calendar (``within: 1000000d``, ``as_of`` in the year 1) is the client's: a 422.

    Windows are computed in Python as ``as_of - duration``, which overflows
    before year 1 and after 9999.
    """
    try:
        yield
    except OverflowError as exc:
        message = f"{what} reaches beyond the calendar (years 1 to 9999)"
        raise ValidationError(message, problems=[Problem(path, message)]) from exc


def check_definition(store: Store, body: dict[str, Any], *, name: str | None = None) -> Segment:
    """Parse and validate a definition against this store: every problem at once, each at its path.

    With ``name`` (the path's), the definition must be of that segment.  The
    definition is compiled once at now, so a window no refresh could compute
    is refused here rather than failing every refresh after it is stored.
    """
    with in_range("conditions", "a window of the definition"):
        segment = load_segment(_source(body, name), store.registry(), stored_segments(store), origin="segment")
        segment_sql(store, segment, engine=store.engine.name, as_of=now_utc())
    if name is not None and segment.name != name:
        raise UsageError(
            f"the definition names '{segment.name}', the path '{name}'",
            problems=[Problem("name", f"'{segment.name}' is not '{name}', the segment of the path")],
        )
    return segment


def segment_detail(store: Store, name: str) -> dict[str, Any]:
    """A stored segment: its definition, the definition in words, its size and last refresh, and who uses it."""
    stored = stored_segments(store)
    segment = stored_segment(store, name)
    overview = next(r for r in segment_overview(store) if r["name"] == name)
    times = store.engine.query(
        exp.select("created_at", "updated_at")
        .from_(SEGMENTS.name)
        .where(exp.column("name").eq(exp.Literal.string(name)))
    ).to_pylist()[0]
    return {
        **overview,
        "title": segment.title,
        "description": segment.description,
        "tags": list(segment.tags),
        "definition": segment.to_dict(),
        "explanation": explain_segment(segment, store.registry()),
        "uses": sorted(segment.dependencies()),
        "used_by": sorted(n for n, s in stored.items() if name in s.dependencies()),
        **times,
    }


@router.post("/validate")
def validate_definition(body: Definition, store: Conn, _: CanRead) -> dict[str, Any]:
    """Check a definition without storing it: 422 with every problem at its path, or the definition normalised.

    A read key may validate: nothing changes.
    """
    segment = check_definition(store, body)
    return {
        "ok": True,
        "valid": True,
        "name": segment.name,
        "definition": segment.to_dict(),
        "explanation": explain_segment(segment, store.registry()),
        "exists": segment.name in stored_segments(store),
    }


@router.get("")
def list_segments(
    store: Conn,
    _: CanRead,
    paging: Annotated[Page, Depends(page)],
    entity: Annotated[str | None, Query(pattern="^(contact|company)$")] = None,
    kind: Annotated[str | None, Query(pattern="^(dynamic|static)$")] = None,
) -> dict[str, Any]:
    """Every segment by name: kind, entity, members after its last refresh (static: its list), and that refresh."""
    rows = [
        r
        for r in segment_overview(store)
        if (entity is None or r["entity"] == entity) and (kind is None or r["kind"] == kind)
    ]
    return paging.answer(rows[paging.offset : paging.offset + paging.limit], len(rows))


@router.get("/{name}")
def get_segment(name: SegmentName, store: Conn, _: CanRead) -> dict[str, Any]:
    """A segment: its definition, the definition in plain language, its size and last refresh, who uses it."""
    return {"ok": True, "segment": segment_detail(store, name)}


@router.post("", status_code=201)
def create_segment(body: Definition, request: Request, store: Conn, _: CanWrite) -> dict[str, Any]:
    """Store a new segment (409 if the name is taken); an invalid definition is 422 and nothing is stored."""
    state = state_of(request)
    with state.write_lock:
        segment = check_definition(store, body)
        if segment.name in stored_segments(store):
            raise ConflictError(
                f"a segment '{segment.name}' exists: change it with PUT /api/segments/{segment.name}",
                problems=[Problem("name", f"'{segment.name}' exists")],
            )
        apply_segments(store, {segment.name: segment})
        return {"ok": True, "segment": segment_detail(store, segment.name)}


@router.put("/{name}")
def update_segment(name: SegmentName, body: Definition, request: Request, store: Conn, _: CanWrite) -> dict[str, Any]:
    """Replace a stored segment's definition (404 if there is none); invalid is 422 and nothing changes.

    Members follow the new definition from the next refresh; ``POST /api/segments/diff`` shows who would move.
    """
    state = state_of(request)
    with state.write_lock:
        stored_segment(store, name)
        segment = check_definition(store, body, name=name)
        result = apply_segments(store, {name: segment})
        return {"ok": True, "changed": bool(result.updated), "segment": segment_detail(store, name)}


@router.delete("/{name}")
def remove_segment(name: SegmentName, request: Request, store: Conn, _: CanWrite) -> dict[str, Any]:
    """Delete a segment and its current membership (its refresh history stays); 409 while another segment uses it."""
    state = state_of(request)
    with state.write_lock:
        stored = stored_segments(store)
        stored_segment(store, name)
        users = sorted(n for n, s in stored.items() if name in s.dependencies())
        if users:
            raise ConflictError(
                f"segment '{name}' is used by {', '.join(users)}; change those first",
                problems=[Problem(f"{user}.conditions", f"uses segment '{name}'") for user in users],
            )
        with refresh_paused(state):  # a refresh running now would put the members back
            delete_segment(store, name)
            store.engine.delete_where(
                SEGMENT_MEMBERS.name, store.engine.sql(exp.column("segment").eq(exp.Literal.string(name)))
            )
    return {"ok": True, "deleted": name}


@router.post("/diff")
def diff_definition(
    body: Definition,
    store: Conn,
    _: CanRead,
    when: AsOf,
    limit: Annotated[int, Query(ge=0, le=10_000, description="Ids listed per direction.")] = 100,
) -> dict[str, Any]:
    """Dry run: who would enter and who would leave if this definition replaced the stored one of its name."""
    new = check_definition(store, body)
    old = stored_segments(store).get(new.name)
    with in_range("query.as_of", "a window at this as_of"):
        before = set(segment_members(store, old, as_of=when).column(MEMBER_ID).to_pylist()) if old else set()
        after = set(segment_members(store, new, as_of=when).column(MEMBER_ID).to_pylist())
    entering, leaving = sorted(after - before), sorted(before - after)
    return {
        "ok": True,
        "name": new.name,
        "exists": old is not None,
        "as_of": when,
        "before": len(before),
        "after": len(after),
        "entering_count": len(entering),
        "leaving_count": len(leaving),
        "entering": entering[:limit],
        "leaving": leaving[:limit],
    }


def _static(store: Store, name: str) -> Segment:
    segment = stored_segment(store, name)
    if segment.kind != "static":
        raise ConflictError(
            f"segment '{name}' is dynamic: its members follow its conditions; only static segments take members"
        )
    return segment


@router.post("/{name}/members")
def change_members(
    name: SegmentName, body: StaticMembersChange, request: Request, store: Conn, _: CanWrite
) -> dict[str, Any]:
    """Add and remove members of a static segment by id (an unknown id to add is 422; nothing changes then)."""
    state = state_of(request)
    with state.write_lock:
        segment = _static(store, name)
        members = (set(static_member_ids(store, segment)) | set(body.add)) - set(body.remove)
        apply_segments(store, {name: replace(segment, members=tuple(sorted(members)))})
    return {"ok": True, "segment": name, "members": len(members)}


@router.post("/{name}/snapshot")
def snapshot(name: SegmentName, body: SnapshotRequest, request: Request, store: Conn, _: CanWrite) -> dict[str, Any]:
    """Freeze another segment's members at ``as_of`` into static segment ``name`` (created when new)."""
    when = timestamp_param(body.as_of, "as_of") or now_utc()
    state = state_of(request)
    with state.write_lock:
        source = stored_segment(store, body.source)
        existing = stored_segments(store).get(name)
        if existing is not None:
            _static(store, name)
        with in_range("as_of", "a window at this as_of"):
            ids = segment_members(store, source, as_of=when).column(MEMBER_ID).to_pylist()
        base = existing or Segment(
            name, entity=source.entity, kind="static", title=f"Snapshot of {source.name} at {when:%Y-%m-%d %H:%M} UTC"
        )
        apply_segments(store, {name: replace(base, members=tuple(sorted(str(i) for i in ids)))})
    return {"ok": True, "segment": name, "members": len(ids), "as_of": when}
