"""The REST API on PostgreSQL: records, a segment and a refresh, each request on its own connection."""

from __future__ import annotations

from typing import Any

import pytest
from api_testing import AS_OF, error, load_small_data, ok, paths, refreshed, serve

from segmint.store import open_store

pytestmark = pytest.mark.postgres


def test_api_on_postgres_contacts_segments_and_refresh(postgres_server: Any) -> None:
    url = postgres_server.new_database("api")
    try:
        with open_store(url) as store:
            load_small_data(store)
            with serve(store) as api:
                made = ok(
                    api.post(
                        "/api/contacts",
                        json={
                            "contact_id": "eve",
                            "email": "Eve@Example.com",
                            "country": "fi",
                            "company_id": "acme",
                            "properties": {"plan": "gold"},
                        },
                    ),
                    201,
                )
                assert (made["contact"]["email"], made["contact"]["plan"]) == ("eve@example.com", "gold")
                error(api.post("/api/contacts", json={"contact_id": "eve"}), 409)
                assert paths(error(api.post("/api/contacts", json={"contact_id": "x", "country": "Suomi"}), 422)) == {
                    "country"
                }
                ok(api.patch("/api/contacts/eve", json={"lifecycle_stage": "lead"}))
                profile = ok(api.get("/api/contacts/eve@example.com"))
                assert (profile["contact"]["lifecycle_stage"], profile["company"]["name"]) == ("lead", "Acme Oy")
                found = ok(api.get("/api/contacts", params={"q": "acme", "country": "FI"}))
                assert [c["contact_id"] for c in found["items"]] == ["ann", "cy"]  # eve's email is not at acme
                assert [
                    c["contact_id"] for c in ok(api.get("/api/contacts", params={"company_id": "acme"}))["items"]
                ] == ["ann", "cy", "eve"]
                events = ok(api.get("/api/contacts/ann/events", params={"event": "page_view", "since": "2026-03-02"}))
                assert [e["event_id"] for e in events["items"]] == ["e3", "e2"]
                definition = {"name": "plan-gold", "conditions": [{"field": "plan", "op": "eq", "value": "GOLD"}]}
                ok(api.post("/api/segments", json=definition), 201)
                assert ok(api.get("/api/segments/plan-gold/count"))["count"] == 1
                csv = api.get(
                    "/api/segments/plan-gold/members", params={"fields": "email,company.name", "format": "csv"}
                )
                assert csv.text == "contact_id,email,company.name\neve,eve@example.com,Acme Oy\n"
                why = ok(api.get("/api/segments/plan-gold/explain", params={"contact": "ann"}))
                assert (why["is_member"], why["checks"][1]["seen"]) == (False, "plan = (unset)")
                assert refreshed(api, AS_OF)["result"]["segments"] == [
                    {"segment": "plan-gold", "size": 1, "entered": 1, "exited": 0}
                ]
                deleted = ok(api.delete("/api/contacts/eve"))["deleted"]
                assert deleted["segment_members"] == 1
                assert ok(api.get("/api/segments/plan-gold/count"))["count"] == 0
    finally:
        postgres_server.drop_database(url)
