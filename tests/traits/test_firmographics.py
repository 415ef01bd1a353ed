"""Company bands and purchase totals on a hand-made data set, as of 2026-06-30 12:00 UTC, on every engine.

Bands (lower bounds included): employees 1 / 10 / 50 / 250 / 1000, revenue 0 / 1M / 10M / 50M / 250M.

- micro: 9 employees, 999,999.50 -> '1-9', '<1M';
- small: 10, exactly 1M -> '10-49', '1M-10M';
- mid: 249, 49,999,999 -> '50-249', '10M-50M';
- large: 250, exactly 50M -> '250-999', '50M-250M';
- ent: 1000, exactly 250M -> '1000+', '250M+';
- blank: neither set -> no bands;
- zero: 0 employees (unknown) and 0 revenue -> no employee band, '<1M'.

Purchases (as_of - 365d = 2025-06-30 12:00):

- small: s1 bought 100 on 2026-06-01 and 50 on 2025-01-01 (outside 365 d), s2 200 on 2026-03-01,
  s3 nothing -> 2 customers, 300 in 365 d, last 2026-06-01 10:00;
- mid: m1 bought 300 on 2024-01-01 (outside), m2 won a 5000 deal on 2026-04-01; a 7777 deal won by
  the company with no contact is nobody's order -> 2 customers, 5000, last 2026-04-01 09:00;
- large: l1 only bought after as_of -> 0 customers, 0, no last purchase;
- free, with no company, bought too: no company gets it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from traits_testing import load_data, traits_by_id

AS_OF = datetime(2026, 6, 30, 12, tzinfo=UTC)

COMPANIES = {
    "micro": (9, 999_999.5),
    "small": (10, 1_000_000.0),
    "mid": (249, 49_999_999.0),
    "large": (250, 50_000_000.0),
    "ent": (1000, 250_000_000.0),
    "blank": (None, None),
    "zero": (0, 0.0),
}

DATA = {
    "companies": [
        {"company_id": c, "name": c.title(), "employees": e, "annual_revenue": r} for c, (e, r) in COMPANIES.items()
    ],
    "contacts": [
        {"contact_id": c, "email": f"{c}@example.com", "company_id": co}
        for c, co in (
            ("s1", "small"),
            ("s2", "small"),
            ("s3", "small"),
            ("m1", "mid"),
            ("m2", "mid"),
            ("l1", "large"),
            ("free", None),
        )
    ],
    "deals": [
        {
            "deal_id": "won-m2",
            "contact_id": "m2",
            "company_id": "mid",
            "status": "won",
            "amount": 5000.0,
            "closed_at": "2026-04-01T09:00:00Z",
        },
        {
            "deal_id": "won-mid",
            "company_id": "mid",
            "status": "won",
            "amount": 7777.0,
            "closed_at": "2026-05-01T09:00:00Z",
        },
    ],
    "events": [
        {"contact_id": c, "event": "purchase", "ts": t, "amount": a, "order_id": o}
        for c, t, a, o in (
            ("s1", "2026-06-01T10:00:00Z", 100.0, "o1"),
            ("s1", "2025-01-01T10:00:00Z", 50.0, "o2"),
            ("s2", "2026-03-01T10:00:00Z", 200.0, "o3"),
            ("m1", "2024-01-01T10:00:00Z", 300.0, "o4"),
            ("l1", "2026-07-01T10:00:00Z", 400.0, "o5"),
            ("free", "2026-06-02T10:00:00Z", 10.0, "o6"),
        )
    ],
}


@pytest.fixture(scope="module")
def firmographics(module_store: Any) -> dict[str, dict[str, Any]]:
    load_data(module_store, DATA)
    return traits_by_id(module_store, "firmographics", AS_OF)


def field(rows: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    return {c: r[name].astimezone(UTC) if isinstance(r[name], datetime) else r[name] for c, r in rows.items()}


def test_firmographics_bands(firmographics: dict[str, dict[str, Any]]) -> None:
    assert field(firmographics, "employee_band") == {
        "micro": "1-9",
        "small": "10-49",
        "mid": "50-249",
        "large": "250-999",
        "ent": "1000+",
        "blank": None,
        "zero": None,
    }
    assert field(firmographics, "revenue_band") == {
        "micro": "<1M",
        "small": "1M-10M",
        "mid": "10M-50M",
        "large": "50M-250M",
        "ent": "250M+",
        "blank": None,
        "zero": "<1M",
    }


def test_firmographics_purchases(firmographics: dict[str, dict[str, Any]]) -> None:
    none = {c: 0 for c in COMPANIES}
    assert field(firmographics, "company_customers") == {**none, "small": 2, "mid": 2}
    assert field(firmographics, "company_revenue_365d") == {**none, "small": 300, "mid": 5000}
    assert field(firmographics, "company_last_purchase_at") == {
        **{c: None for c in COMPANIES},
        "small": datetime(2026, 6, 1, 10, tzinfo=UTC),
        "mid": datetime(2026, 4, 1, 9, tzinfo=UTC),
    }


def test_a_segment_uses_the_company_band(module_store: Any) -> None:
    module_store.apply(
        {"name": "small-firms", "conditions": [{"field": "company.employee_band", "op": "eq", "value": "10-49"}]}
    )
    assert module_store.members("small-firms", as_of=AS_OF) == ["s1", "s2", "s3"]
    module_store.apply(
        {
            "name": "big-revenue",
            "entity": "company",
            "conditions": [{"field": "revenue_band", "op": "eq", "value": "250m+"}],
        }
    )
    assert module_store.members("big-revenue", as_of=AS_OF) == ["ent"]
