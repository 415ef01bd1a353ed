"""What every engine does: run a query and return Arrow, load Arrow, keep the schema.

An engine owns its connection and nothing else.  SQL is written once here,
built from sqlglot expressions or in the plain ANSI subset DuckDB and
PostgreSQL share; an engine subclass overrides only what differs (Spark has no
``UPDATE`` on plain tables, so it overrides :meth:`Engine.upsert`).  Values
from users never enter SQL as text: loads go through staged Arrow tables.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

import duckdb
import pyarrow as pa
from sqlglot import exp

if TYPE_CHECKING:
    from segmint.config import StoreSettings
    from segmint.store.url import StoreURL

from segmint.model.tables import Column, Table
from segmint.model.types import FieldType


class Engine(ABC):
    """A connection to one store's database."""

    #: the key of this engine in URLs, markers, options and settings
    name: ClassVar[str]
    #: the sqlglot dialect its SQL is written in
    dialect: ClassVar[str]
    #: the column type used for each field type
    TYPES: ClassVar[dict[FieldType, str]]
    #: the exceptions the engine's driver raises, which callers turn into SegmintErrors
    DRIVER_ERRORS: ClassVar[tuple[type[Exception], ...]] = ()

    url: str

    @classmethod
    @abstractmethod
    def from_url(cls, url: StoreURL, settings: StoreSettings) -> Engine:
        """Connect to the store a parsed URL names."""

    # ---- queries -------------------------------------------------------------

    def sql(self, expression: exp.Expr | str) -> str:
        """The SQL text of an expression in this engine's dialect."""
        if isinstance(expression, str):
            return expression
        return expression.sql(dialect=self.dialect)

    def quote(self, identifier: str) -> str:
        """An identifier quoted for this engine."""
        return exp.to_identifier(identifier, quoted=True).sql(dialect=self.dialect)

    @abstractmethod
    def query(self, sql: exp.Expr | str) -> pa.Table:
        """Run a query and return its rows as Arrow."""

    @abstractmethod
    def run(self, sql: exp.Expr | str) -> None:
        """Run a statement that returns nothing."""

    def scalar(self, sql: exp.Expr | str) -> Any:
        """The first value of the first row, or ``None``."""
        table = self.query(sql)
        if table.num_rows == 0:
            return None
        return table.column(0)[0].as_py()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside commits together or not at all."""
        self.run("BEGIN")
        try:
            yield
        except BaseException:
            self.run("ROLLBACK")
            raise
        self.run("COMMIT")

    @abstractmethod
    def close(self) -> None:
        """Release the connection."""

    def connection(self) -> Engine:
        """Another connection to the same store, for another thread (a server's readers and writer).

        Transactions of different connections are isolated from each other: a
        reader sees what was committed when its query started.
        """
        raise NotImplementedError(f"{self.name} has no second connection")

    # ---- schema --------------------------------------------------------------

    @abstractmethod
    def table_exists(self, name: str) -> bool:
        """Whether a (non-temporary) table of that name exists."""

    @abstractmethod
    def table_columns(self, name: str) -> list[str]:
        """The column names of a table, in order."""

    def column_sql(self, column: Column) -> str:
        return f"{self.quote(column.name)} {self.TYPES[column.type]}"

    def create_table(
        self, table: Table, *, name: str | None = None, temporary: bool = False, columns: Sequence[Column] | None = None
    ) -> None:
        """Create ``table`` (or a temporary table of the given columns, for staging)."""
        cols = ", ".join(self.column_sql(c) for c in (columns if columns is not None else table.columns))
        kind = "TEMPORARY TABLE" if temporary else "TABLE"
        self.run(f"CREATE {kind} IF NOT EXISTS {self.quote(name or table.name)} ({cols})")

    LOOKUP_INDEXES: ClassVar[tuple[tuple[str, tuple[str, ...]], ...]] = ()
    """Indexes an engine's store keeps on its lookup keys: (table, columns) pairs.  DuckDB has none
    (its joins hash and its zone maps prune; an ART index would slow every load) and Spark cannot."""

    def create_lookup_indexes(self) -> None:
        """Create :attr:`LOOKUP_INDEXES` (the engines that keep some)."""
        for table, columns in self.LOOKUP_INDEXES:
            name = f"{table}_{'_'.join(columns)}_idx"
            self.run(
                f"CREATE INDEX IF NOT EXISTS {self.quote(name)} ON {self.quote(table)} "
                f"({', '.join(self.quote(c) for c in columns)})"
            )

    def add_column(self, table: str, column: Column) -> None:
        """Add a column (a new custom property) to a table."""
        self.run(f"ALTER TABLE {self.quote(table)} ADD COLUMN {self.column_sql(column)}")

    def drop_table(self, name: str) -> None:
        self.run(f"DROP TABLE IF EXISTS {self.quote(name)}")

    # ---- loading -------------------------------------------------------------

    @abstractmethod
    def load_arrow(self, table: str, data: pa.Table) -> None:
        """Append an Arrow table to ``table``, columns matched by name."""

    def delete_where(self, table: str, condition: str) -> None:
        """Delete the rows of ``table`` for which ``condition`` (SQL built from literals) holds."""
        self.run(f"DELETE FROM {self.quote(table)} WHERE {condition}")

    def insert_select(self, table: str, columns: Sequence[str], select: str) -> None:
        """``INSERT INTO table (columns) <select>``."""
        cols = ", ".join(self.quote(c) for c in columns)
        self.run(f"INSERT INTO {self.quote(table)} ({cols}) {select}")

    def upsert(self, table: Table, stage: str, columns: Sequence[str], *, now: str) -> None:
        """Merge the staged rows of ``stage`` into ``table`` by its users' id.

        Existing rows take every non-null staged value (an empty cell never
        erases what is stored); new rows get fresh surrogate keys numbered
        in id order, so the same load gives the same keys everywhere.
        ``columns`` are the staged columns besides the id; ``now`` is the
        load's timestamp literal (SQL text made by :meth:`timestamp_literal`).
        """
        q = self.quote
        id_col, key_col = table.id_column, table.key_column
        assert id_col is not None, f"{table.name} has no id column"
        assert key_col is not None, f"{table.name} has no key column"
        t, s = q(table.name), q(stage)
        if columns:
            sets = ", ".join(f"{q(c)} = COALESCE(s.{q(c)}, {t}.{q(c)})" for c in columns)
            self.run(
                f"UPDATE {t} SET {sets}, {q('updated_at')} = {now} FROM {s} AS s "
                f"WHERE {t}.{q(id_col)} = s.{q(id_col)} AND ({self.changed_condition(columns, stored=t)})"
            )
        insert_cols = [key_col, id_col, *columns, "updated_at"]
        select = (
            f"SELECT COALESCE((SELECT MAX({q(key_col)}) FROM {t}), 0) "
            f"+ ROW_NUMBER() OVER (ORDER BY s.{q(id_col)}), s.{q(id_col)}, "
            + "".join(f"s.{q(c)}, " for c in columns)
            + f"{now} FROM {s} AS s WHERE NOT EXISTS "
            f"(SELECT 1 FROM {t} AS t WHERE t.{q(id_col)} = s.{q(id_col)})"
        )
        self.insert_select(table.name, insert_cols, select)

    def changed_condition(self, columns: Sequence[str], staged: str = "s", stored: str = "t") -> str:
        """SQL that is true when a staged row would change its stored row (nulls change nothing)."""
        q = self.quote
        return (
            " OR ".join(
                f"({staged}.{q(c)} IS NOT NULL AND {staged}.{q(c)} IS DISTINCT FROM {stored}.{q(c)})" for c in columns
            )
            or "FALSE"
        )

    def create_view(self, name: str, select: str) -> None:
        """A temporary view over ``select`` (the loader's way to join staged rows to stored keys)."""
        self.run(f"CREATE TEMPORARY VIEW {self.quote(name)} AS {select}")

    def drop_view(self, name: str) -> None:
        self.run(f"DROP VIEW IF EXISTS {self.quote(name)}")

    def workspace(self) -> duckdb.DuckDBPyConnection | None:
        """A DuckDB connection to this very store, if it has one.

        The loader validates rows in DuckDB; an engine that *is* DuckDB lends
        its own connection so staged rows never leave the database.
        """
        return None

    def timestamp_literal(self, value: Any) -> str:
        """A timestamp-with-zone literal for a ``datetime`` (made in Python, never ``now()``)."""
        return self.sql(exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build("timestamptz")))
