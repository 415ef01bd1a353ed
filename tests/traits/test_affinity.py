"""Affinity rules and suggestions on a hand-made data set, as of 2026-06-30 12:00 UTC, on every engine.

Items (topics with interest >= 3, from downloads (5 points), purchases (8) and
carts (4) at as_of) of the 16 contacts (F fishing, C camping, R running,
H hydraulics, E electrical, P pneumatics, S service, D delivery):

    c01-c03: F C   c04: F   c05: C R   c06: H   c07: H E   c08: H P
    c09: S   c10, c11: S R   c12: S D   c13: R   c14: D
    c15: a /shop/fishing page view (1 point: no item)   c16: a purchase after as_of (no item)

N = 16; |F| = |C| = |R| = |S| = 4, |H| = 3, |D| = 2, |E| = |P| = 1.
Pairs: FC 3, CR 1, HE 1, HP 1, SR 2, SD 1.  lift = |AB| * N / (|A| * |B|):

- F->C, C->F: support 3/16, confidence 3/4, lift 3*16/16 = 3;
- C->R, R->C: lift 1*16/16 = 1 exactly: not above 1, no rule;
- H->E, H->P: support 1/16, confidence 1/3, lift 16/3; E->H, P->H: confidence 1, lift 16/3;
- S->R, R->S: support 2/16, confidence 1/2, lift 2*16/16 = 2;
- S->D: support 1/16, confidence 1/4, lift 16/8 = 2; D->S: confidence 1/2, lift 2.

Suggestions (strongest rule whose antecedent the contact has and whose consequent they lack):

- c01-c03 have F and C; C->R is no rule: none;
- c04 (seed 000's fishing buyer): camping (F->C, 3);
- c05: C->F (3) beats R->S (2): fishing;
- c06: H->E and H->P tie on lift and confidence: electrical by name (16/3);
- c07: pneumatics; c08: electrical (16/3);
- c09: S->R and S->D tie on lift 2, S->R has the higher confidence: running (not delivery, first by name);
- c10, c11 hold R: delivery (S->D, 2); c12 holds D: running (2);
- c13: service (R->S, 2); c14: service (D->S, 2);
- c15, c16: no items, none.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from traits_testing import load_data, traits_by_id

from segmint.config import Settings
from segmint.store import open_store
from segmint.traits.affinity import affinity_rules

AS_OF = datetime(2026, 6, 30, 12, tzinfo=UTC)
T0 = "2026-06-30T12:00:00Z"
CONTACTS = [f"c{i:02d}" for i in range(1, 17)]
#: letter -> the event that makes the topic an item at as_of
ITEM_EVENTS: dict[str, dict[str, Any]] = {
    "F": {"event": "purchase", "category": "fishing", "amount": 89.0},
    "C": {"event": "purchase", "category": "camping", "amount": 229.0},
    "R": {"event": "cart_add", "category": "running", "price": 139.0},
    "H": {"event": "content_download", "topic": "hydraulics"},
    "E": {"event": "content_download", "topic": "electrical"},
    "P": {"event": "content_download", "topic": "pneumatics"},
    "S": {"event": "content_download", "topic": "service"},
    "D": {"event": "content_download", "topic": "delivery"},
}
ITEMS = {
    "c01": "FC",
    "c02": "FC",
    "c03": "FC",
    "c04": "F",
    "c05": "CR",
    "c06": "H",
    "c07": "HE",
    "c08": "HP",
    "c09": "S",
    "c10": "SR",
    "c11": "SR",
    "c12": "SD",
    "c13": "R",
    "c14": "D",
}
DATA: dict[str, list[dict[str, Any]]] = {
    "contacts": [{"contact_id": c, "email": f"{c}@example.com"} for c in CONTACTS],
    "events": [
        *[{"contact_id": c, "ts": T0, **ITEM_EVENTS[letter]} for c, letters in ITEMS.items() for letter in letters],
        {"contact_id": "c15", "event": "page_view", "ts": T0, "url": "/shop/fishing"},
        {"contact_id": "c16", "event": "purchase", "ts": "2026-07-01T09:00:00Z", "category": "fishing", "amount": 1.0},
    ],
}

SUGGESTED: dict[str, tuple[str | None, float | None]] = {
    "c01": (None, None),
    "c02": (None, None),
    "c03": (None, None),
    "c04": ("camping", 3.0),
    "c05": ("fishing", 3.0),
    "c06": ("electrical", 16 / 3),
    "c07": ("pneumatics", 16 / 3),
    "c08": ("electrical", 16 / 3),
    "c09": ("running", 2.0),
    "c10": ("delivery", 2.0),
    "c11": ("delivery", 2.0),
    "c12": ("running", 2.0),
    "c13": ("service", 2.0),
    "c14": ("service", 2.0),
    "c15": (None, None),
    "c16": (None, None),
}


@pytest.fixture(scope="module")
def affinity(module_store: Any) -> dict[str, dict[str, Any]]:
    load_data(module_store, DATA)
    return traits_by_id(module_store, "affinity", AS_OF)


def test_affinity_suggestions(affinity: dict[str, dict[str, Any]]) -> None:
    got = {c: (row["suggested_interest"], row["suggested_interest_lift"]) for c, row in affinity.items()}
    assert got == {c: (s, pytest.approx(lift) if lift is not None else None) for c, (s, lift) in SUGGESTED.items()}


def test_affinity_rules_are_stored_strongest_first(module_store: Any, affinity: dict[str, dict[str, Any]]) -> None:
    rules = affinity_rules(module_store)
    got = [(r["antecedent"], r["consequent"], r["support"], r["confidence"], r["lift"], r["contacts"]) for r in rules]
    expected = [
        ("electrical", "hydraulics", 1 / 16, 1.0, 16 / 3, 1),
        ("pneumatics", "hydraulics", 1 / 16, 1.0, 16 / 3, 1),
        ("hydraulics", "electrical", 1 / 16, 1 / 3, 16 / 3, 1),
        ("hydraulics", "pneumatics", 1 / 16, 1 / 3, 16 / 3, 1),
        ("camping", "fishing", 3 / 16, 0.75, 3.0, 3),
        ("fishing", "camping", 3 / 16, 0.75, 3.0, 3),
        ("delivery", "service", 1 / 16, 0.5, 2.0, 1),
        ("running", "service", 2 / 16, 0.5, 2.0, 2),
        ("service", "running", 2 / 16, 0.5, 2.0, 2),
        ("service", "delivery", 1 / 16, 0.25, 2.0, 1),
    ]
    assert got == [
        (a, b, pytest.approx(s), pytest.approx(c), pytest.approx(lift), n) for a, b, s, c, lift, n in expected
    ]
    assert {r["as_of"].astimezone(UTC) for r in rules} == {AS_OF}


def test_affinity_segment_on_the_suggestion(module_store: Any, affinity: dict[str, dict[str, Any]]) -> None:
    """Seed 000: put the fishing buyers likely to camp into the camping segment too."""
    module_store.apply(
        {
            "name": "camping-next",
            "conditions": [{"field": "suggested_interest", "op": "eq", "value": "Camping"}],
        }
    )
    assert module_store.members("camping-next", as_of=AS_OF) == ["c04"]


def test_affinity_fresh_path_uses_everyone_s_rules(module_store: Any, affinity: dict[str, dict[str, Any]]) -> None:
    """Recomputing c04 alone a day later: the rules still come from everyone (c04 alone has no pair), and
    the stored rules of the full refresh are left alone.  c04's purchase (8 * 0.5 ** (1/60)) is still an item."""
    key = module_store.engine.scalar("SELECT contact_key FROM contacts WHERE contact_id = 'c04'")
    later = AS_OF + timedelta(days=1)
    rows = traits_by_id(module_store, "affinity", later, contact_keys=[key])
    assert (rows["c04"]["suggested_interest"], rows["c04"]["suggested_interest_lift"]) == (
        "camping",
        pytest.approx(3.0),
    )
    assert {r["as_of"].astimezone(UTC) for r in affinity_rules(module_store)} == {AS_OF}


def test_affinity_thresholds_from_settings(tmp_path: Path) -> None:
    """min_support 0.1 drops the rules of pairs one contact has (support 1/16: H-E, H-P, S-D), then
    min_confidence 0.6 drops S->R and R->S (1/2).  Left: F->C and C->F (3/4), so only c04 (camping)
    and c05 (fishing) get a suggestion."""
    settings = Settings(traits={"affinity": {"min_support": 0.1, "min_confidence": 0.6}})
    with open_store(str(tmp_path / "affinity.duckdb"), settings) as store:
        load_data(store, DATA)
        rows = traits_by_id(store, "affinity", AS_OF)
        rules = {(r["antecedent"], r["consequent"]) for r in affinity_rules(store)}
    assert rules == {("fishing", "camping"), ("camping", "fishing")}
    assert {c: r["suggested_interest"] for c, r in rows.items() if r["suggested_interest"]} == {
        "c04": "camping",
        "c05": "fishing",
    }


def test_affinity_rules_before_any_refresh(tmp_path: Path) -> None:
    with open_store(str(tmp_path / "empty.duckdb")) as store:
        assert affinity_rules(store) == []
