"""Parsing SEGMENTS.md documents: every shape normalised, every structural problem with its path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from segmint.dsl.nodes import (
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
)
from segmint.dsl.parse import parse_segment, parse_segment_file, parse_segments_dir
from segmint.errors import NotFoundError, Problem, ValidationError


def problems_of(source: str | dict[str, Any]) -> list[Problem]:
    with pytest.raises(ValidationError) as caught:
        parse_segment(source)
    return caught.value.problems


def paths_of(source: str | dict[str, Any]) -> list[str]:
    return [p.path for p in problems_of(source)]


def one_condition(condition: str) -> str:
    return f"name: s\nconditions:\n  - {condition}\n"


# ---- field conditions: every operator -------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("eq", "FI", "FI"),
        ("eq", "5", 5),
        ("eq", "true", True),
        ("neq", "2.5", 2.5),
        ("in", "[FI, SE]", ("FI", "SE")),
        ("not_in", "[1, 2]", (1, 2)),
        ("gt", "5", 5),
        ("gte", "2026-01-31", "2026-01-31"),  # stays text until the validator knows the field's type
        ("lt", "1.5", 1.5),
        ("lte", "'2026-01-31T10:00:00Z'", "2026-01-31T10:00:00Z"),
        ("between", "[50, 500]", (50, 500)),
        ("between", "[2026-01-01, 2026-02-01]", ("2026-01-01", "2026-02-01")),
        ("contains", "/pricing", "/pricing"),
        ("not_contains", "'unsubscribe'", "unsubscribe"),
        ("starts_with", "'+358'", "+358"),
        ("ends_with", "'@example.com'", "@example.com"),
        ("within_last", "30d", timedelta(days=30)),
        ("older_than", "2w", timedelta(days=14)),
    ],
)
def test_parse_field_condition_normalises_each_operator(op: str, value: str, expected: object) -> None:
    segment = parse_segment(one_condition(f"{{field: x, op: {op}, value: {value}}}"))
    assert segment.conditions == (FieldCondition("x", op, expected),)
    assert type(segment.conditions[0].value) is type(expected)


@pytest.mark.parametrize("op", ["is_set", "is_not_set"])
def test_parse_field_condition_set_tests_take_no_value(op: str) -> None:
    assert parse_segment(one_condition(f"{{field: x, op: {op}}}")).conditions == (FieldCondition("x", op, None),)
    assert parse_segment(one_condition(f"{{field: x, op: {op}, value: null}}")).conditions[0].value is None  # type: ignore[union-attr]


def test_parse_field_condition_records_its_path() -> None:
    segment = parse_segment("name: s\nconditions:\n  - {field: a, op: is_set}\n  - all: [{field: b, op: is_set}]\n")
    inner = segment.conditions[1].conditions[0]  # type: ignore[union-attr]
    assert (segment.conditions[0].path, segment.conditions[1].path, inner.path) == (
        "conditions[0]",
        "conditions[1]",
        "conditions[1].all[0]",
    )


def test_parse_accepts_an_already_read_mapping_with_python_dates() -> None:
    source = {"name": "s", "conditions": [{"field": "created_at", "op": "gte", "value": datetime(2026, 1, 31, 12)}]}
    assert parse_segment(source).conditions[0].value == datetime(2026, 1, 31, 12, tzinfo=UTC)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("condition", "path", "message"),
    [
        ("{field: x, op: in, value: FI}", "conditions[0].value", "in needs a list of one or more values"),
        ("{field: x, op: in, value: []}", "conditions[0].value", "in needs a list of one or more values"),
        ("{field: x, op: in, value: [FI, [SE]]}", "conditions[0].value[1]", "a value of in is one value"),
        ("{field: x, op: between, value: [1, 2, 3]}", "conditions[0].value", "between needs [low, high]"),
        ("{field: x, op: between, value: [500, 50]}", "conditions[0].value", "low <= high"),
        ("{field: x, op: is_set, value: true}", "conditions[0].value", "is_set takes no value"),
        ("{field: x, op: eq}", "conditions[0].value", "eq needs a value"),
        ("{field: x, op: eq, value: [a, b]}", "conditions[0].value", "eq needs one value"),
        ("{field: x, op: gt, value: true}", "conditions[0].value", "gt needs a number, a date or a timestamp"),
        ("{field: x, op: contains, value: 123}", "conditions[0].value", "contains needs text"),
        ("{field: x, op: within_last, value: 3mo}", "conditions[0].value", "no months or years"),
        ("{field: x, op: older_than, value: 30}", "conditions[0].value", "invalid duration 30"),
        ("{field: x, value: 1}", "conditions[0].op", "missing operator"),
        ("{field: '', op: is_set}", "conditions[0].field", "a field name is non-empty text"),
    ],
)
def test_parse_field_condition_rejects_values_of_the_wrong_shape(condition: str, path: str, message: str) -> None:
    problems = problems_of(one_condition(condition))
    assert [p.path for p in problems] == [path]
    assert message in problems[0].message


def test_parse_contains_with_a_number_suggests_quoting_it() -> None:
    assert problems_of(one_condition("{field: phone, op: contains, value: 358}"))[0].suggestions == ["'358'"]


def test_parse_unknown_field_operator_lists_the_operators_and_suggests_close_ones() -> None:
    problem = problems_of(one_condition("{field: x, op: eqq, value: 1}"))[0]
    assert problem.path == "conditions[0].op"
    assert problem.message.startswith("unknown operator 'eqq' (expected one of eq, neq, in, not_in, gt, ")
    assert problem.suggestions[0] == "eq"


# ---- event conditions ------------------------------------------------------------------------


def test_parse_event_condition_reads_segments_md_example() -> None:
    segment = parse_segment(
        """
