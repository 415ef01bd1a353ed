"""Email: who gets which campaign, who unsubscribes or bounces, and the events that follow.

The *plan* is decided per chunk on a contacts × campaigns matrix: a campaign
reaches a contact who is in its audience, exists by then, has the consent it
needs, and has neither unsubscribed nor hard-bounced before.  Consents use
the same plan, so every revocation matches an unsubscribe (or spam report).

Events follow the plan: sent, then delivered or bounced (hard, soft, and a
few contacts whose mailbox soft-bounces four or more times in a row), opens
(people's opens while the contact is engaged, and privacy-proxy opens that
come seconds after delivery whatever the contact's interest, the false
positive of open-based segments), clicks on a topic's link followed by the
page view it leads to, unsubscribes and rare spam reports.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segmint.demo import catalog
from segmint.demo.config import DAY, FOREVER, HOUR, MINUTE, SECOND, DemoConfig, Stream, pick
from segmint.demo.frame import EventParts
from segmint.demo.profile import CUSTOMER, FORMER, PARTNER, PROSPECT, Profile
from segmint.demo.world import (
    BOUNCE,
    CLICK,
    DELIVERED,
    OPEN,
    PAGE_VIEW,
    SENT,
    SPAM,
    UNSUBSCRIBE,
    CampaignKind,
    World,
)

UNSUBSCRIBE_SHARE = 0.08
SPAM_SHARE_OF_UNSUBSCRIBES = 0.08
HARD_BOUNCE_SHARE = 0.03
SOFT_STREAK_SHARE = 0.012
SOFT_BOUNCE_RATE = 0.012
NO_BOUNCE, HARD, SOFT = -1, 0, 1  # codes into the bounce_type vocabulary


@dataclass
class EmailPlan:
    """Which campaign each contact of the chunk gets, and how that ends."""

    sends: np.ndarray  # contacts x campaigns, bool
    bounce: np.ndarray  # contacts x campaigns: NO_BOUNCE, HARD or SOFT
    send_offset: np.ndarray  # per contact: delay after the campaign's start
    unsubscribed: np.ndarray  # campaign index of the unsubscribe (or spam report), -1 none
    unsubscribed_at: np.ndarray  # when, FOREVER when never
    spam: np.ndarray  # unsubscribed by reporting spam
    hard_bounced: np.ndarray  # campaign index of the hard bounce, -1 none


def audience(world: World, prof: Profile) -> np.ndarray:
    """Contacts x campaigns: in the campaign's audience, existing and with the consent it needs."""
    c = world.campaigns
    kind, topic = c.kind[None, :], c.topic[None, :]
    b2b = prof.b2b[:, None]
    marketing = prof.consent_marketing[:, None]
    interested = (prof.interest1[:, None] == topic) | (prof.interest2[:, None] == topic)
    conditions = [
        (kind == CampaignKind.NEWSLETTER) & b2b & prof.consent_newsletter[:, None],
        (kind == CampaignKind.TOPIC) & b2b & marketing & interested,
        (kind == CampaignKind.WEBINAR) & b2b & marketing & (prof.kind[:, None] != FORMER),
        (kind == CampaignKind.PARTNER) & (prof.kind[:, None] == PARTNER),
        (kind == CampaignKind.WINBACK) & marketing & (prof.kind[:, None] == FORMER),
        (kind == CampaignKind.SHOP) & prof.shop[:, None] & marketing,
        (kind == CampaignKind.FAIR) & b2b & marketing & (prof.country[:, None] == 0),
        (kind == CampaignKind.PRODUCT_NEWS)
        & b2b
        & marketing
        & np.isin(prof.kind, (CUSTOMER, PARTNER, PROSPECT))[:, None],
    ]
    member = np.logical_or.reduce(conditions)
    return member & (c.ts[None, :] > prof.created[:, None])


