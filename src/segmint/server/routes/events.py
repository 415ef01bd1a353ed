"""``/api/contacts/{contact}/events``: a contact's event timeline, newest first.

Events arrive through the tracking API (``/v1/...``) or loads; here they are
read: paged, optionally one event name and a time range.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from sqlglot import exp

from segmint.model.tables import EVENTS
from segmint.server.deps import CanRead, Conn
from segmint.server.schemas import NO_NUL, Page, page, timestamp_param
from segmint.store.profiles import find_contact_key

router = APIRouter(tags=["events"])

TimeParam = Annotated[str | None, Query(max_length=64, description="ISO 8601; a date is midnight UTC.")]


@router.get("/api/contacts/{contact}/events")
def contact_events(
    contact: Annotated[str, Path(max_length=320, pattern=NO_NUL, description="The contact's id or email.")],
    store: Conn,
    _: CanRead,
    paging: Annotated[Page, Depends(page)],
    event: Annotated[str | None, Query(max_length=200, pattern=NO_NUL, description="Only events of this name.")] = None,
    since: TimeParam = None,
    until: TimeParam = None,
) -> dict[str, Any]:
    """The contact's events, newest first; ``since`` and ``until`` are inclusive.

    Each event shows its typed properties that are set and the others as the ``properties`` object.
    """
    start, end = timestamp_param(since, "since"), timestamp_param(until, "until")
    key = find_contact_key(store, contact)
    conditions: list[exp.Expr] = [exp.column("contact_key").eq(exp.Literal.number(key))]
    if event is not None:
        conditions.append(exp.column("event").eq(exp.Literal.string(event)))
    for bound, compare in ((start, exp.GTE), (end, exp.LTE)):
        if bound is not None:
            literal = exp.cast(exp.Literal.string(bound.isoformat()), exp.DataType.build("timestamptz"))
            conditions.append(compare(this=exp.column("ts"), expression=literal))
    where = exp.and_(*conditions)
    columns = [c.name for c in EVENTS.input_columns]
    rows = store.engine.query(
        exp.select(*columns)
        .from_(EVENTS.name)
        .where(where)
        .order_by("ts DESC", "event_id")
        .limit(paging.limit)
        .offset(paging.offset)
    ).to_pylist()
    total = int(store.engine.scalar(exp.select(exp.Count(this=exp.Star())).from_(EVENTS.name).where(where)) or 0)
    items = []
    for row in rows:
        shown = {k: v for k, v in row.items() if v is not None}
        if isinstance(shown.get("properties"), str):
            shown["properties"] = json.loads(shown["properties"])
        items.append(shown)
    return paging.answer(items, total)
