"""``segmint lint``: every planted problem found once, with numbers worked out by hand; nothing on a clean store.

The stores are described in lint_testing.py.  The messy one (54 contacts, 7 segments) holds:
- unused-field plan: every contact has a plan (basic or pro) and no segment uses it.  Basic is every
  third contact of each group as loaded (n % 3 == 0): f 4, c 4, s 7, d 1, n01-n08 3, n09 1, n10 1 = 21;
  pro 54 - 21 = 33.
- empty-segment norway: nobody from Norway at any of the 4 refreshes.
- small-segment danes: d01, d02, n10 = 3 members; a list of 54 needs max(min(50, 54 // 10), 1 % of 54)
  = max(5, 0) = 5.
- near-duplicate swedish / swedish-speakers: the Swedish speakers are c01-c10, s01-s20, n01-n08 = 38;
  swedish-speakers adds n09 (Närpes): 39.  Jaccard 38 / 39 = 0.974 >= 0.9.
- never-changes vasa: f01-f12 at each of the 4 refreshes, 200 days from the first to the last.
- too-many-segments: 7 segments for 54 contacts; a list carries max(1, 54 // 200) = 1.
- stuck-contacts bought-fishing: f01-f12 bought fishing gear 300 days ago and entered at the first
  refresh, 200 days ago (> 180); no fishing purchase in the last 180 days: 12 stuck.  n07 and n08 bought
  30 days ago: not stuck.  Each of the 12 leans to camping: interests are fishing for f01-f12 (the
  searches), c01-c10 (the searches) and n07, n08 (the purchase) = 24 contacts, camping for c01-c10 = 10,
  both 10; the rule fishing -> camping has support 10 / 54 = 0.19, confidence 10 / 24 = 0.42 and lift
  0.42 / (10 / 54) = 2.25 > 1, so suggested_interest is camping for f01-f12 (n07, n08 too, not stuck).
And nothing else: every segment got the newsletter 10 days ago (used), the others move or are empty.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from lint_testing import AS_OF, build_clean, build_messy, load_rows
from typer.testing import CliRunner

from segmint.cli.app import app
from segmint.errors import InsufficientDataError, UsageError
from segmint.insights.lint import CHECKS, LintSettings, lint
from segmint.segments import refresh_segments
from segmint.store import open_store
from segmint.store.store import Store

runner = CliRunner()

PLANTED = [
    ("unused-field", "plan"),
    ("empty-segment", "norway"),
    ("small-segment", "danes"),
    ("near-duplicate", "swedish, swedish-speakers"),
    ("never-changes", "vasa"),
    ("too-many-segments", "segments"),
    ("stuck-contacts", "bought-fishing"),
]


@pytest.fixture(scope="module")
def messy_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("lint") / "messy.duckdb")
    with open_store(path) as store:
        build_messy(store)
    return path


@pytest.fixture(scope="module")
def clean_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("lint") / "clean.duckdb")
    with open_store(path) as store:
        build_clean(store)
    return path


@pytest.fixture
def messy(messy_db: str) -> Iterator[Store]:
    with open_store(messy_db) as store:
        yield store


def by_check(store: Store, **kwargs: Any) -> dict[str, Any]:
    return {f.check: f for f in lint(store, **kwargs)}


@pytest.mark.duckdb
def test_lint_finds_each_planted_problem_once(messy: Store) -> None:
    findings = lint(messy)
    assert [(f.check, f.subject) for f in findings] == PLANTED
    assert all(f.fix for f in findings)


@pytest.mark.duckdb
def test_lint_numbers_of_the_planted_problems_by_hand(messy: Store) -> None:
    found = by_check(messy)
    assert found["unused-field"].data == {"entity": "contact", "field": "plan", "fill_rate": 1.0, "distinct": 2}
    assert "{field: plan, op: eq, value: pro} (33 of them)" in found["unused-field"].fix
    assert found["empty-segment"].data == {"refreshes": 4}
    assert found["small-segment"].data == {"size": 3, "min_size": 5}
    assert found["near-duplicate"].data == {
        "a": "swedish",
        "b": "swedish-speakers",
        "both": 38,
        "union": 39,
        "jaccard": round(38 / 39, 4),
    }
    assert found["near-duplicate"].fix.startswith("merge 'swedish' into 'swedish-speakers' or delete one")
    assert "97 %" in found["near-duplicate"].fix
    assert found["never-changes"].data == {"refreshes": 4, "days": 200.0, "size": 12}
    assert found["too-many-segments"].data == {"segments": 7, "contacts": 54, "allowed": 1}
    assert "one newsletter" in found["too-many-segments"].fix
    stuck = found["stuck-contacts"]
    assert stuck.data == {"stuck": 12, "leans": {"camping": 12}, "member_days": 180}
    assert stuck.message.startswith(
        "12 contacts have been in bought-fishing for over 180 days without a purchase (category eq fishing)"
    )
    assert "12 of them lean to camping (interest-camping)" in stuck.message
    assert "try the 12 who lean to camping in 'interest-camping' too" in stuck.fix


@pytest.mark.duckdb
def test_lint_finds_nothing_on_a_clean_store(clean_db: str) -> None:
    with open_store(clean_db) as store:
        assert lint(store) == []
    result = runner.invoke(app, ["lint", "--db", clean_db], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "no findings: the segments look healthy"


@pytest.mark.duckdb
def test_lint_thresholds_are_settings(messy: Store) -> None:
    # 38/39 = 0.974 is below 0.98; 12 stuck is below 13; 3 Danes reach a minimum of 3
    settings = LintSettings(near_duplicate_jaccard=0.98, stuck_min_contacts=13, min_segment_contacts=3)
    assert [f.check for f in lint(messy, settings)] == [
        "unused-field",
        "empty-segment",
        "never-changes",
        "too-many-segments",
    ]
    # a segment per 5 contacts: 54 // 5 = 10 >= 7 segments
    assert "too-many-segments" not in by_check(messy, settings=LintSettings(contacts_per_segment=5))
    # vasa is judged after 5 refreshes only: it has had 4
    assert "never-changes" not in by_check(messy, settings=LintSettings(frozen_min_refreshes=5))
    # members for over 250 days: f01-f12 entered 200 days ago and last bought 300 days ago, so they still
    # count (their evidence is older than 250 days); for over 320 days neither holds
    assert by_check(messy, settings=LintSettings(stuck_member_days=250))["stuck-contacts"].data["stuck"] == 12
    assert "stuck-contacts" not in by_check(messy, settings=LintSettings(stuck_member_days=320))


@pytest.mark.duckdb
def test_lint_runs_only_the_checks_asked_for(messy: Store) -> None:
    assert [f.check for f in lint(messy, checks=["stuck-contacts", "empty-segment"])] == [
        "empty-segment",
        "stuck-contacts",
    ]
    with pytest.raises(UsageError, match="unknown lint check 'stuck'"):
        lint(messy, checks=["stuck"])


@pytest.mark.duckdb
def test_lint_unused_segments_after_three_quiet_months(messy: Store) -> None:
    # 100 days after AS_OF the newsletter (10 days before AS_OF) is 110 days old: no member of any segment
    # was sent anything in 90 days.  norway is empty (its own finding); the other six are unused.
    found = lint(messy, checks=["unused-segment"], as_of=AS_OF + timedelta(days=100))
    assert [f.subject for f in found] == [
        "bought-fishing",
        "danes",
        "interest-camping",
        "swedish",
        "swedish-speakers",
        "vasa",
    ]
    assert found[1].data == {"size": 3, "days": 90}


@pytest.mark.parametrize("engine_name", [pytest.param("duckdb", marks=pytest.mark.duckdb)])
def test_lint_unused_segment_spares_building_blocks(store: Store) -> None:
    """A segment another builds on is used; only the one on top, emailed by no one, is reported."""
    load_rows(store, "contacts", [{"contact_id": f"p{i}", "country": "FI"} for i in range(3)])
    load_rows(store, "events", [{"contact_id": "p0", "event": "email_sent", "ts": "2025-01-01T00:00:00Z"}])
    store.apply({"name": "finns", "conditions": [{"field": "country", "op": "eq", "value": "FI"}]})
    store.apply({"name": "finns-again", "conditions": [{"segment": "finns"}]})
    refresh_segments(store, as_of=AS_OF)
    assert [(f.check, f.subject) for f in lint(store, checks=["unused-segment"])] == [("unused-segment", "finns-again")]


@pytest.mark.parametrize("engine_name", [pytest.param("duckdb", marks=pytest.mark.duckdb)])
def test_lint_before_any_refresh_and_without_segments(store: Store) -> None:
    """Contacts but no segment: nothing to say but the data; a segment never refreshed: refresh it."""
    load_rows(store, "contacts", [{"contact_id": f"p{i}", "country": "FI" if i % 2 else "SE"} for i in range(4)])
    assert [(f.check, f.subject) for f in lint(store)] == [("unused-field", "country")]
    store.apply({"name": "finns", "conditions": [{"field": "country", "op": "eq", "value": "FI"}]})
    found = lint(store)
    assert [(f.check, f.subject) for f in found] == [("empty-segment", "finns")]
    assert found[0].message == "finns has not been refreshed since it was last applied."
    assert found[0].fix.startswith("run segmint refresh")


@pytest.mark.duckdb
def test_lint_suggests_unused_traits_to_a_list_with_room(clean_db: str) -> None:
    # one segment per 100 contacts: 480 contacts carry 4 and have 2, room for the traits' segments.
    # A third of the contacts clicked each newsletter: the engagement tiers tell them apart.
    with open_store(clean_db) as store:
        found = lint(store, LintSettings(contacts_per_segment=100), checks=["unused-traits"])
    subjects = [f.subject for f in found]
    assert "engagement" in subjects
    engagement = found[subjects.index("engagement")]
    assert "engagement_tier" in engagement.data["fields"]
    assert "{field: " in engagement.fix


@pytest.mark.duckdb
def test_lint_on_a_store_without_contacts_is_a_clear_error(tmp_path: Path) -> None:
    with open_store(str(tmp_path / "empty.duckdb")) as empty, pytest.raises(InsufficientDataError, match="no contacts"):
        lint(empty)
    result = runner.invoke(app, ["lint", "--db", str(tmp_path / "empty.duckdb")], catch_exceptions=False)
    assert result.exit_code == 10
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: the store holds no contacts")


@pytest.mark.duckdb
def test_lint_cli_one_line_per_finding_and_exit_code_one(messy_db: str) -> None:
    result = runner.invoke(app, ["lint", "--db", messy_db], catch_exceptions=False)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == len(PLANTED) + 1
    for line, (check, subject) in zip(lines, PLANTED, strict=False):
        assert line.startswith(f"{check} [")
        assert f"] {subject}: " in line
        assert " Fix: " in line
    assert lines[-1] == "7 findings"


@pytest.mark.duckdb
def test_lint_cli_check_option_and_json(messy_db: str) -> None:
    result = runner.invoke(
        app, ["lint", "--db", messy_db, "--check", "near-duplicate", "--json"], catch_exceptions=False
    )
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["clean"] is False
    assert [(f["check"], f["subject"], f["severity"]) for f in data["findings"]] == [
        ("near-duplicate", "swedish, swedish-speakers", "warning")
    ]
    assert set(data["findings"][0]) == {"check", "severity", "subject", "message", "fix", "data"}
    bad = runner.invoke(app, ["lint", "--db", messy_db, "--check", "stuck"], catch_exceptions=False)
    assert bad.exit_code == 2
    bad_date = runner.invoke(app, ["lint", "--db", messy_db, "--as-of", "soon"], catch_exceptions=False)
    assert bad_date.exit_code == 2
    assert "--as-of" in bad_date.output


@pytest.mark.duckdb
def test_lint_api(messy_db: str, clean_db: str, tmp_path: Path) -> None:
    from tests.server.api_testing import error, ok, serve

    with open_store(messy_db) as store, serve(store) as api:
        body = ok(api.get("/api/lint"))
        assert body["clean"] is False
        assert [(f["check"], f["subject"]) for f in body["findings"]] == PLANTED
        only = ok(api.get("/api/lint", params={"check": "stuck-contacts,empty-segment"}))
        assert [f["check"] for f in only["findings"]] == ["empty-segment", "stuck-contacts"]
        error(api.get("/api/lint", params={"check": "stuck"}), 400, "usage_error")
        error(api.get("/api/lint", params={"as_of": "soon"}), 400)
        error(api.get("/api/lint", scope=None), 401)
    with open_store(clean_db) as store, serve(store) as api:
        assert ok(api.get("/api/lint")) | {"ok": True} == {"ok": True, "clean": True, "findings": []}
    with open_store(str(tmp_path / "empty.duckdb")) as empty, serve(empty) as api:
        error(api.get("/api/lint"), 422, "insufficient_data")


def test_lint_checks_are_documented() -> None:
    text = (Path(__file__).parents[2] / "docs" / "lint.md").read_text(encoding="utf-8")
    for check in CHECKS:
        assert f"## {check}" in text, check
    for name in LintSettings.model_fields:
        assert f"`{name}`" in text, name


@pytest.mark.parametrize("engine_name", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_lint_and_overlap_on_postgres(store: Store) -> None:
    """The same SQL on PostgreSQL: the same findings, the same Jaccard index."""
    from segmint.insights.overlap import overlap

    build_messy(store)
    found = lint(store)
    assert [(f.check, f.subject) for f in found] == PLANTED
    assert found[-1].data == {"stuck": 12, "leans": {"camping": 12}, "member_days": 180}
    assert overlap(store, ["swedish", "swedish-speakers"]).jaccard("swedish", "swedish-speakers") == 38 / 39


@pytest.mark.duckdb
def test_lint_reads_its_thresholds_from_segmint_toml(
    clean_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``[lint]`` in segmint.toml changes a threshold; an unknown key is a one-line configuration error."""
    monkeypatch.chdir(tmp_path)
    # the clean store has 480 contacts and 2 segments: a rule of one segment per 1,000 contacts allows none more
    # than max(1, 480 // 1000) = 1, so too-many-segments fires (2 > 1)
    Path("segmint.toml").write_text("[lint]\ncontacts_per_segment = 1000\n")
    stricter = runner.invoke(app, ["lint", "--db", clean_db, "--json", "--check", "too-many-segments"])
    assert stricter.exit_code == 1, stricter.output
    assert [f["check"] for f in json.loads(stricter.output)["findings"]] == ["too-many-segments"]
    Path("segmint.toml").write_text("[lint]\nno_such_threshold = 3\n")
    wrong = runner.invoke(app, ["lint", "--db", clean_db])
    assert wrong.exit_code == 2
    assert wrong.output.splitlines()[0] == "error: segmint.toml: invalid [lint] settings"
    assert "lint.no_such_threshold" in wrong.output
