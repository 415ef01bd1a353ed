"""Checking a parsed segment against the field registry and the other segments.

The validator knows what the parser cannot: which fields exist for the
segment's entity, their types, and which segments exist.  It checks that
each operator applies to its field's type and each value fits, converts
timestamp values to aware UTC datetimes (a date-only value is midnight UTC;
a timestamp without a zone is UTC), and checks segment references (they must
exist, be of the same entity, and not form a cycle).  Every problem is
collected, then one :class:`~segmint.errors.ValidationError` is raised.

>>> from segmint.model.fields import build_registry
>>> seg = load_segment("name: new\\nconditions: [{field: created_at, op: gte, value: 2026-01-31}]", build_registry())
>>> seg.conditions[0].value
datetime.datetime(2026, 1, 31, 0, 0, tzinfo=datetime.timezone.utc)
>>> load_segment("name: x\\nconditions: [{field: contry, op: eq, value: FI}]", build_registry())
Traceback (most recent call last):
...
segmint.errors.ValidationError: <segment>: invalid segment
  conditions[0].field: unknown contact field 'contry' (did you mean country, city?)
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from segmint.dsl.graph import dependency_graph, find_cycle, format_cycle
from segmint.dsl.nodes import (
    AllOf,
    AnyOf,
    Condition,
    EventCondition,
    FieldCondition,
    Not,
    Segment,
    SegmentCondition,
)
from segmint.dsl.ops import FIELD_OPERATORS, operators_for
from segmint.dsl.parse import join_path, parse_segments_dir, read_segment
from segmint.dsl.timestamps import parse_timestamp
from segmint.errors import Problem, ValidationError
from segmint.model.fields import FieldRegistry
from segmint.model.types import FieldType

#: the registry entity whose fields an event's ``where`` can name as columns
EVENT_ENTITY = "event"

_NO_SEGMENTS: Final[Mapping[str, Segment]] = MappingProxyType({})


def validate_segment(
    segment: Segment,
    registry: FieldRegistry,
    segments: Mapping[str, Segment] = _NO_SEGMENTS,
    *,
    origin: str | None = None,
) -> Segment:
    """The segment with its values normalised, or one :class:`ValidationError` listing every problem.

    ``segments`` holds the segments it may refer to, by name (a stored
    version of ``segment`` itself is replaced by ``segment`` when looking for
    cycles).
    """
    checked, problems = check_segment(segment, registry, segments)
    if problems:
        raise ValidationError(f"{origin or segment.name or '<segment>'}: invalid segment", problems=problems)
    return checked


def load_segment(
    source: str | Mapping[str, Any],
    registry: FieldRegistry,
    segments: Mapping[str, Segment] = _NO_SEGMENTS,
    *,
    origin: str = "<segment>",
) -> Segment:
    """Parse and validate a definition; the problems of both steps are reported together.

    The same as ``validate_segment(parse_segment(source), ...)`` when the
    document is well formed; when it is not, the parts that could be read are
    still checked against the registry, so one error lists everything.
    """
    segment, problems = read_segment(source, origin=origin)
    checked = segment
    # A wrong entity would make every field look unknown: check fields only once the entity is right.
    if segment is not None and not any(p.path == "entity" for p in problems):
        checked, found = check_segment(segment, registry, segments)
        problems += found
    if problems or checked is None:
        raise ValidationError(f"{origin}: invalid segment", problems=problems)
    return checked


def validate_segments(segments: Mapping[str, Segment], registry: FieldRegistry) -> dict[str, Segment]:
    """Validate segments that may refer to each other (a playbook, a directory); problems start with the name."""
    checked: dict[str, Segment] = {}
    problems: list[Problem] = []
    graph = dependency_graph(segments)  # once for all of them, not once per segment
    for name, segment in segments.items():
        result, found = check_segment(segment, registry, segments, graph=graph)
        checked[name] = result
        problems += [Problem(f"{name}:{p.path}", p.message, p.suggestions) for p in found]
    if problems:
        raise ValidationError("invalid segments", problems=problems)
    return checked


def load_segments_dir(path: str | Path, registry: FieldRegistry) -> dict[str, Segment]:
    """Every segment file under ``path``, parsed and validated together (see :func:`parse_segments_dir`)."""
    return validate_segments(parse_segments_dir(path), registry)


def check_segment(
    segment: Segment,
    registry: FieldRegistry,
    segments: Mapping[str, Segment] = _NO_SEGMENTS,
    *,
    graph: Mapping[str, list[str]] | None = None,
) -> tuple[Segment, list[Problem]]:
    """The normalised segment and the problems found; :func:`validate_segment` raises instead.

    ``graph`` is ``dependency_graph(segments)`` when the caller has it already.
    """
    checker = _Checker(registry, segment.entity)
    conditions = tuple(checker.visit(c) for c in segment.conditions)
    problems = checker.problems + check_references(segment, segments, graph=graph)
    return replace(segment, conditions=conditions), problems


def check_references(
    segment: Segment, segments: Mapping[str, Segment], *, graph: Mapping[str, list[str]] | None = None
) -> list[Problem]:
    """Problems with the segments ``segment`` refers to: unknown, another entity, or a cycle."""
    own = sorted(segment.dependencies())
    if graph is None:
        graph = dependency_graph(segments)
    if graph.get(segment.name) != own:
        graph = {**graph, segment.name: own}
    problems: list[Problem] = []
    cycles: set[tuple[str, ...]] = set()
    for node in segment.walk():
        if not isinstance(node, SegmentCondition):
            continue
        path, target = join_path(node.path, "segment"), node.segment
        other = segment if target == segment.name else segments.get(target)
        if other is None:
            close = difflib.get_close_matches(target, sorted(segments), n=3, cutoff=0.6)
            problems.append(Problem(path, f"unknown segment '{target}'", close))
            continue
        if other.entity != segment.entity:
            problems.append(
                Problem(
                    path,
                    f"segment '{target}' is a {other.entity} segment; "
                    f"a {segment.entity} segment can only use {segment.entity} segments",
                )
            )
        cycle = find_cycle(graph, [segment.name, target])
        if cycle is not None and tuple(cycle) not in cycles:
            cycles.add(tuple(cycle))
            problems.append(Problem(path, f"segments form a cycle: {format_cycle(cycle)}"))
    return problems


class _Mismatch(Exception):
    """A value that does not fit its field's type."""

    def __init__(self, message: str, suggestions: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestions = suggestions or []


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return repr(value)


def _to_text(value: object) -> object:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # an id or code written without quotes: 12345
    raise _Mismatch(f"expected text, got {_describe(value)}", [f"'{value}'"] if isinstance(value, float) else [])


def _to_number(value: object) -> object:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return value
    hint = [value] if isinstance(value, str) and _looks_numeric(value) else []
    raise _Mismatch(f"expected a number, got {_describe(value)}", hint)


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# YAML 1.1 habits: YAML 1.2 reads these as text, so a boolean field says what to write.
_BOOLEAN_WORDS: Final = {"yes": "true", "y": "true", "on": "true", "no": "false", "n": "false", "off": "false"}


def _to_boolean(value: object) -> object:
    if isinstance(value, bool):
        return value
    hint = _BOOLEAN_WORDS.get(value.lower()) if isinstance(value, str) else None
    if hint:
        raise _Mismatch(f"expected true or false, got {value!r} (text in YAML 1.2)", [hint])
    raise _Mismatch(f"expected true or false, got {_describe(value)}")


def _to_timestamp(value: object) -> object:
    if isinstance(value, str | datetime):
        try:
            return parse_timestamp(value)
        except ValueError as exc:
            raise _Mismatch(str(exc)) from exc
    raise _Mismatch(f"expected a date or timestamp (e.g. 2026-01-31 or 2026-01-31T09:00:00Z), got {_describe(value)}")


def _no_values(value: object) -> object:
    raise _Mismatch("a json field can only be tested with is_set or is_not_set")


#: how a value is made to fit each field type: one converter per type
CONVERTERS: Final[dict[FieldType, Callable[[object], object]]] = {
    FieldType.STRING: _to_text,
    FieldType.INTEGER: _to_number,
    FieldType.FLOAT: _to_number,
    FieldType.BOOLEAN: _to_boolean,
    FieldType.TIMESTAMP: _to_timestamp,
    FieldType.JSON: _no_values,
}


class _Checker:
    """Walks a condition tree, checking and normalising; ``visit_<Node>`` per node class."""

    def __init__(self, registry: FieldRegistry, entity: str) -> None:
        self.registry = registry
        self.entity = entity
        self.problems: list[Problem] = []

    def problem(self, path: str, message: str, suggestions: list[str] | None = None) -> None:
        self.problems.append(Problem(path, message, list(suggestions or [])))

    def visit(self, node: Condition) -> Condition:
        visitor: Callable[[Any], Condition] = getattr(self, f"visit_{type(node).__name__}")
        return visitor(node)

    def visit_FieldCondition(self, node: FieldCondition) -> FieldCondition:
        found = self.registry.find(self.entity, node.field)
        if found is None:
            suggestions = self.registry.suggest(self.entity, node.field)
            self.problem(join_path(node.path, "field"), f"unknown {self.entity} field '{node.field}'", suggestions)
            return node
        return self.typed(node, found.type, f"{self.entity} field")

    def visit_EventCondition(self, node: EventCondition) -> EventCondition:
        where = tuple(self.where(condition) for condition in node.where)
        if node.aggregate is not None:
            path = join_path(node.path, "aggregate.field")
            column = self.registry.find(EVENT_ENTITY, node.aggregate.field)
            if column is None:
                self.property_key(node.aggregate.field, path)
            elif not column.type.is_numeric:
                self.problem(
                    path,
                    f"{node.aggregate.fn} needs a number; event column '{column.name}' is {column.type.value}",
                    [c.name for c in self.registry.for_entity(EVENT_ENTITY) if c.type.is_numeric],
                )
        return replace(node, where=where)

    def visit_SegmentCondition(self, node: SegmentCondition) -> SegmentCondition:
        return node  # references need the other segments: see check_references

    def visit_AllOf(self, node: AllOf) -> AllOf:
        return replace(node, conditions=tuple(self.visit(c) for c in node.conditions))

    def visit_AnyOf(self, node: AnyOf) -> AnyOf:
        return replace(node, conditions=tuple(self.visit(c) for c in node.conditions))

    def visit_Not(self, node: Not) -> Not:
        return replace(node, condition=self.visit(node.condition))

    def where(self, node: FieldCondition) -> FieldCondition:
        """An event column is type-checked; any other name is a key of the event's JSON properties."""
        column = self.registry.find(EVENT_ENTITY, node.field)
        if column is None:
            self.property_key(node.field, join_path(node.path, "field"))
            return node  # no type is known: the value stays as written, any operator applies
        return self.typed(node, column.type, "event column")

    def property_key(self, key: str, path: str) -> None:
        if any(not part for part in key.split(".")):
            self.problem(path, f"invalid property key '{key}': dots separate nested keys, none of which may be empty")

    def typed(self, node: FieldCondition, field_type: FieldType, what: str) -> FieldCondition:
        """Check the operator against the field's type and convert the value to fit it."""
        allowed = operators_for(field_type)
        if node.op not in allowed:
            self.problem(
                join_path(node.path, "op"),
                f"operator '{node.op}' does not apply to {field_type.value} {what} '{node.field}' "
                f"(expected one of {', '.join(allowed)})",
            )
            return node
        shape = FIELD_OPERATORS[node.op].shape
        convert = CONVERTERS[field_type]
        value_path = join_path(node.path, "value")
        if shape in ("scalar", "ordered", "text"):
            value = self.convert(convert, node.value, value_path, node.field)
        elif shape in ("list", "pair"):
            items = [self.convert(convert, v, join_path(value_path, i), node.field) for i, v in enumerate(node.value)]
            value = tuple(items)
            low, high = items[0], items[-1]
            if shape == "pair" and isinstance(low, datetime) and isinstance(high, datetime) and low > high:
                self.problem(value_path, f"between needs [low, high] with low <= high, got {list(node.value)}")
        else:  # duration, none: nothing depends on the field's type
            value = node.value
        return replace(node, value=value)

    def convert(self, convert: Callable[[object], object], value: object, path: str, name: str) -> object:
        try:
            return convert(value)
        except _Mismatch as exc:
            self.problem(path, f"'{name}': {exc.message}", exc.suggestions)
            return value
