"""Fresh segments: refreshing only the contacts whose events arrived, and why it is safe.

A hand-worked example shows :func:`refresh_contacts` moving exactly the
touched contact (and its company).  Property tests (hypothesis, derandomised)
generate small random data and random definitions from SEGMENTS.md's grammar
and show that

- evaluation restricted to any set of keys is the full evaluation restricted
  to those keys (the restricted SQL the fresh path runs);
- ``refresh_contacts`` leaves exactly what a full refresh would leave for the
  touched members, and everyone else as they were;
- DuckDB, PostgreSQL and Spark give the same members, and the members a
  referee computes in plain Python from SEGMENTS.md's rules (:class:`Referee`).

Data is loaded through the real loader (Arrow tables in DATA.md's import
columns), once per example into one store per engine that is emptied between
examples.  Spark is slow, so it runs a handful of generated definitions
against one fixed data set, evaluated without writing to the store.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from segmint.compile import compiler_for
from segmint.dsl import (
    Absolute,
    AllOf,
    AnyOf,
    BetweenAgo,
    Condition,
    Count,
    EventCondition,
    FieldCondition,
    Not,
    Segment,
    SegmentCondition,
    Within,
    parse_segment,
)
from segmint.dsl.timestamps import parse_timestamp
from segmint.dsl.validate import validate_segments
from segmint.model.tables import (
    COMPANIES,
    CONTACTS,
    DATA_TABLES,
    SEGMENT_CHANGES,
    SEGMENT_MEMBERS,
    SEGMENT_TABLES,
    SEGMENTS,
)
from segmint.segments import apply_segments, fresh, refresh_segments, segment_members, stored_segments
from segmint.segments.fresh import FreshnessQueue, refresh_contacts, touched_keys
from segmint.store import Store, open_store
from segmint.store.load import load_tables

AS_OF = datetime(2026, 6, 30, 12, tzinfo=UTC)
_TS = pa.timestamp("us", tz="UTC")

#: the engines the per-engine property tests run on (Spark has its own, smaller test)
SQL_ENGINES = [
    pytest.param("duckdb", marks=pytest.mark.duckdb),
    pytest.param("postgres", marks=pytest.mark.postgres),
]

PROPERTY_SETTINGS = settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def at(hours: int) -> datetime:
    """``hours`` before AS_OF (negative: after it)."""
    return AS_OF - timedelta(hours=hours)


# ---- data: rows in DATA.md's import columns ---------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    """Rows of companies, contacts and events (dicts of import columns)."""

    companies: tuple[dict[str, Any], ...]
    contacts: tuple[dict[str, Any], ...]
    events: tuple[dict[str, Any], ...]
    #: the JSON property ``score`` is loaded as integers or as floats
    score_type: str = "float"

    @property
    def contact_ids(self) -> list[str]:
        return [c["contact_id"] for c in self.contacts]

    @property
    def company_ids(self) -> list[str]:
        return [c["company_id"] for c in self.companies]


def _column(rows: tuple[dict[str, Any], ...], name: str, kind: pa.DataType) -> pa.Array:
    return pa.array([r.get(name) for r in rows], kind)


def event_table(rows: tuple[dict[str, Any], ...], score_type: str = "float") -> pa.Table:
    """Events as an import table: typed columns, and ``plan``/``score`` that become JSON properties."""
    return pa.table(
        {
            "event_id": _column(rows, "event_id", pa.string()),
            "contact_id": _column(rows, "contact_id", pa.string()),
            "event": _column(rows, "event", pa.string()),
            "ts": _column(rows, "ts", _TS),
            "amount": _column(rows, "amount", pa.float64()),
            "topic": _column(rows, "topic", pa.string()),
            "plan": _column(rows, "plan", pa.string()),
            "score": _column(rows, "score", pa.int64() if score_type == "int" else pa.float64()),
            "vip": _column(rows, "vip", pa.bool_()),
            "seen_at": _column(rows, "seen_at", _TS),
            # a nested object: its keys are reached with dots (meta.level)
            "properties": pa.StructArray.from_arrays(
                [
                    pa.StructArray.from_arrays(
                        [_column(rows, "meta.level", pa.int64()), _column(rows, "meta.tag", pa.string())],
                        ["level", "tag"],
                    )
                ],
                ["meta"],
            ),
        }
    )


def load_dataset(store: Store, data: Dataset) -> None:
    """Load through the real loader; every row must load."""
    tables = {
        "companies": pa.table(
            {
                "company_id": _column(data.companies, "company_id", pa.string()),
                "employees": _column(data.companies, "employees", pa.int64()),
                "country": _column(data.companies, "country", pa.string()),
            }
        ),
        "contacts": pa.table(
            {
                "contact_id": _column(data.contacts, "contact_id", pa.string()),
                "company_id": _column(data.contacts, "company_id", pa.string()),
                "country": _column(data.contacts, "country", pa.string()),
                "city": _column(data.contacts, "city", pa.string()),
                "is_partner": _column(data.contacts, "is_partner", pa.bool_()),
                "created_at": _column(data.contacts, "created_at", _TS),
            }
        ),
        "events": event_table(data.events, data.score_type),
    }
    for entity, table in tables.items():
        if table.num_rows:
            summary = load_tables(store, entity, [table], source=f"fresh-{entity}")
            assert summary.total("rejected") == 0, summary.files[0].reject_samples


def empty_store(store: Store) -> None:
    """Delete every row of data and segments (cheaper than a new store per example)."""
    with store.engine.transaction():
        for table in (*DATA_TABLES, *SEGMENT_TABLES):
            store.engine.delete_where(table.name, "TRUE")


# ---- strategies: data ---------------------------------------------------------------------

EVENT_NAMES = ("email_click", "page_view", "purchase")
#: hours before AS_OF: window edges (1h, 1d, 7d, 14d, 30d) hit exactly, and a few hours after AS_OF
HOURS = st.one_of(st.sampled_from([0, 1, 24, 36, 168, 336, 720]), st.integers(-72, 1440))
AMOUNTS = st.one_of(st.none(), st.sampled_from([0.0, 10.0, 99.5, 100.0, 250.0, -5.0]))


def event_rows(contact_ids: list[str], hours: st.SearchStrategy[int] = HOURS) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "contact_id": st.sampled_from(contact_ids),
            "event": st.sampled_from(EVENT_NAMES),
            "ts": hours.map(at),
            "amount": AMOUNTS,
            "topic": st.sampled_from([None, "hydraulics", "Hydraulics", " pumps", ""]),
            "plan": st.sampled_from([None, "pro", "free", "Pro ", ""]),
            "score": st.sampled_from([None, 1, 2, 3]),
            "vip": st.sampled_from([None, True, False]),
            "seen_at": st.one_of(st.none(), hours.map(at)),
            "meta.level": st.sampled_from([None, 0, 1, 5]),
            "meta.tag": st.sampled_from([None, "A", "b", ""]),
        }
    )


def _numbered(rows: list[dict[str, Any]], prefix: str, score_type: str) -> tuple[dict[str, Any], ...]:
    out = []
    for i, row in enumerate(rows):
        score = row["score"]
        if score is not None and score_type == "float":
            score = score * 1.25
        out.append({**row, "event_id": f"{prefix}{i}", "score": score})
    return tuple(out)


@st.composite
def datasets(draw: st.DrawFn) -> Dataset:
    company_ids = [f"co{i}" for i in range(draw(st.integers(1, 3)))]
    companies = tuple(
        {
            "company_id": cid,
            "employees": draw(st.one_of(st.none(), st.sampled_from([5, 50, 500]), st.integers(0, 1000))),
            "country": draw(st.sampled_from([None, "FI", "SE"])),
        }
        for cid in company_ids
    )
    contacts = tuple(
        {
            "contact_id": f"c{i:02}",
            "company_id": draw(st.sampled_from([None, *company_ids])),
            "country": draw(st.sampled_from([None, "FI", "SE", "DK"])),
            "city": draw(st.sampled_from([None, "Vaasa", "VAASA", " Oulu ", "Helsinki", ""])),
            "is_partner": draw(st.sampled_from([None, True, False])),
            "created_at": draw(st.one_of(st.none(), HOURS.map(at))),
        }
        for i in range(draw(st.integers(6, 10)))
    )
    score_type = draw(st.sampled_from(["float", "int"]))
    ids = [str(c["contact_id"]) for c in contacts]
    count = draw(st.integers(0, 30))  # a list strategy would mostly draw a handful
    events = _numbered(draw(st.lists(event_rows(ids), min_size=count, max_size=count)), "e", score_type)
    return Dataset(companies, contacts, events, score_type)


def fixed_dataset(seed: int) -> Dataset:
    """A varied data set made by a seeded PRNG from the same pools (Spark's one data set)."""
    rnd = random.Random(seed)
    company_ids = ["co0", "co1", "co2"]
    companies = tuple(
        {"company_id": cid, "employees": rnd.choice([None, 5, 50, 500, 77]), "country": rnd.choice([None, "FI", "SE"])}
        for cid in company_ids
    )
    contacts = tuple(
        {
            "contact_id": f"c{i:02}",
            "company_id": rnd.choice([None, *company_ids]),
            "country": rnd.choice([None, "FI", "SE", "DK"]),
            "city": rnd.choice([None, "Vaasa", "VAASA", " Oulu ", "Helsinki", ""]),
            "is_partner": rnd.choice([None, True, False]),
            "created_at": rnd.choice([None, at(rnd.choice([0, 24, 168, rnd.randint(-72, 1440)]))]),
        }
        for i in range(10)
    )
    events = [
        {
            "contact_id": f"c{rnd.randrange(10):02}",
            "event": rnd.choice(EVENT_NAMES),
            "ts": at(rnd.choice([0, 1, 24, 168, 336, 720, rnd.randint(-72, 1440), rnd.randint(0, 400)])),
            "amount": rnd.choice([None, 0.0, 10.0, 99.5, 100.0, 250.0, -5.0]),
            "topic": rnd.choice([None, "hydraulics", "Hydraulics", " pumps", ""]),
            "plan": rnd.choice([None, "pro", "free", "Pro ", ""]),
            "score": rnd.choice([None, 1, 2, 3]),
            "vip": rnd.choice([None, True, False]),
            "seen_at": rnd.choice([None, at(rnd.choice([0, 24, 168, rnd.randint(-72, 1440)]))]),
            "meta.level": rnd.choice([None, 0, 1, 5]),
            "meta.tag": rnd.choice([None, "A", "b", ""]),
        }
        for _ in range(40)
    ]
    return Dataset(companies, contacts, _numbered(events, "e", "float"), "float")


# ---- strategies: definitions (SEGMENTS.md's grammar) ---------------------------------------

DURATIONS = ("90m", "1h", "36h", "1d", "7d", "14d", "2w", "30d")
DURATION_DELTAS = {"90m": 1.5, "1h": 1, "36h": 36, "1d": 24, "7d": 168, "14d": 336, "2w": 336, "30d": 720}
TIMESTAMP_VALUES = st.one_of(
    HOURS.map(lambda h: at(h).isoformat().replace("+00:00", "Z")),
    st.sampled_from(["2026-06-01", "2026-06-23", "2026-06-30", "2026-07-01", "2026-06-29T12:00:00"]),
)

STRING_OPS = (
    "eq",
    "neq",
    "in",
    "not_in",
    "contains",
    "not_contains",
    "starts_with",
    "ends_with",
    "is_set",
    "is_not_set",
)
NUMBER_OPS = ("eq", "neq", "in", "not_in", "gt", "gte", "lt", "lte", "between", "is_set", "is_not_set")
TIMESTAMP_OPS = ("eq", "gt", "gte", "lt", "lte", "between", "is_set", "is_not_set", "within_last", "older_than")
BOOLEAN_OPS = ("eq", "neq", "is_set", "is_not_set")
COUNT_OPS = ("eq", "neq", "gt", "gte", "lt", "lte")


def _sort_key(value: Any) -> Any:
    if isinstance(value, str):
        return parse_timestamp(value)
    return value


def field_docs(name: str, ops: tuple[str, ...], values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """``{field, op, value}`` with a value of the shape the operator takes."""

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        op = draw(st.sampled_from(ops))
        doc: dict[str, Any] = {"field": name, "op": op}
        if op in ("in", "not_in"):
            doc["value"] = draw(st.lists(values, min_size=1, max_size=3))
        elif op == "between":
            doc["value"] = sorted(draw(st.lists(values, min_size=2, max_size=2)), key=_sort_key)
        elif op in ("within_last", "older_than"):
            doc["value"] = draw(st.sampled_from(DURATIONS))
        elif op not in ("is_set", "is_not_set"):
            doc["value"] = draw(values)
        return doc

    return build()


TEXT_VALUES = {
    "country": st.sampled_from(["FI", "fi", "SE", "DK", "F", "i", ""]),
    "city": st.sampled_from(["vaasa", "Vaasa", "OULU", "aa", "Hel", "a", ""]),
}
NUMBER_VALUES = st.sampled_from([0, 5, 50, 49.5, 500, 1000])


def contact_field_docs() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        field_docs("country", STRING_OPS, TEXT_VALUES["country"]),
        field_docs("company.country", STRING_OPS, TEXT_VALUES["country"]),
        field_docs("city", STRING_OPS, TEXT_VALUES["city"]),
        field_docs("company.employees", NUMBER_OPS, NUMBER_VALUES),
        field_docs("created_at", TIMESTAMP_OPS, TIMESTAMP_VALUES),
        field_docs("is_partner", BOOLEAN_OPS, st.booleans()),
        field_docs("company_id", ("eq", "neq", "in", "is_set", "is_not_set"), st.sampled_from(["co0", "co1", "CO2"])),
    )


def company_field_docs() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        field_docs("country", STRING_OPS, TEXT_VALUES["country"]),
        field_docs("employees", NUMBER_OPS, NUMBER_VALUES),
    )


