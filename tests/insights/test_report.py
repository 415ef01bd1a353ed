"""The segment performance report: every measure by hand on a dozen contacts, the tests, the marks, CLI and API.

The data and the counts behind every expected number are in report_testing.py's module doc.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from report_testing import SINCE, UNTIL, load_planted, load_small
from scipy import stats
from typer.testing import CliRunner

from segmint.cli.app import app
from segmint.dsl import parse_segment
from segmint.errors import InsufficientDataError, NotFoundError, UsageError
from segmint.insights.report import (
    PERFORMING_POORLY,
    PERFORMING_WELL,
    UNDER_SERVED,
    newcombe_interval,
    proportion_test,
    rank_segments,
    segment_report,
    welch_test,
)
from segmint.segments import apply_segments
from segmint.store import open_store
from segmint.store.store import Store

runner = CliRunner()
Z95 = 1.959963984540054  # the 97.5 % point of the standard normal


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("report-small") / "small.duckdb")
    with open_store(path) as store:
        load_small(store)
    return path


@pytest.fixture
def small(small_db: str) -> Iterator[Store]:
    with open_store(small_db) as store:
        yield store


@pytest.fixture(scope="module")
def planted_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("report-planted") / "planted.duckdb")
    with open_store(path) as store:
        load_planted(store)
    return path


def report(db: str, *args: str) -> Any:
    return runner.invoke(app, ["report", *args, "--db", db], catch_exceptions=False)


def wilson(x: int, n: int) -> tuple[float, float]:
    """The Wilson score interval at 95 %, from its formula."""
    p = x / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return centre - half, centre + half


# ---- every measure of vip by hand ------------------------------------------------------------------


@pytest.mark.duckdb
def test_report_measures_vip_by_hand(small: Store) -> None:
    found = segment_report(small, "vip", since=SINCE, until=UNTIL)
    assert (found.size, found.contacts, found.whole_list) == (4, 4, 12)
    values = {m.key: (m.segment, m.whole, m.n, m.n_whole) for m in found.measures}
    expected = {
        "sends": (6, 13, 4, 12),  # c01's second m1 is the same send; c03's m0 is before the window
        "sends_per_contact": (6 / 4, 13 / 12, 4, 12),
        "open_rate": (3 / 6, 6 / 13, 6, 13),  # machine opens (c01 m2, c03, c09) do not count; unset does
        "click_rate": (3 / 6, 4 / 13, 6, 13),
        "click_to_open": (2 / 3, 3 / 6, 3, 6),  # c01 m2 was clicked but only machine-opened
        "unsubscribe_rate": (1 / 6, 2 / 13, 6, 13),
        "bounce_rate": (0 / 6, 1 / 13, 6, 13),
        "conversion_rate": (2 / 4, 5 / 12, 4, 12),  # c07's order without an amount converts
        "revenue_per_contact": ((400 + 100) / 4, (400 + 100 + 60 + 40) / 12, 4, 12),
        "average_order_value": ((150 + 250 + 100) / 3, 600 / 5, 3, 5),  # o1's two lines are one order
        "predicted_clv": ((300 + 100) / 2, (300 + 100 + 50 + 70 + 30) / 5, 2, 5),
        "tickets_per_contact": (2 / 4, 4 / 12, 4, 12),
    }
    assert set(values) == set(expected)
    for key, (segment, whole, n, n_whole) in expected.items():
        assert values[key][0] == pytest.approx(segment), key
        assert values[key][1] == pytest.approx(whole), key
        assert values[key][2:] == (n, n_whole), key
    # against the whole list: click rate 3/6 - 4/13 = 0.1923
    assert found.measure("click_rate").difference == pytest.approx(0.5 - 4 / 13)


@pytest.mark.duckdb
def test_report_click_rate_z_test_by_hand(small: Store) -> None:
    click = segment_report(small, "vip", since=SINCE, until=UNTIL).measure("click_rate")
    # vip 3/6 against the rest 1/7; pooled 4/13:
    # z = (0.5 - 0.142857) / sqrt(4/13 * 9/13 * (1/6 + 1/7)) = 0.357143 / 0.256776 = 1.3909
    z = (3 / 6 - 1 / 7) / math.sqrt(4 / 13 * 9 / 13 * (1 / 6 + 1 / 7))
    assert z == pytest.approx(1.3909, abs=1e-4)
    assert click.statistic == pytest.approx(z)
    # two-sided p = erfc(|z| / sqrt 2) = 0.1643
    assert click.p_value == pytest.approx(math.erfc(z / math.sqrt(2)))
    assert click.p_value == pytest.approx(0.1643, abs=1e-4)
    assert click.test == "two-proportion z-test"
    assert not click.significant
    # Newcombe: Wilson(3/6) = (0.1876, 0.8124), Wilson(1/7) = (0.0257, 0.5131)
    l1, u1 = wilson(3, 6)
    l2, u2 = wilson(1, 7)
    assert (round(l1, 4), round(u1, 4), round(l2, 4), round(u2, 4)) == (0.1876, 0.8124, 0.0257, 0.5131)
    d = 0.5 - 1 / 7
    low, high = d - math.sqrt((0.5 - l1) ** 2 + (u2 - 1 / 7) ** 2), d + math.sqrt((u1 - 0.5) ** 2 + (1 / 7 - l2) ** 2)
    assert newcombe_interval(3, 6, 1, 7) == pytest.approx((low, high))
    # shown against the whole list: segment - whole = 7/13 * (segment - rest)
    assert (click.ci_low, click.ci_high) == pytest.approx((7 / 13 * low, 7 / 13 * high))
    assert click.ci_low < click.difference < click.ci_high


@pytest.mark.duckdb
def test_report_revenue_welch_test_matches_the_raw_values(small: Store) -> None:
    revenue = segment_report(small, "vip", since=SINCE, until=UNTIL).measure("revenue_per_contact")
    vip, rest = [400, 100, 0, 0], [0, 60, 0, 0, 0, 0, 40, 0]
    # vip mean 125, variance 107500/3 = 35833.3; rest mean 12.5, variance 3950/7 = 564.29;
    # se^2 = 35833.3/4 + 564.29/8 = 9028.9, t = 112.5 / 95.02 = 1.184, Welch df = 3.05
    assert revenue.statistic == pytest.approx(1.184, abs=1e-3)
    raw = stats.ttest_ind(vip, rest, equal_var=False)
    assert revenue.p_value == pytest.approx(raw.pvalue)
    interval = raw.confidence_interval(0.95)
    assert (revenue.ci_low, revenue.ci_high) == pytest.approx((8 / 12 * interval.low, 8 / 12 * interval.high))
    assert revenue.difference == pytest.approx(75.0)  # 125 - 50 = 8/12 * (125 - 12.5)


@pytest.mark.duckdb
def test_report_adjusts_p_values_by_benjamini_hochberg(small: Store) -> None:
    measures = [m for m in segment_report(small, "vip", since=SINCE, until=UNTIL).measures if m.p_value is not None]
    ordered = sorted(m.p_value for m in measures if m.p_value is not None)
    m = len(ordered)
    assert m == 11  # every measure but the count of sends
    # BH: the smallest p's adjusted value is min over k of p_(k) * m / k
    smallest = min(measures, key=lambda x: x.p_value or 1)
    assert smallest.p_adjusted == pytest.approx(min(p * m / k for k, p in enumerate(ordered, 1)))
    assert all(x.p_adjusted is not None and x.p_adjusted >= (x.p_value or 0) for x in measures)


@pytest.mark.duckdb
def test_welch_test_falls_back_to_student_when_a_group_does_not_vary() -> None:
    # a segment of 10 contacts who all bought nothing against 20 who spent 0 or 10 alternately
    rest = [0.0, 10.0] * 10
    name, t, p, interval = welch_test(0.0, 0.0, 10, 5.0, float(stats.tvar(rest)), 20)
    pooled = stats.ttest_ind([0.0] * 10, rest, equal_var=True)
    assert name.startswith("Student")
    assert (t, p) == pytest.approx((pooled.statistic, pooled.pvalue))
    assert interval == pytest.approx(tuple(pooled.confidence_interval(0.95)))
    assert proportion_test(0, 5, 0, 7) == (None, 1.0)  # no variation: nothing to test
    assert proportion_test(0, 0, 1, 7) == (None, None)


@pytest.mark.duckdb
def test_report_size_trend_of_a_dynamic_segment(small: Store) -> None:
    found = segment_report(small, "recent-buyers", since=SINCE, until=UNTIL)
    # refreshed at 2026-02-20 (c03's purchase of 02-10: 1 member) and at 2026-03-31 (5 buyers of March)
    assert (found.trend.start, found.trend.end, found.trend.change) == (1, 5, 4)
    assert found.trend.change_pct == pytest.approx(4.0)
    assert [p["size"] for p in found.trend.points] == [1, 5]
    assert found.size == 5
    assert found.measure("conversion_rate").segment == 1.0  # c01, c02, c06, c07, c11 all bought
    assert found.measure("revenue_per_contact").segment == pytest.approx((400 + 100 + 60 + 0 + 40) / 5)
    # a window that ends before the second refresh sees only the first
    early = segment_report(small, "recent-buyers", since="2026-02-01", until="2026-03-01")
    assert (early.trend.start, early.trend.end, early.trend.change) == (1, 1, 0)


@pytest.mark.duckdb
def test_report_of_a_segment_without_members_is_unset_not_a_crash(small_db: str, tmp_path: Path) -> None:
    path = tmp_path / "copy.duckdb"
    path.write_bytes(Path(small_db).read_bytes())
    with open_store(str(path)) as store:
        segment = parse_segment({"name": "finns", "conditions": [{"field": "country", "op": "eq", "value": "FI"}]})
        apply_segments(store, {"finns": segment})
        found = segment_report(store, "finns", since=SINCE, until=UNTIL)
    assert found.size == 0
    assert any("not been refreshed" in note for note in found.notes)
    assert found.measure("click_rate").segment is None
    assert found.measure("click_rate").p_value is None
    assert found.measure("click_rate").whole == pytest.approx(4 / 13)
    result = report(str(path), "segment", "finns", "--since", SINCE, "--until", UNTIL)
    assert result.exit_code == 0, result.output
    assert "has no members: it has not been refreshed yet" in result.output
    # the table has no vertical rules: a row is its cells apart by two spaces or more
    rows = [
        re.split(r"\s{2,}", line.strip()) for line in result.output.splitlines() if line.strip().startswith("unique")
    ]
    assert rows
    assert rows[0][1] == "-"  # the segment's rate: no sends, no rate


@pytest.mark.duckdb
def test_report_errors(small: Store, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no segment named 'vips' \\(did you mean vip\\?\\)"):
        segment_report(small, "vips")
    with pytest.raises(UsageError, match="must be before until"):
        segment_report(small, "vip", since=UNTIL, until=SINCE)
    with pytest.raises(UsageError, match="--since: expected a date or timestamp"):
        segment_report(small, "vip", since="last week")
    with open_store(str(tmp_path / "empty.duckdb")) as empty:
        with pytest.raises(InsufficientDataError, match="the store has no contacts"):
            rank_segments(empty)
        with pytest.raises(NotFoundError, match="no segments are stored yet"):
            segment_report(empty, "vip")


# ---- the ranking -------------------------------------------------------------------------------------


@pytest.mark.duckdb
def test_rank_segments_marks_the_planted_segments(planted_db: str) -> None:
    with open_store(planted_db) as store:
        rankings = {r.segment: r for r in rank_segments(store, since=SINCE, until=UNTIL, min_size=10)}
    assert rankings["stars"].mark == PERFORMING_WELL
    assert (
        "unique click rate 100.0 % against 47.4 % for the whole list (adjusted p < 0.001)" in rankings["stars"].reasons
    )
    assert rankings["sleepers"].mark == PERFORMING_POORLY
    assert any(r.startswith("unique open rate 0.0 % against 47.4 %") for r in rankings["sleepers"].reasons)
    # gems: 15 sends / 30 = 0.5 per contact against 285 / 150 = 1.9 for the whole list, yet they buy most
    assert rankings["gems"].mark == UNDER_SERVED
    assert any(r.startswith("sends per contact 0.50 against 1.90") for r in rankings["gems"].reasons)
    assert any(r.startswith("revenue per contact 200.00 against 100.00") for r in rankings["gems"].reasons)
    assert rankings["plain"].mark is None
    assert rankings["plain"].reasons == ["no measure differs significantly from the whole list"]
    assert rankings["tiny"].mark is None
    assert rankings["tiny"].reasons == ["too small to judge: 2 contacts (fewer than 10)"]
    order = [r.segment for r in sorted(rankings.values(), key=lambda r: r.rank)]
    assert order.index("sleepers") > order.index("plain") > order.index("stars")
    assert order[-1] == "tiny"


# ---- CLI, chart and API ---------------------------------------------------------------------------------


@pytest.mark.duckdb
def test_cli_report_segment_json(small_db: str) -> None:
    result = report(small_db, "segment", "vip", "--since", SINCE, "--until", UNTIL, "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert found["segment"] == "vip"
    assert found["since"] == "2026-03-01T00:00:00+00:00"
    measures = {m["key"]: m for m in found["measures"]}
    assert measures["open_rate"]["segment"] == 0.5  # 3 / 6
    assert measures["average_order_value"]["whole"] == 120.0  # 600 / 5
    assert measures["click_rate"]["p_value"] == pytest.approx(0.1643, abs=1e-4)


@pytest.mark.duckdb
def test_cli_report_segment_table_and_charts(small_db: str, tmp_path: Path) -> None:
    png, svg, page = tmp_path / "vip.png", tmp_path / "vip.svg", tmp_path / "vip.html"
    result = report(small_db, "segment", "recent-buyers", "--since", SINCE, "--until", UNTIL, "--chart", str(png))
    assert result.exit_code == 0, result.output
    assert "size over the window: 1 -> 5 (+4, +400.0 %)" in result.output
    assert "unique open rate" in result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for target in (svg, page):
        result = report(small_db, "segment", "vip", "--since", SINCE, "--until", UNTIL, "--chart", str(target))
        assert result.exit_code == 0, result.output
    assert "<svg" in svg.read_text(encoding="utf-8")[:500]
    assert "<svg" in page.read_text(encoding="utf-8")
    assert "<title>vip: 2026-03-01" in page.read_text(encoding="utf-8")
    bad = report(small_db, "segment", "vip", "--chart", str(tmp_path / "vip.gif"))
    assert bad.exit_code == 2
    assert bad.output.strip().startswith("error: chart file")


@pytest.mark.duckdb
def test_cli_report_segments_json_and_table(planted_db: str) -> None:
    result = report(planted_db, "segments", "--since", SINCE, "--until", UNTIL, "--min-size", "10", "--json")
    assert result.exit_code == 0, result.output
    marks = {r["segment"]: r["mark"] for r in json.loads(result.output)}
    assert marks == {
        "gems": UNDER_SERVED,
        "stars": PERFORMING_WELL,
        "plain": None,
        "sleepers": PERFORMING_POORLY,
        "tiny": None,
    }
    table = report(planted_db, "segments", "--since", SINCE, "--until", UNTIL, "--min-size", "10")
    assert table.exit_code == 0, table.output
    assert "high potential, under-served" in table.output


@pytest.mark.duckdb
@pytest.mark.parametrize(
    ("args", "code", "start"),
    [
        (["segments"], 10, "error: the store has no contacts"),
        (["segment", "vip"], 5, "error: no segment named 'vip'"),
        (["segment", "vip", "--since", "yesterday"], 2, "error: --since: expected a date or timestamp"),
    ],
)
def test_cli_report_errors_are_one_line(tmp_path: Path, args: list[str], code: int, start: str) -> None:
    result = report(str(tmp_path / "empty.duckdb"), *args)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(start)


@pytest.mark.duckdb
def test_api_reports_segments(small_db: str, tmp_path: Path) -> None:
    from tests.server.api_testing import error, ok, serve

    path = tmp_path / "copy.duckdb"
    path.write_bytes(Path(small_db).read_bytes())
    with open_store(str(path)) as store, serve(store) as api:
        body = ok(api.get("/api/reports/segments/vip", params={"since": SINCE, "until": UNTIL}, scope="read"))
        measures = {m["key"]: m for m in body["measures"]}
        assert measures["click_rate"]["segment"] == 0.5  # 3 / 6
        assert measures["click_rate"]["whole"] == pytest.approx(4 / 13)
        assert measures["revenue_per_contact"]["difference"] == pytest.approx(75.0)
        ranked = ok(api.get("/api/reports/segments", params={"since": SINCE, "until": UNTIL, "min_size": 1}))
        assert {r["segment"] for r in ranked["segments"]} == {"vip", "recent-buyers"}
        error(api.get("/api/reports/segments/nope"), 404, "not_found")
        error(api.get("/api/reports/segments/vip", params={"since": "soon"}), 400, "usage_error")
        error(api.get("/api/reports/segments/vip", scope=None), 401)
        error(api.get("/api/reports/segments", params={"min_size": 0}), 400)
    with open_store(str(tmp_path / "empty.duckdb")) as empty, serve(empty) as api:
        error(api.get("/api/reports/segments"), 422, "insufficient_data")


@pytest.mark.parametrize("engine_name", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_report_gives_the_same_numbers_on_postgres(store: Store) -> None:
    # the same hand-made data as on DuckDB: the one SQL pass must mean the same on PostgreSQL
    load_small(store)
    found = segment_report(store, "vip", since=SINCE, until=UNTIL)
    assert found.measure("open_rate").segment == pytest.approx(3 / 6)
    assert found.measure("click_to_open").whole == pytest.approx(3 / 6)
    assert found.measure("average_order_value").segment == pytest.approx(500 / 3)
    assert found.measure("predicted_clv").whole == pytest.approx(110.0)
    assert found.measure("click_rate").p_value == pytest.approx(0.1643, abs=1e-4)
    trend = segment_report(store, "recent-buyers", since=SINCE, until=UNTIL).trend
    assert (trend.start, trend.end) == (1, 5)
