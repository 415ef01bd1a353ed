"""Segment's tracking spec as segmint's data: payload models, event names, and messages turned into rows.

Segment's HTTP Tracking API (``/v1/identify``, ``/v1/track``, ``/v1/page``,
``/v1/screen``, ``/v1/group``, ``/v1/alias`` and ``/v1/batch``) sends JSON
messages; :class:`Translator` turns them into what DATA.md stores:

- ``identify``: the contact ``userId`` (``contact_id``) with its traits —
  ``email``, ``firstName``/``first_name``, ``lastName``, ``name`` (split when
  first and last are missing), ``phone``, ``title`` (``job_title``),
  ``address`` (``city``, ``country``, ``state`` as ``region``), ``createdAt``,
  ``company`` (``{id, name, ...}``: the company, linked), every other DATA.md
  contact column by its snake_case name; any other trait becomes a custom
  property of the contact, as a file load makes one;
- ``group``: the company ``groupId`` with its traits (``name``, ``industry``,
  ``employees``, ``website`` as ``domain``, ...; others become custom
  properties), linked to the contact ``userId``;
- ``track``: an event named through :data:`EVENT_NAMES` (Segment's spec names,
  ``Order Completed`` → ``purchase``; any other name in snake_case), its
  properties kept, those named like an event column (``url``, ``amount``,
  ``order_id``...) stored in that column; ``Order Completed``'s ``revenue``
  (else ``total``, else ``value``) is its ``amount``;
- ``page`` → ``page_view`` and ``screen`` → ``screen_view``, with ``url``,
  ``referrer``, ``title``, ``path`` from the properties or ``context.page``,
  and the UTM fields from ``context.campaign`` (or the URL's query);
- ``alias``: ``previousId`` is another id of ``userId`` (see identities below).

Segment's timestamp rule: ``timestamp`` when given; else ``originalTimestamp``
corrected by the client's clock skew (``receivedAt - sentAt``); else the time
the server received the message.  A timestamp without a zone is UTC.
``messageId`` becomes the event's ``event_id``, so a retried message is stored
once.

Identities: a message with only an ``anonymousId`` stores its event with that
``anonymous_id`` and no contact; any message carrying both ids (an identify
after a visit, an alias) links them, and the anonymous events join the contact
(:mod:`segmint.server.ingest` keeps the links).

A value that cannot be stored as its column's type (an email that is not an
address, a country that is not ISO 3166-1 alpha-2) is dropped, the rest of the
message kept, and the answer names it in ``warnings``: a bad trait must not
lose a batch of good events, which is what a 400 would do (clients drop
batches the server refuses).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, NamedTuple
from urllib.parse import parse_qs, urlsplit

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr
from pydantic import ValidationError as PydanticValidationError

from segmint.errors import Problem, UsageError
from segmint.model.tables import (
    COMPANIES,
    CONTACTS,
    EVENT_PROPERTY_COLUMNS,
    LIFECYCLE_STAGES,
    Column,
)
from segmint.model.types import FieldType
from segmint.store.load.readers import normalize_name

#: Segment's spec event names (https://segment.com/docs/connections/spec/) to DATA.md's; ``[server] event_names`` adds to it
EVENT_NAMES: dict[str, str] = {
    # e-commerce
    "Order Completed": "purchase",
    "Product Added": "cart_add",
    "Products Searched": "search",
    # email
    "Email Sent": "email_sent",
    "Email Delivered": "email_delivered",
    "Email Opened": "email_open",
    "Email Link Clicked": "email_click",
    "Email Bounced": "email_bounce",
    "Unsubscribed": "email_unsubscribe",
    "Email Marked as Spam": "email_spam_report",
    # forms, content, support, sales (Segment's B2B SaaS spec and common names)
    "Form Submitted": "form_submit",
    "Content Downloaded": "content_download",
    "File Downloaded": "content_download",
    "Ticket Created": "support_ticket",
    "Support Ticket Created": "support_ticket",
    "Sales Activity Logged": "sales_activity",
}

MessageType = Literal["identify", "track", "page", "screen", "group", "alias"]
MESSAGE_TYPES: tuple[str, ...] = ("identify", "track", "page", "screen", "group", "alias")

#: the largest integer a typed column or custom property takes as a number (BIGINT)
INT64 = 2**63

#: compact JSON text of the properties an event keeps
_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


#: Segment ids are strings; libraries also send integers (validated in Rust, made text by :func:`text_id`)
Id = Annotated[StrictStr | StrictInt | None, Field(union_mode="left_to_right")]


def text_id(value: str | int | None) -> str | None:
    """An id as stored: text, trimmed; an empty one is no id."""
    if value is None:
        return None
    text = value.strip() if type(value) is str else str(value)
    return text or None


_Object = dict[str, Any] | None


class Message(BaseModel):
    """One Segment message (https://segment.com/docs/connections/spec/common/); unknown fields are ignored."""

    model_config = ConfigDict(extra="allow")

    type: MessageType | None = Field(None, description="identify, track, page, screen, group or alias.")
    userId: Id = Field(None, description="The contact's id in your systems.")
    anonymousId: Id = Field(None, description="A visitor's id before the contact is known.")
    messageId: Id = Field(None, description="Unique per message: a retried message with the same id is stored once.")
    timestamp: datetime | None = Field(None, description="When it happened (ISO 8601; UTC without a zone).")
    originalTimestamp: datetime | None = Field(None, description="When it happened, by the client's clock.")
    sentAt: datetime | None = Field(None, description="When the client sent it, by its clock.")
    context: _Object = Field(None, description="page, campaign (UTM), userAgent, ...")
    integrations: _Object = None
    traits: _Object = Field(None, description="identify: the contact's traits; group: the company's.")
    properties: _Object = Field(None, description="track, page, screen: the event's properties.")
    event: str | None = Field(None, description="track: the event's name.")
    name: str | None = Field(None, description="page, screen: the page's or screen's name.")
    category: str | None = Field(None, description="page: the page's category.")
    groupId: Id = Field(None, description="group: the company's id.")
    previousId: Id = Field(None, description="alias: the other id of userId.")
    writeKey: str | None = Field(None, description="The write key, when not sent as the HTTP Basic user.")


class BatchMessage(Message):
    """A message inside ``/v1/batch``: its ``type`` says what it is."""

    type: MessageType = Field(description="identify, track, page, screen, group or alias.")


class Batch(BaseModel):
    """``/v1/batch``: up to 500 KB of messages, each at most 32 KB, stored all or none."""

    model_config = ConfigDict(extra="allow")

    batch: list[BatchMessage]
    context: _Object = Field(None, description="Context shared by every message (a message's own wins).")
    integrations: _Object = None
    sentAt: datetime | None = Field(None, description="When the client sent the batch, by its clock.")
    writeKey: str | None = Field(None, description="The write key, when not sent as the HTTP Basic user.")


class InvalidPayloadError(UsageError):
    """A tracking payload that is not JSON of Segment's shape: nothing of it is stored."""

    code = "bad_request"


def request_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI request body of a model, its ``$defs`` inlined (an operation cannot carry ``$defs``)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return {"required": True, "content": {"application/json": {"schema": inline(schema)}}}


def error_path(loc: Iterable[Any]) -> str:
    """``("batch", 3, "type")`` as ``batch[3].type``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def validated(model: type[BaseModel], data: Any) -> Any:
    """``data`` as ``model``, or :class:`InvalidPayloadError` naming every wrong field's path."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        found: dict[str, list[str]] = {}
        for e in exc.errors(include_url=False):
            loc = e["loc"]
            if loc and loc[-1] in ("str", "int") and len(loc) > 1:  # a member of the id union: one problem per id
                found.setdefault(error_path(loc[:-1]), []).append("a string or an integer")
            else:
                found.setdefault(error_path(loc) or "body", []).append(e["msg"])
        problems = [
            Problem(path, "expected " + " or ".join(dict.fromkeys(m)) if m[0] == "a string or an integer" else m[0])
            for path, m in found.items()
        ]
        raise InvalidPayloadError(
            "invalid payload: " + "; ".join(str(p) for p in problems[:3]) + (" ..." if len(problems) > 3 else ""),
            problems=problems,
        ) from None


def snake_case(name: str) -> str:
    """``Order Completed`` → ``order_completed``, ``firstName`` → ``first_name``."""
    return normalize_name(re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name))


