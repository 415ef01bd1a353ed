"""What every traits model is: the fields it adds, its settings, and the SQL that computes them.

A model is one class in one module of :mod:`segmint.traits`.  It declares
its fields (name, type, description), its settings (a pydantic model whose
defaults are the seeds' values, overridden in ``segmint.toml`` under
``[traits.<model>]``), the models it reads (``requires``), and a query that
returns one row per contact (or company) with one column per field, as of
``ctx.as_of`` -- or, for a model that needs Python between its queries (a
fitted model), :meth:`TraitModel.compute` returning those rows as Arrow.  :func:`segmint.traits.compute_traits` runs the models in
dependency order and stores each model's rows in its own table
``traits_<model>``, which segments join when they name one of its fields.

Queries are written once, as SQL templates in DuckDB's dialect, and parsed
into sqlglot trees (:meth:`TraitContext.parse`); the engine's dialect is
generated from the tree.  What would transpile wrongly never appears as
text: instants enter as ``:name`` placeholders replaced by the engine's
timestamp literals (computed in Python from ``as_of``, never ``now()``),
JSON properties as ``PROP(e.properties, 'path')`` and the key restriction of
the fresh path as ``KEYS(column)`` / ``COMPANY_KEYS(column)``, each replaced
by the engine's own tree.  User values are literals of the tree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

import pyarrow as pa
import sqlglot
from pydantic import BaseModel, ConfigDict
from sqlglot import exp

from segmint.model.types import FieldType

if TYPE_CHECKING:
    from segmint.compile import SegmentCompiler
    from segmint.store.store import Store

TABLE_PREFIX = "traits_"


class TraitSettings(BaseModel):
    """Base of every model's settings: unknown keys are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class TraitField:
    """One field a model adds.  ``column`` defaults to the name (dots become ``__``)."""

    name: str
    type: FieldType
    description: str
    column: str = ""
    #: refines the entity's stored field of the same name, which wins when set (``lifecycle_stage``)
    explicit: bool = False

    @property
    def column_name(self) -> str:
        return self.column or self.name.replace(".", "__")


class TraitModel:
    """A traits model (subclass it; see the module doc)."""

    #: the model's key: module name, ``[traits.<name>]`` section, table ``traits_<name>``
    name: ClassVar[str]
    #: contact or company
    entity: ClassVar[str] = "contact"
    #: the models whose tables this one reads
    requires: ClassVar[tuple[str, ...]] = ()
    #: what the model is for, in a sentence (docs and ``segmint traits``)
    summary: ClassVar[str] = ""
    Settings: ClassVar[type[TraitSettings]] = TraitSettings

    def __init__(self, settings: TraitSettings | None = None) -> None:
        self.settings = settings if settings is not None else self.Settings()

    @property
    def table(self) -> str:
        return TABLE_PREFIX + self.name

    @property
    def key(self) -> str:
        return "company_key" if self.entity == "company" else "contact_key"

    def fields(self) -> list[TraitField]:
        """The fields this model adds (may depend on the settings, e.g. interest topics)."""
        raise NotImplementedError

    def query(self, ctx: TraitContext) -> exp.Query:
        """One row per contact (company) of ``ctx``'s scope: the key and every field's column."""
        raise NotImplementedError

    def compute(self, ctx: TraitContext) -> pa.Table | None:
        """Rows computed in Python instead of :meth:`query`, for a model SQL cannot compute alone (a fit).

        An Arrow table with the key and field columns (a missing field
        column is unset), one row per contact (company) of ``ctx``'s scope
        that has values; a contact without a row has every field unset.
        ``None``, the default, means the model is its :meth:`query`.
        """
        return None

    def after(self, ctx: TraitContext) -> None:
        """Runs after the model's rows are stored (extra tables, e.g. the lead score history)."""