name: hot-pricing-leads
title: "Hot leads – pricing"
description: >
  Prospects who looked at prices three times in a week.
entity: contact
kind: dynamic
match: all
conditions:
  - field: relationship_status
    op: eq
    value: prospect
  - event: page_view
    where:
      - {field: url, op: contains, value: /pricing}
    within: 7d
    count: {op: gte, value: 3}
"""
    )
    assert segment == Segment(
        name="hot-pricing-leads",
        title="Hot leads – pricing",
        description="Prospects who looked at prices three times in a week.\n",
        conditions=(
            FieldCondition("relationship_status", "eq", "prospect"),
            EventCondition(
                events=("page_view",),
                where=(FieldCondition("url", "contains", "/pricing"),),
                window=Within(timedelta(days=7)),
                count=Count("gte", 3),
            ),
        ),
    )
    assert segment.conditions[1].where[0].path == "conditions[1].where[0]"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("event", "expected"),
    [("purchase", ("purchase",)), ("[email_open, email_click]", ("email_open", "email_click")), ("'*'", None)],
)
def test_parse_event_names_one_several_or_every(event: str, expected: tuple[str, ...] | None) -> None:
    assert parse_segment(one_condition(f"{{event: {event}}}")).conditions[0] == EventCondition(expected)


@pytest.mark.parametrize("event", ["[]", "['*', open]", "''", "3", "{a: b}"])
def test_parse_event_names_rejects_empty_and_mixed_star(event: str) -> None:
    assert paths_of(one_condition(f"{{event: {event}}}")) == ["conditions[0].event"]


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ("within: 30d", Within(timedelta(days=30))),
        ("between_ago: [30d, 7d]", BetweenAgo(timedelta(days=30), timedelta(days=7))),
        ("since: 2026-01-01", Absolute(datetime(2026, 1, 1, tzinfo=UTC), None)),
        ("until: '2026-01-31T10:00:00+02:00'", Absolute(None, datetime(2026, 1, 31, 8, tzinfo=UTC))),
        (
            "since: 2026-01-01, until: 2026-01-31 12:00",
            Absolute(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 31, 12, tzinfo=UTC)),
        ),
    ],
)
def test_parse_event_window_each_kind(window: str, expected: object) -> None:
    assert parse_segment(one_condition(f"{{event: open, {window}}}")).conditions[0].window == expected  # type: ignore[union-attr]


def test_parse_event_window_at_most_one() -> None:
    problems = problems_of(one_condition("{event: open, within: 7d, since: 2026-01-01}"))
    assert [p.path for p in problems] == ["conditions[0]"]
    assert "one window at most" in problems[0].message


def test_parse_between_ago_needs_the_older_duration_first() -> None:
    problems = problems_of(one_condition("{event: open, between_ago: [7d, 30d]}"))
    assert [p.path for p in problems] == ["conditions[0].between_ago"]
    assert "D1 > D2" in problems[0].message
    assert problems[0].suggestions == ["[30d, 7d]"]


def test_parse_between_ago_rejects_equal_durations() -> None:
    assert paths_of(one_condition("{event: open, between_ago: [7d, 1w]}")) == ["conditions[0].between_ago"]


def test_parse_between_ago_reports_a_bad_duration_by_index() -> None:
    assert paths_of(one_condition("{event: open, between_ago: [1y, 7d]}")) == ["conditions[0].between_ago[0]"]


def test_parse_since_after_until_is_an_error() -> None:
    assert paths_of(one_condition("{event: open, since: 2026-02-01, until: 2026-01-01}")) == ["conditions[0].until"]


def test_parse_since_must_be_a_date() -> None:
    assert paths_of(one_condition("{event: open, since: yesterday}")) == ["conditions[0].since"]


def test_parse_aggregate() -> None:
    segment = parse_segment(
        one_condition("{event: purchase, aggregate: {fn: sum, field: amount, op: gte, value: 1000}}")
    )
    assert segment.conditions[0] == EventCondition(("purchase",), aggregate=Aggregate("sum", "amount", "gte", 1000))


def test_parse_count_and_aggregate_together_is_an_error() -> None:
    problems = problems_of(
        one_condition(
            "{event: purchase, count: {op: gte, value: 1}, aggregate: {fn: sum, field: amount, op: gte, value: 1}}"
        )
    )
    assert [p.path for p in problems] == ["conditions[0]"]
    assert "count and aggregate cannot be used together" in problems[0].message


def test_parse_count_operator_error_reads_as_segments_md_shows() -> None:
    problems = problems_of(
        "name: s\nconditions:\n  - {field: a, op: is_set}\n  - {event: x, count: {op: gte3, value: 3}}"
    )
    assert [p.path for p in problems] == ["conditions[1].count.op"]
    assert problems[0].message == "unknown operator 'gte3' (expected one of eq, neq, gt, gte, lt, lte)"
    assert str(problems[0]).startswith(
        "conditions[1].count.op: unknown operator 'gte3' (expected one of eq, neq, gt, gte, lt, lte)"
    )


@pytest.mark.parametrize("value", ["-1", "1.5", "true", "'3'"])
def test_parse_count_value_is_a_whole_number(value: str) -> None:
    assert paths_of(one_condition(f"{{event: x, count: {{op: gte, value: {value}}}}}")) == ["conditions[0].count.value"]


def test_parse_aggregate_reports_each_bad_part() -> None:
    paths = paths_of(one_condition("{event: x, aggregate: {fn: total, field: '', op: big, value: lots}}"))
    assert paths == [
        "conditions[0].aggregate.fn",
        "conditions[0].aggregate.field",
        "conditions[0].aggregate.op",
        "conditions[0].aggregate.value",
    ]


def test_parse_first_time_yes_suggests_true() -> None:
    problems = problems_of(one_condition("{event: x, first_time: yes}"))
    assert [(p.path, p.suggestions) for p in problems] == [("conditions[0].first_time", ["true"])]


def test_parse_where_accepts_only_field_conditions() -> None:
    paths = paths_of(one_condition("{event: x, where: [{event: y}, {field: url, op: eq, value: a, segment: z}]}"))
    assert paths == ["conditions[0].where[0]", "conditions[0].where[1].segment"]


# ---- combinations and segment references ---------------------------------------------------


def test_parse_boolean_combinations_nest() -> None:
    segment = parse_segment(
        """
