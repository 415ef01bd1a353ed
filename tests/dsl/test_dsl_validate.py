"""Validation against the field registry and the other segments: every problem at once, values normalised."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from segmint.dsl.graph import dependency_order
from segmint.dsl.nodes import FieldCondition, Segment, SegmentCondition
from segmint.dsl.parse import parse_segment
from segmint.dsl.validate import load_segment, load_segments_dir, validate_segment, validate_segments
from segmint.errors import Problem, ValidationError
from segmint.model.fields import FieldRegistry


def problems_of(source: str, registry: FieldRegistry, segments: dict[str, Segment] | None = None) -> list[Problem]:
    with pytest.raises(ValidationError) as caught:
        load_segment(source, registry, segments or {})
    return caught.value.problems


def one_condition(condition: str, entity: str = "contact") -> str:
    return f"name: s\nentity: {entity}\nconditions:\n  - {condition}\n"


def only_value(source: str, registry: FieldRegistry) -> object:
    return load_segment(source, registry).conditions[0].value  # type: ignore[union-attr]


# ---- fields ----------------------------------------------------------------------------------------


def test_validate_unknown_field_suggests_close_names(registry: FieldRegistry) -> None:
    problems = problems_of(one_condition("{field: contry, op: eq, value: FI}"), registry)
    assert [(p.path, p.message) for p in problems] == [("conditions[0].field", "unknown contact field 'contry'")]
    assert problems[0].suggestions[0] == "country"


def test_validate_number_operator_on_a_text_field_is_an_error(registry: FieldRegistry) -> None:
    problems = problems_of(one_condition("{field: country, op: gt, value: 5}"), registry)
    assert [p.path for p in problems] == ["conditions[0].op"]
    assert problems[0].message.startswith("operator 'gt' does not apply to string contact field 'country'")


@pytest.mark.parametrize("op", ["gte", "lt", "lte"])
def test_validate_comparisons_on_text_are_errors(op: str, registry: FieldRegistry) -> None:
    assert [p.path for p in problems_of(one_condition(f"{{field: city, op: {op}, value: m}}"), registry)] == [
        "conditions[0].op"
    ]


def test_validate_between_on_a_text_field_is_an_error(registry: FieldRegistry) -> None:
    problems = problems_of(one_condition("{field: city, op: between, value: [a, m]}"), registry)
    assert [p.path for p in problems] == ["conditions[0].op"]


@pytest.mark.parametrize("op", ["within_last", "older_than"])
def test_validate_within_last_needs_a_timestamp_field(op: str, registry: FieldRegistry) -> None:
    problems = problems_of(one_condition(f"{{field: email, op: {op}, value: 7d}}"), registry)
    assert [p.path for p in problems] == ["conditions[0].op"]
    assert f"operator '{op}' does not apply to string contact field 'email'" in problems[0].message


@pytest.mark.parametrize("op", ["contains", "starts_with", "ends_with", "not_contains"])
def test_validate_substring_tests_on_a_number_are_errors(op: str, registry: FieldRegistry) -> None:
    problems = problems_of(one_condition(f"{{field: company.employees, op: {op}, value: '5'}}"), registry)
    assert [p.path for p in problems] == ["conditions[0].op"]


@pytest.mark.parametrize(("op", "ok"), [("eq", True), ("neq", True), ("is_set", True), ("in", False), ("gt", False)])
def test_validate_booleans_allow_only_equality_and_set_tests(op: str, ok: bool, registry: FieldRegistry) -> None:
    value = {"eq": "true", "neq": "false", "is_set": "null", "in": "[true]", "gt": "1"}[op]
    source = one_condition(f"{{field: is_partner, op: {op}, value: {value}}}")
    if ok:
        load_segment(source, registry)
    else:
        assert [p.path for p in problems_of(source, registry)] == ["conditions[0].op"]


def test_validate_boolean_value_yes_is_text_in_yaml12(registry: FieldRegistry) -> None:
    problems = problems_of(one_condition("{field: is_partner, op: eq, value: yes}"), registry)
    assert [(p.path, p.suggestions) for p in problems] == [("conditions[0].value", ["true"])]


def test_validate_number_field_rejects_text(registry: FieldRegistry) -> None:
    problems = problems_of(one_condition("{field: company.employees, op: eq, value: '50'}"), registry)
    assert [(p.path, p.suggestions) for p in problems] == [("conditions[0].value", ["50"])]


def test_validate_string_field_reads_an_unquoted_integer_as_its_digits(registry: FieldRegistry) -> None:
    assert only_value(one_condition("{field: contact_id, op: in, value: [123, c-9]}"), registry) == ("123", "c-9")


def test_validate_string_field_rejects_a_boolean(registry: FieldRegistry) -> None:
    assert [p.path for p in problems_of(one_condition("{field: city, op: eq, value: true}"), registry)] == [
        "conditions[0].value"
    ]


def test_validate_company_employees_is_an_integer_field_on_contacts(registry: FieldRegistry) -> None:
    segment = load_segment(one_condition("{field: company.employees, op: between, value: [50, 500]}"), registry)
    assert segment.conditions == (FieldCondition("company.employees", "between", (50, 500)),)


def test_validate_company_segment_uses_company_fields(registry: FieldRegistry) -> None:
    segment = load_segment(
        one_condition("{field: employees, op: gte, value: 100}", entity="company"),
        registry,
    )
    assert (segment.entity, segment.conditions) == ("company", (FieldCondition("employees", "gte", 100),))


def test_validate_company_segment_rejects_contact_fields(registry: FieldRegistry) -> None:
    problems = problems_of(one_condition("{field: job_title, op: eq, value: cfo}", entity="company"), registry)
    assert [(p.path, p.message) for p in problems] == [("conditions[0].field", "unknown company field 'job_title'")]


def test_validate_traits_are_fields(registry: FieldRegistry) -> None:
    load_segment(one_condition("{field: lead_score, op: gte, value: 50}"), registry)


# ---- timestamps ------------------------------------------------------------------------------------


def test_validate_date_on_a_timestamp_field_becomes_midnight_utc(registry: FieldRegistry) -> None:
    value = only_value(one_condition("{field: created_at, op: gte, value: 2026-01-31}"), registry)
    assert value == datetime(2026, 1, 31, 0, 0, tzinfo=UTC)
    assert isinstance(value, datetime)
    assert value.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-31T10:30:00", datetime(2026, 1, 31, 10, 30, tzinfo=UTC)),  # no zone: UTC
        ("2026-01-31T10:30:00Z", datetime(2026, 1, 31, 10, 30, tzinfo=UTC)),
        ("'2026-01-31T10:30:00+02:00'", datetime(2026, 1, 31, 8, 30, tzinfo=UTC)),
        ("2026-01-31 10:30", datetime(2026, 1, 31, 10, 30, tzinfo=UTC)),
    ],
)
def test_validate_timestamps_become_aware_utc(text: str, expected: datetime, registry: FieldRegistry) -> None:
    assert only_value(one_condition(f"{{field: created_at, op: lt, value: {text}}}"), registry) == expected


def test_validate_between_dates_converts_both_and_checks_order(registry: FieldRegistry) -> None:
    value = only_value(one_condition("{field: created_at, op: between, value: [2026-01-01, 2026-01-31]}"), registry)
    assert value == (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 31, tzinfo=UTC))
    problems = problems_of(one_condition("{field: created_at, op: between, value: [2026-02-01, 2026-01-01]}"), registry)
    assert [p.path for p in problems] == ["conditions[0].value"]


def test_validate_invalid_dates_on_a_timestamp_field(registry: FieldRegistry) -> None:
    problems = problems_of(
        "name: s\nconditions:\n"
        "  - {field: created_at, op: gte, value: 2026-13-01}\n"
        "  - {field: created_at, op: in, value: [2026-01-01, soon]}\n"
        "  - {field: created_at, op: lt, value: 20260101}\n",
        registry,
    )
    assert [p.path for p in problems] == ["conditions[0].value", "conditions[1].value[1]", "conditions[2].value"]


def test_validate_within_last_on_a_timestamp_keeps_the_duration(registry: FieldRegistry) -> None:
    assert only_value(one_condition("{field: created_at, op: within_last, value: 30d}"), registry) == timedelta(30)


# ---- events ----------------------------------------------------------------------------------------


def test_validate_event_where_on_a_json_property_key_passes(registry: FieldRegistry) -> None:
    segment = load_segment(
        one_condition("{event: form_submit, where: [{field: form.plan, op: gt, value: 2026-01-01}]}"), registry
    )
    # No type is known for a property: the value stays as written.
    assert segment.conditions[0].where == (FieldCondition("form.plan", "gt", "2026-01-01"),)  # type: ignore[union-attr]


def test_validate_event_where_column_is_type_checked(registry: FieldRegistry) -> None:
    problems = problems_of(
        one_condition(
            "{event: page_view, where: [{field: url, op: gt, value: 1}, {field: amount, op: contains, value: '1'}]}"
        ),
        registry,
    )
    assert [p.path for p in problems] == ["conditions[0].where[0].op", "conditions[0].where[1].op"]
    assert problems[0].message.startswith("operator 'gt' does not apply to string event column 'url'")


def test_validate_event_where_on_ts_converts_dates(registry: FieldRegistry) -> None:
    segment = load_segment(one_condition("{event: open, where: [{field: ts, op: gte, value: 2026-01-01}]}"), registry)
    assert segment.conditions[0].where[0].value == datetime(2026, 1, 1, tzinfo=UTC)  # type: ignore[union-attr]


def test_validate_event_where_property_key_has_no_empty_parts(registry: FieldRegistry) -> None:
    problems = problems_of(one_condition("{event: open, where: [{field: a..b, op: is_set}]}"), registry)
    assert [p.path for p in problems] == ["conditions[0].where[0].field"]


def test_validate_aggregate_field_must_be_numeric_when_it_is_a_column(registry: FieldRegistry) -> None:
    problems = problems_of(
        one_condition("{event: purchase, aggregate: {fn: sum, field: url, op: gt, value: 1}}"), registry
    )
    assert [(p.path, p.suggestions) for p in problems] == [("conditions[0].aggregate.field", ["amount", "price"])]
    load_segment(one_condition("{event: purchase, aggregate: {fn: avg, field: amount, op: gt, value: 1}}"), registry)
    load_segment(
        one_condition("{event: purchase, aggregate: {fn: max, field: order.total, op: gt, value: 1}}"), registry
    )


# ---- segment references ------------------------------------------------------------------------------


def test_validate_unknown_segment_reference_suggests_close_names(registry: FieldRegistry) -> None:
    marketable = parse_segment("name: email-marketable\nconditions: [{field: email, op: is_set}]")
    problems = problems_of(one_condition("{segment: emial-marketable}"), registry, {"email-marketable": marketable})
    assert [(p.path, p.message, p.suggestions) for p in problems] == [
        ("conditions[0].segment", "unknown segment 'emial-marketable'", ["email-marketable"])
    ]


def test_validate_segment_reference_to_itself_is_a_cycle(registry: FieldRegistry) -> None:
    problems = problems_of("name: a\nconditions: [{segment: a}]", registry)
    assert [(p.path, p.message) for p in problems] == [("conditions[0].segment", "segments form a cycle: a -> a")]


def test_validate_cycle_through_another_segment_is_named(registry: FieldRegistry) -> None:
    b = parse_segment("name: b\nconditions: [{not: {segment: a}}]")
    problems = problems_of("name: a\nconditions: [{segment: b}]", registry, {"b": b})
    assert [(p.path, p.message) for p in problems] == [("conditions[0].segment", "segments form a cycle: a -> b -> a")]


def test_validate_uses_the_new_version_of_a_stored_segment(registry: FieldRegistry) -> None:
    old_a = parse_segment("name: a\nconditions: [{field: email, op: is_set}]")
    b = parse_segment("name: b\nconditions: [{segment: a}]")
    # The stored a has no reference; the new a refers to b, which refers to a: a cycle.
    problems = problems_of("name: a\nconditions: [{segment: b}]", registry, {"a": old_a, "b": b})
    assert [p.message for p in problems] == ["segments form a cycle: a -> b -> a"]


def test_validate_nested_references_without_a_cycle_pass(registry: FieldRegistry) -> None:
    c = parse_segment("name: c\nconditions: [{field: email, op: is_set}]")
    b = parse_segment("name: b\nconditions: [{segment: c}]")
    segment = load_segment("name: a\nconditions: [{all: [{segment: b}, {segment: c}]}]", registry, {"b": b, "c": c})
    assert segment.dependencies() == {"b", "c"}


def test_validate_contact_segment_cannot_use_a_company_segment(registry: FieldRegistry) -> None:
    big = parse_segment("name: big\nentity: company\nconditions: [{field: employees, op: gt, value: 500}]")
    problems = problems_of(one_condition("{segment: big}"), registry, {"big": big})
    assert [(p.path, p.message) for p in problems] == [
        ("conditions[0].segment", "segment 'big' is a company segment; a contact segment can only use contact segments")
    ]


# ---- all problems at once ---------------------------------------------------------------------------


def test_load_segment_reports_parse_and_validation_problems_together(registry: FieldRegistry) -> None:
    source = """
