"""Who each contact is: the hidden profile every table and event of a chunk is drawn from.

A profile is a set of numpy arrays, one element per contact of the chunk:
the contact's relationship (customer, former customer, prospect, subscriber,
partner, web-shop consumer), company, language, role, interests, how active
they are and until when (engagement tier), and which consents they gave.
Contacts, deals, consents and events are all derived from it, so they agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segmint.demo import catalog, names
from segmint.demo.companies import CompanyBlock, company_block
from segmint.demo.config import CHUNK_CONTACTS, DAY, HISTORY_DAYS, NEVER, DemoConfig, Stream, pick, pick_rows

KINDS = ("customer", "former_customer", "prospect", "subscriber", "partner", "consumer")
CUSTOMER, FORMER, PROSPECT, SUBSCRIBER, PARTNER, CONSUMER = range(6)
#: Prospect sub-stages (the lifecycle a prospect has reached).
LEAD, MQL, SQL, OPPORTUNITY = range(4)
#: Engagement tiers: engaged until the end, until 1-3 months ago, longer ago, never.
TIERS = ("active", "lapsing", "dormant", "never")
ACTIVE, LAPSING, DORMANT, NEVER_ENGAGED = range(4)

CONSUMER_SHARE = 0.07
B2B_KIND_WEIGHTS = (0.20, 0.13, 0.27, 0.40)  # customer, former, prospect, subscriber
TIER_WEIGHTS = np.array(
    [
        (0.56, 0.16, 0.23, 0.05),  # customer
        (0.05, 0.07, 0.62, 0.26),  # former customer
        (0.38, 0.18, 0.30, 0.14),  # prospect
        (0.17, 0.12, 0.41, 0.30),  # subscriber
        (0.70, 0.15, 0.15, 0.00),  # partner
        (0.30, 0.15, 0.40, 0.15),  # consumer
    ]
)
OPEN_MEAN = np.array([0.24, 0.10, 0.20, 0.11, 0.32, 0.18])
CLICK_MEAN = np.array([0.14, 0.07, 0.17, 0.08, 0.18, 0.15])
NEWSLETTER_CONSENT = np.array([0.90, 0.85, 0.80, 0.97, 0.95, 0.0])
MARKETING_CONSENT = np.array([0.85, 0.75, 0.72, 0.60, 1.00, 0.88])
MACHINE_OPEN_SHARE = 0.18  # Apple Mail Privacy Protection and corporate scanners

_REGION_WEIGHTS = np.array([r.weight for r in names.REGIONS])
_CONSUMER_REGION_WEIGHTS = np.array([r.weight if r.country in (names.FI, names.SE) else 0.0 for r in names.REGIONS])
_REGION_COUNTRY = np.array([r.country for r in names.REGIONS])
_REGION_SV = np.array([r.swedish_share for r in names.REGIONS])
_REGION_CITIES = np.array([len(r.cities) for r in names.REGIONS])
_INDUSTRY_TOPIC = np.array([i[3] for i in catalog.INDUSTRIES])
_ROLE_WEIGHTS = np.array(catalog.ROLE_WEIGHTS)


@dataclass
class Profile:
    """The hidden profile of one chunk of contacts (arrays indexed by the contact's position in the chunk)."""

    first: int
    kind: np.ndarray
    stage: np.ndarray  # prospect sub-stage, -1 for others
    company: np.ndarray  # position in the chunk's company block, -1 for consumers
    lang: np.ndarray
    country: np.ndarray
    region: np.ndarray
    city: np.ndarray  # position in the region's city list
    role: np.ndarray  # -1 for consumers
    interest1: np.ndarray
    interest2: np.ndarray  # -1 when none
    shop: np.ndarray  # buys in the web shop
    shop_cat: np.ndarray  # favourite outdoor category (a topic)
    created: np.ndarray
    tier: np.ndarray
    engaged_until: np.ndarray
    activity: np.ndarray
    open_p: np.ndarray
    click_p: np.ndarray
    mpp: np.ndarray  # opens come from a privacy proxy or scanner
    consent_newsletter: np.ndarray
    consent_marketing: np.ndarray
    consent_sms: np.ndarray
    consent_phone: np.ndarray
    owner: np.ndarray  # -1 when none
    hot: np.ndarray  # visited the pricing page repeatedly in the last ten days
    source: np.ndarray
    companies: CompanyBlock

    @property
    def n(self) -> int:
        """Number of contacts in the chunk."""
        return len(self.kind)

    @property
    def chunk(self) -> int:
        """The chunk's number."""
        return self.first // CHUNK_CONTACTS

    @property
    def b2b(self) -> np.ndarray:
        """Contacts who work for a company."""
        return self.company >= 0

    def ids(self) -> list[str]:
        """The contacts' ids as a CRM would show them."""
        return [f"C{100001 + self.first + i}" for i in range(self.n)]


def profile(config: DemoConfig, chunk: int) -> Profile:
    """The profile of contact chunk ``chunk``, the same every time for the same configuration."""
    rng = config.rng(Stream.PROFILE, chunk)
    block = company_block(config, chunk)
    first, n = config.chunk_contacts(chunk)
    end, start = config.end_us, config.start_us

    consumer = rng.random(n) < CONSUMER_SHARE
    n_b2b = int((~consumer).sum())
    company = np.full(n, -1, dtype=np.int64)
    if n_b2b:
        weights = block.employees.astype(np.float64) ** 0.6
        every = np.arange(min(block.n, n_b2b))  # each company gets a contact when there are enough
        rest = pick(rng, weights, n_b2b - len(every))
        company[~consumer] = rng.permutation(np.concatenate([every, rest]))
    b2b = company >= 0
    cidx = np.where(b2b, company, 0)

    kind = np.where(consumer, CONSUMER, pick(rng, B2B_KIND_WEIGHTS, n))
    kind = np.where(b2b & block.partner[cidx], PARTNER, kind)
    stage = np.where(kind == PROSPECT, pick(rng, (0.40, 0.25, 0.15, 0.20), n), -1)

    region = np.where(b2b, block.region[cidx], pick(rng, _CONSUMER_REGION_WEIGHTS, n))
    country = _REGION_COUNTRY[region]
    city = (rng.random(n) * _REGION_CITIES[region]).astype(np.int64)
    u = rng.random(n)
    lang = np.where(
        country == names.SE,
        np.where(u < 0.97, catalog.SV, catalog.EN),
        np.where(
            country != names.FI,
            catalog.EN,
            np.where(u < 0.06, catalog.EN, np.where(u < 0.06 + 0.94 * _REGION_SV[region], catalog.SV, catalog.FIN)),
        ),
    )
    role = np.where(b2b, pick_rows(rng, _ROLE_WEIGHTS, block.size_class[cidx]), -1)

    industrial = np.array(catalog.INDUSTRIAL)
    own = _INDUSTRY_TOPIC[block.industry[cidx]]
    i1 = np.where(rng.random(n) < 0.55, own, industrial[rng.integers(0, 3, n)])
    i2 = (i1 + rng.integers(1, 3, n)) % 3
    i2 = np.where(rng.random(n) < 0.35, i2, -1)
    shop_cat = catalog.FISHING + rng.integers(0, 3, n)
    other_cat = catalog.FISHING + (shop_cat - catalog.FISHING + rng.integers(1, 3, n)) % 3
    interest1 = np.where(consumer, shop_cat, i1)
    interest2 = np.where(consumer, np.where(rng.random(n) < 0.3, other_cat, -1), i2)
    shop = consumer | (rng.random(n) < 0.04)

    # created: many B2B contacts predate the history window; former customers always do
    history = HISTORY_DAYS * DAY
    before = start - (rng.random(n) * 5 * 365 * DAY).astype(np.int64)
    within = start + (np.sqrt(rng.random(n)) * (history - 3 * DAY)).astype(np.int64)
    p_before = np.array([0.7, 1.0, 0.35, 0.55, 0.75, 0.0])[kind]
    created = np.where(rng.random(n) < p_before, before, within)
    created = np.where(b2b, np.maximum(created, block.created[cidx] + DAY), created)
    created = np.minimum(created, end - 3 * DAY)
    created -= created % 1_000_000

    tier = pick_rows(rng, TIER_WEIGHTS, kind)
    hot = (kind == PROSPECT) & (stage >= SQL) & (rng.random(n) < 0.3)
    tier = np.where(hot, ACTIVE, tier)
    # the end of a contact's engagement, mostly some time after they were created
    lapse = end - (rng.uniform(30, 90, n) * DAY).astype(np.int64)
    lapse = np.minimum(np.maximum(lapse, created + (rng.uniform(10, 60, n) * DAY).astype(np.int64)), end - 31 * DAY)
    dormant = end - (rng.uniform(90, 800, n) * DAY).astype(np.int64)
    dormant = np.minimum(
        np.maximum(dormant, created + (rng.uniform(20, 150, n) * DAY).astype(np.int64)), end - 91 * DAY
    )
    engaged_until = np.select([tier == ACTIVE, tier == LAPSING, tier == DORMANT], [end, lapse, dormant], NEVER)

    activity = np.exp(rng.normal(-0.5, 1.0, n)) * np.where(rng.random(n) < 0.015, 6.0, 1.0)
    activity *= np.where(kind == PARTNER, 1.5, 1.0)
    open_p = np.clip(OPEN_MEAN[kind] * np.exp(rng.normal(0.0, 0.5, n)), 0.02, 0.9)
    open_p = np.where(tier == NEVER_ENGAGED, 0.0, open_p)
    click_p = np.clip(CLICK_MEAN[kind] * np.exp(rng.normal(0.0, 0.5, n)), 0.02, 0.8)
    mpp = rng.random(n) < MACHINE_OPEN_SHARE

    consent_newsletter = rng.random(n) < NEWSLETTER_CONSENT[kind]
    consent_marketing = rng.random(n) < MARKETING_CONSENT[kind]
    consent_sms = consumer & (rng.random(n) < 0.35)
    consent_phone = b2b & (rng.random(n) < 0.25)
    owner = np.where(b2b & (rng.random(n) < 0.9), block.owner[cidx], -1)
    owner = np.where(kind == PARTNER, block.owner[cidx], owner)

    source = np.where(consumer, pick(rng, catalog.SOURCE_WEIGHTS_SHOP, n), pick(rng, catalog.SOURCE_WEIGHTS_B2B, n))
    source = np.where(b2b & (created < start) & (rng.random(n) < 0.5), catalog.SOURCES.index("import"), source)
    source = np.where(rng.random(n) < 0.05, -1, source)

    return Profile(
        first=first,
        kind=kind,
        stage=stage,
        company=company,
        lang=lang,
        country=country,
        region=region,
        city=city,
        role=role,
        interest1=interest1,
        interest2=interest2,
        shop=shop,
        shop_cat=shop_cat,
        created=created,
        tier=tier,
        engaged_until=engaged_until,
        activity=activity,
        open_p=open_p,
        click_p=click_p,
        mpp=mpp,
        consent_newsletter=consent_newsletter,
        consent_marketing=consent_marketing,
        consent_sms=consent_sms,
        consent_phone=consent_phone,
        owner=owner,
        hot=hot,
        source=source,
        companies=block,
    )
