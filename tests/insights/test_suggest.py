"""``segmint suggest``: clusters found in a hand-made list of three clearly separate groups, on DuckDB.

The list (90 contacts, evaluated at AS_OF = 2026-03-01):

- ``m01``..``m30``, manufacturing buyers: contacts of three manufacturing
  companies of 400-600 employees in FI, each with three purchases
  (4,000 + 5,000 + 6,000 = 15,000 of revenue, 3 orders), 6 email clicks and
  8 opens by a person (plus 2 machine opens) in the last 365 days;
- ``r01``..``r30``, quiet retail: contacts of three retail companies of 5-9
  employees in SE, with nothing but emails sent to them;
- ``e01``..``e30``, energy readers: contacts of three energy companies of
  50-70 employees in DK, with 10-12 page views and 2 human opens, no clicks
  and no purchases.

So the clusters are known by hand: the groups differ in industry, country,
size, revenue, orders, clicks and page views at once, and any definition of
a group on one of those fields finds it exactly (precision = recall = 1).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from segmint.cli.app import app
from segmint.cli.suggest import write_suggestions
from segmint.dsl import load_segment
from segmint.errors import InsufficientDataError, UsageError
from segmint.insights.suggest import suggest, suggest_report
from segmint.segments import segment_members
from segmint.server.app import create_app
from segmint.server.auth import create_key
from segmint.store import open_store
from segmint.store.load.loader import load_tables
from segmint.store.store import Store
from segmint.traits import compute_traits

pytestmark = pytest.mark.duckdb

runner = CliRunner()

AS_OF = datetime(2026, 3, 1, tzinfo=UTC)
AS_OF_TEXT = "2026-03-01T00:00:00Z"
GROUPS = {"m": "manufacturing buyers", "r": "quiet retail", "e": "energy readers"}


def group_ids(prefix: str) -> set[str]:
    return {f"{prefix}{i:02d}" for i in range(1, 31)}


def load(store: Store, entity: str, rows: list[dict[str, Any]]) -> None:
    columns = sorted({k for r in rows for k in r})
    summary = load_tables(store, entity, [pa.table({c: [r.get(c) for r in rows] for c in columns})], source="test")
    assert summary.total("rejected") == 0, summary


def day(days_before: int, hour: int = 9) -> str:
    return (AS_OF - timedelta(days=days_before) + timedelta(hours=hour)).isoformat()


def build_list(store: Store, groups: str = "mre", per_group: int = 30, traits: set[str] | None = None) -> None:
    """The hand-made list of the module doc (``groups`` picks which of the three are loaded)."""
    industry = {"m": "Manufacturing", "r": "Retail", "e": "Energy"}
    country = {"m": "FI", "r": "SE", "e": "DK"}
    employees = {"m": (400, 500, 600), "r": (5, 7, 9), "e": (50, 60, 70)}
    companies, contacts, events = [], [], []
    for g in groups:
        for c in range(3):
            companies.append(
                {
                    "company_id": f"{g}-co{c}",
                    "name": f"{industry[g]} {c}",
                    "industry": industry[g],
                    "employees": employees[g][c],
                    "country": country[g],
                }
            )
        for i in range(1, per_group + 1):
            cid = f"{g}{i:02d}"
            contacts.append(
                {
                    "contact_id": cid,
                    "email": f"{cid}@{g}.example",
                    "company_id": f"{g}-co{i % 3}",
                    "country": country[g],
                    "created_at": day(500),
                }
            )
            events += [
                {"contact_id": cid, "event": "email_sent", "ts": day(d), "campaign_id": f"n{d}"} for d in (20, 50)
            ]
            if g == "m":
                events += [
                    {"contact_id": cid, "event": "purchase", "ts": day(d), "order_id": f"{cid}-{d}", "amount": amount}
                    for d, amount in ((40, 4000.0), (120, 5000.0), (200, 6000.0))
                ]
                events += [{"contact_id": cid, "event": "email_click", "ts": day(10 + 7 * j)} for j in range(6)]
                events += [
                    {"contact_id": cid, "event": "email_open", "ts": day(11 + 7 * j), "machine_open": j >= 8}
                    for j in range(10)
                ]
            if g == "e":
                events += [
                    {"contact_id": cid, "event": "page_view", "ts": day(5 + j), "url": "/energy"}
                    for j in range(10 + i % 3)
                ]
                events += [{"contact_id": cid, "event": "email_open", "ts": day(30 + j)} for j in range(2)]
    load(store, "companies", companies)
    load(store, "contacts", contacts)
    load(store, "events", events)
    compute_traits(store, as_of=AS_OF, names=traits)


@pytest.fixture(scope="module")
def list_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A DuckDB file holding the three groups with their traits computed at AS_OF."""
    path = str(tmp_path_factory.mktemp("suggest") / "list.duckdb")
    with open_store(path) as store:
        build_list(store)
    return path


