"""PostgreSQL: a real server, reached with psycopg 3.

What differs from the base engine:

- results are built into Arrow from the cursor, typed by the columns' PostgreSQL
  types (``timestamptz`` → ``timestamp[us, UTC]``, ``numeric`` → ``float64``,
  ``jsonb`` → its JSON text);
- loads are one ``COPY … FROM STDIN (FORMAT csv)`` per call, fed with CSV that
  pyarrow writes (a null is an unquoted empty field, which COPY reads as NULL; an
  empty string is written ``""`` and stays an empty string);
- text columns are created ``COLLATE "C"``: strings compare and sort by code
  point, as in DuckDB and Spark, whatever the database's locale — so the same
  load numbers its new rows the same way and string conditions pick the same
  rows on every engine;
- the connection is in autocommit mode and :meth:`transaction` is psycopg's
  (``BEGIN`` … ``COMMIT``/``ROLLBACK``, a savepoint when nested).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
from psycopg import conninfo
from psycopg.types.numeric import FloatLoader
from psycopg.types.string import TextLoader
from sqlglot import exp

from segmint.config import StoreSettings
from segmint.engines.base import Engine
from segmint.errors import StoreError
from segmint.model.tables import Column
from segmint.model.types import FieldType
from segmint.store.url import StoreURL

#: rows per CSV chunk handed to COPY (bounds the memory a load needs)
COPY_BATCH_ROWS = 100_000
#: seconds to wait for the server unless the URL says otherwise
CONNECT_TIMEOUT = 10

_UTC_US = pa.timestamp("us", tz="UTC")

#: Arrow type of each PostgreSQL type, by type OID; other types are left to pyarrow to infer.
ARROW_TYPES: dict[int, pa.DataType] = {
    16: pa.bool_(),  # bool
    20: pa.int64(),  # int8
    21: pa.int64(),  # int2
    23: pa.int64(),  # int4
    26: pa.int64(),  # oid
    700: pa.float64(),  # float4
    701: pa.float64(),  # float8
    1700: pa.float64(),  # numeric (SUM and AVG of integers)
    18: pa.string(),  # char
    19: pa.string(),  # name
    25: pa.string(),  # text
    114: pa.string(),  # json, as its text
    1042: pa.string(),  # bpchar
    1043: pa.string(),  # varchar
    3802: pa.string(),  # jsonb, as its text
    705: pa.string(),  # unknown (an untyped literal)
    1082: pa.date32(),  # date
    1114: pa.timestamp("us"),  # timestamp (without zone)
    1184: _UTC_US,  # timestamptz
}


def _redacted(url: str) -> str:
    """The URL without its password, fit to show."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def _where(params: dict[str, Any]) -> str:
    """``host:port/database`` of connection parameters, for messages."""
    host = params.get("host") or params.get("hostaddr") or "localhost"
    port = params.get("port") or "5432"
    return f"{host}:{port}/{params.get('dbname') or params.get('user') or ''}"


