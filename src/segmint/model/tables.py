"""DATA.md as code: the store's tables and their columns.

Users' own ids (``contact_id``, ``company_id``, ``deal_id``) are kept as
columns; inside, rows are joined on integer surrogate keys (``contact_key``,
``company_key``, ``deal_key``).  Events are narrow: the event name, the time,
the commonest properties as typed columns and the rest as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass

from segmint.model.types import FieldType

# Short names keep the column lists below readable as tables.
S, INT, F, B, T, J = (
    FieldType.STRING,
    FieldType.INTEGER,
    FieldType.FLOAT,
    FieldType.BOOLEAN,
    FieldType.TIMESTAMP,
    FieldType.JSON,
)


@dataclass(frozen=True)
class Column:
    """One stored column. ``internal`` columns are never read from an import file."""

    name: str
    type: FieldType
    description: str
    internal: bool = False


@dataclass(frozen=True)
class Table:
    """One stored table: its name, its users' id column and its surrogate key."""

    name: str
    entity: str
    columns: tuple[Column, ...]
    id_column: str | None = None
    key_column: str | None = None
    description: str = ""
    custom_properties: bool = False
    #: users' ids of other entities a file may give; stored as their surrogate keys
    references: tuple[str, ...] = ()

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def input_columns(self) -> list[Column]:
        return [c for c in self.columns if not c.internal]


LIFECYCLE_STAGES = ("subscriber", "lead", "mql", "sql", "opportunity", "customer", "evangelist", "other")
DEAL_STATUSES = ("open", "won", "lost")
CONSENT_STATUSES = ("granted", "revoked")
CONSENT_CHANNELS = ("email", "sms", "phone")
BOUNCE_TYPES = ("hard", "soft")

CONTACTS = Table(
    name="contacts",
    entity="contact",
    id_column="contact_id",
    key_column="contact_key",
    custom_properties=True,
    references=("company_id",),
    description="People the company knows: customers, prospects, partners, subscribers.",
    columns=(
        Column("contact_key", INT, "Internal surrogate key.", internal=True),
        Column("contact_id", S, "The contact's id in your systems (the email when none is given)."),
        Column("email", S, "Email address, syntax-checked and stored lower-case."),
        Column("first_name", S, "First name."),
        Column("last_name", S, "Last name."),
        Column("phone", S, "Phone number."),
        Column("job_title", S, "Job title as written, in any language."),
        Column("role", S, "Normalised role, e.g. cfo, it_manager, purchaser, engineer."),
        Column("seniority", S, "Seniority, e.g. c_level, manager, individual."),
        Column("company_key", INT, "Internal key of the contact's company.", internal=True),
        Column("country", S, "Country, ISO 3166-1 alpha-2 (FI, SE)."),
        Column("region", S, "Geographic region."),
        Column("city", S, "City."),
        Column("language", S, "Preferred language, ISO 639-1 (sv, fi, en, da)."),
        Column("source", S, "How the contact came to you (organic, paid, referral, event, ...)."),
        Column("lifecycle_stage", S, "Lifecycle stage: " + ", ".join(LIFECYCLE_STAGES) + "."),
        Column("owner", S, "The responsible sales rep."),
        Column("is_partner", B, "A partner or reseller."),
        Column("created_at", T, "When the contact was created."),
        Column("updated_at", T, "When a load last changed this contact.", internal=True),
    ),
)

COMPANIES = Table(
    name="companies",
    entity="company",
    id_column="company_id",
    key_column="company_key",
    custom_properties=True,
    description="Organisations your contacts work for.",
    columns=(
        Column("company_key", INT, "Internal surrogate key.", internal=True),
        Column("company_id", S, "The company's id in your systems."),
        Column("name", S, "Company name."),
        Column("domain", S, "Web domain."),
        Column("industry", S, "Industry (first level)."),
        Column("sub_industry", S, "Sub-industry (second level of the same hierarchy)."),
        Column("employees", INT, "Number of employees."),
        Column("annual_revenue", F, "Annual revenue in the store's currency."),
        Column("country", S, "Country, ISO 3166-1 alpha-2."),
        Column("region", S, "Geographic region."),
        Column("sales_region", S, "The sales organisation's region."),
        Column("owner", S, "The responsible account manager."),
        Column("created_at", T, "When the company was created."),
        Column("updated_at", T, "When a load last changed this company.", internal=True),
    ),
)

