"""Source channel, first touch and months on a hand-made data set, as of 2026-06-30 12:00 UTC, on every engine.

Stored sources win, mapped through the synonyms or kept lower-cased:

- ann: 'Organic' -> organic_search, although her first page view is tagged cpc (which would say paid);
- bo: 'PPC' -> paid;
- cy: ' Trade Fair ' is no synonym -> 'trade fair' (trimmed, lower-cased).

Everyone else is inferred from the first page view, form or download (events after as_of do not exist):

- di: first view utm_medium 'CPC' (and a google referrer, which paid beats) -> paid;
- ed: utm_medium 'email' -> email;
- fay: utm_source 'Newsletter_May' -> email, although the referrer mail.google.com would say organic_search;
- gus: referrer https://t.co/... -> social;
- hal: utm_source 'LinkedIn', no medium, no referrer -> social;
- ivy: referrer https://www.google.fi/search?q=... -> organic_search;
- jon: two views at the same instant; event_id 'jon-a' (vasabladet.fi) sorts before 'jon-b' (google) -> referral;
- kim: a form (no referrer) a month before a page view from google -> the form is the first touch -> direct;
- lea: a download ten minutes before a page view from bing -> direct;
- max: a page view without a referrer -> direct;
- ned: no events at all, oli: only an email open, pia: only a page view after as_of (and an email) -> import.

First-touch content: ann 'winter-sale' (UTM campaign); cy '/products/hydraulics/pumps' (host, query and fragment
dropped); di 'search-industrial-2026'; ed '/blog/news'; fay '/' (a bare host is the root); gus
'/blog/hydraulic-oil-contamination'; hal and ivy '/'; jon '/references'; kim 'demo_request' (form_id); lea
'Hydraulikkatalog 2026.pdf' (asset); max '/pricing'; ned, oli, pia none.

signup_month: created_at's month (ann 2025-11, bo 2025-12, cy 2026-01, di 2026-02); without it, the first event's
(ed 2026-03, oli 2026-04); pia's created_at (07-01) is after as_of, so her first event before it, an email on
06-15 -> 2026-06; ned has neither -> none.

conversion_month: ann bought on 03-10 but won a deal on 02-20 -> 2026-02; bo's won deal has no close date, its
creation (2025-12-15) stands in -> 2025-12; cy has only a lost and an open deal -> none; di bought at 23:30 UTC on
05-31 -> 2026-05 (UTC months: in Helsinki it was already June); ed bought and won only after as_of -> none.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from traits_testing import load_data, traits_by_id

from segmint.compile import compiler_for
from segmint.traits.base import TraitContext
from segmint.traits.source import Source, SourceSettings

AS_OF = datetime(2026, 6, 30, 12, tzinfo=UTC)
IDS = ("ann", "bo", "cy", "di", "ed", "fay", "gus", "hal", "ivy", "jon", "kim", "lea", "max", "ned", "oli", "pia")
STORED = {"ann": "Organic", "bo": "PPC", "cy": " Trade Fair "}
CREATED = {
    "ann": "2025-11-03T09:00:00Z",
    "bo": "2025-12-01T09:00:00Z",
    "cy": "2026-01-15T09:00:00Z",
    "di": "2026-02-01T09:00:00Z",
    "pia": "2026-07-01T09:00:00Z",
}


def view(contact: str, ts: str, url: str = "/", **tags: str) -> dict[str, Any]:
    return {"contact_id": contact, "event": "page_view", "ts": ts, "url": url, **tags}


DATA = {
    "contacts": [
        {"contact_id": c, "email": f"{c}@example.com", "source": STORED.get(c), "created_at": CREATED.get(c)}
        for c in IDS
    ],
    "deals": [
        {"deal_id": "d1", "contact_id": "ann", "status": "won", "created_at": "2026-01-10T09:00:00Z",
         "closed_at": "2026-02-20T09:00:00Z"},
        {"deal_id": "d2", "contact_id": "bo", "status": "won", "created_at": "2025-12-15T09:00:00Z"},
        {"deal_id": "d3", "contact_id": "cy", "status": "lost", "created_at": "2026-01-20T09:00:00Z",
         "closed_at": "2026-02-01T09:00:00Z"},
        {"deal_id": "d4", "contact_id": "cy", "status": "open", "created_at": "2026-03-01T09:00:00Z"},
        {"deal_id": "d5", "contact_id": "ed", "status": "won", "created_at": "2026-06-01T09:00:00Z",
         "closed_at": "2026-07-01T09:00:00Z"},
    ],
    "events": [
        view("ann", "2026-01-05T10:00:00Z", "/pricing", utm_medium="cpc", utm_campaign="winter-sale"),
        {"contact_id": "ann", "event": "purchase", "ts": "2026-03-10T10:00:00Z", "amount": 100.0},
        view("cy", "2026-02-10T10:00:00Z", "https://www.kvarkenfluidtech.fi/products/hydraulics/pumps?utm_x=1#top",
             referrer="https://www.google.com/"),
        view("di", "2026-02-02T08:00:00Z", "/products/hydraulics/cylinders", utm_medium="CPC", utm_source="google",
             referrer="https://www.google.com/", utm_campaign="search-industrial-2026"),
        view("di", "2026-02-03T08:00:00Z", "/blog/news", referrer="https://www.linkedin.com/feed/"),
        {"contact_id": "di", "event": "purchase", "ts": "2026-05-31T23:30:00Z", "amount": 50.0},
        view("ed", "2026-03-01T10:00:00Z", "/blog/news", utm_medium="email", utm_source="newsletter"),
        {"contact_id": "ed", "event": "purchase", "ts": "2026-07-01T10:00:00Z", "amount": 50.0},
        view("fay", "2026-03-02T10:00:00Z", "https://www.kvarkenfluidtech.fi", utm_source="Newsletter_May",
             referrer="https://mail.google.com/"),
        view("gus", "2026-03-03T10:00:00Z", "/blog/hydraulic-oil-contamination", referrer="https://t.co/abc123"),
        view("hal", "2026-03-04T10:00:00Z", utm_source="LinkedIn"),
        view("ivy", "2026-03-05T10:00:00Z", referrer="https://www.google.fi/search?q=hydraulik"),
        {**view("jon", "2026-04-01T10:00:00Z", "/references", referrer="https://www.vasabladet.fi/artikel/1"),
         "event_id": "jon-a"},
        {**view("jon", "2026-04-01T10:00:00Z", "/pricing", referrer="https://www.google.com/"), "event_id": "jon-b"},
        {"contact_id": "kim", "event": "form_submit", "ts": "2026-02-01T10:00:00Z", "url": "/demo",
         "form_id": "demo_request"},
        view("kim", "2026-03-01T10:00:00Z", "/products", referrer="https://www.google.com/"),
        {"contact_id": "lea", "event": "content_download", "ts": "2026-02-05T10:00:00Z",
         "asset": "Hydraulikkatalog 2026.pdf", "topic": "hydraulics"},
        view("lea", "2026-02-05T10:10:00Z", "/downloads", referrer="https://www.bing.com/"),
        view("max", "2026-05-01T10:00:00Z", "/pricing"),
        {"contact_id": "oli", "event": "email_open", "ts": "2026-04-10T10:00:00Z", "machine_open": False},
        {"contact_id": "pia", "event": "email_sent", "ts": "2026-06-15T10:00:00Z"},
        view("pia", "2026-07-02T10:00:00Z", "/pricing", referrer="https://www.google.com/"),
    ],
}  # fmt: skip

EXPECTED = {  # original_source, first_touch_content, first_touch_at, signup_month, conversion_month
    "ann": ("organic_search", "winter-sale", "2026-01-05T10:00:00Z", "2025-11", "2026-02"),
    "bo": ("paid", None, None, "2025-12", "2025-12"),
    "cy": ("trade fair", "/products/hydraulics/pumps", "2026-02-10T10:00:00Z", "2026-01", None),
    "di": ("paid", "search-industrial-2026", "2026-02-02T08:00:00Z", "2026-02", "2026-05"),
    "ed": ("email", "/blog/news", "2026-03-01T10:00:00Z", "2026-03", None),
    "fay": ("email", "/", "2026-03-02T10:00:00Z", "2026-03", None),
    "gus": ("social", "/blog/hydraulic-oil-contamination", "2026-03-03T10:00:00Z", "2026-03", None),
    "hal": ("social", "/", "2026-03-04T10:00:00Z", "2026-03", None),
    "ivy": ("organic_search", "/", "2026-03-05T10:00:00Z", "2026-03", None),
    "jon": ("referral", "/references", "2026-04-01T10:00:00Z", "2026-04", None),
    "kim": ("direct", "demo_request", "2026-02-01T10:00:00Z", "2026-02", None),
    "lea": ("direct", "Hydraulikkatalog 2026.pdf", "2026-02-05T10:00:00Z", "2026-02", None),
    "max": ("direct", "/pricing", "2026-05-01T10:00:00Z", "2026-05", None),
    "ned": ("import", None, None, None, None),
    "oli": ("import", None, None, "2026-04", None),
    "pia": ("import", None, None, "2026-06", None),
}


@pytest.fixture(scope="module")
def source(module_store: Any) -> dict[str, dict[str, Any]]:
    load_data(module_store, DATA)
    return traits_by_id(module_store, "source", AS_OF)


def ts(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text).astimezone(UTC) if text else None


def test_source_every_contact_has_a_row(source: dict[str, dict[str, Any]]) -> None:
    assert sorted(source) == sorted(IDS)


@pytest.mark.parametrize("contact", IDS)
def test_source_fields(source: dict[str, dict[str, Any]], contact: str) -> None:
    channel, content, first_at, signup, conversion = EXPECTED[contact]
    row = source[contact]
    got_at = row["first_touch_at"] and row["first_touch_at"].astimezone(UTC)
    assert (row["original_source"], row["first_touch_content"], got_at) == (channel, content, ts(first_at))
    assert (row["signup_month"], row["conversion_month"]) == (signup, conversion)


def test_source_settings_change_the_channels(source: dict[str, dict[str, Any]], module_store: Any) -> None:
    """Users' lists: vasabladet.fi is the only search engine, 'trade fair' means 'event', no email tags.

    jon's first view came from vasabladet.fi -> organic_search; ivy's google.fi is now a plain referrer ->
    referral; cy's stored 'Trade Fair' -> event; ann's stored 'Organic' is no synonym any more (the whole mapping
    was replaced) -> organic; ed's email medium and newsletter source no longer count and he has no referrer ->
    direct; fay's newsletter source no longer counts, her referrer mail.google.com is no search engine -> referral.
    """
    settings = SourceSettings(
        search_domains=["vasabladet"], source_synonyms={"event": ["Trade Fair"]}, email_mediums=[], email_sources=[]
    )
    ctx = TraitContext(
        module_store, compiler_for(module_store.engine.name, module_store.registry(), {}, as_of=AS_OF), AS_OF
    )
    rows = module_store.engine.query(Source(settings).query(ctx)).to_pylist()
    ids = {
        r["contact_key"]: r["contact_id"]
        for r in module_store.engine.query("SELECT contact_key, contact_id FROM contacts").to_pylist()
    }
    got = {ids[r["contact_key"]]: r["original_source"] for r in rows}
    assert {c: got[c] for c in ("jon", "cy", "ann", "ed", "fay", "ivy")} == {
        "jon": "organic_search",
        "cy": "event",
        "ann": "organic",
        "ed": "direct",
        "fay": "referral",
        "ivy": "referral",
    }


def test_source_a_segment_uses_the_channel(source: dict[str, dict[str, Any]], module_store: Any) -> None:
    module_store.apply(
        {"name": "paid-first", "conditions": [{"field": "original_source", "op": "eq", "value": "Paid"}]}
    )
    assert module_store.members("paid-first", as_of=AS_OF) == ["bo", "di"]
