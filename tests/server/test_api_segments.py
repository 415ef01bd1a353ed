"""The REST API's segments: definitions, members, explanations, SQL, diff and history, on a real DuckDB store.

Expected members are worked out by hand from ``load_small_data`` (see its docstring).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_testing import AS_OF, Api, error, load_small_data, ok, paths, refreshed, serve

from segmint.store import open_store

FINNS = {"name": "finns", "title": "In Finland", "conditions": [{"field": "country", "op": "eq", "value": "FI"}]}
LOOKERS = {
    "name": "pricing-lookers",
    "conditions": [
        {
            "event": "page_view",
            "where": [{"field": "url", "op": "contains", "value": "/pricing"}],
            "within": "30d",
            "count": {"op": "gte", "value": 3},
        }
    ],
}
BOTH = {"name": "finnish-lookers", "conditions": [{"segment": "finns"}, {"segment": "pricing-lookers"}]}
BIG_COMPANIES = {
    "name": "big-companies",
    "entity": "company",
    "conditions": [{"field": "employees", "op": "gte", "value": 100}],
}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with open_store(str(tmp_path / "segments.duckdb")) as store:
        load_small_data(store)
        with serve(store) as client:
            for definition in (FINNS, LOOKERS, BOTH, BIG_COMPANIES):
                ok(client.post("/api/segments", json=definition), 201)
            yield client


def member_ids(body: dict[str, Any], key: str = "contact_id") -> list[str]:
    return [item[key] for item in body["items"]]


def test_api_segment_validate_reports_every_problem_at_its_path(api: Api) -> None:
    bad = {
        "name": "broken",
        "conditions": [
            {"field": "contry", "op": "eq", "value": "FI"},
            {"field": "country", "op": "eqq", "value": "FI"},
            {"segment": "finn"},
        ],
    }
    body = error(api.post("/api/segments/validate", json=bad), 422, "validation_error")
    by_path = {p["path"]: p for p in body["errors"]}
    assert set(by_path) == {"conditions[0].field", "conditions[1].op", "conditions[2].segment"}
    assert "country" in by_path["conditions[0].field"]["suggestions"]
    assert "eq" in by_path["conditions[1].op"]["suggestions"]
    assert by_path["conditions[2].segment"]["suggestions"] == ["finns"]
    good = ok(
        api.post(
            "/api/segments/validate",
            json={"yaml": "name: swedes\nconditions:\n  - {field: country, op: eq, value: SE}\n"},
        )
    )
    assert (good["name"], good["explanation"], good["exists"]) == ("swedes", "Contacts whose country is SE", False)
    assert ok(api.post("/api/segments/validate", json=FINNS))["exists"] is True
    assert paths(error(api.post("/api/segments/validate", json={"yaml": 5}), 422)) == {"yaml"}
    endless = {"name": "ages", "conditions": [{"event": "purchase", "within": "1000000d"}]}  # 2,700 years back
    assert paths(error(api.post("/api/segments", json=endless), 422, "validation_error")) == {"conditions"}
    error(api.post("/api/segments/validate", json={"yaml": "name: [unclosed"}), 422, "validation_error")
    error(api.post("/api/segments/validate", json=[1, 2]), 400, "bad_request")
    unstorable = (
        b'{"name": "x", "title": "a\\u0000b", "conditions": [{"field": "country", "op": "eq", "value": "\\ud800"}]}'
    )
    sent = api.post("/api/segments", content=unstorable, headers={"content-type": "application/json"})
    body = error(sent, 400, "usage_error")
    assert paths(body) == {"title", "conditions[0].value"}
    error(api.get("/api/segments/x"), 404)


def test_api_segment_documents_too_deep_or_too_big_to_read_are_400(api: Api) -> None:
    deep: dict[str, Any] = {"field": "country", "op": "is_set"}
    for _ in range(120):
        deep = {"not": deep}
    too_deep = error(api.post("/api/segments/validate", json={"name": "deep", "conditions": [deep]}), 400)
    assert too_deep["error"] == "the document is too large to read: nesting deeper than 100"
    nested_yaml = "name: deep\nconditions: " + "[" * 500 + "]" * 500
    assert paths(error(api.post("/api/segments/validate", json={"yaml": nested_yaml}), 400)) == {"yaml"}
    # aliases make a short text a document of 10**6 values
    laughs = "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}' if i else 'ha'] * 10)}]\n" for i in range(6))
    error(api.post("/api/segments/validate", json={"yaml": laughs}), 400, "usage_error")
    shallow: dict[str, Any] = {"field": "country", "op": "eq", "value": "FI"}
    for _ in range(20):
        shallow = {"not": {"not": shallow}}
    ok(api.post("/api/segments", json={"name": "double-negatives", "conditions": [shallow]}), 201)
    assert ok(api.get("/api/segments/double-negatives/count"))["count"] == 2  # the finns


def test_api_segment_create_update_delete_all_or_nothing(api: Api) -> None:
    assert paths(error(api.post("/api/segments", json=FINNS), 409, "conflict")) == {"name"}
    invalid = {
        "name": "half",
        "conditions": [{"field": "country", "op": "eq", "value": "FI"}, {"field": "nope", "op": "is_set"}],
    }
    error(api.post("/api/segments", json=invalid), 422)
    error(api.get("/api/segments/half"), 404, "not_found")  # nothing was stored
    # update: the path names the segment; a definition without a name takes it
    changed = ok(
        api.put("/api/segments/finns", json={"conditions": [{"field": "country", "op": "in", "value": ["FI", "SE"]}]})
    )
    assert changed["changed"] is True
    assert changed["segment"]["explanation"] == "Contacts whose country is one of FI, SE"
    assert ok(api.get("/api/segments/finns/count"))["count"] == 3
    assert ok(api.put("/api/segments/finns", json=changed["segment"]["definition"]))["changed"] is False
    error(api.put("/api/segments/finns", json={"conditions": [{"field": "nope", "op": "is_set"}]}), 422)
    assert ok(api.get("/api/segments/finns/count"))["count"] == 3  # the invalid update changed nothing
    assert paths(error(api.put("/api/segments/finns", json={**FINNS, "name": "other"}), 400, "usage_error")) == {"name"}
    error(api.put("/api/segments/nope", json=FINNS), 404)
    error(api.put("/api/segments/Not_A_Name", json=FINNS), 400)
    # deleting a segment another one uses is a conflict; then in order it works
    used = error(api.delete("/api/segments/finns"), 409, "conflict")
    assert paths(used) == {"finnish-lookers.conditions"}
    assert ok(api.delete("/api/segments/finnish-lookers"))["deleted"] == "finnish-lookers"
    ok(api.delete("/api/segments/finns"))
    error(api.delete("/api/segments/finns"), 404)


def test_api_segment_list_and_page_after_a_refresh(api: Api) -> None:
    before = ok(api.get("/api/segments"))
    assert [s["name"] for s in before["items"]] == ["big-companies", "finnish-lookers", "finns", "pricing-lookers"]
    assert {s["members"] for s in before["items"]} == {None}  # never refreshed
    assert [s["name"] for s in ok(api.get("/api/segments", params={"entity": "company"}))["items"]] == ["big-companies"]
    assert refreshed(api)["status"] == "done"
    sizes = {s["name"]: s["members"] for s in ok(api.get("/api/segments"))["items"]}
    assert sizes == {"big-companies": 1, "finnish-lookers": 1, "finns": 2, "pricing-lookers": 1}
    page = ok(api.get("/api/segments/finns"))["segment"]
    assert (page["title"], page["explanation"], page["members"]) == ("In Finland", "Contacts whose country is FI", 2)
    assert (page["uses"], page["used_by"]) == ([], ["finnish-lookers"])
    assert page["definition"]["conditions"] == FINNS["conditions"]
    assert ok(api.get("/api/segments/finnish-lookers"))["segment"]["uses"] == ["finns", "pricing-lookers"]
    profile = ok(api.get("/api/contacts/ann"))
    assert [s["segment"] for s in profile["segments"]["current"]] == ["finnish-lookers", "finns", "pricing-lookers"]


def test_api_segment_count_preview_and_members_at_as_of(api: Api) -> None:
    assert ok(api.get("/api/segments/finns/count"))["count"] == 2
    assert ok(api.get("/api/segments/pricing-lookers/count", params={"as_of": AS_OF}))["count"] == 1
    # 30 days after ann's last view of /pricing (2026-03-03) the window has passed
    assert ok(api.get("/api/segments/pricing-lookers/count", params={"as_of": "2026-04-03T10:00:01Z"}))["count"] == 0
    assert paths(error(api.get("/api/segments/finns/count", params={"as_of": "soon"}), 400)) == {"query.as_of"}
    # 30 days before the year 1 is no date: the client's as_of, so a 422 at it (not a server error)
    early = error(api.get("/api/segments/pricing-lookers/count", params={"as_of": "0001-01-02"}), 422)
    assert paths(early) == {"query.as_of"}
    error(api.get("/api/segments/nope/count"), 404)
    members = ok(api.get("/api/segments/finns/members", params={"fields": "email,company.name"}))
    assert members["items"] == [
        {"contact_id": "ann", "email": "ann@acme.fi", "company.name": "Acme Oy"},
        {"contact_id": "cy", "email": "cy@acme.fi", "company.name": "Acme Oy"},
    ]
    page = ok(api.get("/api/segments/finns/members", params={"limit": 1, "offset": 1}))
    assert (page["items"], page["total"]) == ([{"contact_id": "cy"}], 2)
    unknown = error(api.get("/api/segments/finns/members", params={"fields": "email,company.nme"}), 422)
    assert paths(unknown) == {"query.fields.company.nme"}
    assert "company.name" in unknown["errors"][0]["suggestions"]
    csv = api.get("/api/segments/finns/members", params={"fields": "email,lifecycle_stage", "format": "csv"})
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.headers["content-disposition"] == 'attachment; filename="finns.csv"'
    assert csv.text == "contact_id,email,lifecycle_stage\nann,ann@acme.fi,customer\ncy,cy@acme.fi,lead\n"
    assert paths(error(api.get("/api/segments/finns/members", params={"format": "xml"}), 400)) == {"query.format"}
    preview = ok(api.get("/api/segments/finns/preview", params={"sample": 5}))
    assert (preview["count"], preview["fields"]) == (2, ["email", "first_name", "last_name", "company.name"])
    assert sorted(m["contact_id"] for m in preview["sample"]) == ["ann", "cy"]
    assert {m["company.name"] for m in preview["sample"]} == {"Acme Oy"}
    one = ok(api.get("/api/segments/finns/preview", params={"sample": 1, "fields": "city"}))
    assert (one["count"], len(one["sample"]), set(one["sample"][0])) == (2, 1, {"contact_id", "city"})
    companies = ok(api.get("/api/segments/big-companies/members", params={"fields": "name"}))
    assert companies["items"] == [{"company_id": "acme", "name": "Acme Oy"}]


def test_api_segment_explain_in_words_and_for_one_member(api: Api) -> None:
    assert ok(api.get("/api/segments/finns/explain"))["explanation"] == "Contacts whose country is FI"
    why = ok(api.get("/api/segments/pricing-lookers/explain", params={"contact": "bo@beta.se", "as_of": AS_OF}))
    assert (why["member"], why["is_member"]) == ("bo@beta.se", False)
    assert [(c["depth"], c["holds"]) for c in why["checks"]] == [(0, False), (1, False)]
    assert "matching events: 1" in why["checks"][1]["seen"]
    yes = ok(api.get("/api/segments/pricing-lookers/explain", params={"contact": "ann", "as_of": AS_OF}))
    assert yes["is_member"] is True
    assert "matching events: 3" in yes["checks"][1]["seen"]
    error(api.get("/api/segments/finns/explain", params={"contact": "nobody"}), 404)
    wrong = error(api.get("/api/segments/finns/explain", params={"company": "acme"}), 400)
    assert paths(wrong) == {"query.company"}
    company = ok(api.get("/api/segments/big-companies/explain", params={"company": "acme"}))
    assert company["is_member"] is True
    assert company["checks"][1]["seen"] == "employees = 120"


def test_api_segment_sql_for_each_engine(api: Api) -> None:
    for engine in ("duckdb", "postgres", "spark"):
        body = ok(api.get("/api/segments/pricing-lookers/sql", params={"engine": engine, "as_of": AS_OF}))
        assert body["engine"] == engine
        assert body["sql"].startswith("WITH ev AS (")
        assert "2026-02-08 12:00:00" in body["sql"]  # as_of - 30d, computed in Python, a literal in the SQL
    assert paths(error(api.get("/api/segments/finns/sql", params={"engine": "oracle"}), 400)) == {"query.engine"}


def test_api_segment_diff_is_a_dry_run(api: Api) -> None:
    wider = {
        "name": "finns",
        "match": "any",
        "conditions": [*FINNS["conditions"], {"field": "country", "op": "eq", "value": "SE"}],
    }
    diff = ok(api.post("/api/segments/diff", json=wider, scope="read"))
    assert (diff["exists"], diff["before"], diff["after"]) == (True, 2, 3)
    assert (diff["entering"], diff["leaving"], diff["entering_count"]) == (["bo"], [], 1)
    assert ok(api.get("/api/segments/finns/count"))["count"] == 2  # nothing changed
    narrower = {
        "name": "finns",
        "conditions": [*FINNS["conditions"], {"field": "lifecycle_stage", "op": "eq", "value": "lead"}],
    }
    assert ok(api.post("/api/segments/diff", json=narrower))["leaving"] == ["ann"]
    new = ok(api.post("/api/segments/diff", json={**FINNS, "name": "brand-new"}, params={"limit": 1}))
    assert (new["exists"], new["before"], new["entering"], new["entering_count"]) == (False, 0, ["ann"], 2)
    error(api.post("/api/segments/diff", json={"name": "x", "conditions": [{"field": "nope", "op": "is_set"}]}), 422)


def test_api_segment_history_of_refreshes(api: Api) -> None:
    assert ok(api.get("/api/segments/pricing-lookers/history"))["items"] == []
    assert refreshed(api, AS_OF)["status"] == "done"
    assert refreshed(api, "2026-04-10T00:00:00Z")["status"] == "done"
    history = ok(api.get("/api/segments/pricing-lookers/history"))
    rows = [(r["as_of"], r["size"], r["entered"], r["exited"]) for r in history["items"]]
    assert rows == [("2026-03-10T12:00:00Z", 1, 1, 0), ("2026-04-10T00:00:00Z", 0, 0, 1)]
    error(api.get("/api/segments/nope/history"), 404)


def test_api_static_members_and_snapshot(api: Api) -> None:
    ok(api.post("/api/segments", json={"name": "vip", "kind": "static", "members": ["bo"]}), 201)
    assert ok(api.post("/api/segments/vip/members", json={"add": ["cy"], "remove": ["bo"]}))["members"] == 1
    assert ok(api.get("/api/segments/vip"))["segment"]["definition"]["members"] == ["cy"]
    assert member_ids(ok(api.get("/api/segments/vip/members"))) == ["cy"]
    unknown = error(api.post("/api/segments/vip/members", json={"add": ["ghost"]}), 422)
    assert paths(unknown) == {"vip.members"}
    error(api.post("/api/segments/finns/members", json={"add": ["bo"]}), 409, "conflict")  # dynamic
    error(api.post("/api/segments/nope/members", json={"add": ["bo"]}), 404)
    static = ok(api.get("/api/segments/vip/explain", params={"contact": "cy"}))
    assert (static["is_member"], static["checks"]) == (True, [])
    frozen = ok(api.post("/api/segments/frozen/snapshot", json={"from": "pricing-lookers", "as_of": AS_OF}))
    assert frozen["members"] == 1
    assert ok(api.get("/api/segments/frozen"))["segment"]["kind"] == "static"
    assert member_ids(ok(api.get("/api/segments/frozen/members"))) == ["ann"]  # stays, whatever the date
    error(api.post("/api/segments/finns/snapshot", json={"from": "pricing-lookers"}), 409)
    error(api.post("/api/segments/frozen/snapshot", json={"from": "nope"}), 404)