@pytest.fixture
def list_store(list_db: str) -> Iterator[Store]:
    with open_store(list_db) as store:
        yield store


@pytest.fixture
def list_copy(list_db: str, tmp_path: Path) -> str:
    """A copy of the list's file, for tests that store segments."""
    return str(shutil.copy(list_db, tmp_path / "copy.duckdb"))


def group_of(ids: list[str]) -> str:
    (prefix,) = {i[0] for i in ids}
    return prefix


# ---- the Python API ------------------------------------------------------------------------------------------


def test_suggest_recovers_the_three_groups_exactly(list_store: Store) -> None:
    found = suggest(list_store, k=3, as_of=AS_OF)
    assert len(found) == 3
    # each cluster is one whole group: 30 contacts all with the same first letter
    clusters = {group_of(s.cluster_ids): set(s.cluster_ids) for s in found}
    assert clusters == {g: group_ids(g) for g in GROUPS}
    for s in found:
        # well separated groups: the definition finds its cluster and nothing else
        assert (s.size, s.members, s.precision, s.recall) == (30, 30, 1.0, 1.0), s.definition
        assert s.definition["tags"] == ["suggested"]
        assert f"precision {s.precision:.2f}" in s.description
    names = [s.name for s in found]
    assert len(set(names)) == 3


def test_suggest_definitions_are_what_the_engine_evaluates(list_store: Store) -> None:
    """The documents read back through the project's parser and, evaluated by the engine, give the clusters."""
    registry = list_store.registry()
    for s in suggest(list_store, k=3, as_of=AS_OF):
        segment = load_segment(s.yaml, registry, origin=s.name)
        members = set(segment_members(list_store, segment, as_of=AS_OF).column("member_id").to_pylist())
        assert members == set(s.cluster_ids)


def test_suggest_describes_what_sets_each_group_apart(list_store: Store) -> None:
    by_group = {group_of(s.cluster_ids): s for s in suggest(list_store, k=3, as_of=AS_OF)}
    buyers = by_group["m"]
    # industry: 30 of 30 in the cluster (100%) against 30 of 90 contacts (33%)
    assert "industry Manufacturing (100% vs 33% of all contacts)" in buyers.description
    # revenue 15,000 for each buyer; the median of all 90 contacts is 0 (60 of them bought nothing)
    assert "high revenue (median 15,000 vs 0)" in buyers.description
    assert buyers.name.startswith("manufacturing-")
    assert "Retail" in by_group["r"].title
    # human opens: 0 for each retail contact; all 90: thirty 0s, thirty 2s, thirty 8s, so the median is 2
    assert "no human email opens (365 days) (median 0 vs 2)" in by_group["r"].description


def test_suggest_respects_k(list_store: Store) -> None:
    two = suggest_report(list_store, k=2, as_of=AS_OF)
    assert two.k == 2
    assert len(two.suggestions) == 2
    # two clusters of 90 contacts: every contact in exactly one
    assert sorted(len(s.cluster_ids) for s in two.suggestions)[-1] >= 45
    assert sum(s.size for s in two.suggestions) == 90
    assert len(suggest(list_store, k=4, as_of=AS_OF)) == 4


def test_suggest_picks_k_by_silhouette(list_store: Store) -> None:
    report = suggest_report(list_store, as_of=AS_OF)
    # k runs over 3..8 (90 contacts allow up to 18); the three groups are the best-separated split
    assert list(report.silhouette) == [3, 4, 5, 6, 7, 8]
    assert report.k == 3
    assert max(report.silhouette.values()) == report.silhouette[3]


def test_suggest_is_deterministic_for_a_random_state(list_store: Store) -> None:
    first = suggest_report(list_store, k=4, as_of=AS_OF, random_state=7).to_dict()
    again = suggest_report(list_store, k=4, as_of=AS_OF, random_state=7).to_dict()
    assert first == again


