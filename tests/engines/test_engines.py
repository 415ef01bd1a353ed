"""Every engine keeps the same schema, loads Arrow faithfully and merges rows the same way."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pyarrow as pa
import pytest

from segmint.engines.base import Engine
from segmint.errors import StoreError
from segmint.model.tables import API_KEYS, CONTACTS, DATA_TABLES, EVENTS, FIELDS, MIGRATIONS, SEGMENT_TABLES, Column
from segmint.model.types import FieldType
from segmint.store import Store, open_store
from segmint.store.migrations import SCHEMA_VERSION, migrate

UTC_US = pa.timestamp("us", tz="UTC")
T0 = datetime(2024, 1, 1, tzinfo=UTC)  # when the stored rows were last changed
T1 = datetime(2024, 6, 1, 12, 30, tzinfo=UTC)  # the load under test


def rows(engine: Engine, sql: str) -> list[dict]:
    return engine.query(sql).to_pylist()


def contacts_by_id(engine: Engine) -> dict[str, dict]:
    q = engine.quote
    found = rows(engine, f"SELECT * FROM {q('contacts')} ORDER BY {q('contact_key')}")
    return {r["contact_id"]: r for r in found}


def stage_contacts(engine: Engine, name: str, data: pa.Table) -> None:
    """A temporary staging table of the given contact columns, holding ``data``."""
    engine.create_table(CONTACTS, name=name, temporary=True, columns=[CONTACTS.column(c) for c in data.column_names])
    engine.load_arrow(name, data)


def stored_contacts(engine: Engine) -> None:
    """Three stored contacts, keys 1..3, last changed at T0."""
    engine.load_arrow(
        "contacts",
        pa.table(
            {
                "contact_key": pa.array([1, 2, 3], pa.int64()),
                "contact_id": ["a", "b", "c"],
                "email": ["a@x.fi", "b@x.fi", None],
                "first_name": ["Anna", "Bo", "Cia"],
                "city": ["Turku", None, "Oulu"],
                "updated_at": pa.array([T0] * 3, UTC_US),
            }
        ),
    )


# ---- schema and migrations -----------------------------------------------------------------


def test_schema_has_every_table_and_column(store: Store) -> None:
    for table in (*DATA_TABLES, FIELDS, MIGRATIONS):
        assert store.engine.table_exists(table.name), table.name
        assert store.engine.table_columns(table.name) == table.column_names, table.name
    assert not store.engine.table_exists("no_such_table")
    assert store.engine.table_columns("no_such_table") == []


def test_schema_tables_are_empty_when_new(store: Store) -> None:
    for table in DATA_TABLES:
        assert store.count(table.name) == 0, table.name


def test_migrations_apply_once(store_url: str) -> None:
    with open_store(store_url) as first:
        recorded = rows(first.engine, "SELECT version FROM segmint_migrations")
    with open_store(store_url) as second:
        assert migrate(second.engine) == []
        again = rows(second.engine, "SELECT version, name, applied_at FROM segmint_migrations")
        assert second.engine.table_columns("contacts") == CONTACTS.column_names
    assert sorted(r["version"] for r in recorded) == [1, 2, 3, 4]
    assert sorted(r["version"] for r in again) == [1, 2, 3, 4]
    assert SCHEMA_VERSION == 4
    assert again[0]["applied_at"].tzinfo is not None


def test_store_reopened_keeps_rows_and_custom_columns(store_url: str) -> None:
    with open_store(store_url) as first:
        first.engine.add_column("contacts", Column("plan", FieldType.STRING, "Subscription plan"))
        first.engine.load_arrow(
            "contacts", pa.table({"contact_key": pa.array([1], pa.int64()), "contact_id": ["a"], "plan": ["gold"]})
        )
    with open_store(store_url) as second:
        assert rows(second.engine, "SELECT contact_id, plan FROM contacts") == [{"contact_id": "a", "plan": "gold"}]


# ---- loading Arrow -------------------------------------------------------------------------


def test_load_arrow_keeps_nulls_apart_from_empty_strings(store: Store) -> None:
    store.engine.load_arrow(
        "contacts",
        pa.table(
            {
                "contact_key": pa.array([1, 2, 3], pa.int64()),
                "contact_id": ["a", "b", "c"],
                "first_name": ["", None, 'quote " comma, new\nline'],
            }
        ),
    )
    got = {r["contact_id"]: r["first_name"] for r in rows(store.engine, "SELECT contact_id, first_name FROM contacts")}
    assert got == {"a": "", "b": None, "c": 'quote " comma, new\nline'}
    assert store.engine.scalar("SELECT COUNT(*) FROM contacts WHERE first_name IS NULL") == 1
    assert store.engine.scalar("SELECT COUNT(*) FROM contacts WHERE first_name = ''") == 1


def test_load_arrow_keeps_the_instant_of_zoned_timestamps(store: Store) -> None:
    helsinki_summer = timezone(timedelta(hours=2))
    store.engine.load_arrow(
        "events",
        pa.table(
            {
                "event_id": ["e1", "e2", "e3"],
                # 12:00 at +02:00 is 10:00 UTC; microseconds survive
                "ts": pa.array(
                    [
                        datetime(2024, 3, 1, 12, 0, 0, 250, tzinfo=helsinki_summer),
                        datetime(2024, 3, 1, 23, 30, tzinfo=UTC),
                        None,
                    ],
                    pa.timestamp("us", tz="+02:00"),
                ),
            }
        ),
    )
    table = store.engine.query("SELECT event_id, ts FROM events ORDER BY event_id")
    assert table.schema.field("ts").type == UTC_US
    assert table.column("ts").to_pylist() == [
        datetime(2024, 3, 1, 10, 0, 0, 250, tzinfo=UTC),
        datetime(2024, 3, 1, 23, 30, tzinfo=UTC),
        None,
    ]


def test_load_arrow_keeps_booleans_floats_and_json(store: Store) -> None:
    properties = ['{"plan": "gold", "seats": 3, "tags": ["a", "b"]}', None, "{}", '"just text"']
    store.engine.load_arrow(
        "events",
        pa.table(
            {
                "event_id": ["e1", "e2", "e3", "e4"],
                "machine_open": [True, False, None, True],
                "amount": [0.1 + 0.2, None, -1.5e300, float("inf")],
                "price": pa.array([1, 2, None, -3], pa.int64()),  # integers into a float column
                "properties": properties,
            }
        ),
    )
    table = store.engine.query("SELECT event_id, machine_open, amount, price, properties FROM events ORDER BY event_id")
    assert table.schema.field("machine_open").type == pa.bool_()
    assert table.schema.field("amount").type == pa.float64()
    got = table.to_pylist()
    assert [r["machine_open"] for r in got] == [True, False, None, True]
    assert [r["amount"] for r in got] == [0.30000000000000004, None, -1.5e300, float("inf")]
    assert [r["price"] for r in got] == [1.0, 2.0, None, -3.0]
    parsed = [json.loads(r["properties"]) if r["properties"] is not None else None for r in got]
    assert parsed == [{"plan": "gold", "seats": 3, "tags": ["a", "b"]}, None, {}, "just text"]


def test_load_arrow_fills_missing_columns_with_nulls(store: Store) -> None:
    store.engine.load_arrow("companies", pa.table({"company_key": pa.array([7], pa.int64()), "company_id": ["co"]}))
    assert rows(store.engine, "SELECT company_key, name, employees FROM companies") == [
        {"company_key": 7, "name": None, "employees": None}
    ]


def test_load_arrow_of_no_rows_changes_nothing(store: Store) -> None:
    store.engine.load_arrow("contacts", pa.table({"contact_id": pa.array([], pa.string())}))
    assert store.count("contacts") == 0


def test_query_returns_arrow_types(store: Store) -> None:
    stored_contacts(store.engine)
    table = store.engine.query(
        "SELECT COUNT(*) AS n, SUM(contact_key) AS total, AVG(contact_key) AS mean, MAX(updated_at) AS latest "
        "FROM contacts"
    )
    assert table.schema.field("n").type == pa.int64()
    assert table.schema.field("mean").type == pa.float64()
    assert table.schema.field("latest").type == UTC_US
    # 1 + 2 + 3 = 6, mean 2
    assert table.to_pylist() == [{"n": 3, "total": 6, "mean": 2.0, "latest": T0}]


def test_temporary_table_loads_and_drops(store: Store) -> None:
    engine = store.engine
    stage_contacts(engine, "segmint_stage_test", pa.table({"contact_id": ["x", "y"], "email": ["x@x.fi", None]}))
    assert rows(engine, "SELECT contact_id, email FROM segmint_stage_test ORDER BY contact_id") == [
        {"contact_id": "x", "email": "x@x.fi"},
        {"contact_id": "y", "email": None},
    ]
    assert engine.table_columns("segmint_stage_test") == ["contact_id", "email"]
    engine.drop_table("segmint_stage_test")
    assert engine.table_columns("segmint_stage_test") == []
    # a new table of the same name starts empty
    stage_contacts(engine, "segmint_stage_test", pa.table({"contact_id": ["z"]}))
    assert rows(engine, "SELECT contact_id FROM segmint_stage_test") == [{"contact_id": "z"}]


def test_drop_table_then_create_starts_empty(store: Store) -> None:
    engine = store.engine
    engine.create_table(CONTACTS, name="scratch", columns=[CONTACTS.column("contact_id")])
    engine.load_arrow("scratch", pa.table({"contact_id": ["old"]}))
    engine.drop_table("scratch")
    assert not engine.table_exists("scratch")
    engine.create_table(CONTACTS, name="scratch", columns=[CONTACTS.column("contact_id")])
    assert engine.table_exists("scratch")
    assert store.count("scratch") == 0


# ---- upsert ----------------------------------------------------------------------------------


def test_upsert_numbers_new_rows_in_id_order(store: Store) -> None:
    engine = store.engine
    # ids arrive unsorted; keys follow code-point order of the ids: "B" (66) < "a" (97) < "b" (98)
    stage_contacts(engine, "stage", pa.table({"contact_id": ["b", "B", "a"], "email": ["b@x.fi", None, "a@x.fi"]}))
    engine.upsert(CONTACTS, "stage", ["email"], now=engine.timestamp_literal(T1))
    got = rows(engine, "SELECT contact_key, contact_id, email, updated_at FROM contacts ORDER BY contact_key")
    assert got == [
        {"contact_key": 1, "contact_id": "B", "email": None, "updated_at": T1},
        {"contact_key": 2, "contact_id": "a", "email": "a@x.fi", "updated_at": T1},
        {"contact_key": 3, "contact_id": "b", "email": "b@x.fi", "updated_at": T1},
    ]


def test_upsert_continues_keys_after_the_stored_maximum(store: Store) -> None:
    engine = store.engine
    stored_contacts(engine)
    stage_contacts(engine, "stage", pa.table({"contact_id": ["e", "d"]}))
    engine.upsert(CONTACTS, "stage", [], now=engine.timestamp_literal(T1))
    keys = {cid: r["contact_key"] for cid, r in contacts_by_id(engine).items()}
    # stored a, b, c hold 1..3; new d, e get 4, 5 in id order
    assert keys == {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}


def test_upsert_takes_non_null_staged_values_and_keeps_stored_ones(store: Store) -> None:
    engine = store.engine
    stored_contacts(engine)
    stage_contacts(
        engine,
        "stage",
        pa.table(
            {
                "contact_id": ["a", "b", "d"],
                "email": ["new-a@x.fi", None, "d@x.fi"],  # a: changed; b: null keeps b@x.fi
                "city": [None, "Vaasa", None],  # a: null keeps Turku; b: was null, now Vaasa
            }
        ),
    )
    engine.upsert(CONTACTS, "stage", ["email", "city"], now=engine.timestamp_literal(T1))
    got = {
        cid: {k: r[k] for k in ("contact_key", "email", "first_name", "city", "updated_at")}
        for cid, r in contacts_by_id(engine).items()
    }
    assert got == {
        "a": {"contact_key": 1, "email": "new-a@x.fi", "first_name": "Anna", "city": "Turku", "updated_at": T1},
        "b": {"contact_key": 2, "email": "b@x.fi", "first_name": "Bo", "city": "Vaasa", "updated_at": T1},
        "c": {"contact_key": 3, "email": None, "first_name": "Cia", "city": "Oulu", "updated_at": T0},
        "d": {"contact_key": 4, "email": "d@x.fi", "first_name": None, "city": None, "updated_at": T1},
    }


def test_upsert_keeps_updated_at_of_unchanged_rows(store: Store) -> None:
    engine = store.engine
    stored_contacts(engine)
    # a: same values; b: only nulls; c: absent from the load
    stage_contacts(
        engine, "stage", pa.table({"contact_id": ["a", "b"], "email": ["a@x.fi", None], "first_name": ["Anna", None]})
    )
    engine.upsert(CONTACTS, "stage", ["email", "first_name"], now=engine.timestamp_literal(T1))
    got = {cid: (r["email"], r["first_name"], r["updated_at"]) for cid, r in contacts_by_id(engine).items()}
    assert got == {"a": ("a@x.fi", "Anna", T0), "b": ("b@x.fi", "Bo", T0), "c": (None, "Cia", T0)}


def test_upsert_from_a_view_of_ids_creates_only_missing_rows(store: Store) -> None:
    engine = store.engine
    stored_contacts(engine)
    stage_contacts(engine, "stage", pa.table({"contact_id": ["c", "f", "f", None]}))
    engine.create_view("refs", "SELECT DISTINCT contact_id FROM stage WHERE contact_id IS NOT NULL")
    try:
        engine.upsert(CONTACTS, "refs", [], now=engine.timestamp_literal(T1))
    finally:
        engine.drop_view("refs")
    got = {cid: (r["contact_key"], r["updated_at"]) for cid, r in contacts_by_id(engine).items()}
    assert got == {"a": (1, T0), "b": (2, T0), "c": (3, T0), "f": (4, T1)}


# ---- transactions and schema changes ---------------------------------------------------------


def test_transaction_rollback_leaves_data_unchanged(store: Store, engine_name: str) -> None:
    if engine_name == "spark":
        pytest.skip("Spark has no transactions over parquet tables; SparkEngine.transaction() is a no-op")
    engine = store.engine
    stored_contacts(engine)

    def fail_halfway() -> None:
        with engine.transaction():
            engine.load_arrow("contacts", pa.table({"contact_key": pa.array([9], pa.int64()), "contact_id": ["z"]}))
            engine.run("DELETE FROM contacts WHERE contact_id = 'a'")
            engine.create_table(CONTACTS, name="half_made")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_halfway()
    assert sorted(contacts_by_id(engine)) == ["a", "b", "c"]
    assert not engine.table_exists("half_made")


def test_transaction_commits_everything_inside(store: Store) -> None:
    engine = store.engine
    with engine.transaction():
        stored_contacts(engine)
        engine.load_arrow("companies", pa.table({"company_key": pa.array([1], pa.int64()), "company_id": ["co"]}))
    assert store.count("contacts") == 3
    assert store.count("companies") == 1


def test_add_column_adds_a_custom_column(store: Store) -> None:
    engine = store.engine
    stored_contacts(engine)
    engine.add_column("contacts", Column("seats", FieldType.INTEGER, "Licensed seats"))
    engine.add_column("contacts", Column("signed_up", FieldType.TIMESTAMP, "Sign-up time"))
    assert engine.table_columns("contacts") == [*CONTACTS.column_names, "seats", "signed_up"]
    engine.load_arrow(
        "contacts",
        pa.table(
            {
                "contact_key": pa.array([4], pa.int64()),
                "contact_id": ["d"],
                "seats": pa.array([12], pa.int64()),
                "signed_up": pa.array([T1], UTC_US),
            }
        ),
    )
    got = rows(engine, "SELECT contact_id, seats, signed_up FROM contacts ORDER BY contact_key")
    assert got == [
        {"contact_id": "a", "seats": None, "signed_up": None},
        {"contact_id": "b", "seats": None, "signed_up": None},
        {"contact_id": "c", "seats": None, "signed_up": None},
        {"contact_id": "d", "seats": 12, "signed_up": T1},
    ]


def test_upsert_merges_custom_columns(store: Store) -> None:
    engine = store.engine
    stored_contacts(engine)
    plan = Column("plan", FieldType.STRING, "Subscription plan")
    engine.add_column("contacts", plan)
    engine.create_table(CONTACTS, name="stage", temporary=True, columns=[CONTACTS.column("contact_id"), plan])
    engine.load_arrow("stage", pa.table({"contact_id": ["b", "x"], "plan": ["pro", "free"]}))
    engine.upsert(CONTACTS, "stage", ["plan"], now=engine.timestamp_literal(T1))
    got = {cid: (r["contact_key"], r["plan"], r["first_name"]) for cid, r in contacts_by_id(engine).items()}
    assert got == {"a": (1, None, "Anna"), "b": (2, "pro", "Bo"), "c": (3, None, "Cia"), "x": (4, "free", None)}


def test_insert_select_fills_named_columns(store: Store) -> None:
    engine = store.engine
    stored_contacts(engine)
    engine.insert_select(
        EVENTS.name,
        ["event_id", "contact_key", "event"],
        "SELECT CONCAT('ev-', contact_id), contact_key, 'page_view' FROM contacts WHERE city IS NOT NULL",
    )
    got = rows(engine, "SELECT event_id, contact_key, event, ts FROM events ORDER BY event_id")
    assert got == [
        {"event_id": "ev-a", "contact_key": 1, "event": "page_view", "ts": None},
        {"event_id": "ev-c", "contact_key": 3, "event": "page_view", "ts": None},
    ]


# ---- engine-specific -------------------------------------------------------------------------


@pytest.mark.postgres
def test_postgres_unreachable_server_is_a_store_error_naming_the_host() -> None:
    pytest.importorskip("psycopg")
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(StoreError) as caught:
        open_store(f"postgresql://segmint@127.0.0.1:{port}/crm")
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message
    assert "\n" not in message


@pytest.mark.postgres
def test_postgres_url_password_is_not_shown(postgres_url: str) -> None:
    from segmint.engines.postgres import _redacted

    assert _redacted("postgresql://me:s3cret@db.example:5432/crm") == "postgresql://me:***@db.example:5432/crm"
    assert _redacted(postgres_url) == postgres_url  # no password: as given


@pytest.mark.parametrize("engine_name", [pytest.param("spark", marks=pytest.mark.spark)])
def test_spark_store_reopened_in_a_new_session_finds_its_tables(store_url: str) -> None:
    with open_store(store_url) as first:
        first.engine.add_column("contacts", Column("plan", FieldType.STRING, "Subscription plan"))
        stored_contacts(first.engine)
        engine = first.engine
        # A new Spark session knows no tables: forget them (the files stay), as a restart would.
        for table in (*DATA_TABLES, *SEGMENT_TABLES, FIELDS, MIGRATIONS, API_KEYS):
            engine.run(f"DROP TABLE {engine.quote(table.name)}")
        assert not engine.table_exists("contacts")
    with open_store(store_url) as second:
        assert second.engine.table_columns("contacts") == [*CONTACTS.column_names, "plan"]
        assert sorted(contacts_by_id(second.engine)) == ["a", "b", "c"]
        versions = rows(second.engine, "SELECT version FROM segmint_migrations")
        assert sorted(r["version"] for r in versions) == list(range(1, SCHEMA_VERSION + 1))


@pytest.mark.parametrize("engine_name", [pytest.param("spark", marks=pytest.mark.spark)])
def test_spark_closing_a_store_keeps_the_shared_session(store_url: str, spark_session: Any) -> None:
    open_store(store_url).close()
    open_store(store_url).close()
    assert spark_session.sql("SELECT 1 + 1 AS two").collect()[0]["two"] == 2


@pytest.mark.spark
def test_spark_local_store_needs_a_warehouse() -> None:
    pytest.importorskip("pyspark")
    with pytest.raises(StoreError, match="warehouse"):
        open_store("spark://local[2]")
