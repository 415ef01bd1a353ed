"""CSV, JSON Lines and Parquet read the same; mappings make other tools' exports load."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmint.errors import LoadError, MappingError
from segmint.store import Store
from segmint.store.load import load_files, read_mapping

FIXTURES = Path(__file__).parent.parent / "fixtures"

EVENTS = [
    {
        "event_id": "e1",
        "contact_id": "c1",
        "event": "email_click",
        "ts": "2024-03-01T10:00:00Z",
        "properties": {"topic": "hydraulics", "link_url": "https://example.fi/h", "campaign": {"name": "spring"}},
    },
    {
        "event_id": "e2",
        "contact_id": "c1",
        "event": "purchase",
        "ts": "2024-02-01T10:00:00Z",
        "properties": {"amount": 99.5, "order_id": "o1"},
    },
    {
        "event_id": "e3",
        "contact_id": "c2",
        "event": "email_open",
        "ts": "2024-01-01T00:00:00Z",
        "properties": {"machine_open": True, "user_agent": "GoogleImageProxy"},
    },
]


def rows(store: Store, sql: str) -> list[dict]:
    return store.engine.query(sql).to_pylist()


def test_load_jsonl_lifts_known_properties_into_columns(duckdb_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in EVENTS) + "\n")
    result = load_files(duckdb_store, "events", [path]).files[0]
    assert (result.loaded, result.rejected) == (3, 0)
    stored = {r["event_id"]: r for r in rows(duckdb_store, "SELECT * FROM events")}
    assert stored["e1"]["topic"] == "hydraulics"
    assert stored["e1"]["link_url"] == "https://example.fi/h"
    assert json.loads(stored["e1"]["properties"]) == {"campaign": {"name": "spring"}}
    assert stored["e2"]["amount"] == 99.5
    assert stored["e3"]["machine_open"] is True
    assert json.loads(stored["e3"]["properties"]) == {"user_agent": "GoogleImageProxy"}


def test_load_events_are_stored_in_time_order(duckdb_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in EVENTS) + "\n")
    load_files(duckdb_store, "events", [path])
    # DuckDB keeps insertion order: a plain scan shows the physical order
    assert [r["event_id"] for r in rows(duckdb_store, "SELECT event_id FROM events")] == ["e3", "e2", "e1"]


def test_load_parquet_with_typed_columns(duckdb_store: Store, tmp_path: Path) -> None:
    table = pa.table(
        {
            "contact_id": ["c1", "c2", None],
            "event": ["page_view", "purchase", "page_view"],
            "ts": pa.array(
                [datetime(2024, 5, 1, 12, 0), datetime(2024, 5, 2, 12, 0), datetime(2024, 5, 3)], pa.timestamp("us")
            ),
            "url": ["/pricing", None, "/blog"],
            "amount": [None, 120.0, None],
            "utm_source": ["google", None, None],
            "session_length": [31, None, 4],
        }
    )
    path = tmp_path / "events.parquet"
    pq.write_table(table, path)
    result = load_files(duckdb_store, "events", [path]).files[0]
    assert (result.loaded, result.rejected) == (2, 1)
    assert result.reject_samples == [(3, "contact_id: missing (and no anonymous_id)")]
    stored = rows(duckdb_store, "SELECT event, ts, url, amount, utm_source, properties FROM events ORDER BY ts")
    # a naive Parquet timestamp is UTC
    assert stored[0]["ts"] == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert stored[0]["url"] == "/pricing"
    assert json.loads(stored[0]["properties"]) == {"session_length": 31}
    assert stored[1]["amount"] == 120.0
    assert stored[1]["properties"] is None


def test_load_same_contacts_from_csv_jsonl_and_parquet_agree(tmp_path: Path, duckdb_store_factory) -> None:
    records = [
        {"contact_id": "c1", "email": "a@x.fi", "employees_band": "50-199", "created_at": "2024-01-01T00:00:00Z"},
        {"contact_id": "c2", "email": "b@x.fi", "employees_band": None, "created_at": "2024-02-01T08:30:00+02:00"},
    ]
    (tmp_path / "c.csv").write_text(
        "contact_id,email,employees_band,created_at\n"
        "c1,a@x.fi,50-199,2024-01-01T00:00:00Z\nc2,b@x.fi,,2024-02-01T08:30:00+02:00\n"
    )
    (tmp_path / "c.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    pq.write_table(pa.Table.from_pylist(records), tmp_path / "c.parquet")
    seen = []
    for name in ("c.csv", "c.jsonl", "c.parquet"):
        store = duckdb_store_factory(name)
        load_files(store, "contacts", [tmp_path / name])
        seen.append(rows(store, "SELECT contact_id, email, employees_band, created_at FROM contacts ORDER BY 1"))
    assert seen[0] == seen[1] == seen[2]
    assert seen[0][1]["created_at"] == datetime(2024, 2, 1, 6, 30, tzinfo=UTC)


def test_load_format_option_overrides_the_extension(duckdb_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "export.txt"
    path.write_text("contact_id,city\nc1,Vasa\n")
    with pytest.raises(LoadError, match="cannot tell the format"):
        load_files(duckdb_store, "contacts", [path])
    assert load_files(duckdb_store, "contacts", [path], fmt="csv").files[0].loaded == 1


def test_load_hubspot_export_with_the_shipped_mapping(duckdb_store: Store, tmp_path: Path) -> None:
    from segmint.cli.data import resolve_mapping

    mapping = resolve_mapping("hubspot-contacts", "contacts")
    result = load_files(
        duckdb_store, "contacts", [FIXTURES / "hubspot-contacts.csv"], mapping=mapping, rejects_dir=tmp_path
    ).files[0]
    # 103 has a broken email, 104 a date not in HubSpot's format
    assert (result.loaded, result.rejected) == (2, 2)
    assert [row for row, _ in result.reject_samples] == [3, 4]
    assert "created_at: '10/01/2024' is not a timestamp in the format %Y-%m-%d %H:%M" in result.reject_samples[1][1]
    stored = {r["contact_id"]: r for r in rows(duckdb_store, "SELECT * FROM contacts WHERE email IS NOT NULL")}
    anna = stored["101"]
    assert (anna["email"], anna["lifecycle_stage"], anna["country"], anna["language"], anna["source"]) == (
        "anna.lindqvist@botnia-hydraulik.fi",
        "mql",
        "FI",
        "sv",
        "organic",
    )
    assert anna["created_at"] == datetime(2024, 3, 5, 9, 15, tzinfo=UTC)
    assert anna["job_title"] == "Ekonomichef"
    jari = stored["102"]
    assert (jari["lifecycle_stage"], jari["country"], jari["language"], jari["source"]) == (
        "customer",
        "FI",
        "fi",
        "referral",
    )
    assert "company_name" not in duckdb_store.engine.table_columns("contacts")  # ignored, not a custom property
    assert sorted(r["company_id"] for r in rows(duckdb_store, "SELECT company_id FROM companies")) == ["9001", "9002"]


def test_load_mailchimp_export_with_the_shipped_mapping(duckdb_store: Store, tmp_path: Path) -> None:
    from segmint.cli.data import resolve_mapping

    mapping = resolve_mapping("mailchimp-audience", "contacts")
    result = load_files(
        duckdb_store, "contacts", [FIXTURES / "mailchimp-audience.csv"], mapping=mapping, rejects_dir=tmp_path
    ).files[0]
    assert (result.loaded, result.rejected) == (2, 1)
    stored = rows(
        duckdb_store,
        "SELECT contact_id, source, lifecycle_stage, country, region, member_rating, "
        "mailchimp_tags, created_at FROM contacts ORDER BY contact_id",
    )
    assert stored[1] == {
        "contact_id": "sara.nyman@gmail.com",
        "source": "mailchimp",
        "lifecycle_stage": "subscriber",
        "country": "FI",
        "region": "Ostrobothnia",
        "member_rating": 4,
        "mailchimp_tags": "fishing,camping",
        "created_at": datetime(2022, 5, 1, 10, 5, tzinfo=UTC),
    }
    assert duckdb_store.registry().get("contact", "member_rating").type.value == "integer"


def test_mapping_errors_name_the_key_and_suggest(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("entity: contact\ncolums:\n  Email: email\ntimezone: Mars/Olympus\n")
    with pytest.raises(MappingError) as caught:
        read_mapping(path)
    problems = {p.path: p for p in caught.value.problems}
    assert set(problems) == {"entity", "colums", "timezone"}
    assert problems["colums"].suggestions == ["columns"]
    assert "unknown time zone 'Mars/Olympus'" in problems["timezone"].message


def test_mapping_value_maps_and_timezone(duckdb_store: Store, tmp_path: Path) -> None:
    mapping_path = tmp_path / "m.yaml"
    mapping_path.write_text(
        "columns: {Kund: contact_id, Skapad: created_at, Fas: lifecycle_stage}\n"
        "values: {lifecycle_stage: {Kund: customer, 'Möjlig kund': lead}}\n"
        "constants: {country: FI}\n"
        "date_formats: {created_at: '%d.%m.%Y %H:%M'}\n"
        "timezone: Europe/Helsinki\n"
    )
    data = tmp_path / "crm.csv"
    data.write_text("Kund,Skapad,Fas\nk1,01.06.2024 12:00,kund\nk2,15.01.2024 08:00,Möjlig kund\n")
    mapping = read_mapping(mapping_path)
    load_files(duckdb_store, "contacts", [data], mapping=mapping)
    stored = rows(duckdb_store, "SELECT contact_id, created_at, lifecycle_stage, country FROM contacts ORDER BY 1")
    # Helsinki is UTC+3 in June (summer time) and UTC+2 in January
    assert stored == [
        {
            "contact_id": "k1",
            "created_at": datetime(2024, 6, 1, 9, 0, tzinfo=UTC),
            "lifecycle_stage": "customer",
            "country": "FI",
        },
        {
            "contact_id": "k2",
            "created_at": datetime(2024, 1, 15, 6, 0, tzinfo=UTC),
            "lifecycle_stage": "lead",
            "country": "FI",
        },
    ]


def test_load_jsonl_keeps_a_property_given_at_the_top_in_one_row_and_nested_in_another(
    duckdb_store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(
        '{"event_id": "q1", "contact_id": "c1", "event": "purchase", "ts": "2024-01-01T00:00:00Z", "quantity": 9}\n'
        '{"event_id": "q2", "contact_id": "c1", "event": "purchase", "ts": "2024-01-02T00:00:00Z",'
        ' "properties": {"quantity": 10, "note": null}}\n'
    )
    load_files(duckdb_store, "events", [path])
    stored = {r["event_id"]: json.loads(r["properties"]) for r in rows(duckdb_store, "SELECT * FROM events")}
    assert stored == {"q1": {"quantity": 9}, "q2": {"quantity": 10}}
