"""``segmint segment …`` and ``segmint refresh`` end to end on a DuckDB file.

The data: three contacts and four events, so every expected value below can be
checked by hand.

    a1  FI  page_view /pricing 2026-06-01 10:00, 2026-06-05 10:00
    a2  SE  page_view /pricing 2026-06-10 10:00; purchase 100 on 2026-06-20 10:00
    a3  FI  no events
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from segmint.cli.app import app

runner = CliRunner()

PRICING = """
name: pricing-7d
title: Looked at prices this week
conditions:
  - event: page_view
    where: [{field: url, op: contains, value: /pricing}]
    within: 7d
"""
FINNS = "name: finns\nconditions: [{field: country, op: eq, value: fi}]\n"


def run(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def db(tmp_path: Path) -> str:
    db = str(tmp_path / "seg.duckdb")
    (tmp_path / "contacts.csv").write_text("contact_id,email,country\na1,a1@x.fi,FI\na2,a2@x.se,SE\na3,a3@x.fi,FI\n")
    (tmp_path / "events.csv").write_text(
        "contact_id,event,ts,url,amount\n"
        "a1,page_view,2026-06-01T10:00:00Z,/pricing,\n"
        "a1,page_view,2026-06-05T10:00:00Z,/en/pricing,\n"
        "a2,page_view,2026-06-10T10:00:00Z,/pricing,\n"
        "a2,purchase,2026-06-20T10:00:00Z,,100\n"
    )
    run("load", "contacts", str(tmp_path / "contacts.csv"), "--db", db)
    run("load", "events", str(tmp_path / "events.csv"), "--db", db)
    (tmp_path / "pricing.yaml").write_text(PRICING)
    (tmp_path / "finns.yaml").write_text(FINNS)
    return db


def test_segment_refresh_records_entries_and_exits_over_several_as_of_steps(db: str, tmp_path: Path) -> None:
    run("segment", "apply", str(tmp_path / "pricing.yaml"), "--db", db)
    # 06-02: a1's view of 06-01 is within 7 days          -> a1 enters
    # 06-09: a1's view of 06-05 keeps a1; a2's is future  -> no change
    # 06-15: a1's views are older than 7 days; a2's is in -> a2 enters, a1 leaves
    # 06-30: no view in the last 7 days                   -> a2 leaves
    for day in ("2026-06-02", "2026-06-09", "2026-06-15", "2026-06-30"):
        run("refresh", "--as-of", day, "--db", db)
    history = run("segment", "history", "pricing-7d", "--db", db)
    rows = [line.split("│")[1:-1] for line in history.splitlines() if line.startswith("│")]
    assert [[cell.strip() for cell in row] for row in rows] == [
        ["1", "2026-06-02T00:00:00+00:00", "1", "1", "0"],
        ["2", "2026-06-09T00:00:00+00:00", "1", "0", "0"],
        ["3", "2026-06-15T00:00:00+00:00", "1", "1", "1"],
        ["4", "2026-06-30T00:00:00+00:00", "0", "0", "1"],
    ]
    profile = json.loads(run("contacts", "show", "a1", "--json", "--db", db))
    assert profile["segments"]["current"] == []
    assert [(c["segment"], c["change"], c["at"][:10]) for c in profile["segments"]["changes"]] == [
        ("pricing-7d", "enter", "2026-06-02"),
        ("pricing-7d", "exit", "2026-06-15"),
    ]
    listing = json.loads(run("segment", "list", "--json", "--db", db))
    assert listing == [
        {
            "name": "pricing-7d",
            "kind": "dynamic",
            "entity": "contact",
            "members": 0,
            "last_refresh": "2026-06-30 00:00:00+00:00",
            "entered": 0,
            "exited": 1,
        }
    ]


def test_segment_validate_reports_every_problem_and_apply_stores_nothing(db: str, tmp_path: Path) -> None:
    bad = tmp_path / "defs"
    bad.mkdir()
    (bad / "good.yaml").write_text(FINNS)
    (bad / "bad.yaml").write_text(
        "name: bad\nconditions:\n"
        "  - {field: contry, op: eq, value: FI}\n"
        "  - {event: page_view, within: 3mo}\n"
        "  - {event: purchase, count: {op: gte3, value: 1}}\n"
    )
    for command in ("validate", "apply"):
        result = runner.invoke(app, ["segment", command, str(bad), "--db", db])
        assert result.exit_code == 3
        for path in ("conditions[0].field", "conditions[1].within", "conditions[2].count.op"):
            assert path in result.output, (command, path, result.output)
        assert "country" in result.output  # the suggestion for 'contry'
    assert json.loads(run("segment", "list", "--json", "--db", db)) == []


def test_segment_count_members_and_fields(db: str, tmp_path: Path) -> None:
    assert run("segment", "count", str(tmp_path / "pricing.yaml"), "--as-of", "2026-06-09", "--db", db) == "1\n"
    assert run("segment", "count", str(tmp_path / "finns.yaml"), "--db", db) == "2\n"
    csv = run("segment", "members", str(tmp_path / "finns.yaml"), "--fields", "email,country", "--db", db)
    assert csv == "contact_id,email,country\na1,a1@x.fi,FI\na3,a3@x.fi,FI\n"
    jsonl = run("segment", "members", str(tmp_path / "finns.yaml"), "--format", "jsonl", "--db", db)
    assert [json.loads(line) for line in jsonl.splitlines()] == [{"contact_id": "a1"}, {"contact_id": "a3"}]


def test_segment_explain_for_a_contact_shows_values_seen(db: str, tmp_path: Path) -> None:
    (tmp_path / "both.yaml").write_text(
        "name: both\nconditions:\n  - {field: country, op: eq, value: FI}\n"
        "  - {event: page_view, within: 7d, count: {op: gte, value: 2}}\n"
    )
    out = run("segment", "explain", str(tmp_path / "both.yaml"), "--contact", "a1", "--as-of", "2026-06-06", "--db", db)
    assert "who did page_view at least 2 times in the last 7 days" in out
    assert "a1 IS a member" in out
    assert "✓ whose country is FI  [country = 'FI']" in out
    assert "matching events: 2" in out
    out = run("segment", "explain", str(tmp_path / "both.yaml"), "--contact", "a2", "--as-of", "2026-06-06", "--db", db)
    assert "a2 is NOT a member" in out
    assert "✗ whose country is FI  [country = 'SE']" in out


def test_segment_sql_per_engine(db: str, tmp_path: Path) -> None:
    pg = run(
        "segment", "sql", str(tmp_path / "pricing.yaml"), "--engine", "postgres", "--as-of", "2026-06-09", "--db", db
    )
    assert "CAST('2026-06-02 00:00:00.000000+00:00' AS TIMESTAMPTZ)" in pg
    spark = run(
        "segment", "sql", str(tmp_path / "pricing.yaml"), "--engine", "spark", "--as-of", "2026-06-09", "--db", db
    )
    assert "CAST('2026-06-02 00:00:00.000000' AS TIMESTAMP)" in spark


def test_segment_diff_is_a_dry_run(db: str, tmp_path: Path) -> None:
    run("segment", "apply", str(tmp_path / "finns.yaml"), "--db", db)
    (tmp_path / "nordics.yaml").write_text("name: finns\nconditions: [{field: country, op: in, value: [FI, SE]}]\n")
    out = run("segment", "diff", str(tmp_path / "nordics.yaml"), "--db", db)
    assert "finns: 2 now, 3 with this definition (+1 entering, −0 leaving)" in out
    assert "enter: a2" in out
    assert run("segment", "count", "finns", "--db", db) == "2\n"  # nothing changed


def test_segment_static_snapshot_add_remove_and_reference(db: str, tmp_path: Path) -> None:
    run("segment", "apply", str(tmp_path / "finns.yaml"), "--db", db)
    run("segment", "snapshot", "vip", "--from", "finns", "--db", db)
    assert run("segment", "members", "vip", "--db", db) == "contact_id\na1\na3\n"
    run("segment", "add", "vip", "a2", "--db", db)
    run("segment", "remove", "vip", "a1", "--db", db)
    assert run("segment", "members", "vip", "--db", db) == "contact_id\na2\na3\n"
    unknown = runner.invoke(app, ["segment", "add", "vip", "nobody", "--db", db])
    assert unknown.exit_code == 5
    assert "unknown contact ids: nobody" in unknown.output
    (tmp_path / "vip-finns.yaml").write_text("name: vip-finns\nconditions: [{segment: vip}, {segment: finns}]\n")
    assert run("segment", "members", str(tmp_path / "vip-finns.yaml"), "--db", db) == "contact_id\na3\n"
    dynamic = runner.invoke(app, ["segment", "add", "finns", "a2", "--db", db])
    assert dynamic.exit_code == 3
    assert "is dynamic" in dynamic.output
