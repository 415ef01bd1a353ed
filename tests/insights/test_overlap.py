"""Segment overlap: Jaccard indexes, contacts in many segments, the heatmap, the CLI and the API, by hand.

Ten contacts and four segments, refreshed once:

    contact  country language   finns  swedish  vip(static)  danes
    c01      FI      fi         x               x
    c02      FI      fi         x
    c03      FI      sv         x      x        x
    c04      FI      sv         x      x
    c05      SE      sv                x        x
    c06      SE      sv                x
    c07      SE      sv                x
    c08      DK      da                                      x
    c09      DK      da                                      x
    c10      DK      en                                      x

Sizes: finns 4, swedish 5, vip 3, danes 3.
- finns & vip:     both {c01, c03} = 2, either 4 + 3 - 2 = 5  -> 2/5 = 0.4
- swedish & vip:   both {c03, c05} = 2, either 5 + 3 - 2 = 6  -> 2/6 = 0.3333
- finns & swedish: both {c03, c04} = 2, either 4 + 5 - 2 = 7  -> 2/7 = 0.2857
- danes shares no one: 0 with every other segment.
Segments per contact: c03 in 3; c01, c04, c05 in 2; c02, c06, c07, c08, c09, c10 in 1.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from lint_testing import load_rows
from typer.testing import CliRunner

from segmint.cli.app import app
from segmint.errors import InsufficientDataError, NotFoundError
from segmint.insights.overlap import overlap, overlap_chart
from segmint.segments import refresh_segments
from segmint.store import open_store
from segmint.store.store import Store

pytestmark = pytest.mark.duckdb

runner = CliRunner()

PEOPLE = [
    ("c01", "FI", "fi"),
    ("c02", "FI", "fi"),
    ("c03", "FI", "sv"),
    ("c04", "FI", "sv"),
    ("c05", "SE", "sv"),
    ("c06", "SE", "sv"),
    ("c07", "SE", "sv"),
    ("c08", "DK", "da"),
    ("c09", "DK", "da"),
    ("c10", "DK", "en"),
]


def build(store: Store) -> None:
    load_rows(
        store,
        "contacts",
        [{"contact_id": i, "email": f"{i}@example.com", "country": c, "language": lang} for i, c, lang in PEOPLE],
    )
    store.apply({"name": "finns", "conditions": [{"field": "country", "op": "eq", "value": "FI"}]})
    store.apply({"name": "swedish", "conditions": [{"field": "language", "op": "eq", "value": "sv"}]})
    store.apply({"name": "danes", "conditions": [{"field": "country", "op": "eq", "value": "DK"}]})
    store.apply({"name": "vip", "kind": "static", "members": ["c01", "c03", "c05"]})
    refresh_segments(store, as_of=datetime(2026, 5, 1, tzinfo=UTC))


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("overlap") / "overlap.duckdb")
    with open_store(path) as store:
        build(store)
    return path


@pytest.fixture
def store(db: str) -> Any:
    with open_store(db) as opened:
        yield opened


def test_overlap_jaccard_of_every_pair_by_hand(store: Store) -> None:
    report = overlap(store)
    assert {s.name: s.size for s in report.segments} == {"danes": 3, "finns": 4, "swedish": 5, "vip": 3}
    # only pairs sharing someone have a row, highest index first
    assert [(p.a, p.b, p.both, p.union) for p in report.pairs] == [
        ("finns", "vip", 2, 5),
        ("swedish", "vip", 2, 6),
        ("finns", "swedish", 2, 7),
    ]
    assert report.jaccard("finns", "vip") == pytest.approx(0.4)
    assert report.jaccard("vip", "swedish") == pytest.approx(1 / 3)
    assert report.jaccard("finns", "swedish") == pytest.approx(2 / 7)
    assert report.jaccard("danes", "finns") == 0.0
    names = [s.name for s in report.segments]
    matrix = report.matrix()
    assert names == ["danes", "finns", "swedish", "vip"]
    assert [row[names.index("danes")] for row in matrix] == [1.0, 0.0, 0.0, 0.0]
    assert matrix[names.index("finns")][names.index("vip")] == matrix[names.index("vip")][names.index("finns")]


def test_overlap_counts_contacts_in_many_segments(store: Store) -> None:
    report = overlap(store, top=2)
    assert report.distribution == {1: 6, 2: 3, 3: 1}
    assert report.contacts == 10
    assert [(c.contact_id, c.segments) for c in report.busiest] == [("c03", 3), ("c01", 2)]
    assert report.busiest[0].email == "c03@example.com"


def test_overlap_of_named_segments_only(store: Store) -> None:
    report = overlap(store, ["swedish", "finns"])
    assert [s.name for s in report.segments] == ["swedish", "finns"]
    assert [(p.a, p.b, p.both) for p in report.pairs] == [("finns", "swedish", 2)]
    # in finns or swedish: c03, c04 in both; c01, c02, c05, c06, c07 in one; the Danes in none
    assert report.distribution == {0: 3, 1: 5, 2: 2}


def test_overlap_unknown_name_and_empty_store_are_clear_errors(store: Store, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"no segment named 'finn' \(did you mean finns\?\)"):
        overlap(store, ["finn", "vip"])
    with open_store(str(tmp_path / "empty.duckdb")) as empty:
        with pytest.raises(InsufficientDataError, match="no segments"):
            overlap(empty)
        empty.apply({"name": "finns", "conditions": [{"field": "country", "op": "eq", "value": "FI"}]})
        with pytest.raises(InsufficientDataError, match="no members yet: run segmint refresh"):
            overlap(empty)


def test_overlap_heatmap_written_as_png_svg_and_html(store: Store, tmp_path: Path) -> None:
    report = overlap(store)
    png = overlap_chart(report, tmp_path / "overlap.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = overlap_chart(report, tmp_path / "overlap.svg").read_text(encoding="utf-8")
    assert "<svg" in svg
    assert "swedish" in svg  # the labels are text
    html = overlap_chart(report, tmp_path / "overlap.html").read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>")
    assert "<svg" in html


def invoke(*args: str) -> Any:
    return runner.invoke(app, ["report", "overlap", *args], catch_exceptions=False)


def test_overlap_cli_prints_the_matrix_and_writes_the_chart(db: str, tmp_path: Path) -> None:
    chart = tmp_path / "o.svg"
    result = invoke("finns", "vip", "--db", db, "--chart", str(chart))
    assert result.exit_code == 0, result.output
    assert "Jaccard index |A∩B| / |A∪B| of 2 segments" in result.output
    assert "0.40" in result.output
    assert "<svg" in chart.read_text(encoding="utf-8")
    assert f"heatmap written to {chart}" in result.output


def test_overlap_cli_json(db: str) -> None:
    result = invoke("--db", db, "--json", "--top", "1")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["pairs"] == [
        {"a": "finns", "b": "vip", "size_a": 4, "size_b": 3, "both": 2, "union": 5, "jaccard": 0.4}
    ]
    assert data["distribution"] == [
        {"segments": 1, "contacts": 6},
        {"segments": 2, "contacts": 3},
        {"segments": 3, "contacts": 1},
    ]
    assert data["busiest"] == [{"contact_id": "c03", "email": "c03@example.com", "segments": 3}]
    assert data["matrix"][1][3] == 0.4  # finns x vip in the order danes, finns, swedish, vip


def test_overlap_cli_errors_are_one_line(db: str, tmp_path: Path) -> None:
    unknown = invoke("finn", "--db", db)
    assert unknown.exit_code == 5
    assert unknown.output.strip() == "error: no segment named 'finn' (did you mean finns?)"
    empty = invoke("--db", str(tmp_path / "empty.duckdb"))
    assert empty.exit_code == 10
    assert len(empty.output.strip().splitlines()) == 1
    assert "Traceback" not in empty.output
    bad_chart = invoke("--db", db, "--chart", str(tmp_path / "o.pdf"))
    assert bad_chart.exit_code == 2
    assert "must end in .png, .svg or .html" in bad_chart.output


def test_overlap_api(db: str, tmp_path: Path) -> None:
    from tests.server.api_testing import error, ok, serve

    with open_store(db) as store, serve(store) as api:
        body = ok(api.get("/api/reports/overlap", params={"names": "finns,vip", "top": 5}))
        assert [s["name"] for s in body["segments"]] == ["finns", "vip"]
        assert body["pairs"][0]["jaccard"] == 0.4
        assert body["matrix"] == [[1.0, 0.4], [0.4, 1.0]]
        error(api.get("/api/reports/overlap", params={"names": "finns,nope"}), 404, "not_found")
        error(api.get("/api/reports/overlap", params={"top": 0}), 400, "bad_request")
        error(api.get("/api/reports/overlap", scope=None), 401)
    with open_store(str(tmp_path / "empty.duckdb")) as empty, serve(empty) as api:
        error(api.get("/api/reports/overlap"), 422, "insufficient_data")
