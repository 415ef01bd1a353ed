"""Load contacts, companies, events, deals and consents into a store.

DATA.md's loading rules, in order:

1. each file is read in Arrow batches, renamed and translated by the mapping;
2. each batch is validated in DuckDB (the *workspace*): typed rows go to a
   staging table, bad rows to the rejects file with their row number and
   every reason;
3. staged rows are deduplicated (the last row of an id wins; an event id
   counts once) and, for events, put in time order;
4. inside one transaction for the whole command, rows referring to contacts
   or companies the store does not know create them (an id only, to be
   filled by a later load), then the rows are merged: contacts, companies and
   deals upserted by id, events inserted unless their ``event_id`` is stored,
   consents inserted unless the same record is stored.

A run that fails leaves the store as it was; a repeated load changes nothing.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from segmint.errors import LoadError, SegmintError
from segmint.model.fields import CustomField
from segmint.model.tables import COMPANIES, CONSENTS, CONTACTS, DEALS, EVENTS, Column
from segmint.model.types import FieldType
from segmint.store.load.mapping import Mapping
from segmint.store.load.readers import ROW, Batch, detect_format, file_size, read_batches
from segmint.store.load.rejects import RejectsWriter
from segmint.store.load.validate import (
    CHECKS,
    REASON,
    SPECS,
    SQL_TYPES,
    EntitySpec,
    Plan,
    check_emails,
    ident,
    lit,
    plan_file,
)
from segmint.store.store import Store

Progress = Callable[[str, int, int], None]
"""Called as ``progress(label, done, total)`` while a file loads."""

STAGE_BATCH_ROWS = 1_000_000


@dataclass
class FileResult:
    """What one file (or stream of batches) did to the store."""

    source: str
    rows: int = 0
    loaded: int = 0  # new rows
    updated: int = 0  # existing rows that changed
    unchanged: int = 0  # rows already stored as they are (or duplicate events)
    rejected: int = 0
    rejects_path: Path | None = None
    reject_samples: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class LoadSummary:
    """The summary a load prints at the end."""

    entity: str
    files: list[FileResult] = field(default_factory=list)
    created_references: dict[str, int] = field(default_factory=dict)
    new_fields: list[CustomField] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(int(getattr(f, name)) for f in self.files)


def _promote_properties(table: pa.Table) -> pa.Table:
    """Lift typed event columns out of a nested ``properties`` object (Segment-style JSON)."""
    if "properties" not in table.column_names or not pa.types.is_struct(table.schema.field("properties").type):
        return table
    props = table.column("properties")
    struct_type = props.type
    known = {c.name for c in EVENTS.input_columns}
    keep = []
    for i in range(struct_type.num_fields):
        child = struct_type.field(i)
        if child.name in known and child.name not in table.column_names:
            table = table.append_column(child.name, pc.struct_field(props, [i]))
        else:
            keep.append(i)
    if len(keep) == struct_type.num_fields:
        return table
    if keep:
        rest = pa.chunked_array(
            [
                pa.StructArray.from_arrays(
                    [chunk.field(i) for i in keep], [struct_type.field(i).name for i in keep], mask=chunk.is_null()
                )
                for chunk in props.chunks
            ],
        )
        return table.set_column(table.column_names.index("properties"), "properties", rest)
    return table.drop_columns(["properties"])


class Loader:
    """One load command: its store, entity, workspace and transaction."""

    def __init__(
        self,
        store: Store,
        entity: str,
        *,
        mapping: Mapping | None = None,
        rejects_dir: Path | None = None,
        progress: Progress | None = None,
    ) -> None:
        if entity not in SPECS:
            raise LoadError(f"unknown entity '{entity}' (expected one of {', '.join(SPECS)})")
        self.store = store
        self.engine = store.engine
        self.spec: EntitySpec = SPECS[entity]
        self.mapping = mapping or Mapping()
        self.rejects_dir = Path(rejects_dir or store.settings.load.rejects_dir)
        self.progress = progress
        self.summary = LoadSummary(entity)
        shared = self.engine.workspace()
        self.shared = shared is not None
        if shared is not None:
            self.ws = shared
        else:
            self.ws = duckdb.connect(config={"temp_directory": tempfile.mkdtemp(prefix="segmint-load-")})
            self.ws.execute("SET enable_progress_bar = false")  # the loader reports progress itself
        self.zone = self.mapping.timezone or store.settings.load.timezone
        self.now = self.engine.timestamp_literal(datetime.now(UTC))
        self._serial = itertools.count(1)

    # ---- entry points ---------------------------------------------------------

    def load_files(self, paths: Iterable[Path], fmt: str | None = None) -> LoadSummary:
        files = [(Path(p), detect_format(Path(p), fmt)) for p in paths]
        for path, _ in files:
            if not path.exists():
                raise LoadError(f"{path}: no such file")
        with self._transaction():
            for path, file_fmt in files:
                total = file_size(path, file_fmt)
                batches = self._with_progress(str(path), read_batches(path, file_fmt), total)
                self._load_source(str(path), batches, self.rejects_dir / f"{path.stem}.rejects.csv")
        return self.summary

    def load_tables(self, batches: Iterable[pa.Table | pa.RecordBatch], source: str) -> LoadSummary:
        def numbered() -> Iterator[Batch]:
            start = 0
            for data in batches:
                table = pa.Table.from_batches([data]) if isinstance(data, pa.RecordBatch) else data
                rows = pa.array(range(start + 1, start + 1 + table.num_rows), pa.int64())
                start += table.num_rows
                yield Batch(table.append_column(ROW, rows), start)

        with self._transaction():
            self._load_source(source, numbered(), self.rejects_dir / f"{source}.rejects.csv")
        return self.summary

    def load_tracked_events(self, data: pa.Table, source: str, *, dedupe_window: timedelta) -> LoadSummary:
        """Events the tracking API has already typed and checked: one INSERT instead of the file machinery.

        Used only by the tracking writer (:mod:`segmint.server.ingest`); the file loader never takes
        this path.  It applies when the store is DuckDB and every row is what the generic loader would
        accept unchanged (typed columns, an ``event_id``, an event name and a time, a contact or an
        anonymous id, no column with a value check); otherwise it is :meth:`load_tables`, rejects and
        all.  What differs from the generic path:

        - no validation query (the rows are typed Arrow already; strings are trimmed as the loader
          trims them);
        - the contacts the rows refer to are created only when some are missing (one anti-join);
        - the ``event_id`` dedupe reads only stored events within ``dedupe_window`` of the staged
          events' times: a stored event with the same id but a time further away is not seen, and
          the row is stored again.  Tracked retries carry the message's own time (its ``timestamp``,
          or ``originalTimestamp`` corrected by the clock skew), and a message without either is
          stamped when received, so only a retry later than the window after the first send of a
          message without a time can be stored twice.
        """
        if not self._trusted(data):
            return self.load_tables([data], source)
        result = FileResult(source, rows=data.num_rows)
        ids = data.column("event_id").to_pylist()
        first: dict[str, int] = {}
        for i, event_id in enumerate(ids):
            first.setdefault(event_id, i)  # an event id counts once: its first row wins
        if len(first) < len(ids):
            data = data.take(pa.array(sorted(first.values()), pa.int64()))
        low, high = pc.min_max(data.column("ts")).values()
        lo = self.engine.timestamp_literal(low.as_py() - dedupe_window)
        hi = self.engine.timestamp_literal(high.as_py() + dedupe_window)
        with self._transaction():
            if "contact_id" in data.column_names:
                self._ensure_tracked_contacts(data)
            inserted = self._insert_tracked(data, lo, hi)
        result.loaded = inserted
        result.unchanged = result.rows - inserted  # stored already, or repeated in the batch
        self.summary.files.append(result)
        return self.summary

    def _trusted(self, data: pa.Table) -> bool:
        """Whether the generic loader would take every row of ``data`` as it is (see load_tracked_events)."""
        if not self.shared or self.spec.name != "events" or self.mapping != Mapping() or data.num_rows == 0:
            return False
        known = {c.name: c.type for c in EVENTS.input_columns}
        arrow = {
            FieldType.STRING: pa.string(),
            FieldType.INTEGER: pa.int64(),
            FieldType.FLOAT: pa.float64(),
            FieldType.BOOLEAN: pa.bool_(),
            FieldType.JSON: pa.string(),
        }
        for f in data.schema:
            kind = FieldType.STRING if f.name in ("contact_id", "anonymous_id") else known.get(f.name)
            if kind is None or ("events", f.name) in CHECKS:
                return False
            if kind is FieldType.TIMESTAMP:
                if not pa.types.is_timestamp(f.type) or f.type.tz is None:
                    return False
            elif f.type != arrow.get(kind):
                return False
        names = set(data.column_names)
        if not {"event_id", "event", "ts"} <= names or not names & {"contact_id", "anonymous_id"}:
            return False
        if any(data.column(c).null_count for c in ("event_id", "event", "ts")):
            return False
        for name in ("event_id", "event"):
            if any(not v.strip(" ") for v in data.column(name).to_pylist()):
                return False
        who = [data.column(c) for c in ("contact_id", "anonymous_id") if c in names]
        present = pc.is_valid(who[0]) if len(who) == 1 else pc.or_(pc.is_valid(who[0]), pc.is_valid(who[1]))
        return bool(pc.all(present).as_py())

    def _ensure_tracked_contacts(self, data: pa.Table) -> None:
        """Create the contacts the rows name and the store lacks; nothing to do when all are known."""
        q = self.engine.quote
        raw = self.ws.from_arrow(data.select(["contact_id"]))
        found = raw.query(
            "segmint_raw",
            f"SELECT DISTINCT s.contact_id FROM segmint_raw AS s WHERE s.contact_id IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {q(CONTACTS.name)} AS c WHERE c.contact_id = s.contact_id)",
        )
        assert found is not None, "a SELECT returns a relation"
        missing = found.to_arrow_table()
        if not missing.num_rows:
            return
        name = self._name("refs")
        self.engine.run(f"CREATE TEMPORARY TABLE {q(name)} (contact_id VARCHAR)")
        try:
            self.engine.load_arrow(name, missing)
            self.engine.upsert(CONTACTS, name, [], now=self.now)
        finally:
            self.engine.drop_table(name)
        self.summary.created_references[CONTACTS.name] = (
            self.summary.created_references.get(CONTACTS.name, 0) + missing.num_rows
        )

    def _insert_tracked(self, data: pa.Table, lo: str, hi: str) -> int:
        q = self.engine.quote
        typed = []
        for name in data.column_names:
            kind = FieldType.STRING if name == "contact_id" else EVENTS.column(name).type
            if kind is FieldType.STRING:
                typed.append(f"NULLIF(trim({q(name)}), '') AS {q(name)}")
            elif kind is FieldType.JSON:
                typed.append(f"NULLIF(CAST(NULLIF(trim({q(name)}), '') AS JSON), '{{}}') AS {q(name)}")
            else:
                typed.append(f"CAST({q(name)} AS {SQL_TYPES[kind]}) AS {q(name)}")
        out = [n for n in data.column_names if n != "contact_id"]
        select = [f"t.{q(n)}" for n in out]
        join = ""
        if "contact_id" in data.column_names:
            out.append("contact_key")
            select.append("c.contact_key")
            join = f"LEFT JOIN {q(CONTACTS.name)} AS c ON c.contact_id = t.contact_id"
        done = self.ws.from_arrow(data).query(
            "segmint_raw",
            f"INSERT INTO {q(EVENTS.name)} ({', '.join(q(c) for c in out)}) "
            f"SELECT {', '.join(select)} FROM (SELECT {', '.join(typed)} FROM segmint_raw) AS t {join} "
            f"WHERE NOT EXISTS (SELECT 1 FROM {q(EVENTS.name)} AS e WHERE e.event_id = t.event_id "
            f"AND e.ts BETWEEN {lo} AND {hi}) ORDER BY t.ts, t.event_id",
        )
        assert done is not None, "an INSERT returns its row count"
        return int(done.fetchall()[0][0])

    # ---- machinery ------------------------------------------------------------

    def _transaction(self):  # type: ignore[no-untyped-def]
        return self.engine.transaction()

    def _with_progress(self, label: str, batches: Iterator[Batch], total: int) -> Iterator[Batch]:
        for batch in batches:
            if self.progress:
                self.progress(label, batch.position, total)
            yield batch

    def _name(self, kind: str) -> str:
        return f"segmint_{kind}_{self.spec.name}_{next(self._serial)}"

    def _set_zone(self, zone: str) -> None:
        self.ws.execute(f"SET TimeZone = {lit(zone)}")

    def _load_source(self, source: str, batches: Iterator[Batch], rejects_path: Path) -> None:
        result = FileResult(source)
        rejects = RejectsWriter(rejects_path)
        good = self._name("good")
        plan: Plan | None = None
        custom = {f.name: f for f in self.store.custom_fields() if f.entity == self.spec.custom_entity}
        self._set_zone(self.zone)
        try:
            for batch in batches:
                table = self.mapping.apply(batch.data, source=source)
                if self.spec.name == "events":
                    table = _promote_properties(table)
                if self.spec.name == "contacts" and "email" in table.column_names:
                    table = check_emails(table)
                if plan is None:
                    plan = plan_file(self.spec, table, mapping=self.mapping, custom=custom, con=self.ws, source=source)
                    cols = ", ".join(f"{ident(c.name)} {SQL_TYPES[c.type]}" for c in plan.columns)
                    self.ws.execute(
                        f"CREATE TEMPORARY TABLE {ident(good)} ({cols}, {ident(ROW)} BIGINT, {REASON} VARCHAR)"
                    )
                else:
                    table = _conform(table, plan.raw_columns, source)
                result.rows += table.num_rows
                self._check_batch(plan, table, good, rejects)
            if plan is None:
                self.summary.files.append(result)
                return
        finally:
            self._set_zone("UTC")
            rejects.close()
        result.rejected = rejects.count
        result.rejects_path = rejects.path if rejects.count else None
        result.reject_samples = rejects.samples
        for new_field in plan.new_fields:
            self.store.add_custom_field(new_field)
            self.summary.new_fields.append(new_field)
        if result.rejected:
            self.ws.execute(f"DELETE FROM {ident(good)} WHERE {REASON} IS NOT NULL")
        stage = self._stage(plan, good)
        try:
            self._merge(plan, stage, good, result)
        finally:
            self._drop_stage(stage)
            self.ws.execute(f"DROP TABLE IF EXISTS {ident(good)}")
        self.summary.files.append(result)

    def _check_batch(self, plan: Plan, table: pa.Table, good: str, rejects: RejectsWriter) -> None:
        # A relation named for these queries only, not register(): inside the load's open transaction
        # a registered table stays referenced until the commit, even unregistered, so a load would hold
        # every batch it read (about 170 bytes an event) outside DuckDB's memory_limit.
        #
        # Every row goes in with its reason (NULL when valid) and the rejected ones are deleted once
        # at the end: filtering on the reason here makes DuckDB evaluate the checks twice, which cost
        # five times as much as the insert itself on a 23-column events file.
        raw = self.ws.from_arrow(table)
        names = ", ".join(ident(n) for n in plan.names)
        checked = plan.query("segmint_raw")
        inserted = raw.query(
            "segmint_raw",
            f"INSERT INTO {ident(good)} ({names}, {ident(ROW)}, {REASON}) "
            f"SELECT {names}, {ident(ROW)}, {REASON} FROM ({checked}) AS c",
        )
        assert inserted is not None, "an INSERT returns its row count"
        inserted.fetchall()
        if not table.num_rows:
            return
        first = table.column(ROW)[0].as_py()  # row numbers rise batch by batch: zone maps skip the earlier ones
        counted = self.ws.execute(
            f"SELECT COUNT(*) FROM {ident(good)} WHERE {ident(ROW)} >= {int(first)} AND {REASON} IS NOT NULL"
        ).fetchall()
        if not counted[0][0]:
            return
        # Rejects are rare: validate their rows again rather than keep every row's reasons.
        raw_cols = ", ".join(
            f"CAST(r.{ident(c)} AS VARCHAR) AS {ident(c)}" for c in plan.raw_columns if c not in ("row", "reason")
        )
        found = raw.query(
            "segmint_raw",
            f"SELECT c.{ident(ROW)} AS row, c.{REASON} AS reason{', ' + raw_cols if raw_cols else ''} "
            f"FROM ({checked}) AS c JOIN segmint_raw r ON r.{ident(ROW)} = c.{ident(ROW)} "
            f"WHERE c.{REASON} IS NOT NULL ORDER BY c.{ident(ROW)}",
        )
        assert found is not None, "a SELECT returns a relation"
        bad = found.to_arrow_table()
        rejects.write(bad)

    def _stage_select(self, plan: Plan, good: str) -> str:
        names = ", ".join(ident(n) for n in plan.names)
        table = self.spec.table
        if self.spec.name == "events":
            # An event id counts once, its first row wins.  Files rarely repeat one, and finding the
            # repeated ids (a hash aggregate of one column) costs far less than ranking every row
            # (all columns, twice through the table): rank only when some id repeats.
            repeated = self.ws.execute(
                f"SELECT EXISTS (SELECT event_id FROM {ident(good)} GROUP BY event_id HAVING COUNT(*) > 1)"
            ).fetchall()
            if not repeated[0][0]:
                return f"SELECT {names} FROM {ident(good)}"
            return (
                f"SELECT {names} FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY {ident(ROW)}) AS rn "
                f"FROM {ident(good)}) WHERE rn = 1"
            )
        if table.id_column:
            return (
                f"SELECT {names} FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY {ident(table.id_column)} "
                f"ORDER BY {ident(ROW)} DESC) AS rn FROM {ident(good)}) WHERE rn = 1"
            )
        return f"SELECT DISTINCT {names} FROM {ident(good)}"

    def _stage(self, plan: Plan, good: str) -> str:
        """The deduplicated rows as a table the store's engine can read."""
        name = self._name("stage")
        select = self._stage_select(plan, good)
        if self.shared:
            # The store is the workspace: the merge reads the deduplicated rows straight from a view.
            self.ws.execute(f"CREATE TEMPORARY VIEW {ident(name)} AS {select}")
            return name
        self.engine.create_table(EVENTS, name=name, temporary=True, columns=plan.columns)
        reader = self.ws.sql(select).to_arrow_reader(STAGE_BATCH_ROWS)
        for record_batch in reader:
            self.engine.load_arrow(name, pa.Table.from_batches([record_batch]))
        return name

    def _drop_stage(self, name: str) -> None:
        if self.shared:
            self.ws.execute(f"DROP VIEW IF EXISTS {ident(name)}")
        else:
            self.engine.drop_table(name)

    # ---- merging into the store -----------------------------------------------

    def _ensure_references(self, stage: str, column: str, names: list[str]) -> None:
        """Create the contacts or companies that staged rows refer to and the store lacks."""
        if column not in names:
            return
        target = CONTACTS if column == "contact_id" else COMPANIES
        q = self.engine.quote
        view = self._name("refs")
        self.engine.create_view(view, f"SELECT DISTINCT {q(column)} FROM {q(stage)} WHERE {q(column)} IS NOT NULL")
        try:
            before = self.store.count(target.name)
            self.engine.upsert(target, view, [], now=self.now)
            created = self.store.count(target.name) - before
        finally:
            self.engine.drop_view(view)
        if created:
            self.summary.created_references[target.name] = self.summary.created_references.get(target.name, 0) + created

    def _keyed_source(self, stage: str, names: list[str]) -> tuple[str, list[str]]:
        """SELECT of the staged rows with references turned into surrogate keys."""
        q = self.engine.quote
        select = [f"s.{q(n)}" for n in names if n not in ("contact_id", "company_id") or n == self.spec.table.id_column]
        joins = []
        out = [n for n in names if n not in ("contact_id", "company_id") or n == self.spec.table.id_column]
        if "contact_id" in names and self.spec.table.id_column != "contact_id":
            select.append("c.contact_key")
            out.append("contact_key")
            joins.append(f"LEFT JOIN {q(CONTACTS.name)} AS c ON c.contact_id = s.contact_id")
        if "company_id" in names and self.spec.table.id_column != "company_id":
            select.append("co.company_key")
            out.append("company_key")
            joins.append(f"LEFT JOIN {q(COMPANIES.name)} AS co ON co.company_id = s.company_id")
        return f"SELECT {', '.join(select)} FROM {q(stage)} AS s {' '.join(joins)}", out

    def _merge(self, plan: Plan, stage: str, good: str, result: FileResult) -> None:
        names = plan.names
        # references need no deduplication: read them from the valid rows when the store can see those
        for ref in self.spec.refs:
            self._ensure_references(good if self.shared else stage, ref, names)
        select, out = self._keyed_source(stage, names)
        if self.spec.name == "events":
            self._merge_events(select, out, result)
        elif self.spec.name == "consents":
            self._merge_consents(select, out, result)
        else:
            self._merge_upsert(select, out, result)

    def _merge_upsert(self, select: str, columns: list[str], result: FileResult) -> None:
        table = {"contacts": CONTACTS, "companies": COMPANIES, "deals": DEALS}[self.spec.name]
        assert table.id_column
        q = self.engine.quote
        view = self._name("source")
        data_columns = [c for c in columns if c != table.id_column]
        self.engine.create_view(view, select)
        try:
            changed = self.engine.changed_condition(data_columns)
            stats = self.engine.query(
                f"SELECT COUNT(*) AS total, "
                f"SUM(CASE WHEN t.{q(table.id_column)} IS NULL THEN 1 ELSE 0 END) AS new_rows, "
                f"SUM(CASE WHEN t.{q(table.id_column)} IS NOT NULL AND ({changed}) THEN 1 ELSE 0 END) AS changed_rows "
                f"FROM {q(view)} AS s LEFT JOIN {q(table.name)} AS t ON t.{q(table.id_column)} = s.{q(table.id_column)}"
            ).to_pylist()[0]
            self.engine.upsert(table, view, data_columns, now=self.now)
        finally:
            self.engine.drop_view(view)
        total = int(stats["total"] or 0)
        result.loaded += int(stats["new_rows"] or 0)
        result.updated += int(stats["changed_rows"] or 0)
        result.unchanged += total - int(stats["new_rows"] or 0) - int(stats["changed_rows"] or 0)

    def _merge_events(self, select: str, columns: list[str], result: FileResult) -> None:
        q = self.engine.quote
        before = self.store.count(EVENTS.name)
        cols = ", ".join(f"s.{q(c)}" for c in columns)
        self.engine.insert_select(
            EVENTS.name,
            columns,
            f"SELECT {cols} FROM ({select}) AS s WHERE NOT EXISTS "
            f"(SELECT 1 FROM {q(EVENTS.name)} AS e WHERE e.event_id = s.event_id) ORDER BY s.ts, s.event_id",
        )
        inserted = self.store.count(EVENTS.name) - before
        result.loaded += inserted
        result.unchanged += result.rows - result.rejected - inserted  # stored already, or repeated in the file

    def _merge_consents(self, select: str, columns: list[str], result: FileResult) -> None:
        q = self.engine.quote
        before = self.store.count(CONSENTS.name)
        same = " AND ".join(f"e.{q(c)} IS NOT DISTINCT FROM s.{q(c)}" for c in columns)
        cols = ", ".join(f"s.{q(c)}" for c in columns)
        self.engine.insert_select(
            CONSENTS.name,
            columns,
            f"SELECT {cols} FROM ({select}) AS s WHERE NOT EXISTS (SELECT 1 FROM {q(CONSENTS.name)} AS e WHERE {same})",
        )
        inserted = self.store.count(CONSENTS.name) - before
        result.loaded += inserted
        result.unchanged += result.rows - result.rejected - inserted


