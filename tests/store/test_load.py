"""Loading rules of DATA.md, on every engine.

Expected values are worked out by hand from the small files written in each
test.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest

from segmint.errors import LoadError
from segmint.store import Store
from segmint.store.load import load_files


def write(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


def rows(store: Store, sql: str) -> list[dict]:
    return store.engine.query(sql).to_pylist()


CONTACTS_CSV = """
contact_id,email,first_name,country,company_id,created_at
c1,Anna.Lindqvist@Botnia.fi,Anna,fi,acme,2024-01-05T10:00:00+02:00
c2,not-an-email,Bo,SE,,2024-01-06
c3,carl@example.se,Carl,Sweden,,2024-01-07
,dora@example.fi,Dora,FI,acme,2024-01-08 12:30
c5,eva@example.fi,,FI,,
"""


def test_load_contacts_loads_good_rows_and_rejects_bad_ones_with_row_and_reason(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "contacts.csv", CONTACTS_CSV)
    summary = load_files(store, "contacts", [path], rejects_dir=tmp_path / "rejects")
    result = summary.files[0]
    assert (result.rows, result.loaded, result.updated, result.unchanged, result.rejected) == (5, 3, 0, 0, 2)
    with open(tmp_path / "rejects" / "contacts.rejects.csv", newline="") as fh:
        rejected = list(csv.DictReader(fh))
    assert [r["row"] for r in rejected] == ["2", "3"]
    assert rejected[0]["reason"].startswith("email: 'not-an-email' is not a valid address")
    assert rejected[1]["reason"].startswith("country: 'Sweden' is not an ISO 3166-1 alpha-2")
    assert rejected[1]["first_name"] == "Carl"  # the row's own cells are kept for fixing
    stored = rows(
        store,
        "SELECT contact_key, contact_id, email, first_name, country, created_at FROM contacts "
        "WHERE email IS NOT NULL ORDER BY contact_id",
    )
    # Dora has no id: her email is the id.  Keys are numbered in id order.
    assert [r["contact_id"] for r in stored] == ["c1", "c5", "dora@example.fi"]
    assert [r["contact_key"] for r in stored] == [1, 2, 3]
    assert stored[0]["email"] == "anna.lindqvist@botnia.fi"
    assert stored[0]["country"] == "FI"
    assert stored[0]["created_at"] == datetime(2024, 1, 5, 8, 0, tzinfo=UTC)
    assert stored[2]["created_at"] == datetime(2024, 1, 8, 12, 30, tzinfo=UTC)
    assert stored[1]["first_name"] is None  # an empty cell is unset, not ''
    # c1 and Dora refer to company acme, which the store did not know: it exists now, once.
    assert summary.created_references == {"companies": 1}
    linked = rows(
        store,
        "SELECT c.contact_id FROM contacts c JOIN companies co ON co.company_key = c.company_key "
        "WHERE co.company_id = 'acme' ORDER BY 1",
    )
    assert [r["contact_id"] for r in linked] == ["c1", "dora@example.fi"]


def _all_entity_files(tmp_path: Path) -> dict[str, Path]:
    return {
        "companies": write(
            tmp_path / "companies.csv",
            """
company_id,name,industry,employees,annual_revenue,country
acme,Acme Hydraulik Ab,manufacturing,120,15000000.5,FI
botnia,Botnia El Oy,energy,8,,FI
""",
        ),
        "contacts": write(
            tmp_path / "contacts.csv",
            """
contact_id,email,first_name,company_id,is_partner
c1,anna@acme.fi,Anna,acme,no
c2,bo@botnia.fi,Bo,botnia,yes
""",
        ),
        "events": write(
            tmp_path / "events.csv",
            """
event_id,contact_id,event,ts,topic,amount
e1,c1,email_click,2024-03-01T10:00:00Z,hydraulics,
e2,c1,purchase,2024-03-02T10:00:00Z,,250.0
,c2,page_view,2024-03-03T08:00:00Z,,
,c2,page_view,2024-03-03T09:00:00Z,,
""",
        ),
        "deals": write(
            tmp_path / "deals.csv",
            """
