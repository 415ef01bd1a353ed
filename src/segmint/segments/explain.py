"""Why is (or isn't) a contact in a segment: each condition, whether it holds, and the values seen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlglot import exp

from segmint.dsl import EventCondition, FieldCondition, Segment, explain_segment
from segmint.dsl.nodes import AllOf, AnyOf, Condition, Not, SegmentCondition
from segmint.model.tables import CONTACTS
from segmint.segments.evaluate import compiler
from segmint.store.store import Store


@dataclass
class ConditionCheck:
    """One condition of a segment, checked for one member."""

    depth: int
    text: str
    holds: bool
    seen: str


def _phrase(segment: Segment, node: Condition) -> str:
    lines = explain_segment(Segment("explained", entity=segment.entity, conditions=(node,))).splitlines()
    text = " ".join(line.strip() for line in lines)
    return text.split(" ", 1)[1] if " " in text else text  # drop the leading "Contacts" / "Companies"


def _holds(store: Store, segment: Segment, node: Condition, key: int, as_of: datetime) -> bool:
    probe = Segment(f"{segment.name}-probe", entity=segment.entity, conditions=(node,))
    query = compiler(store, as_of=as_of, extra=segment).compile(probe, keys=[key])
    return store.engine.query(query).num_rows > 0


def _seen(store: Store, segment: Segment, node: Condition, key: int, as_of: datetime) -> str:
    comp = compiler(store, as_of=as_of, extra=segment)
    if isinstance(node, FieldCondition):
        fld = store.registry().get(segment.entity, node.field)
        key_col = "company_key" if segment.entity == "company" else "contact_key"
        stored = exp.to_table(fld.table).as_("x")  # the contacts, companies or traits table
        query = exp.select(exp.column(fld.column, table="x"))
        if fld.via == "company" and segment.entity == "contact":
            query = (
                query.from_(exp.to_table(CONTACTS.name).as_("c"))
                .join(stored, on="x.company_key = c.company_key", join_type="left")
                .where(exp.column("contact_key", table="c").eq(key))
            )
        else:
            query = query.from_(stored).where(exp.column(key_col, table="x").eq(key))
        value = store.engine.scalar(query)
        if fld.explicit_column is not None:  # a refined stored field: the stored value wins when set
            stored = store.engine.scalar(
                exp.select(exp.column(fld.explicit_column)).from_(CONTACTS.name).where(exp.column(key_col).eq(key))
            )
            value = stored if stored is not None else value
        return f"{node.field} = {_show(value)}"
    if isinstance(node, EventCondition):
        values = comp.event_measures(Segment("probe", entity=segment.entity, conditions=(node,)), key)
        row = store.engine.query(values).to_pylist()
        labels = comp.measure_labels
        if not row:  # no event of the member passes the event pass's filters
            return "matching events: 0"
        return ", ".join(f"{labels[name]}: {_show(row[0].get(name))}" for name in labels)
    if isinstance(node, SegmentCondition):
        return f"member of {node.segment}: {'yes' if _holds(store, segment, node, key, as_of) else 'no'}"
    return ""


def _show(value: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, datetime):
        return value.isoformat()
    return repr(value) if isinstance(value, str) else str(value)


def explain_member(store: Store, segment: Segment, key: int, *, as_of: datetime) -> list[ConditionCheck]:
    """Each condition of the segment (nested ones indented) checked for one member."""
    checks: list[ConditionCheck] = []

    def visit(node: Condition, depth: int) -> None:
        if isinstance(node, AllOf | AnyOf):
            word = "all of" if isinstance(node, AllOf) else "any of"
            checks.append(ConditionCheck(depth, word, _holds(store, segment, node, key, as_of), ""))
            for child in node.conditions:
                visit(child, depth + 1)
        elif isinstance(node, Not):
            checks.append(ConditionCheck(depth, "not", _holds(store, segment, node, key, as_of), ""))
            visit(node.condition, depth + 1)
        else:
            checks.append(
                ConditionCheck(
                    depth,
                    _phrase(segment, node),
                    _holds(store, segment, node, key, as_of),
                    _seen(store, segment, node, key, as_of),
                )
            )

    visit(segment.root, 0)
    return checks
