"""The REST API's request models and the query parameters every list shares.

The models of contacts, companies and deals are made from DATA.md's tables
(:mod:`segmint.model.tables`), so the API accepts exactly the columns a file
may carry, with the same descriptions; a column added to the model reaches the
API without another edit.  Values are only *typed* here (a string is a string,
a number is a finite number): the rules of DATA.md (a valid email, a country
code, a known lifecycle stage, a parsable timestamp) are the loader's, so a
row written through the API is checked exactly like a row of a file and
rejected with the same reasons.

Every text refuses NUL characters (PostgreSQL cannot store them, and a
client's mistake must never become a 500) and is bounded in length.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from fastapi import Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, StringConstraints, create_model

from segmint.dsl.timestamps import parse_timestamp
from segmint.errors import Problem, UsageError
from segmint.model.tables import COMPANIES, CONTACTS, DEALS, Table
from segmint.model.types import FieldType
from segmint.segments.evaluate import now_utc

NO_NUL = r"^[^\x00]*$"

Text = Annotated[str, StringConstraints(max_length=2000, pattern=NO_NUL)]
Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NO_NUL)]
# A date's year, as engines read it: DuckDB stores 50000-01-01 and 1 BC, which Python (and so every read) cannot hold.
_DATE = re.compile(r"\s*([+-]?)([0-9]+)-[0-9]{1,2}-[0-9]{1,2}")


def in_calendar(text: str) -> str:
    """A timestamp text whose date, if it has one, lies within the years 1 to 9999, also in UTC."""
    found = _DATE.match(text)
    if found is None:
        return text  # not a date at all: the loader rejects it, with its reason
    sign, year = found.groups()
    if sign == "-" or len(year) > 4 or int(year) == 0:
        raise ValueError("the year must be within 1 to 9999")
    try:
        parse_timestamp(text.strip())
    except OverflowError as exc:  # a zone moves it out of the calendar
        raise ValueError("the instant must be within the years 1 to 9999 in UTC") from exc
    except ValueError:
        pass  # a format only the loader knows: it decides
    return text


Timestamp = Annotated[
    str,
    StringConstraints(max_length=64, pattern=NO_NUL),
    AfterValidator(in_calendar),
    Field(description="ISO 8601; a date is midnight, and a time without a zone is in the store's zone."),
]
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
PropertyName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]


def storable(text: str) -> bool:
    """Whether every engine can store the text: UTF-8 (JSON's escapes can make lone surrogates) without NUL."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


#: how deep a free-form JSON document (a segment definition) may nest, and how many values it may hold
MAX_DEPTH = 100
MAX_NODES = 20_000


def check_document(data: Any, where: str = "") -> None:
    """Refuse (400) a free-form JSON document no engine can store or no reader should walk.

    Texts must be storable (every key and value, each problem at its path);
    the nesting is bounded (the readers of definitions recurse, and Python's
    stack is not a client's to exhaust) and so is the number of values (YAML
    aliases can make a small text a huge, even endless, document).  The walk
    is iterative for the same reasons.
    """
    problems: list[Problem] = []
    stack: list[tuple[Any, str, int]] = [(data, where, 0)]
    seen = 0
    while stack:
        node, path, depth = stack.pop()
        seen += 1
        if seen > MAX_NODES or depth > MAX_DEPTH:
            limit = f"more than {MAX_NODES} values" if seen > MAX_NODES else f"nesting deeper than {MAX_DEPTH}"
            raise UsageError(f"the document is too large to read: {limit}", problems=[Problem(path, limit)])
        if isinstance(node, str) and not storable(node):
            problems.append(Problem(path, "a text with a NUL character or a lone surrogate cannot be stored"))
        elif isinstance(node, dict):
            for key, value in reversed(node.items()):
                inner = f"{path}.{key}" if path else str(key)
                stack += [(value, inner, depth + 1), (key, inner, depth + 1)]
        elif isinstance(node, list):
            stack += [(value, f"{path}[{i}]", depth + 1) for i, value in reversed(list(enumerate(node)))]
    if problems:
        raise UsageError("the document holds texts that cannot be stored", problems=problems)


def _property_value(value: object) -> object:
    """A custom property's value: a string, a number, a boolean or null (one error, at the property's path)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        if len(value) > 2000 or not storable(value):
            raise ValueError("a text of at most 2000 characters, without NUL or lone surrogates")
        return in_calendar(value)  # a date-like text may become a timestamp property
    if isinstance(value, int) and -(2**63) <= value < 2**63:
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    raise ValueError("expected a string, a finite number (integers within 64 bits), a boolean or null")


PropertyValue = Annotated[
    str | bool | int | float | None,
    PlainValidator(_property_value, json_schema_input_type=str | bool | int | float | None),
]
Properties = Annotated[
    dict[PropertyName, PropertyValue],
    Field(
        max_length=50,
        description="Custom properties by name (lower-case letters, digits, _). A new name becomes a custom "
        "property of the entity, its type inferred from the value as in a file.",
    ),
]

_CONFIG = ConfigDict(extra="forbid", allow_inf_nan=False)

_TYPES: dict[FieldType, Any] = {
    FieldType.STRING: Text,
    FieldType.INTEGER: Int64,
    FieldType.FLOAT: float,
    FieldType.BOOLEAN: bool,
    FieldType.TIMESTAMP: Timestamp,
}

_REFERENCES = {"contact_id": "The id of the contact.", "company_id": "The id of the company."}


class Record(BaseModel):
    """A row of one entity as a client sends it: its columns and its custom ``properties``."""

    model_config = _CONFIG


def record_model(name: str, table: Table, *, id_field: Literal["required", "optional", "path"]) -> type[Record]:
    """The request model of ``table``'s rows: every input column optional, and its id as ``id_field`` says.

    ``"path"`` leaves the id out: ``PATCH`` and ``PUT`` take it from the path.
    A contact's id is ``"optional"`` on create: the email is the id when it is left out (DATA.md).
    """
    fields: dict[str, Any] = {}
    for column in table.input_columns:
        if column.type is FieldType.JSON:
            continue
        if column.name == table.id_column:
            if id_field == "required":
                fields[column.name] = (Id, Field(description=column.description))
            elif id_field == "optional":
                fields[column.name] = (Id | None, Field(None, description=column.description))
            continue
        fields[column.name] = (_TYPES[column.type] | None, Field(None, description=column.description))
    for reference in table.references:
        fields[reference] = (Id | None, Field(None, description=_REFERENCES[reference]))
    fields["properties"] = (Properties, {})
    model: type[Record] = create_model(name, __base__=Record, __doc__=table.description, **fields)
    return model


if TYPE_CHECKING:  # the models are made from the tables at import; to a type checker they are Records
    ContactCreate: TypeAlias = Record
    ContactFields: TypeAlias = Record
    CompanyCreate: TypeAlias = Record
    CompanyFields: TypeAlias = Record
    DealCreate: TypeAlias = Record
    DealFields: TypeAlias = Record
else:
    ContactCreate = record_model("ContactCreate", CONTACTS, id_field="optional")
    ContactFields = record_model("ContactFields", CONTACTS, id_field="path")
    CompanyCreate = record_model("CompanyCreate", COMPANIES, id_field="required")
    CompanyFields = record_model("CompanyFields", COMPANIES, id_field="path")
    DealCreate = record_model("DealCreate", DEALS, id_field="required")
    DealFields = record_model("DealFields", DEALS, id_field="path")


class ConsentCreate(BaseModel):
    """One consent record; the latest per contact, channel and purpose is in force."""

    model_config = _CONFIG

    contact_id: Id = Field(description="The contact's id (a contact the store lacks is created, as in a load).")
    channel: Text = Field(description="email, sms or phone.")
    purpose: Text | None = Field(None, description="What the consent is for: marketing, newsletter, ...")
    status: Text = Field(description="granted or revoked.")
    ts: Timestamp | None = Field(None, description="When it was given or withdrawn (default: now).")
    source: Text | None = Field("api", description="Where it was recorded.")


class StaticMembersChange(BaseModel):
    """Members to add to and remove from a static segment, by id."""

    model_config = _CONFIG

    add: list[Id] = Field([], max_length=10_000)
    remove: list[Id] = Field([], max_length=10_000)


class SnapshotRequest(BaseModel):
    """Fill a static segment with another segment's members."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: Id = Field(alias="from", description="The segment whose members to copy.")
    as_of: Timestamp | None = Field(None, description="Evaluate the source at this instant (default: now).")


# ---- query parameters ------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """``limit`` and ``offset`` of a list."""

    limit: int
    offset: int

    def answer(self, items: list[dict[str, Any]], total: int) -> dict[str, Any]:
        """The shape of every list: ``{"ok": true, "items", "total", "limit", "offset"}``."""
        return {"ok": True, "items": items, "total": total, "limit": self.limit, "offset": self.offset}


def page(
    limit: Annotated[int, Query(ge=1, le=1000, description="Items per page (at most 1000).")] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000, description="Items to skip.")] = 0,
) -> Page:
    """The paging of a list, from its query parameters."""
    return Page(limit, offset)


def timestamp_param(value: str | None, name: str) -> datetime | None:
    """A timestamp query parameter as an aware UTC datetime (``None`` when absent), or a 400 naming it."""
    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except (ValueError, OverflowError) as exc:  # overflow: a zone moves the instant out of the calendar
        raise UsageError(f"query.{name}: {exc}", problems=[Problem(f"query.{name}", str(exc))]) from exc


def as_of(
    as_of: Annotated[
        str | None,
        Query(max_length=64, description="Evaluate at this instant (ISO 8601; a date is midnight UTC). Default: now."),
    ] = None,
) -> datetime:
    """The ``as_of`` of an evaluation, as ``--as-of`` of the CLI: now unless given."""
    return timestamp_param(as_of, "as_of") or now_utc()


__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "CompanyCreate",
    "CompanyFields",
    "ConsentCreate",
    "ContactCreate",
    "ContactFields",
    "DealCreate",
    "DealFields",
    "Page",
    "Record",
    "SnapshotRequest",
    "StaticMembersChange",
    "as_of",
    "check_document",
    "in_calendar",
    "page",
    "record_model",
    "storable",
    "timestamp_param",
]
