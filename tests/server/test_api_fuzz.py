"""Fuzz the whole HTTP API from its own OpenAPI document with schemathesis: never a 5xx, one error shape.

Every operation of ``/openapi.json`` gets generated requests that fit its
schema (positive) and requests that break it (negative), sent with an admin
key to the ASGI app (its lifespan and services running) on a real DuckDB store holding the small data set.  A
client's mistake must be a 4xx in the error shape, never a 500.  The run is
deterministic (``derandomize``) and small enough for CI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
from api_testing import load_small_data
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.python.asgi import shutdown_lifespans

from segmint.server.app import create_app
from segmint.server.auth import create_key
from segmint.store import open_store

#: examples per operation and generation mode
EXAMPLES = 5
ERROR_KEYS = {"ok", "code", "error", "errors", "status"}


def check_answer(label: str, case: Any, response: Any) -> None:
    status = response.status_code
    assert status < 500, f"{label}: {status} for {case.as_curl_command()}\n{response.text[:2000]}"
    if status >= 400:
        body = response.json()
        assert set(body) == ERROR_KEYS, f"{label}: {status} not in the error shape: {body}"
        assert body["ok"] is False
        assert body["status"] == status
        assert all(set(p) == {"path", "message", "suggestions"} for p in body["errors"]), body


def fuzz(operation: Any, mode: GenerationMode, token: str) -> bool:
    """Send ``EXAMPLES`` generated requests of one mode to one operation and check every answer; whether any was sent."""
    label = f"{mode.value} {operation.label}"

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(mode))
    def run(case: Any) -> None:
        check_answer(label, case, case.call(headers={"Authorization": f"Bearer {token}"}))

    try:
        run()
    except Unsatisfiable:
        # some schemas cannot be broken in a request (a path parameter whose only limits a URL cannot
        # carry across); only a negative run may find nothing to send
        if mode is GenerationMode.POSITIVE:
            raise
        return False
    return True


def test_api_fuzz_from_the_openapi_document(tmp_path: Path) -> None:
    with open_store(str(tmp_path / "fuzz.duckdb")) as store:
        load_small_data(store)
        token = create_key(store, "admin").token
        app = create_app(store=store)
        # schemathesis runs the app's lifespan (its services) from its first request until shut down
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        try:
            operations = [result.ok() for result in schema.get_all_operations()]
            assert len(operations) > 30
            negative = 0
            for operation in operations:
                fuzz(operation, GenerationMode.POSITIVE, token)
                # a path parameter alone can hardly be broken in a URL: negative runs where there is more
                if operation.body or any(p.location != "path" for p in operation.iter_parameters()):
                    negative += fuzz(operation, GenerationMode.NEGATIVE, token)
            assert negative > len(operations) // 2  # most operations got requests that break their schema
        finally:
            shutdown_lifespans()  # before the store closes under the services
