"""Values are read as YAML 1.2 reads them (SEGMENTS.md): NO, yes, off and 2026-01-01 are strings."""

from __future__ import annotations

import pytest

from segmint.dsl.documents import dump_yaml, read_yaml
from segmint.dsl.parse import parse_segment
from segmint.dsl.validate import load_segment
from segmint.errors import ValidationError
from segmint.model.fields import FieldRegistry


@pytest.mark.parametrize(
    "text", ["NO", "no", "yes", "Yes", "off", "On", "y", "n", "2026-01-01", "2026-01-01T10:00:00Z"]
)
def test_read_yaml_keeps_yaml11_booleans_and_dates_as_strings(text: str) -> None:
    assert read_yaml(f"value: {text}") == {"value": text}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("False", False),
        ("~", None),
        ("null", None),
        ("", None),
        ("42", 42),
        ("-7", -7),
        ("012", 12),
        ("0o17", 15),
        ("0x1F", 31),
        ("1.5", 1.5),
        ("1e3", 1000.0),
        ("1_000", "1_000"),
        ("12:30", "12:30"),
    ],
)
def test_read_yaml_resolves_the_yaml12_core_schema(text: str, expected: object) -> None:
    assert read_yaml(f"value: {text}") == {"value": expected}


def test_read_yaml_reads_json() -> None:
    assert read_yaml('{"name": "x", "value": [1, 2.5, true, null, "NO"]}') == {
        "name": "x",
        "value": [1, 2.5, True, None, "NO"],
    }


def test_read_yaml_reports_duplicate_keys_with_their_line() -> None:
    with pytest.raises(ValidationError) as caught:
        read_yaml("name: a\nname: b\n")
    assert caught.value.problems[0].message.startswith("not valid YAML at line 2, column 1")


def test_parse_segment_reports_a_syntax_error_as_a_problem() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_segment("name: x\nconditions: [{field: a, op: eq", origin="bad.yaml")
    assert caught.value.message == "bad.yaml: invalid segment"
    assert caught.value.problems[0].message.startswith("not valid YAML at line 2")


def test_load_segment_keeps_no_and_a_date_as_strings_on_string_fields(registry: FieldRegistry) -> None:
    segment = load_segment(
        "name: norway\nconditions:\n"
        "  - {field: country, op: eq, value: NO}\n"
        "  - {field: city, op: in, value: [yes, off, 2026-01-01]}\n",
        registry,
    )
    assert segment.conditions[0].value == "NO"  # type: ignore[union-attr]
    assert segment.conditions[1].value == ("yes", "off", "2026-01-01")  # type: ignore[union-attr]


def test_dump_yaml_quotes_strings_other_readers_would_misread() -> None:
    data = {"value": ["2026-01-01", "NO", "yes", "1", "FI", "true"]}
    text = dump_yaml(data)
    assert text == "value:\n- '2026-01-01'\n- 'NO'\n- 'yes'\n- '1'\n- FI\n- 'true'\n"
    assert read_yaml(text) == data
