"""The field registry: every field a segment, the API or the UI can name.

Built-in fields come from :mod:`segmint.model.tables`; custom properties from
the store's ``segmint_fields`` table (found by loads or declared in
``segmint.toml``); traits from the traits models.  Contact fields also reach
the contact's company as ``company.<field>``.

>>> registry = build_registry()
>>> registry.get("contact", "company.employees").type
<FieldType.INTEGER: 'integer'>
>>> registry.suggest("contact", "lifecycle_stag")
['lifecycle_stage']
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from segmint.errors import Problem, ValidationError
from segmint.model.tables import COMPANIES, CONTACTS, DEALS, EVENTS, Table
from segmint.model.types import FieldType

Origin = Literal["builtin", "custom", "trait"]

# Which table holds each entity's fields, and what a segment/profile calls it.
ENTITY_TABLE: dict[str, Table] = {"contact": CONTACTS, "company": COMPANIES, "deal": DEALS, "event": EVENTS}


@dataclass(frozen=True)
class Field:
    """One named, typed value of an entity.

    ``table`` and ``column`` say where it is stored; ``via`` is ``"company"``
    for a contact's view of a company field (``company.employees``).  A trait
    with ``explicit_column`` replaces the built-in field of its name: the
    stored value (``lifecycle_stage`` as imported) wins, else the inferred one.
    """

    entity: str
    name: str
    type: FieldType
    description: str
    origin: Origin
    table: str
    column: str
    via: str | None = None
    #: a trait that refines a stored field of the same entity: the stored value wins when set
    explicit_column: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["type"] = self.type.value
        return data


@dataclass(frozen=True)
class CustomField:
    """A custom property: an extra column of ``contacts``, ``companies`` or ``deals``."""

    entity: str
    name: str
    type: FieldType
    description: str = ""


class FieldRegistry:
    """Look fields up by entity and name; suggest close names for typos."""

    def __init__(self, fields: Iterable[Field]) -> None:
        self._fields: dict[tuple[str, str], Field] = {}
        for f in fields:
            self._fields[(f.entity, f.name)] = f

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._fields.values())

    def __len__(self) -> int:
        return len(self._fields)

    def names(self, entity: str) -> list[str]:
        return sorted(name for (ent, name) in self._fields if ent == entity)

    def find(self, entity: str, name: str) -> Field | None:
        return self._fields.get((entity, name))

    def get(self, entity: str, name: str, *, path: str = "field") -> Field:
        """The field, or a :class:`ValidationError` naming the closest known names."""
        found = self.find(entity, name)
        if found is None:
            raise ValidationError(
                f"unknown {entity} field '{name}'",
                problems=[Problem(path, f"unknown {entity} field '{name}'", self.suggest(entity, name))],
            )
        return found

    def suggest(self, entity: str, name: str, n: int = 3) -> list[str]:
        return difflib.get_close_matches(name, self.names(entity), n=n, cutoff=0.6)

    def for_entity(self, entity: str) -> list[Field]:
        return [f for (ent, _), f in sorted(self._fields.items()) if ent == entity]

    def to_list(self) -> list[dict[str, Any]]:
        return [f.to_dict() for _, f in sorted(self._fields.items())]


def _table_fields(entity: str, table: Table) -> list[Field]:
    return [
        Field(entity, c.name, c.type, c.description, "builtin", table.name, c.name)
        for c in table.input_columns
        if c.name not in ("properties",)
    ]


def build_registry(custom: Iterable[CustomField] = (), traits: Iterable[Field] = ()) -> FieldRegistry:
    """The registry of built-in fields plus the given custom properties and traits."""
    custom = list(custom)
    fields: list[Field] = []
    company_fields = _table_fields("company", COMPANIES) + [
        Field("company", c.name, c.type, c.description or "Custom property.", "custom", COMPANIES.name, c.name)
        for c in custom
        if c.entity == "company"
    ]
    fields += company_fields
    fields += _table_fields("contact", CONTACTS)
    fields.append(
        Field(
            "contact",
            "company_id",
            FieldType.STRING,
            "The id of the contact's company.",
            "builtin",
            COMPANIES.name,
            "company_id",
            via="company",
        )
    )
    fields += [
        Field("contact", c.name, c.type, c.description or "Custom property.", "custom", CONTACTS.name, c.name)
        for c in custom
        if c.entity == "contact"
    ]
    fields += [
        Field(
            "contact",
            f"company.{f.name}",
            f.type,
            f"The company's {f.description[0].lower()}{f.description[1:]}",
            f.origin,
            f.table,
            f.column,
            via="company",
        )
        for f in company_fields
    ]
    fields += _table_fields("deal", DEALS)
    fields += [
        Field("deal", c.name, c.type, c.description or "Custom property.", "custom", DEALS.name, c.name)
        for c in custom
        if c.entity == "deal"
    ]
    fields += _table_fields("event", EVENTS)
    fields += list(traits)
    return FieldRegistry(fields)
