"""The throw-away PostgreSQL server that the tests and the benchmark runner start from the installed binaries."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

psycopg = pytest.importorskip("psycopg")

from segmint.testing.postgres import PostgresUnavailable, throwaway_postgres  # noqa: E402


@pytest.mark.postgres
def test_a_relative_data_directory_starts_and_keeps_its_data(monkeypatch: pytest.MonkeyPatch) -> None:
    # `make bench` passes bench-work/<N>/postgres, relative to the checkout; the server runs in its
    # data directory, so a relative socket directory would not exist there.
    # Not pytest's tmp_path: it is private to root, and as root the server runs as 'postgres'.
    base = Path(tempfile.mkdtemp(prefix="segmint-pg-relative-"))
    base.chmod(0o755)
    monkeypatch.chdir(base)
    try:
        try:
            with throwaway_postgres(Path("work") / "postgres") as url, psycopg.connect(url, autocommit=True) as conn:
                conn.execute("CREATE TABLE kept (n int)")
                conn.execute("INSERT INTO kept VALUES (41), (1)")
        except PostgresUnavailable as exc:
            pytest.skip(str(exc))
        assert (base / "work" / "postgres" / "data" / "PG_VERSION").exists()
        # The same directory again: the data is reused, not initialised anew.
        with throwaway_postgres(Path("work") / "postgres") as url, psycopg.connect(url) as conn:
            row = conn.execute("SELECT sum(n) FROM kept").fetchone()
        assert row == (42,)
    finally:
        os.chdir("/")
        shutil.rmtree(base, ignore_errors=True)