@dataclass
class TraitContext:
    """What a model's query is computed against: one store, one ``as_of``, maybe a subset of keys."""

    store: Store
    compiler: SegmentCompiler
    as_of: datetime
    #: the contacts (and their companies) to recompute; None: everyone
    contact_keys: Sequence[int] | None = None
    company_keys: Sequence[int] | None = None
    values: dict[str, Any] = field(default_factory=dict)
    #: entity -> a table holding ``contact_keys`` / ``company_keys`` (column ``k``), when they were stored
    key_tables: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.as_of = self.as_of.astimezone(UTC)

    @property
    def engine(self) -> str:
        return self.store.engine.name

    def table(self, model: str) -> str:
        """The table of another model (one listed in ``requires``)."""
        return TABLE_PREFIX + model

    def ts(self, value: datetime) -> exp.Expr:
        return self.compiler.timestamp(value)

    def ago(self, duration: timedelta) -> exp.Expr:
        """The instant ``duration`` before ``as_of``, as a literal."""
        return self.compiler.timestamp(self.as_of - duration)

    def literal(self, value: Any) -> exp.Expr:
        if isinstance(value, exp.Expr):
            return value
        if value is None:
            return exp.null()
        if isinstance(value, bool):
            return exp.true() if value else exp.false()
        if isinstance(value, int | float):
            return exp.Literal.number(value)
        if isinstance(value, datetime):
            return self.ts(value if value.tzinfo else value.replace(tzinfo=UTC))
        if isinstance(value, timedelta):
            return self.ago(value)
        return exp.Literal.string(str(value))

    def parse(self, template: str, **values: Any) -> exp.Query:
        """A query from a template in DuckDB's dialect (see the module doc).

        ``:as_of`` and ``:as_of_epoch`` (seconds) are always known; a
        ``timedelta`` value becomes the instant that long before ``as_of``; a
        list value fills ``x IN (:name)``.
        """
        tree = sqlglot.parse_one(template, read="duckdb")
        known: dict[str, Any] = {"as_of": self.as_of, "as_of_epoch": self.as_of.timestamp(), **self.values, **values}

        def replace(node: exp.Expr) -> exp.Expr:
            if (
                isinstance(node, exp.In)
                and len(node.expressions) == 1
                and isinstance(node.expressions[0], exp.Placeholder)
            ):
                wanted = known[node.expressions[0].name]
                if isinstance(wanted, list | tuple | set):
                    items = [self.literal(v) for v in wanted] or [exp.null()]
                    node.set("expressions", items)
                    return node
            if isinstance(node, exp.Placeholder):
                if node.name not in known:
                    raise KeyError(f"template placeholder :{node.name} has no value")
                return self.literal(known[node.name])
            if isinstance(node, exp.Anonymous):
                fn = str(node.this).upper()
                args = node.expressions
                if fn == "PROP":
                    path = args[1].name.split(".")
                    return self.compiler.json_text(args[0], path)
                if fn == "KEYS":
                    return self._keys(args[0], self.contact_keys, "contact")
                if fn == "COMPANY_KEYS":
                    return self._keys(args[0], self.company_keys, "company")
            return node

        return tree.transform(replace, copy=False)  # type: ignore[return-value]

    def keys_condition(self, column: str | exp.Expr, entity: str = "contact") -> exp.Expr:
        """The fresh path's restriction as a condition on ``column`` (TRUE on a full refresh)."""
        column = exp.column(column) if isinstance(column, str) else column
        return self._keys(column, self.company_keys if entity == "company" else self.contact_keys, entity)

    def _keys(self, column: exp.Expr, keys: Sequence[int] | None, entity: str = "contact") -> exp.Expr:
        if keys is None:
            return exp.true()
        if not keys:
            return exp.false()
        table = self.key_tables.get(entity)
        if table is not None:
            # a stored list: thousands of literals per KEYS() made building and printing the SQL the slow part
            return exp.paren(column.isin(query=exp.select("k").from_(table)))
        return exp.paren(column.isin(*(exp.Literal.number(k) for k in sorted(set(keys)))))

    def query(self, template: str, **values: Any) -> list[dict[str, Any]]:
        """Run a template and return its rows (for ``after`` hooks and learned settings)."""
        return self.store.engine.query(self.parse(template, **values)).to_pylist()


__all__ = ["TABLE_PREFIX", "TraitContext", "TraitField", "TraitModel", "TraitSettings"]
