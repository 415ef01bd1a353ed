"""API keys: made once, stored hashed, scoped, revoked at once; 401 and 403 used correctly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from segmint.cli.app import app as cli
from segmint.server.app import create_app
from segmint.store import open_store

runner = CliRunner()


def make_key(db: str, scope: str, name: str = "") -> str:
    result = runner.invoke(cli, ["keys", "create", "--scope", scope, "--name", name, "--db", db])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]  # the key is the last line


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "keys.duckdb")


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_key_is_shown_once_and_stored_only_as_a_hash(db: str) -> None:
    token = make_key(db, "read", "dashboard")
    prefix, key_id, secret = token.split("_", 2)
    assert prefix == "sm"
    assert len(secret) >= 32
    with open_store(db) as store:
        stored: list[dict[str, Any]] = store.engine.query("SELECT * FROM segmint_api_keys").to_pylist()
    assert [r["key_id"] for r in stored] == [key_id]
    assert secret not in str(stored)
    listed = runner.invoke(cli, ["keys", "list", "--db", db])
    assert key_id in listed.output
    assert "dashboard" in listed.output
    assert secret not in listed.output


def test_an_unknown_scope_is_refused(db: str) -> None:
    result = runner.invoke(cli, ["keys", "create", "--scope", "owner", "--db", db])
    assert result.exit_code != 0
    assert "unknown scope 'owner'" in result.output


def test_401_without_a_valid_key_and_403_for_a_scope_that_may_not(db: str) -> None:
    read, ingest, admin = make_key(db, "read"), make_key(db, "ingest"), make_key(db, "admin")
    with open_store(db) as store, TestClient(create_app(store=store)) as client:
        assert client.get("/health").status_code == 200  # no key needed
        missing = client.get("/api/keys")
        assert missing.status_code == 401
        assert missing.json()["code"] == "unauthorized"
        assert client.get("/api/keys", headers=auth(read[:-2] + "xx")).status_code == 401  # wrong secret
        assert client.get("/api/keys", headers=auth("not-a-key")).status_code == 401
        forbidden = client.get("/api/keys", headers=auth(read))  # listing keys is for admins
        assert forbidden.status_code == 403
        assert forbidden.json() == {
            "ok": False,
            "code": "forbidden",
            "error": "a key of scope 'read' may not write; ask an admin for a key that may",
            "errors": [],
            "status": 403,
        }
        assert client.get("/api/keys", headers=auth(ingest)).status_code == 403
        assert client.get("/api/keys", headers=auth(admin)).status_code == 200


def test_revoking_a_key_stops_it_at_once(db: str) -> None:
    admin = make_key(db, "admin")
    with open_store(db) as store, TestClient(create_app(store=store)) as client:
        made = client.post("/api/keys", json={"scope": "admin", "name": "temp"}, headers=auth(admin))
        assert made.status_code == 201
        temp = made.json()["token"]
        assert client.get("/api/keys", headers=auth(temp)).status_code == 200
        gone = client.delete(f"/api/keys/{made.json()['key']['key_id']}", headers=auth(admin))
        assert gone.status_code == 200
        refused = client.get("/api/keys", headers=auth(temp))
        assert refused.status_code == 401
        assert refused.json()["error"] == "this API key was revoked"
        assert client.delete("/api/keys/nope", headers=auth(admin)).status_code == 404


def test_cli_revoke(db: str) -> None:
    token = make_key(db, "read")
    result = runner.invoke(cli, ["keys", "revoke", token.split("_")[1], "--db", db])
    assert result.exit_code == 0, result.output
    with open_store(db) as store:
        revoked = store.engine.scalar("SELECT revoked_at IS NOT NULL FROM segmint_api_keys")
    assert revoked is True


def test_a_bad_request_body_is_400_with_its_path(db: str) -> None:
    admin = make_key(db, "admin")
    with open_store(db) as store, TestClient(create_app(store=store)) as client:
        bad = client.post("/api/keys", json={"scope": "root", "extra": 1}, headers=auth(admin))
    assert bad.status_code == 400
    body = bad.json()
    assert body["ok"] is False
    assert body["code"] == "bad_request"
    assert {e["path"] for e in body["errors"]} == {"scope", "extra"}
