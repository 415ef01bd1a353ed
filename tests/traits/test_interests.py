"""Interest scores on a hand-made data set, as of 2026-06-30 12:00 UTC, on every engine.

Default settings: points click 3, page view 1, download 5, search 2, cart 4,
purchase 8, ticket 2; half-life 60 days; min_score 3.  Events happen at as_of
(factor 1), 60 days before (2026-05-01 12:00, factor 0.5) or 120 days before
(2026-03-02 12:00, factor 0.25), so every score is exact:

- ann: hydraulics click at as_of 3 + page view of a /products/hydraulics/ url
  60 days ago 0.5 + download 120 days ago 1.25 (topic written "Hydraulics") +
  search "Hydraulic PUMP" at as_of 2 = 6.75; a fishing purchase 60 days ago
  = 4; an electrical click after as_of and an email open count nothing.
  top hydraulics, 2 interests;
- bo: a pneumatics and an electrical download at as_of: 5 and 5, a tie,
  broken by name: electrical; 2 interests;
- cy: cart_add of category "Camping" 60 days ago 2 + a /shop/camping/ page
  view 120 days ago 0.25 + a search "Tält 2 personer" 120 days ago 0.5 (the
  term "tält") = 2.75 < 3: no top interest, 0 interests.  (Upper-case letters
  beyond ASCII are not folded on PostgreSQL, whose text columns are COLLATE "C".)
- di: no events: every score 0, no top interest, 0 interests;
- ed (seed 002's service example, "in as many ways as possible"): /service
  page at as_of 1 + service click 60 days ago 1.5 + search "Reservdel" 120
  days ago 0.5 + service ticket 60 days ago 1 = 4; a delivery ticket at as_of
  = 2.  top service, 1 interest;
- fa: one running click exactly at as_of = 3 = min_score: it counts (top
  running, 1 interest); a running page view after as_of does not.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from traits_testing import load_data, traits_by_id

from segmint.config import Settings
from segmint.store import open_store
from segmint.traits.interests import DEFAULT_TOPICS, SIGNAL_KINDS, Interests, InterestsSettings

AS_OF = datetime(2026, 6, 30, 12, tzinfo=UTC)
T0 = "2026-06-30T12:00:00Z"
T60 = "2026-05-01T12:00:00Z"
T120 = "2026-03-02T12:00:00Z"
LATER = "2026-07-02T10:00:00Z"
TOPICS = ("hydraulics", "pneumatics", "electrical", "fishing", "camping", "running", "service", "delivery")

DATA: dict[str, list[dict[str, Any]]] = {
    "contacts": [{"contact_id": c, "email": f"{c}@example.com"} for c in ("ann", "bo", "cy", "di", "ed", "fa")],
    "events": [
        {"contact_id": "ann", "event": "email_click", "ts": T0, "topic": "hydraulics"},
        {"contact_id": "ann", "event": "page_view", "ts": T60, "url": "https://x.fi/products/hydraulics/pumps"},
        {"contact_id": "ann", "event": "content_download", "ts": T120, "topic": "Hydraulics"},
        {"contact_id": "ann", "event": "search", "ts": T0, "query": "Hydraulic PUMP"},
        {"contact_id": "ann", "event": "purchase", "ts": T60, "category": "fishing", "amount": 89.0},
        {"contact_id": "ann", "event": "email_click", "ts": LATER, "topic": "electrical"},
        {"contact_id": "ann", "event": "email_open", "ts": T0, "machine_open": False},
        {"contact_id": "bo", "event": "content_download", "ts": T0, "topic": "pneumatics"},
        {"contact_id": "bo", "event": "content_download", "ts": T0, "topic": "electrical"},
        {"contact_id": "cy", "event": "cart_add", "ts": T60, "category": "Camping", "price": 229.0},
        {"contact_id": "cy", "event": "page_view", "ts": T120, "url": "/shop/camping/tent-2p"},
        {"contact_id": "cy", "event": "search", "ts": T120, "query": "Tält 2 personer"},
        {"contact_id": "ed", "event": "page_view", "ts": T0, "url": "/service/spare-parts"},
        {"contact_id": "ed", "event": "email_click", "ts": T60, "topic": "service"},
        {"contact_id": "ed", "event": "search", "ts": T120, "query": "Reservdel"},
        {"contact_id": "ed", "event": "support_ticket", "ts": T60, "topic": "service"},
        {"contact_id": "ed", "event": "support_ticket", "ts": T0, "topic": "delivery"},
        {"contact_id": "fa", "event": "email_click", "ts": T0, "topic": "running"},
        {"contact_id": "fa", "event": "page_view", "ts": LATER, "url": "/shop/running/gps-watch"},
    ],
}

EXPECTED: dict[str, tuple[dict[str, float], str | None, int]] = {
    "ann": ({"hydraulics": 6.75, "fishing": 4.0}, "hydraulics", 2),
    "bo": ({"pneumatics": 5.0, "electrical": 5.0}, "electrical", 2),
    "cy": ({"camping": 2.75}, None, 0),
    "di": ({}, None, 0),
    "ed": ({"service": 4.0, "delivery": 2.0}, "service", 1),
    "fa": ({"running": 3.0}, "running", 1),
}


@pytest.fixture(scope="module")
def interests(module_store: Any) -> dict[str, dict[str, Any]]:
    load_data(module_store, DATA)
    return traits_by_id(module_store, "interests", AS_OF)


@pytest.mark.parametrize("contact", sorted(EXPECTED))
def test_interests_scores(interests: dict[str, dict[str, Any]], contact: str) -> None:
    scores, top, count = EXPECTED[contact]
    row = interests[contact]
    assert {t: row[f"interest__{t}"] for t in TOPICS} == pytest.approx({t: scores.get(t, 0.0) for t in TOPICS})
    assert row["top_interest"] == top
    assert row["interests"] == count


def test_interests_every_contact_has_a_row(interests: dict[str, dict[str, Any]]) -> None:
    assert sorted(interests) == sorted(EXPECTED)


def test_interests_segment_on_scores(module_store: Any, interests: dict[str, dict[str, Any]]) -> None:
    module_store.apply(
        {
            "name": "industrial-or-service",
            "match": "any",
            "conditions": [
                {"field": "interest.hydraulics", "op": "gte", "value": 5},
                {"field": "top_interest", "op": "eq", "value": "Service"},
            ],
        }
    )
    assert module_store.members("industrial-or-service", as_of=AS_OF) == ["ann", "ed"]


def test_interests_fields_follow_the_topics() -> None:
    model = Interests(InterestsSettings.model_validate({"topics": {"welding": {"url_patterns": ["/welding"]}}}))
    fields = model.fields()
    assert [(f.name, f.column_name) for f in fields] == [
        ("interest.welding", "interest__welding"),
        ("top_interest", "top_interest"),
        ("interests", "interests"),
    ]
    default = Interests()
    assert [f.name for f in default.fields()][: len(TOPICS)] == [f"interest.{t}" for t in TOPICS]


def test_interests_topic_columns_default_to_the_topic_name() -> None:
    signals = InterestsSettings.model_validate({"topics": {"welding": {"categories": ["Svets"]}}}).topics["welding"]
    kinds = {k.name: signals.values(k, "welding") for k in SIGNAL_KINDS}
    assert kinds == {
        "click": ["welding"],
        "page_view": [],
        "download": ["welding"],
        "search": [],
        "cart": ["Svets"],
        "purchase": ["Svets"],
        "ticket": ["welding"],
    }


@pytest.mark.parametrize(
    "topics",
    [{"Welding": {}}, {"weld-ing": {}}, {"1st": {}}, {}, {"welding": {"search_terms": [""]}}],
)
def test_interests_settings_reject_bad_topics(topics: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        InterestsSettings.model_validate({"topics": topics})


def test_interests_default_topics_are_found_in_several_ways() -> None:
    """Seed 002: add people to an interest "in as many ways as possible" — every default topic has 3+ kinds."""
    for topic, signals in DEFAULT_TOPICS.items():
        kinds = {k.name for k in SIGNAL_KINDS if signals.values(k, topic)}
        assert len(kinds) >= 3, (topic, kinds)


def test_interests_settings_change_topics_points_and_half_life(tmp_path: Path) -> None:
    """A store configured with one topic 'welding' (url /welding, search 'svets'), half-life 30 days,
    page views worth 2 and min_score 1.5:

    - ann: /products/welding page view 30 days ago = 2 * 0.5 = 1 and a search
      "Svetsaggregat" at as_of = 2: 3.0, top welding, 1 interest;
    - bo: a welding click (topic defaults to the name) 60 days ago = 3 * 0.25 = 0.75 < 1.5: none.
    """
    settings = Settings(
        traits={
            "interests": {
                "topics": {"welding": {"url_patterns": ["/welding"], "search_terms": ["svets"]}},
                "points": {"page_view": 2},
                "half_life_days": 30,
                "min_score": 1.5,
            }
        }
    )
    with open_store(str(tmp_path / "welding.duckdb"), settings) as store:
        load_data(
            store,
            {
                "contacts": [{"contact_id": c, "email": f"{c}@example.com"} for c in ("ann", "bo")],
                "events": [
                    {
                        "contact_id": "ann",
                        "event": "page_view",
                        "ts": "2026-05-31T12:00:00Z",
                        "url": "/products/welding",
                    },
                    {"contact_id": "ann", "event": "search", "ts": T0, "query": "Svetsaggregat"},
                    {"contact_id": "bo", "event": "email_click", "ts": T60, "topic": "welding"},
                ],
            },
        )
        rows = traits_by_id(store, "interests", AS_OF)
    assert rows == {
        "ann": {"interest__welding": pytest.approx(3.0), "top_interest": "welding", "interests": 1},
        "bo": {"interest__welding": pytest.approx(0.75), "top_interest": None, "interests": 0},
    }
