"""Hand-made stores for the lint tests: one with each of seed 000's problems planted, one clean.

Import with ``from lint_testing import build_messy, build_clean, AS_OF`` (pytest puts this folder on the path).

Both are built the way a store lives: contacts loaded, segments applied, a
refresh now and then, more contacts and events arriving in between.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from segmint.segments import refresh_all, refresh_segments
from segmint.store.load import load_tables
from segmint.store.store import Store

#: the instant of the last refresh of both stores
AS_OF = datetime(2026, 6, 1, tzinfo=UTC)


def days_ago(days: float) -> datetime:
    return AS_OF - timedelta(days=days)


def load_rows(store: Store, entity: str, rows: Iterable[Mapping[str, Any]]) -> None:
    """Load rows (dicts of import columns, as in a file); no row may be rejected."""
    rows = list(rows)
    if not rows:
        return
    columns = sorted({k for r in rows for k in r})
    table = pa.table({c: [r.get(c) for r in rows] for c in columns})
    summary = load_tables(store, entity, [table], source=f"test-{entity}")
    assert summary.total("rejected") == 0, summary


def event(contact: str, name: str, when: datetime, **props: Any) -> dict[str, Any]:
    return {"contact_id": contact, "event": name, "ts": when.isoformat(), **props}


# ---- the messy store ------------------------------------------------------------------------------
#
# 54 contacts: 44 at first, 10 more loaded after the first refresh.  Refreshes at 200, 40 and 20 days
# before AS_OF and at AS_OF.  Everyone got the newsletter 10 days before AS_OF; everyone has a
# plan (basic or pro), which no segment uses.
#   f01-f12  FI fi Vasa     bought fishing gear 300 days ago; searched "fiske" twice 5 days ago
#   c01-c10  SE sv Umeå     searched "fiske" and "tält" (tent) twice each 5 days ago
#   s01-s20  SE sv Umeå     nothing but the newsletter
#   d01-d02  DK da Aarhus   nothing but the newsletter
#   second batch: n01-n08 SE sv Umeå (n07, n08 bought fishing gear 30 days ago); n09 FI fi Närpes;
#   n10 DK da Aarhus


def _contacts(ids: Iterable[str], country: str, language: str, city: str) -> list[dict[str, Any]]:
    return [
        {"contact_id": i, "country": country, "language": language, "city": city, "plan": "pro" if n % 3 else "basic"}
        for n, i in enumerate(ids)
    ]


MESSY_FIRST = (
    _contacts([f"f{i:02}" for i in range(1, 13)], "FI", "fi", "Vasa")
    + _contacts([f"c{i:02}" for i in range(1, 11)], "SE", "sv", "Umeå")
    + _contacts([f"s{i:02}" for i in range(1, 21)], "SE", "sv", "Umeå")
    + _contacts(["d01", "d02"], "DK", "da", "Aarhus")
)
MESSY_SECOND = (
    _contacts([f"n{i:02}" for i in range(1, 9)], "SE", "sv", "Umeå")
    + _contacts(["n09"], "FI", "fi", "Närpes")
    + _contacts(["n10"], "DK", "da", "Aarhus")
)

MESSY_SEGMENTS: list[dict[str, Any]] = [
    # empty: nobody is from Norway
    {"name": "norway", "conditions": [{"field": "country", "op": "eq", "value": "NO"}]},
    # near-duplicates: the Swedish speakers, and the same plus the one contact in Närpes
    {"name": "swedish", "conditions": [{"field": "language", "op": "eq", "value": "sv"}]},
    {
        "name": "swedish-speakers",
        "match": "any",
        "conditions": [
            {"field": "language", "op": "eq", "value": "sv"},
            {"field": "city", "op": "eq", "value": "Närpes"},
        ],
    },
    # too small: 2 Danes, then 3, in a list of 60
    {"name": "danes", "conditions": [{"field": "country", "op": "eq", "value": "DK"}]},
    # never changes: Vasa is f01-f12 at every refresh
    {"name": "vasa", "conditions": [{"field": "city", "op": "eq", "value": "Vasa"}]},
    # stuck: placed by one old purchase and never let go
    {
        "name": "bought-fishing",
        "conditions": [{"event": "purchase", "where": [{"field": "category", "op": "eq", "value": "fishing"}]}],
    },
    {"name": "interest-camping", "conditions": [{"field": "interest.camping", "op": "gte", "value": 3}]},
]


def _newsletter(ids: Iterable[str], when: datetime) -> list[dict[str, Any]]:
    return [event(i, "email_sent", when, campaign_id="newsletter") for i in ids]


def build_messy(store: Store) -> None:
    """The messy store (see the comment above): 7 segments, 4 refreshes."""
    first = [r["contact_id"] for r in MESSY_FIRST]
    second = [r["contact_id"] for r in MESSY_SECOND]
    load_rows(store, "contacts", MESSY_FIRST)
    events = [event(f"f{i:02}", "purchase", days_ago(300), category="fishing", amount=50.0) for i in range(1, 13)]
    events += [event(f"f{i:02}", "search", days_ago(5 + k / 24), query="fiske") for i in range(1, 13) for k in (0, 1)]
    for i in range(1, 11):
        for k in (0, 1):
            events += [
                event(f"c{i:02}", "search", days_ago(5 + k / 24), query="fiske"),
                event(f"c{i:02}", "search", days_ago(5.5 + k / 24), query="tält"),
            ]
    load_rows(store, "events", events)
    for segment in MESSY_SEGMENTS:
        store.apply(segment)
    refresh_all(store, as_of=days_ago(200))
    load_rows(store, "contacts", MESSY_SECOND)
    load_rows(
        store,
        "events",
        [event(i, "purchase", days_ago(30), category="fishing", amount=80.0) for i in ("n07", "n08")]
        + _newsletter(first + second, days_ago(10)),
    )
    # traits are computed at the first and last refresh only (to keep the test fast): the segments that
    # use them (interest-camping) have no member before the searches 5 days before AS_OF either way
    refresh_segments(store, as_of=days_ago(40))
    refresh_segments(store, as_of=days_ago(20))
    refresh_all(store, as_of=AS_OF)


# ---- the clean store ------------------------------------------------------------------------------
#
# 450 contacts at first (250 SE sv, 200 FI fi), 10 more SE sv before each later refresh; refreshes at
# 90, 60, 30 days before AS_OF and at AS_OF.  Each contact got a newsletter 10 days before every
# refresh; one in three clicked it.  Two segments, which a list of 450 carries (one per 200).


def _clean_contacts(start: int, count: int, country: str, language: str) -> list[dict[str, Any]]:
    return [{"contact_id": f"k{n:04}", "country": country, "language": language} for n in range(start, start + count)]


CLEAN_SEGMENTS: list[dict[str, Any]] = [
    {
        "name": "swedish-sweden",
        "conditions": [
            {"field": "language", "op": "eq", "value": "sv"},
            {"field": "country", "op": "eq", "value": "SE"},
        ],
    },
    {"name": "recent-clickers", "conditions": [{"event": "email_click", "within": "30d"}]},
]


def build_clean(store: Store) -> None:
    """The clean store (see the comment above)."""
    load_rows(store, "contacts", _clean_contacts(0, 250, "SE", "sv") + _clean_contacts(250, 200, "FI", "fi"))
    for segment in CLEAN_SEGMENTS:
        store.apply(segment)
    total = 450
    for step, days in enumerate((90, 60, 30, 0)):
        if step:
            load_rows(store, "contacts", _clean_contacts(total, 10, "SE", "sv"))
            total += 10
        ids = [f"k{n:04}" for n in range(total)]
        sent = days_ago(days + 10)
        clicks = [event(i, "email_click", sent + timedelta(hours=1), campaign_id=f"news-{step}") for i in ids[step::3]]
        load_rows(store, "events", _newsletter(ids, sent) + clicks)
        # traits at the first and last refresh only (fast); the segments use no trait
        if step in (0, 3):
            refresh_all(store, as_of=days_ago(days))
        else:
            refresh_segments(store, as_of=days_ago(days))