# Event properties common enough to deserve a typed column; the rest go to `properties`.
EVENT_PROPERTY_COLUMNS = (
    Column("campaign_id", S, "Email campaign the event belongs to."),
    Column("url", S, "Page URL (page_view, form_submit)."),
    Column("link_url", S, "Clicked link (email_click)."),
    Column("referrer", S, "Referring page."),
    Column("utm_source", S, "UTM source of the visit."),
    Column("utm_medium", S, "UTM medium of the visit."),
    Column("utm_campaign", S, "UTM campaign of the visit."),
    Column("topic", S, "Topic of a click, download or ticket."),
    Column("bounce_type", S, "hard or soft (email_bounce)."),
    Column("machine_open", B, "Open by a privacy proxy or scanner, not a person (email_open)."),
    Column("amount", F, "Order amount (purchase)."),
    Column("price", F, "Item price (cart_add)."),
    Column("currency", S, "Currency of amount or price."),
    Column("order_id", S, "Order id (purchase)."),
    Column("product_id", S, "Product id (cart_add, purchase)."),
    Column("category", S, "Product category (cart_add, purchase)."),
    Column("query", S, "Search terms (search)."),
)

EVENTS = Table(
    name="events",
    entity="event",
    id_column="event_id",
    references=("contact_id",),
    description="One row per thing a contact did or that happened to a contact, in time order.",
    columns=(
        Column("event_id", S, "Unique id; derived from the row's content when absent."),
        Column("contact_key", INT, "Internal key of the contact.", internal=True),
        Column("anonymous_id", S, "Visitor id before the contact is known."),
        Column("event", S, "Event name, e.g. email_click, page_view, purchase."),
        Column("ts", T, "When it happened."),
        *EVENT_PROPERTY_COLUMNS,
        Column("properties", J, "Every other property, as JSON."),
    ),
)

DEALS = Table(
    name="deals",
    entity="deal",
    id_column="deal_id",
    key_column="deal_key",
    custom_properties=True,
    references=("contact_id", "company_id"),
    description="Sales opportunities and their outcome.",
    columns=(
        Column("deal_key", INT, "Internal surrogate key.", internal=True),
        Column("deal_id", S, "The deal's id in your systems."),
        Column("contact_key", INT, "Internal key of the contact.", internal=True),
        Column("company_key", INT, "Internal key of the company.", internal=True),
        Column("stage", S, "Pipeline stage."),
        Column("status", S, "open, won or lost."),
        Column("amount", F, "Deal amount."),
        Column("currency", S, "Currency of the amount."),
        Column("owner", S, "The responsible sales rep."),
        Column("created_at", T, "When the deal was created."),
        Column("closed_at", T, "When the deal was won or lost."),
        Column("updated_at", T, "When a load last changed this deal.", internal=True),
    ),
)

CONSENTS = Table(
    name="consents",
    entity="consent",
    references=("contact_id",),
    description="Consent records; the latest per contact, channel and purpose is in force.",
    columns=(
        Column("contact_key", INT, "Internal key of the contact.", internal=True),
        Column("channel", S, "email, sms or phone."),
        Column("purpose", S, "What the consent is for: marketing, newsletter, ..."),
        Column("status", S, "granted or revoked."),
        Column("ts", T, "When it was given or withdrawn."),
        Column("source", S, "Where it was recorded (form, import, ...)."),
    ),
)