def event_name(name: str, names: Mapping[str, str]) -> str:
    """segmint's name of a tracked event: the map's, else the name in snake_case (else as given)."""
    mapped = names.get(name)
    if mapped:
        return mapped
    return snake_case(name) or name.strip()


# ---- columns ---------------------------------------------------------------------------------------

#: what a tracked event is stored as: DATA.md's import columns of events (``properties`` as JSON text)
EVENT_COLUMNS: tuple[Column, ...] = (
    Column("event_id", FieldType.STRING, "The messageId."),
    Column("contact_id", FieldType.STRING, "The userId."),
    Column("anonymous_id", FieldType.STRING, "The anonymousId."),
    Column("event", FieldType.STRING, "The event's name."),
    Column("ts", FieldType.TIMESTAMP, "When it happened."),
    *EVENT_PROPERTY_COLUMNS,
    Column("properties", FieldType.STRING, "Every other property, as JSON text."),
)
_PROPERTY_TYPES = {c.name: c.type for c in EVENT_PROPERTY_COLUMNS}
_PROPERTY_NAMES = frozenset(_PROPERTY_TYPES)
_PROPERTY_ORDER = tuple(c.name for c in EVENT_PROPERTY_COLUMNS)
_NO_TYPED: tuple[Any, ...] = (None,) * len(_PROPERTY_ORDER)
_ENUMS = {"bounce_type": ("hard", "soft")}

