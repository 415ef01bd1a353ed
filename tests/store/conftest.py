"""DuckDB-only stores, for the loader details that do not differ by engine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from segmint.store import Store, open_store


@pytest.fixture
def duckdb_store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(str(tmp_path / "d.duckdb"))
    yield store
    store.close()


@pytest.fixture
def duckdb_store_factory(tmp_path: Path) -> Iterator[Callable[[str], Store]]:
    opened: list[Store] = []

    def make(name: str) -> Store:
        store = open_store(str(tmp_path / f"{name}.duckdb"))
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()