def test_suggest_names_never_take_a_stored_segment(list_copy: str) -> None:
    with open_store(list_copy) as store:
        taken = {s.name for s in suggest(store, k=3, as_of=AS_OF)}
    folder = Path(list_copy).parent / "taken"
    folder.mkdir()
    for name in taken:
        (folder / f"{name}.yaml").write_text(f"name: {name}\nconditions: [{{field: country, op: eq, value: FI}}]\n")
    assert runner.invoke(app, ["segment", "apply", str(folder), "--db", list_copy]).exit_code == 0
    with open_store(list_copy) as store:
        again = {s.name for s in suggest(store, k=3, as_of=AS_OF)}
    assert again.isdisjoint(taken)
    assert {f"{name}-2" for name in taken} == again


@pytest.mark.parametrize("k", [1, 13])
def test_suggest_refuses_a_k_out_of_range(list_store: Store, k: int) -> None:
    with pytest.raises(UsageError, match=f"--k {k}"):
        suggest(list_store, k=k, as_of=AS_OF)


def test_suggest_refuses_more_segments_than_the_list_carries(tmp_path: Path) -> None:
    with open_store(str(tmp_path / "small.duckdb")) as store:
        build_list(store, groups="mr", per_group=15, traits={"engagement"})
        # 30 contacts: at most 30 // 5 = 6 segments
        with pytest.raises(UsageError, match="too many segments for 30 contacts"):
            suggest(store, k=7, as_of=AS_OF)


def test_suggest_needs_enough_contacts_and_traits(tmp_path: Path) -> None:
    with open_store(str(tmp_path / "empty.duckdb")) as store:
        with pytest.raises(InsufficientDataError, match="no contacts"):
            suggest(store)
        load(store, "contacts", [{"contact_id": f"c{i}", "country": "FI"} for i in range(40)])
        with pytest.raises(InsufficientDataError, match="no traits computed yet: run segmint refresh"):
            suggest(store)
    with open_store(str(tmp_path / "few.duckdb")) as store:
        build_list(store, groups="mr", per_group=5, traits={"engagement"})
        with pytest.raises(InsufficientDataError, match="10 contacts in the store: suggestions need at least 20"):
            suggest(store, as_of=AS_OF)


# ---- the command line ----------------------------------------------------------------------------------------


def test_suggest_cli_output_applies_and_matches_the_reported_precision(list_copy: str, tmp_path: Path) -> None:
    out = tmp_path / "suggested"
    result = runner.invoke(app, ["suggest", "--k", "3", "--as-of", AS_OF_TEXT, "--out", str(out), "--db", list_copy])
    assert result.exit_code == 0, result.output
    assert "precision 1.00, recall 1.00" in result.output
    files = sorted(out.glob("*.yaml"))
    assert len(files) == 3
    applied = runner.invoke(app, ["segment", "apply", str(out), "--db", list_copy])
    assert applied.exit_code == 0, applied.output
    assert applied.output.count("created: ") == 3
    report = json.loads(
        runner.invoke(app, ["suggest", "--k", "3", "--as-of", AS_OF_TEXT, "--json", "--db", list_copy]).output
    )
    for file in files:
        name = file.stem
        members = runner.invoke(app, ["segment", "members", name, "--as-of", AS_OF_TEXT, "--db", list_copy])
        assert members.exit_code == 0, members.output
        ids = set(members.output.split()[1:])  # CSV: the header contact_id, then one id a line
        (prefix,) = {i[0] for i in ids}
        cluster = group_ids(prefix)
        # precision and recall worked out here from the groups known by hand: 30 of 30 either way
        precision = len(ids & cluster) / len(ids)
        recall = len(ids & cluster) / len(cluster)
        assert (precision, recall) == (1.0, 1.0)
        # the suggestion run after applying names its clusters anew (the stored names are taken)
        assert any(s["definition"]["conditions"] == _conditions(file) for s in report["suggestions"])


def test_suggest_reported_figures_are_those_of_the_applied_segments(list_copy: str, tmp_path: Path) -> None:
    """With k=5 the three groups split unevenly, so the figures need not be 1: they must still be the engine's."""
    out = tmp_path / "five"
    with open_store(list_copy) as store:
        report = suggest_report(store, k=5, as_of=AS_OF)
    write_suggestions(report, out)
    assert len(report.suggestions) == 5
    assert sum(s.size for s in report.suggestions) == 90
    assert runner.invoke(app, ["segment", "apply", str(out), "--db", list_copy]).exit_code == 0
    for s in report.suggestions:
        cluster = set(s.cluster_ids)
        assert len(cluster) == s.size
        members = runner.invoke(app, ["segment", "members", s.name, "--as-of", AS_OF_TEXT, "--db", list_copy])
        ids = set(members.output.split()[1:])  # CSV: the header contact_id, then one id a line
        hits = len(ids & cluster)
        assert s.members == len(ids)
        assert s.precision == round(hits / len(ids), 4)
        assert s.recall == round(hits / len(cluster), 4)