#: stored columns a trait may never name (internal keys, the ids a message gives otherwise)
RESERVED = frozenset({"contact_key", "company_key", "updated_at", "contact_id", "company_id", "id", "row"})
_PROPERTY_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
_CODE2 = re.compile(r"[A-Za-z]{2}")
_LANGUAGE = re.compile(r"([A-Za-z]{2})(?:[-_][A-Za-z0-9]+)*")

CONTACT_ALIASES = {"title": "job_title", "role_name": "role", "lifecycle": "lifecycle_stage"}
COMPANY_ALIASES = {
    "employee_count": "employees",
    "number_of_employees": "employees",
    "revenue": "annual_revenue",
    "website": "domain",
}
_CONTACT_COLUMNS = {c.name: c for c in CONTACTS.input_columns}
_COMPANY_COLUMNS = {c.name: c for c in COMPANIES.input_columns}


def _property_value(name: str, value: Any) -> Any:
    """``value`` as the typed event column ``name`` takes it, or None to keep it among the properties."""
    kind = _PROPERTY_TYPES[name]
    if kind is FieldType.STRING:
        if isinstance(value, str):
            if name in _ENUMS:
                return value if value.strip().lower() in _ENUMS[name] else None
            return value if value.strip() else None
        if isinstance(value, int | float) and not isinstance(value, bool) and name not in _ENUMS:
            return str(value)
        return None
    if kind is FieldType.FLOAT:
        if isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool) and abs(value) < INT64):
            return float(value)
        return None
    if kind is FieldType.BOOLEAN:
        return value if isinstance(value, bool) else None
    return None  # pragma: no cover - every event property column is a string, number or boolean