deal_id,contact_id,company_id,stage,status,amount,created_at
d1,c1,acme,proposal,open,5000,2024-02-01
d2,c2,botnia,closed_won,won,1200,2024-01-15
""",
        ),
        "consents": write(
            tmp_path / "consents.csv",
            """
contact_id,channel,purpose,status,ts,source
c1,email,marketing,granted,2023-01-01T00:00:00Z,form
c1,email,marketing,revoked,2024-05-01T00:00:00Z,unsubscribe
c2,email,newsletter,granted,2023-06-01T00:00:00Z,import
""",
        ),
    }


def _snapshot(store: Store) -> dict[str, list[dict]]:
    return {
        "contacts": rows(
            store,
            "SELECT contact_key, contact_id, email, first_name, company_key, is_partner, updated_at FROM contacts ORDER BY 1",
        ),
        "companies": rows(
            store,
            "SELECT company_key, company_id, name, employees, annual_revenue, updated_at FROM companies ORDER BY 1",
        ),
        "events": rows(store, "SELECT event_id, contact_key, event, ts, topic, amount FROM events ORDER BY event_id"),
        "deals": rows(
            store, "SELECT deal_key, deal_id, contact_key, company_key, status, amount FROM deals ORDER BY 1"
        ),
        "consents": rows(store, "SELECT contact_key, channel, purpose, status, ts FROM consents ORDER BY ts"),
    }


def test_load_every_entity_twice_changes_nothing(store: Store, tmp_path: Path) -> None:
    files = _all_entity_files(tmp_path)
    first = {entity: load_files(store, entity, [path]).files[0] for entity, path in files.items()}
    assert {e: r.loaded for e, r in first.items()} == {
        "companies": 2,
        "contacts": 2,
        "events": 4,
        "deals": 2,
        "consents": 3,
    }
    before = _snapshot(store)
    second = {entity: load_files(store, entity, [path]).files[0] for entity, path in files.items()}
    assert {e: (r.loaded, r.updated) for e, r in second.items()} == {e: (0, 0) for e in files}
    assert {e: r.unchanged for e, r in second.items()} == {
        "companies": 2,
        "contacts": 2,
        "events": 4,
        "deals": 2,
        "consents": 3,
    }
    assert _snapshot(store) == before
    # references resolved to surrogate keys
    assert [(d["deal_id"], d["contact_key"], d["company_key"]) for d in before["deals"]] == [("d1", 1, 1), ("d2", 2, 2)]
    assert before["companies"][0]["annual_revenue"] == 15000000.5
    assert before["contacts"][1]["is_partner"] is True
    # events without an id got one derived from their content: two different ids, stable across loads
    derived = [e["event_id"] for e in before["events"] if e["event_id"] not in ("e1", "e2")]
    assert len(set(derived)) == 2


def test_load_upsert_updates_given_values_and_keeps_the_rest(store: Store, tmp_path: Path) -> None:
    load_files(store, "contacts", [write(tmp_path / "a.csv", "contact_id,first_name,city\nc1,Anna,Vasa\nc2,Bo,Umeå")])
    summary = load_files(
        store,
        "contacts",
        [write(tmp_path / "b.csv", "contact_id,first_name,city\nc1,,Seinäjoki\nc2,Bo,\nc3,Cilla,Oulu")],
    )
    result = summary.files[0]
    assert (result.loaded, result.updated, result.unchanged) == (1, 1, 1)
    stored = rows(store, "SELECT contact_id, first_name, city FROM contacts ORDER BY contact_id")
    assert stored == [
        {"contact_id": "c1", "first_name": "Anna", "city": "Seinäjoki"},
        {"contact_id": "c2", "first_name": "Bo", "city": "Umeå"},
        {"contact_id": "c3", "first_name": "Cilla", "city": "Oulu"},
    ]


def test_load_last_row_of_an_id_in_a_file_wins(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "dupes.csv", "contact_id,city\nc1,Vasa\nc1,Jakobstad")
    result = load_files(store, "contacts", [path]).files[0]
    assert (result.rows, result.loaded) == (2, 1)
    assert rows(store, "SELECT city FROM contacts") == [{"city": "Jakobstad"}]


def test_load_events_deduplicates_repeated_event_ids(store: Store, tmp_path: Path) -> None:
    path = write(
        tmp_path / "events.csv",
        """
