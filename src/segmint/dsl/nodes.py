"""SEGMENTS.md as a typed tree: one frozen class per thing the document names.

A :class:`Segment` holds conditions; each condition is a
:class:`FieldCondition`, :class:`EventCondition`, :class:`SegmentCondition`,
or a boolean combination (:class:`AllOf`, :class:`AnyOf`, :class:`Not`).
An event condition may carry a window (:class:`Within`, :class:`BetweenAgo`,
:class:`Absolute`) and a :class:`Count` or an :class:`Aggregate`.

Every node's ``path`` says where it was written in the document
(``conditions[1].all[0]``); it is left out of equality, so a parsed tree
equals the same tree built by hand.

>>> seg = Segment("fi-partners", conditions=(FieldCondition("country", "eq", "FI"), SegmentCondition("partners")))
>>> seg.dependencies()
{'partners'}
>>> seg.to_dict()["conditions"][0]
{'field': 'country', 'op': 'eq', 'value': 'FI'}
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime, timedelta
from typing import Any, TypeAlias

from segmint.dsl.durations import format_duration
from segmint.dsl.timestamps import format_timestamp

FIELD_OPS = (
    "eq",
    "neq",
    "in",
    "not_in",
    "gt",
    "gte",
    "lt",
    "lte",
    "between",
    "contains",
    "not_contains",
    "starts_with",
    "ends_with",
    "is_set",
    "is_not_set",
    "within_last",
    "older_than",
)
COUNT_OPS = ("eq", "neq", "gt", "gte", "lt", "lte")
AGGREGATE_FNS = ("sum", "avg", "min", "max")
ENTITIES = ("contact", "company")
KINDS = ("dynamic", "static")
MATCHES = ("all", "any")

#: an event name list of ``"*"`` means every event; the tree says ``events=None``
ANY_EVENT = "*"


def _path() -> Any:
    # Where the node was written; not part of its meaning, so not part of equality.
    return dataclass_field(default="", compare=False)


@dataclass(frozen=True)
class FieldCondition:
    """``field op value``: a test on one field (or, inside ``where``, one event property).

    ``value`` is normalised by the parser and validator: a scalar (``str``,
    ``int``, ``float``, ``bool`` or an aware UTC ``datetime`` for timestamp
    fields); a tuple for ``in``/``not_in``; ``(low, high)`` for ``between``; a
    ``timedelta`` for ``within_last``/``older_than``; ``None`` for
    ``is_set``/``is_not_set``.
    """

    field: str
    op: str
    value: Any = None
    path: str = _path()

    def children(self) -> tuple[Condition, ...]:
        """The nodes directly below this one (none)."""
        return ()

    def to_dict(self) -> dict[str, Any]:
        """The condition in SEGMENTS.md's document shape."""
        data: dict[str, Any] = {"field": self.field, "op": self.op}
        if self.value is not None:
            data["value"] = _value_to_document(self.value)
        return data


@dataclass(frozen=True)
class Within:
    """``within: D`` — events with ``as_of - D <= ts <= as_of``."""

    duration: timedelta

    def to_dict(self) -> dict[str, Any]:
        return {"within": format_duration(self.duration)}


@dataclass(frozen=True)
class BetweenAgo:
    """``between_ago: [D1, D2]`` with ``D1 > D2`` — ``as_of - older <= ts <= as_of - newer``."""

    older: timedelta
    newer: timedelta

    def to_dict(self) -> dict[str, Any]:
        return {"between_ago": [format_duration(self.older), format_duration(self.newer)]}


@dataclass(frozen=True)
class Absolute:
    """``since: T`` and/or ``until: T`` — absolute, inclusive, still capped at ``as_of`` (aware UTC)."""

    since: datetime | None
    until: datetime | None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.since is not None:
            data["since"] = format_timestamp(self.since)
        if self.until is not None:
            data["until"] = format_timestamp(self.until)
        return data


Window: TypeAlias = Within | BetweenAgo | Absolute


@dataclass(frozen=True)
class Count:
    """``count: {op, value}`` — how many matching events there must be."""

    op: str
    value: int

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "value": self.value}


#: what an event condition without ``count`` or ``aggregate`` means
DEFAULT_COUNT = Count("gte", 1)


@dataclass(frozen=True)
class Aggregate:
    """``aggregate: {fn, field, op, value}`` over a numeric property of the matching events.

    The sum over no events is 0; ``avg``, ``min`` and ``max`` over no events
    are unset and match nothing.
    """

    fn: str
    field: str
    op: str
    value: float | int

    def to_dict(self) -> dict[str, Any]:
        return {"fn": self.fn, "field": self.field, "op": self.op, "value": self.value}


@dataclass(frozen=True)
class EventCondition:
    """Did the contact (or, for companies, any of its contacts) do these events?

    ``events`` is ``None`` for ``"*"`` (every event); ``where`` holds field
    conditions on the events' columns or properties; ``count`` is ``None``
    for the default ``{op: gte, value: 1}`` (see :attr:`effective_count`);
    ``first_time`` asks that the first matching event ever fall inside the
    window.
    """

    events: tuple[str, ...] | None
    where: tuple[FieldCondition, ...] = ()
    window: Window | None = None
    count: Count | None = None
    aggregate: Aggregate | None = None
    first_time: bool = False
    path: str = _path()

    @property
    def effective_count(self) -> Count | None:
        """The count to apply: the written one, the default, or ``None`` when an aggregate replaces it."""
        if self.aggregate is not None:
            return None
        return self.count or DEFAULT_COUNT

    def children(self) -> tuple[FieldCondition, ...]:
        """The ``where`` conditions."""
        return self.where

    def to_dict(self) -> dict[str, Any]:
        """The condition in SEGMENTS.md's document shape."""
        data: dict[str, Any] = {}
        if self.events is None:
            data["event"] = ANY_EVENT
        else:
            data["event"] = self.events[0] if len(self.events) == 1 else list(self.events)
        if self.where:
            data["where"] = [w.to_dict() for w in self.where]
        if self.window is not None:
            data.update(self.window.to_dict())
        if self.count is not None:
            data["count"] = self.count.to_dict()
        if self.aggregate is not None:
            data["aggregate"] = self.aggregate.to_dict()
        if self.first_time:
            data["first_time"] = True
        return data


