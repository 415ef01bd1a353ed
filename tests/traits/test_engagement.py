"""Engagement tiers on a hand-made data set, as of 2026-06-30 12:00 UTC, on every engine.

as_of - 30d = 2026-05-31 12:00 and as_of - 90d = 2026-04-01 12:00, so:

- ann clicked on 06-20 -> active;
- bo's latest human signal is a page view on 05-01 (a later open was a machine open) -> lapsing;
- cy clicked on 2026-01-10 and a click after as_of does not exist yet -> dormant;
- di only opened (human opens) on 06-01 -> active, and opens_only;
- ed has only a machine open -> never, opens_only;
- fa has no events -> never, not opens_only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from traits_testing import load_data, traits_by_id

AS_OF = datetime(2026, 6, 30, 12, tzinfo=UTC)

DATA = {
    "contacts": [{"contact_id": c, "email": f"{c}@example.com"} for c in ("ann", "bo", "cy", "di", "ed", "fa")],
    "events": [
        {"contact_id": "ann", "event": "email_click", "ts": "2026-06-20T08:00:00Z"},
        {"contact_id": "ann", "event": "email_open", "ts": "2026-06-20T07:59:00Z", "machine_open": False},
        {"contact_id": "bo", "event": "page_view", "ts": "2026-05-01T10:00:00Z"},
        {"contact_id": "bo", "event": "email_open", "ts": "2026-06-25T10:00:00Z", "machine_open": True},
        {"contact_id": "cy", "event": "email_click", "ts": "2026-01-10T10:00:00Z"},
        {"contact_id": "cy", "event": "email_click", "ts": "2026-07-02T10:00:00Z"},
        {"contact_id": "di", "event": "email_open", "ts": "2026-06-01T10:00:00Z", "machine_open": False},
        {"contact_id": "ed", "event": "email_open", "ts": "2026-06-29T10:00:00Z", "machine_open": True},
        {"contact_id": "ed", "event": "email_sent", "ts": "2026-06-29T09:00:00Z"},
    ],
}


@pytest.fixture(scope="module")
def engagement(module_store: Any) -> dict[str, dict[str, Any]]:
    load_data(module_store, DATA)
    return traits_by_id(module_store, "engagement", AS_OF)


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(
    ("contact", "tier", "last", "opens_only"),
    [
        ("ann", "active", "2026-06-20T08:00:00+00:00", False),
        ("bo", "lapsing", "2026-05-01T10:00:00+00:00", False),
        ("cy", "dormant", "2026-01-10T10:00:00+00:00", False),
        ("di", "active", "2026-06-01T10:00:00+00:00", True),
        ("ed", "never", None, True),
        ("fa", "never", None, False),
    ],
)
def test_engagement_tiers(
    engagement: dict[str, dict[str, Any]], contact: str, tier: str, last: str | None, opens_only: bool
) -> None:
    row = engagement[contact]
    assert row["engagement_tier"] == tier
    assert (row["last_engaged_at"] and row["last_engaged_at"].astimezone(UTC)) == (ts(last) if last else None)
    assert row["opens_only"] is opens_only


def test_every_contact_has_a_row(engagement: dict[str, dict[str, Any]]) -> None:
    assert sorted(engagement) == ["ann", "bo", "cy", "di", "ed", "fa"]


def test_a_segment_uses_the_tier(module_store: Any) -> None:
    module_store.apply(
        {"name": "lapsing", "conditions": [{"field": "engagement_tier", "op": "eq", "value": "Lapsing"}]}
    )
    assert module_store.members("lapsing", as_of=AS_OF) == ["bo"]
