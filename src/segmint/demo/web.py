"""The web site and the web shop: sessions of page views, forms, downloads, searches, carts and purchases.

Each contact has sessions while engaged (a Poisson number, scaled by how
active the contact is), on weekdays in office hours for B2B visitors.  A
session is industrial (product pages of the contact's interests, blog,
pricing, service) or, for shop customers, a shop visit that may add to the
cart and end in a purchase (or an abandoned cart).  The landing page carries
the traffic source (Google, paid search, LinkedIn, ...).  Hot prospects look
at the pricing page several times in the last ten days.
"""

from __future__ import annotations

import numpy as np

from segmint.demo import catalog
from segmint.demo.config import DAY, HOUR, MINUTE, SECOND, DemoConfig, Stream, office_hours, pick, pick_rows
from segmint.demo.frame import EventParts
from segmint.demo.profile import CONSUMER, NEVER_ENGAGED, PROSPECT, SUBSCRIBER, Profile
from segmint.demo.world import CART, DOWNLOAD, FORM, PAGE_VIEW, PURCHASE, SEARCH, World

SESSIONS_PER_MONTH = np.array([1.10, 0.50, 1.20, 0.40, 1.60, 1.40])  # by contact kind
SHOP_SESSION_SHARE = 0.25  # of a B2B shop customer's sessions
#: Industrial page classes: home, product (own interest), product (other), blog, pricing, service, company,
#: resources; weights by contact kind.
PAGE_WEIGHTS = np.array(
    [
        (0.12, 0.28, 0.08, 0.08, 0.05, 0.20, 0.10, 0.09),
        (0.20, 0.22, 0.08, 0.12, 0.06, 0.15, 0.12, 0.05),
        (0.14, 0.30, 0.08, 0.14, 0.10, 0.04, 0.10, 0.10),
        (0.18, 0.22, 0.08, 0.22, 0.04, 0.04, 0.12, 0.10),
        (0.08, 0.34, 0.14, 0.06, 0.12, 0.08, 0.10, 0.08),
        (0.30, 0.10, 0.05, 0.20, 0.05, 0.05, 0.20, 0.05),
    ]
)
#: Shop page classes: shop home, category, product (session's category), product (other), cart.
SHOP_FIRST_PAGE = (0.30, 0.50, 0.20, 0.0, 0.0)
SHOP_NEXT_PAGE = (0.05, 0.15, 0.60, 0.10, 0.10)
FORM_SHARE = np.array([0.03, 0.02, 0.08, 0.02, 0.04, 0.005])
DOWNLOAD_SHARE = np.array([0.05, 0.03, 0.09, 0.06, 0.08, 0.01])
SEARCH_SHARE = 0.12
CART_SHARE = 0.40
CHECKOUT_SHARE = 0.50
RECENT_CART_SHARE = 0.05  # of active shoppers: a cart in the demo's last day, not bought


def _group_offsets(sizes: np.ndarray, rng: np.random.Generator, mean_gap: float) -> np.ndarray:
    """Within each group of ``sizes`` consecutive elements: 0 for the first, then growing random gaps."""
    total = int(sizes.sum())
    gaps = rng.exponential(mean_gap, total).astype(np.int64) + 5 * SECOND
    run = np.cumsum(gaps)
    starts = np.cumsum(sizes) - sizes
    return run - np.repeat(run[starts], sizes)


def _topic_for(rng: np.random.Generator, prof: Profile, contact: np.ndarray) -> np.ndarray:
    """An industrial topic per element: mostly the contact's first interest, sometimes the second or any."""
    u = rng.random(len(contact))
    i1, i2 = prof.interest1[contact], prof.interest2[contact]
    i1 = np.where(i1 < 3, i1, rng.integers(0, 3, len(contact)))
    topic = np.where((u > 0.7) & (i2 >= 0) & (i2 < 3), i2, i1)
    return np.where(u > 0.92, rng.integers(0, 3, len(contact)), topic)


