"""DuckDB: the embedded default, a single file and nothing to start."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import duckdb
import pyarrow as pa
from sqlglot import exp

from segmint.config import StoreSettings
from segmint.engines.base import Engine
from segmint.errors import StoreError
from segmint.model.types import FieldType
from segmint.store.url import StoreURL


class DuckDBEngine(Engine):
    """A DuckDB database file (or ``:memory:``)."""

    name = "duckdb"
    dialect = "duckdb"
    DRIVER_ERRORS = (duckdb.Error,)
    TYPES: ClassVar[dict[FieldType, str]] = {
        FieldType.STRING: "VARCHAR",
        FieldType.INTEGER: "BIGINT",
        FieldType.FLOAT: "DOUBLE",
        FieldType.BOOLEAN: "BOOLEAN",
        FieldType.TIMESTAMP: "TIMESTAMPTZ",
        FieldType.JSON: "JSON",
    }

    def __init__(
        self,
        path: str,
        *,
        memory_limit: str | None = None,
        temp_directory: str | None = None,
        threads: int | None = None,
        read_only: bool = False,
    ) -> None:
        self.url = f"duckdb:///{path}"
        self.path = path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        config: dict[str, str | bool | int | float | list[str]] = {}
        if memory_limit:
            config["memory_limit"] = memory_limit
        if temp_directory:
            config["temp_directory"] = temp_directory
        if threads:
            config["threads"] = threads
        try:
            self.con = duckdb.connect(path, read_only=read_only, config=config)
        except duckdb.Error as exc:
            raise StoreError(f"cannot open DuckDB store '{path}': {exc}") from exc
        # Timestamps are instants; show and compare them in UTC.
        self.con.execute("SET TimeZone = 'UTC'")

    @classmethod
    def from_url(cls, url: StoreURL, settings: StoreSettings) -> DuckDBEngine:
        return cls(
            url.target,
            memory_limit=settings.memory_limit,
            temp_directory=settings.temp_directory,
            threads=settings.threads,
        )

    def query(self, sql: exp.Expr | str) -> pa.Table:
        relation = self.con.sql(self.sql(sql))
        if relation is None:  # a statement, not a query
            return pa.table({})
        return relation.to_arrow_table()

    def run(self, sql: exp.Expr | str) -> None:
        self.con.execute(self.sql(sql))

    def close(self) -> None:
        self.con.close()

    def connection(self) -> DuckDBEngine:
        # cursor(): a new connection to the same database instance (DuckDB allows one process per file)
        other = object.__new__(DuckDBEngine)
        other.url, other.path = self.url, self.path
        other.con = self.con.cursor()
        other.con.execute("SET TimeZone = 'UTC'")
        return other

    def table_exists(self, name: str) -> bool:
        rows = self.con.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_name = ? AND table_schema = 'main'", [name]
        ).fetchall()
        return bool(rows)

    def table_columns(self, name: str) -> list[str]:
        rows = self.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
            [name],
        ).fetchall()
        return [r[0] for r in rows]

    def workspace(self) -> duckdb.DuckDBPyConnection:
        return self.con

    def load_arrow(self, table: str, data: pa.Table) -> None:
        # A relation named for this statement only, not register(): inside an open transaction a
        # registered table stays referenced until the commit, outside DuckDB's memory_limit.
        cols = ", ".join(self.quote(c) for c in data.column_names)
        done = self.con.from_arrow(data).query(
            "_segmint_arrow", f"INSERT INTO {self.quote(table)} ({cols}) SELECT {cols} FROM _segmint_arrow"
        )
        if done is not None:
            done.fetchall()