def _scalar(value: Any) -> Any:
    """A trait value as a custom property takes it: objects and lists as JSON text, huge integers as text."""
    if isinstance(value, dict | list):
        return _json(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= INT64:
        return str(value)
    return value


def parse_instant(value: Any) -> datetime | None:
    """An ISO 8601 timestamp (UTC without a zone) or None."""
    if isinstance(value, datetime):
        stamp = value
    elif isinstance(value, str):
        try:
            stamp = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    try:
        return stamp.astimezone(UTC) if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    except (OverflowError, ValueError):
        return None


def _builtin_value(entity: str, column: Column, value: Any) -> tuple[Any, str]:
    """(``value`` as the built-in column takes it, or None; why not)."""
    if value is None:
        return None, ""
    name, kind = column.name, column.type
    if kind is FieldType.STRING:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return None, "expected a string"
        text = str(value).strip()
        if not text:
            return None, ""
        if name == "email":
            try:
                return validate_email(text, check_deliverability=False).normalized.lower(), ""
            except EmailNotValidError as exc:
                return None, f"not a valid email address ({exc})"
        if name == "country":
            return (text.upper(), "") if _CODE2.fullmatch(text) else (None, "not an ISO 3166-1 alpha-2 code (SE, FI)")
        if name == "language":
            match = _LANGUAGE.fullmatch(text)
            return (match.group(1).lower(), "") if match else (None, "not an ISO 639-1 code (sv, fi)")
        if name == "lifecycle_stage":
            low = text.lower()
            return (low, "") if low in LIFECYCLE_STAGES else (None, "not one of " + ", ".join(LIFECYCLE_STAGES))
        if entity == "company" and name == "domain":
            host = urlsplit(text if "//" in text else "//" + text).hostname or ""
            return (host.removeprefix("www.") or None), ""
        return text, ""
    if kind is FieldType.BOOLEAN:
        return (value, "") if isinstance(value, bool) else (None, "expected true or false")
    if kind is FieldType.INTEGER:
        if isinstance(value, float) and value.is_integer() and abs(value) < INT64:
            value = int(value)
        if isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]{1,18}", value.strip()):
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) < INT64:
            return value, ""
        return None, "expected an integer"
    if kind is FieldType.FLOAT:
        if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) < 1e300:
            return float(value), ""
        return None, "expected a number"
    if kind is FieldType.TIMESTAMP:
        stamp = parse_instant(value)
        return (stamp, "") if stamp is not None else (None, "expected an ISO 8601 timestamp")
    return None, f"not storable as {kind.value}"  # pragma: no cover - no other built-in types


# ---- messages into rows --------------------------------------------------------------------------------


class Event(NamedTuple):
    """One tracked event as the writer stores it (columns are built from many at once)."""

    event_id: str | None
    contact_id: str | None
    anonymous_id: str | None
    event: str
    ts: datetime
    #: values of the typed property columns (``url``, ``amount``, ...), in the order of EVENT_PROPERTY_COLUMNS
    typed: tuple[Any, ...]
    #: every other property, as JSON text
    properties: str | None


