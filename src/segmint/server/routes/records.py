"""Records through the API: one row written by the loader, rows read back, searched and forgotten.

Shared by the routers of contacts, companies, deals and consents (this module
has no router of its own).  A write is a one-row Arrow table given to
:func:`~segmint.store.load.load_tables`, so a row from the API meets the very
rules of a row from a file (DATA.md): the same validation, the same upsert by
id where an empty value never erases a stored one, the same references
created, the same custom properties found.  A row the loader rejects answers
422 with each reason as an error at its path; nothing is stored then.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable, Iterator, Set
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
from sqlglot import exp

from segmint.errors import ConflictError, NotFoundError, OverloadedError, Problem, ValidationError
from segmint.model.tables import (
    COMPANIES,
    CONTACTS,
    SEGMENT_CHANGES,
    SEGMENT_MEMBERS,
    SEGMENTS,
    STATIC_MEMBERS,
    Table,
)
from segmint.server.app import ServerState
from segmint.server.schemas import Page, Record
from segmint.store.load import LoadSummary, load_tables
from segmint.store.store import Store

#: the users' id each reference column stands for: (table, its alias in queries)
REFERENCES = {"contact_id": (CONTACTS, "rc"), "company_id": (COMPANIES, "rco")}

# A reject's reasons are joined by "; ", each starting with its column: "email: 'x' is not ...; country: ..."
_REASON_SPLIT = re.compile(r"; (?=[a-z_][a-z0-9_]*: )")
_REASON = re.compile(r"^([a-z_][a-z0-9_]*): (.*)$", re.DOTALL)


def row_of(record: Record, table: Table, **ids: str) -> tuple[dict[str, Any], set[str]]:
    """The import row of a request (its columns, its custom properties beside them, the ids given) and
    the names of its custom properties."""
    data = record.model_dump(exclude_none=True)
    properties: dict[str, Any] = data.pop("properties", {})
    taken = set(table.column_names) | set(table.references) | {"email", "properties"}
    clashes = [
        Problem(f"properties.{name}", f"'{name}' is a built-in field of {table.name}, not a custom property")
        for name in properties
        if name in taken
    ]
    if clashes:
        raise ValidationError("custom properties may not reuse built-in names", problems=clashes)
    data.update({name: value for name, value in properties.items() if value is not None})
    data.update(ids)
    return data, set(properties)


def _array(value: Any) -> pa.Array:
    # bool before int: True is an int in Python, and a boolean custom property must stay boolean
    if isinstance(value, bool):
        return pa.array([value], pa.bool_())
    if isinstance(value, int):
        return pa.array([value], pa.int64())
    if isinstance(value, float):
        return pa.array([value], pa.float64())
    return pa.array([str(value)], pa.string())


def reason_problems(reason: str, properties: Set[str] = frozenset()) -> list[Problem]:
    """A reject's reasons as problems; a custom property's path is ``properties.<name>``, as the client sent it."""
    problems = []
    for part in _REASON_SPLIT.split(reason):
        found = _REASON.match(part)
        if found is None:
            problems.append(Problem("", part))
            continue
        column, message = found.groups()
        problems.append(Problem(f"properties.{column}" if column in properties else column, message))
    return problems


def write_row(
    state: ServerState, store: Store, entity: str, row: dict[str, Any], properties: Set[str] = frozenset()
) -> LoadSummary:
    """Load one row of ``entity`` (the caller holds ``state.write_lock``); a rejected row is a 422.

    The rejects file the loader writes goes to a folder removed at once: the
    reasons are in the answer, and a client's data does not linger on disk.
    """
    table = pa.table({name: _array(value) for name, value in row.items()})
    with tempfile.TemporaryDirectory(prefix="segmint-api-") as folder:
        summary = load_tables(store, entity, [table], source="api", rejects_dir=folder)
    samples = [reason for file in summary.files for _, reason in file.reject_samples]
    if samples:
        problems = [p for reason in samples for p in reason_problems(reason, properties)]
        raise ValidationError(f"not stored: {'; '.join(samples)}", problems=problems)
    if summary.new_fields:
        # New custom properties: the connections of later requests start from the server's registry.
        state.store._registry = store.registry()
    return summary


def written(summary: LoadSummary) -> dict[str, Any]:
    """What a write did besides the row itself: referenced records it created, custom properties it added."""
    return {
        "created_references": dict(summary.created_references),
        "new_fields": [f.name for f in summary.new_fields],
    }


def now_text() -> str:
    """``created_at`` of a record made through the API."""
    return datetime.now(UTC).isoformat()


def create_record(state: ServerState, store: Store, table: Table, body: Record) -> dict[str, Any]:
    """``POST``: a new company or deal (409 if its id exists); bad values answer 422 at their fields."""
    ident = str(table.id_column)
    row, properties = row_of(body, table)
    row.setdefault("created_at", now_text())
    with state.write_lock:
        if find_key(store, table, row[ident]) is not None:
            raise ConflictError(
                f"a {table.entity} '{row[ident]}' exists: update it with PATCH or PUT /api/{table.name}/{{id}}",
                problems=[Problem(ident, f"'{row[ident]}' exists")],
            )
        summary = write_row(state, store, table.name, row, properties)
        key = require_key(store, table, row[ident])
    return {"ok": True, table.entity: read_record(store, table, key), **written(summary)}


def put_record(state: ServerState, store: Store, table: Table, ident: str, body: Record) -> dict[str, Any]:
    """``PUT``: create or update the record with this id; ``created`` says which (fields left out keep their values)."""
    id_column = str(table.id_column)
    row, properties = row_of(body, table, **{id_column: ident.strip()})
    with state.write_lock:
        created = find_key(store, table, row[id_column]) is None
        if created:
            row.setdefault("created_at", now_text())
        summary = write_row(state, store, table.name, row, properties)
        key = require_key(store, table, row[id_column])
    return {"ok": True, "created": created, table.entity: read_record(store, table, key), **written(summary)}


def patch_record(
    state: ServerState, store: Store, table: Table, locate: Callable[[Store], int], body: Record
) -> dict[str, Any]:
    """``PATCH``: change the given fields of the record ``locate`` finds (404 when none); null keeps a value."""
    with state.write_lock:
        key = locate(store)
        ident = read_record(store, table, key)[str(table.id_column)]
        row, properties = row_of(body, table, **{str(table.id_column): ident})
        summary = write_row(state, store, table.name, row, properties)
    return {"ok": True, table.entity: read_record(store, table, key), **written(summary)}


# ---- reading --------------------------------------------------------------------------


def find_key(store: Store, table: Table, value: str) -> int | None:
    """The surrogate key of the row whose users' id is ``value``."""
    assert table.id_column
    assert table.key_column
    key = store.engine.scalar(
        exp.select(table.key_column).from_(table.name).where(exp.column(table.id_column).eq(exp.Literal.string(value)))
    )
    return None if key is None else int(key)