def where_docs() -> st.SearchStrategy[dict[str, Any]]:
    """Conditions on event columns (``topic``, ``amount``, ``event``) and JSON properties (``plan``, ``score``)."""
    return st.one_of(
        field_docs("topic", STRING_OPS, st.sampled_from(["hydraulics", "HYDRAULICS", "pumps", "hyd", ""])),
        field_docs("amount", NUMBER_OPS, st.sampled_from([0, 10, 99.5, 100, 250])),
        field_docs("event", ("eq", "neq", "in"), st.sampled_from(EVENT_NAMES)),
        field_docs(
            "plan",
            ("eq", "neq", "in", "not_in", "contains", "starts_with", "is_set", "is_not_set"),
            st.sampled_from(["pro", "PRO", "free", "r"]),
        ),
        field_docs(
            "score",
            ("eq", "neq", "gt", "gte", "lt", "lte", "between", "in", "is_set", "is_not_set"),
            st.sampled_from([1, 2.5, 3, 3.75]),
        ),
        field_docs(
            "meta.level",
            ("eq", "neq", "gt", "lte", "between", "in", "is_set", "is_not_set"),
            st.sampled_from([0, 1, 2, 5]),
        ),
        field_docs("meta.tag", STRING_OPS, st.sampled_from(["a", "B", ""])),
        field_docs("vip", ("eq", "neq", "in", "is_set", "is_not_set"), st.booleans()),
        field_docs("seen_at", ("within_last", "older_than", "gt", "lte", "is_set"), TIMESTAMP_VALUES),
        field_docs("ts", TIMESTAMP_OPS, TIMESTAMP_VALUES),
    )