@dataclass(frozen=True)
class SegmentCondition:
    """Member of the named segment at the same ``as_of``."""

    segment: str
    path: str = _path()

    def children(self) -> tuple[Condition, ...]:
        """The nodes directly below this one (none)."""
        return ()

    def to_dict(self) -> dict[str, Any]:
        return {"segment": self.segment}


@dataclass(frozen=True)
class AllOf:
    """``all: [...]`` — every condition holds."""

    conditions: tuple[Condition, ...]
    path: str = _path()

    def children(self) -> tuple[Condition, ...]:
        return self.conditions

    def to_dict(self) -> dict[str, Any]:
        return {"all": [c.to_dict() for c in self.conditions]}


@dataclass(frozen=True)
class AnyOf:
    """``any: [...]`` — at least one condition holds."""

    conditions: tuple[Condition, ...]
    path: str = _path()

    def children(self) -> tuple[Condition, ...]:
        return self.conditions

    def to_dict(self) -> dict[str, Any]:
        return {"any": [c.to_dict() for c in self.conditions]}


@dataclass(frozen=True)
class Not:
    """``not: {...}`` — the complement over all contacts (or companies) of the store."""

    condition: Condition
    path: str = _path()

    def children(self) -> tuple[Condition, ...]:
        return (self.condition,)

    def to_dict(self) -> dict[str, Any]:
        return {"not": self.condition.to_dict()}


Condition: TypeAlias = FieldCondition | EventCondition | SegmentCondition | AllOf | AnyOf | Not
#: the condition classes, for isinstance checks and dispatch tables
CONDITION_TYPES = (FieldCondition, EventCondition, SegmentCondition, AllOf, AnyOf, Not)


@dataclass(frozen=True)
class Segment:
    """One segment definition (SEGMENTS.md's document).

    A dynamic segment has ``conditions`` combined by ``match``; a static one
    has ``members`` (ids) and no conditions.
    """

    name: str
    entity: str = "contact"
    kind: str = "dynamic"
    match: str = "all"
    conditions: tuple[Condition, ...] = ()
    members: tuple[str, ...] = ()
    title: str | None = None
    description: str | None = None
    #: an extension of SEGMENTS.md: labels that group segments (the playbook's themes)
    tags: tuple[str, ...] = ()

    @property
    def root(self) -> Condition:
        """The conditions combined by ``match``: ``AllOf`` for ``all``, ``AnyOf`` for ``any``.

        A static segment has no conditions, and an empty ``AllOf`` would be
        true for everyone, so asking a static segment for its root raises.
        """
        if self.kind == "static":
            raise ValueError(f"segment '{self.name}' is static: its members are stored, it has no conditions")
        if self.match == "any":
            return AnyOf(self.conditions, path="conditions")
        return AllOf(self.conditions, path="conditions")

    def to_dict(self) -> dict[str, Any]:
        """The segment as a SEGMENTS.md document (plain dicts, lists, str, numbers, bools).

        ``parse_segment(segment.to_dict()) == segment`` for any parsed segment;
        for a validated one, timestamps come back as strings until validated again.
        """
        data: dict[str, Any] = {"name": self.name}
        if self.title is not None:
            data["title"] = self.title
        if self.description is not None:
            data["description"] = self.description
        if self.tags:
            data["tags"] = list(self.tags)
        data["entity"] = self.entity
        data["kind"] = self.kind
        if self.kind == "static":
            data["members"] = list(self.members)
        else:
            data["match"] = self.match
            data["conditions"] = [c.to_dict() for c in self.conditions]
        return data

    def dependencies(self) -> set[str]:
        """The names of the segments this one refers to, at any depth of its conditions."""
        return {node.segment for c in self.conditions for node in walk(c) if isinstance(node, SegmentCondition)}

    def walk(self) -> Iterator[Condition]:
        """Every node of every condition, depth first (see :func:`walk`)."""
        for condition in self.conditions:
            yield from walk(condition)


def walk(condition: Condition) -> Iterator[Condition]:
    """Every node from ``condition`` down, depth first, parents before children.

    The field conditions inside an event's ``where`` are included (after their
    event condition); check ``isinstance(node, EventCondition)`` on the way if
    they must be told apart from the segment's own field conditions.

    >>> tree = Not(AnyOf((SegmentCondition("a"), FieldCondition("country", "is_set"))))
    >>> [type(n).__name__ for n in walk(tree)]
    ['Not', 'AnyOf', 'SegmentCondition', 'FieldCondition']
    """
    yield condition
    for child in condition.children():
        yield from walk(child)


def _value_to_document(value: Any) -> Any:
    """A normalised value as the document writes it (lists, strings for durations and timestamps)."""
    if isinstance(value, tuple):
        return [_value_to_document(v) for v in value]
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, datetime | date):
        return format_timestamp(value if isinstance(value, datetime) else datetime(value.year, value.month, value.day))
    return value
