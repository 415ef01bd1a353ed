"""Engines, registered by key: ``duckdb``, ``postgres``, ``spark``.

Outside packages can add an engine with :func:`register_engine`; each entry is
the dotted path of the class, imported only when a store uses it so that a
missing optional package (psycopg, pyspark) troubles only its own users.
"""

from __future__ import annotations

import importlib

from segmint.engines.base import Engine
from segmint.errors import EngineNotInstalledError, StoreError

ENGINES: dict[str, str] = {
    "duckdb": "segmint.engines.duckdb:DuckDBEngine",
    "postgres": "segmint.engines.postgres:PostgresEngine",
    "spark": "segmint.engines.spark:SparkEngine",
}

INSTALL_HINTS = {
    "postgres": "pip install 'segmint[postgres]'",
    "spark": "pip install 'segmint[spark]' (and Java 17)",
}


def register_engine(key: str, target: str) -> None:
    """Register an engine class, given as ``'package.module:ClassName'``."""
    ENGINES[key] = target


def engine_class(key: str) -> type[Engine]:
    """The engine class for a key, imported on first use."""
    try:
        target = ENGINES[key]
    except KeyError:
        raise StoreError(f"unknown engine '{key}' (known: {', '.join(sorted(ENGINES))})") from None
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        hint = INSTALL_HINTS.get(key, "")
        raise EngineNotInstalledError(
            f"the {key} engine needs the Python package '{exc.name}'" + (f": {hint}" if hint else "")
        ) from exc
    cls: type[Engine] = getattr(module, class_name)
    return cls


__all__ = ["ENGINES", "Engine", "engine_class", "register_engine"]
