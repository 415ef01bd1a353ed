"""Deliverability and consent on a hand-made data set, as of 2026-06-30 12:00 UTC, on every engine.

Consent records are channel email, purpose marketing, granted on 2026-01-01, unless said otherwise.
Proof of life = email_delivered, email_open (machine opens too) or email_click; the trailing run is the
soft bounces strictly after the latest one (default: 4 in a row suppress).

- ann: delivered 06-01; an unsubscribe on 07-02 is after as_of -> ok, not unsubscribed, mailable.
- hb: hard bounce ("Hard") 03-01, delivered 05-01, soft bounce 05-02 -> still hard_bounced, run 1, not mailable.
- sup: soft 03-01, delivered 04-01, soft 04-10, 04-20, 05-01, 05-10 (a soft on 07-05 is after as_of)
  -> run 4 -> suppressed, not mailable.
- sb: consent for purpose newsletter; soft 03-01, 03-05, machine open 03-10 08:00 and a soft bounce at the
  same instant (not after it: not counted), soft 06-01, 06-02, 06-03; a click (07-01) and a hard bounce
  (07-02) are after as_of -> run 3 -> soft_bouncing, still mailable.
- nd: email_sent 06-09 (not proof of life), soft 06-10, 06-11; no consent record -> soft_bouncing, run 2,
  consent unknown -> not mailable.
- uns: delivered 04-01, unsubscribed 05-01, no later grant -> unsubscribed, not mailable.
- resub: unsubscribed 02-01, then granted for purpose "Newsletter" (case ignored) on 03-01 -> re-subscribed,
  unsubscribed_at still 02-01, consent granted since 03-01, mailable.
- tie: granted (marketing) and revoked (newsletter) both at 04-01 10:00 -> revoked wins the tie; an
  unsubscribe at that same instant is not undone by the grant -> unsubscribed.
- rev: granted 01-01, revoked 02-01; a later sms grant (03-01), an email grant for purpose "transactional"
  (04-01) and an email grant after as_of (07-01) do not count -> revoked since 02-01.
- spam: delivered 06-01, spam report 06-10 -> spam_reported, not mailable.
- ne: consent granted but no email address -> not mailable.
- fa: nothing at all -> ok, consent unknown, not mailable.

With require_consent = false and suppress_after_soft_bounces = 3: sb's run of 3 is suppressed; nd and fa
(unknown consent, email set, not suppressed) become mailable; rev (revoked) still is not.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from traits_testing import load_data, traits_by_id

from segmint.compile import compiler_for
from segmint.traits.base import TraitContext
from segmint.traits.deliverability import Deliverability, DeliverabilitySettings

AS_OF = datetime(2026, 6, 30, 12, tzinfo=UTC)
IDS = ("ann", "hb", "sup", "sb", "nd", "uns", "resub", "tie", "rev", "spam", "ne", "fa")


def consent(
    contact: str, ts: str, status: str = "granted", purpose: str = "marketing", channel: str = "email"
) -> dict[str, str]:
    return {"contact_id": contact, "channel": channel, "purpose": purpose, "status": status, "ts": ts}


def event(contact: str, name: str, ts: str, **props: Any) -> dict[str, Any]:
    return {"contact_id": contact, "event": name, "ts": ts, **props}


def bounce(contact: str, ts: str, kind: str = "soft") -> dict[str, Any]:
    return event(contact, "email_bounce", ts, bounce_type=kind)


DATA: dict[str, list[dict[str, Any]]] = {
    "contacts": [{"contact_id": c, "email": None if c == "ne" else f"{c}@example.com"} for c in IDS],
    "consents": [
        *(consent(c, "2026-01-01T00:00:00Z") for c in ("ann", "hb", "sup", "uns", "spam", "ne")),
        consent("sb", "2026-01-01T00:00:00Z", purpose="newsletter"),
        consent("resub", "2026-03-01T00:00:00Z", purpose="Newsletter"),
        consent("tie", "2026-04-01T10:00:00Z"),
        consent("tie", "2026-04-01T10:00:00Z", "revoked", purpose="newsletter"),
        consent("rev", "2026-01-01T00:00:00Z"),
        consent("rev", "2026-02-01T00:00:00Z", "revoked"),
        consent("rev", "2026-03-01T00:00:00Z", channel="sms"),
        consent("rev", "2026-04-01T00:00:00Z", purpose="transactional"),
        consent("rev", "2026-07-01T00:00:00Z"),
    ],
    "events": [
        event("ann", "email_delivered", "2026-06-01T09:00:00Z"),
        event("ann", "email_unsubscribe", "2026-07-02T09:00:00Z"),
        bounce("hb", "2026-03-01T09:00:00Z", "Hard"),
        event("hb", "email_delivered", "2026-05-01T09:00:00Z"),
        bounce("hb", "2026-05-02T09:00:00Z"),
        bounce("sup", "2026-03-01T09:00:00Z"),
        event("sup", "email_delivered", "2026-04-01T00:00:00Z"),
        *(bounce("sup", f"2026-{d}T09:00:00Z") for d in ("04-10", "04-20", "05-01", "05-10", "07-05")),
        bounce("sb", "2026-03-01T09:00:00Z"),
        bounce("sb", "2026-03-05T09:00:00Z"),
        event("sb", "email_open", "2026-03-10T08:00:00Z", machine_open=True),
        bounce("sb", "2026-03-10T08:00:00Z"),
        *(bounce("sb", f"2026-06-0{d}T09:00:00Z") for d in (1, 2, 3)),
        event("sb", "email_click", "2026-07-01T09:00:00Z"),
        bounce("sb", "2026-07-02T09:00:00Z", "hard"),
        event("nd", "email_sent", "2026-06-09T09:00:00Z"),
        bounce("nd", "2026-06-10T09:00:00Z"),
        bounce("nd", "2026-06-11T09:00:00Z"),
        event("uns", "email_delivered", "2026-04-01T09:00:00Z"),
        event("uns", "email_unsubscribe", "2026-05-01T09:00:00Z"),
        event("resub", "email_unsubscribe", "2026-02-01T09:00:00Z"),
        event("tie", "email_unsubscribe", "2026-04-01T10:00:00Z"),
        event("spam", "email_delivered", "2026-06-01T09:00:00Z"),
        event("spam", "email_spam_report", "2026-06-10T09:00:00Z"),
    ],
}

JAN = "2026-01-01T00:00:00Z"
# contact: bounce_status, soft_bounces_in_row, unsubscribed, unsubscribed_at, spam_reported,
#          email_marketing_consent, consent_changed_at, is_mailable
EXPECTED: dict[str, tuple[str, int, bool, str | None, bool, str, str | None, bool]] = {
    "ann": ("ok", 0, False, None, False, "granted", JAN, True),
    "hb": ("hard_bounced", 1, False, None, False, "granted", JAN, False),
    "sup": ("suppressed", 4, False, None, False, "granted", JAN, False),
    "sb": ("soft_bouncing", 3, False, None, False, "granted", JAN, True),
    "nd": ("soft_bouncing", 2, False, None, False, "unknown", None, False),
    "uns": ("ok", 0, True, "2026-05-01T09:00:00Z", False, "granted", JAN, False),
    "resub": ("ok", 0, False, "2026-02-01T09:00:00Z", False, "granted", "2026-03-01T00:00:00Z", True),
    "tie": ("ok", 0, True, "2026-04-01T10:00:00Z", False, "revoked", "2026-04-01T10:00:00Z", False),
    "rev": ("ok", 0, False, None, False, "revoked", "2026-02-01T00:00:00Z", False),
    "spam": ("ok", 0, False, None, True, "granted", JAN, False),
    "ne": ("ok", 0, False, None, False, "granted", JAN, False),
    "fa": ("ok", 0, False, None, False, "unknown", None, False),
}


def ts(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text).astimezone(UTC) if text else None


def utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value else None


@pytest.fixture(scope="module")
def deliverability(module_store: Any) -> dict[str, dict[str, Any]]:
    load_data(module_store, DATA)
    return traits_by_id(module_store, "deliverability", AS_OF)


@pytest.mark.parametrize("contact", IDS)
def test_deliverability_fields(deliverability: dict[str, dict[str, Any]], contact: str) -> None:
    status, in_row, unsubscribed, unsubscribed_at, spam, consent_status, changed_at, mailable = EXPECTED[contact]
    row = deliverability[contact]
    assert row["bounce_status"] == status
    assert row["soft_bounces_in_row"] == in_row
    assert row["unsubscribed"] is unsubscribed
    assert utc(row["unsubscribed_at"]) == ts(unsubscribed_at)
    assert row["spam_reported"] is spam
    assert row["email_marketing_consent"] == consent_status
    assert utc(row["consent_changed_at"]) == ts(changed_at)
    assert row["is_mailable"] is mailable


def test_deliverability_settings_change_suppression_and_consent(module_store: Any) -> None:
    settings = DeliverabilitySettings(require_consent=False, suppress_after_soft_bounces=3)
    ctx = TraitContext(
        module_store, compiler_for(module_store.engine.name, module_store.registry(), {}, as_of=AS_OF), AS_OF
    )
    rows = module_store.engine.query(Deliverability(settings).query(ctx)).to_pylist()
    ids = {
        r["contact_key"]: r["contact_id"]
        for r in module_store.engine.query("SELECT contact_key, contact_id FROM contacts").to_pylist()
    }
    by_id = {ids[r["contact_key"]]: r for r in rows}
    assert sorted(c for c, r in by_id.items() if r["is_mailable"]) == ["ann", "fa", "nd", "resub"]
    assert by_id["sb"]["bounce_status"] == "suppressed"
    assert by_id["nd"]["bounce_status"] == "soft_bouncing"


def test_deliverability_fresh_path_matches_full(module_store: Any, deliverability: dict[str, dict[str, Any]]) -> None:
    keys = module_store.engine.query("SELECT contact_key FROM contacts WHERE contact_id IN ('sb', 'tie', 'fa')").column(
        "contact_key"
    )
    again = traits_by_id(module_store, "deliverability", AS_OF, contact_keys=keys.to_pylist())
    assert again == deliverability
    assert module_store.engine.scalar("SELECT COUNT(*) FROM traits_deliverability") == len(IDS)


def test_deliverability_segments_use_the_fields(module_store: Any, deliverability: dict[str, dict[str, Any]]) -> None:
    module_store.apply({"name": "mailable", "conditions": [{"field": "is_mailable", "op": "eq", "value": True}]})
    assert module_store.members("mailable", as_of=AS_OF) == ["ann", "resub", "sb"]
    module_store.apply(
        {
            "name": "bounce-cleanup",
            "conditions": [{"field": "bounce_status", "op": "in", "value": ["Hard_Bounced", "suppressed"]}],
        }
    )
    assert module_store.members("bounce-cleanup", as_of=AS_OF) == ["hb", "sup"]
