"""Fuzzing the tracking endpoints with hypothesis: no payload is a 5xx, every 4xx has the error shape.

Bodies are random JSON (any shape), Segment-shaped messages whose fields take
random types and sizes (strings with NUL, unpaired surrogates, huge numbers,
deep nesting, 40 KB values), random bytes, and gzip of any of them, posted
to every tracking endpoint through the app's client with a valid write key.
What is accepted goes through the real group commit and the fresh path (a
segment is applied), and neither may log an error.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segmint.config import ServerSettings, Settings
from segmint.server.app import create_app
from segmint.server.auth import create_key
from segmint.store import open_store

pytestmark = pytest.mark.duckdb

PATHS = ["/v1/batch", "/v1/identify", "/v1/track", "/v1/page", "/v1/screen", "/v1/group", "/v1/alias"]
TYPES = ["identify", "track", "page", "screen", "group", "alias"]

text = st.text(st.characters(codec=None, categories=["L", "N", "P", "Zs", "Cc", "Cs"]), max_size=12)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text
)
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4), max_leaves=12
)
big = st.integers(min_value=0, max_value=40_000).map(lambda n: "x" * n)
ids = st.sampled_from(["ann", "bo", "v-1", "v-2", ""]) | st.integers(-5, 5) | values
stamps = (
    st.datetimes().map(lambda d: d.isoformat())
    | st.sampled_from(["2026-01-01T00:00:00Z", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "now"])
    | values
)
trait_names = st.sampled_from(
    ["email", "firstName", "name", "title", "company", "address", "createdAt", "country", "language", "employees",
     "website", "is_partner", "lifecycle_stage", "plan", "updated_at", "contact_key", "id", "9x", "Plan Name"]
) | text  # fmt: skip
objects = st.dictionaries(trait_names, values | big | st.dictionaries(text, values, max_size=3), max_size=5)
good_ids = st.sampled_from(["ann", "bo", "v-1", "v-2"]) | st.integers(0, 3)
properties = st.dictionaries(
    st.sampled_from(["url", "amount", "price", "bounce_type", "machine_open", "order_id", "revenue", "category"])
    | text,
    values | big,
    max_size=5,
)
context = st.fixed_dictionaries({}, optional={"page": values, "campaign": values}) | values
#: Segment-shaped: the fields a message needs, of the right types (their contents free)
shaped = st.fixed_dictionaries(
    {
        "type": st.sampled_from(TYPES),
        "userId": good_ids,
        "event": st.sampled_from(["Order Completed", "Email Bounced", "Product Added", "x"]),
        "groupId": good_ids,
        "previousId": good_ids,
    },
    optional={
        "anonymousId": good_ids,
        "messageId": st.sampled_from(["m-1", "m-2", "m-3"]) | text,
        "timestamp": st.datetimes().map(lambda d: d.isoformat()),
        "properties": properties,
        "traits": objects,
        "context": st.fixed_dictionaries({}, optional={"page": values, "campaign": values}),
        "name": text,
    },
)
#: any field of any type
wild = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(TYPES) | values,
        "userId": ids,
        "anonymousId": ids,
        "messageId": values,
        "event": values,
        "timestamp": stamps,
        "originalTimestamp": stamps,
        "sentAt": stamps,
        "properties": properties | values,
        "traits": objects | values,
        "context": context,
        "groupId": ids,
        "previousId": ids,
        "name": values,
        "category": values,
    },
)
batch = st.fixed_dictionaries(
    {"batch": st.lists(shaped | shaped | wild, max_size=6)}, optional={"sentAt": stamps, "context": context}
)


def encoded(body: Any) -> bytes:
    return json.dumps(body).encode()


anything = (batch | shaped | wild | values).map(encoded) | st.binary(max_size=64)
deep = st.sampled_from([b"[" * 3000 + b"]" * 3000, b'{"batch": [' + b'{"a":' * 2000 + b"1" + b"}" * 2000 + b"]}"])
#: mostly well-shaped for the endpoint (so the commit and the fresh path see strange values), some anything at all
requests = (
    st.tuples(st.just("/v1/batch"), batch.map(encoded))
    | st.tuples(st.sampled_from(PATHS[1:]), shaped.map(encoded))
    | st.tuples(st.sampled_from(PATHS), anything | deep)
)


class Collected(logging.Handler):
    """Records of trouble: errors, and the warnings that say a commit failed or the loader rejected a row."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.bad: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.levelno >= logging.ERROR or "failed" in text or "rejected" in text:
            self.bad.append(text)


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str, Collected]]:
    folder = tmp_path_factory.mktemp("fuzz")
    server = ServerSettings(commit_interval_ms=1, fresh_interval_seconds=0.2, max_custom_properties=15)
    store = open_store(str(folder / "s.duckdb"), Settings(server=server))
    store.apply({"name": "buyers", "conditions": [{"event": "purchase", "count": {"op": "gte", "value": 1}}]})
    key = create_key(store, "ingest").token
    collected = Collected()
    logger = logging.getLogger("segmint")
    logger.addHandler(collected)
    try:
        with TestClient(create_app(store=store)) as test_client:
            yield test_client, key, collected
    finally:
        logger.removeHandler(collected)
        store.close()


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(request=requests, zipped=st.booleans())
def test_tracking_payloads_never_fail_the_server(
    fuzzed: tuple[TestClient, str, Collected], request: tuple[str, bytes], zipped: bool
) -> None:
    test_client, key, _ = fuzzed
    path, body = request
    headers = {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
    if zipped:
        body, headers["Content-Encoding"] = gzip.compress(body), "gzip"
    response = test_client.post(path, content=body, headers=headers)
    assert response.status_code < 500, response.text
    answer = response.json()
    if response.status_code == 200:
        assert answer["success"] is True
        return
    assert response.status_code in (400, 413), response.text
    assert answer["ok"] is False
    assert answer["status"] == response.status_code
    assert answer["code"]
    assert answer["error"]
    for problem in answer["errors"]:
        assert set(problem) == {"path", "message", "suggestions"}


def test_fuzzed_payloads_stored_without_a_failed_commit_or_refresh(fuzzed: tuple[TestClient, str, Collected]) -> None:
    """After the fuzzing (same store): one more purchase, a synchronous flush, and no trouble was logged."""
    test_client, key, collected = fuzzed
    body = {
        "writeKey": key,
        "batch": [{"type": "track", "userId": "ann", "event": "Order Completed", "messageId": "z"}],
    }
    assert test_client.post("/v1/batch", json=body).status_code == 200
    test_client.app.state.segmint.extras["fresh"].flush()
    members = test_client.app.state.segmint.store.engine.query(
        "SELECT c.contact_id FROM segment_members m JOIN contacts c ON c.contact_key = m.member_key "
        "WHERE m.segment = 'buyers' AND c.contact_id = 'ann'"
    )
    assert members.num_rows == 1
    assert collected.bad == []
