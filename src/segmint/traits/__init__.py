"""Traits: the seeds' segmentation models, computed for every contact and company at ``refresh``.

Each module of this package holds one model (``MODEL = <class>``, see
:mod:`segmint.traits.base`); they are found by walking the package, so adding
a model is adding a module.  :func:`compute_traits` runs them in dependency
order at one ``as_of`` and stores each model's rows in ``traits_<model>``
(a query's rows, or the Arrow rows of a model computed in Python);
:func:`trait_fields` puts their fields into the field registry, where segments
use them like any other field (company models also as ``company.<field>``).

>>> names = [m.name for m in trait_models()]
>>> names.index("interests") < names.index("affinity")   # affinity reads the interests table
True
"""

from __future__ import annotations

import importlib
import pkgutil
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from pydantic import ValidationError as PydanticValidationError

from segmint.errors import ConfigError, Problem
from segmint.model.fields import Field
from segmint.model.tables import Column, Table
from segmint.model.types import FieldType
from segmint.traits.base import TABLE_PREFIX, TraitContext, TraitField, TraitModel, TraitSettings

if TYPE_CHECKING:
    from segmint.config import Settings
    from segmint.store.store import Store


@cache
def model_classes() -> dict[str, type[TraitModel]]:
    """Every model class of the package, by name."""
    found: dict[str, type[TraitModel]] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        model = getattr(module, "MODEL", None)
        if model is not None:
            found[model.name] = model
    return found


def _ordered(classes: dict[str, type[TraitModel]]) -> list[type[TraitModel]]:
    """Models after the models they require (then by name), so each reads finished tables."""
    done: list[str] = []

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if name in done:
            return
        if name in chain:
            raise ConfigError(f"traits models require each other in a cycle: {' -> '.join((*chain, name))}")
        for required in sorted(classes[name].requires):
            if required not in classes:
                raise ConfigError(f"traits model '{name}' requires unknown model '{required}'")
            visit(required, (*chain, name))
        done.append(name)

    for name in sorted(classes):
        visit(name, ())
    return [classes[n] for n in done]


def model_settings(cls: type[TraitModel], settings: Settings | None) -> TraitSettings:
    """A model's settings from ``[traits.<model>]``, with the seeds' defaults."""
    data: dict[str, Any] = (settings.traits.get(cls.name) if settings is not None else None) or {}
    try:
        return cls.Settings.model_validate(data)
    except PydanticValidationError as exc:
        problems = [
            Problem(".".join(["traits", cls.name, *(str(p) for p in e["loc"])]), e["msg"]) for e in exc.errors()
        ]
        raise ConfigError(f"segmint.toml: invalid settings of traits model '{cls.name}'", problems=problems) from exc


def trait_models(settings: Settings | None = None) -> list[TraitModel]:
    """Every model, configured, in the order they are computed."""
    classes = model_classes()
    if settings is not None:
        for name in settings.traits:
            if name not in classes:
                raise ConfigError(
                    f"segmint.toml: unknown traits model '{name}'",
                    problems=[Problem(f"traits.{name}", "unknown traits model", sorted(classes))],
                )
    return [cls(model_settings(cls, settings)) for cls in _ordered(classes)]


def trait_fields(models: Iterable[TraitModel]) -> list[Field]:
    """The registry entries of the models' fields (company fields also as ``company.<field>``)."""
    fields: list[Field] = []
    for model in models:
        for f in model.fields():
            explicit = f.name if f.explicit else None
            fields.append(
                Field(model.entity, f.name, f.type, f.description, "trait", model.table, f.column_name, None, explicit)
            )
            if model.entity == "company":
                desc = f"The company's {f.description[0].lower()}{f.description[1:]}"
                fields.append(
                    Field("contact", f"company.{f.name}", f.type, desc, "trait", model.table, f.column_name, "company")
                )
    return fields


def trait_table(model: TraitModel) -> Table:
    key = Column(model.key, FieldType.INTEGER, "Internal key.", internal=True)
    columns = tuple(Column(f.column_name, f.type, f.description) for f in model.fields())
    return Table(model.table, model.entity, (key, *columns), key_column=model.key, description=model.summary)


def ensure_trait_tables(store: Store, models: Sequence[TraitModel] | None = None) -> None:
    """Create the models' tables that are missing (empty until the first refresh) and missing columns."""
    engine = store.engine
    for model in models if models is not None else trait_models(store.settings):
        table = trait_table(model)
        if not engine.table_exists(table.name):
            engine.create_table(table)
            continue
        have = set(engine.table_columns(table.name))
        for column in table.columns:
            if column.name not in have:
                engine.add_column(table.name, column)


