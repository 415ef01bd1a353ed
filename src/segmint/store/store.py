"""The Store: one engine, its schema, and the field registry of its data."""

from __future__ import annotations

from datetime import UTC, datetime
from types import TracebackType

import pyarrow as pa

from segmint.config import Settings, load_settings
from segmint.engines import engine_class
from segmint.engines.base import Engine
from segmint.errors import StoreError
from segmint.model.fields import ENTITY_TABLE, CustomField, FieldRegistry, build_registry
from segmint.model.tables import FIELDS, Column
from segmint.model.types import FieldType
from segmint.store.migrations import migrate
from segmint.store.url import parse_store_url


class Store:
    """A segmint store: contacts, companies, events, deals and consents in one engine.

    Open one with :func:`open_store` (or ``segmint.open``); it creates or
    upgrades the schema on first use.
    """

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self._registry: FieldRegistry | None = None

    # context manager ---------------------------------------------------------
    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self.engine.close()

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
        """Every field a segment can name: built-in, custom and (later) traits."""
        if self._registry is None:
            self._registry = build_registry(self.custom_fields())
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

    # counts ------------------------------------------------------------------
    def count(self, table: str) -> int:
        return int(self.engine.scalar(f"SELECT COUNT(*) FROM {self.engine.quote(table)}") or 0)


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
    except BaseException:
        engine.close()
        raise
    return store
