"""What the REST API's tests share: a client with a key of each scope, small data, the error shape."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pyarrow as pa
from fastapi.testclient import TestClient

from segmint.server.app import create_app
from segmint.server.auth import SCOPES, create_key
from segmint.store.load import load_tables
from segmint.store.store import Store

#: the instant the small data set is evaluated at
AS_OF = "2026-03-10T12:00:00Z"


@dataclass
class Api:
    """A TestClient of the app on a real store, calling with a key of the scope asked for (admin by default)."""

    client: TestClient
    tokens: dict[str, str]
    store: Store

    def call(self, method: str, path: str, *, scope: str | None = "admin", **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if scope is not None:
            headers["Authorization"] = f"Bearer {self.tokens[scope]}"
        return self.client.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("DELETE", path, **kwargs)


@contextmanager
def serve(store: Store) -> Iterator[Api]:
    """The app on ``store`` (which the caller closes), with one key of each scope."""
    tokens = {scope: create_key(store, scope, name=f"{scope} key of the tests").token for scope in SCOPES}
    with TestClient(create_app(store=store)) as client:
        yield Api(client, tokens, store)


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    """The JSON of a successful answer, after checking its status."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["ok"] is True
    return body


def error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The JSON of an error answer, after checking its status and the one error shape."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"ok", "code", "error", "errors", "status"}
    assert body["ok"] is False
    assert body["status"] == status
    assert isinstance(body["error"], str)
    assert body["error"]
    for problem in body["errors"]:
        assert set(problem) == {"path", "message", "suggestions"}
    if code is not None:
        assert body["code"] == code
    return body


def refreshed(api: Api, as_of: str = AS_OF) -> dict[str, Any]:
    """Start a full refresh through the API and follow it until it is no longer running; its last status."""
    run = ok(api.post("/api/refresh", params={"as_of": as_of}), 202)["refresh"]
    deadline = time.monotonic() + 120
    while run["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.02)
        run = ok(api.get(f"/api/refresh/{run['id']}"))["refresh"]
    return run


def paths(body: dict[str, Any]) -> set[str]:
    return {p["path"] for p in body["errors"]}


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def load_small_data(store: Store) -> None:
    """Two companies, four contacts and a few events and consents, with answers worked out by hand.

    - acme (FI, 120 employees): ann (FI), cy (FI); beta (SE, 8 employees): bo (SE); dee has no company.
    - ann viewed /pricing 3 times in March 2026 and bought once (amount 200); bo viewed /pricing once;
      cy opened an email.  At AS_OF (2026-03-10), "pricing-lookers" (3+ views of /pricing in 30 days) is
      {ann}; "finns" (country FI) is {ann, cy}.
    - ann granted email marketing on 2026-01-01 and revoked it on 2026-02-01 (revoked is in force).
    """
    load_tables(
        store,
        "companies",
        [
            pa.table(
                {
                    "company_id": ["acme", "beta"],
                    "name": ["Acme Oy", "Beta AB"],
                    "country": ["FI", "SE"],
                    "employees": [120, 8],
                    "industry": ["manufacturing", "retail"],
                }
            )
        ],
    )
    load_tables(
        store,
        "contacts",
        [
            pa.table(
                {
                    "contact_id": ["ann", "bo", "cy", "dee"],
                    "email": ["ann@acme.fi", "bo@beta.se", "cy@acme.fi", "dee@example.com"],
                    "first_name": ["Ann", "Bo", "Cy", "Dee"],
                    "last_name": ["Lind", "Berg", "Koski", "Moor"],
                    "country": ["FI", "SE", "FI", "DK"],
                    "company_id": ["acme", "beta", "acme", None],
                    "lifecycle_stage": ["customer", "lead", "lead", "subscriber"],
                    "owner": ["sara", "sara", "mika", None],
                }
            )
        ],
    )
    load_tables(
        store,
        "events",
        [
            pa.table(
                {
                    "event_id": ["e1", "e2", "e3", "e4", "e5", "e6"],
                    "contact_id": ["ann", "ann", "ann", "ann", "bo", "cy"],
                    "event": ["page_view", "page_view", "page_view", "purchase", "page_view", "email_open"],
                    "ts": [
                        "2026-03-01T10:00:00Z",
                        "2026-03-02T10:00:00Z",
                        "2026-03-03T10:00:00Z",
                        "2026-03-04T10:00:00Z",
                        "2026-03-05T10:00:00Z",
                        "2026-03-06T10:00:00Z",
                    ],
                    "url": ["/pricing", "/pricing?plan=pro", "/pricing", None, "/pricing", None],
                    "amount": [None, None, None, 200.0, None, None],
                    "campaign_id": [None, None, None, None, None, "march"],
                }
            )
        ],
    )
    load_tables(
        store,
        "consents",
        [
            pa.table(
                {
                    "contact_id": ["ann", "ann"],
                    "channel": ["email", "email"],
                    "purpose": ["marketing", "marketing"],
                    "status": ["granted", "revoked"],
                    "ts": ["2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"],
                    "source": ["form", "unsubscribe"],
                }
            )
        ],
    )
