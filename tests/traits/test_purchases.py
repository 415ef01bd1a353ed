"""Purchases, RFM and value tiers on a hand-made data set, as of 2026-06-30 12:00 UTC, on every engine.

as_of - 365d = 2025-06-30 12:00 (the window of revenue_365d and of value_tier).

Orders (an order id's lines add up and take their first time; a purchase without
an order id is an order; a won deal closed by as_of is an order):

- ann: A1 = 100 + 50 on 06-20 10:00 (lines 10:00, 10:01), A2 200 on 03-01, A3 150 on 2025-12-01
  -> 3 orders, 500, last 06-20 10:00 (10 days 2 h ago -> 10 days);
- bo: two purchases without order id, 300 and 100, both 06-25 09:00 -> 2 orders, 400, 5 days;
- cy: no events; deals: won 3000 closed 01-15 12:00 (counts), lost 5000, open 7000, won 9000 closed
  07-05 (after as_of) -> 1 order, 3000, 166 days;
- di: D1 800 on 2024-06-01 18:00 -> 1 order, 800, nothing in 365 d; 758.75 days ago -> 758;
- ed: E1 340 on 2025-03-01 (outside 365 d), E2 60 on 2025-09-10, E3 999 on 07-01 (after as_of)
  -> 2 orders, 400, 365 d: 60, 293 days;
- fa: F1 without an amount on 05-01 -> 1 order, revenue 0, 60 days;
- gus: G0 100 on 2025-06-30 11:59 (one minute outside 365 d), G1..G5 100 each from 01-28 to 06-28
  -> 6 orders, 600, 365 d: 500, 2 days;
- hal: H1 = 1500 (06-29 12:00) + 500 (12:05) + 700 (07-01, after as_of) -> 1 order, 2000, 1 day;
- ivy: only a purchase after as_of; jo: nothing but a lost deal -> not buyers.

RFM among the 8 buyers, score = ceil(5 * RANK / 8) (ranks 1..8 -> 1 2 2 3 4 4 5 5; ties share the first rank):

- R (days, most first): di 758, ed 293, cy 166, fa 60, ann 10, bo 5, gus 2, hal 1 -> 1 2 2 3 4 4 5 5;
- F (orders): cy di fa hal 1 order -> rank 1 -> 1; bo ed 2 -> rank 5 -> 4; ann 3 -> 5; gus 6 -> 5
  (NTILE would have spread the four one-order buyers over 1, 1, 2, 2);
- M (revenue): fa 0 -> 1; bo ed 400 -> rank 2 -> 2; ann 500 -> 3; gus 600 -> 4; di 800 -> 4;
  hal 2000 -> 5; cy 3000 -> 5.

Groups by the R/F map: ann 45 loyal, bo 44 loyal, cy 21 hibernating, di 11 lost, ed 24 at_risk,
fa 31 about_to_sleep, gus 55 champions, hal 51 new_customer.

value_tier on revenue in 365 d: cy 3000, hal 2000, ann 500, gus 500, bo 400, ed 60, di 0, fa 0;
total 6460.  Share held by the buyers strictly above: cy 0, hal 0.46, ann and gus 5000/6460 = 0.77
(both A: a tie-break would have put the second at 5500/6460 = 0.85, B), bo 6000/6460 = 0.93 -> B,
ed 0.99 -> C; di and fa have no revenue in the window -> C.

metal_tier on all-time revenue, share of the 8 buyers strictly above: cy 0 platinum, hal 1/8 gold,
di 2/8 and gus 3/8 silver, ann 4/8 = 0.5 (not below 0.5) bronze, bo ed fa bronze.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from traits_testing import load_data, traits_by_id

AS_OF = datetime(2026, 6, 30, 12, tzinfo=UTC)
BUYERS = ("ann", "bo", "cy", "di", "ed", "fa", "gus", "hal")


def purchase(contact: str, ts: str, amount: float | None, order_id: str | None = None) -> dict[str, Any]:
    return {"contact_id": contact, "event": "purchase", "ts": ts, "amount": amount, "order_id": order_id}


def deal(deal_id: str, contact: str, status: str, amount: float, closed_at: str | None) -> dict[str, Any]:
    return {"deal_id": deal_id, "contact_id": contact, "status": status, "amount": amount, "closed_at": closed_at}


DATA = {
    "contacts": [{"contact_id": c, "email": f"{c}@example.com"} for c in (*BUYERS, "ivy", "jo")],
    "deals": [
        deal("cy-won", "cy", "won", 3000, "2026-01-15T12:00:00Z"),
        deal("cy-lost", "cy", "lost", 5000, "2026-02-01T12:00:00Z"),
        deal("cy-open", "cy", "open", 7000, None),
        deal("cy-later", "cy", "won", 9000, "2026-07-05T12:00:00Z"),
        deal("jo-lost", "jo", "lost", 100, "2026-03-01T12:00:00Z"),
    ],
    "events": [
        purchase("ann", "2026-06-20T10:00:00Z", 100, "A1"),
        purchase("ann", "2026-06-20T10:01:00Z", 50, "A1"),
        purchase("ann", "2026-03-01T10:00:00Z", 200, "A2"),
        purchase("ann", "2025-12-01T10:00:00Z", 150, "A3"),
        {"contact_id": "ann", "event": "cart_add", "ts": "2026-06-21T10:00:00Z", "price": 999.0},
        purchase("bo", "2026-06-25T09:00:00Z", 300),
        purchase("bo", "2026-06-25T09:00:00Z", 100),
        purchase("di", "2024-06-01T18:00:00Z", 800, "D1"),
        purchase("ed", "2025-03-01T12:00:00Z", 340, "E1"),
        purchase("ed", "2025-09-10T12:00:00Z", 60, "E2"),
        purchase("ed", "2026-07-01T12:00:00Z", 999, "E3"),
        purchase("fa", "2026-05-01T12:00:00Z", None, "F1"),
        purchase("gus", "2025-06-30T11:59:00Z", 100, "G0"),
        *(purchase("gus", f"2026-0{m}-28T12:00:00Z", 100, f"G{m}") for m in (1, 2, 3, 4, 6)),
        purchase("hal", "2026-06-29T12:00:00Z", 1500, "H1"),
        purchase("hal", "2026-06-29T12:05:00Z", 500, "H1"),
        purchase("hal", "2026-07-01T12:00:00Z", 700, "H1"),
        purchase("ivy", "2026-07-02T12:00:00Z", 50, "I1"),
        {"contact_id": "ivy", "event": "page_view", "ts": "2026-06-01T12:00:00Z", "url": "/shop"},
    ],
}


@pytest.fixture(scope="module")
def purchases(module_store: Any) -> dict[str, dict[str, Any]]:
    load_data(module_store, DATA)
    return traits_by_id(module_store, "purchases", AS_OF)


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def column(rows: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    """One field of every buyer, timestamps in UTC."""
    values = {c: rows[c][name] for c in BUYERS}
    return {c: v.astimezone(UTC) if isinstance(v, datetime) else v for c, v in values.items()}


def test_purchases_orders_and_revenue(purchases: dict[str, dict[str, Any]]) -> None:
    assert column(purchases, "orders") == {"ann": 3, "bo": 2, "cy": 1, "di": 1, "ed": 2, "fa": 1, "gus": 6, "hal": 1}
    assert column(purchases, "revenue") == {
        "ann": 500,
        "bo": 400,
        "cy": 3000,
        "di": 800,
        "ed": 400,
        "fa": 0,
        "gus": 600,
        "hal": 2000,
    }
    assert column(purchases, "revenue_365d") == {
        "ann": 500,
        "bo": 400,
        "cy": 3000,
        "di": 0,
        "ed": 60,
        "fa": 0,
        "gus": 500,
        "hal": 2000,
    }
    assert column(purchases, "average_order_value") == pytest.approx(
        {"ann": 500 / 3, "bo": 200, "cy": 3000, "di": 800, "ed": 200, "fa": 0, "gus": 100, "hal": 2000}
    )


def test_purchases_first_last_and_days_since(purchases: dict[str, dict[str, Any]]) -> None:
    assert column(purchases, "first_purchase_at") == {
        "ann": ts("2025-12-01T10:00"),
        "bo": ts("2026-06-25T09:00"),
        "cy": ts("2026-01-15T12:00"),
        "di": ts("2024-06-01T18:00"),
        "ed": ts("2025-03-01T12:00"),
        "fa": ts("2026-05-01T12:00"),
        "gus": ts("2025-06-30T11:59"),
        "hal": ts("2026-06-29T12:00"),
    }
    assert column(purchases, "last_purchase_at") == {
        "ann": ts("2026-06-20T10:00"),
        "bo": ts("2026-06-25T09:00"),
        "cy": ts("2026-01-15T12:00"),
        "di": ts("2024-06-01T18:00"),
        "ed": ts("2025-09-10T12:00"),
        "fa": ts("2026-05-01T12:00"),
        "gus": ts("2026-06-28T12:00"),
        "hal": ts("2026-06-29T12:00"),
    }
    assert column(purchases, "days_since_purchase") == {
        "ann": 10,
        "bo": 5,
        "cy": 166,
        "di": 758,
        "ed": 293,
        "fa": 60,
        "gus": 2,
        "hal": 1,
    }


def test_purchases_rfm_scores_and_groups(purchases: dict[str, dict[str, Any]]) -> None:
    scores = {c: (r["rfm_recency"], r["rfm_frequency"], r["rfm_monetary"]) for c, r in purchases.items()}
    assert {c: scores[c] for c in BUYERS} == {
        "ann": (4, 5, 3),
        "bo": (4, 4, 2),
        "cy": (2, 1, 5),
        "di": (1, 1, 4),
        "ed": (2, 4, 2),
        "fa": (3, 1, 1),
        "gus": (5, 5, 4),
        "hal": (5, 1, 5),
    }
    assert column(purchases, "rfm_score") == {
        "ann": "453",
        "bo": "442",
        "cy": "215",
        "di": "114",
        "ed": "242",
        "fa": "311",
        "gus": "554",
        "hal": "515",
    }
    assert column(purchases, "rfm_group") == {
        "ann": "loyal",
        "bo": "loyal",
        "cy": "hibernating",
        "di": "lost",
        "ed": "at_risk",
        "fa": "about_to_sleep",
        "gus": "champions",
        "hal": "new_customer",
    }


def test_purchases_value_and_metal_tiers(purchases: dict[str, dict[str, Any]]) -> None:
    assert column(purchases, "value_tier") == {
        "ann": "A",
        "bo": "B",
        "cy": "A",
        "di": "C",
        "ed": "C",
        "fa": "C",
        "gus": "A",
        "hal": "A",
    }
    assert column(purchases, "metal_tier") == {
        "ann": "bronze",
        "bo": "bronze",
        "cy": "platinum",
        "di": "silver",
        "ed": "bronze",
        "fa": "bronze",
        "gus": "silver",
        "hal": "gold",
    }


def test_purchases_non_buyers(purchases: dict[str, dict[str, Any]]) -> None:
    assert sorted(purchases) == sorted((*BUYERS, "ivy", "jo"))
    for contact in ("ivy", "jo"):
        row = purchases[contact]
        assert (row["orders"], row["revenue"], row["revenue_365d"]) == (0, 0, 0)
        nulls = {k for k, v in row.items() if v is None}
        assert nulls == set(row) - {"orders", "revenue", "revenue_365d"}


def test_a_segment_uses_the_value_tier(module_store: Any) -> None:
    module_store.apply({"name": "top-value", "conditions": [{"field": "value_tier", "op": "eq", "value": "a"}]})
    assert module_store.members("top-value", as_of=AS_OF) == ["ann", "cy", "gus", "hal"]