def test_suggest_cli_draws_the_profiles(list_db: str, tmp_path: Path) -> None:
    for suffix in ("svg", "png"):
        chart = tmp_path / f"profiles.{suffix}"
        result = runner.invoke(
            app, ["suggest", "--k", "3", "--as-of", AS_OF_TEXT, "--chart", str(chart), "--db", list_db]
        )
        assert result.exit_code == 0, result.output
        assert f"chart: {chart}" in result.output
    svg = (tmp_path / "profiles.svg").read_text(encoding="utf-8")
    assert "Suggested segments: 3 clusters of 90 contacts" in svg
    assert "revenue" in svg
    assert (tmp_path / "profiles.png").read_bytes().startswith(b"\x89PNG")


def _conditions(file: Path) -> Any:
    from segmint.dsl import read_yaml

    return read_yaml(file.read_text(encoding="utf-8"))["conditions"]


def test_suggest_cli_json_carries_the_figures(list_db: str) -> None:
    result = runner.invoke(app, ["suggest", "--k", "3", "--as-of", AS_OF_TEXT, "--json", "--db", list_db])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["k"] == 3
    assert data["contacts"] == 90
    assert data["as_of"] == "2026-03-01T00:00:00+00:00"
    assert {"company.industry", "revenue", "email_clicks", "page_views"} <= set(data["features"])
    for s in data["suggestions"]:
        assert (s["size"], s["members"], s["precision"], s["recall"]) == (30, 30, 1.0, 1.0)
        assert s["yaml"].startswith(f"name: {s['name']}\n")


def test_suggest_cli_errors_are_one_line(tmp_path: Path, list_db: str) -> None:
    empty = runner.invoke(app, ["suggest", "--db", str(tmp_path / "empty.duckdb")])
    assert empty.exit_code == 10
    assert empty.output.strip().splitlines() == [
        "error: the store has no contacts: load some (segmint load) before asking for suggestions"
    ]
    bad_k = runner.invoke(app, ["suggest", "--k", "1", "--db", list_db])
    assert bad_k.exit_code == 2
    assert "--k 1: ask for between 2 and 12 segments" in bad_k.output
    a_file = runner.invoke(app, ["suggest", "--k", "3", "--out", str(tmp_path / "x.yaml"), "--db", list_db])
    assert a_file.exit_code == 2
    assert "give a folder" in a_file.output
    assert "Traceback" not in empty.output + bad_k.output + a_file.output


# ---- HTTP --------------------------------------------------------------------------------------------------


@pytest.fixture
def client(list_store: Store) -> Iterator[tuple[TestClient, dict[str, str]]]:
    token = create_key(list_store, "read", name="suggest tests").token
    with TestClient(create_app(store=list_store)) as test_client:
        yield test_client, {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_suggest_api_returns_the_suggestions(client: tuple[TestClient, dict[str, str]], method: str) -> None:
    http, headers = client
    response = http.request(method, "/api/suggest", params={"k": 3, "as_of": AS_OF_TEXT}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True
    assert body["k"] == 3
    assert [(s["size"], s["precision"], s["recall"]) for s in body["suggestions"]] == [(30, 1.0, 1.0)] * 3


def test_suggest_api_errors_are_4xx_json(client: tuple[TestClient, dict[str, str]], tmp_path: Path) -> None:
    http, headers = client
    bad = http.get("/api/suggest", params={"k": 1}, headers=headers)
    assert bad.status_code == 400
    assert bad.json()["code"] == "usage_error"
    assert http.get("/api/suggest", params={"as_of": "yesterday"}, headers=headers).status_code == 400
    assert http.get("/api/suggest").status_code == 401
    with open_store(str(tmp_path / "empty.duckdb")) as empty:
        token = create_key(empty, "read").token
        with TestClient(create_app(store=empty)) as other:
            response = other.get("/api/suggest", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422
    assert response.json()["code"] == "insufficient_data"
    assert "no contacts" in response.json()["error"]