FIELDS = Table(
    name="segmint_fields",
    entity="meta",
    description="Custom properties found in loads or declared in segmint.toml.",
    columns=(
        Column("entity", S, "contact, company or deal."),
        Column("name", S, "Property name (a column of the entity's table)."),
        Column("type", S, "string, integer, float, boolean or timestamp."),
        Column("description", S, "What the property means."),
        Column("created_at", T, "When it was first seen."),
    ),
)

MIGRATIONS = Table(
    name="segmint_migrations",
    entity="meta",
    description="Schema versions applied to this store.",
    columns=(
        Column("version", INT, "Migration number."),
        Column("name", S, "What the migration does."),
        Column("applied_at", T, "When it was applied."),
    ),
)

SEGMENTS = Table(
    name="segments",
    entity="meta",
    id_column="name",
    description="Segment definitions, as applied (SEGMENTS.md documents, stored as JSON).",
    columns=(
        Column("name", S, "The segment's unique name."),
        Column("entity", S, "contact or company."),
        Column("kind", S, "dynamic or static."),
        Column("title", S, "Free-text title."),
        Column("definition", S, "The whole definition as JSON."),
        Column("created_at", T, "When it was first applied."),
        Column("updated_at", T, "When it was last changed."),
    ),
)

STATIC_MEMBERS = Table(
    name="segment_static_members",
    entity="meta",
    description="Members of static segments: changed only by apply, add, remove and snapshot.",
    columns=(
        Column("segment", S, "Segment name."),
        Column("member_key", INT, "Key of the contact or company."),
        Column("added_at", T, "When it was added."),
    ),
)

SEGMENT_MEMBERS = Table(
    name="segment_members",
    entity="meta",
    description="Members of each segment as of its last refresh.",
    columns=(
        Column("segment", S, "Segment name."),
        Column("member_key", INT, "Key of the contact or company."),
        Column("since", T, "The as_of of the refresh at which it entered."),
    ),
)

SEGMENT_CHANGES = Table(
    name="segment_changes",
    entity="meta",
    description="Who entered and left each segment, and at which refresh.",
    columns=(
        Column("segment", S, "Segment name."),
        Column("member_key", INT, "Key of the contact or company."),
        Column("change", S, "enter or exit."),
        Column("at", T, "The as_of of the refresh that saw it."),
        Column("refresh_id", INT, "The refresh that saw it."),
    ),
)

SEGMENT_REFRESHES = Table(
    name="segment_refreshes",
    entity="meta",
    description="One row per segment per refresh: its size and how many entered and left.",
    columns=(
        Column("refresh_id", INT, "Refresh number, rising."),
        Column("segment", S, "Segment name."),
        Column("as_of", T, "The instant the segment was evaluated at."),
        Column("ran_at", T, "When the refresh ran."),
        Column("size", INT, "Members after the refresh."),
        Column("entered", INT, "Members who entered."),
        Column("exited", INT, "Members who left."),
    ),
)

API_KEYS = Table(
    name="segmint_api_keys",
    entity="meta",
    description="API keys of the HTTP server: only a hash of each secret is stored.",
    columns=(
        Column("key_id", S, "The key's public id (the part before the secret)."),
        Column("name", S, "What the key is for."),
        Column("scope", S, "ingest (tracking only), read or admin."),
        Column("secret_hash", S, "SHA-256 of the secret, hex."),
        Column("created_at", T, "When the key was made."),
        Column("revoked_at", T, "When it was revoked; unset while it works."),
    ),
)

SEGMENT_TABLES: tuple[Table, ...] = (SEGMENTS, STATIC_MEMBERS, SEGMENT_MEMBERS, SEGMENT_CHANGES, SEGMENT_REFRESHES)

DATA_TABLES: tuple[Table, ...] = (CONTACTS, COMPANIES, EVENTS, DEALS, CONSENTS)
ENTITY_TABLES: dict[str, Table] = {
    "contacts": CONTACTS,
    "companies": COMPANIES,
    "events": EVENTS,
    "deals": DEALS,
    "consents": CONSENTS,
}