event_id,contact_id,event,ts
e1,c1,page_view,2024-03-01T10:00:00Z
e1,c1,page_view,2024-03-01T10:00:00Z
,c1,page_view,2024-03-01T11:00:00Z
,c1,page_view,2024-03-01T11:00:00Z
""",
    )
    result = load_files(store, "events", [path]).files[0]
    # e1 twice is one event; the two identical rows without an id derive the same id: one event
    assert (result.rows, result.loaded, result.rejected) == (4, 2, 0)
    assert store.count("events") == 2


def test_load_timestamps_keep_their_zone_and_naive_ones_are_utc(store: Store, tmp_path: Path) -> None:
    path = write(
        tmp_path / "events.csv",
        """
contact_id,event,ts
c1,a,2024-06-01T12:00:00+03:00
c1,b,2024-06-01 12:00
c1,c,2024-06-01
c1,d,1.6.2024
""",
    )
    result = load_files(store, "events", [path]).files[0]
    assert result.rejected == 1
    assert result.reject_samples == [(4, "ts: '1.6.2024' is not an ISO 8601 timestamp")]
    stored = {r["event"]: r["ts"] for r in rows(store, "SELECT event, ts FROM events")}
    assert stored == {
        "a": datetime(2024, 6, 1, 9, 0, tzinfo=UTC),
        "b": datetime(2024, 6, 1, 12, 0, tzinfo=UTC),
        "c": datetime(2024, 6, 1, 0, 0, tzinfo=UTC),
    }


def test_load_with_a_missing_required_column_stores_nothing(store: Store, tmp_path: Path) -> None:
    if store.engine.name == "spark":
        pytest.skip("Spark tables have no transactions: a multi-file load that fails midway is not rolled back")
    load_files(store, "contacts", [write(tmp_path / "first.csv", "contact_id,city\nc1,Vasa")])
    before = rows(store, "SELECT contact_id, city FROM contacts ORDER BY 1")
    good = write(tmp_path / "good.csv", "contact_id,city\nc1,Oulu\nc2,Umeå")
    no_id = write(tmp_path / "no_id.csv", "first_name,city\nEva,Kokkola")
    with pytest.raises(LoadError, match="needs a contact_id or an email column"):
        load_files(store, "contacts", [good, no_id])
    # good.csv was merged before no_id.csv failed: the whole command is rolled back
    assert rows(store, "SELECT contact_id, city FROM contacts ORDER BY 1") == before


def test_load_custom_properties_get_inferred_types(store: Store, tmp_path: Path) -> None:
    path = write(
        tmp_path / "contacts.csv",
        """
contact_id,customer_number,plan,vip,renewal_at,discount
c1,1001,gold,yes,2025-01-01,0.1
c2,1002,,no,2025-06-30T12:00:00Z,0.25
""",
    )
    summary = load_files(store, "contacts", [path])
    assert {f.name: f.type.value for f in summary.new_fields} == {
        "customer_number": "integer",
        "plan": "string",
        "vip": "boolean",
        "renewal_at": "timestamp",
        "discount": "float",
    }
    registry = store.registry()
    assert registry.get("contact", "vip").origin == "custom"
    stored = rows(store, "SELECT customer_number, plan, vip, renewal_at, discount FROM contacts ORDER BY contact_id")
    assert stored[1] == {
        "customer_number": 1002,
        "plan": None,
        "vip": False,
        "renewal_at": datetime(2025, 6, 30, 12, 0, tzinfo=UTC),
        "discount": 0.25,
    }
    # a later file must fit the type: a non-integer customer number is rejected
    result = load_files(store, "contacts", [write(tmp_path / "more.csv", "contact_id,customer_number\nc3,A-17")]).files[
        0
    ]
    assert result.reject_samples == [(1, "customer_number: 'A-17' is not an integer")]
