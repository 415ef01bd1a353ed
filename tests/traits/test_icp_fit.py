"""ICP fit on six hand-made companies, as of 2026-06-30 12:00 UTC (and 2026-01-01), on every engine.

Default rules: industry in (manufacturing, energy, forestry, marine, mining) 40, employees between 50 and 1000
30, country in (FI, SE) 20, annual_revenue >= 5M 10; 100 points there are.

| company | industry / sub | employees | country | revenue | rule score |
| k1 | manufacturing / machinery | 120 | FI | 20M | 40+30+20+10 = 100 |
| k2 | energy / wind_power | 40 | SE | 8M | 40+0+20+10 = 70 |
| k3 | retail / shops | 300 | DE | 60M | 0+30+0+10 = 40 |
| k4 | manufacturing / plastics | 1000 (bound) | NO | 5M (bound) | 40+30+0+10 = 80 |
| k5 | nothing set | | | | 0 |
| k6 | MARINE / shipyards | 49 | FI | unset | 40 (case ignored)+0+20+0 = 60 |

Revenue up to as_of: k1 won deal 50,000 (through its contact) + purchase 1,000 = 51,000; k2 won deal 51,000 (by
company id; a won deal closed after as_of and a lost deal do not count); k3 purchase 3,000 (one after as_of does
not count); k6 won deal 5,000; k4 only an open deal. Four customers; places 1, 1 (tie), 3, 4; the top 20% is
place 1 or place/4 <= 0.2: k1 and k2 (the tie keeps both). n_best = 2 of 6 companies.

Learned lift (m = 1): ln(((best_n + all_n/6) / 3) / (all_n/6)).  A value seen once, at a best customer:
ln(7/3) = a; twice, once at a best customer: ln(4/3) = b; at no best customer, once: ln(1/3) = c.
Employee bands (edges 10, 50, 250, 1000): k1 '2', k2 '1', k3 '3', k4 '4', k6 '1'.  Revenue bands (edges 2M, 10M,
50M, 250M): k1 '2', k2 '1', k3 '3', k4 '1'.

- k1: manufacturing b, machinery a, fi b, band2 a, rev2 a = 3a + 2b
- k2: energy a, wind_power a, se a, band1 b, rev1 b = 3a + 2b
- k3: c five times = 5c (the lowest)
- k4: manufacturing b, plastics c, no c, band4 c, rev1 b = 2b + 3c
- k5: nothing known = 0
- k6: marine c, shipyards c, fi b, band1 b = 2b + 2c
Rescaled to (x - 5c) / (3a + 2b - 5c) * 100: k1 = k2 = 100, k3 = 0, k4 32.2, k5 63.8, k6 45.0.

icp_score = 0.5 rule + 0.5 learned: k1 100 A, k2 85 A, k3 20 C, k4 56.1 B, k5 31.9 C, k6 52.5 B.

On 2026-01-01 nothing has been won or bought: no learned score, icp_score = the rule score, graded on the
thresholds themselves: k1 100 A, k2 70 A (>= 70), k3 40 B (>= 40), k4 80 A, k5 0 C, k6 60 B.
"""

from __future__ import annotations

from datetime import UTC, datetime
from math import log
from typing import Any

import pytest
from pydantic import ValidationError
from traits_testing import load_data, traits_by_id

from segmint.traits.icp_fit import IcpRule

AS_OF = datetime(2026, 6, 30, 12, tzinfo=UTC)
EARLY = datetime(2026, 1, 1, tzinfo=UTC)


def company(
    cid: str, industry: str | None, sub: str | None, employees: int | None, country: str | None, revenue: float | None
) -> dict[str, Any]:
    return {
        "company_id": cid,
        "name": cid,
        "industry": industry,
        "sub_industry": sub,
        "employees": employees,
        "country": country,
        "annual_revenue": revenue,
    }


def deal(deal_id: str, status: str, amount: float, closed: str | None, **who: str) -> dict[str, Any]:
    return {"deal_id": deal_id, "status": status, "amount": amount, "closed_at": closed, **who}