def _at_rank(mask: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Per row, the column of the ``rank``-th (1-based) true element of ``mask``; -1 when rank is 0."""
    pos = np.cumsum(mask, axis=1)
    hit = mask & (pos == rank[:, None])
    return np.where(rank > 0, hit.argmax(axis=1), -1)


def plan_emails(config: DemoConfig, world: World, prof: Profile) -> EmailPlan:
    """The chunk's email plan, the same every time for the same configuration."""
    rng = config.rng(Stream.EMAIL_PLAN, prof.chunk)
    n, k = prof.n, len(world.campaigns)
    eligible = audience(world, prof)
    total = eligible.sum(axis=1)
    cols = np.arange(k)[None, :]

    def some(share: float | np.ndarray) -> np.ndarray:
        chosen = (rng.random(n) < share) & (total > 0)
        return np.where(chosen, 1 + (rng.random(n) * total).astype(np.int64), 0)

    unsub_share = np.where(prof.kind == PARTNER, 0.01, UNSUBSCRIBE_SHARE)
    unsub = _at_rank(eligible, some(unsub_share))
    hard = _at_rank(eligible, some(HARD_BOUNCE_SHARE))
    unsub = np.where((hard >= 0) & (hard <= unsub), -1, unsub)  # nothing to unsubscribe from after a hard bounce
    hard = np.where((unsub >= 0) & (unsub < hard), -1, hard)  # nothing bounces after an unsubscribe
    last = np.minimum(np.where(unsub >= 0, unsub, k), np.where(hard >= 0, hard, k))
    sends = eligible & (cols <= last[:, None])

    bounce = np.full((n, k), NO_BOUNCE, np.int8)
    bounce[(rng.random((n, k)) < SOFT_BOUNCE_RATE) & sends] = SOFT
    pos = np.cumsum(sends, axis=1)
    count = pos[:, -1] if k else np.zeros(n, np.int64)
    streak = (rng.random(n) < SOFT_STREAK_SHARE) & (count >= 6)
    begin = 1 + (rng.random(n) * np.maximum(count - 5, 1)).astype(np.int64)
    length = rng.integers(4, 8, n)
    in_streak = sends & streak[:, None] & (pos >= begin[:, None]) & (pos < (begin + length)[:, None])
    bounce[in_streak] = SOFT
    has_unsub = unsub >= 0
    bounce[np.flatnonzero(has_unsub), unsub[has_unsub]] = NO_BOUNCE  # the unsubscribed email arrived
    has_hard = hard >= 0
    bounce[np.flatnonzero(has_hard), hard[has_hard]] = HARD

    send_offset = (rng.random(n) * 40 * MINUTE).astype(np.int64)
    spam = (unsub >= 0) & (rng.random(n) < SPAM_SHARE_OF_UNSUBSCRIBES)
    delay = np.minimum(rng.lognormal(np.log(3 * HOUR), 1.2, n), 1.5 * DAY).astype(np.int64)
    safe = np.maximum(unsub, 0)
    unsubscribed_at = np.where(unsub >= 0, world.campaigns.ts[safe] + send_offset + 5 * MINUTE + delay, FOREVER)
    unsubscribed_at -= unsubscribed_at % SECOND
    return EmailPlan(sends, bounce, send_offset, unsub, unsubscribed_at, spam, hard)


def email_events(config: DemoConfig, world: World, prof: Profile, plan: EmailPlan, parts: EventParts) -> None:
    """Add the chunk's email events (and the page views of email clicks) to ``parts``."""
    rng = config.rng(Stream.EMAIL_EVENTS, prof.chunk)
    camp = world.campaigns
    ci, ki = np.nonzero(plan.sends)
    m = len(ci)
    subject = world.props.offsets["subject"] + ki * 3 + prof.lang[ci]
    sent_ts = camp.ts[ki] + plan.send_offset[ci] + rng.integers(0, 90, m) * SECOND
    parts.add(SENT, ci, sent_ts, campaign=ki, props=subject)

    bounce = plan.bounce[ci, ki].astype(np.int64)
    bounced = bounce >= 0
    hard_reasons, soft_reasons = (len(g) for g in catalog.BOUNCE_REASONS)
    reason = np.where(bounce == HARD, rng.integers(0, hard_reasons, m), hard_reasons + rng.integers(0, soft_reasons, m))
    parts.add(
        BOUNCE,
        ci[bounced],
        sent_ts[bounced] + rng.integers(5, 900, int(bounced.sum())) * SECOND,
        campaign=ki[bounced],
        bounce=bounce[bounced],
        props=world.props.offsets["bounce"] + reason[bounced],
    )

    ok = ~bounced
    ci, ki, subject = ci[ok], ki[ok], subject[ok]
    d_ts = sent_ts[ok] + rng.integers(1, 30, len(ci)) * SECOND
    parts.add(DELIVERED, ci, d_ts, campaign=ki, props=subject)
    m = len(ci)

    # machine opens: privacy proxies fetch every image seconds after delivery, engaged or not
    agents = world.props.offsets["agent"]
    machine = prof.mpp[ci] & (rng.random(m) < 0.93)
    mi = np.flatnonzero(machine)
    parts.add(
        OPEN,
        ci[mi],
        d_ts[mi] + rng.integers(2, 600, len(mi)) * SECOND,
        campaign=ki[mi],
        machine=1,
        props=agents + pick(rng, catalog.MACHINE_AGENT_WEIGHTS, len(mi)),
    )

    # people's opens: only while engaged, more when the campaign's topic is theirs
    topic = camp.topic[ki]
    mine = (topic == prof.interest1[ci]) | ((topic == prof.interest2[ci]) & (topic >= 0))
    relevance = np.where(topic < 0, 1.0, np.where(mine, 1.6, 0.6))
    engaged = d_ts < prof.engaged_until[ci]
    human = engaged & (rng.random(m) < np.minimum(prof.open_p[ci] * relevance, 0.95))
    hi = np.flatnonzero(human)
    delay = np.minimum(rng.lognormal(np.log(2 * HOUR), 1.5, len(hi)), 10 * DAY).astype(np.int64)
    o_ts = d_ts[hi] + 60 * SECOND + delay
    n_agents = len(catalog.MACHINE_AGENTS)
    agent = agents + n_agents + pick(rng, catalog.HUMAN_AGENT_WEIGHTS, len(hi))
    parts.add(OPEN, ci[hi], o_ts, campaign=ki[hi], machine=0, props=agent)
    again = rng.random(len(hi)) < 0.25
    parts.add(
        OPEN,
        ci[hi][again],
        o_ts[again] + rng.exponential(DAY, int(again.sum())).astype(np.int64),
        campaign=ki[hi][again],
        machine=0,
        props=agent[again],
    )

    # clicks, on the campaign's topic or (newsletters) mostly the contact's own interest
    clicked = rng.random(len(hi)) < np.minimum(prof.click_p[ci[hi]] * relevance[hi], 0.9)
    cc, ck, c_ts = ci[hi][clicked], ki[hi][clicked], o_ts[clicked] + rng.integers(5, 300, int(clicked.sum())) * SECOND
    n_click = len(cc)
    own = np.where((prof.interest2[cc] >= 0) & (rng.random(n_click) < 0.25), prof.interest2[cc], prof.interest1[cc])
    other = np.where(rng.random(n_click) < 0.75, rng.integers(0, 3, n_click), catalog.SERVICE)  # industrial or service
    news_topic = np.where(rng.random(n_click) < 0.7, own, other)
    news_topic = np.where(prof.b2b[cc], news_topic, own)
    click_topic = np.where(
        camp.topic[ck] >= 0,
        camp.topic[ck],
        np.where(camp.kind[ck] == CampaignKind.WINBACK, catalog.SERVICE, news_topic),
    )
    link = world.link_offset[click_topic] + (rng.random(n_click) * world.link_count[click_topic]).astype(np.int64)
    parts.add(CLICK, cc, c_ts, campaign=ck, link=link, topic=click_topic)
    landing = world.link_url[link]
    parts.add(
        PAGE_VIEW,
        cc,
        c_ts + rng.integers(1, 8, n_click) * SECOND,
        url=landing,
        traffic=world.email_traffic,
        utm_campaign=ck,
        props=world.props.offsets["title"] + landing,
    )

    # unsubscribes and spam reports, as planned
    who = np.flatnonzero(plan.unsubscribed >= 0)
    spam = plan.spam[who]
    reason = world.props.offsets["unsubscribe"] + pick(rng, (0.45, 0.30, 0.10, 0.15), len(who))
    parts.add(
        UNSUBSCRIBE,
        who[~spam],
        plan.unsubscribed_at[who[~spam]],
        campaign=plan.unsubscribed[who[~spam]],
        props=reason[~spam],
    )
    parts.add(SPAM, who[spam], plan.unsubscribed_at[who[spam]], campaign=plan.unsubscribed[who[spam]])
