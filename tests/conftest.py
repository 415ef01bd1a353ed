"""Fixtures every test shares: one store per test, on each engine.

``engine_name`` runs a test once per engine (DuckDB, PostgreSQL, Spark), each
run marked with the engine's key so ``pytest -m duckdb`` or
``pytest -m "not spark"`` picks engines.  ``store_url`` gives every test a
fresh, empty store on that engine and ``store`` opens it.

PostgreSQL is a throw-away server started once per run from the installed
binaries (or the server ``SEGMINT_TEST_POSTGRES_URL`` names); every test gets
its own database on it.  Spark is one local session per run; every test gets
its own warehouse directory and database in it.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import pytest

ENGINES = ("duckdb", "postgres", "spark")

SPARK_MISSING = "pyspark/Java not installed: pip install 'segmint[spark]' and install Java 17"

_serial = itertools.count(1)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "duckdb: runs on the DuckDB engine")
    config.addinivalue_line("markers", "postgres: runs on the PostgreSQL engine (starts a throw-away server)")
    config.addinivalue_line("markers", "spark: runs on the Spark engine (local session)")


# ---- PostgreSQL -------------------------------------------------------------------


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + quote(database)))


class PostgresServer:
    """A server the tests may create databases on."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.url = url
        self.admin = psycopg.connect(url, autocommit=True)

    def new_database(self, prefix: str = "t") -> str:
        """Create an empty database; return its URL."""
        name = f"segmint_{prefix}_{os.getpid()}_{next(_serial)}"
        self.admin.execute(f'CREATE DATABASE "{name}"')
        return _with_database(self.url, name)

    def drop_database(self, url: str) -> None:
        name = urlsplit(url).path.lstrip("/")
        self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        self.admin.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a PostgreSQL database for the whole run (a throw-away server unless
    ``SEGMINT_TEST_POSTGRES_URL`` names one); tests get their own databases via ``store_url``."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg not installed: pip install 'segmint[postgres]'")
    given = os.environ.get("SEGMINT_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    from segmint.testing.postgres import PostgresUnavailable, throwaway_postgres

    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(throwaway_postgres())
        except PostgresUnavailable as exc:
            pytest.skip(str(exc))
        yield url


@pytest.fixture(scope="session")
def postgres_server(postgres_url: str) -> Iterator[PostgresServer]:
    server = PostgresServer(postgres_url)
    yield server
    server.close()


# ---- Spark ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One local[2] Spark session for the whole run (stores never stop it)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        pytest.skip(SPARK_MISSING)
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip(SPARK_MISSING)
    from segmint.engines.spark import build_session

    started = time.perf_counter()
    session = build_session("local[2]", str(tmp_path_factory.mktemp("spark-session-warehouse")))
    session.sql("SELECT 1").collect()  # warm up the JVM once, not inside the first test's timing
    if os.environ.get("SEGMINT_TEST_VERBOSE"):
        print(f"spark session started in {time.perf_counter() - started:.1f}s")
    yield session
    session.stop()


# ---- one store per test ------------------------------------------------------------------


@pytest.fixture(params=[pytest.param(name, marks=getattr(pytest.mark, name)) for name in ENGINES])
def engine_name(request: pytest.FixtureRequest) -> str:
    """Each engine's key in turn: ``duckdb``, ``postgres``, ``spark``."""
    name: str = request.param
    return name


@contextlib.contextmanager
def _fresh_store_url(engine_name: str, folder: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of a fresh, empty store on ``engine_name``, removed afterwards."""
    if engine_name == "duckdb":
        yield f"duckdb:///{folder / 'store.duckdb'}"
    elif engine_name == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.new_database()
        yield url
        server.drop_database(url)
    elif engine_name == "spark":
        request.getfixturevalue("spark_session")
        # The session (and its catalog) is shared by the whole run: a database of its own,
        # located in this store's warehouse directory, keeps each store's tables apart.
        yield f"spark://local[2]?warehouse={folder / 'warehouse'}&database=segmint_t{next(_serial)}"
    else:  # pragma: no cover
        raise ValueError(engine_name)


@pytest.fixture
def store_url(engine_name: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of a fresh, empty store on ``engine_name``."""
    with _fresh_store_url(engine_name, tmp_path, request) as url:
        yield url


@pytest.fixture(scope="module", params=[pytest.param(name, marks=getattr(pytest.mark, name)) for name in ENGINES])
def module_engine_name(request: pytest.FixtureRequest) -> str:
    """Each engine in turn, for stores shared by a whole module (loading data once per engine)."""
    name: str = request.param
    return name


@pytest.fixture(scope="module")
def module_store_url(
    module_engine_name: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[str]:
    """A fresh store on ``module_engine_name`` shared by the tests of one module."""
    with _fresh_store_url(module_engine_name, tmp_path_factory.mktemp("store"), request) as url:
        yield url


@pytest.fixture
def store(store_url: str) -> Iterator[Any]:
    """The store at ``store_url``, opened (schema created) and closed after the test."""
    from segmint.store import open_store

    opened = open_store(store_url)
    yield opened
    opened.close()


@pytest.fixture(autouse=True)
def _work_in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs in its own folder: rejects/ and segmint.toml never land in the repository."""
    monkeypatch.chdir(tmp_path)
