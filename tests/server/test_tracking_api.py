"""The Segment-compatible tracking API through the app's client: what lands where, and every 4xx.

Each test starts the app on a fresh store (DuckDB; the flows that matter most
also on PostgreSQL), posts Segment messages as its libraries send them, and
reads the store back.  Expected rows are worked out by hand from the messages.
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from segmint.config import ServerSettings, Settings
from segmint.server.app import create_app
from segmint.server.auth import create_key, revoke_key
from segmint.store import Store, open_store

SQL_ENGINES = [pytest.param("duckdb", marks=pytest.mark.duckdb), pytest.param("postgres", marks=pytest.mark.postgres)]

PRICING = {
    "name": "pricing-visitors",
    "conditions": [
        {
            "event": "page_view",
            "where": [{"field": "url", "op": "contains", "value": "/pricing"}],
            "count": {"op": "gte", "value": 2},
        }
    ],
}


def basic(token: str) -> dict[str, str]:
    """HTTP Basic with the key as the user and no password, as Segment's libraries send the write key."""
    return {"Authorization": "Basic " + base64.b64encode(f"{token}:".encode()).decode()}


@dataclass
class Api:
    client: TestClient
    store: Store
    ingest: str
    read: str
    admin: str

    def post(self, path: str, body: Any, token: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = basic(token or self.ingest) | kwargs.pop("headers", {})
        return self.client.post(path, json=body, headers=headers, **kwargs)

    def rows(self, sql: str) -> list[dict[str, Any]]:
        return self.store.engine.query(sql).to_pylist()


@contextmanager
def serving(url: str, **server: Any) -> Iterator[Api]:
    """The app on the store at ``url``, with keys of every scope, its server settings overridden."""
    settings = Settings(server=ServerSettings(**({"commit_interval_ms": 5, "fresh_interval_seconds": 0.05} | server)))
    store = open_store(url, settings)
    try:
        keys = {scope: create_key(store, scope).token for scope in ("ingest", "read", "admin")}
        with TestClient(create_app(store=store)) as client:
            yield Api(client, store, keys["ingest"], keys["read"], keys["admin"])
    finally:
        store.close()


@pytest.fixture(params=SQL_ENGINES)
def engine_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "duckdb":
        yield str(tmp_path / "s.duckdb")
        return
    server = request.getfixturevalue("postgres_server")
    url = server.new_database()
    yield url
    server.drop_database(url)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with serving(str(tmp_path / "s.duckdb")) as opened:
        yield opened


@pytest.fixture(scope="module")
def refusing_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One app for the tests of requests it must refuse (each checks that nothing was stored)."""
    with serving(str(tmp_path_factory.mktemp("refusing") / "s.duckdb")) as opened:
        yield opened


def until(check: Callable[[], Any], seconds: float = 10.0) -> Any:
    """Poll ``check`` until it returns something truthy, or fail at the deadline."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {seconds} s: {check.__doc__ or check}")
        time.sleep(0.05)


def members(api: Api, segment: str) -> list[str]:
    rows = api.rows(
        "SELECT c.contact_id FROM segment_members m JOIN contacts c ON c.contact_key = m.member_key "
        f"WHERE m.segment = '{segment}' ORDER BY 1"
    )
    return [r["contact_id"] for r in rows]


