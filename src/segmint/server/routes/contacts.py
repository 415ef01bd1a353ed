"""``/api/contacts``: create, update, read, search and delete contacts.

Writes go through the loader (see :mod:`segmint.server.routes.records`), one
at a time under the server's write lock.  ``GET /api/contacts/{contact}`` is
the profile ``segmint contacts show`` prints: fields, company, traits,
consents in force, current and past segments and the latest events.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlglot import exp

from segmint.errors import ConflictError, Problem, ValidationError
from segmint.model.tables import CONSENTS, CONTACTS, EVENTS
from segmint.server.deps import CanRead, CanWrite, Conn, state_of
from segmint.server.ingest import IDENTITIES
from segmint.server.routes.records import (
    count_where,
    drop_from_static_segments,
    forget_member,
    now_text,
    patch_record,
    put_record,
    read_record,
    refresh_paused,
    require_key,
    row_of,
    search_records,
    unlink,
    write_row,
    written,
)
from segmint.server.schemas import NO_NUL, ContactCreate, ContactFields, Page, page
from segmint.store.profiles import contact_profile, find_contact_key
from segmint.store.store import Store

router = APIRouter(prefix="/api/contacts", tags=["contacts"])

ContactRef = Annotated[str, Path(max_length=320, pattern=NO_NUL, description="The contact's id or email.")]
ContactId = Annotated[str, Path(min_length=1, max_length=200, pattern=NO_NUL, description="The contact's id.")]
Filter = Annotated[str | None, Query(max_length=200, pattern=NO_NUL)]


def _intended_id(row: dict[str, Any]) -> str | None:
    """The id a new contact gets: its contact_id, else its email as the loader normalises it (DATA.md)."""
    if "contact_id" in row:
        return str(row["contact_id"])
    try:
        return str(validate_email(str(row["email"]).strip(), check_deliverability=False).normalized.lower())
    except EmailNotValidError:
        return None  # the loader rejects the row, with its reason


def _full_name() -> exp.Expr:
    parts = [
        exp.func("COALESCE", exp.column(n, table="t"), exp.Literal.string("")) for n in ("first_name", "last_name")
    ]
    return exp.DPipe(this=exp.DPipe(this=parts[0], expression=exp.Literal.string(" ")), expression=parts[1])


@router.get("")
def search_contacts(
    store: Conn,
    _: CanRead,
    paging: Annotated[Page, Depends(page)],
    q: Annotated[
        str | None, Query(max_length=200, pattern=NO_NUL, description="A part of the id, email or name.")
    ] = None,
    country: Filter = None,
    region: Filter = None,
    city: Filter = None,
    language: Filter = None,
    lifecycle_stage: Filter = None,
    owner: Filter = None,
    source: Filter = None,
    role: Filter = None,
    seniority: Filter = None,
    company_id: Filter = None,
) -> dict[str, Any]:
    """Contacts by id, sorted by id; ``q`` matches a part of the id, email or name, each filter a whole value (case ignored)."""
    filters = {
        "country": country,
        "region": region,
        "city": city,
        "language": language,
        "lifecycle_stage": lifecycle_stage,
        "owner": owner,
        "source": source,
        "role": role,
        "seniority": seniority,
        "company_id": company_id,
    }
    return search_records(
        store,
        CONTACTS,
        paging,
        q=q,
        q_columns=("contact_id", "email", _full_name()),
        filters=filters,
    )


@router.post("", status_code=201)
def create_contact(body: ContactCreate, request: Request, store: Conn, _: CanWrite) -> dict[str, Any]:
    """Create a contact (409 if its id exists); without a contact_id its email is the id.

    The row is loaded like a row of a file: a bad email, country or timestamp
    answers 422 with each reason at its field; a company_id the store lacks
    creates that company (an id only).
    """
    row, properties = row_of(body, CONTACTS)
    if "contact_id" not in row and "email" not in row:
        raise ValidationError(
            "a contact needs a contact_id or an email",
            problems=[Problem("contact_id", "missing, and no email to use as the id")],
        )
    row.setdefault("created_at", now_text())
    state = state_of(request)
    with state.write_lock:
        wanted = _intended_id(row)
        if wanted is not None:
            same = exp.or_(
                exp.column("contact_id").eq(exp.Literal.string(wanted)),
                exp.column("email").eq(exp.Literal.string(wanted)) if "contact_id" not in row else exp.false(),
            )
            if count_where(store, CONTACTS.name, same):
                raise ConflictError(
                    f"a contact '{wanted}' exists: update it with PATCH or PUT /api/contacts/{{id}}",
                    problems=[Problem("contact_id" if "contact_id" in row else "email", f"'{wanted}' exists")],
                )
        summary = write_row(state, store, "contacts", row, properties)
        key = require_key(store, CONTACTS, str(wanted))  # a row without an id was rejected above
    return {"ok": True, "contact": read_record(store, CONTACTS, key), **written(summary)}


@router.put("/{contact_id}")
def put_contact(
    contact_id: ContactId, body: ContactFields, request: Request, response: Response, store: Conn, _: CanWrite
) -> dict[str, Any]:
    """Create or update the contact with this id (201 when created); fields left out keep their values."""
    answer = put_record(state_of(request), store, CONTACTS, contact_id, body)
    response.status_code = 201 if answer["created"] else 200
    return answer


@router.patch("/{contact}")
def update_contact(
    contact: ContactRef, body: ContactFields, request: Request, store: Conn, _: CanWrite
) -> dict[str, Any]:
    """Change the given fields of a contact (by id or email); a field left out or null keeps its value."""
    return patch_record(state_of(request), store, CONTACTS, lambda s: find_contact_key(s, contact), body)


@router.get("/{contact}")
def get_contact(
    contact: ContactRef,
    store: Conn,
    _: CanRead,
    events: Annotated[int, Query(ge=0, le=1000, description="How many of the latest events to include.")] = 20,
) -> dict[str, Any]:
    """A contact's profile (by id or email): fields, company, traits, consents, segments now and before, latest events."""
    profile = contact_profile(store, contact, events=events)
    for event in profile["latest_events"]:
        if isinstance(event.get("properties"), str):
            event["properties"] = json.loads(event["properties"])
    return {"ok": True, **profile}


