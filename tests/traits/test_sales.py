"""Sales traits on a hand-made data set, as of 2026-06-30 12:00 UTC, on every engine.

Deals (a deal created after as_of does not exist yet; one without created_at always does):

- ann: open "proposal" 1000 (lisa, 03-01), open "negotiation" 2500.5 (mats, 05-01), won "closed_won" (lisa,
  06-01, the latest deal but not open), open "discovery" 100000 created 07-05 (after as_of)
  -> 2 open deals, 3500.5, 1 won; the latest open deal is negotiation / open / mats.
- bo: won (lisa, 2025-01-01), lost "closed_lost" (per, 2025-06-01) -> 0 open, 0.0, 1 won; no open deal, so the
  latest deal: closed_lost / lost / per.
- cy: open "qualification" without created_at nor amount (per), open "demo" 500 (lisa, 02-01) -> 2 open, 500.0
  (the unset amount adds nothing); an unset created_at sorts last, so demo / open / lisa.
- di: only a deal created 07-01 (after as_of) -> 0, 0.0, 0 and no deal fields.
- ed: a won deal without created_at (mats) -> 0 open, 1 won, closed_won / won / mats.
- fa: no deals.

Events:

- ann: sales activities call (06-10) and meeting (06-20); an email activity on 07-01 is after as_of -> meeting at
  06-20. email_sent 06-01 and 06-29 12:00 -> last contact 06-29 12:00, exactly 1 day before as_of -> 1.
- bo: email_sent 04-30 13:00 -> 60 days 23 hours -> 60 (floor); an email_open is not a marketing contact.
- cy: email_sent 04-30 11:00 -> 61 days 1 hour -> 61; an email_sent 07-01 is after as_of. Two activities at the
  same instant 05-05 09:00 (meeting, call): the tie goes to the kind first in alphabetical order -> call.
- di: email_sent only after as_of -> never contacted (unset); an activity without kind on 03-01 -> kind unset.
- ed, fa: no events -> everything unset.

Segment "no marketing contact in 60 days" (gt 60 or unset): cy, di, ed, fa (not ann: 1, not bo: exactly 60).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from traits_testing import load_data, traits_by_id

AS_OF = datetime(2026, 6, 30, 12, tzinfo=UTC)
IDS = ("ann", "bo", "cy", "di", "ed", "fa")


def deal(
    deal_id: str, contact: str, status: str, stage: str, owner: str, created: str | None, amount: float | None
) -> dict[str, Any]:
    return {
        "deal_id": deal_id,
        "contact_id": contact,
        "status": status,
        "stage": stage,
        "owner": owner,
        "created_at": created,
        "amount": amount,
    }


def event(contact: str, name: str, ts: str, **props: Any) -> dict[str, Any]:
    return {"contact_id": contact, "event": name, "ts": ts, **props}


DATA: dict[str, list[dict[str, Any]]] = {
    "contacts": [{"contact_id": c, "email": f"{c}@example.com"} for c in IDS],
    "deals": [
        deal("d1", "ann", "open", "proposal", "lisa", "2026-03-01T00:00:00Z", 1000.0),
        deal("d2", "ann", "open", "negotiation", "mats", "2026-05-01T00:00:00Z", 2500.5),
        deal("d3", "ann", "won", "closed_won", "lisa", "2026-06-01T00:00:00Z", 9999.0),
        deal("d4", "ann", "open", "discovery", "lisa", "2026-07-05T00:00:00Z", 100000.0),
        deal("d5", "bo", "won", "closed_won", "lisa", "2025-01-01T00:00:00Z", 100.0),
        deal("d6", "bo", "lost", "closed_lost", "per", "2025-06-01T00:00:00Z", 200.0),
        deal("d7", "cy", "open", "qualification", "per", None, None),
        deal("d8", "cy", "open", "demo", "lisa", "2026-02-01T00:00:00Z", 500.0),
        deal("d9", "di", "open", "discovery", "lisa", "2026-07-01T00:00:00Z", 700.0),
        deal("d10", "ed", "won", "closed_won", "mats", None, 300.0),
    ],
    "events": [
        event("ann", "sales_activity", "2026-06-10T09:00:00Z", kind="call", owner="lisa"),
        event("ann", "sales_activity", "2026-06-20T09:00:00Z", kind="meeting", owner="lisa"),
        event("ann", "sales_activity", "2026-07-01T09:00:00Z", kind="email", owner="lisa"),
        event("ann", "email_sent", "2026-06-01T12:00:00Z"),
        event("ann", "email_sent", "2026-06-29T12:00:00Z"),
        event("bo", "email_sent", "2026-04-30T13:00:00Z"),
        event("bo", "email_open", "2026-06-01T12:00:00Z"),
        event("cy", "email_sent", "2026-04-30T11:00:00Z"),
        event("cy", "email_sent", "2026-07-01T11:00:00Z"),
        event("cy", "sales_activity", "2026-05-05T09:00:00Z", kind="meeting", owner="per"),
        event("cy", "sales_activity", "2026-05-05T09:00:00Z", kind="call", owner="per"),
        event("di", "email_sent", "2026-07-01T11:00:00Z"),
        event("di", "sales_activity", "2026-03-01T09:00:00Z", owner="lisa"),
    ],
}

# contact: open_deals, open_deal_amount, won_deals, deal_stage, deal_status, deal_owner
DEALS: dict[str, tuple[int, float, int, str | None, str | None, str | None]] = {
    "ann": (2, 3500.5, 1, "negotiation", "open", "mats"),
    "bo": (0, 0.0, 1, "closed_lost", "lost", "per"),
    "cy": (2, 500.0, 0, "demo", "open", "lisa"),
    "di": (0, 0.0, 0, None, None, None),
    "ed": (0, 0.0, 1, "closed_won", "won", "mats"),
    "fa": (0, 0.0, 0, None, None, None),
}
# contact: last_sales_activity_at, last_sales_activity_kind, last_marketing_contact_at, days_since_marketing_contact
ACTIVITY: dict[str, tuple[str | None, str | None, str | None, int | None]] = {
    "ann": ("2026-06-20T09:00:00Z", "meeting", "2026-06-29T12:00:00Z", 1),
    "bo": (None, None, "2026-04-30T13:00:00Z", 60),
    "cy": ("2026-05-05T09:00:00Z", "call", "2026-04-30T11:00:00Z", 61),
    "di": ("2026-03-01T09:00:00Z", None, None, None),
    "ed": (None, None, None, None),
    "fa": (None, None, None, None),
}


def ts(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text).astimezone(UTC) if text else None


def utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value else None


@pytest.fixture(scope="module")
def sales(module_store: Any) -> dict[str, dict[str, Any]]:
    load_data(module_store, DATA)
    return traits_by_id(module_store, "sales", AS_OF)


@pytest.mark.parametrize("contact", IDS)
def test_sales_deal_fields(sales: dict[str, dict[str, Any]], contact: str) -> None:
    open_deals, amount, won, stage, status, owner = DEALS[contact]
    row = sales[contact]
    assert row["open_deals"] == open_deals
    assert row["open_deal_amount"] == pytest.approx(amount)
    assert row["won_deals"] == won
    assert (row["deal_stage"], row["deal_status"], row["deal_owner"]) == (stage, status, owner)


@pytest.mark.parametrize("contact", IDS)
def test_sales_activity_and_marketing_contact(sales: dict[str, dict[str, Any]], contact: str) -> None:
    activity_at, kind, contacted_at, days = ACTIVITY[contact]
    row = sales[contact]
    assert utc(row["last_sales_activity_at"]) == ts(activity_at)
    assert row["last_sales_activity_kind"] == kind
    assert utc(row["last_marketing_contact_at"]) == ts(contacted_at)
    assert row["days_since_marketing_contact"] == days


def test_sales_segments_use_the_fields(module_store: Any, sales: dict[str, dict[str, Any]]) -> None:
    module_store.apply(
        {
            "name": "no-marketing-contact-60d",
            "conditions": [
                {
                    "any": [
                        {"field": "days_since_marketing_contact", "op": "gt", "value": 60},
                        {"field": "days_since_marketing_contact", "op": "is_not_set"},
                    ]
                }
            ],
        }
    )
    assert module_store.members("no-marketing-contact-60d", as_of=AS_OF) == ["cy", "di", "ed", "fa"]
    module_store.apply({"name": "mats-deals", "conditions": [{"field": "deal_owner", "op": "eq", "value": "MATS"}]})
    assert module_store.members("mats-deals", as_of=AS_OF) == ["ann", "ed"]
