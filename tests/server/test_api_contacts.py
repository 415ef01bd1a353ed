"""The REST API's contacts, their events and consents, and its keys: through the app, on a real DuckDB store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_testing import Api, error, load_small_data, ok, paths, refreshed, serve

from segmint.store import open_store


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with open_store(str(tmp_path / "api.duckdb")) as store:
        load_small_data(store)
        with serve(store) as client:
            yield client


def ids(body: dict[str, object], key: str = "contact_id") -> list[str]:
    return [item[key] for item in body["items"]]  # type: ignore[attr-defined, index]


def test_api_every_endpoint_needs_a_key_of_the_right_scope(api: Api) -> None:
    assert api.get("/health", scope=None).status_code == 200
    for method, path in (
        ("GET", "/api/contacts"),
        ("GET", "/api/contacts/ann"),
        ("POST", "/api/contacts"),
        ("GET", "/api/segments"),
        ("POST", "/api/refresh"),
        ("GET", "/api/stats"),
        ("GET", "/api/fields"),
    ):
        error(api.call(method, path, scope=None), 401, "unauthorized")
        error(api.call(method, path, scope=None, headers={"Authorization": "Bearer sm_nope_nope"}), 401)
    # ingest keys are for the tracking API only
    error(api.get("/api/contacts", scope="ingest"), 403, "forbidden")
    # read keys read, and may not change anything
    ok(api.get("/api/contacts", scope="read"))
    error(api.post("/api/contacts", scope="read", json={"contact_id": "x"}), 403, "forbidden")
    error(api.delete("/api/contacts/ann", scope="read"), 403, "forbidden")
    error(api.post("/api/refresh", scope="read"), 403, "forbidden")
    error(api.post("/api/segments", scope="read", json={"name": "x"}), 403, "forbidden")
    # validating a definition changes nothing: a read key may
    valid = {"name": "finns", "conditions": [{"field": "country", "op": "eq", "value": "FI"}]}
    ok(api.post("/api/segments/validate", scope="read", json=valid))
    # HTTP Basic with the key as the user works too (as analytics libraries send write keys)
    assert api.client.get("/api/stats", auth=(api.tokens["read"], "")).status_code == 200


def test_api_contact_create_and_409_when_the_id_exists(api: Api) -> None:
    made = ok(
        api.post(
            "/api/contacts",
            json={
                "contact_id": "eve",
                "email": " Eve@Example.COM ",
                "country": "se",
                "company_id": "acme",
                "is_partner": True,
                "properties": {"plan": "gold", "seats": 3},
            },
        ),
        201,
    )
    contact = made["contact"]
    assert contact["contact_id"] == "eve"
    assert contact["email"] == "eve@example.com"  # stored lower-case, as a load does
    assert contact["country"] == "SE"
    assert contact["company_id"] == "acme"
    assert contact["is_partner"] is True
    assert (contact["plan"], contact["seats"]) == ("gold", 3)
    assert contact["created_at"] is not None  # made now
    assert made["new_fields"] == ["plan", "seats"]
    assert made["created_references"] == {}  # acme exists
    again = error(api.post("/api/contacts", json={"contact_id": "eve"}), 409, "conflict")
    assert paths(again) == {"contact_id"}
    # the new custom property is a field at once: a segment may use it
    fields = ok(api.get("/api/fields?entity=contact&origin=custom"))
    assert [(f["name"], f["type"]) for f in fields["items"]] == [("plan", "string"), ("seats", "integer")]


def test_api_contact_without_an_id_is_its_email_and_an_email_in_use_is_409(api: Api) -> None:
    made = ok(api.post("/api/contacts", json={"email": "New.Person@Example.com", "company_id": "gamma"}), 201)
    assert made["contact"]["contact_id"] == "new.person@example.com"
    assert made["created_references"] == {"companies": 1}  # gamma did not exist: created, as a load does
    assert ok(api.get("/api/companies/gamma"))["contacts"] == 1
    taken = error(api.post("/api/contacts", json={"email": "ANN@acme.fi"}), 409, "conflict")
    assert paths(taken) == {"email"}
    neither = error(api.post("/api/contacts", json={"first_name": "Nobody"}), 422, "validation_error")
    assert paths(neither) == {"contact_id"}


def test_api_contact_rejected_by_the_loaders_rules_is_422_with_every_reason_and_nothing_stored(api: Api) -> None:
    body = error(
        api.post(
            "/api/contacts",
            json={"contact_id": "x", "email": "not-an-email", "country": "Finland", "created_at": "yesterday"},
        ),
        422,
        "validation_error",
    )
    assert paths(body) == {"email", "country", "created_at"}
    by_path = {p["path"]: p["message"] for p in body["errors"]}
    assert by_path["country"] == "'Finland' is not an ISO 3166-1 alpha-2 country code such as FI or SE"
    assert by_path["created_at"] == "'yesterday' is not an ISO 8601 timestamp"
    error(api.get("/api/contacts/x"), 404, "not_found")
    # a custom property keeps its type: a later value that does not fit is rejected at its path
    ok(api.patch("/api/contacts/ann", json={"properties": {"seats": 3}}))
    wrong = error(api.patch("/api/contacts/ann", json={"properties": {"seats": "many"}}), 422)
    assert [(p["path"], p["message"]) for p in wrong["errors"]] == [("properties.seats", "'many' is not an integer")]


def test_api_contact_malformed_requests_are_400_with_the_field_path(api: Api) -> None:
    cases = [
        ({"contact_id": "x", "colour": "red"}, {"colour"}),
        ({"contact_id": "x", "is_partner": "maybe"}, {"is_partner"}),
        ({"contact_id": "x", "properties": {"Bad Name": 1}}, {"properties.Bad Name.[key]"}),
        ({"contact_id": "x" * 201}, {"contact_id"}),
        ({"contact_id": "x\u0000y"}, {"contact_id"}),
        # dates an engine stores but no read could return (Python's years are 1 to 9999)
        ({"contact_id": "x", "created_at": "50000-01-01"}, {"created_at"}),
        ({"contact_id": "x", "created_at": "9999-12-31T23:00:00-05:00"}, {"created_at"}),
        ({"contact_id": "x", "properties": {"renewal": "-0044-03-15"}}, {"properties.renewal"}),
    ]
    for payload, where in cases:
        assert paths(error(api.post("/api/contacts", json=payload), 400, "bad_request")) == where, payload
    nan = api.post(
        "/api/contacts",
        content=b'{"contact_id": "x", "properties": {"score": NaN}}',
        headers={"content-type": "application/json"},
    )
    assert paths(error(nan, 400)) == {"properties.score"}
    surrogate = api.post(
        "/api/contacts",
        content=b'{"contact_id": "x", "properties": {"note": "\\ud800"}}',
        headers={"content-type": "application/json"},
    )
    assert paths(error(surrogate, 400)) == {"properties.note"}  # no engine can store a lone surrogate
    broken = api.post("/api/contacts", content=b'{"contact_id": ', headers={"content-type": "application/json"})
    error(broken, 400, "bad_request")
    clash = error(api.post("/api/contacts", json={"contact_id": "x", "properties": {"email": "a@b.c"}}), 422)
    assert paths(clash) == {"properties.email"}
    error(api.get("/api/contacts/x"), 404)


def test_api_contact_patch_changes_only_the_given_fields(api: Api) -> None:
    changed = ok(api.patch("/api/contacts/ann@acme.fi", json={"last_name": "Lindqvist", "owner": None}))
    assert changed["contact"]["contact_id"] == "ann"
    assert changed["contact"]["last_name"] == "Lindqvist"
    assert changed["contact"]["owner"] == "sara"  # null is "not given": it never erases (DATA.md)
    assert changed["contact"]["first_name"] == "Ann"
    error(api.patch("/api/contacts/nobody", json={"city": "Vasa"}), 404, "not_found")


def test_api_contact_put_creates_then_updates(api: Api) -> None:
    created = api.put("/api/contacts/fay", json={"first_name": "Fay"})
    assert created.status_code == 201
    assert created.json()["created"] is True
    updated = ok(api.put("/api/contacts/fay", json={"city": "Vasa"}))
    assert updated["created"] is False
    assert (updated["contact"]["first_name"], updated["contact"]["city"]) == ("Fay", "Vasa")


def test_api_contact_search_by_text_and_fields_paged(api: Api) -> None:
    assert ids(ok(api.get("/api/contacts"))) == ["ann", "bo", "cy", "dee"]
    assert ids(ok(api.get("/api/contacts", params={"q": "ACME"}))) == ["ann", "cy"]  # their emails
    assert ids(ok(api.get("/api/contacts", params={"q": "ann lind"}))) == ["ann"]  # the full name
    assert ids(ok(api.get("/api/contacts", params={"q": "100%_"}))) == []  # % and _ are plain characters
    assert ids(ok(api.get("/api/contacts", params={"country": "fi"}))) == ["ann", "cy"]
    assert ids(ok(api.get("/api/contacts", params={"company_id": "acme", "lifecycle_stage": "lead"}))) == ["cy"]
    paged = ok(api.get("/api/contacts", params={"owner": "sara", "limit": 1, "offset": 1}))
    assert (ids(paged), paged["total"], paged["limit"], paged["offset"]) == (["bo"], 2, 1, 1)
    assert paths(error(api.get("/api/contacts", params={"limit": 0}), 400)) == {"query.limit"}
    assert paths(error(api.get("/api/contacts", params={"limit": 1001}), 400)) == {"query.limit"}
    assert paths(error(api.get("/api/contacts", params={"offset": -1}), 400)) == {"query.offset"}


def test_api_contact_profile(api: Api) -> None:
    profile = ok(api.get("/api/contacts/ann", params={"events": 2}))
    assert profile["contact"]["email"] == "ann@acme.fi"
    assert profile["company"]["name"] == "Acme Oy"
    assert profile["event_count"] == 4
    assert [e["event"] for e in profile["latest_events"]] == ["purchase", "page_view"]  # newest first
    assert [(c["channel"], c["purpose"], c["status"]) for c in profile["consents"]] == [
        ("email", "marketing", "revoked")
    ]
    assert len(profile["consent_history"]) == 2
    assert profile["segments"] == {"current": [], "changes": []}
    assert "lead_score" in profile["traits"]
    error(api.get("/api/contacts/nobody"), 404, "not_found")


def test_api_contact_event_timeline_newest_first_with_filters(api: Api) -> None:
    events = ok(api.get("/api/contacts/ann/events"))
    assert (ids(events, "event_id"), events["total"]) == (["e4", "e3", "e2", "e1"], 4)
    assert events["items"][0]["amount"] == 200.0
    assert ids(ok(api.get("/api/contacts/ann/events", params={"event": "page_view"})), "event_id") == ["e3", "e2", "e1"]
    window = {"since": "2026-03-02", "until": "2026-03-03T10:00:00Z"}  # both ends inclusive
    assert ids(ok(api.get("/api/contacts/ann/events", params=window)), "event_id") == ["e3", "e2"]
    page = ok(api.get("/api/contacts/ann@acme.fi/events", params={"limit": 1, "offset": 1}))
    assert (ids(page, "event_id"), page["total"]) == (["e3"], 4)
    assert paths(error(api.get("/api/contacts/ann/events", params={"since": "last week"}), 400)) == {"query.since"}
    past_the_end = {"until": "9999-12-31T23:59:59-14:00"}  # in UTC, after the last day of the calendar
    assert paths(error(api.get("/api/contacts/ann/events", params=past_the_end), 400)) == {"query.until"}
    error(api.get("/api/contacts/nobody/events"), 404)


def test_api_consents_recorded_and_read(api: Api) -> None:
    given = ok(
        api.post(
            "/api/consents",
            json={
                "contact_id": "ann",
                "channel": "email",
                "purpose": "marketing",
                "status": "granted",
                "ts": "2026-03-01",
            },
        ),
        201,
    )
    assert given["stored"] is True
    assert [(c["status"], c["source"]) for c in given["consents"]] == [("granted", "api")]
    same = {"contact_id": "ann", "channel": "email", "purpose": "marketing", "status": "granted", "ts": "2026-03-01"}
    assert ok(api.post("/api/consents", json=same), 201)["stored"] is False  # the same record is stored once
    bad = error(api.post("/api/consents", json={**same, "channel": "fax", "status": "maybe"}), 422)
    assert paths(bad) == {"channel", "status"}
    assert paths(error(api.post("/api/consents", json={"contact_id": "ann"}), 400)) == {"channel", "status"}
    consents = ok(api.get("/api/contacts/ann/consents"))
    assert [c["status"] for c in consents["consents"]] == ["granted"]
    assert [c["status"] for c in consents["history"]] == ["granted", "revoked", "granted"]  # newest first
    error(api.get("/api/contacts/nobody/consents"), 404)


def test_api_contact_delete_takes_its_events_consents_and_memberships(api: Api) -> None:
    ok(
        api.post("/api/segments", json={"name": "everyone", "conditions": [{"field": "contact_id", "op": "is_set"}]}),
        201,
    )
    ok(api.post("/api/segments", json={"name": "vip", "kind": "static", "members": ["dee", "ann"]}), 201)
    ok(api.post("/api/deals", json={"deal_id": "d1", "contact_id": "dee", "amount": 50}), 201)
    assert refreshed(api)["status"] == "done"
    assert [s["segment"] for s in ok(api.get("/api/contacts/dee"))["segments"]["current"]] == ["everyone", "vip"]
    deleted = ok(api.delete("/api/contacts/dee@example.com"))["deleted"]
    assert deleted["contact_id"] == "dee"
    assert deleted["static_segments"] == ["vip"]
    assert (deleted["events"], deleted["consents"], deleted["deals_unlinked"]) == (0, 0, 1)
    assert (deleted["segment_members"], deleted["segment_static_members"], deleted["segment_changes"]) == (1, 1, 1)
    error(api.get("/api/contacts/dee"), 404)
    error(api.delete("/api/contacts/dee"), 404)
    assert ok(api.get("/api/deals/d1"))["deal"]["contact_id"] is None
    # dee had the largest key: the next contact gets it, and must not inherit dee's segments or traits
    ok(api.post("/api/contacts", json={"contact_id": "gus"}), 201)
    gus = ok(api.get("/api/contacts/gus"))
    assert gus["segments"] == {"current": [], "changes": []}
    assert gus["traits"]["lead_score"] is None
    gone = ok(api.delete("/api/contacts/ann"))["deleted"]
    assert (gone["events"], gone["consents"]) == (4, 2)
    assert ok(api.get("/api/segments/vip"))["segment"]["definition"]["members"] == []