@st.composite
def event_docs(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "event": draw(
            st.one_of(
                st.sampled_from(EVENT_NAMES),
                st.lists(st.sampled_from(EVENT_NAMES), min_size=2, max_size=2, unique=True),
                st.just("*"),
            )
        )
    }
    if draw(st.booleans()):
        doc["where"] = draw(st.lists(where_docs(), min_size=1, max_size=2))
    window = draw(st.sampled_from(["none", "within", "between_ago", "since", "until", "since_until"]))
    if window == "within":
        doc["within"] = draw(st.sampled_from(DURATIONS))
    elif window == "between_ago":
        pair = draw(st.lists(st.sampled_from(DURATIONS), min_size=2, max_size=2, unique_by=DURATION_DELTAS.get))
        doc["between_ago"] = sorted(pair, key=DURATION_DELTAS.__getitem__, reverse=True)
    elif window != "none":
        bounds = sorted(draw(st.lists(TIMESTAMP_VALUES, min_size=2, max_size=2)), key=_sort_key)
        if window in ("since", "since_until"):
            doc["since"] = bounds[0]
        if window in ("until", "since_until"):
            doc["until"] = bounds[1]
    measure = draw(st.sampled_from(["default", "count", "count", "aggregate"]))
    if measure == "count":
        doc["count"] = {"op": draw(st.sampled_from(COUNT_OPS)), "value": draw(st.integers(0, 3))}
    elif measure == "aggregate":
        doc["aggregate"] = {
            "fn": draw(st.sampled_from(["sum", "avg", "min", "max"])),
            "field": draw(st.sampled_from(["amount", "score", "meta.level"])),
            "op": draw(st.sampled_from(COUNT_OPS)),
            "value": draw(st.sampled_from([0, 10, 99.5, 100, 2.5, 3])),
        }
    if draw(st.integers(0, 4)) == 0:
        doc["first_time"] = True
    return doc