def delete_contact_rows(store: Store, key: int, contact_id: str) -> dict[str, int]:
    """Delete a contact and everything that is only about it, in one transaction; rows removed per table.

    Its deals stay (they are the company's business) without the contact.
    """
    engine = store.engine
    mine = exp.column("contact_key").eq(exp.Literal.number(key))
    removed: dict[str, int] = {}
    with engine.transaction():
        for table in (EVENTS.name, CONSENTS.name):
            removed[table] = count_where(store, table, mine)
            engine.delete_where(table, engine.sql(mine))
        removed.update(forget_member(store, "contact", key))
        removed["deals_unlinked"] = unlink(store, "deals", "contact_key", key)
        if engine.table_exists(IDENTITIES.name):  # its anonymous ids would give later events back to it
            linked = exp.column("contact_id").eq(exp.Literal.string(contact_id))
            removed[IDENTITIES.name] = count_where(store, IDENTITIES.name, linked)
            engine.delete_where(IDENTITIES.name, engine.sql(linked))
        engine.delete_where(CONTACTS.name, engine.sql(mine))
    return removed


@router.delete("/{contact}")
def delete_contact(contact: ContactRef, request: Request, store: Conn, _: CanWrite) -> dict[str, Any]:
    """Delete a contact (by id or email) with its events, consents, memberships and segment history.

    A refresh that runs meanwhile would put the contact back into its
    segments, so the deletion waits for it (429 with Retry-After if it takes
    longer than half a minute).
    """
    state = state_of(request)
    with state.write_lock:
        key = find_contact_key(store, contact)
        contact_id = read_record(store, CONTACTS, key)["contact_id"]
        with refresh_paused(state):
            removed = delete_contact_rows(store, key, contact_id)
            static = drop_from_static_segments(store, "contact", contact_id)
    return {"ok": True, "deleted": {"contact_id": contact_id, **removed, "static_segments": static}}
