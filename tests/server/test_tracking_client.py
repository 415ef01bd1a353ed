"""End to end with Segment's own Python library against a real server on 127.0.0.1.

``segment-analytics-python`` is pointed at a uvicorn server (in a thread, on
a free port) serving a DuckDB store with segments applied.  Its identify,
group, page and track calls must land as contacts, companies and events, and
the fresh path must move the contact (and its company) into the segments
those events qualify it for, without a full refresh.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import segment.analytics as analytics
import uvicorn

from segmint.config import ServerSettings, Settings
from segmint.server.app import create_app
from segmint.server.auth import create_key
from segmint.store import Store, open_store

pytestmark = pytest.mark.duckdb

SEGMENTS: list[dict[str, Any]] = [
    {
        "name": "pricing-visitors",
        "conditions": [
            {
                "event": "page_view",
                "where": [{"field": "url", "op": "contains", "value": "/pricing"}],
                "within": "30d",
                "count": {"op": "gte", "value": 2},
            }
        ],
    },
    {
        "name": "big-buyers",
        "conditions": [{"event": "purchase", "aggregate": {"fn": "sum", "field": "amount", "op": "gte", "value": 100}}],
    },
    {
        "name": "busy-accounts",
        "entity": "company",
        "conditions": [{"event": "page_view", "count": {"op": "gte", "value": 3}}],
    },
]


@contextmanager
def uvicorn_server(store: Store) -> Iterator[str]:
    """The app on a real uvicorn server in a thread, listening on a free port of 127.0.0.1."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(store=store), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        until(lambda: server.started, 20)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def until(check: Callable[[], Any], seconds: float = 10.0) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {seconds} s")
        time.sleep(0.05)


def stored_members(store: Store, segment: str) -> list[str]:
    rows = store.engine.query(
        "SELECT COALESCE(c.contact_id, co.company_id) AS id FROM segment_members m "
        "LEFT JOIN segments s ON s.name = m.segment "
        "LEFT JOIN contacts c ON s.entity = 'contact' AND c.contact_key = m.member_key "
        "LEFT JOIN companies co ON s.entity = 'company' AND co.company_key = m.member_key "
        f"WHERE m.segment = '{segment}' ORDER BY 1"
    ).to_pylist()
    return [r["id"] for r in rows]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Store, str, str]]:
    settings = Settings(server=ServerSettings(commit_interval_ms=10, fresh_interval_seconds=0.2))
    store = open_store(str(tmp_path / "s.duckdb"), settings)
    for segment in SEGMENTS:
        store.apply(segment)
    key = create_key(store, "ingest", name="website").token
    try:
        with uvicorn_server(store) as url:
            yield store, url, key
    finally:
        store.close()


def test_segment_library_calls_land_and_move_contacts_into_segments(served: tuple[Store, str, str]) -> None:
    store, url, key = served
    errors: list[Exception] = []
    client = analytics.Client(write_key=key, host=url, sync_mode=True, on_error=lambda e, _: errors.append(e))
    client.identify(
        "ann", {"email": "Ann@Example.com", "firstName": "Ann", "lastName": "Lee", "title": "CFO", "plan": "pro"}
    )
    client.group("ann", "acme", {"name": "Acme Oy", "industry": "Manufacturing", "employees": 250})
    client.page("ann", name="Docs", properties={"url": "https://shop.example/docs"})
    client.page("ann", name="Pricing", properties={"url": "https://shop.example/pricing"})
    client.page(
        "ann",
        properties={"url": "https://shop.example/pricing?plan=pro"},
        context={"campaign": {"source": "newsletter", "medium": "email", "name": "spring"}},
    )
    client.track("ann", "Order Completed", {"order_id": "o-1", "revenue": 120.0, "currency": "EUR"})
    client.track("bo", "Product Added", {"product_id": "p-9", "price": 15, "category": "tools"})
    client.page("bo", properties={"url": "https://shop.example/pricing"})
    assert errors == []

    contacts = store.engine.query(
        "SELECT c.contact_id, c.email, c.first_name, c.last_name, c.job_title, c.plan, co.company_id "
        "FROM contacts c LEFT JOIN companies co ON co.company_key = c.company_key ORDER BY 1"
    ).to_pylist()
    assert contacts == [
        {
            "contact_id": "ann",
            "email": "ann@example.com",
            "first_name": "Ann",
            "last_name": "Lee",
            "job_title": "CFO",
            "plan": "pro",
            "company_id": "acme",
        },
        {
            "contact_id": "bo",
            "email": None,
            "first_name": None,
            "last_name": None,
            "job_title": None,
            "plan": None,
            "company_id": None,
        },
    ]
    assert store.engine.query("SELECT company_id, name, industry, employees FROM companies").to_pylist() == [
        {"company_id": "acme", "name": "Acme Oy", "industry": "Manufacturing", "employees": 250}
    ]
    events = store.engine.query(
        "SELECT c.contact_id, e.event, e.url, e.utm_source, e.utm_medium, e.utm_campaign, e.amount, e.price, "
        "e.order_id, e.product_id, e.category FROM events e JOIN contacts c ON c.contact_key = e.contact_key "
        "ORDER BY c.contact_id, e.event, e.url"
    ).to_pylist()
    blank = dict.fromkeys(
        ("url", "utm_source", "utm_medium", "utm_campaign", "amount", "price", "order_id", "product_id", "category")
    )
    assert events == [
        blank | {"contact_id": "ann", "event": "page_view", "url": "https://shop.example/docs"},
        blank | {"contact_id": "ann", "event": "page_view", "url": "https://shop.example/pricing"},
        blank
        | {
            "contact_id": "ann",
            "event": "page_view",
            "url": "https://shop.example/pricing?plan=pro",
            "utm_source": "newsletter",
            "utm_medium": "email",
            "utm_campaign": "spring",
        },
        blank | {"contact_id": "ann", "event": "purchase", "amount": 120.0, "order_id": "o-1"},
        blank | {"contact_id": "bo", "event": "cart_add", "price": 15.0, "product_id": "p-9", "category": "tools"},
        blank | {"contact_id": "bo", "event": "page_view", "url": "https://shop.example/pricing"},
    ]
    # the fresh path, not a full refresh: ann has two pricing views and 120 of purchases, bo one view;
    # acme's contacts viewed three pages
    expected = {"pricing-visitors": ["ann"], "big-buyers": ["ann"], "busy-accounts": ["acme"]}
    until(lambda: {name: stored_members(store, name) for name in expected} == expected)
    entered = store.engine.query("SELECT segment, change FROM segment_changes ORDER BY segment").to_pylist()
    assert entered == [{"segment": name, "change": "enter"} for name in sorted(expected)]


def test_segment_library_batches_gzip_in_the_background(served: tuple[Store, str, str]) -> None:
    store, url, key = served
    errors: list[Exception] = []
    client = analytics.Client(
        write_key=key, host=url, gzip=True, upload_size=50, on_error=lambda e, _: errors.append(e)
    )
    for i in range(120):
        client.track(f"u{i % 7}", "Email Opened", {"campaign_id": f"c{i % 3}"}, anonymous_id=f"anon-{i % 7}")
    client.flush()
    client.join()
    assert errors == []
    rows = store.engine.query(
        "SELECT count(*) AS n, count(DISTINCT contact_key) AS contacts, count(DISTINCT campaign_id) AS campaigns "
        "FROM events WHERE event = 'email_open'"
    ).to_pylist()
    assert rows == [{"n": 120, "contacts": 7, "campaigns": 3}]
    links = store.engine.query("SELECT count(*) AS n FROM segmint_identities").to_pylist()
    assert links == [{"n": 7}]