def _conform(table: pa.Table, columns: list[str], source: str) -> pa.Table:
    """Give a later batch the first batch's columns (JSON Lines batches may differ)."""
    missing = [c for c in columns if c not in table.column_names]
    extra = [c for c in table.column_names if c not in columns and c not in (ROW, "_email", "_email_error")]
    if extra:
        raise LoadError(
            f"{source}: columns {', '.join(extra)} appear after the first rows; put every column in the first rows"
        )
    for name in missing:
        table = table.append_column(name, pa.nulls(table.num_rows, pa.string()))
    return table


def _translated(store: Store, entity: str, load: Callable[[], LoadSummary]) -> LoadSummary:
    """Run a load; a driver's error becomes a LoadError (the transaction has rolled back)."""
    try:
        return load()
    except SegmintError:
        raise
    except (duckdb.Error, pa.ArrowException, *store.engine.DRIVER_ERRORS) as exc:
        raise LoadError(f"load of {entity} failed, nothing was stored: {str(exc).splitlines()[0]}") from exc


def load_files(
    store: Store,
    entity: str,
    paths: Iterable[str | Path],
    *,
    fmt: str | None = None,
    mapping: Mapping | None = None,
    rejects_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> LoadSummary:
    """Load files of one entity; all of them or (on an error) none.

    Bad rows do not fail the load: they go to ``<rejects_dir>/<file>.rejects.csv``.
    """
    loader = Loader(
        store, entity, mapping=mapping, rejects_dir=Path(rejects_dir) if rejects_dir else None, progress=progress
    )
    return _translated(store, entity, lambda: loader.load_files([Path(p) for p in paths], fmt))


def load_tables(
    store: Store,
    entity: str,
    batches: Iterable[pa.Table | pa.RecordBatch],
    *,
    source: str = "batches",
    rejects_dir: str | Path | None = None,
) -> LoadSummary:
    """Load Arrow batches (import columns, as in files) with the same rules as files."""
    loader = Loader(store, entity, rejects_dir=Path(rejects_dir) if rejects_dir else None)
    return _translated(store, entity, lambda: loader.load_tables(batches, source))


__all__ = ["Column", "FileResult", "LoadSummary", "Loader", "load_files", "load_tables"]