def compute_traits(
    store: Store,
    *,
    as_of: datetime,
    contact_keys: Sequence[int] | None = None,
    company_keys: Sequence[int] | None = None,
    names: Iterable[str] | None = None,
) -> dict[str, int]:
    """Compute every model (or ``names``) at ``as_of``; returns rows stored per model.

    With ``contact_keys`` (the fresh path), only those contacts and
    ``company_keys`` are recomputed; everyone else keeps their rows.  All
    models are stored in one transaction: a failure leaves the old traits.
    """
    from segmint.compile import compiler_for

    engine = store.engine
    models = trait_models(store.settings)
    wanted = set(names) if names is not None else None
    partial = contact_keys is not None
    if partial and company_keys is None:
        company_keys = []
    ctx = TraitContext(
        store,
        compiler_for(engine.name, store.registry(), {}, as_of=as_of.astimezone(UTC)),
        as_of,
        contact_keys=list(contact_keys) if contact_keys is not None else None,
        company_keys=list(company_keys) if company_keys is not None else None,
    )
    stored: dict[str, int] = {}
    key_tables = {entity: f"segmint_keys_{entity}_{uuid.uuid4().hex[:12]}" for entity in ("contact", "company")}
    try:
        with engine.transaction():
            if partial and len(set(ctx.contact_keys or ())) > KEY_LIST_LIMIT:
                _store_keys(engine, key_tables, ctx)
            _compute(store, models, wanted, ctx, partial, stored)
    finally:
        for name in ctx.key_tables.values():
            engine.drop_table(name)
    return stored


#: more touched contacts than this go into a temporary table instead of literal lists
KEY_LIST_LIMIT = 200


def _store_keys(engine: Any, names: dict[str, str], ctx: TraitContext) -> None:
    key = Column("k", FieldType.INTEGER, "Key.")
    for entity, keys in (("contact", ctx.contact_keys), ("company", ctx.company_keys)):
        name = names[entity]
        engine.create_table(Table(name, "meta", (key,)), temporary=True)
        ctx.key_tables[entity] = name
        engine.load_arrow(name, pa.table({"k": pa.array(sorted(set(keys or ())), pa.int64())}))


def _compute(
    store: Store,
    models: list[TraitModel],
    wanted: set[str] | None,
    ctx: TraitContext,
    partial: bool,
    stored: dict[str, int],
) -> None:
    engine = store.engine
    for model in models:
        if wanted is not None and model.name not in wanted:
            continue
        table = trait_table(model)
        columns = table.column_names
        if partial and not (ctx.company_keys if model.entity == "company" else ctx.contact_keys):
            continue
        # both before the table is emptied: a model may read its own last rows
        computed = model.compute(ctx)
        select = model.query(ctx) if computed is None else None
        if partial:
            ensure_trait_tables(store, [model])
            engine.delete_where(table.name, engine.sql(ctx.keys_condition(model.key, model.entity)))
        else:
            engine.drop_table(table.name)
            engine.create_table(table)
        if select is not None:
            rows = f"SELECT {', '.join(engine.quote(c) for c in columns)} FROM ({engine.sql(select)}) AS model_rows"
            engine.insert_select(table.name, columns, rows)
        elif computed is not None:
            engine.load_arrow(table.name, computed.select([c for c in columns if c in computed.column_names]))
        model.after(ctx)
        stored[model.name] = int(engine.scalar(f"SELECT COUNT(*) FROM {engine.quote(table.name)}") or 0)


def trait_values(store: Store, entity: str, key: int) -> dict[str, Any]:
    """Every trait of one contact or company as stored by the last refresh (``{}`` before any)."""
    values: dict[str, Any] = {}
    engine = store.engine
    for model in trait_models(store.settings):
        if model.entity != entity or not engine.table_exists(model.table):
            continue
        rows = engine.query(f"SELECT * FROM {engine.quote(model.table)} WHERE {engine.quote(model.key)} = {int(key)}")
        row = rows.to_pylist()[0] if rows.num_rows else {}
        for f in model.fields():
            values[f.name] = row.get(f.column_name)
    return values


__all__ = [
    "TABLE_PREFIX",
    "TraitContext",
    "TraitField",
    "TraitModel",
    "TraitSettings",
    "compute_traits",
    "ensure_trait_tables",
    "model_classes",
    "trait_fields",
    "trait_models",
    "trait_values",
]
