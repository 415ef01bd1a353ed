"""Lifecycle stage and journey phase on a hand-made data set, as of 2026-06-30 12:00 UTC, on every engine.

Windows: 30 days back is 2026-05-31 12:00, 60 days 2026-05-01 12:00, 90 days 2026-04-01 12:00.
Each line: contact: what they did -> inferred stage, journey phase (first matching rule, else awareness).

- new_cust: first purchase 06-10, a pricing view 06-20 -> customer; onboarding (beats decision);
- old_cust: purchases 2025-10-01 and 06-20; the first is older than 60 days -> customer; retention;
- won: a deal won exactly 60 days ago (05-01 12:00, the window is inclusive) -> customer; onboarding;
- won_later: a deal created 03-01 but won only on 07-05, after as_of -> open at as_of: opportunity;
  a pricing view 06-25 -> decision;
- opp: an open deal, a product page view 06-01 -> opportunity; consideration;
- sql_act: a sales activity 04-15 (within 90 days) -> sql; awareness;
- sql_form: a demo request 05-10 (within 90 days, not 30) -> sql; awareness (decision wants 30 days);
- old_act: a sales activity 03-01 (older than 90 days) and a download in 2025 -> lead; awareness;
- mql_views: /pricing 06-05, /products/... 06-10, /PRICING?x=1 06-12: three views within 30 days -> mql; decision;
- two_views: /pricing 05-20 (too old), 06-05 and 06-10: two -> no mql; an email sent -> subscriber; decision;
- mql_form: a contact form 06-20 -> mql; awareness (no journey rule names that form);
- news: a newsletter signup 06-20 -> subscriber (a signup is no lead); awareness;
- consent: email consent granted in 2025 -> subscriber; awareness;
- revoked: marketing consent granted, revoked 02-01 and granted again only after as_of; newsletter consent granted
  and revoked at the same instant (revoked wins); an sms consent does not count -> other; awareness;
- searcher: a search 06-25 -> other; consideration;
- webinar: a webinar registration 06-15 -> mql (a form within 30 days); consideration;
- shopper: a cart_add 06-28 -> other; decision;
- dl_recent: a download 06-20 -> lead; consideration;
- nobody: nothing -> other; awareness;
- future: a purchase and a consent after as_of only -> other; awareness;
- stored: stored stage 'evangelist', a first purchase 06-01 -> the trait column says customer (inferred);
  onboarding.  In segments the stored stage wins, so 'lifecycle_stage eq customer' is new_cust, old_cust, won.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError
from traits_testing import load_data, traits_by_id

from segmint.compile import compiler_for
from segmint.traits.base import TraitContext
from segmint.traits.lifecycle import JourneyRule, Lifecycle, LifecycleSettings

AS_OF = datetime(2026, 6, 30, 12, tzinfo=UTC)

EXPECTED = {
    "new_cust": ("customer", "onboarding"),
    "old_cust": ("customer", "retention"),
    "won": ("customer", "onboarding"),
    "won_later": ("opportunity", "decision"),
    "opp": ("opportunity", "consideration"),
    "sql_act": ("sql", "awareness"),
    "sql_form": ("sql", "awareness"),
    "old_act": ("lead", "awareness"),
    "mql_views": ("mql", "decision"),
    "two_views": ("subscriber", "decision"),
    "mql_form": ("mql", "awareness"),
    "news": ("subscriber", "awareness"),
    "consent": ("subscriber", "awareness"),
    "revoked": ("other", "awareness"),
    "searcher": ("other", "consideration"),
    "webinar": ("mql", "consideration"),
    "shopper": ("other", "decision"),
    "dl_recent": ("lead", "consideration"),
    "nobody": ("other", "awareness"),
    "future": ("other", "awareness"),
    "stored": ("customer", "onboarding"),
}


def ev(contact: str, event: str, ts: str, **props: Any) -> dict[str, Any]:
    """An event row; ``ts`` is a full ISO instant or, short, 'MM-DDTHH:MM' in 2026 (UTC)."""
    return {"contact_id": contact, "event": event, "ts": f"2026-{ts}:00Z" if len(ts) < 12 else ts, **props}


def consent(contact: str, status: str, ts: str, purpose: str = "marketing", channel: str = "email") -> dict[str, Any]:
    return {"contact_id": contact, "channel": channel, "purpose": purpose, "status": status, "ts": ts}


DATA = {
    "contacts": [
        {"contact_id": c, "email": f"{c}@example.com", "lifecycle_stage": "evangelist" if c == "stored" else None}
        for c in EXPECTED
    ],
    "deals": [
        {"deal_id": "d1", "contact_id": "won", "status": "won", "created_at": "2026-03-01T09:00:00Z",
         "closed_at": "2026-05-01T12:00:00Z"},
        {"deal_id": "d2", "contact_id": "won_later", "status": "won", "created_at": "2026-03-01T09:00:00Z",
         "closed_at": "2026-07-05T09:00:00Z"},
        {"deal_id": "d3", "contact_id": "opp", "status": "open", "created_at": "2026-04-01T09:00:00Z"},
    ],
    "consents": [
        consent("consent", "granted", "2025-01-01T09:00:00Z"),
        consent("revoked", "granted", "2025-01-01T09:00:00Z"),
        consent("revoked", "revoked", "2026-02-01T09:00:00Z"),
        consent("revoked", "granted", "2026-07-10T09:00:00Z"),
        consent("revoked", "granted", "2026-03-01T09:00:00Z", purpose="newsletter"),
        consent("revoked", "revoked", "2026-03-01T09:00:00Z", purpose="newsletter"),
        consent("revoked", "granted", "2025-01-01T09:00:00Z", channel="sms"),
        consent("future", "granted", "2026-07-02T09:00:00Z"),
    ],
    "events": [
        ev("new_cust", "purchase", "06-10T10:00", amount=10.0),
        ev("new_cust", "page_view", "06-20T10:00", url="/pricing"),
        ev("old_cust", "purchase", "2025-10-01T10:00:00Z", amount=10.0),
        ev("old_cust", "purchase", "06-20T10:00", amount=10.0),
        ev("won_later", "page_view", "06-25T10:00", url="https://www.kvarkenfluidtech.fi/pricing"),
        ev("opp", "page_view", "06-01T10:00", url="/products/hydraulics/pumps"),
        ev("sql_act", "sales_activity", "04-15T10:00", kind="call"),
        ev("sql_form", "form_submit", "05-10T10:00", form_id="demo_request", url="/demo"),
        ev("old_act", "sales_activity", "03-01T10:00", kind="meeting"),
        ev("old_act", "content_download", "2025-12-01T10:00:00Z", asset="Hydraulikkatalog 2026.pdf"),
        ev("mql_views", "page_view", "06-05T10:00", url="/pricing"),
        ev("mql_views", "page_view", "06-10T10:00", url="/products/pneumatics/valves"),
        ev("mql_views", "page_view", "06-12T10:00", url="/PRICING?x=1"),
        ev("two_views", "page_view", "05-20T10:00", url="/pricing"),
        ev("two_views", "page_view", "06-05T10:00", url="/pricing"),
        ev("two_views", "page_view", "06-10T10:00", url="/pricing"),
        ev("two_views", "email_sent", "01-01T10:00", campaign_id="c1"),
        ev("mql_form", "form_submit", "06-20T10:00", form_id="contact_form", url="/contact"),
        ev("news", "form_submit", "06-20T10:00", form_id="Newsletter_Signup", url="/newsletter"),
        ev("searcher", "search", "06-25T10:00", query="hydraulcylinder"),
        ev("webinar", "form_submit", "06-15T10:00", form_id="webinar_registration", url="/webinars"),
        ev("shopper", "cart_add", "06-28T10:00", product_id="FSH-1001", price=89.0),
        ev("dl_recent", "content_download", "06-20T10:00", asset="Datablad HC-serien.pdf"),
        ev("future", "purchase", "07-01T10:00", amount=10.0),
        ev("stored", "purchase", "06-01T10:00", amount=10.0),
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def lifecycle(module_store: Any) -> dict[str, dict[str, Any]]:
    load_data(module_store, DATA)
    return traits_by_id(module_store, "lifecycle", AS_OF)


def test_lifecycle_every_contact_has_a_row(lifecycle: dict[str, dict[str, Any]]) -> None:
    assert sorted(lifecycle) == sorted(EXPECTED)


@pytest.mark.parametrize("contact", sorted(EXPECTED))
def test_lifecycle_stage_and_phase(lifecycle: dict[str, dict[str, Any]], contact: str) -> None:
    row = lifecycle[contact]
    assert (row["lifecycle_stage"], row["journey_phase"]) == EXPECTED[contact]


def test_lifecycle_custom_journey_rules(lifecycle: dict[str, dict[str, Any]], module_store: Any) -> None:
    """One rule 'hot': two or more pricing views within 30 days (url ignoring case); everyone else 'cold'.

    mql_views (/pricing 06-05, /PRICING?x=1 06-12) and two_views (06-05, 06-10; 05-20 is too old) are hot;
    new_cust and won_later have one view each -> cold.  With no rules at all, everyone gets the default phase.
    """
    hot = LifecycleSettings(
        journey_rules=[
            JourneyRule(phase="hot", events=["page_view"], url_contains=["/Pricing"], within_days=30, min_count=2)
        ],
        default_phase="cold",
    )
    phases = run_model(module_store, Lifecycle(hot))
    assert sorted(c for c, p in phases.items() if p == "hot") == ["mql_views", "two_views"]
    assert set(phases.values()) == {"hot", "cold"}
    none = run_model(module_store, Lifecycle(LifecycleSettings(journey_rules=[])))
    assert set(none.values()) == {"awareness"}
    assert len(none) == len(EXPECTED)


def test_lifecycle_first_time_rule_needs_a_window() -> None:
    with pytest.raises(ValidationError, match="first_time needs within_days"):
        JourneyRule(phase="onboarding", events=["purchase"], first_time=True)


def test_lifecycle_a_segment_sees_the_stored_stage_first(
    lifecycle: dict[str, dict[str, Any]], module_store: Any
) -> None:
    module_store.apply(
        {"name": "customers", "conditions": [{"field": "lifecycle_stage", "op": "eq", "value": "Customer"}]}
    )
    assert module_store.members("customers", as_of=AS_OF) == ["new_cust", "old_cust", "won"]


def run_model(store: Any, model: Lifecycle) -> dict[str, str]:
    """journey_phase by contact id, from the model's query run directly (not stored)."""
    ctx = TraitContext(store, compiler_for(store.engine.name, store.registry(), {}, as_of=AS_OF), AS_OF)
    rows = store.engine.query(model.query(ctx)).to_pylist()
    ids = {
        r["contact_key"]: r["contact_id"]
        for r in store.engine.query("SELECT contact_key, contact_id FROM contacts").to_pylist()
    }
    return {ids[r["contact_key"]]: r["journey_phase"] for r in rows}
