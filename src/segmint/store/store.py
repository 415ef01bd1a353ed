"""The Store: one engine, its schema, and the field registry of its data."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from segmint.config import Settings, load_settings
from segmint.engines import engine_class
from segmint.engines.base import Engine
from segmint.errors import StoreError
from segmint.model.fields import ENTITY_TABLE, CustomField, FieldRegistry, build_registry
from segmint.model.tables import DATA_TABLES, FIELDS, MIGRATIONS, SEGMENT_TABLES, Column
from segmint.model.types import FieldType
from segmint.store.migrations import migrate
from segmint.store.url import parse_store_url

if TYPE_CHECKING:
    from segmint.segments import ApplyResult, RefreshResult

TABLE_NAMES = {t.name for t in (*DATA_TABLES, *SEGMENT_TABLES, FIELDS, MIGRATIONS)}


class Store:
    """A segmint store: contacts, companies, events, deals and consents in one engine.

    Open one with :func:`open_store` (or ``segmint.open``); it creates or
    upgrades the schema on first use.
    """

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self._registry: FieldRegistry | None = None
        # The stored segment definitions as last parsed and validated, with what they were read from
        # (see segmint.segments.definitions.stored_segments): every compile needs them all.
        self.definitions_cache: tuple[Any, ...] | None = None

    # context manager ---------------------------------------------------------
    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self.engine.close()

    def connection(self) -> Store:
        """The same store through another connection, for another thread (see :meth:`Engine.connection`)."""
        other = Store(self.engine.connection(), self.settings)
        other._registry = self._registry
        return other

    @property
    def url(self) -> str:
        return self.engine.url

    # fields ------------------------------------------------------------------
    def custom_fields(self) -> list[CustomField]:
        """Custom properties known to this store, in the order they were added."""
        rows = self.engine.query(
            f"SELECT entity, name, type, description FROM {self.engine.quote(FIELDS.name)} ORDER BY created_at, entity, name"
        ).to_pylist()
        return [CustomField(r["entity"], r["name"], FieldType(r["type"]), r["description"] or "") for r in rows]

    def registry(self) -> FieldRegistry:
        """Every field a segment can name: built-in, custom and traits."""
        if self._registry is None:
            from segmint.traits import trait_fields, trait_models

            self._registry = build_registry(self.custom_fields(), trait_fields(trait_models(self.settings)))
        return self._registry

    def add_custom_field(self, field: CustomField) -> None:
        """Add a custom property: a new column and its registry entry (call inside a transaction)."""
        table = ENTITY_TABLE[field.entity]
        self.engine.add_column(table.name, Column(field.name, field.type, field.description))
        self.engine.load_arrow(
            FIELDS.name,
            pa.table(
                {
                    "entity": [field.entity],
                    "name": [field.name],
                    "type": [field.type.value],
                    "description": [field.description],
                    "created_at": pa.array([datetime.now(UTC)], pa.timestamp("us", tz="UTC")),
                }
            ),
        )
        self._registry = None

    def sync_declared_properties(self) -> None:
        """Create the custom properties declared in segmint.toml that the store lacks."""
        known = {(f.entity, f.name): f for f in self.custom_fields()}
        builtin = build_registry()
        for declared in self.settings.declared_properties():
            if builtin.find(declared.entity, declared.name):
                raise StoreError(
                    f"segmint.toml: properties.{declared.entity}.{declared.name} is a built-in field, not a custom property"
                )
            existing = known.get((declared.entity, declared.name))
            if existing is None:
                with self.engine.transaction():
                    self.add_custom_field(declared)
            elif existing.type != declared.type:
                raise StoreError(
                    f"segmint.toml declares properties.{declared.entity}.{declared.name} as {declared.type.value}, "
                    f"but the store holds it as {existing.type.value}"
                )

    # segments (the service layer, imported late: it builds on the store) -----
    def apply(self, source: str | Path | Mapping[str, Any]) -> ApplyResult:
        """Store or update segment definitions: a YAML file, a folder of them, or one document.

        All of them are stored, or none if any is invalid (every problem is reported).
        """
        from segmint.dsl import parse_segment
        from segmint.segments import apply_segments
        from segmint.segments.definitions import check_definitions

        if isinstance(source, Mapping):
            segment = parse_segment(source)
            return apply_segments(self, {segment.name: segment})
        return apply_segments(self, check_definitions(self, source))

    def members(self, segment: str, *, as_of: datetime | None = None) -> list[str]:
        """The ids of a segment's members at ``as_of`` (default now), sorted; ``segment`` is a name or a file."""
        from segmint.segments import resolve_segment, segment_members

        table = segment_members(self, resolve_segment(self, segment), as_of=as_of)
        return [str(v) for v in table.column("member_id").to_pylist()]

    def count(self, table_or_segment: str, *, as_of: datetime | None = None) -> int:
        """Rows of a store table (``contacts``, ``events``, …) or members of a segment."""
        if table_or_segment in TABLE_NAMES or self.engine.table_exists(table_or_segment):
            return int(self.engine.scalar(f"SELECT COUNT(*) FROM {self.engine.quote(table_or_segment)}") or 0)
        return len(self.members(table_or_segment, as_of=as_of))

    def explain(self, segment: str) -> str:
        """A segment's definition in plain language."""
        from segmint.dsl import explain_segment
        from segmint.segments import resolve_segment

        return explain_segment(resolve_segment(self, segment), self.registry())

    def refresh(self, *, as_of: datetime | None = None) -> list[RefreshResult]:
        """Compute every trait, then re-evaluate every dynamic segment at ``as_of``; record who entered and left."""
        from segmint.segments import refresh_all

        return refresh_all(self, as_of=as_of).segments


def open_store(url: str | None = None, settings: Settings | None = None) -> Store:
    """Open (and create or upgrade) the store at ``url``.

    >>> import tempfile, os
    >>> with open_store(os.path.join(tempfile.mkdtemp(), "crm.duckdb")) as store:
    ...     store.count("contacts")
    0
    """
    settings = settings or load_settings(db=url)
    if url:
        settings.store.url = url
    parsed = parse_store_url(settings.store.url)
    engine = engine_class(parsed.engine).from_url(parsed, settings.store)
    try:
        migrate(engine)
        store = Store(engine, settings)
        store.sync_declared_properties()
        from segmint.traits import ensure_trait_tables

        ensure_trait_tables(store)
    except BaseException:
        engine.close()
        raise
    return store