name: s
match: any
conditions:
  - any:
      - {field: role, op: eq, value: cfo}
      - {field: role, op: eq, value: it_manager}
  - not:
      event: purchase
      within: 365d
  - all: [{segment: email-marketable}]
"""
    )
    assert segment.match == "any"
    assert segment.conditions == (
        AnyOf((FieldCondition("role", "eq", "cfo"), FieldCondition("role", "eq", "it_manager"))),
        Not(EventCondition(("purchase",), window=Within(timedelta(days=365)))),
        AllOf((SegmentCondition("email-marketable"),)),
    )
    assert segment.conditions[1].condition.path == "conditions[1].not"


def test_parse_not_takes_one_condition_not_a_list() -> None:
    problems = problems_of(one_condition("{not: [{segment: a}]}"))
    assert [p.path for p in problems] == ["conditions[0].not"]


def test_parse_empty_all_is_an_error_not_true_for_everyone() -> None:
    assert paths_of(one_condition("{all: []}")) == ["conditions[0].all"]


def test_parse_condition_needs_exactly_one_kind() -> None:
    problems = problems_of(one_condition("{field: role, event: open, op: is_set}"))
    assert [p.path for p in problems] == ["conditions[0]"]
    assert problems[0].message.endswith("this one has field, event")


def test_parse_condition_without_a_kind_suggests_the_misspelt_one() -> None:
    problems = problems_of(one_condition("{feild: country, op: eq, value: FI}"))
    assert [(p.path, p.suggestions) for p in problems] == [("conditions[0].feild", ["field"])]


def test_parse_condition_without_any_known_key() -> None:
    problems = problems_of(one_condition("{x: 1}"))
    assert [p.path for p in problems] == ["conditions[0]"]


def test_parse_unknown_key_suggests_the_closest_known_key() -> None:
    problems = problems_of(one_condition("{event: open, withn: 7d}"))
    assert [(p.path, p.message, p.suggestions) for p in problems] == [
        ("conditions[0].withn", "unknown key 'withn'", ["within"])
    ]


def test_parse_segment_reference_needs_a_valid_name() -> None:
    assert paths_of(one_condition("{segment: Email Marketable}")) == ["conditions[0].segment"]


# ---- the document ----------------------------------------------------------------------------


def test_parse_reports_every_problem_at_once_with_exact_paths() -> None:
    source = """
