"""Spark: local mode in tests, a cluster (master URL or Spark Connect) in production.

A store is one Spark database (``?database=NAME``, default ``segmint``) whose
directory is ``<warehouse>/<NAME>.db``; each table is a parquet table in a
directory of its own there (``CREATE TABLE … USING parquet LOCATION …``).

**Persistence.**  Spark's default catalog lives in memory and is gone when the
session ends.  A Hive metastore would keep it, but it needs its own (Derby)
database whose location is fixed when the JVM starts, which does not fit one
store per URL in a shared session.  So the store keeps its own catalog:
``<warehouse>/<NAME>.db/_segmint_catalog`` lists each table and its columns
(parquet, written directly when the warehouse is a local directory, by a Spark
job on any other file system), and opening a store registers every table listed
there over the files its directory already holds.  The catalog is rewritten
after the schema changes: when the outermost :meth:`SparkEngine.transaction`
ends, or at once outside one.  One process at a time should write a store.

**No transactions.**  Spark has none over parquet tables:
:meth:`SparkEngine.transaction` only groups catalog writes.  A failed load can
leave the rows it had already appended (the loader stages everything first,
so the window is the final inserts).

**Sessions.**  Starting Spark takes seconds, so an engine reuses the
process's running SparkContext when there is one (a test run's session, a
notebook's) and works in a ``newSession()`` of it: its own current database,
temporary views and settings (UTC, few shuffle partitions), the shared catalog.
Closing the store never stops a context it did not start.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.parquet as pq
from py4j.protocol import Py4JError
from pyspark.errors import AnalysisException, PySparkException
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from sqlglot import exp

from segmint.config import StoreSettings
from segmint.engines.base import Engine
from segmint.errors import EngineNotInstalledError, StoreError
from segmint.model.tables import Column, Table
from segmint.model.types import FieldType
from segmint.store.url import StoreURL

DEFAULT_DATABASE = "segmint"
CATALOG_DIR = "_segmint_catalog"
TEMP_DIR = "_segmint_tmp"

#: settings fixed when a Spark context starts (only used when segmint starts it)
STATIC_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}
#: and in local mode, where nothing but the loopback is needed (a cluster's executors must reach the driver)
LOCAL_CONF = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}
#: settings of every session segmint works in
SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CATALOG_SCHEMA = "name STRING, position INT, columns STRING"
_CATALOG_ARROW = pa.schema([("name", pa.string()), ("position", pa.int32()), ("columns", pa.string())])

# Temporary tables of every engine in this process (they share the catalog), by database location:
# the store's catalog file must not list them.
_temporary_tables: dict[str, set[str]] = {}
# A Spark context segmint started itself, and how many engines use it.
_started: dict[str, Any] = {"session": None, "users": 0}
_started_lock = threading.Lock()


def build_session(master: str, warehouse: str | None = None) -> SparkSession:
    """A Spark session with segmint's settings: ``local[N]``, ``spark://host:port`` or ``sc://host`` (Connect)."""
    if master.startswith("sc://"):
        session = SparkSession.builder.remote(master).create()
        for key, value in SESSION_CONF.items():
            session.conf.set(key, value)
        return session
    conf = {**STATIC_CONF, **SESSION_CONF}
    if master.startswith("local"):
        conf.update(LOCAL_CONF)
        # Keep Spark from looking up the host's own name and address: there may be no network.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.master(master).appName("segmint")
    for key, value in conf.items():
        builder = builder.config(key, value)
    if warehouse:
        builder = builder.config("spark.sql.warehouse.dir", warehouse)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def _context_running() -> bool:
    from pyspark import SparkContext

    return SparkContext._active_spark_context is not None


def _literal(value: str) -> str:
    return exp.Literal.string(value).sql(dialect="spark")


def _same_path(a: str, b: str) -> bool:
    def norm(path: str) -> str:
        return (_local_path(path) or path).rstrip("/")

    return norm(a) == norm(b)