name: leads
conditions:
  - {field: contry, op: eq, value: FI}
  - {event: page_view, within: 3mo}
  - {segment: nope}
"""
    assert [p.path for p in problems_of(source, registry)] == [
        "conditions[1].within",
        "conditions[0].field",
        "conditions[2].segment",
    ]


def test_load_segment_skips_field_checks_when_the_entity_is_wrong(registry: FieldRegistry) -> None:
    problems = problems_of(one_condition("{field: employees, op: gt, value: 1}", entity="companies"), registry)
    assert [p.path for p in problems] == ["entity"]


def test_validate_segment_returns_the_same_segment_when_nothing_converts(registry: FieldRegistry) -> None:
    segment = parse_segment(one_condition("{any: [{field: country, op: in, value: [FI, SE]}, {not: {event: x}}]}"))
    assert validate_segment(segment, registry) == segment


def test_validate_segment_error_names_the_segment(registry: FieldRegistry) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_segment(Segment("x", conditions=(SegmentCondition("y"),)), registry)
    assert caught.value.message == "x: invalid segment"


def test_validate_segment_hand_built_nodes_get_paths_without_a_leading_dot(registry: FieldRegistry) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_segment(Segment("x", conditions=(FieldCondition("nope", "is_set"),)), registry)
    assert caught.value.problems[0].path == "field"


def test_validate_static_segment_passes(registry: FieldRegistry) -> None:
    segment = parse_segment("name: vip\nkind: static\nmembers: [a]")
    assert validate_segment(segment, registry) == segment


def test_validate_segments_checks_references_among_them(registry: FieldRegistry) -> None:
    segments = {
        "a": parse_segment("name: a\nconditions: [{segment: b}]"),
        "b": parse_segment("name: b\nconditions: [{segment: a}]"),
        "c": parse_segment("name: c\nconditions: [{field: city, op: is_set}]"),
    }
    with pytest.raises(ValidationError) as caught:
        validate_segments(segments, registry)
    assert [str(p) for p in caught.value.problems] == [
        "a:conditions[0].segment: segments form a cycle: a -> b -> a",
        "b:conditions[0].segment: segments form a cycle: b -> a -> b",
    ]


def test_load_segments_dir_validates_files_together(tmp_path: Path, registry: FieldRegistry) -> None:
    (tmp_path / "a.yaml").write_text("name: a\nconditions: [{segment: b}]\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("name: b\nconditions: [{field: created_at, op: gte, value: 2026-01-01}]\n")
    segments = load_segments_dir(tmp_path, registry)
    assert segments["b"].conditions[0].value == datetime(2026, 1, 1, tzinfo=UTC)  # type: ignore[union-attr]


def test_dependency_order_puts_referenced_segments_first() -> None:
    segments = {
        "a": parse_segment("name: a\nconditions: [{segment: b}, {segment: c}]"),
        "b": parse_segment("name: b\nconditions: [{segment: c}]"),
        "c": parse_segment("name: c\nkind: static\nmembers: []"),
        "d": parse_segment("name: d\nconditions: [{field: city, op: is_set}]"),
    }
    assert dependency_order(segments) == ["c", "b", "a", "d"]


def test_dependency_order_names_cycles() -> None:
    segments = {
        "a": parse_segment("name: a\nconditions: [{segment: b}]"),
        "b": parse_segment("name: b\nconditions: [{segment: a}]"),
        "s": parse_segment("name: s\nconditions: [{segment: s}]"),
    }
    with pytest.raises(ValidationError) as caught:
        dependency_order(segments)
    assert [p.message for p in caught.value.problems] == [
        "segments form a cycle: a -> b -> a",
        "segments form a cycle: s -> s",
    ]
