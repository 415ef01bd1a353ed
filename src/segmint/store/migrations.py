"""Schema versions: each migration is applied once, in order, inside a transaction.

A store records the versions it has in ``segmint_migrations``.  A store
written by a newer segmint (a version this code does not know) is refused
rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa

from segmint.engines.base import Engine
from segmint.errors import StoreError
from segmint.model.tables import API_KEYS, DATA_TABLES, FIELDS, MIGRATIONS, SEGMENT_TABLES


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[Engine], None]


def _create_data_model(engine: Engine) -> None:
    for table in (*DATA_TABLES, FIELDS):
        engine.create_table(table)


def _create_segment_tables(engine: Engine) -> None:
    for table in SEGMENT_TABLES:
        engine.create_table(table)


def _create_api_keys(engine: Engine) -> None:
    engine.create_table(API_KEYS)


def _create_lookup_indexes(engine: Engine) -> None:
    engine.create_lookup_indexes()


MIGRATIONS_LIST: tuple[Migration, ...] = (
    Migration(
        1, "create the DATA.md model: contacts, companies, events, deals, consents, custom fields", _create_data_model
    ),
    Migration(
        2, "segments: definitions, static members, membership, entries and exits, refreshes", _create_segment_tables
    ),
    Migration(3, "the HTTP server's API keys (hashed)", _create_api_keys),
    Migration(4, "indexes on the lookup keys of contacts, companies and deals (PostgreSQL)", _create_lookup_indexes),
)

SCHEMA_VERSION = MIGRATIONS_LIST[-1].version


def applied_versions(engine: Engine) -> set[int]:
    if not engine.table_exists(MIGRATIONS.name):
        return set()
    table = engine.query(f"SELECT version FROM {engine.quote(MIGRATIONS.name)}")
    return {int(v) for v in table.column(0).to_pylist()}


def migrate(engine: Engine) -> list[Migration]:
    """Apply every pending migration; return those applied."""
    if not engine.table_exists(MIGRATIONS.name):
        engine.create_table(MIGRATIONS)
    done = applied_versions(engine)
    newest = max(done, default=0)
    if newest > SCHEMA_VERSION:
        raise StoreError(
            f"this store has schema version {newest}, newer than this segmint knows ({SCHEMA_VERSION}); upgrade segmint"
        )
    applied = []
    for migration in MIGRATIONS_LIST:
        if migration.version in done:
            continue
        with engine.transaction():
            migration.apply(engine)
            engine.load_arrow(
                MIGRATIONS.name,
                pa.table(
                    {
                        "version": pa.array([migration.version], pa.int64()),
                        "name": [migration.name],
                        "applied_at": pa.array([datetime.now(UTC)], pa.timestamp("us", tz="UTC")),
                    }
                ),
            )
        applied.append(migration)
    return applied