@dataclass
class Rows:
    """What a request stores: contacts, companies and events, identity links, and the warnings to answer."""

    messages: int = 0
    contacts: list[dict[str, Any]] = field(default_factory=list)
    companies: list[dict[str, Any]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    #: (anonymous_id, contact_id): the visitor is this contact
    links: list[tuple[str, str]] = field(default_factory=list)
    #: anonymous ids of events stored without a contact (they join one as soon as a link exists)
    anonymous: set[str] = field(default_factory=set)
    #: contacts whose segments may have changed
    touched: set[str] = field(default_factory=set)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def stores_anything(self) -> bool:
        return bool(self.contacts or self.companies or self.events or self.links)


class Translator:
    """Turns validated messages into :class:`Rows`, all or nothing: a malformed message fails the whole request."""

    def __init__(self, received: datetime, names: Mapping[str, str]) -> None:
        self.received = received
        self.names = names
        self.rows = Rows()
        self.problems: list[Problem] = []

    def result(self) -> Rows:
        """The rows, or :class:`InvalidPayloadError` naming every message that cannot be stored."""
        if self.problems:
            raise InvalidPayloadError(
                "invalid payload: " + "; ".join(str(p) for p in self.problems[:3]), problems=self.problems
            )
        return self.rows

    def add(
        self,
        message: Message,
        path: str,
        *,
        kind: str | None = None,
        sent_at: datetime | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        """One message; ``kind`` is the endpoint's type for single calls, ``context`` the batch's."""
        kind = kind or message.type
        rows = self.rows
        rows.messages += 1
        here = f"{path}." if path else ""
        user, anonymous = text_id(message.userId), text_id(message.anonymousId)
        if kind == "alias":
            self._alias(user, text_id(message.previousId), here)
            return
        if user is None and anonymous is None:
            self.problems.append(Problem(f"{here}userId", "a userId or an anonymousId is required"))
            return
        if user is not None:
            rows.touched.add(user)
            if anonymous is not None:
                rows.links.append((anonymous, user))
        if kind == "track":
            if not message.event or not message.event.strip():
                self.problems.append(Problem(f"{here}event", "a track call needs the event's name"))
                return
            name = event_name(message.event, self.names)
            props = dict(message.properties) if message.properties else {}
            if name == "purchase" and "amount" not in props:
                for key in ("revenue", "total", "value"):
                    if _property_value("amount", props.get(key)) is not None:
                        props["amount"] = props[key]
                        break
            self._event(message, user, anonymous, here, sent_at, name, props)
        elif kind == "page" or kind == "screen":
            props = self._page_properties(message, context or {})
            self._event(
                message, user, anonymous, here, sent_at, "page_view" if kind == "page" else "screen_view", props
            )
        elif kind == "identify":
            self._identify(message, user, anonymous, here)
        elif kind == "group":
            self._group(message, user, here)

    # ---- the calls -------------------------------------------------------------------------------------

    def _alias(self, user: str | None, previous: str | None, here: str) -> None:
        if user is None:
            self.problems.append(Problem(f"{here}userId", "an alias call needs the userId"))
        if previous is None:
            self.problems.append(Problem(f"{here}previousId", "an alias call needs the previousId"))
        if user is None or previous is None:
            return
        self.rows.contacts.append({"contact_id": user})
        self.rows.links.append((previous, user))
        self.rows.touched.add(user)

    def _identify(self, message: Message, user: str | None, anonymous: str | None, here: str) -> None:
        row, company = self._traits("contact", message.traits or {}, f"{here}traits")
        contact_id = user or row.get("email")
        if contact_id is None:
            # DATA.md: a contact needs an id, or an email to use as one
            self.rows.warnings.append(
                Problem(f"{here}traits", "an identify without a userId or a valid email stores no traits")
            )
            return
        if user is None and anonymous is not None:
            self.rows.links.append((anonymous, contact_id))
            self.rows.touched.add(contact_id)
        if company is not None:
            self.rows.companies.append(company)
            row["company_id"] = company["company_id"]
        row["contact_id"] = contact_id
        self.rows.contacts.append(row)

    def _group(self, message: Message, user: str | None, here: str) -> None:
        group = text_id(message.groupId)
        if group is None:
            self.problems.append(Problem(f"{here}groupId", "a group call needs the groupId"))
            return
        row, _ = self._traits("company", message.traits or {}, f"{here}traits")
        row["company_id"] = group
        self.rows.companies.append(row)
        if user is not None:
            self.rows.contacts.append({"contact_id": user, "company_id": group})

    @staticmethod
    def _page_properties(message: Message, shared: Mapping[str, Any]) -> dict[str, Any]:
        """A page's or screen's properties, completed from ``context.page`` and ``context.campaign``."""
        props = dict(message.properties) if message.properties else {}
        if message.name is not None:
            props.setdefault("name", message.name)
        if message.category is not None:
            props.setdefault("category", message.category)
        own = message.context or {}
        page = own.get("page", shared.get("page"))
        if isinstance(page, dict):
            for key in ("url", "title", "referrer", "path"):
                if key not in props and page.get(key) is not None:
                    props[key] = page[key]
        campaign = own.get("campaign", shared.get("campaign"))
        if isinstance(campaign, dict):
            for key, column in (("source", "utm_source"), ("medium", "utm_medium"), ("name", "utm_campaign")):
                if column not in props and campaign.get(key) is not None:
                    props[column] = campaign[key]
        url = props.get("url")
        if isinstance(url, str) and "utm_" in url:
            query = parse_qs(urlsplit(url).query)
            for column in ("utm_source", "utm_medium", "utm_campaign"):
                if column not in props and query.get(column):
                    props[column] = query[column][0]
        return props

    # ---- pieces --------------------------------------------------------------------------------------

    def _when(self, message: Message, here: str, sent_at: datetime | None) -> datetime | None:
        """Segment's rule: timestamp; else originalTimestamp corrected by the client's clock skew; else now."""
        try:
            if message.timestamp is not None:
                stamp = message.timestamp
            elif message.originalTimestamp is not None:
                sent = message.sentAt or sent_at
                stamp = message.originalTimestamp
                if sent is not None:
                    stamp = stamp + (self.received - _aware(sent))
            else:
                return self.received
            return _aware(stamp)
        except (OverflowError, ValueError):
            self.problems.append(Problem(f"{here}timestamp", "out of the range of timestamps"))
            return None

    def _event(
        self,
        message: Message,
        user: str | None,
        anonymous: str | None,
        here: str,
        sent_at: datetime | None,
        name: str,
        props: dict[str, Any],
    ) -> None:
        ts = self._when(message, here, sent_at)
        if ts is None:
            return
        typed: dict[str, Any] = {}
        for key in _PROPERTY_NAMES.intersection(props):
            value = _property_value(key, props[key])
            if value is not None:
                typed[key] = value
                del props[key]
        self.rows.events.append(
            Event(
                text_id(message.messageId),
                user,
                anonymous,
                name,
                ts,
                tuple(map(typed.get, _PROPERTY_ORDER)) if typed else _NO_TYPED,
                _json(props) if props else None,
            )
        )
        if user is None:
            assert anonymous is not None
            self.rows.anonymous.add(anonymous)

    def _traits(
        self, entity: str, traits: Mapping[str, Any], here: str
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """A contact's or company's row from traits, and (contacts) the company its ``company`` trait names."""
        columns = _CONTACT_COLUMNS if entity == "contact" else _COMPANY_COLUMNS
        aliases = CONTACT_ALIASES if entity == "contact" else COMPANY_ALIASES
        row: dict[str, Any] = {}
        company: dict[str, Any] | None = None
        for key, value in traits.items():
            if value is None:
                continue
            name = snake_case(key)
            name = aliases.get(name, name)
            where = f"{here}.{key}"
            if name == "address" and isinstance(value, dict):
                for part, column in (
                    ("city", "city"),
                    ("country", "country"),
                    ("state", "region"),
                    ("region", "region"),
                ):
                    if part in value and column in columns and column not in traits:
                        self._builtin(entity, row, columns[column], value[part], f"{where}.{part}")
                continue
            if entity == "contact" and name == "company":
                company = self._company_of(value, where)
                continue
            if name == "name" and entity == "contact":
                if isinstance(value, str) and not any(k in traits for k in ("firstName", "first_name", "lastName")):
                    first, _, last = value.strip().partition(" ")
                    row["first_name"], row["last_name"] = first or None, last.strip() or None
                continue
            if entity == "contact" and name == "company_id":
                company_id = _id_or_none(value)
                if company_id is not None and company is None:
                    company = {"company_id": company_id}
                continue
            if name in RESERVED or (name == "email" and entity == "company"):
                continue
            if name in columns:
                self._builtin(entity, row, columns[name], value, where)
            elif _PROPERTY_NAME.fullmatch(name):
                row[name] = _scalar(value)
            else:
                self.rows.warnings.append(
                    Problem(where, "not stored: a property name starts with a letter (at most 63 characters)")
                )
        return row, company

    def _builtin(self, entity: str, row: dict[str, Any], column: Column, value: Any, where: str) -> None:
        stored, why = _builtin_value(entity, column, value)
        if stored is not None:
            row[column.name] = stored
        elif why:
            self.rows.warnings.append(Problem(where, f"not stored: {why}"))

    def _company_of(self, value: Any, where: str) -> dict[str, Any] | None:
        """identify's ``company`` trait: ``{id, name, ...}`` (or a name); its id is its name when it has none."""
        if isinstance(value, str):
            return {"company_id": value.strip(), "name": value.strip()} if value.strip() else None
        if not isinstance(value, dict):
            self.rows.warnings.append(Problem(where, "not stored: expected an object {id, name, ...}"))
            return None
        row, _ = self._traits("company", value, where)
        company_id = _id_or_none(value.get("id")) or row.get("name")
        if company_id is None:
            self.rows.warnings.append(Problem(where, "not stored: a company needs an id or a name"))
            return None
        row["company_id"] = company_id
        return row


def _id_or_none(value: Any) -> str | None:
    return text_id(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


def _aware(stamp: datetime) -> datetime:
    """In UTC (a timestamp without a zone is UTC); OverflowError at the ends of the calendar."""
    return stamp.astimezone(UTC) if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)


def finite_float(text: str) -> float:
    """JSON numbers too large for a double are refused rather than stored as infinity."""
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"number out of range: {text[:40]}")
    return value


__all__ = [
    "EVENT_COLUMNS",
    "EVENT_NAMES",
    "Batch",
    "BatchMessage",
    "Event",
    "InvalidPayloadError",
    "Message",
    "Rows",
    "Translator",
    "event_name",
    "finite_float",
    "request_schema",
    "snake_case",
    "text_id",
    "validated",
]