def _reason(exc: Exception) -> str:
    """The gist of a connection error, on one line."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    first = lines[0]
    # "connection failed: connection to server at "h", port 1 failed: Connection refused"
    return first.rsplit(" failed: ", 1)[-1]


def _csv_ready(data: pa.Table) -> pa.Table:
    """Columns pyarrow can write as CSV that COPY reads back as the same values."""
    columns = []
    for column in data.columns:
        kind = column.type
        if isinstance(kind, pa.ExtensionType):  # e.g. DuckDB's JSON: write the storage (the text)
            column = pa.chunked_array([chunk.storage for chunk in column.chunks], kind.storage_type)
            kind = kind.storage_type
        if pa.types.is_dictionary(kind):
            column = column.cast(kind.value_type)
        elif pa.types.is_timestamp(kind) and kind.tz is not None and kind.tz != "UTC":
            column = column.cast(pa.timestamp(kind.unit, tz="UTC"))  # same instants, written with Z
        columns.append(column)
    return pa.table(columns, names=data.column_names)


class PostgresEngine(Engine):
    """A PostgreSQL database, in the connection's current schema."""

    name = "postgres"
    dialect = "postgres"
    DRIVER_ERRORS = (psycopg.Error,)
    # The keys every load and every segment joins on.  The events table has none: an index on
    # 100M events would slow every load more than it speeds the scans (docs/benchmarks.md).
    LOOKUP_INDEXES: ClassVar[tuple[tuple[str, tuple[str, ...]], ...]] = (
        ("contacts", ("contact_id",)),
        ("contacts", ("contact_key",)),
        ("contacts", ("company_key",)),
        ("companies", ("company_id",)),
        ("companies", ("company_key",)),
        ("deals", ("deal_id",)),
    )
    TYPES: ClassVar[dict[FieldType, str]] = {
        FieldType.STRING: "TEXT",
        FieldType.INTEGER: "BIGINT",
        FieldType.FLOAT: "DOUBLE PRECISION",
        FieldType.BOOLEAN: "BOOLEAN",
        FieldType.TIMESTAMP: "TIMESTAMPTZ",
        FieldType.JSON: "JSONB",
    }

    def __init__(self, url: str, *, connect_timeout: int = CONNECT_TIMEOUT) -> None:
        self.url = _redacted(url)
        self._dsn, self._timeout = url, connect_timeout
        try:
            params = conninfo.conninfo_to_dict(url)
        except psycopg.Error as exc:
            raise StoreError(f"'{self.url}' is not a valid PostgreSQL URL: {_reason(exc)}") from None
        params.setdefault("connect_timeout", connect_timeout)
        params.setdefault("application_name", "segmint")
        params["client_encoding"] = "UTF8"
        try:
            self.con = psycopg.connect(conninfo.make_conninfo("", **params), autocommit=True)
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to PostgreSQL at {_where(params)}: {_reason(exc)}") from None
        # Numbers come back as floats and JSON as its text (not Decimal and dicts).
        self.con.adapters.register_loader("numeric", FloatLoader)
        self.con.adapters.register_loader("json", TextLoader)
        self.con.adapters.register_loader("jsonb", TextLoader)
        # Timestamps are instants; show and compare them in UTC.
        self.con.execute("SET TimeZone = 'UTC'")

    @classmethod
    def from_url(cls, url: StoreURL, settings: StoreSettings) -> PostgresEngine:
        return cls(url.target)

    # ---- queries -------------------------------------------------------------------

    def query(self, sql: exp.Expr | str) -> pa.Table:
        with self.con.cursor() as cur:
            cur.execute(self.sql(sql))
            if cur.description is None:  # a statement, not a query
                return pa.table({})
            rows = cur.fetchall()
            columns = list(zip(*rows, strict=True)) if rows else [() for _ in cur.description]
            arrays = []
            for column, values in zip(cur.description, columns, strict=True):
                kind = ARROW_TYPES.get(column.type_code)
                arrays.append(pa.array(values, type=kind) if kind is not None else pa.array(values))
            return pa.table(arrays, names=[c.name for c in cur.description])

    def run(self, sql: exp.Expr | str) -> None:
        self.con.execute(self.sql(sql))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """``BEGIN`` … ``COMMIT``, or ``ROLLBACK`` on any exception (a savepoint when nested)."""
        with self.con.transaction():
            yield

    def close(self) -> None:
        self.con.close()

    def connection(self) -> PostgresEngine:
        return PostgresEngine(self._dsn, connect_timeout=self._timeout)

    # ---- schema --------------------------------------------------------------------

    def column_sql(self, column: Column) -> str:
        sql = super().column_sql(column)
        if column.type == FieldType.STRING:
            sql += ' COLLATE "C"'
        return sql

    def table_exists(self, name: str) -> bool:
        row = self.con.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = %s",
            [name],
        ).fetchone()
        return row is not None

    def table_columns(self, name: str) -> list[str]:
        # Resolved like a name in SQL: temporary tables first, then the search path.
        rows = self.con.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 "
            "AND NOT attisdropped ORDER BY attnum",
            [self.quote(name)],
        ).fetchall()
        return [r[0] for r in rows]

    # ---- loading -------------------------------------------------------------------

    def load_arrow(self, table: str, data: pa.Table) -> None:
        """Append with one ``COPY``: the Arrow table streamed as CSV, columns matched by name."""
        if data.num_rows == 0:
            return
        data = _csv_ready(data)
        cols = ", ".join(self.quote(c) for c in data.column_names)
        statement = f"COPY {self.quote(table)} ({cols}) FROM STDIN (FORMAT csv, HEADER true)"
        with self.con.cursor() as cur, cur.copy(statement) as copy:
            header = True
            for batch in data.to_batches(max_chunksize=COPY_BATCH_ROWS):
                if batch.num_rows == 0:
                    continue
                buffer = io.BytesIO()
                pa_csv.write_csv(batch, buffer, pa_csv.WriteOptions(include_header=header))
                copy.write(buffer.getbuffer())
                header = False
