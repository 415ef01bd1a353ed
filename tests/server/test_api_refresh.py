"""Refreshes started through the API, reads answered while one runs, stats and the field registry."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from api_testing import AS_OF, Api, error, load_small_data, ok, paths, refreshed, serve

from segmint.demo import DemoConfig, generate
from segmint.playbook import install_playbook
from segmint.store import open_store
from segmint.store.load import load_tables


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with open_store(str(tmp_path / "refresh.duckdb")) as store:
        load_small_data(store)
        with serve(store) as client:
            yield client


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo company with 2,000 contacts and the playbook: a full refresh takes a second or two."""
    path = str(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    data = generate(DemoConfig(contacts=2000))
    with open_store(path) as store:
        for entity in ("companies", "contacts", "deals", "consents", "events"):
            load_tables(store, entity, getattr(data, entity)(), source=f"demo-{entity}")
        install_playbook(store)
    return path


def test_api_refresh_runs_in_the_background_and_reports_each_segment(api: Api) -> None:
    ok(
        api.post(
            "/api/segments", json={"name": "finns", "conditions": [{"field": "country", "op": "eq", "value": "FI"}]}
        ),
        201,
    )
    run = refreshed(api)
    assert (run["status"], run["as_of"], run["error"]) == ("done", AS_OF, None)
    assert run["result"]["segments"] == [{"segment": "finns", "size": 2, "entered": 2, "exited": 0}]
    assert run["result"]["traits"]["lead_score"] == 4  # one row per contact
    assert run["seconds"] > 0
    assert datetime.fromisoformat(run["finished_at"]) >= datetime.fromisoformat(run["started_at"])
    again = refreshed(api)
    assert again["id"] == run["id"] + 1
    assert again["result"]["segments"] == [{"segment": "finns", "size": 2, "entered": 0, "exited": 0}]
    listed = ok(api.get("/api/refresh", scope="read"))
    assert ([r["id"] for r in listed["items"]], listed["total"]) == ([again["id"], run["id"]], 2)  # newest first
    error(api.get("/api/refresh/99"), 404, "not_found")
    assert paths(error(api.get("/api/refresh/0"), 400)) == {"path.refresh_id"}
    assert paths(error(api.post("/api/refresh", params={"as_of": "tomorrow-ish"}), 400)) == {"query.as_of"}


def test_api_deletion_waits_for_a_running_refresh_and_leaves_no_membership(api: Api) -> None:
    ok(
        api.post(
            "/api/segments", json={"name": "finns", "conditions": [{"field": "country", "op": "eq", "value": "FI"}]}
        ),
        201,
    )
    run = ok(api.post("/api/refresh", params={"as_of": AS_OF}), 202)["refresh"]
    asked = time.time()
    deleted = ok(api.delete("/api/contacts/cy"))["deleted"]
    answered = time.time()
    run = ok(api.get(f"/api/refresh/{run['id']}"))["refresh"]
    assert run["status"] == "done"
    finished = datetime.fromisoformat(run["finished_at"]).timestamp()
    assert asked < finished <= answered  # asked while the refresh ran, answered after it
    assert run["result"]["segments"] == [{"segment": "finns", "size": 2, "entered": 2, "exited": 0}]  # cy still in
    assert deleted["segment_members"] == 1  # the membership that refresh gave cy
    assert [s["members"] for s in ok(api.get("/api/segments"))["items"]] == [1]  # ann's membership only


def test_api_reads_are_answered_while_a_refresh_runs(demo_db: str) -> None:
    with open_store(demo_db) as store, serve(store) as api:
        contact = ok(api.get("/api/contacts", params={"limit": 1}))["items"][0]["contact_id"]
        reads = [
            "/api/stats",
            f"/api/contacts/{contact}",
            "/api/contacts?q=a&limit=20",
            "/api/segments",
            "/api/segments/customers/count",
            "/api/fields",
        ]
        run = ok(api.post("/api/refresh", params={"as_of": "2026-11-01T00:00:00Z"}), 202)["refresh"]
        error(api.post("/api/refresh"), 409, "conflict")  # one full refresh at a time
        answered: list[tuple[float, float, httpx.Response]] = []
        while run["status"] == "running":
            for path in reads:
                started = time.time()
                response = api.get(path, scope="read")
                answered.append((started, time.time(), response))
            run = ok(api.get(f"/api/refresh/{run['id']}"))["refresh"]
        assert run["status"] == "done", run
        began = datetime.fromisoformat(run["started_at"]).timestamp()
        ended = datetime.fromisoformat(run["finished_at"]).timestamp()
        during = [(s, e, r) for s, e, r in answered if s >= began and e <= ended]
        assert ended - began > 0.5, "the refresh was too quick to show anything"
        assert [r.status_code for _, _, r in answered] == [200] * len(answered)
        # reads started and were answered while the refresh ran: they did not wait for it
        assert len(during) >= len(reads), (len(during), ended - began)
        assert len({str(r.url) for _, _, r in during}) >= 3
        sizes = {s["segment"]: s["size"] for s in run["result"]["segments"]}
        assert sizes["customers"] == ok(api.get("/api/segments/customers", scope="read"))["segment"]["members"]


def test_api_stats(api: Api) -> None:
    stats = ok(api.get("/api/stats", scope="read"))
    rows = {t["table"]: t["rows"] for t in stats["tables"]}
    assert rows == {"contacts": 4, "companies": 2, "deals": 0, "events": 6, "consents": 2}
    assert stats["events_by_name"] == {"email_open": 1, "page_view": 4, "purchase": 1}
    events = next(t for t in stats["tables"] if t["table"] == "events")
    assert (events["first"], events["last"]) == ("2026-03-01T10:00:00+00:00", "2026-03-06T10:00:00+00:00")


def test_api_field_registry_for_user_interfaces(api: Api) -> None:
    every = ok(api.get("/api/fields", scope="read"))
    assert every["total"] == len(every["items"]) == len(api.store.registry())
    company = ok(api.get("/api/fields", params={"entity": "company"}))["items"]
    assert {f["entity"] for f in company} == {"company"}
    employees = next(f for f in company if f["name"] == "employees")
    assert (employees["type"], employees["origin"]) == ("integer", "builtin")
    assert "between" in employees["operators"]
    assert employees["description"] == "Number of employees."
    traits = ok(api.get("/api/fields", params={"entity": "contact", "origin": "trait"}))["items"]
    assert "lead_score" in {f["name"] for f in traits}
    via = next(
        f for f in ok(api.get("/api/fields", params={"entity": "contact"}))["items"] if f["name"] == "company.employees"
    )
    assert via["via"] == "company"
    assert paths(error(api.get("/api/fields", params={"entity": "planet"}), 400)) == {"query.entity"}