def web_events(config: DemoConfig, world: World, prof: Profile, parts: EventParts) -> None:
    """Add the chunk's web events to ``parts``."""
    rng = config.rng(Stream.WEB, prof.chunk)
    n = prof.n
    lo = np.maximum(prof.created, config.start_us)
    hi = np.minimum(prof.engaged_until, config.end_us)
    span = np.maximum(hi - lo, 0)
    sessions = rng.poisson(span / (30 * DAY) * SESSIONS_PER_MONTH[prof.kind] * prof.activity)
    sc = np.repeat(np.arange(n), sessions)
    s_ts = lo[sc] + (rng.random(len(sc)) * span[sc]).astype(np.int64)
    shop = prof.shop[sc] & ((prof.kind[sc] == CONSUMER) | (rng.random(len(sc)) < SHOP_SESSION_SHARE))
    s_ts = office_hours(s_ts, rng, ~shop)
    chronological = np.lexsort((s_ts, sc))
    sc, s_ts, shop = sc[chronological], s_ts[chronological], shop[chronological]
    _signups(config, world, prof, parts, rng)
    _hot_prospects(config, world, prof, parts, rng)
    _recent_carts(config, world, prof, parts)

    n_s = len(sc)
    pages = np.minimum(rng.geometric(0.42, n_s), 12)
    traffic = np.where(shop, pick(rng, catalog.TRAFFIC_WEIGHTS_SHOP, n_s), pick(rng, catalog.TRAFFIC_WEIGHTS_B2B, n_s))
    category = np.where(rng.random(n_s) < 0.75, prof.shop_cat[sc], catalog.FISHING + rng.integers(0, 3, n_s))

    ps = np.repeat(np.arange(n_s), pages)  # session of each page
    pc = sc[ps]
    p_ts = s_ts[ps] + _group_offsets(pages, rng, 70 * SECOND)
    landing = np.zeros(len(ps), dtype=bool)
    landing[np.cumsum(pages) - pages] = True
    url = _industrial_pages(world, prof, rng, pc)
    shop_page = shop[ps]
    url[shop_page] = _shop_pages(world, rng, category[ps][shop_page], landing[shop_page])
    parts.add(
        PAGE_VIEW,
        pc,
        p_ts,
        url=url,
        traffic=np.where(landing, traffic[ps], -1),
        utm_campaign=np.where(landing, world.traffic_utm_campaign[traffic[ps]], -1),
        props=world.props.offsets["title"] + url,
    )

    s_end = p_ts[np.cumsum(pages) - 1]  # time of each session's last page
    kind = prof.kind[sc]
    industrial = ~shop
    # forms: the form's page, then the submission
    form = industrial & (rng.random(n_s) < FORM_SHARE[kind])
    fi = np.flatnonzero(form)
    _form(world, parts, rng, sc[fi], s_end[fi] + 20 * SECOND, pick(rng, catalog.FORM_WEIGHTS, len(fi)))
    # downloads of the contact's topics
    dl = np.flatnonzero(industrial & (rng.random(n_s) < DOWNLOAD_SHARE[kind]))
    topic = _topic_for(rng, prof, sc[dl])
    asset = topic * 3 + rng.integers(0, 3, len(dl))
    parts.add(
        DOWNLOAD,
        sc[dl],
        s_end[dl] + rng.integers(10, 120, len(dl)) * SECOND,
        topic=topic,
        props=world.props.offsets["asset"] + asset,
    )
    # site search
    se = np.flatnonzero(rng.random(n_s) < SEARCH_SHARE)
    q_topic = np.where(shop[se], category[se], _topic_for(rng, prof, sc[se]))
    query = world.query_offset[q_topic] + (rng.random(len(se)) * world.query_count[q_topic]).astype(np.int64)
    parts.add(SEARCH, sc[se], s_ts[se] + rng.integers(10, 60, len(se)) * SECOND, query=query)
    _shop(world, parts, rng, sc[shop], s_end[shop], category[shop])