def condition_docs(entity: str, refs: list[str], depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """One condition: a field, event or segment leaf, or all/any/not nesting up to depth 2."""
    leaves = [contact_field_docs() if entity == "contact" else company_field_docs(), event_docs()]
    if refs:
        leaves.append(st.sampled_from(refs).map(lambda name: {"segment": name}))
    leaf = st.one_of(*leaves)
    if depth >= 2:
        return leaf
    inner = st.deferred(lambda: condition_docs(entity, refs, depth + 1))
    return st.one_of(
        leaf,
        leaf,
        st.lists(inner, min_size=1, max_size=3).map(lambda cs: {"all": cs}),
        st.lists(inner, min_size=1, max_size=3).map(lambda cs: {"any": cs}),
        inner.map(lambda c: {"not": c}),
    )


@st.composite
def definition_sets(draw: st.DrawFn, max_size: int = 3) -> list[dict[str, Any]]:
    """1 to ``max_size`` definitions; a later one may refer to an earlier one of its entity."""
    docs: list[dict[str, Any]] = []
    for i in range(draw(st.integers(1, max_size))):
        entity = draw(st.sampled_from(["contact", "contact", "company"]))
        refs = [d["name"] for d in docs if d["entity"] == entity]
        docs.append(
            {
                "name": f"gen-{i}",
                "entity": entity,
                "match": draw(st.sampled_from(["all", "any"])),
                "conditions": draw(st.lists(condition_docs(entity, refs), min_size=1, max_size=3)),
            }
        )
    return docs


# ---- a referee: SEGMENTS.md read independently, in plain Python ---------------------------------

#: complements are exactly ``not`` of their positive operator (SEGMENTS.md), so they match unset values
COMPLEMENTS = {"neq": "eq", "not_in": "in", "not_contains": "contains"}
TEXT_OPS = ("contains", "not_contains", "starts_with", "ends_with")


def _same(x: Any, v: Any) -> bool:
    if isinstance(x, str):
        return x.lower() == str(v).lower()  # string comparisons ignore case
    return bool(x == v)


def field_holds(op: str, x: Any, v: Any, as_of: datetime) -> bool:
    """One field operator of SEGMENTS.md's table; an unset ``x`` matches only is_not_set and the complements."""
    if op in COMPLEMENTS:
        return not field_holds(COMPLEMENTS[op], x, v, as_of)
    if op in ("is_set", "is_not_set"):
        return (x is not None) == (op == "is_set")
    if x is None:
        return False
    text, value = str(x).lower(), str(v).lower()
    tests = {
        "eq": lambda: _same(x, v),
        "in": lambda: any(_same(x, item) for item in v),
        "gt": lambda: x > v,
        "gte": lambda: x >= v,
        "lt": lambda: x < v,
        "lte": lambda: x <= v,
        "between": lambda: v[0] <= x <= v[1],
        "contains": lambda: value in text,
        "starts_with": lambda: text.startswith(value),
        "ends_with": lambda: text.endswith(value),
        "within_last": lambda: as_of - v <= x <= as_of,
        "older_than": lambda: x < as_of - v,
    }
    return bool(tests[op]())


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _timestamp(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text is not None else None


def _compare(op: str, a: float, b: float) -> bool:
    return {"eq": a == b, "neq": a != b, "gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]


#: event properties without a column of their own: stored in the JSON ``properties``, as given
JSON_KEYS = ("plan", "score", "meta.level", "meta.tag", "vip", "seen_at")


def _typed(row: dict[str, Any], raw: tuple[str, ...] = ()) -> dict[str, Any]:
    """A row as the loader stores it: text of typed columns trimmed, empty text unset (DATA.md)."""
    return {k: (v.strip() or None) if isinstance(v, str) and k not in raw else v for k, v in row.items()}


class Referee:
    """Members of segments over a :class:`Dataset`, computed in Python from SEGMENTS.md's rules.

    JSON properties (``plan``, ``score``) are typed by the value they are
    compared with, as the compiler documents: a number compares numerically
    (text that is no number matches nothing), anything else as text.
    """

    def __init__(self, data: Dataset, segments: dict[str, Segment], as_of: datetime) -> None:
        self.segments = segments
        self.as_of = as_of
        self.companies = {c["company_id"]: _typed(c) for c in data.companies}
        self.contacts = {c["contact_id"]: _typed(c) for c in data.contacts}
        for e in data.events:  # an event of an unknown contact creates it (an id only)
            self.contacts.setdefault(e["contact_id"], {"contact_id": e["contact_id"]})
        self.events = [_typed(e, JSON_KEYS) for e in data.events if e["ts"] <= as_of]  # later events do not exist yet

    def members(self, name: str) -> list[str]:
        segment = self.segments[name]
        ids = self.contacts if segment.entity == "contact" else self.companies
        return sorted(i for i in ids if self.holds(segment.root, segment.entity, i))  # by code point

    def holds(self, node: Condition, entity: str, ident: str) -> bool:
        if isinstance(node, AllOf):
            return all(self.holds(c, entity, ident) for c in node.conditions)
        if isinstance(node, AnyOf):
            return any(self.holds(c, entity, ident) for c in node.conditions)
        if isinstance(node, Not):
            return not self.holds(node.condition, entity, ident)
        if isinstance(node, SegmentCondition):
            return self.holds(self.segments[node.segment].root, entity, ident)
        if isinstance(node, FieldCondition):
            return field_holds(node.op, self.field(entity, ident, node.field), node.value, self.as_of)
        assert isinstance(node, EventCondition)
        return self.event_holds(node, entity, ident)

    def field(self, entity: str, ident: str, name: str) -> Any:
        if entity == "company":
            return self.companies[ident].get(name)
        contact = self.contacts[ident]
        if name.startswith("company.") or name == "company_id":
            company = self.companies.get(contact.get("company_id") or "")
            return company.get(name.removeprefix("company.")) if company else None
        return contact.get(name)

    def owns(self, entity: str, ident: str, event: dict[str, Any]) -> bool:
        if entity == "contact":
            return bool(event["contact_id"] == ident)
        return bool(self.contacts[event["contact_id"]].get("company_id") == ident)  # every contact of the company

    def property_text(self, event: dict[str, Any], key: str) -> str | None:
        """A property as the JSON text the loader wrote (1 or 1.25, true, "2026-06-30 12:00:00+00")."""
        value = event.get(key)
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, datetime):
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S+00")
        return str(value)

    def where_holds(self, w: FieldCondition, event: dict[str, Any]) -> bool:
        if w.field in JSON_KEYS:  # JSON properties
            text = self.property_text(event, w.field)
            sample = w.value[0] if isinstance(w.value, tuple) else w.value
            if w.op in ("within_last", "older_than") or isinstance(sample, datetime):
                return field_holds(w.op, _timestamp(text), w.value, self.as_of)
            if isinstance(sample, bool):
                value = w.value if isinstance(w.value, tuple) else str(w.value).lower()
                return field_holds(w.op, text, value, self.as_of)
            if isinstance(sample, int | float) and w.op not in TEXT_OPS:
                return field_holds(w.op, _number(text), w.value, self.as_of)
            return field_holds(w.op, text, w.value, self.as_of)
        return field_holds(w.op, event.get(w.field), w.value, self.as_of)

    def window(self, node: EventCondition) -> tuple[datetime | None, datetime]:
        window, as_of = node.window, self.as_of
        if window is None:
            return None, as_of
        if isinstance(window, Within):
            return as_of - window.duration, as_of
        if isinstance(window, BetweenAgo):
            return as_of - window.older, as_of - window.newer
        assert isinstance(window, Absolute)
        return window.since, min(window.until, as_of) if window.until else as_of

    def event_holds(self, node: EventCondition, entity: str, ident: str) -> bool:
        matching = [
            e
            for e in self.events
            if self.owns(entity, ident, e)
            and (node.events is None or e["event"] in node.events)
            and all(self.where_holds(w, e) for w in node.where)
        ]
        low, high = self.window(node)

        def inside(ts: datetime) -> bool:
            return (low is None or low <= ts) and ts <= high

        in_window = [e for e in matching if inside(e["ts"])]
        if node.first_time and not (matching and inside(min(e["ts"] for e in matching))):
            return False  # the first matching event ever must fall inside the window
        if node.aggregate is None:
            count = node.count or Count("gte", 1)
            return _compare(count.op, len(in_window), count.value)
        agg = node.aggregate
        values = [
            v
            for v in (
                _number(self.property_text(e, agg.field)) if agg.field in JSON_KEYS else e.get(agg.field)
                for e in in_window
            )
            if v is not None
        ]
        if agg.fn == "sum":
            total: float | None = sum(values)  # the sum over no events is 0
        elif not values:
            return False  # avg, min and max over no events are unset: they match nothing
        else:
            total = {"avg": sum(values) / len(values), "min": min(values), "max": max(values)}[agg.fn]
        assert total is not None
        return _compare(agg.op, total, agg.value)


# ---- reading the store ---------------------------------------------------------------------


def apply_docs(store: Store, docs: list[dict[str, Any]]) -> dict[str, Segment]:
    """Store the definitions (validated together) and return them as the store reads them back."""
    apply_segments(store, {d["name"]: parse_segment(d, origin=d["name"]) for d in docs})
    return stored_segments(store)


def member_ids(store: Store, segment: Segment, *, as_of: datetime, keys: list[int] | None = None) -> list[str]:
    ids: list[str] = segment_members(store, segment, as_of=as_of, keys=keys).column("member_id").to_pylist()
    return ids


def evaluate(store: Store, segments: dict[str, Segment], name: str, *, as_of: datetime) -> list[str]:
    """Members without storing anything: the query segment_members runs, with unsaved definitions."""
    query = compiler_for(store.engine.name, store.registry(), segments, as_of=as_of).compile(segments[name])
    ids: list[str] = store.engine.query(query).column("member_id").to_pylist()
    return ids


def key_map(store: Store, entity: str) -> dict[str, int]:
    """id -> surrogate key of every contact or company."""
    table = COMPANIES if entity == "company" else CONTACTS
    assert table.id_column is not None
    assert table.key_column is not None
    rows = store.engine.query(exp.select(table.id_column, table.key_column).from_(table.name)).to_pylist()
    return {r[table.id_column]: int(r[table.key_column]) for r in rows}


def _with_ids(store: Store, table: str, columns: list[str]) -> list[dict[str, Any]]:
    """Rows of a membership table with ``member_id`` for ``member_key`` (one query: Spark queries take a while)."""
    query = (
        exp.select(*(exp.column(c, table="m") for c in columns))
        .select(
            exp.func("COALESCE", exp.column("contact_id", table="c"), exp.column("company_id", table="co")).as_(
                "member_id"
            )
        )
        .from_(exp.to_table(table).as_("m"))
        .join(exp.to_table(SEGMENTS.name).as_("s"), on="s.name = m.segment")
        .join(
            exp.to_table(CONTACTS.name).as_("c"),
            on="s.entity = 'contact' AND c.contact_key = m.member_key",
            join_type="left",
        )
        .join(
            exp.to_table(COMPANIES.name).as_("co"),
            on="s.entity = 'company' AND co.company_key = m.member_key",
            join_type="left",
        )
    )
    rows: list[dict[str, Any]] = store.engine.query(query).to_pylist()
    return rows


def stored_members(store: Store) -> dict[str, set[str]]:
    """Segment -> ids of its members as the last refreshes left them (segment_members)."""
    out: dict[str, set[str]] = {}
    for row in _with_ids(store, SEGMENT_MEMBERS.name, ["segment"]):
        out.setdefault(row["segment"], set()).add(row["member_id"])
    return out


def changes(store: Store) -> set[tuple[str, str, str, datetime]]:
    """Every recorded entry and exit as (segment, member id, change, at)."""
    rows = _with_ids(store, SEGMENT_CHANGES.name, ["segment", "change", "at"])
    return {(r["segment"], r["member_id"], r["change"], r["at"]) for r in rows}


# ---- the hand-worked example ------------------------------------------------------------------

T0 = AS_OF
T1 = AS_OF + timedelta(hours=1)
CLICKED = {"name": "clicked-7d", "conditions": [{"event": "email_click", "within": "7d"}]}
ACTIVE_COMPANIES = {
    "name": "active-companies",
    "entity": "company",
    "conditions": [{"event": "email_click", "within": "7d"}],
}
QUIET = {"name": "quiet", "conditions": [{"not": {"segment": "clicked-7d"}}]}


def hand_worked_data() -> Dataset:
    """ann: no click; bo: clicked 2 days ago; cy: clicked 10 days ago; dan: clicked 7 days minus 30 minutes ago.

    At T1 = T0 + 1h dan's click is older than 7 days: only the passing of time,
    not an event, takes dan out.
    """
    companies = ()  # acme and globex are created by the contacts that name them (one load less: Spark)
    contacts = (
        {"contact_id": "ann", "company_id": "acme", "country": "FI"},
        {"contact_id": "bo", "company_id": "acme", "country": "SE"},
        {"contact_id": "cy", "company_id": "globex", "country": "FI"},
        {"contact_id": "dan", "country": "DK"},
    )
    events = (
        {"event_id": "a1", "contact_id": "ann", "event": "page_view", "ts": T0 - timedelta(days=1)},
        {"event_id": "b1", "contact_id": "bo", "event": "email_click", "ts": T0 - timedelta(days=2)},
        {"event_id": "c1", "contact_id": "cy", "event": "email_click", "ts": T0 - timedelta(days=10)},
        {"event_id": "d1", "contact_id": "dan", "event": "email_click", "ts": T0 - timedelta(days=7, minutes=-30)},
    )
    return Dataset(companies, contacts, events)


def test_refresh_contacts_moves_only_the_touched_contact_and_its_company(store: Store) -> None:
    load_dataset(store, hand_worked_data())
    segments = apply_docs(store, [CLICKED, ACTIVE_COMPANIES, QUIET])
    refresh_segments(store, as_of=T0)
    assert stored_members(store) == {
        "clicked-7d": {"bo", "dan"},
        "active-companies": {"acme"},
        "quiet": {"ann", "cy"},
    }
    before = changes(store)

    # cy clicks at T0 + 30 minutes; the event is loaded and cy alone is refreshed at T1
    load_tables(
        store,
        "events",
        [
            event_table(
                ({"event_id": "c2", "contact_id": "cy", "event": "email_click", "ts": T0 + timedelta(minutes=30)},)
            )
        ],
    )
    results = refresh_contacts(store, ["cy"], as_of=T1)

    assert sorted((r.segment, r.size, r.entered, r.exited) for r in results) == [
        ("active-companies", 2, 1, 0),
        ("clicked-7d", 3, 1, 0),
        ("quiet", 1, 0, 1),
    ]
    assert changes(store) - before == {
        ("clicked-7d", "cy", "enter", T1),
        ("quiet", "cy", "exit", T1),
        ("active-companies", "globex", "enter", T1),
    }
    assert stored_members(store) == {
        "clicked-7d": {"bo", "cy", "dan"},
        "active-companies": {"acme", "globex"},
        "quiet": {"ann"},
    }
    # A full refresh at T1 agrees for everyone but dan, whom only time (no event) moved out.
    full = {name: set(member_ids(store, s, as_of=T1)) for name, s in segments.items()}
    assert full == {"clicked-7d": {"bo", "cy"}, "active-companies": {"acme", "globex"}, "quiet": {"ann", "dan"}}


@pytest.mark.parametrize("engine_name", SQL_ENGINES)
def test_refresh_contacts_unknown_or_no_ids_refresh_nothing(store: Store) -> None:
    load_dataset(store, hand_worked_data())
    apply_docs(store, [CLICKED])
    assert refresh_contacts(store, [], as_of=T0) == []
    assert refresh_contacts(store, ["nobody"], as_of=T0) == []
    assert store.count("segment_refreshes") == 0


@pytest.mark.parametrize("engine_name", SQL_ENGINES)
def test_touched_keys_gives_contacts_and_their_companies(store: Store) -> None:
    load_dataset(store, hand_worked_data())
    contacts, companies = key_map(store, "contact"), key_map(store, "company")
    # dan has no company; an unknown id is skipped; bo and cy share no company
    assert touched_keys(store, ["dan", "nobody", "cy", "bo", "cy"]) == (
        sorted([contacts["dan"], contacts["cy"], contacts["bo"]]),
        sorted([companies["globex"], companies["acme"]]),
    )


@pytest.mark.parametrize("engine_name", SQL_ENGINES)
def test_segment_members_boolean_list_on_a_json_property_compares_as_text(store: Store) -> None:
    # Found by the property tests below: `in` with booleans on a JSON property compiled to
    # `LOWER(text) IN (TRUE)`: PostgreSQL refuses text = boolean, DuckDB fails on text that is no boolean.
    events = (
        {"event_id": "v1", "contact_id": "ann", "event": "page_view", "ts": T0, "vip": True},
        {"event_id": "v2", "contact_id": "bo", "event": "page_view", "ts": T0, "vip": False, "plan": "pro"},
    )
    load_dataset(store, Dataset((), ({"contact_id": "ann"}, {"contact_id": "bo"}), events))
    segments = apply_docs(
        store,
        [
            {"name": "vip", "conditions": [{"event": "*", "where": [{"field": "vip", "op": "in", "value": [True]}]}]},
            {"name": "odd", "conditions": [{"event": "*", "where": [{"field": "plan", "op": "in", "value": [True]}]}]},
        ],
    )
    assert member_ids(store, segments["vip"], as_of=T0) == ["ann"]
    assert member_ids(store, segments["odd"], as_of=T0) == []


# ---- the micro-batching queue -------------------------------------------------------------------


@pytest.fixture
def duckdb_store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(f"duckdb:///{tmp_path / 'queue.duckdb'}")
    yield store
    store.close()


@pytest.mark.duckdb
def test_freshness_queue_flush_refreshes_every_touched_contact_once(duckdb_store: Store) -> None:
    store = duckdb_store
    load_dataset(store, hand_worked_data())
    apply_docs(store, [CLICKED])
    queue = FreshnessQueue(store)
    threads = [threading.Thread(target=queue.touch, args=([name, "bo"],)) for name in ("ann", "cy", "dan")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert queue.pending == 4
    results = queue.flush(as_of=T0)
    assert [(r.segment, r.size, r.entered) for r in results] == [("clicked-7d", 2, 2)]
    assert store.count("segment_refreshes") == 1  # one refresh for all the touched contacts
    assert queue.pending == 0
    assert queue.flush(as_of=T0) == []


@pytest.mark.duckdb
def test_freshness_queue_failed_flush_keeps_its_contacts(duckdb_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    queue = FreshnessQueue(duckdb_store)
    queue.touch(["ann", "bo"])

    def broken(*args: Any, **kwargs: Any) -> list[Any]:
        raise RuntimeError("store unavailable")

    monkeypatch.setattr(fresh, "refresh_contacts", broken)
    with pytest.raises(RuntimeError, match="store unavailable"):
        queue.flush()
    assert queue.pending == 2


@pytest.mark.duckdb
def test_freshness_queue_run_every_flushes_until_stopped(duckdb_store: Store) -> None:
    store = duckdb_store
    load_dataset(store, hand_worked_data())
    apply_docs(store, [{"name": "clickers", "conditions": [{"event": "email_click"}]}])  # no window: now is now
    queue = FreshnessQueue(store)
    stop = threading.Event()
    errors: list[Exception] = []
    queue.touch(["bo"])
    stop.set()  # the loop still flushes once before it returns
    queue.run_every(0.01, stop, on_error=errors.append)
    assert errors == []
    assert queue.pending == 0
    assert stored_members(store) == {"clickers": {"bo"}}


# ---- properties: the restricted path agrees with full evaluation ------------------------------


@pytest.mark.parametrize("engine_name", SQL_ENGINES)
@settings(PROPERTY_SETTINGS, max_examples=20)
@given(data=datasets(), docs=definition_sets(), picked=st.sets(st.integers(0, 11), max_size=6))
def test_segment_members_with_keys_equal_full_members_restricted(
    store: Store, data: Dataset, docs: list[dict[str, Any]], picked: set[int]
) -> None:
    empty_store(store)
    load_dataset(store, data)
    for name, segment in apply_docs(store, docs).items():
        keys = key_map(store, segment.entity)
        ids = sorted(keys)
        chosen = {ids[i] for i in picked if i < len(ids)}
        full = member_ids(store, segment, as_of=AS_OF)
        restricted = member_ids(store, segment, as_of=AS_OF, keys=[keys[i] for i in chosen])
        assert restricted == [m for m in full if m in chosen], (name, sorted(chosen))


@pytest.mark.parametrize("engine_name", SQL_ENGINES)
@PROPERTY_SETTINGS
@given(
    data=datasets(),
    docs=definition_sets(),
    new_events=st.lists(
        event_rows(["c00", "c01", "c02", "c03", "c04", "c05", "new"], st.integers(-24, 1440)), min_size=1, max_size=5
    ),
    later=st.sampled_from([0, 1, 24, 72]),
)
def test_refresh_contacts_equals_full_refresh_for_touched_members(
    store: Store, data: Dataset, docs: list[dict[str, Any]], new_events: list[dict[str, Any]], later: int
) -> None:
    empty_store(store)
    load_dataset(store, data)
    segments = apply_docs(store, docs)
    refresh_segments(store, as_of=AS_OF)
    before = stored_members(store)
    full_before = {name: set(member_ids(store, s, as_of=AS_OF)) for name, s in segments.items()}
    assert {name: before.get(name, set()) for name in segments} == full_before
    old_changes = changes(store)

    t1 = AS_OF + timedelta(hours=later)
    events = _numbered(new_events, "late", data.score_type)
    load_tables(store, "events", [event_table(events, data.score_type)])
    touched = sorted({e["contact_id"] for e in events})
    refresh_contacts(store, touched, as_of=t1)

    companies = {c["contact_id"]: c["company_id"] for c in data.contacts}
    in_scope = {"contact": set(touched), "company": {companies.get(c) for c in touched} - {None}}
    after = stored_members(store)
    for name, segment in segments.items():
        scope = in_scope[segment.entity]
        full = set(member_ids(store, segment, as_of=t1))
        expected = {m for m in full if m in scope} | {m for m in before.get(name, set()) if m not in scope}
        assert after.get(name, set()) == expected, name
    # every entry and exit is of a member in scope, at t1, and says what changed
    new_changes = changes(store) - old_changes
    for changed, member, change, when in new_changes:
        assert member in in_scope[segments[changed].entity]
        assert when == t1
        assert (member in after.get(changed, set())) == (change == "enter")
    moved = {(s, m) for s, m, _, _ in new_changes}
    for name in segments:
        assert {(name, m) for m in after.get(name, set()) ^ before.get(name, set())} <= moved


# ---- properties: engines agree -------------------------------------------------------------------


@pytest.mark.postgres
@PROPERTY_SETTINGS
@given(data=datasets(), docs=definition_sets(), when=st.sampled_from([0, 30, -24]))
def test_engines_agree_duckdb_postgres_on_random_segments(
    engine_pair: dict[str, Store], data: Dataset, docs: list[dict[str, Any]], when: int
) -> None:
    as_of = at(when)
    results = {}
    for engine, store in engine_pair.items():
        empty_store(store)
        load_dataset(store, data)
        segments = apply_docs(store, docs)
        results[engine] = {name: member_ids(store, segment, as_of=as_of) for name, segment in segments.items()}
    referee = Referee(data, segments, as_of)
    results["referee"] = {name: referee.members(name) for name in segments}
    assert results["postgres"] == results["duckdb"]
    assert results["duckdb"] == results["referee"]


@pytest.fixture
def engine_pair(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[dict[str, Store]]:
    """A DuckDB store and a PostgreSQL store, open side by side."""
    server = request.getfixturevalue("postgres_server")
    url = server.new_database("fresh")
    stores = {"duckdb": open_store(f"duckdb:///{tmp_path / 'pair.duckdb'}"), "postgres": open_store(url)}
    yield stores
    for store in stores.values():
        store.close()
    server.drop_database(url)


SPARK_DATA = fixed_dataset(7)


@pytest.fixture
def spark_and_duckdb(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[dict[str, Store]]:
    """Spark and DuckDB stores holding SPARK_DATA (loaded once: Spark loads take seconds)."""
    request.getfixturevalue("spark_session")
    stores = {
        "duckdb": open_store(f"duckdb:///{tmp_path / 'spark-ref.duckdb'}"),
        "spark": open_store(f"spark://local[2]?warehouse={tmp_path / 'warehouse'}&database=segmint_fresh"),
    }
    for store in stores.values():
        load_dataset(store, SPARK_DATA)
    yield stores
    for store in stores.values():
        store.close()


@pytest.mark.spark
@settings(PROPERTY_SETTINGS, max_examples=6)
@given(docs=definition_sets(max_size=2))
def test_engines_agree_spark_duckdb_on_random_segments(
    spark_and_duckdb: dict[str, Store], docs: list[dict[str, Any]]
) -> None:
    # Evaluated from the validated definitions, not stored: writes to a Spark store take seconds.
    results = {}
    for engine, store in spark_and_duckdb.items():
        segments = validate_segments({d["name"]: parse_segment(d) for d in docs}, store.registry())
        results[engine] = {name: evaluate(store, segments, name, as_of=AS_OF) for name in segments}
    referee = Referee(SPARK_DATA, segments, AS_OF)
    assert results["spark"] == results["duckdb"]
    assert results["duckdb"] == {name: referee.members(name) for name in segments}
