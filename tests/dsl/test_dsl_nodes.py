"""The node tree: root, dependencies, walk, document shape, equality without paths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from segmint.dsl.nodes import (
    DEFAULT_COUNT,
    Absolute,
    Aggregate,
    AllOf,
    AnyOf,
    BetweenAgo,
    Count,
    EventCondition,
    FieldCondition,
    Not,
    Segment,
    SegmentCondition,
    Within,
    walk,
)
from segmint.dsl.parse import parse_segment
from segmint.dsl.validate import validate_segment
from segmint.model.fields import FieldRegistry

NESTED = (
    FieldCondition("country", "in", ("FI", "SE")),
    AnyOf((SegmentCondition("a"), Not(AllOf((SegmentCondition("b"), FieldCondition("city", "is_set")))))),
    EventCondition(("page_view",), where=(FieldCondition("url", "contains", "/pricing"),)),
)


def test_segment_root_combines_conditions_by_match() -> None:
    assert Segment("s", conditions=NESTED).root == AllOf(NESTED)
    assert Segment("s", match="any", conditions=NESTED).root == AnyOf(NESTED)


def test_segment_root_of_a_static_segment_raises_rather_than_match_everyone() -> None:
    with pytest.raises(ValueError, match="static"):
        _ = Segment("s", kind="static", members=("1",)).root


def test_segment_dependencies_are_found_at_any_depth() -> None:
    assert Segment("s", conditions=NESTED).dependencies() == {"a", "b"}


def test_walk_visits_every_node_parents_first_including_where() -> None:
    names = [type(n).__name__ for n in walk(AllOf(NESTED))]
    assert names == [
        "AllOf",
        "FieldCondition",
        "AnyOf",
        "SegmentCondition",
        "Not",
        "AllOf",
        "SegmentCondition",
        "FieldCondition",
        "EventCondition",
        "FieldCondition",
    ]


def test_node_equality_ignores_the_path() -> None:
    assert FieldCondition("a", "is_set", path="conditions[0]") == FieldCondition("a", "is_set")
    assert hash(SegmentCondition("a", path="x")) == hash(SegmentCondition("a"))


def test_event_condition_effective_count_defaults_to_at_least_one() -> None:
    assert EventCondition(("x",)).effective_count == DEFAULT_COUNT == Count("gte", 1)
    assert EventCondition(("x",), count=Count("eq", 0)).effective_count == Count("eq", 0)
    assert EventCondition(("x",), aggregate=Aggregate("sum", "amount", "gte", 1)).effective_count is None


def test_segment_to_dict_writes_the_document_shape() -> None:
    segment = Segment(
        "s",
        title="T",
        conditions=(
            FieldCondition(
                "created_at", "between", (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, 9, tzinfo=UTC))
            ),
            FieldCondition("created_at", "within_last", timedelta(hours=36)),
            Not(EventCondition(None, window=BetweenAgo(timedelta(days=30), timedelta(days=7)), first_time=True)),
            EventCondition(("a", "b"), window=Absolute(datetime(2026, 1, 1, tzinfo=UTC), None), count=Count("lt", 2)),
            EventCondition(("c",), window=Within(timedelta(weeks=1)), aggregate=Aggregate("avg", "amount", "gt", 9.5)),
        ),
    )
    assert segment.to_dict() == {
        "name": "s",
        "title": "T",
        "entity": "contact",
        "kind": "dynamic",
        "match": "all",
        "conditions": [
            {"field": "created_at", "op": "between", "value": ["2026-01-01", "2026-01-02T09:00:00Z"]},
            {"field": "created_at", "op": "within_last", "value": "36h"},
            {"not": {"event": "*", "between_ago": ["30d", "7d"], "first_time": True}},
            {"event": ["a", "b"], "since": "2026-01-01", "count": {"op": "lt", "value": 2}},
            {"event": "c", "within": "7d", "aggregate": {"fn": "avg", "field": "amount", "op": "gt", "value": 9.5}},
        ],
    }


def test_static_segment_to_dict_has_members_not_conditions() -> None:
    assert Segment("vip", kind="static", members=("1", "2")).to_dict() == {
        "name": "vip",
        "entity": "contact",
        "kind": "static",
        "members": ["1", "2"],
    }


def test_validated_segment_round_trips_through_to_dict(registry: FieldRegistry) -> None:
    source = """
name: s
conditions:
  - {field: created_at, op: between, value: [2026-01-01, "2026-01-31T10:30:00+02:00"]}
  - {field: company.employees, op: gte, value: 50}
  - {event: purchase, where: [{field: ts, op: lt, value: 2026-03-01}], since: 2026-01-01}
"""
    segment = validate_segment(parse_segment(source), registry)
    assert validate_segment(parse_segment(segment.to_dict()), registry) == segment