def _local_path(path: str) -> str | None:
    """The local file-system path of a location (``file:/…`` or a plain path), else ``None``."""
    if path.startswith("file:"):
        return "/" + unquote(path[len("file:") :]).lstrip("/")
    if "://" not in path and os.path.isabs(path):
        return path
    return None


def _arrow_ready(data: pa.Table) -> pa.Table:
    """Columns Spark takes from Arrow: no extension, dictionary or all-null types."""
    names, columns = [], []
    for name, column in zip(data.column_names, data.columns, strict=True):
        kind = column.type
        if pa.types.is_null(kind):
            continue  # a column of nulls: the target's own NULL
        if isinstance(kind, pa.ExtensionType):  # e.g. DuckDB's JSON: its text
            column = pa.chunked_array([chunk.storage for chunk in column.chunks], kind.storage_type)
            kind = kind.storage_type
        if pa.types.is_dictionary(kind):
            column = column.cast(kind.value_type)
        names.append(name)
        columns.append(column)
    return pa.table(columns, names=names)


class SparkEngine(Engine):
    """One Spark database: parquet tables in ``<warehouse>/<database>.db``."""

    name = "spark"
    dialect = "spark"
    DRIVER_ERRORS = (PySparkException, Py4JError)
    TYPES: ClassVar[dict[FieldType, str]] = {
        FieldType.STRING: "STRING",
        FieldType.INTEGER: "BIGINT",
        FieldType.FLOAT: "DOUBLE",
        FieldType.BOOLEAN: "BOOLEAN",
        FieldType.TIMESTAMP: "TIMESTAMP",
        FieldType.JSON: "STRING",
    }

    def __init__(
        self,
        spark: SparkSession,
        *,
        database: str = DEFAULT_DATABASE,
        warehouse: str | None = None,
        url: str = "",
        owns: str | None = None,
    ) -> None:
        """Work in ``database`` of ``spark`` (a session of its own); ``owns``: what :meth:`close` stops."""
        self.spark = spark
        self.database = database
        self.url = url or f"spark://?database={database}"
        self._owns = owns  # "context": a context segmint started; "session": a Connect session
        self._temporary: dict[str, str] = {}  # temporary table -> its directory
        self._depth = 0
        self._catalog_dirty = False
        for key, value in SESSION_CONF.items():
            spark.conf.set(key, value)
        db = self.quote(database)
        if warehouse:
            wanted = f"{warehouse.rstrip('/')}/{database}.db"
            self.run(f"CREATE DATABASE IF NOT EXISTS {db} LOCATION {_literal(wanted)}")
        else:
            self.run(f"CREATE DATABASE IF NOT EXISTS {db}")
        info = {r["info_name"]: r["info_value"] for r in spark.sql(f"DESCRIBE DATABASE {db}").collect()}
        self.location: str = info["Location"].rstrip("/")
        if warehouse and not _same_path(self.location, wanted):
            raise StoreError(
                f"this Spark session already has a database '{database}' at {self.location}, not in the warehouse "
                f"{warehouse}; name another one with ?database=NAME"
            )
        self.run(f"USE {db}")
        self._register_tables()

    @classmethod
    def from_url(cls, url: StoreURL, settings: StoreSettings) -> SparkEngine:
        database = url.options.get("database", DEFAULT_DATABASE)
        if not _IDENTIFIER.fullmatch(database):
            raise StoreError(f"'{database}' is not a Spark database name (letters, digits and _)")
        warehouse = url.options.get("warehouse")
        master = url.target
        if warehouse and "://" not in warehouse and not warehouse.startswith("file:"):
            warehouse = os.path.abspath(warehouse)
        if master.startswith("local") and not warehouse:
            raise StoreError(f"the Spark store '{url.raw}' needs a warehouse directory: spark://{master}?warehouse=DIR")
        owns: str | None
        try:
            if master.startswith("sc://"):
                spark, owns = build_session(master), "session"
            else:
                with _started_lock:
                    if _context_running():
                        root = SparkSession.builder.getOrCreate()
                        owns = "context" if root is _started["session"] else None
                    else:
                        root = build_session(master, warehouse)
                        _started["session"], _started["users"], owns = root, 0, "context"
                    if owns:
                        _started["users"] += 1
                spark = root.newSession()
        except StoreError:
            raise
        except Exception as exc:
            if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
                raise EngineNotInstalledError("the spark engine needs Java 17 (java not found on PATH)") from None
            reason = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
            raise StoreError(f"cannot start Spark ({master}): {reason}") from None
        try:
            return cls(spark, database=database, warehouse=warehouse, url=url.raw, owns=owns)
        except BaseException:
            cls._release(spark, owns)
            raise

    # ---- queries -------------------------------------------------------------------

    def query(self, sql: exp.Expr | str) -> pa.Table:
        table = self.spark.sql(self.sql(sql)).toArrow()
        # Plain nullable fields, without Spark's field metadata.
        schema = pa.schema([pa.field(f.name, f.type) for f in table.schema])
        return table.cast(schema) if schema != table.schema else table

    def run(self, sql: exp.Expr | str) -> None:
        self.spark.sql(self.sql(sql))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Spark has no transactions: this only writes the store's catalog once, at the end."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0:
                self._flush_catalog()

    def close(self) -> None:
        try:
            for name in list(self._temporary):
                self.drop_table(name)
            self._flush_catalog()
        finally:
            self._release(self.spark, self._owns)
            self._owns = None

    @staticmethod
    def _release(spark: SparkSession, owns: str | None) -> None:
        if owns == "session":
            spark.stop()
        elif owns == "context":
            with _started_lock:
                _started["users"] -= 1
                if _started["users"] <= 0 and _started["session"] is not None:
                    _started["session"].stop()
                    _started["session"] = None

    # ---- schema --------------------------------------------------------------------

    def table_exists(self, name: str) -> bool:
        return name not in self._temporary and bool(
            self.spark.catalog.tableExists(f"{self.quote(self.database)}.{self.quote(name)}")
        )

    def table_columns(self, name: str) -> list[str]:
        try:
            return list(self.spark.table(self.quote(name)).columns)
        except AnalysisException:
            return []

    def create_table(
        self, table: Table, *, name: str | None = None, temporary: bool = False, columns: Sequence[Column] | None = None
    ) -> None:
        """A parquet table in the store's directory (a temporary one is dropped on close)."""
        name = name or table.name
        cols = ", ".join(self.column_sql(c) for c in (columns if columns is not None else table.columns))
        if temporary:
            if name in self._temporary:
                return
            path = f"{self.location}/{TEMP_DIR}/{uuid.uuid4().hex}"
            self.run(f"CREATE TABLE {self.quote(name)} ({cols}) USING parquet LOCATION {_literal(path)}")
            self._add_temporary(name, path)
            return
        self.run(
            f"CREATE TABLE IF NOT EXISTS {self.quote(name)} ({cols}) USING parquet "
            f"LOCATION {_literal(self._table_path(name))}"
        )
        self._schema_changed()

    def add_column(self, table: str, column: Column) -> None:
        self.run(f"ALTER TABLE {self.quote(table)} ADD COLUMNS ({self.column_sql(column)})")
        if table not in self._temporary:
            self._schema_changed()

    def drop_table(self, name: str) -> None:
        """Drop the table and delete its files (they would come back with a table of the same name)."""
        temporary = name in self._temporary
        if temporary:
            path = self._temporary.pop(name)
            _temporary_tables.get(self.location, set()).discard(name)
        elif self.table_exists(name):
            path = self._table_path(name)
        else:
            return
        self.run(f"DROP TABLE IF EXISTS {self.quote(name)}")
        self._delete_path(path)
        if not temporary:
            self._schema_changed()

    def _add_temporary(self, name: str, path: str) -> None:
        self._temporary[name] = path
        _temporary_tables.setdefault(self.location, set()).add(name)

    def _table_path(self, name: str) -> str:
        return f"{self.location}/{name}"

    def _delete_path(self, path: str) -> None:
        try:
            # Through the JVM's Hadoop file system: local, HDFS, object stores alike.
            jvm: Any = self.spark._jvm
            hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
            hadoop_path.getFileSystem(self.spark._jsc.hadoopConfiguration()).delete(hadoop_path, True)
        except Exception:
            # Spark Connect has no JVM here: leave an empty directory behind rather than data.
            self.spark.createDataFrame([], "x INT").write.mode("overwrite").parquet(path)

    # ---- the store's own catalog ----------------------------------------------------

    def _schema_changed(self) -> None:
        self._catalog_dirty = True
        if self._depth == 0:
            self._flush_catalog()

    def _flush_catalog(self) -> None:
        """Write the list of the store's tables and their columns (from Spark's catalog)."""
        if not self._catalog_dirty:
            return
        rows: list[dict[str, Any]] = []
        temporary = _temporary_tables.get(self.location, set())
        for table in self.spark.sql(f"SHOW TABLES IN {self.quote(self.database)}").collect():
            if table["isTemporary"] or table["tableName"] in temporary:
                continue
            fields = self.spark.table(f"{self.quote(self.database)}.{self.quote(table['tableName'])}").schema.fields
            columns = ", ".join(f"{self.quote(f.name)} {f.dataType.simpleString()}" for f in fields)
            rows.append({"name": table["tableName"], "position": len(rows), "columns": columns})
        local = _local_path(f"{self.location}/{CATALOG_DIR}")
        if local is not None:
            # A local directory: written here, at once and atomically (a Spark job costs half a second).
            os.makedirs(local, exist_ok=True)
            partial = os.path.join(local, f".part-{uuid.uuid4().hex}.parquet")
            pq.write_table(pa.Table.from_pylist(rows, schema=_CATALOG_ARROW), partial)
            for old in os.listdir(local):
                if not old.startswith("."):
                    os.remove(os.path.join(local, old))
            os.replace(partial, os.path.join(local, "part-00000.parquet"))
        else:
            frame = self.spark.createDataFrame([tuple(r.values()) for r in rows], _CATALOG_SCHEMA).coalesce(1)
            frame.write.mode("overwrite").parquet(f"{self.location}/{CATALOG_DIR}")
        self._catalog_dirty = False

    def _read_catalog(self) -> list[dict[str, Any]]:
        path = f"{self.location}/{CATALOG_DIR}"
        local = _local_path(path)
        if local is not None:
            if not os.path.isdir(local):
                return []
            return pq.read_table(local, schema=_CATALOG_ARROW).to_pylist()
        try:
            return [r.asDict() for r in self.spark.read.schema(_CATALOG_SCHEMA).parquet(path).collect()]
        except AnalysisException:  # a new store: no catalog yet
            return []

    def _register_tables(self) -> None:
        """Register the tables a previous session made (those this session knows stay as they are)."""
        rows = self._read_catalog()
        if not rows:
            return
        known = {t["tableName"] for t in self.spark.sql(f"SHOW TABLES IN {self.quote(self.database)}").collect()}
        for row in sorted(rows, key=lambda r: r["position"]):
            if row["name"] in known:
                continue
            self.run(
                f"CREATE TABLE IF NOT EXISTS {self.quote(row['name'])} ({row['columns']}) USING parquet "
                f"LOCATION {_literal(self._table_path(row['name']))}"
            )

    # ---- loading -------------------------------------------------------------------

    def load_arrow(self, table: str, data: pa.Table) -> None:
        """Append: the Arrow table becomes a DataFrame, cast to the table's columns (matched by name)."""
        if data.num_rows == 0:
            return
        data = _arrow_ready(data)
        target = self.spark.table(self.quote(table)).schema
        frame = self.spark.createDataFrame(data)
        given = set(data.column_names)
        frame = frame.select(
            *[
                (F.col(self.quote(f.name)) if f.name in given else F.lit(None)).cast(f.dataType).alias(f.name)
                for f in target.fields
            ]
        )
        frame.write.insertInto(self.quote(table))

    def upsert(self, table: Table, stage: str, columns: Sequence[str], *, now: str) -> None:
        """The base's merge without ``UPDATE``: append new rows, or rewrite the table when rows change.

        Same result as :meth:`Engine.upsert`: existing rows take every non-null
        staged value and ``updated_at = now`` when that changes them; new rows get
        keys ``max(key) + 1, …`` in id order.  Spark cannot overwrite a table it
        is reading, so a rewrite goes through a temporary table first.
        """
        q = self.quote
        id_col, key_col = table.id_column, table.key_column
        assert id_col
        assert key_col
        t, s = q(table.name), q(stage)
        changed = self.changed_condition(columns) if columns else "FALSE"
        counts = self.query(
            f"SELECT SUM(CASE WHEN t.{q(id_col)} IS NULL THEN 1 ELSE 0 END) AS new_rows, "
            f"SUM(CASE WHEN t.{q(id_col)} IS NOT NULL AND ({changed}) THEN 1 ELSE 0 END) AS changed_rows "
            f"FROM {s} AS s LEFT JOIN {t} AS t ON t.{q(id_col)} = s.{q(id_col)}"
        ).to_pylist()[0]
        new_rows, changed_rows = int(counts["new_rows"] or 0), int(counts["changed_rows"] or 0)
        if not new_rows and not changed_rows:
            return
        stored = self.table_columns(table.name)
        staged = set(columns)

        def new_value(column: str) -> str:
            if column == key_col:
                return f"m.max_key + ROW_NUMBER() OVER (ORDER BY s.{q(id_col)})"
            if column == id_col or column in staged:
                return f"s.{q(column)}"
            return now if column == "updated_at" else "NULL"

        new_select = (
            f"SELECT {', '.join(f'{new_value(c)} AS {q(c)}' for c in stored)} FROM {s} AS s "
            f"CROSS JOIN (SELECT COALESCE(MAX({q(key_col)}), 0) AS max_key FROM {t}) AS m "
            f"WHERE NOT EXISTS (SELECT 1 FROM {t} AS t WHERE t.{q(id_col)} = s.{q(id_col)})"
        )
        if not changed_rows:
            self.run(f"INSERT INTO {t} {new_select}")
            return

        def merged_value(column: str) -> str:
            if column in staged:
                return f"COALESCE(s.{q(column)}, t.{q(column)})"
            if column == "updated_at":
                return f"CASE WHEN {changed} THEN {now} ELSE t.{q(column)} END"
            return f"t.{q(column)}"

        merged_select = (
            f"SELECT {', '.join(f'{merged_value(c)} AS {q(c)}' for c in stored)} "
            f"FROM {t} AS t LEFT JOIN {s} AS s ON t.{q(id_col)} = s.{q(id_col)}"
        )
        self._rewrite(table.name, f"{merged_select} UNION ALL {new_select}")

    def _rewrite(self, table: str, select: str) -> None:
        """Replace a table's rows with ``select`` (which may read the table) through a side table."""
        q = self.quote
        side = f"segmint_merge_{uuid.uuid4().hex[:12]}"
        path = f"{self.location}/{TEMP_DIR}/{uuid.uuid4().hex}"
        self._add_temporary(side, path)
        self.run(f"CREATE TABLE {q(side)} USING parquet LOCATION {_literal(path)} AS {select}")
        try:
            self.run(f"INSERT OVERWRITE TABLE {q(table)} SELECT * FROM {q(side)}")
        finally:
            self.drop_table(side)

    def delete_where(self, table: str, condition: str) -> None:
        """No DELETE on parquet tables: keep the other rows by rewriting the table."""
        if not self.scalar(f"SELECT COUNT(*) FROM {self.quote(table)} WHERE {condition}"):
            return
        self._rewrite(table, f"SELECT * FROM {self.quote(table)} WHERE NOT COALESCE({condition}, FALSE)")