name: Hot Leads
conditions:
  - {field: country, op: eqq, value: FI}
  - event: page_view
    within: 7d
    count: {op: gte3, value: 3}
"""
    assert paths_of(source) == ["name", "conditions[0].op", "conditions[1].count.op"]


def test_parse_error_message_names_the_origin() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_segment("name: x", origin="segments/x.yaml")
    assert caught.value.message == "segments/x.yaml: invalid segment"
    assert caught.value.code == "validation_error"


@pytest.mark.parametrize("name", ["a", "hot-leads", "2026-q1", "a" * 63, "x-"])
def test_parse_name_accepts_the_name_pattern(name: str) -> None:
    assert parse_segment({"name": name, "kind": "static", "members": []}).name == name


@pytest.mark.parametrize(("name", "suggestion"), [("Hot Leads", ["hot-leads"]), ("-a", ["a"]), ("a" * 64, ["a" * 63])])
def test_parse_name_rejects_others_suggesting_a_slug(name: str, suggestion: list[str]) -> None:
    problems = problems_of({"name": name, "kind": "static", "members": []})
    assert [(p.path, p.suggestions) for p in problems] == [("name", suggestion)]


def test_parse_name_is_required() -> None:
    assert paths_of({"kind": "static", "members": []}) == ["name"]


def test_parse_top_level_choices_suggest_close_values() -> None:
    problems = problems_of({"name": "s", "entity": "contacts", "kind": "Static", "match": "every", "members": []})
    assert [(p.path, p.suggestions) for p in problems] == [
        ("entity", ["contact"]),
        ("kind", ["static"]),
        ("match", []),
    ]
    assert problems[0].message == "unknown entity 'contacts' (expected one of contact, company)"


def test_parse_unknown_top_level_key() -> None:
    problems = problems_of("name: s\ncondtions: [{field: a, op: is_set}]")
    assert [(p.path, p.suggestions) for p in problems] == [("condtions", ["conditions"]), ("conditions", [])]


def test_parse_dynamic_segment_needs_one_or_more_conditions() -> None:
    assert paths_of("name: s") == ["conditions"]
    assert paths_of("name: s\nconditions: []") == ["conditions"]
    assert paths_of("name: s\nconditions: {field: a, op: is_set}") == ["conditions"]


def test_parse_dynamic_segment_has_no_members() -> None:
    assert paths_of("name: s\nmembers: [a]\nconditions: [{field: a, op: is_set}]") == ["members"]


def test_parse_static_segment_reads_members_as_distinct_strings() -> None:
    segment = parse_segment("name: vip\nkind: static\nmembers: [c-1, 12345, c-1]")
    assert (segment.kind, segment.members, segment.conditions) == ("static", ("c-1", "12345"), ())


def test_parse_static_segment_may_be_empty() -> None:
    assert parse_segment("name: vip\nkind: static\nmembers: []").members == ()


def test_parse_static_segment_needs_members_and_no_conditions() -> None:
    assert paths_of("name: vip\nkind: static") == ["members"]
    assert paths_of("name: vip\nkind: static\nmatch: any\nmembers: [a]\nconditions: [{segment: x}]") == [
        "conditions",
        "match",
    ]
    assert paths_of("name: vip\nkind: static\nmembers: [a, true, '']") == ["members[1]", "members[2]"]


def test_parse_segment_must_be_a_mapping() -> None:
    assert paths_of("- a\n- b") == [""]
    assert paths_of("") == [""]


# ---- files -------------------------------------------------------------------------------------


def test_parse_segment_file_names_the_file_in_the_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: Bad\nkind: static\nmembers: []\n", encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        parse_segment_file(path)
    assert caught.value.message == f"{path}: invalid segment"


def test_parse_segment_file_missing_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        parse_segment_file(tmp_path / "nope.yaml")


def test_parse_segments_dir_reads_yaml_and_json_by_name(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: a\nconditions: [{segment: b}]\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.json").write_text('{"name": "b", "kind": "static", "members": ["1"]}', encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a segment", encoding="utf-8")
    segments = parse_segments_dir(tmp_path)
    assert list(segments) == ["a", "b"]
    assert segments["b"].members == ("1",)


def test_parse_segments_dir_reports_problems_of_all_files_and_duplicate_names(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: a\nconditions: [{field: x, op: eqq}]\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("name: c\nkind: static\nmembers: []\n", encoding="utf-8")
    (tmp_path / "c.yaml").write_text("name: c\nkind: static\nmembers: []\n", encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        parse_segments_dir(tmp_path)
    assert [p.path for p in caught.value.problems] == ["a.yaml:conditions[0].op", "c.yaml:name"]
    assert caught.value.problems[1].message == "segment 'c' is also defined in b.yaml"