DATA: dict[str, list[dict[str, Any]]] = {
    "companies": [
        company("k1", "manufacturing", "machinery", 120, "FI", 20e6),
        company("k2", "energy", "wind_power", 40, "SE", 8e6),
        company("k3", "retail", "shops", 300, "DE", 60e6),
        company("k4", "manufacturing", "plastics", 1000, "NO", 5e6),
        company("k5", None, None, None, None, None),
        company("k6", "MARINE", "shipyards", 49, "FI", None),
    ],
    "contacts": [
        {"contact_id": "p1", "email": "p1@k1.fi", "company_id": "k1"},
        {"contact_id": "p3", "email": "p3@k3.de", "company_id": "k3"},
        {"contact_id": "p4", "email": "p4@k4.no", "company_id": "k4"},
        {"contact_id": "loner", "email": "loner@example.com"},
    ],
    "deals": [
        deal("d1", "won", 50_000, "2026-03-01T00:00:00Z", contact_id="p1"),
        deal("d2", "won", 51_000, "2026-02-01T00:00:00Z", company_id="k2"),
        deal("d3", "won", 999_999, "2026-08-01T00:00:00Z", company_id="k2"),
        deal("d4", "lost", 500_000, "2026-05-01T00:00:00Z", company_id="k3"),
        deal("d5", "won", 5_000, "2026-06-01T00:00:00Z", company_id="k6"),
        deal("d6", "open", 80_000, None, contact_id="p4"),
    ],
    "events": [
        {"contact_id": "p1", "event": "purchase", "amount": 1_000, "ts": "2026-05-01T10:00:00Z"},
        {"contact_id": "p3", "event": "purchase", "amount": 3_000, "ts": "2026-04-01T10:00:00Z"},
        {"contact_id": "p3", "event": "purchase", "amount": 100_000, "ts": "2026-07-15T10:00:00Z"},
        {"contact_id": "loner", "event": "purchase", "amount": 1_000_000, "ts": "2026-04-01T10:00:00Z"},
    ],
}

A, B, C = log(7 / 3), log(4 / 3), log(1 / 3)
SPAN = 3 * A + 2 * B - 5 * C


def learned(total: float) -> float:
    return round(100 * (total - 5 * C) / SPAN, 1)


# company: (rule score, learned score, icp_score, grade) at AS_OF
EXPECTED = {
    "k1": (100.0, 100.0, 100.0, "A"),
    "k2": (70.0, 100.0, 85.0, "A"),
    "k3": (40.0, 0.0, 20.0, "C"),
    "k4": (80.0, learned(2 * B + 3 * C), 56.1, "B"),
    "k5": (0.0, learned(0), 31.9, "C"),
    "k6": (60.0, learned(2 * B + 2 * C), 52.5, "B"),
}
EXPECTED_EARLY = {"k1": "A", "k2": "A", "k3": "B", "k4": "A", "k5": "C", "k6": "B"}


@pytest.fixture(scope="module")
def icp(module_store: Any) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """(traits at AS_OF, traits at EARLY); AS_OF computed last, so the stored traits are AS_OF's."""
    load_data(module_store, DATA)
    early = traits_by_id(module_store, "icp_fit", EARLY)
    return traits_by_id(module_store, "icp_fit", AS_OF), early


def test_icp_learned_values_by_hand() -> None:
    # the rescaled values of the docstring, so a slip in the formulas above shows here
    assert [learned(2 * B + 3 * C), learned(0), learned(2 * B + 2 * C)] == [32.2, 63.8, 45.0]


def test_icp_scores_and_grades(icp: tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]) -> None:
    now, _ = icp
    got = {k: (r["icp_rule_score"], r["icp_learned_score"], r["icp_score"], r["icp_fit"]) for k, r in now.items()}
    assert got.keys() == EXPECTED.keys()
    for key, (rule, learn, score, grade) in EXPECTED.items():
        assert got[key][0] == pytest.approx(rule, abs=1e-9), key
        assert got[key][1] == pytest.approx(learn, abs=1e-9), key
        assert got[key][2] == pytest.approx(score, abs=1e-9), key
        assert got[key][3] == grade, key


def test_icp_without_customers_is_the_rule_score(
    icp: tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]],
) -> None:
    _, early = icp
    assert all(r["icp_learned_score"] is None for r in early.values())
    assert {k: r["icp_score"] for k, r in early.items()} == {k: v[0] for k, v in EXPECTED.items()}
    assert {k: r["icp_fit"] for k, r in early.items()} == EXPECTED_EARLY


def test_icp_segments_for_companies_and_their_contacts(
    module_store: Any, icp: tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]
) -> None:
    module_store.apply(
        {"name": "icp-a", "entity": "company", "conditions": [{"field": "icp_fit", "op": "eq", "value": "a"}]}
    )
    assert module_store.members("icp-a", as_of=AS_OF) == ["k1", "k2"]
    module_store.apply({"name": "at-fit", "conditions": [{"field": "company.icp_score", "op": "gte", "value": 50}]})
    assert module_store.members("at-fit", as_of=AS_OF) == ["p1", "p4"]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"field": "country", "op": "gte", "value": 3, "points": 1}, "numeric field"),
        ({"field": "employees", "op": "eq", "value": "many", "points": 1}, "must be numbers"),
        ({"field": "employees", "op": "between", "value": [100, 10], "points": 1}, "low <= high"),
        ({"field": "industry", "op": "in", "value": "energy", "points": 1}, "non-empty list"),
        ({"field": "owner", "op": "eq", "value": "x", "points": 1}, "field"),
    ],
)
def test_icp_rules_are_checked(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        IcpRule.model_validate(rule)
