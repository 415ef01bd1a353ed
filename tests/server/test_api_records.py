"""The REST API's companies and deals: through the app, on a real DuckDB store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_testing import Api, error, load_small_data, ok, paths, serve

from segmint.store import open_store


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with open_store(str(tmp_path / "records.duckdb")) as store:
        load_small_data(store)
        with serve(store) as client:
            yield client


def ids(body: dict[str, object], key: str) -> list[str]:
    return [item[key] for item in body["items"]]  # type: ignore[attr-defined, index]


def test_api_company_create_conflict_and_rejects(api: Api) -> None:
    made = ok(
        api.post(
            "/api/companies",
            json={"company_id": "delta", "name": "Delta Oy", "employees": 40, "annual_revenue": 2.5e6, "country": "fi"},
        ),
        201,
    )
    assert (made["company"]["name"], made["company"]["employees"], made["company"]["country"]) == ("Delta Oy", 40, "FI")
    assert paths(error(api.post("/api/companies", json={"company_id": "delta"}), 409, "conflict")) == {"company_id"}
    bad = error(api.post("/api/companies", json={"company_id": "eps", "country": "Suomi", "created_at": "soon"}), 422)
    assert paths(bad) == {"country", "created_at"}
    error(api.get("/api/companies/eps"), 404, "not_found")
    assert paths(error(api.post("/api/companies", json={"company_id": "eps", "employees": "many"}), 400)) == {
        "employees"
    }
    assert paths(error(api.post("/api/companies", json={"name": "No Id"}), 400)) == {"company_id"}


def test_api_company_update_put_and_get(api: Api) -> None:
    changed = ok(api.patch("/api/companies/acme", json={"employees": 130, "sales_region": "north"}))["company"]
    assert (changed["employees"], changed["sales_region"], changed["name"]) == (130, "north", "Acme Oy")
    error(api.patch("/api/companies/nobody", json={"employees": 1}), 404)
    assert api.put("/api/companies/zeta", json={"name": "Zeta"}).status_code == 201
    assert ok(api.put("/api/companies/zeta", json={"domain": "zeta.fi"}))["company"]["name"] == "Zeta"
    acme = ok(api.get("/api/companies/acme"))
    assert (acme["contacts"], acme["deals"]) == (2, 0)  # ann and cy
    assert "icp_fit" in acme["traits"]
    error(api.get("/api/companies/nobody"), 404)


def test_api_company_list_with_text_and_filters(api: Api) -> None:
    assert ids(ok(api.get("/api/companies")), "company_id") == ["acme", "beta"]
    assert ids(ok(api.get("/api/companies", params={"q": " oy"})), "company_id") == ["acme"]  # "Acme Oy"
    assert ids(ok(api.get("/api/companies", params={"country": "SE"})), "company_id") == ["beta"]
    assert ids(ok(api.get("/api/companies", params={"industry": "Manufacturing"})), "company_id") == ["acme"]
    page = ok(api.get("/api/companies", params={"limit": 1, "offset": 1}))
    assert (ids(page, "company_id"), page["total"]) == (["beta"], 2)


def test_api_company_delete_keeps_its_contacts_unlinked(api: Api) -> None:
    ok(api.post("/api/deals", json={"deal_id": "d1", "company_id": "acme", "contact_id": "ann"}), 201)
    deleted = ok(api.delete("/api/companies/acme"))["deleted"]
    assert (deleted["contacts_unlinked"], deleted["deals_unlinked"]) == (2, 1)
    error(api.get("/api/companies/acme"), 404)
    ann = ok(api.get("/api/contacts/ann"))
    assert (ann["company"], ann["contact"]["company_id"]) == (None, None)
    assert ok(api.get("/api/deals/d1"))["deal"]["company_id"] is None
    error(api.delete("/api/companies/acme"), 404)


def test_api_deal_create_update_and_list(api: Api) -> None:
    made = ok(
        api.post(
            "/api/deals",
            json={"deal_id": "d1", "contact_id": "ann", "company_id": "acme", "amount": 1200, "status": "open"},
        ),
        201,
    )
    assert (made["deal"]["contact_id"], made["deal"]["company_id"], made["deal"]["amount"]) == ("ann", "acme", 1200.0)
    assert paths(error(api.post("/api/deals", json={"deal_id": "d1"}), 409)) == {"deal_id"}
    assert paths(error(api.post("/api/deals", json={"deal_id": "d9", "status": "pending"}), 422)) == {"status"}
    error(api.get("/api/deals/d9"), 404)
    other = ok(api.post("/api/deals", json={"deal_id": "d2", "contact_id": "newbie", "status": "open"}), 201)
    assert other["created_references"] == {"contacts": 1}  # as a load does: the contact is created
    won = ok(api.patch("/api/deals/d1", json={"status": "Won", "closed_at": "2026-03-09"}))["deal"]
    assert (won["status"], won["closed_at"], won["amount"]) == ("won", "2026-03-09T00:00:00Z", 1200.0)
    error(api.patch("/api/deals/nope", json={"status": "won"}), 404)
    assert api.put("/api/deals/d3", json={"company_id": "beta", "status": "lost"}).status_code == 201
    assert ids(ok(api.get("/api/deals")), "deal_id") == ["d1", "d2", "d3"]
    assert ids(ok(api.get("/api/deals", params={"contact_id": "ann"})), "deal_id") == ["d1"]
    assert ids(ok(api.get("/api/deals", params={"company_id": "beta"})), "deal_id") == ["d3"]
    assert ids(ok(api.get("/api/deals", params={"status": "open"})), "deal_id") == ["d2"]
