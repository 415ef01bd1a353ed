"""Lead scores on a hand-made data set, as of 2026-06-30 12:00 UTC, on every engine.

Default settings: half-life 30 days, so points p scored d days before t weigh p * 2 ** (-d/30); -10 while a
contact with a score has had no scored activity for more than 30 days; first matching rule per event (demo form
30, pricing page view 10, other page view 1, download 8, click 5, unsubscribe -20, spam report -30; opens 0).
Times below are days before as_of; "-30d" etc. are the instants 30, 60, 90 days before as_of.

Fit: company "big" (manufacturing, 200 employees, FI, 40M: rule score 100, no customers so icp_score 100 -> A)
gives size 5 + industry 5 + A 15; "small" (retail, 5, DE -> C) gives 0.

- fit_only: ceo (executive 10), c_level 10, at big -> fit 45, no events: 45 - 10 (inactive) = 35 at every
  instant -> 35, changes 0, max 35.
- none: no fit; an email open (no points) and a page view after as_of -> no score: 0 everywhere, has_score false.
- riser: demo form + pricing page view at the same instant, 5d: 30 + 10 (not 11: first rule only) = 40.
  now 40 * 2**(-5/30) = 35.636 -> 35.6; at -30d and -60d nothing yet and no fit -> 0 (no penalty without a
  score): changes 35.6; max right after the step = 40.
- hot: engineer (technical 10), manager 5, at big (25) -> fit 40; demo form + download at 20d = 38.
  now 40 + 38 * 2**(-20/30) = 63.938 -> 63.9; at -30d / -60d fit only, inactive: 30 -> changes 33.9;
  max 40 + 38 = 78.
- faller: demo form at exactly 60d.  now 30/4 - 10 = -2.5; at -30d 15 and the last activity exactly 30 days
  before: not inactive -> 15, change -17.5; at -60d 30 (the event counts at its own instant), change -32.5;
  max 30.
- quitter: unsubscribe at 100d (before the window).  now -20 * 2**(-100/30) - 10 = -11.984 -> -12.0;
  at -30d -20 * 2**(-70/30) - 10 = -13.968, change 1.984 -> 2.0; at -60d -20 * 2**(-40/30) - 10 = -17.937,
  change 5.953 -> 6.0.  Max: the score rises as the negative points decay, until the penalty sets in 30 days
  after the event (at 70d): -20 * 2**(-30/30) = -10.0; at -90d -15.874, now -11.98 -> max -10.0.
- spammer: unsubscribe at 100d, spam report at 75d.  now -20 * 2**(-100/30) - 30 * 2**(-75/30) - 10 = -17.288
  -> -17.3; at -30d -3.969 - 10.607 - 10 = -24.575, change 7.3; at -60d -7.937 - 21.213 (last activity 15 days
  before: no penalty) = -29.150, change 11.9.  Max: just before the spam report -20 * 2**(-25/30) = -11.225
  -> -11.2 (the penalty after the unsubscribe would start at 70d, but the spam report at 75d comes first,
  so -10 is never reached); at -90d -15.874, 30 days after the spam report -20.612.
- buyer: purchaser (purchasing 10), individual 0, at small -> fit 10; click + page view at 45d = 6.
  now 10 + 6 * 2**(-45/30) - 10 = 2.121 -> 2.1; at -30d 10 + 6 * 2**(-15/30) = 14.243, change -12.1;
  at -60d fit only, inactive: 0, change 2.1; max 10 + 6 = 16.

Segments of seed 002: no score (has_score false) -> none; rose most in 30 days (change_30d >= 20) -> hot,
riser; highest over a period (max_90d >= 50) -> hot; fell in 60 days (change_60d <= -10) -> faller.

History: the day's row of each contact with a score, replaced by a later refresh the same day.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from traits_testing import load_data, traits_by_id

from segmint.traits import compute_traits

AS_OF = datetime(2026, 6, 30, 12, tzinfo=UTC)
DAY = datetime(2026, 6, 30, tzinfo=UTC)


def ago(days: float) -> str:
    return (AS_OF - timedelta(days=days)).isoformat()


def person(
    cid: str, company: str | None = None, role: str | None = None, seniority: str | None = None
) -> dict[str, Any]:
    return {
        "contact_id": cid,
        "email": f"{cid}@example.com",
        "company_id": company,
        "role": role,
        "seniority": seniority,
    }


def event(cid: str, name: str, days: float, **props: Any) -> dict[str, Any]:
    return {"contact_id": cid, "event": name, "ts": ago(days), **props}


DATA: dict[str, list[dict[str, Any]]] = {
    "companies": [
        {"company_id": "big", "industry": "manufacturing", "employees": 200, "country": "FI", "annual_revenue": 40e6},
        {"company_id": "small", "industry": "retail", "employees": 5, "country": "DE"},
    ],
    "contacts": [
        person("fit_only", "big", "ceo", "c_level"),
        person("none"),
        person("riser"),
        person("hot", "big", "engineer", "manager"),
        person("faller"),
        person("quitter"),
        person("spammer"),
        person("buyer", "small", "purchaser", "individual"),
    ],
    "events": [
        event("none", "email_open", 3),
        event("none", "page_view", -1, url="https://www.example.com/pricing"),
        event("riser", "form_submit", 5, url="https://www.example.com/demo"),
        event("riser", "page_view", 5, url="https://www.example.com/Pricing"),
        event("hot", "form_submit", 20, url="/demo"),
        event("hot", "content_download", 20),
        event("faller", "form_submit", 60, url="/demo"),
        event("quitter", "email_unsubscribe", 100),
        event("spammer", "email_unsubscribe", 100),
        event("spammer", "email_spam_report", 75),
        event("buyer", "email_click", 45),
        event("buyer", "page_view", 45, url="/products/valves"),
        event("buyer", "email_open", 44),
    ],
}

# contact: (lead_score, change_30d, change_60d, max_90d, has_score)
EXPECTED = {
    "fit_only": (35.0, 0.0, 0.0, 35.0, True),
    "none": (0.0, 0.0, 0.0, 0.0, False),
    "riser": (35.6, 35.6, 35.6, 40.0, True),
    "hot": (63.9, 33.9, 33.9, 78.0, True),
    "faller": (-2.5, -17.5, -32.5, 30.0, True),
    "quitter": (-12.0, 2.0, 6.0, -10.0, True),
    "spammer": (-17.3, 7.3, 11.9, -11.2, True),
    "buyer": (2.1, -12.1, 2.1, 16.0, True),
}
FIELDS = ("lead_score", "lead_score_change_30d", "lead_score_change_60d", "lead_score_max_90d", "has_score")


@pytest.fixture(scope="module")
def scores(module_store: Any) -> dict[str, dict[str, Any]]:
    """Traits at AS_OF, after a first refresh two hours earlier the same day (its history rows are replaced)."""
    load_data(module_store, DATA)
    traits_by_id(module_store, "lead_score", AS_OF - timedelta(hours=2))
    return traits_by_id(module_store, "lead_score", AS_OF)


def history(store: Any) -> dict[tuple[str, datetime], float]:
    rows = store.engine.query(
        "SELECT c.contact_id, h.day, h.score FROM lead_score_history h JOIN contacts c ON c.contact_key = h.contact_key"
    ).to_pylist()
    return {(r["contact_id"], r["day"].astimezone(UTC)): r["score"] for r in rows}


@pytest.mark.parametrize("contact", list(EXPECTED))
def test_lead_score_fields(scores: dict[str, dict[str, Any]], contact: str) -> None:
    row = scores[contact]
    got = tuple(row[f] for f in FIELDS)
    assert got[:4] == pytest.approx(EXPECTED[contact][:4], abs=1e-9)
    assert got[4] is EXPECTED[contact][4]


def test_lead_score_seed_segments(module_store: Any, scores: dict[str, dict[str, Any]]) -> None:
    segments = {
        "no-score": ("has_score", "eq", False),
        "rose-30d": ("lead_score_change_30d", "gte", 20),
        "high-90d": ("lead_score_max_90d", "gte", 50),
        "fell-60d": ("lead_score_change_60d", "lte", -10),
    }
    for name, (field, op, value) in segments.items():
        module_store.apply({"name": name, "conditions": [{"field": field, "op": op, "value": value}]})
    got = {name: module_store.members(name, as_of=AS_OF) for name in segments}
    assert got == {"no-score": ["none"], "rose-30d": ["hot", "riser"], "high-90d": ["hot"], "fell-60d": ["faller"]}


def test_lead_score_history(module_store: Any, scores: dict[str, dict[str, Any]]) -> None:
    # Runs last: it moves the stored traits of riser past AS_OF.
    expected = {(c, DAY): v[0] for c, v in EXPECTED.items() if v[4]}
    assert history(module_store) == pytest.approx(expected, abs=1e-9)

    riser = module_store.engine.scalar("SELECT contact_key FROM contacts WHERE contact_id = 'riser'")
    # the fresh path, later the same day: only riser's row of that day is replaced (40 * 2**(-5.25/30) = 35.43)
    compute_traits(module_store, as_of=AS_OF + timedelta(hours=6), contact_keys=[riser])
    assert history(module_store) == pytest.approx({**expected, ("riser", DAY): 35.4}, abs=1e-9)
    # the next day adds a day (40 * 2**(-6/30) = 34.82)
    compute_traits(module_store, as_of=AS_OF + timedelta(days=1), contact_keys=[riser])
    next_day = {**expected, ("riser", DAY): 35.4, ("riser", DAY + timedelta(days=1)): 34.8}
    assert history(module_store) == pytest.approx(next_day, abs=1e-9)