def require_key(store: Store, table: Table, value: str) -> int:
    key = find_key(store, table, value)
    if key is None:
        raise NotFoundError(f"no {table.entity} with id '{value}'")
    return key


def select_records(table: Table) -> exp.Select:
    """``SELECT`` of a table's rows (alias ``t``) with the users' ids of the records they refer to."""
    query = exp.select("t.*").from_(exp.to_table(table.name).as_("t"))
    for reference in table.references:
        other, alias = REFERENCES[reference]
        assert other.key_column
        query = query.select(exp.column(reference, table=alias).as_(reference)).join(
            exp.to_table(other.name).as_(alias),
            on=exp.column(other.key_column, table=alias).eq(exp.column(other.key_column, table="t")),
            join_type="left",
        )
    return query


def clean(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row as the API shows it: no internal keys; JSON properties as an object."""
    shown = {k: v for k, v in row.items() if not k.endswith("_key")}
    if isinstance(shown.get("properties"), str):
        shown["properties"] = json.loads(shown["properties"])
    return shown


def read_record(store: Store, table: Table, key: int) -> dict[str, Any]:
    """One row by its surrogate key, as the API shows it."""
    assert table.key_column
    rows = store.engine.query(
        select_records(table).where(exp.column(table.key_column, table="t").eq(exp.Literal.number(key)))
    ).to_pylist()
    if not rows:
        raise NotFoundError(f"no {table.entity} with key {key}")
    return clean(rows[0])


def _contains(column: exp.Expr, text: str) -> exp.Expr:
    """``column`` holds ``text``, ignoring case (a position, not LIKE: the text's % and _ are plain characters)."""
    return exp.GT(
        this=exp.StrPosition(this=exp.Lower(this=column), substr=exp.Literal.string(text.lower())),
        expression=exp.Literal.number(0),
    )


def _column(table: Table, name: str) -> exp.Column:
    if name in table.references:
        return exp.column(name, table=REFERENCES[name][1])
    return exp.column(name, table="t")


def search_records(
    store: Store,
    table: Table,
    page: Page,
    *,
    q: str | None = None,
    q_columns: tuple[str | exp.Expr, ...] = (),
    filters: dict[str, str | None] | None = None,
    order: str | None = None,
) -> dict[str, Any]:
    """A page of a table's rows: ``q`` a substring of any of ``q_columns``, each filter equal (ignoring case)."""
    conditions: list[exp.Expr] = []
    if q:
        conditions.append(
            exp.or_(*(_contains(c if isinstance(c, exp.Expr) else _column(table, c), q) for c in q_columns))
        )
    for name, value in (filters or {}).items():
        if value is not None:
            conditions.append(exp.Lower(this=_column(table, name)).eq(exp.Literal.string(value.lower())))
    where = exp.and_(*conditions) if conditions else None
    query = select_records(table)
    count = exp.select(exp.Count(this=exp.Star())).from_(query.subquery("r"))
    if where is not None:
        query = query.where(where)
        count = exp.select(exp.Count(this=exp.Star())).from_(select_records(table).where(where).subquery("r"))
    order_by = order or table.id_column
    assert order_by
    query = query.order_by(exp.column(order_by, table="t")).limit(page.limit).offset(page.offset)
    rows = store.engine.query(query).to_pylist()
    total = int(store.engine.scalar(count) or 0)
    return page.answer([clean(r) for r in rows], total)


# ---- forgetting -----------------------------------------------------------------------

#: how long a deletion waits for a running refresh before answering 429
DELETE_WAIT_SECONDS = 30.0


@contextmanager
def refresh_paused(state: ServerState) -> Iterator[None]:
    """No refresh runs inside: one that ran beside a deletion would put the deleted record back in its segments.

    A full refresh can take minutes on a big store; after half a minute the
    deletion gives up with 429 and Retry-After rather than hold a request open.
    """
    if not state.refresh_lock.acquire(timeout=DELETE_WAIT_SECONDS):
        raise OverloadedError("a refresh is running; retry the deletion when it is done", retry_after=10)
    try:
        yield
    finally:
        state.refresh_lock.release()


def count_where(store: Store, table: str, condition: exp.Expr) -> int:
    return int(store.engine.scalar(exp.select(exp.Count(this=exp.Star())).from_(table).where(condition)) or 0)


def forget_member(store: Store, entity: str, key: int) -> dict[str, int]:
    """Remove a deleted contact's or company's memberships, history and traits (inside a transaction).

    Keys are numbered from the largest one, so the next record made may get
    this key again: nothing may still point at it.  Rows of segments of the
    other entity are kept (their keys count other records).
    """
    engine = store.engine
    other = "company" if entity == "contact" else "contact"
    other_segments = exp.select("name").from_(SEGMENTS.name).where(exp.column("entity").eq(exp.Literal.string(other)))
    mine = exp.and_(
        exp.column("member_key").eq(exp.Literal.number(key)),
        exp.not_(exp.column("segment").isin(query=other_segments)),
    )
    removed = {}
    for table in (SEGMENT_MEMBERS, STATIC_MEMBERS, SEGMENT_CHANGES):
        removed[table.name] = count_where(store, table.name, mine)
        engine.delete_where(table.name, engine.sql(mine))
    from segmint.traits import trait_models

    for model in trait_models(store.settings):
        if model.entity == entity and engine.table_exists(model.table):
            engine.delete_where(model.table, engine.sql(exp.column(model.key).eq(exp.Literal.number(key))))
    return removed


def drop_from_static_segments(store: Store, entity: str, member_id: str) -> list[str]:
    """Take a deleted record's id out of the static segments that list it; their names.

    A static segment's definition keeps its members' ids: left there, the id
    of a deleted record would make the definition invalid ("unknown id") the
    next time it is applied.
    """
    from segmint.segments import apply_segments, stored_segments

    changed = {
        name: replace(segment, members=tuple(m for m in segment.members if m != member_id))
        for name, segment in stored_segments(store).items()
        if segment.kind == "static" and segment.entity == entity and member_id in segment.members
    }
    if changed:
        apply_segments(store, changed)
    return sorted(changed)


def unlink(store: Store, table: str, column: str, key: int) -> int:
    """Set ``column`` to NULL where it is ``key`` (rows that referred to a deleted record); how many rows."""
    condition = exp.column(column).eq(exp.Literal.number(key))
    found = count_where(store, table, condition)
    if found:
        store.engine.run(exp.update(table, {column: exp.null()}, where=condition).sql(dialect=store.engine.dialect))
    return found


__all__ = [
    "clean",
    "count_where",
    "drop_from_static_segments",
    "find_key",
    "forget_member",
    "read_record",
    "reason_problems",
    "refresh_paused",
    "require_key",
    "row_of",
    "search_records",
    "select_records",
    "unlink",
    "write_row",
    "written",
]
