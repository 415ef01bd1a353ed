"""A segment in plain English: what ``segmint segment explain`` prints.

One line per condition; ``all``, ``any`` and ``not`` indent what they
combine.  Every operator's sentence is one line of data in
:data:`segmint.dsl.ops.FIELD_OPERATORS` (and :data:`COMPARISON_PHRASES` for
counts), so adding an operator never means adding a branch here.

>>> from segmint.dsl.parse import parse_segment
>>> print(explain_segment(parse_segment('''
... name: nordic-pricing
... conditions:
...   - {field: country, op: in, value: [FI, SE]}
...   - event: page_view
...     where: [{field: url, op: contains, value: /pricing}]
...     within: 7d
...     count: {op: gte, value: 3}
...   - not: {event: purchase, within: 365d}
... ''')))
Contacts
  whose country is one of FI, SE
  and who did page_view where url contains '/pricing' at least 3 times in the last 7 days
  and who did not purchase in the last 365 days
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from segmint.dsl.nodes import (
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
    Window,
    Within,
)
from segmint.dsl.ops import AGGREGATE_PHRASES, COMPARISON_PHRASES, FIELD_OPERATORS
from segmint.model.fields import FieldRegistry
from segmint.model.types import FieldType

INDENT: Final = "  "


@dataclass(frozen=True)
class Voice:
    """How sentences about one entity begin: "who did" for contacts, "whose contacts did" for companies."""

    plural: str
    did: str
    did_not: str
    are: str
    match: str
    do_not_match: str


VOICES: Final[dict[str, Voice]] = {
    "contact": Voice("Contacts", "who did", "who did not", "who are", "who match", "who do not match"),
    # SEGMENTS.md: for companies, event conditions count the events of all the company's contacts.
    "company": Voice(
        "Companies", "whose contacts did", "whose contacts did not", "that are", "that match", "that do not match"
    ),
}

#: counts that mean "no matching event", said as "did not"
NO_EVENTS: Final = frozenset({Count("eq", 0), Count("lt", 1), Count("lte", 0)})

#: windows as words, one line per window class
WINDOW_PHRASES: Final[dict[type, Callable[[Any], str]]] = {
    Within: lambda w: f"in the last {describe_value(w.duration)}",
    BetweenAgo: lambda w: f"between {describe_value(w.older)} and {describe_value(w.newer)} ago",
    Absolute: lambda w: (
        f"between {describe_value(w.since)} and {describe_value(w.until)}"
        if w.since and w.until
        else f"since {describe_value(w.since)}"
        if w.since
        else f"until {describe_value(w.until)}"
    ),
}

# Text shown without quotes: words, codes, numbers-as-text; anything else (spaces, slashes) is quoted.
_BARE: Final = re.compile(r"[\w.@+-]+")
_DURATION_WORDS: Final = ((timedelta(days=1), "day"), (timedelta(hours=1), "hour"), (timedelta(minutes=1), "minute"))


def explain_segment(segment: Segment, registry: FieldRegistry | None = None) -> str:
    """The definition as plain English, one line per condition.

    With a ``registry``, comparisons on timestamp fields read "after" and
    "before" even before validation has turned their values into datetimes.
    """
    explainer = _Explainer(VOICES.get(segment.entity, VOICES["contact"]), segment.entity, registry)
    voice = explainer.voice
    if segment.kind == "static":
        count = len(segment.members)
        return f"{voice.plural} in the static segment {segment.name} ({count} member{'' if count == 1 else 's'})"
    if len(segment.conditions) == 1:
        first, *rest = explainer.visit(segment.conditions[0])
        return "\n".join([f"{voice.plural} {first}", *rest])
    connector = "and" if segment.match == "all" else "or"
    return "\n".join([voice.plural, *explainer.block(segment.conditions, connector)])


def describe_value(value: object) -> str:
    """A value as a person reads it: ``FI, SE``, ``'/pricing'``, ``2026-01-31``, ``7 days``.

    >>> describe_value(("FI", "SE")), describe_value("/pricing"), describe_value(1000.0)
    ('FI, SE', "'/pricing'", '1000')
    """
    if isinstance(value, tuple | list):
        return ", ".join(describe_value(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value if _BARE.fullmatch(value) else "'" + value.replace("'", "\\'") + "'"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime):
        if value.time() == datetime.min.time():
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M:%S" if value.second else "%Y-%m-%d %H:%M") + " UTC"
    if isinstance(value, timedelta):
        for unit, word in _DURATION_WORDS:
            if value % unit == timedelta(0):
                amount = value // unit
                return f"{amount} {word}{'' if amount == 1 else 's'}"
    return str(value)


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


class _Explainer:
    """``visit_<Node>`` gives a node's lines: its own sentence first, then indented children."""

    def __init__(self, voice: Voice, entity: str, registry: FieldRegistry | None) -> None:
        self.voice = voice
        self.entity = entity
        self.registry = registry

    def visit(self, node: Condition) -> list[str]:
        visitor: Callable[[Any], list[str]] = getattr(self, f"visit_{type(node).__name__}")
        return visitor(node)

    def block(self, conditions: tuple[Condition, ...], connector: str) -> list[str]:
        """Each condition's lines, indented, joined by ``and``/``or`` at the start of each sentence."""
        lines: list[str] = []
        for i, condition in enumerate(conditions):
            first, *rest = self.visit(condition)
            lines.append(INDENT + (first if i == 0 else f"{connector} {first}"))
            lines += [INDENT + line for line in rest]
        return lines

    def visit_FieldCondition(self, node: FieldCondition) -> list[str]:
        return [f"whose {self.field_phrase(node, self.entity)}"]

    def visit_EventCondition(self, node: EventCondition, *, negated: bool = False) -> list[str]:
        none = node.count in NO_EVENTS
        verb = self.voice.did_not if negated != none else self.voice.did
        # "*" is every event: "who did anything", "who did not do anything".
        names = node.events or (("do anything",) if verb == self.voice.did_not else ("anything",))
        parts = [verb, " or ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " or " + names[-1]]
        if node.where:
            parts.append("where " + " and ".join(self.field_phrase(w, "event") for w in node.where))
        if node.first_time:
            parts.append("for the first time")
        if node.count is not None and not none:
            parts.append(COMPARISON_PHRASES[node.count.op].format(value=_times(node.count.value)))
        if node.aggregate is not None:
            what = AGGREGATE_PHRASES[node.aggregate.fn].format(field=node.aggregate.field)
            amount = COMPARISON_PHRASES[node.aggregate.op].format(value=describe_value(node.aggregate.value))
            parts.append(f"with {what} of {amount}")
        if node.window is not None:
            parts.append(self.window_phrase(node.window))
        return [" ".join(parts)]

    def visit_SegmentCondition(self, node: SegmentCondition) -> list[str]:
        return [f"{self.voice.are} members of segment {node.segment}"]

    def visit_AllOf(self, node: AllOf) -> list[str]:
        return [f"{self.voice.match} all of:", *self.block(node.conditions, "and")]

    def visit_AnyOf(self, node: AnyOf) -> list[str]:
        return [f"{self.voice.match} any of:", *self.block(node.conditions, "or")]

    def visit_Not(self, node: Not) -> list[str]:
        inner = node.condition
        # "who did not buy" and "who are not members of" read better than a nested "do not match".
        if isinstance(inner, EventCondition) and (inner.count is None or inner.count in NO_EVENTS):
            return self.visit_EventCondition(inner, negated=True)
        if isinstance(inner, SegmentCondition):
            return [f"{self.voice.are} not members of segment {inner.segment}"]
        return [f"{self.voice.do_not_match}:", *self.block((inner,), "")]

    def field_phrase(self, node: FieldCondition, entity: str) -> str:
        operator = FIELD_OPERATORS[node.op]
        values: dict[str, str] = {"value": describe_value(node.value)}
        if operator.shape == "pair":
            values["low"], values["high"] = (describe_value(v) for v in node.value)
        return f"{node.field} {operator.phrase_for(timestamp=self.is_timestamp(node, entity)).format(**values)}"

    def is_timestamp(self, node: FieldCondition, entity: str) -> bool:
        values = node.value if isinstance(node.value, tuple) else (node.value,)
        if any(isinstance(v, datetime) for v in values):
            return True
        found = self.registry.find(entity, node.field) if self.registry is not None else None
        return found is not None and found.type is FieldType.TIMESTAMP

    def window_phrase(self, window: Window) -> str:
        return WINDOW_PHRASES[type(window)](window)
