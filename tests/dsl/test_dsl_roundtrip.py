"""parse(to_dict(s)) == s for any segment the parser can produce, through dicts, YAML and JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

hypothesis = pytest.importorskip("hypothesis")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from segmint.dsl.documents import dump_yaml  # noqa: E402
from segmint.dsl.explain import explain_segment  # noqa: E402
from segmint.dsl.nodes import (  # noqa: E402
    AGGREGATE_FNS,
    COUNT_OPS,
    Absolute,
    Aggregate,
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
)
from segmint.dsl.ops import FIELD_OPERATORS  # noqa: E402
from segmint.dsl.parse import parse_segment  # noqa: E402

names = st.from_regex(r"[a-z0-9][a-z0-9-]{0,62}", fullmatch=True)
field_names = st.from_regex(r"[a-z_][a-z0-9_]{0,12}(\.[a-z_][a-z0-9_]{0,8})?", fullmatch=True)
# Printable text, so the YAML and JSON round trips exercise quoting rather than control characters.
texts = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FFF), max_size=20)
numbers = st.integers(-(10**12), 10**12) | st.floats(allow_nan=False, allow_infinity=False, width=64)
scalars = texts | numbers | st.booleans()
ordered = texts | numbers
durations = st.integers(0, 10**6).map(lambda minutes: timedelta(minutes=minutes))
instants = st.datetimes(datetime(1970, 1, 1), datetime(2100, 1, 1)).map(lambda d: d.replace(tzinfo=UTC))
pairs = st.tuples(numbers, numbers).map(lambda p: tuple(sorted(p))) | st.tuples(texts, texts)

#: one value strategy per shape of SEGMENTS.md's operator table
VALUES = {
    "scalar": scalars,
    "list": st.lists(scalars, min_size=1, max_size=4).map(tuple),
    "ordered": ordered,
    "pair": pairs,
    "text": texts,
    "duration": durations,
    "none": st.none(),
}


@st.composite
def field_conditions(draw: st.DrawFn) -> FieldCondition:
    op = draw(st.sampled_from(sorted(FIELD_OPERATORS)))
    return FieldCondition(draw(field_names), op, draw(VALUES[FIELD_OPERATORS[op].shape]))


@st.composite
def windows(draw: st.DrawFn) -> Within | BetweenAgo | Absolute | None:
    kind = draw(st.sampled_from(["none", "within", "between_ago", "since", "until", "since_until"]))
    if kind == "within":
        return Within(draw(durations))
    if kind == "between_ago":
        newer = draw(durations)
        return BetweenAgo(newer + draw(durations.filter(bool)), newer)
    if kind == "since_until":
        since, until = sorted((draw(instants), draw(instants)))
        return Absolute(since, until)
    if kind in ("since", "until"):
        moment = draw(instants)
        return Absolute(moment, None) if kind == "since" else Absolute(None, moment)
    return None


@st.composite
def event_conditions(draw: st.DrawFn) -> EventCondition:
    measure = draw(st.sampled_from(["default", "count", "aggregate"]))
    count = Count(draw(st.sampled_from(COUNT_OPS)), draw(st.integers(0, 1000))) if measure == "count" else None
    aggregate = None
    if measure == "aggregate":
        aggregate = Aggregate(
            draw(st.sampled_from(AGGREGATE_FNS)), draw(field_names), draw(st.sampled_from(COUNT_OPS)), draw(numbers)
        )
    event_names = texts.filter(lambda t: t not in ("", "*"))
    return EventCondition(
        events=draw(st.none() | st.lists(event_names, min_size=1, max_size=3).map(tuple)),
        where=tuple(draw(st.lists(field_conditions(), max_size=2))),
        window=draw(windows()),
        count=count,
        aggregate=aggregate,
        first_time=draw(st.booleans()),
    )


leaves = field_conditions() | event_conditions() | names.map(SegmentCondition)
conditions: st.SearchStrategy[Condition] = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, min_size=1, max_size=3).map(lambda cs: AllOf(tuple(cs)))
        | st.lists(children, min_size=1, max_size=3).map(lambda cs: AnyOf(tuple(cs)))
        | children.map(Not)
    ),
    max_leaves=8,
)


@st.composite
def segments(draw: st.DrawFn) -> Segment:
    common = {
        "name": draw(names),
        "entity": draw(st.sampled_from(["contact", "company"])),
        "title": draw(st.none() | texts),
        "description": draw(st.none() | texts),
    }
    if draw(st.booleans()):
        members = draw(st.lists(texts.filter(bool), max_size=5, unique=True))
        return Segment(kind="static", members=tuple(members), **common)  # type: ignore[arg-type]
    return Segment(
        kind="dynamic",
        match=draw(st.sampled_from(["all", "any"])),
        conditions=tuple(draw(st.lists(conditions, min_size=1, max_size=4))),
        **common,  # type: ignore[arg-type]
    )


@settings(max_examples=300, deadline=None)
@given(segments())
def test_segment_to_dict_round_trips_through_parse(segment: Segment) -> None:
    assert parse_segment(segment.to_dict()) == segment


@settings(max_examples=150, deadline=None)
@given(segments())
def test_segment_to_dict_round_trips_through_yaml_and_json_text(segment: Segment) -> None:
    assert parse_segment(dump_yaml(segment.to_dict())) == segment
    assert parse_segment(json.dumps(segment.to_dict())) == segment


@settings(max_examples=150, deadline=None)
@given(segments())
def test_explain_segment_gives_one_line_per_condition(segment: Segment) -> None:
    lines = explain_segment(segment).splitlines()
    assert all(line.strip() for line in lines)
    if segment.kind == "dynamic" and len(segment.conditions) > 1:
        # One heading, then at least one line per top-level condition.
        assert len(lines) >= 1 + len(segment.conditions)
