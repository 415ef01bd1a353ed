"""Store URLs: where the data lives and which engine reads it.

>>> parse_store_url("crm.duckdb").engine
'duckdb'
>>> parse_store_url("duckdb:///data/crm.duckdb").target
'data/crm.duckdb'
>>> parse_store_url("spark://local[2]?warehouse=wh").options
{'warehouse': 'wh'}
>>> parse_store_url("postgresql://me@127.0.0.1:5432/crm").engine
'postgres'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from segmint.errors import StoreError

DEFAULT_URL = "segmint.duckdb"


@dataclass(frozen=True)
class StoreURL:
    """A parsed store URL: the engine key, its target and its options."""

    engine: str
    target: str
    options: dict[str, str] = field(default_factory=dict)
    raw: str = ""


def parse_store_url(url: str | None) -> StoreURL:
    """Parse a plain path, ``duckdb:///path``, ``postgresql://…`` or ``spark://master?warehouse=DIR``."""
    raw = (url or DEFAULT_URL).strip()
    if not raw:
        raise StoreError("the store URL is empty; give --db PATH or set SEGMINT_DB")
    scheme, sep, rest = raw.partition("://")
    if not sep:
        return StoreURL("duckdb", raw, {}, raw)
    scheme = scheme.lower()
    if scheme == "duckdb":
        # duckdb:///relative/path and duckdb:////absolute/path, as SQLAlchemy spells them
        path = rest[1:] if rest.startswith("/") else rest
        if not path:
            raise StoreError(f"'{raw}' names no DuckDB file; write duckdb:///path/to/file.duckdb")
        return StoreURL("duckdb", path, {}, raw)
    if scheme in ("postgresql", "postgres") or scheme.startswith("postgresql+"):
        return StoreURL("postgres", "postgresql://" + rest, {}, raw)
    if scheme in ("spark", "sc"):
        master, _, query = rest.partition("?")
        options = dict(parse_qsl(query))
        if not master:
            raise StoreError(f"'{raw}' names no Spark master; write spark://local[2]?warehouse=DIR")
        target = master if master.startswith("local") else f"{scheme}://{master}"
        return StoreURL("spark", target, options, raw)
    raise StoreError(
        f"unknown store URL scheme '{scheme}' in '{raw}' (use a path, duckdb:///, postgresql:// or spark://)"
    )