def error_shaped(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["ok"] is False
    assert body["status"] == status
    assert body["code"]
    assert isinstance(body["code"], str)
    assert body["error"]
    assert isinstance(body["error"], str)
    for problem in body["errors"]:
        assert set(problem) == {"path", "message", "suggestions"}
    return body


# ---- what lands where (DuckDB and PostgreSQL) ------------------------------------------------------------


def test_tracking_calls_land_as_contacts_companies_and_events(engine_url: str) -> None:
    with serving(engine_url) as api:
        api.store.apply(PRICING)
        sent = api.post(
            "/v1/batch",
            {
                "batch": [
                    {
                        "type": "identify",
                        "userId": "ann",
                        "messageId": "i-1",
                        "traits": {
                            "email": " Ann@Example.COM ",
                            "firstName": "Ann",
                            "lastName": "Lee",
                            "title": "CFO",
                            "address": {"city": "Turku", "country": "fi"},
                            "plan": "pro",
                            "logins": 3,
                        },
                    },
                    {
                        "type": "group",
                        "userId": "ann",
                        "groupId": "acme",
                        "messageId": "g-1",
                        "traits": {
                            "name": "Acme Oy",
                            "industry": "Manufacturing",
                            "employees": 250,
                            "website": "https://www.acme.fi/about",
                        },
                    },
                    {
                        "type": "page",
                        "userId": "ann",
                        "messageId": "p-1",
                        "properties": {"url": "https://shop.example/pricing"},
                    },
                    {
                        "type": "page",
                        "userId": "ann",
                        "messageId": "p-2",
                        "name": "Pricing",
                        "properties": {"url": "https://shop.example/pricing?plan=pro"},
                        "context": {"campaign": {"source": "newsletter", "medium": "email", "name": "spring"}},
                        "timestamp": "2026-03-01T10:00:00Z",
                    },
                    {
                        "type": "track",
                        "userId": "ann",
                        "messageId": "t-1",
                        "event": "Order Completed",
                        "properties": {
                            "order_id": 1001,
                            "revenue": 120.5,
                            "currency": "EUR",
                            "products": [{"sku": "a"}],
                        },
                        "timestamp": "2026-03-01T11:00:00+02:00",
                    },
                    {"type": "screen", "userId": "bo", "messageId": "s-1", "name": "Home"},
                ]
            },
        )
        assert sent.status_code == 200, sent.text
        assert sent.json() == {"success": True}

        ann = api.rows(
            "SELECT contact_id, email, first_name, last_name, job_title, city, country, plan, logins, "
            "(SELECT company_id FROM companies co WHERE co.company_key = c.company_key) AS company "
            "FROM contacts c ORDER BY contact_id"
        )
        assert ann == [
            {
                "contact_id": "ann",
                "email": "ann@example.com",
                "first_name": "Ann",
                "last_name": "Lee",
                "job_title": "CFO",
                "city": "Turku",
                "country": "FI",
                "plan": "pro",
                "logins": 3,
                "company": "acme",
            },
            {
                k: None
                for k in (
                    "email",
                    "first_name",
                    "last_name",
                    "job_title",
                    "city",
                    "country",
                    "plan",
                    "logins",
                    "company",
                )
            }
            | {"contact_id": "bo"},
        ]
        assert api.rows("SELECT company_id, name, industry, employees, domain FROM companies") == [
            {
                "company_id": "acme",
                "name": "Acme Oy",
                "industry": "Manufacturing",
                "employees": 250,
                "domain": "acme.fi",
            }
        ]
        events = {
            r["event_id"]: r
            for r in api.rows(
                "SELECT event_id, event, ts, url, utm_source, utm_medium, utm_campaign, amount, currency, order_id, "
                "CAST(properties AS VARCHAR) AS properties, (SELECT contact_id FROM contacts c WHERE c.contact_key = e.contact_key) AS who "
                "FROM events e"
            )
        }
        assert sorted(events) == ["p-1", "p-2", "s-1", "t-1"]
        assert events["p-2"]["event"] == "page_view"
        assert (events["p-2"]["utm_source"], events["p-2"]["utm_medium"], events["p-2"]["utm_campaign"]) == (
            "newsletter",
            "email",
            "spring",
        )
        assert events["p-2"]["ts"] == datetime(2026, 3, 1, 10, tzinfo=UTC)
        assert json.loads(events["p-2"]["properties"]) == {"name": "Pricing"}
        purchase = events["t-1"]
        assert (purchase["event"], purchase["amount"], purchase["currency"], purchase["order_id"], purchase["who"]) == (
            "purchase",
            120.5,
            "EUR",
            "1001",
            "ann",
        )
        assert purchase["ts"] == datetime(2026, 3, 1, 9, tzinfo=UTC)  # 11:00+02:00
        assert json.loads(purchase["properties"]) == {"revenue": 120.5, "products": [{"sku": "a"}]}
        assert (events["s-1"]["event"], events["s-1"]["who"]) == ("screen_view", "bo")
        # two page views of /pricing: the fresh path moves ann into the segment without a full refresh
        assert until(lambda: members(api, "pricing-visitors")) == ["ann"]


def test_anonymous_events_join_the_contact_on_identify_and_alias(engine_url: str) -> None:
    with serving(engine_url) as api:
        api.store.apply(PRICING)
        pricing = {"url": "https://shop.example/pricing"}
        for i, anonymous in enumerate(["v-1", "v-1", "v-2"]):
            sent = api.post("/v1/page", {"anonymousId": anonymous, "messageId": f"a-{i}", "properties": pricing})
            assert sent.status_code == 200, sent.text

        def owners() -> dict[str, str | None]:
            rows = api.rows(
                "SELECT e.event_id, c.contact_id FROM events e LEFT JOIN contacts c ON c.contact_key = e.contact_key"
            )
            return {r["event_id"]: r["contact_id"] for r in rows}

        assert owners() == {"a-0": None, "a-1": None, "a-2": None}
        assert (
            api.post(
                "/v1/identify", {"userId": "cy", "anonymousId": "v-1", "traits": {"email": "cy@example.com"}}
            ).status_code
            == 200
        )
        assert owners() == {"a-0": "cy", "a-1": "cy", "a-2": None}
        # an anonymous event after the link joins at once; alias links the second visitor id
        assert (
            api.post("/v1/track", {"anonymousId": "v-1", "event": "Signed Up", "messageId": "a-3"}).status_code == 200
        )
        assert api.post("/v1/alias", {"previousId": "v-2", "userId": "cy"}).status_code == 200
        assert owners() == {"a-0": "cy", "a-1": "cy", "a-2": "cy", "a-3": "cy"}
        assert api.rows("SELECT event FROM events WHERE event_id = 'a-3'") == [{"event": "signed_up"}]
        # a later identify of the same visitor as someone else does not take the history
        assert api.post("/v1/identify", {"userId": "dee", "anonymousId": "v-1"}).status_code == 200
        assert owners()["a-0"] == "cy"
        assert until(lambda: members(api, "pricing-visitors")) == ["cy"]


def test_message_ids_deduplicate_retried_batches(engine_url: str) -> None:
    with serving(engine_url) as api:
        batch = {
            "batch": [
                {
                    "type": "track",
                    "userId": "u1",
                    "event": "Email Opened",
                    "messageId": "m-1",
                    "properties": {"campaign_id": "c7"},
                },
                {"type": "track", "userId": "u1", "event": "Email Link Clicked", "messageId": "m-2"},
                {"type": "track", "userId": "u2", "event": "Email Opened", "messageId": "m-1"},  # the same id again
            ]
        }
        for _ in range(3):  # a client retrying a batch whose answer it lost
            assert api.post("/v1/batch", batch).status_code == 200
        rows = api.rows(
            "SELECT e.event_id, e.event, e.campaign_id, c.contact_id FROM events e "
            "JOIN contacts c ON c.contact_key = e.contact_key ORDER BY e.event_id"
        )
        assert rows == [
            {"event_id": "m-1", "event": "email_open", "campaign_id": "c7", "contact_id": "u1"},
            {"event_id": "m-2", "event": "email_click", "campaign_id": None, "contact_id": "u1"},
        ]


# ---- semantics (DuckDB) -------------------------------------------------------------------------------------


def test_event_names_follow_the_spec_map_then_settings_then_snake_case(tmp_path: Path) -> None:
    names = {"Demo Requested": "form_submit", "Order Completed": "order"}
    with serving(str(tmp_path / "s.duckdb"), event_names=names) as api:
        spec = [
            "Email Bounced",
            "Unsubscribed",
            "Email Marked as Spam",
            "Product Added",
            "Products Searched",
            "Form Submitted",
        ]
        other = ["Demo Requested", "Order Completed", "Video Playback Started", "signedUp"]
        batch = [
            {"type": "track", "userId": "u", "event": name, "messageId": f"n-{i}"}
            for i, name in enumerate(spec + other)
        ]
        assert api.post("/v1/batch", {"batch": batch}).status_code == 200
        stored = {r["event_id"]: r["event"] for r in api.rows("SELECT event_id, event FROM events")}
        assert [stored[f"n-{i}"] for i in range(len(batch))] == [
            "email_bounce",
            "email_unsubscribe",
            "email_spam_report",
            "cart_add",
            "search",
            "form_submit",
            "form_submit",
            "order",
            "video_playback_started",
            "signed_up",
        ]


def test_timestamps_follow_segment_rules(api: Api) -> None:
    before = datetime.now(UTC)
    batch = {
        "sentAt": "2026-01-01T10:05:00Z",
        "batch": [
            {
                "type": "track",
                "userId": "u",
                "event": "a",
                "messageId": "given",
                "timestamp": "2026-02-03T04:05:06.789",
            },
            # the client's clock says it happened 5 minutes before it sent the batch
            {
                "type": "track",
                "userId": "u",
                "event": "b",
                "messageId": "skewed",
                "originalTimestamp": "2026-01-01T10:00:00Z",
            },
            {"type": "track", "userId": "u", "event": "c", "messageId": "none"},
        ],
    }
    assert api.post("/v1/batch", batch).status_code == 200
    after = datetime.now(UTC)
    ts = {r["event_id"]: r["ts"] for r in api.rows("SELECT event_id, ts FROM events")}
    assert ts["given"] == datetime(2026, 2, 3, 4, 5, 6, 789000, tzinfo=UTC)  # no zone: UTC
    assert before - timedelta(minutes=5) <= ts["skewed"] <= after - timedelta(minutes=5)
    assert before <= ts["none"] <= after


def test_unusable_trait_values_are_dropped_and_named(api: Api) -> None:
    first = api.post(
        "/v1/identify",
        {
            "userId": "ed",
            "traits": {"email": "not-an-email", "country": "Sweden", "language": "sv-SE", "logins": 3, "9lives": 1},
        },
    )
    assert first.status_code == 200
    assert [w["path"] for w in first.json()["warnings"]] == ["traits.email", "traits.country", "traits.9lives"]
    # a value that is not the stored property's type is not stored; the rest of the message is
    assert api.post("/v1/identify", {"userId": "ed", "traits": {"logins": "many", "lastName": "Ek"}}).status_code == 200
    assert api.rows("SELECT email, country, language, logins, last_name FROM contacts") == [
        {"email": None, "country": None, "language": "sv", "logins": 3, "last_name": "Ek"}
    ]
    kinds = {r["name"]: r["type"] for r in api.rows("SELECT name, type FROM segmint_fields WHERE entity = 'contact'")}
    assert kinds == {"logins": "integer"}


def test_identify_company_trait_creates_and_links_the_company(api: Api) -> None:
    sent = api.post(
        "/v1/identify",
        {
            "userId": "fay",
            "traits": {"company": {"id": "c-9", "name": "Nine AB", "employee_count": 40, "plan": "gold"}},
        },
    )
    assert sent.status_code == 200
    assert api.rows(
        "SELECT co.company_id, co.name, co.employees, co.plan FROM contacts c JOIN companies co ON co.company_key = c.company_key"
    ) == [{"company_id": "c-9", "name": "Nine AB", "employees": 40, "plan": "gold"}]


# ---- the wire: keys, encodings, sizes, malformed bodies --------------------------------------------------


def test_write_key_as_basic_user_bearer_or_body(api: Api) -> None:
    message = {"userId": "u", "event": "x"}
    assert api.client.post("/v1/track", json=message, headers=basic(api.ingest)).status_code == 200
    assert (
        api.client.post("/v1/track", json=message, headers={"Authorization": f"Bearer {api.admin}"}).status_code == 200
    )
    assert api.client.post("/v1/track", json=message | {"writeKey": api.ingest}).status_code == 200
    assert (
        api.client.post("/v1/batch", json={"writeKey": api.ingest, "batch": [message | {"type": "track"}]}).status_code
        == 200
    )
    assert api.rows("SELECT count(*) AS n FROM events") == [{"n": 4}]


def test_missing_unknown_revoked_and_read_keys_are_refused(api: Api) -> None:
    message = {"userId": "u", "event": "x"}
    error_shaped(api.client.post("/v1/track", json=message), 401)
    error_shaped(api.client.post("/v1/track", json=message | {"writeKey": 42}), 401)
    error_shaped(api.client.post("/v1/track", json=message, headers=basic("sm_nope_nope")), 401)
    error_shaped(api.client.post("/v1/batch", json={"writeKey": "sm_x_y", "batch": []}), 401)
    assert error_shaped(api.client.post("/v1/track", json=message, headers=basic(api.read)), 403)["code"] == "forbidden"
    revoke_key(api.store, api.ingest)  # never used before: the server has not cached it as valid
    error_shaped(api.client.post("/v1/track", json=message, headers=basic(api.ingest)), 401)
    assert api.rows("SELECT count(*) AS n FROM events") == [{"n": 0}]


def test_gzip_bodies_are_read_and_bad_encodings_refused(api: Api) -> None:
    body = json.dumps({"batch": [{"type": "track", "userId": "u", "event": "Zipped", "messageId": "z"}]}).encode()
    headers = basic(api.ingest) | {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    assert api.client.post("/v1/batch", content=gzip.compress(body), headers=headers).status_code == 200
    assert api.rows("SELECT event FROM events") == [{"event": "zipped"}]
    error_shaped(api.client.post("/v1/batch", content=body, headers=headers), 400)  # says gzip, is not
    error_shaped(api.client.post("/v1/batch", content=gzip.compress(body)[:-12], headers=headers), 400)  # cut short
    assert (
        error_shaped(api.client.post("/v1/batch", content=body, headers=headers | {"Content-Encoding": "br"}), 415)[
            "code"
        ]
        == "unsupported_media_type"
    )


def test_size_limits_are_413(api: Api) -> None:
    big = "x" * (33 * 1024)
    error_shaped(api.post("/v1/track", {"userId": "u", "event": "x", "properties": {"p": big}}), 413)
    # a batch under 500 KB with one message over 32 KB names the message
    batch = {
        "batch": [
            {"type": "track", "userId": "u", "event": "x"},
            {"type": "track", "userId": "u", "event": "x", "properties": {"p": big}},
        ]
    }
    assert error_shaped(api.post("/v1/batch", batch), 413)["errors"][0]["path"] == "batch[1]"
    many = {"batch": [{"type": "track", "userId": "u", "event": "x", "properties": {"p": "y" * 20_000}}] * 30}
    error_shaped(api.post("/v1/batch", many), 413)
    # a small gzip body that inflates past 500 KB
    bomb = gzip.compress(b'{"batch": [], "pad": "' + b" " * 600_000 + b'"}')
    headers = basic(api.ingest) | {"Content-Encoding": "gzip"}
    assert len(bomb) < 32 * 1024
    error_shaped(api.client.post("/v1/batch", content=bomb, headers=headers), 413)
    # just under the limits is fine
    fits = {"userId": "u", "event": "x", "properties": {"p": "z" * 32_000}}
    assert api.post("/v1/track", fits).status_code == 200
    assert api.rows("SELECT count(*) AS n FROM events") == [{"n": 1}]


@pytest.mark.parametrize(
    ("path", "body", "where"),
    [
        ("/v1/batch", b"{not json", "body"),
        ("/v1/batch", b"[1, 2]", "body"),
        ("/v1/batch", b'{"batch": {"type": "track"}}', "batch"),
        ("/v1/batch", b'{"batch": [{"type": "track", "userId": "u", "event": "x"}, {"userId": "u"}]}', "batch[1].type"),
        ("/v1/batch", b'{"batch": [{"type": "trak", "userId": "u"}]}', "batch[0].type"),
        ("/v1/batch", b'{"batch": [{"type": "track", "userId": {"id": 1}, "event": "x"}]}', "batch[0].userId"),
        (
            "/v1/batch",
            b'{"batch": [{"type": "track", "userId": "u", "event": "x", "timestamp": "yesterday"}]}',
            "batch[0].timestamp",
        ),
        (
            "/v1/batch",
            b'{"batch": [{"type": "track", "userId": "u", "event": "x", "properties": [1]}]}',
            "batch[0].properties",
        ),
        ("/v1/batch", b'{"batch": [{"type": "track", "userId": "u"}]}', "batch[0].event"),
        ("/v1/batch", b'{"batch": [{"type": "page", "properties": {}}]}', "batch[0].userId"),
        (
            "/v1/batch",
            b'{"batch": [{"type": "track", "userId": "u", "event": "x", "properties": {"a": {"b": "\\u0000"}}}]}',
            "batch[0].properties.a.b",
        ),
        (
            "/v1/batch",
            b'{"batch": [{"type": "track", "userId": "u", "event": "x", "properties": {"a": "\\ud800"}}]}',
            "batch[0].properties.a",
        ),
        ("/v1/track", b'{"userId": "u", "event": "x", "properties": {"n": NaN}}', "body"),
        ("/v1/track", b'{"userId": "u", "event": "x", "properties": {"n": 1e999}}', "body"),
        ("/v1/track", b'{"userId": "u", "event": "x"}\xff', "body"),
        ("/v1/track", b"[" * 5000 + b"]" * 5000, "body"),
        ("/v1/group", b'{"userId": "u"}', "groupId"),
        ("/v1/alias", b'{"userId": "u"}', "previousId"),
        ("/v1/track", b'{"userId": "u", "event": "x", "timestamp": "0001-01-01T00:00:00+01:00"}', "timestamp"),
    ],
)
def test_malformed_bodies_are_400_with_the_field_path_and_store_nothing(
    refusing_api: Api, path: str, body: bytes, where: str
) -> None:
    api = refusing_api
    answer = error_shaped(api.client.post(path, content=body, headers=basic(api.ingest)), 400)
    assert where in [p["path"] for p in answer["errors"]]
    assert api.rows("SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM contacts) AS n") == [{"n": 0}]


@pytest.mark.postgres
def test_a_full_queue_answers_429_with_retry_after(postgres_server: Any) -> None:
    import psycopg

    url = postgres_server.new_database()
    try:
        # one message may wait; a lock on the events table holds the first request's commit, so a
        # second request finds the queue full
        with serving(url, max_pending_events=1) as api:
            first: list[httpx.Response] = []
            with psycopg.connect(url) as blocker:
                blocker.execute("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
                waiting = threading.Thread(
                    target=lambda: first.append(api.post("/v1/track", {"userId": "u", "event": "a", "messageId": "1"}))
                )
                waiting.start()
                until(lambda: api.client.app.state.segmint.extras["ingest"].pending == 1)
                refused = api.post("/v1/track", {"userId": "u", "event": "b", "messageId": "2"})
                assert error_shaped(refused, 429)["code"] == "overloaded"
                assert refused.headers["Retry-After"] == "1"
                assert first == []  # still waiting for its commit
            waiting.join()  # the lock is gone with the blocker's transaction
            assert first[0].status_code == 200
            # once the queue has drained, a request is taken again
            assert api.post("/v1/track", {"userId": "u", "event": "b", "messageId": "2"}).status_code == 200
            assert [r["event_id"] for r in api.rows("SELECT event_id FROM events ORDER BY 1")] == ["1", "2"]
    finally:
        postgres_server.drop_database(url)


def test_a_store_failure_is_a_server_error_and_the_writer_goes_on(api: Api) -> None:
    """Not a client's mistake, so a 5xx: with the events table gone, the commit fails; once back, tracking works."""
    api.store.engine.run("ALTER TABLE events RENAME TO events_away")
    failed = api.post("/v1/track", {"userId": "u", "event": "a", "messageId": "1"})
    assert failed.status_code == 500
    assert failed.json()["code"] == "segmint_error"
    assert "could not store" in failed.json()["error"]
    api.store.engine.run("ALTER TABLE events_away RENAME TO events")
    assert api.post("/v1/track", {"userId": "u", "event": "a", "messageId": "1"}).status_code == 200
    assert api.rows("SELECT event_id FROM events") == [{"event_id": "1"}]


def test_empty_batch_and_openapi_document(api: Api) -> None:
    assert api.post("/v1/batch", {"batch": []}).json() == {"success": True}
    paths = api.client.get("/openapi.json").json()["paths"]
    for kind in ("batch", "identify", "track", "page", "screen", "group", "alias"):
        operation = paths[f"/v1/{kind}"]["post"]
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        assert "$ref" not in json.dumps(schema)
        assert {"200", "400", "401", "413", "429"} <= set(operation["responses"])
