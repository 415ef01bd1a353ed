"""Relationship status on a hand-made data set, as of 2026-06-30 12:00 UTC, on every engine.

customer_days = 365, so a contact whose last purchase is at or after 2025-06-30 12:00 is a customer:

- pat is a partner who also bought last month -> partner (partner wins);
- pia is a partner who never bought -> partner;
- cus bought on 2026-03-01 -> customer;
- edge bought at 2025-06-30 12:00, exactly 365 days ago -> customer (the window includes its start);
- gone bought at 2025-06-30 11:59, a minute earlier -> former_customer;
- b2b has no purchase events but a deal won on 2026-02-01 -> customer;
- old bought in 2023 and is_partner is false -> former_customer;
- pro only bought after as_of -> prospect;
- nul has nothing and is_partner unset -> prospect.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from traits_testing import load_data, traits_by_id

AS_OF = datetime(2026, 6, 30, 12, tzinfo=UTC)

PARTNERS = {"pat": True, "pia": True, "old": False, "pro": False, "nul": None}

DATA = {
    "contacts": [
        {"contact_id": c, "email": f"{c}@example.com", "is_partner": PARTNERS.get(c, False)}
        for c in ("pat", "pia", "cus", "edge", "gone", "b2b", "old", "pro", "nul")
    ],
    "deals": [
        {"deal_id": "d1", "contact_id": "b2b", "status": "won", "amount": 5000.0, "closed_at": "2026-02-01T09:00:00Z"}
    ],
    "events": [
        {"contact_id": c, "event": "purchase", "ts": t, "amount": 10.0, "order_id": f"o-{c}"}
        for c, t in (
            ("pat", "2026-06-01T10:00:00Z"),
            ("cus", "2026-03-01T10:00:00Z"),
            ("edge", "2025-06-30T12:00:00Z"),
            ("gone", "2025-06-30T11:59:00Z"),
            ("old", "2023-01-01T10:00:00Z"),
            ("pro", "2026-07-01T10:00:00Z"),
        )
    ],
}


@pytest.fixture(scope="module")
def relationship(module_store: Any) -> dict[str, dict[str, Any]]:
    load_data(module_store, DATA)
    return traits_by_id(module_store, "relationship", AS_OF)


def test_relationship_status(relationship: dict[str, dict[str, Any]]) -> None:
    assert {c: r["relationship_status"] for c, r in relationship.items()} == {
        "pat": "partner",
        "pia": "partner",
        "cus": "customer",
        "edge": "customer",
        "gone": "former_customer",
        "b2b": "customer",
        "old": "former_customer",
        "pro": "prospect",
        "nul": "prospect",
    }


def test_a_segment_uses_the_relationship_status(module_store: Any) -> None:
    module_store.apply(
        {"name": "win-back", "conditions": [{"field": "relationship_status", "op": "eq", "value": "Former_Customer"}]}
    )
    assert module_store.members("win-back", as_of=AS_OF) == ["gone", "old"]
