"""The compiler: deterministic SQL, one pass over events, literals never pasted as text.

Snapshots in ``snapshots/`` show a reviewer every change of the generated SQL
per engine; rewrite them with ``SEGMINT_UPDATE_SNAPSHOTS=1 pytest tests/compile``
and read the diff.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from segmint.compile import COMPILERS, compiler_for
from segmint.dsl import load_segment
from segmint.model import build_registry

SNAPSHOTS = Path(__file__).parent / "snapshots"
AS_OF = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)

SEGMENTS = {
    "hot-pricing-leads": """
name: hot-pricing-leads
conditions:
  - {field: lifecycle_stage, op: in, value: [lead, mql]}
  - event: page_view
    where: [{field: url, op: contains, value: /pricing}]
    within: 7d
    count: {op: gte, value: 3}
  - event: email_click
    where: [{field: topic, op: eq, value: hydraulics}]
    within: 30d
  - not: {event: purchase, within: 365d}
""",
    "big-spenders-fi": """
name: big-spenders-fi
match: any
conditions:
  - all:
      - {field: country, op: eq, value: FI}
      - {field: company.employees, op: between, value: [50, 500]}
  - event: purchase
    aggregate: {fn: sum, field: amount, op: gte, value: 1000}
    between_ago: [365d, 30d]
  - event: content_download
    where: [{field: product.family, op: eq, value: hydraulics}]
    first_time: true
    within: 14d
""",
    "busy-companies": """
name: busy-companies
entity: company
conditions:
  - {field: employees, op: gte, value: 100}
  - event: "*"
    since: 2026-01-01
    count: {op: gte, value: 10}
""",
}


def _compile(name: str, engine: str) -> str:
    registry = build_registry()
    segment = load_segment(SEGMENTS[name], registry)
    return compiler_for(engine, registry, {}, as_of=AS_OF).sql(segment) + "\n"


@pytest.mark.parametrize("engine", sorted(COMPILERS))
@pytest.mark.parametrize("name", sorted(SEGMENTS))
def test_compile_matches_snapshot(name: str, engine: str) -> None:
    sql = _compile(name, engine)
    path = SNAPSHOTS / f"{name}.{engine}.sql"
    if os.environ.get("SEGMINT_UPDATE_SNAPSHOTS") or not path.exists():
        path.write_text(sql, encoding="utf-8")
        if not os.environ.get("SEGMINT_UPDATE_SNAPSHOTS"):
            pytest.fail(f"wrote a new snapshot {path.name}: read it and commit it")
    assert sql == path.read_text(encoding="utf-8")


def test_compile_is_deterministic() -> None:
    assert _compile("hot-pricing-leads", "duckdb") == _compile("hot-pricing-leads", "duckdb")


def test_compile_groups_events_once_for_all_event_conditions() -> None:
    sql = _compile("hot-pricing-leads", "duckdb")
    # one narrow scan per event condition, each read once: the 7-day one that every member needs, grouped
    # and kept where its count holds (the HAVING a hand-written query has), drives one GROUP BY over the union
    # of the other two
    assert sql.count("FROM events") == 3
    assert sql.count("UNION ALL") == 1
    assert sql.count("GROUP BY") == 2
    assert "WITH ev_req AS MATERIALIZED" in sql


def test_compile_puts_cutoffs_in_as_literals_never_now() -> None:
    sql = _compile("hot-pricing-leads", "postgres").lower()
    assert "now()" not in sql
    assert "current_timestamp" not in sql
    # within 7d of 2026-06-30 12:00 UTC
    assert "'2026-06-23 12:00:00.000000+00:00'" in sql
    # events after as_of do not exist
    assert "e.ts <= cast('2026-06-30 12:00:00.000000+00:00' as timestamptz)" in sql


def test_compile_escapes_user_values() -> None:
    registry = build_registry()
    segment = load_segment(
        "name: quotes\nconditions: [{field: last_name, op: eq, value: \"O'Brien'; DROP TABLE contacts; --\"}]", registry
    )
    sql = compiler_for("duckdb", registry, {}, as_of=AS_OF).sql(segment)
    assert "'o''brien''; drop table contacts; --'" in sql


def _branches(sql: str) -> list[str]:
    """The WHERE of each scan of events, in order."""
    return [part.split("WHERE", 1)[1].split("UNION ALL")[0].split("\n  )")[0] for part in sql.split("FROM events")[1:]]


def test_compile_reads_each_event_condition_in_its_own_window() -> None:
    pricing, clicks, purchases = _branches(_compile("hot-pricing-leads", "duckdb"))
    # 7, 30 and 365 days before 2026-06-30 12:00 UTC, each a top-level conjunct the engine prunes by
    assert "AND e.event = 'page_view'" in pricing
    assert "AND e.ts >= CAST('2026-06-23 12:00:00.000000+00:00' AS TIMESTAMPTZ)" in pricing
    assert "AND e.event = 'email_click'" in clicks
    assert "AND e.ts >= CAST('2026-05-31 12:00:00.000000+00:00' AS TIMESTAMPTZ)" in clicks
    assert "AND e.event = 'purchase'" in purchases
    assert "AND e.ts >= CAST('2025-06-30 12:00:00.000000+00:00' AS TIMESTAMPTZ)" in purchases
    # every member has three recent pricing views: the wider windows read only those members' events
    assert "COALESCE(COALESCE(ev.m1, 0) >= 3, FALSE)\n  )\n  SELECT" in _compile("hot-pricing-leads", "duckdb")
    assert "e.contact_key IN (" in clicks
    assert "e.contact_key IN (" in purchases
    assert "e.contact_key IN (" not in pricing
    # first_time needs the whole history of its events, and only that condition does; with the default
    # count it needs nothing else (its first event in the window is an event in the window)
    windowed, first = _branches(_compile("big-spenders-fi", "duckdb"))
    assert "e.event = 'purchase'" in windowed
    assert "e.ts >= " in windowed
    assert "e.event = 'content_download'" in first
    assert "e.ts >= " not in first


def test_compile_restricts_only_below_a_conjunction() -> None:
    # `match: any` (big-spenders-fi): no condition is required of every member, so no scan is restricted
    sql = _compile("big-spenders-fi", "duckdb")
    assert "e.contact_key IN (" not in sql
    assert "ev_keys" not in sql
    assert "ev_req" not in sql


def test_compile_asks_the_event_pass_for_keys_when_any_alternative_needs_an_event() -> None:
    # big-spenders-fi: FI and 50-500 employees, or a sum of purchases >= 1000, or a first download. The two
    # event alternatives hold only for keys of the pass: one semi-join, and no join of the pass to contacts.
    sql = _compile("big-spenders-fi", "duckdb")
    assert "JOIN ev" not in sql
    semi = sql.split("OR c.contact_key IN (", 1)[1]
    assert "FROM ev\n" in semi
    assert "COALESCE(COALESCE(ev.m1, 0) >= 1000, FALSE)\n        OR COALESCE(\n          ev.m2 >= " in semi
    # an alternative true without any event (count eq 0) keeps the join: a contact without events matches it
    registry = build_registry()
    quiet = load_segment(
        "name: quiet\nmatch: any\nconditions:\n  - {field: country, op: eq, value: FI}\n"
        "  - {event: email_open, within: 30d, count: {op: eq, value: 0}}\n",
        registry,
    )
    sql = compiler_for("duckdb", registry, {}, as_of=AS_OF).sql(quiet)
    assert "LEFT JOIN ev\n" in sql
    assert " IN (" not in sql
    # Spark keeps the join for every alternative
    assert "JOIN ev" in _compile("big-spenders-fi", "spark")