def _industrial_pages(world: World, prof: Profile, rng: np.random.Generator, contact: np.ndarray) -> np.ndarray:
    off = world.urls.offsets
    cls = pick_rows(rng, PAGE_WEIGHTS, prof.kind[contact])
    topic = _topic_for(rng, prof, contact)
    other = (topic + rng.integers(1, 3, len(contact))) % 3
    n_lines, n_posts = len(catalog.PRODUCT_LINES[0]), len(catalog.BLOG_POSTS[0])
    u = rng.random(len(contact))
    product = np.array([off[f"product:{t}"] for t in range(3)])
    blog = np.array([off[f"blog:{t}"] for t in range(3)])
    return np.select(
        [cls == 0, cls == 1, cls == 2, cls == 3, cls == 4, cls == 5, cls == 6],
        [
            off["home"],
            product[topic] + (u * n_lines).astype(np.int64),
            product[other] + (u * n_lines).astype(np.int64),
            blog[topic] + (u * n_posts).astype(np.int64),
            off["pricing"],
            off["service"] + (u * len(catalog.SERVICE_PAGES)).astype(np.int64),
            off["company"] + (u * len(catalog.COMPANY_PAGES)).astype(np.int64),
        ],
        off["resources"] + (u * len(catalog.RESOURCE_PAGES)).astype(np.int64),
    )


def _shop_pages(world: World, rng: np.random.Generator, category: np.ndarray, landing: np.ndarray) -> np.ndarray:
    off = world.urls.offsets
    cls = np.where(landing, pick(rng, SHOP_FIRST_PAGE, len(category)), pick(rng, SHOP_NEXT_PAGE, len(category)))
    c = category - catalog.FISHING
    other = (c + rng.integers(1, 3, len(c))) % 3
    cat_page = np.array([off[f"shopcat:{i}"] for i in range(3)])
    prod_page = np.array([off[f"shopprod:{i}"] for i in range(3)])
    n_products = len(catalog.SHOP_PRODUCTS[0])
    u = (rng.random(len(c)) * n_products).astype(np.int64)
    return np.select(
        [cls == 0, cls == 1, cls == 2, cls == 3],
        [off["shop"], cat_page[c], prod_page[c] + u, prod_page[other] + u],
        off["shopcart"],
    )


def _form(
    world: World, parts: EventParts, rng: np.random.Generator, contact: np.ndarray, ts: np.ndarray, form: np.ndarray
) -> None:
    url_codes = {u: i for i, u in enumerate(world.urls.values)}
    form_url = np.array([url_codes[u] for _, u in catalog.FORMS])[form]
    parts.add(PAGE_VIEW, contact, ts, url=form_url, props=world.props.offsets["title"] + form_url)
    parts.add(
        FORM,
        contact,
        ts + rng.integers(40, 240, len(contact)) * SECOND,
        url=form_url,
        props=world.props.offsets["form"] + form,
    )


def _signups(config: DemoConfig, world: World, prof: Profile, parts: EventParts, rng: np.random.Generator) -> None:
    """Contacts who came through the web site signed up with a form when they were created."""
    web_sources = [catalog.SOURCES.index(s) for s in ("organic_search", "paid_search", "social", "direct")]
    who = np.flatnonzero(
        np.isin(prof.source, web_sources) & (prof.created >= config.start_us) & prof.b2b & (prof.tier != NEVER_ENGAGED)
    )
    kind = prof.kind[who]
    names = [f for f, _ in catalog.FORMS]
    form = np.where(
        kind == SUBSCRIBER,
        names.index("newsletter_signup"),
        np.where(
            (kind == PROSPECT) & (rng.random(len(who)) < 0.5), names.index("demo_request"), names.index("contact_form")
        ),
    )
    _form(world, parts, rng, who, prof.created[who] - 2 * MINUTE, form)


