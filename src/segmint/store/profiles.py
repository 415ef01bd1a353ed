"""A contact's profile: fields, traits, company, consents in force and latest events."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from segmint.errors import NotFoundError
from segmint.model.tables import COMPANIES, CONSENTS, CONTACTS, EVENTS
from segmint.store.store import Store

_HIDDEN = {"contact_key", "company_key", "updated_at"}


def _where_id(column: str, value: str) -> exp.Expr:
    return exp.column(column).eq(exp.Literal.string(value))


def find_contact_key(store: Store, contact: str) -> int:
    """The surrogate key of a contact given by id or email."""
    query = (
        exp.select("contact_key")
        .from_(CONTACTS.name)
        .where(exp.or_(_where_id("contact_id", contact), _where_id("email", contact.strip().lower())))
        .order_by("contact_key")
        .limit(1)
    )
    key = store.engine.scalar(query)
    if key is None:
        raise NotFoundError(f"no contact with id or email '{contact}'")
    return int(key)


def contact_profile(store: Store, contact: str, *, events: int = 20) -> dict[str, Any]:
    """Everything known about one contact, for ``segmint contacts show`` and the API."""
    key = find_contact_key(store, contact)
    engine = store.engine
    row = engine.query(exp.select("*").from_(CONTACTS.name).where(exp.column("contact_key").eq(key))).to_pylist()[0]
    company: dict[str, Any] | None = None
    if row.get("company_key") is not None:
        rows = engine.query(
            exp.select("*").from_(COMPANIES.name).where(exp.column("company_key").eq(row["company_key"]))
        ).to_pylist()
        company = {k: v for k, v in rows[0].items() if k not in _HIDDEN} if rows else None
    consents = engine.query(
        exp.select("channel", "purpose", "status", "ts", "source")
        .from_(CONSENTS.name)
        .where(exp.column("contact_key").eq(key))
        .order_by("ts DESC", "channel", "purpose")
    ).to_pylist()
    in_force: dict[tuple[str, str | None], dict[str, Any]] = {}
    for record in consents:  # newest first: the first seen per channel and purpose is in force
        in_force.setdefault((record["channel"], record["purpose"]), record)
    total = engine.scalar(
        exp.select(exp.Count(this=exp.Star())).from_(EVENTS.name).where(exp.column("contact_key").eq(key))
    )
    latest = engine.query(
        exp.select("event", "ts", "campaign_id", "url", "link_url", "topic", "amount", "properties")
        .from_(EVENTS.name)
        .where(exp.column("contact_key").eq(key))
        .order_by("ts DESC", "event_id")
        .limit(events)
    ).to_pylist()
    from segmint.segments.refresh import member_segments  # the service layer builds on the store
    from segmint.traits import trait_values

    traits = trait_values(store, "contact", key)
    if row.get("company_key") is not None:
        traits.update({f"company.{k}": v for k, v in trait_values(store, "company", row["company_key"]).items()})
    profile = {k: v for k, v in row.items() if k not in _HIDDEN}
    profile["company_id"] = company["company_id"] if company else None
    return {
        "contact": profile,
        "company": company,
        "traits": traits,
        "consents": sorted(in_force.values(), key=lambda r: (r["channel"], r["purpose"] or "")),
        "consent_history": consents,
        "event_count": int(total or 0),
        "latest_events": [{k: v for k, v in e.items() if v is not None} for e in latest],
        "segments": member_segments(store, key),
    }
