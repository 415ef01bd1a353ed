"""The shared world of one run: the email campaign calendar and every vocabulary events draw from.

Events are generated as integer codes (which campaign, which page, which
topic, ...) and turned into strings only at the end, by taking from the
Arrow vocabularies built here once per run.  ``properties`` JSON objects are
vocabulary entries too, encoded once with :func:`json.dumps`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum

import numpy as np
import pyarrow as pa

from segmint.demo import catalog, names
from segmint.demo.config import DemoConfig, to_us

EVENT_NAMES = (
    "email_sent",
    "email_delivered",
    "email_open",
    "email_click",
    "email_bounce",
    "email_unsubscribe",
    "email_spam_report",
    "page_view",
    "form_submit",
    "content_download",
    "search",
    "cart_add",
    "purchase",
    "support_ticket",
    "sales_activity",
)
(
    SENT,
    DELIVERED,
    OPEN,
    CLICK,
    BOUNCE,
    UNSUBSCRIBE,
    SPAM,
    PAGE_VIEW,
    FORM,
    DOWNLOAD,
    SEARCH,
    CART,
    PURCHASE,
    TICKET,
    ACTIVITY,
) = range(len(EVENT_NAMES))


class CampaignKind(IntEnum):
    """What a campaign is and who gets it."""

    NEWSLETTER = 0  # monthly, every B2B subscriber
    TOPIC = 1  # hydraulics / pneumatics / electrical, to those interested
    WEBINAR = 2
    PARTNER = 3
    WINBACK = 4  # former customers
    SHOP = 5  # the outdoor web shop's offers
    FAIR = 6  # trade-fair invitation, Finland
    PRODUCT_NEWS = 7  # monthly, customers, partners and prospects


WEBINAR_TITLES = (
    ("Hydraulik i praktiken", "Hydrauliikka käytännössä", "Hydraulics in practice"),
    ("Tryckluft utan läckage", "Paineilma ilman vuotoja", "Compressed air without leaks"),
    ("Smarta ställverk", "Älykkäät sähkökeskukset", "Smart switchgear"),
)
NEWS = ("Produktnytt", "Tuoteuutiset", "Product news")
SHOP_SEASON = (5, 5, 5, 3, 3, 4, 4, 3, 5, 3, 4, 4)  # month -> outdoor category pushed (a topic)


@dataclass
class Campaigns:
    """Every email campaign of the run, in send order."""

    ids: list[str] = field(default_factory=list)
    ts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    kind: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    topic: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    subjects: list[tuple[str, str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


def _nth_weekday(year: int, month: int, weekday: int, nth: int, hour: int) -> datetime:
    first = datetime(year, month, 1, hour, tzinfo=UTC)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))


def _languages(texts: Iterable[str]) -> tuple[str, str, str]:
    """One text in Swedish, Finnish and English."""
    sv, fi, en = texts
    return sv, fi, en


def campaign_calendar(config: DemoConfig) -> Campaigns:
    """The campaigns sent between ``start`` and two days before ``end``, in time order."""
    lo, hi = config.start + timedelta(days=1), config.end - timedelta(days=2)
    rows: list[tuple[datetime, str, CampaignKind, int, tuple[str, str, str]]] = []
    year, month = lo.year, lo.month
    topic_turn = 0
    while datetime(year, month, 1, tzinfo=UTC) <= hi:
        ym, q = f"{year}-{month:02d}", (month - 1) // 3 + 1
        nl = catalog.HEADLINES["newsletter"][month % 4]
        rows.append(
            (
                _nth_weekday(year, month, 1, 1, 6),
                f"nl-{ym}",
                CampaignKind.NEWSLETTER,
                -1,
                _languages(f"{catalog.MONTHS[i][month - 1].capitalize()} {year}: {nl[i]}" for i in range(3)),
            )
        )
        if month not in (7, 12):
            rows.append(
                (
                    _nth_weekday(year, month, 1, 3, 7),
                    f"news-{ym}",
                    CampaignKind.PRODUCT_NEWS,
                    -1,
                    _languages(f"{NEWS[i]} – {catalog.MONTHS[i][month - 1]}" for i in range(3)),
                )
            )
        if month % 3 != 1 or month in (4, 10):  # two topic campaigns a quarter
            topic = catalog.INDUSTRIAL[topic_turn % 3]
            head = catalog.HEADLINES[catalog.TOPICS[topic]][topic_turn // 3 % 2]
            rows.append(
                (
                    _nth_weekday(year, month, 3, 3, 7),
                    f"cmp-{catalog.TOPICS[topic]}-{ym}",
                    CampaignKind.TOPIC,
                    topic,
                    head,
                )
            )
            topic_turn += 1
        if month in (2, 5, 8, 11):
            topic = catalog.INDUSTRIAL[(year * 4 + q) % 3]
            prefix = catalog.HEADLINES["webinar"][0]
            title = WEBINAR_TITLES[topic]
            rows.append(
                (
                    _nth_weekday(year, month, 2, 2, 7),
                    f"webinar-{year}-q{q}",
                    CampaignKind.WEBINAR,
                    topic,
                    _languages(prefix[i] + title[i] for i in range(3)),
                )
            )
        if month in (1, 4, 7, 10):
            rows.append(
                (
                    _nth_weekday(year, month, 0, 1, 7),
                    f"partner-{year}-q{q}",
                    CampaignKind.PARTNER,
                    -1,
                    catalog.HEADLINES["partner"][0],
                )
            )
        if month in (3, 9):
            rows.append(
                (
                    datetime(year, month, 15, 8, tzinfo=UTC),
                    f"winback-{ym}",
                    CampaignKind.WINBACK,
                    -1,
                    catalog.HEADLINES["winback"][0],
                )
            )
        if month == 8:
            rows.append(
                (
                    datetime(year, month, 25, 7, tzinfo=UTC),
                    f"fair-alihankinta-{year}",
                    CampaignKind.FAIR,
                    -1,
                    catalog.HEADLINES["fair"][0],
                )
            )
        for nth, letter in ((1, "a"), (3, "b")):
            cat = SHOP_SEASON[month - 1] if letter == "a" else catalog.OUTDOOR[(month + year) % 3]
            rows.append(
                (
                    _nth_weekday(year, month, 4, nth, 15),
                    f"shop-{ym}-{letter}",
                    CampaignKind.SHOP,
                    cat,
                    catalog.HEADLINES[catalog.TOPICS[cat]][0],
                )
            )
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    rows = sorted((r for r in rows if lo <= r[0] <= hi), key=lambda r: (r[0], r[1]))
    return Campaigns(
        ids=[r[1] for r in rows],
        ts=np.array([to_us(r[0]) for r in rows], dtype=np.int64),
        kind=np.array([int(r[2]) for r in rows], dtype=np.int64),
        topic=np.array([r[3] for r in rows], dtype=np.int64),
        subjects=[r[4] for r in rows],
    )


def _json(**values: object) -> str:
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


class Vocab:
    """A growing list of strings with named groups: ``add`` returns the offset of a group."""

    def __init__(self) -> None:
        self.values: list[str | None] = []
        self.offsets: dict[str, int] = {}

    def add(self, group: str, values: list[str | None]) -> int:
        """Append a group of values and return its offset."""
        self.offsets[group] = len(self.values)
        self.values.extend(values)
        return self.offsets[group]

    def array(self) -> pa.Array:
        """The vocabulary as an Arrow string array (``None`` entries are null)."""
        return pa.array(self.values, pa.string())


@dataclass
class World:
    """The calendar and the vocabularies of one run."""

    config: DemoConfig
    campaigns: Campaigns
    urls: Vocab
    links: Vocab
    link_url: np.ndarray  # link -> url code of its landing page
    link_offset: np.ndarray  # topic -> first link of the topic
    link_count: np.ndarray  # topic -> number of links
    props: Vocab
    props_tail: Vocab
    queries: Vocab
    query_offset: np.ndarray  # topic -> first query
    query_count: np.ndarray
    utm_campaigns: Vocab  # campaign ids, then the paid campaigns of TRAFFIC
    traffic_utm_campaign: np.ndarray  # traffic code -> utm_campaign code (-1 none)
    arrays: dict[str, pa.Array] = field(default_factory=dict)

    @property
    def email_traffic(self) -> int:
        """The traffic code of a visit from an email link (utm newsletter / email)."""
        return len(catalog.TRAFFIC)


def _url_vocab() -> Vocab:
    urls = Vocab()
    urls.add("home", [p for p, _ in catalog.HOME])
    for t, lines in enumerate(catalog.PRODUCT_LINES):
        urls.add(f"product:{t}", [f"/products/{catalog.TOPICS[t]}/{line}" for line in lines])
    for t, posts in enumerate(catalog.BLOG_POSTS):
        urls.add(f"blog:{t}", [f"/blog/{post}" for post in posts])
    urls.add("pricing", [p for p, _ in catalog.PRICING])
    urls.add("service", [p for p, _ in catalog.SERVICE_PAGES])
    urls.add("company", [p for p, _ in catalog.COMPANY_PAGES])
    urls.add("resources", [p for p, _ in catalog.RESOURCE_PAGES])
    urls.add("forms", ["/demo", "/newsletter"])
    urls.add("shop", [p for p, _ in catalog.SHOP_HOME])
    for c, products in enumerate(catalog.SHOP_PRODUCTS):
        cat = catalog.TOPICS[catalog.OUTDOOR[c]]
        urls.add(f"shopcat:{c}", [f"/shop/{cat}"])
        urls.add(f"shopprod:{c}", [f"/shop/{cat}/{p.slug}" for p in products])
    urls.add("shopcart", ["/shop/cart", "/shop/checkout"])
    return urls


def _title(url: str) -> str:
    fixed = dict(
        catalog.HOME
        + catalog.PRICING
        + catalog.SERVICE_PAGES
        + catalog.COMPANY_PAGES
        + catalog.RESOURCE_PAGES
        + catalog.SHOP_HOME
    )
    if url in fixed:
        return fixed[url]
    parts = url.strip("/").split("/")
    if parts[0] == "shop":
        if len(parts) == 2 and parts[1] in ("cart", "checkout"):
            return {"cart": "Varukorg", "checkout": "Kassa"}[parts[1]]
        cat = catalog.OUTDOOR.index(catalog.TOPICS.index(parts[1]))
        if len(parts) == 2:
            return f"{parts[1].capitalize()} – Webbutik"
        product = next(p for p in catalog.SHOP_PRODUCTS[cat] if p.slug == parts[2])
        return f"{product.name} – Webbutik"
    if parts[0] == "demo":
        return "Boka en demo"
    if parts[0] == "newsletter":
        return "Prenumerera på nyhetsbrevet"
    return f"{parts[-1].replace('-', ' ').capitalize()} – {parts[-2].capitalize()}"


def build_world(config: DemoConfig) -> World:
    """Everything that is the same for every chunk of the run."""
    campaigns = campaign_calendar(config)
    urls = _url_vocab()
    url_codes = {u: i for i, u in enumerate(urls.values)}

    links = Vocab()
    link_url: list[int] = []
    n_topics = len(catalog.TOPICS)
    link_offset, link_count = np.zeros(n_topics, np.int64), np.zeros(n_topics, np.int64)
    for topic in range(n_topics):
        if topic in catalog.INDUSTRIAL:
            paths = [
                u
                for u in urls.values
                if u
                and (
                    u.startswith(f"/products/{catalog.TOPICS[topic]}/")
                    or u in {f"/blog/{b}" for b in catalog.BLOG_POSTS[topic]}
                )
            ]
        elif topic in catalog.OUTDOOR:
            paths = [u for u in urls.values if u and u.startswith(f"/shop/{catalog.TOPICS[topic]}")]
        elif topic == catalog.SERVICE:
            paths = [p for p, _ in catalog.SERVICE_PAGES]
        else:  # delivery
            paths = ["/service/delivery"]
        link_offset[topic], link_count[topic] = (
            links.add(f"topic:{topic}", [catalog.SITE + p for p in paths]),
            len(paths),
        )
        link_url.extend(url_codes[p] for p in paths)

    props, tail = Vocab(), Vocab()
    props.add("subject", [_json(subject=s[lang]) for s in campaigns.subjects for lang in range(3)])
    props.add("agent", [_json(user_agent=a) for a in catalog.MACHINE_AGENTS + catalog.HUMAN_AGENTS])
    props.add("bounce", [_json(reason=r) for group in catalog.BOUNCE_REASONS for r in group])
    props.add("unsubscribe", [_json(reason=r) for r in catalog.UNSUBSCRIBE_REASONS])
    props.add("title", [_json(title=_title(u)) for u in urls.values if u])
    props.add("form", [_json(form_id=f) for f, _ in catalog.FORMS])
    props.add("asset", [_json(asset=a) for group in catalog.ASSETS for a in group])
    props.add("activity", [_json(kind=k, owner=o) for k in catalog.ACTIVITY_KINDS for o in names.OWNERS])
    props.add(
        "item",
        [_json(product_name=p.name, quantity=q) for group in catalog.SHOP_PRODUCTS for p in group for q in (1, 2, 3)],
    )
    props.add("ticket", ['{"ticket_id":"T-' for _ in catalog.TICKET_SEVERITIES])
    tail.add("all", [None] * (len(props.values) - len(catalog.TICKET_SEVERITIES)))
    tail.add("ticket", [f'","severity":"{s}"}}' for s in catalog.TICKET_SEVERITIES])

    queries = Vocab()
    query_offset, query_count = np.zeros(n_topics, np.int64), np.zeros(n_topics, np.int64)
    for topic, terms in enumerate(catalog.SEARCHES):
        query_offset[topic], query_count[topic] = queries.add(f"topic:{topic}", list(terms)), len(terms)

    utm = Vocab()
    utm.add("campaigns", list(campaigns.ids))
    paid = sorted({t[3] for t in catalog.TRAFFIC if t[3]})
    utm.add("paid", list(paid))
    traffic_utm = np.array([len(campaigns) + paid.index(t[3]) if t[3] else -1 for t in catalog.TRAFFIC] + [-1])

    traffic = (*catalog.TRAFFIC, (None, "newsletter", "email", None))
    world = World(
        config,
        campaigns,
        urls,
        links,
        np.array(link_url, np.int64),
        link_offset,
        link_count,
        props,
        tail,
        queries,
        query_offset,
        query_count,
        utm,
        traffic_utm,
    )
    world.arrays = {
        "event": pa.array(EVENT_NAMES),
        "campaign_id": pa.array(campaigns.ids, pa.string()),
        "url": urls.array(),
        "link_url": links.array(),
        "referrer": pa.array([t[0] for t in traffic], pa.string()),
        "utm_source": pa.array([t[1] for t in traffic], pa.string()),
        "utm_medium": pa.array([t[2] for t in traffic], pa.string()),
        "utm_campaign": utm.array(),
        "topic": pa.array(catalog.TOPICS),
        "bounce_type": pa.array(["hard", "soft"]),
        "currency": pa.array(["EUR"]),
        "product_id": pa.array([p.sku for group in catalog.SHOP_PRODUCTS for p in group]),
        "query": queries.array(),
        "properties": props.array(),
        "properties_tail": tail.array(),
    }
    return world