def _hot_prospects(
    config: DemoConfig, world: World, prof: Profile, parts: EventParts, rng: np.random.Generator
) -> None:
    """Three to five looks at the pricing page in the last ten days."""
    who = np.flatnonzero(prof.hot)
    visits = rng.integers(3, 6, len(who))
    contact = np.repeat(who, visits)
    ts = config.end_us - (rng.random(len(contact)) * 10 * DAY).astype(np.int64)
    ts = office_hours(ts, rng, np.ones(len(ts), dtype=bool))
    ts = np.minimum(ts, config.end_us - MINUTE)
    pricing = world.urls.offsets["pricing"]
    parts.add(PAGE_VIEW, contact, ts, url=pricing, traffic=0, props=world.props.offsets["title"] + pricing)


def _recent_carts(config: DemoConfig, world: World, prof: Profile, parts: EventParts) -> None:
    """A few active shoppers left something in the cart during the last day (the abandoned-cart segment).

    A stream of its own, so the rest of the data is the same as without it.
    """
    rng = config.rng(Stream.RECENT_CARTS, prof.chunk)
    chosen = rng.random(prof.n) < RECENT_CART_SHARE
    who = np.flatnonzero(
        prof.shop & (prof.engaged_until >= config.end_us) & (prof.created < config.end_us - DAY) & chosen
    )
    ts = config.end_us - (rng.random(len(who)) * 20 * HOUR).astype(np.int64) - HOUR
    n_products = len(catalog.SHOP_PRODUCTS[0])
    c = prof.shop_cat[who] - catalog.FISHING
    product = c * n_products + rng.integers(0, n_products, len(who))
    prices = np.array([p.price for group in catalog.SHOP_PRODUCTS for p in group])
    item = world.props.offsets["item"] + product * 3
    parts.add(CART, who, ts, product=product, category=c + catalog.FISHING, price=prices[product], props=item)


def _shop(
    world: World, parts: EventParts, rng: np.random.Generator, contact: np.ndarray, ts: np.ndarray, category: np.ndarray
) -> None:
    """Carts from shop sessions; some end in a purchase, the rest are abandoned."""
    carts = rng.random(len(contact)) < CART_SHARE
    contact, ts, category = (
        contact[carts],
        ts[carts] + rng.integers(20, 120, int(carts.sum())) * SECOND,
        category[carts],
    )
    n = len(contact)
    n_products = len(catalog.SHOP_PRODUCTS[0])
    c = np.where(rng.random(n) < 0.85, category - catalog.FISHING, rng.integers(0, 3, n))
    product = c * n_products + rng.integers(0, n_products, n)
    prices = np.array([p.price for group in catalog.SHOP_PRODUCTS for p in group])
    qty = pick(rng, (0.75, 0.20, 0.05), n) + 1
    item = world.props.offsets["item"] + product * 3 + qty - 1
    parts.add(CART, contact, ts, product=product, category=c + catalog.FISHING, price=prices[product], props=item)
    bought = np.flatnonzero(rng.random(n) < CHECKOUT_SHARE)
    b_contact = contact[bought]
    # the k-th order of each contact (sessions are in time order per contact)
    order = np.argsort(b_contact, kind="stable")
    ranks = np.empty(len(bought), np.int64)
    sorted_c = b_contact[order]
    starts = np.flatnonzero(np.r_[True, sorted_c[1:] != sorted_c[:-1]]) if len(sorted_c) else np.zeros(0, np.int64)
    ranks[order] = np.arange(len(bought)) - np.repeat(starts, np.diff(np.r_[starts, len(sorted_c)]))
    amount = np.round(prices[product[bought]] * qty[bought], 2)
    parts.add(
        PURCHASE,
        b_contact,
        ts[bought] + rng.integers(2, 15, len(bought)) * MINUTE,
        order=ranks + 1,
        amount=amount,
        product=product[bought],
        category=c[bought] + catalog.FISHING,
        props=item[bought],
    )
