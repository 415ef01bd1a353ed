"""``segmint stats``: what data do we have?

The seeds' first mistake is not using the data you already have, so this
report shows every table's size, the time its rows span, and how often each
field is filled in: a field set on 3 % of contacts will not carry a segment.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlglot import exp

from segmint.model.tables import CONSENTS, EVENTS
from segmint.store.store import Store

# The timestamp that dates each table's rows.
DATE_COLUMNS = {
    "contacts": "created_at",
    "companies": "created_at",
    "deals": "created_at",
    "events": "ts",
    "consents": "ts",
}


@dataclass
class FieldFill:
    name: str
    type: str
    filled: int
    rate: float


@dataclass
class TableStats:
    table: str
    rows: int
    first: str | None
    last: str | None
    fields: list[FieldFill] = field(default_factory=list)


@dataclass
class StoreStats:
    url: str
    tables: list[TableStats]
    events_by_name: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _fill_rates(store: Store, table: str, columns: list[tuple[str, str]]) -> tuple[int, list[FieldFill], Any, Any]:
    date_col = DATE_COLUMNS[table]
    select = [
        exp.Count(this=exp.Star()).as_("n"),
        exp.Min(this=exp.column(date_col)).as_("first"),
        exp.Max(this=exp.column(date_col)).as_("last"),
    ]
    select += [exp.Count(this=exp.column(name, quoted=True)).as_(f"f{i}") for i, (name, _) in enumerate(columns)]
    row = store.engine.query(exp.select(*select).from_(exp.to_table(table))).to_pylist()[0]
    rows = int(row["n"] or 0)
    fills = [
        FieldFill(name, kind, int(row[f"f{i}"] or 0), round(int(row[f"f{i}"] or 0) / rows, 4) if rows else 0.0)
        for i, (name, kind) in enumerate(columns)
    ]
    return rows, fills, row["first"], row["last"]


def store_stats(store: Store) -> StoreStats:
    """Row counts, date ranges and the fill rate of every field, per table."""
    registry = store.registry()
    tables = []
    for entity, table in (("contact", "contacts"), ("company", "companies"), ("deal", "deals")):
        columns = [
            (f.column, f.type.value) for f in registry.for_entity(entity) if f.via is None and f.origin != "trait"
        ]
        tables.append(_table_stats(store, table, columns))
    event_columns = [(c.name, c.type.value) for c in EVENTS.input_columns]
    tables.append(_table_stats(store, "events", event_columns))
    tables.append(_table_stats(store, "consents", [(c.name, c.type.value) for c in CONSENTS.input_columns]))
    by_name = store.engine.query(
        exp.select(exp.column("event"), exp.Count(this=exp.Star()).as_("n"))
        .from_(exp.to_table("events"))
        .group_by(exp.column("event"))
        .order_by(exp.column("event"))
    ).to_pylist()
    return StoreStats(store.url, tables, {r["event"]: int(r["n"]) for r in by_name})


def _table_stats(store: Store, table: str, columns: list[tuple[str, str]]) -> TableStats:
    rows, fills, first, last = _fill_rates(store, table, columns)
    return TableStats(table, rows, first.isoformat() if first else None, last.isoformat() if last else None, fills)
