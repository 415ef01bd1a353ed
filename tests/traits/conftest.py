"""Fixtures of the traits models' tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from segmint.store import open_store


@pytest.fixture(scope="module")
def module_store(module_store_url: str) -> Iterator[Any]:
    """One store per engine for a whole test module (load the module's data set once)."""
    with open_store(module_store_url) as store:
        yield store
