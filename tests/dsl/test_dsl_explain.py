"""explain_segment: a segment as plain English, one line per condition."""

from __future__ import annotations

import pytest

from segmint.dsl.explain import explain_segment
from segmint.dsl.nodes import FIELD_OPS
from segmint.dsl.parse import parse_segment
from segmint.dsl.validate import load_segment
from segmint.model.fields import FieldRegistry

LEADS = """
name: warm-nordic-leads
conditions:
  - field: country
    op: in
    value: [FI, SE]
  - field: company.employees
    op: between
    value: [50, 500]
  - event: page_view
    where:
      - {field: url, op: contains, value: /pricing}
    within: 7d
    count: {op: gte, value: 3}
  - segment: email-marketable
  - any:
      - {field: role, op: eq, value: cfo}
      - {field: created_at, op: gte, value: 2026-01-31}
  - not:
      event: purchase
      within: 365d
"""

LEADS_EXPLAINED = """\
Contacts
  whose country is one of FI, SE
  and whose company.employees is between 50 and 500
  and who did page_view where url contains '/pricing' at least 3 times in the last 7 days
  and who are members of segment email-marketable
  and who match any of:
    whose role is cfo
    or whose created_at is on or after 2026-01-31
  and who did not purchase in the last 365 days"""


def test_explain_segment_reads_a_known_segment_as_written_by_hand(registry: FieldRegistry) -> None:
    marketable = parse_segment("name: email-marketable\nconditions: [{field: email, op: is_set}]")
    segment = load_segment(LEADS, registry, {"email-marketable": marketable})
    assert explain_segment(segment) == LEADS_EXPLAINED


def test_explain_segment_uses_the_registry_for_timestamps_before_validation(registry: FieldRegistry) -> None:
    assert explain_segment(parse_segment(LEADS), registry) == LEADS_EXPLAINED
    assert "or whose created_at is at least 2026-01-31" in explain_segment(parse_segment(LEADS))


def test_explain_segment_single_condition_is_one_line() -> None:
    segment = parse_segment("name: s\nconditions: [{field: country, op: in, value: [FI, SE]}]")
    assert explain_segment(segment) == "Contacts whose country is one of FI, SE"


@pytest.mark.parametrize(
    ("op", "value", "phrase"),
    [
        ("eq", "FI", "is FI"),
        ("neq", "FI", "is not FI"),
        ("in", "[FI, SE]", "is one of FI, SE"),
        ("not_in", "[FI, SE]", "is none of FI, SE"),
        ("gt", "5", "is more than 5"),
        ("gte", "5", "is at least 5"),
        ("lt", "5", "is less than 5"),
        ("lte", "5.5", "is at most 5.5"),
        ("between", "[1, 2]", "is between 1 and 2"),
        ("contains", "'a b'", "contains 'a b'"),
        ("not_contains", "spam", "does not contain spam"),
        ("starts_with", "'+358'", "starts with +358"),
        ("ends_with", "'@example.com'", "ends with @example.com"),
        ("is_set", "null", "is set"),
        ("is_not_set", "null", "is not set"),
        ("within_last", "30d", "is within the last 30 days"),
        ("older_than", "90m", "is more than 90 minutes ago"),
    ],
)
def test_explain_segment_each_operator_has_its_phrase(op: str, value: str, phrase: str) -> None:
    segment = parse_segment(f"name: s\nconditions: [{{field: x, op: {op}, value: {value}}}]")
    assert explain_segment(segment) == f"Contacts whose x {phrase}"


def test_explain_segment_covers_every_operator() -> None:
    assert len(FIELD_OPS) == 17  # the parametrised table above has one row per operator


def test_explain_segment_event_details() -> None:
    segment = parse_segment(
        """
name: s
match: any
conditions:
  - {event: purchase, aggregate: {fn: sum, field: amount, op: gte, value: 1000}, within: 365d}
  - {event: purchase, first_time: true, within: 30d}
  - {event: [email_open, email_click, page_view], between_ago: [30d, 1d], count: {op: eq, value: 1}}
  - {event: "*", since: 2026-01-01, until: "2026-01-31T10:00:00Z", count: {op: eq, value: 0}}
  - {event: search, until: 2026-01-31, count: {op: lt, value: 5}}
"""
    )
    assert explain_segment(segment).splitlines() == [
        "Contacts",
        "  who did purchase with a total amount of at least 1000 in the last 365 days",
        "  or who did purchase for the first time in the last 30 days",
        "  or who did email_open, email_click or page_view exactly once between 30 days and 1 day ago",
        "  or who did not do anything between 2026-01-01 and 2026-01-31 10:00 UTC",
        "  or who did search less than 5 times until 2026-01-31",
    ]


def test_explain_segment_negations() -> None:
    segment = parse_segment(
        """
name: s
conditions:
  - not: {segment: customers}
  - not: {field: role, op: eq, value: cfo}
  - not: {event: open, count: {op: gte, value: 2}}
"""
    )
    assert explain_segment(segment).splitlines() == [
        "Contacts",
        "  who are not members of segment customers",
        "  and who do not match:",
        "    whose role is cfo",
        "  and who do not match:",
        "    who did open at least 2 times",
    ]


def test_explain_segment_company_events_are_their_contacts_events() -> None:
    segment = parse_segment(
        """
name: active-accounts
entity: company
conditions:
  - {field: employees, op: gte, value: 100}
  - {event: page_view, within: 30d}
  - not: {event: purchase, within: 365d}
"""
    )
    assert explain_segment(segment) == (
        "Companies\n"
        "  whose employees is at least 100\n"
        "  and whose contacts did page_view in the last 30 days\n"
        "  and whose contacts did not purchase in the last 365 days"
    )


def test_explain_segment_static() -> None:
    segment = parse_segment("name: vip\nkind: static\nmembers: [a, b, c]")
    assert explain_segment(segment) == "Contacts in the static segment vip (3 members)"
