"""The CRM side: deals, consents, support tickets and sales activities, all from the chunk's profile.

Customers have won deals in the last year (and sometimes an open or a lost
one); former customers won theirs long ago; prospects at the opportunity
stage have an open deal; partners order often.  Sales reps log calls, emails
and meetings while a deal is open and look after their customers.  Consents
are granted when a contact is created and revoked exactly when the email plan
says the contact unsubscribed or reported spam.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segmint.demo import catalog, names
from segmint.demo.config import DAY, HOUR, DemoConfig, Stream, office_hours, pick
from segmint.demo.emails import EmailPlan
from segmint.demo.frame import TS, EventParts
from segmint.demo.profile import CONSUMER, CUSTOMER, FORMER, OPPORTUNITY, PARTNER, PROSPECT, SQL, SUBSCRIBER, Profile
from segmint.demo.world import ACTIVITY, TICKET, World

MAX_DEALS = 10
YEAR = 365 * DAY

DEAL_SCHEMA = pa.schema(
    [
        ("deal_id", pa.string()),
        ("contact_id", pa.string()),
        ("company_id", pa.string()),
        ("stage", pa.string()),
        ("status", pa.string()),
        ("amount", pa.float64()),
        ("currency", pa.string()),
        ("owner", pa.string()),
        ("created_at", TS),
        ("closed_at", TS),
    ]
)
CONSENT_SCHEMA = pa.schema(
    [
        ("contact_id", pa.string()),
        ("channel", pa.string()),
        ("purpose", pa.string()),
        ("status", pa.string()),
        ("ts", TS),
        ("source", pa.string()),
    ]
)
OPEN, WON, LOST = range(3)
STATUSES = ("open", "won", "lost")


@dataclass
class Deals:
    """The chunk's deals, sorted by contact and creation time."""

    contact: np.ndarray
    status: np.ndarray
    stage: np.ndarray
    amount: np.ndarray
    created: np.ndarray
    closed: np.ndarray  # -1 while open
    owner: np.ndarray
    number: np.ndarray  # the contact's k-th deal


def _clip_between(values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.minimum(np.maximum(values, lo), np.maximum(lo, hi))


def deals(config: DemoConfig, prof: Profile) -> Deals:
    """The chunk's deals, consistent with each contact's relationship."""
    rng = config.rng(Stream.DEALS, prof.chunk)
    n, end, kind = prof.n, config.end_us, prof.kind
    won = np.select(
        [kind == CUSTOMER, kind == FORMER, kind == PARTNER],
        [1 + rng.poisson(0.7, n), 1 + rng.poisson(0.4, n), 1 + rng.poisson(1.5, n)],
        0,
    )
    lost_p = np.select(
        [
            kind == CUSTOMER,
            kind == FORMER,
            kind == PARTNER,
            (kind == PROSPECT) & (prof.stage == SQL),
            (kind == PROSPECT) & (prof.stage == OPPORTUNITY),
            kind == PROSPECT,
            kind == SUBSCRIBER,
        ],
        [0.55, 0.35, 0.4, 0.6, 0.35, 0.08, 0.05],
        0.0,
    )
    open_p = np.select(
        [kind == CUSTOMER, kind == PARTNER, (kind == PROSPECT) & (prof.stage == OPPORTUNITY)], [0.3, 0.4, 1.0], 0.0
    )
    lost = (rng.random(n) < lost_p).astype(np.int64)
    opened = (rng.random(n) < open_p).astype(np.int64)

    # won deals: customers' first one closed within the last year, former customers' all over a year ago
    wc = np.repeat(np.arange(n), won)
    first_won = np.r_[True, wc[1:] != wc[:-1]] if len(wc) else np.zeros(0, bool)
    lo = np.maximum(prof.created[wc], end - 5 * YEAR) + 30 * DAY
    hi = np.where(kind[wc] == FORMER, end - 400 * DAY, end - DAY)
    w_closed = lo + (rng.random(len(wc)) * np.maximum(hi - lo, DAY)).astype(np.int64)
    recent = first_won & (kind[wc] == CUSTOMER)
    w_closed = np.where(recent, end - (rng.uniform(5, 365, len(wc)) * DAY).astype(np.int64), w_closed)
    # lost deals, some time in the last three years
    lc = np.repeat(np.arange(n), lost)
    lo = np.maximum(prof.created[lc], end - 3 * YEAR) + 30 * DAY
    l_closed = lo + (rng.random(len(lc)) * np.maximum(end - DAY - lo, DAY)).astype(np.int64)
    # open deals, created in the last five months
    oc = np.repeat(np.arange(n), opened)
    o_created = np.maximum(end - (rng.uniform(3, 150, len(oc)) * DAY).astype(np.int64), prof.created[oc] + DAY)

    contact = np.concatenate([wc, lc, oc])
    status = np.concatenate([np.full(len(wc), WON), np.full(len(lc), LOST), np.full(len(oc), OPEN)])
    closed = np.concatenate([w_closed, l_closed, np.full(len(oc), -1)])
    closed = np.where(status == OPEN, -1, np.clip(closed, prof.created[contact] + DAY, end - DAY))
    length = rng.lognormal(np.log(45 * DAY), 0.7, len(contact)).astype(np.int64)
    created = np.where(
        status == OPEN, np.concatenate([np.zeros(len(wc) + len(lc), np.int64), o_created]), closed - length
    )
    created = _clip_between(created, prof.created[contact], np.where(status == OPEN, end - DAY, closed))
    weekday = np.ones(len(contact), dtype=bool)
    created = np.minimum(np.maximum(office_hours(created, rng, weekday), prof.created[contact]), end - DAY)
    closed = np.minimum(np.maximum(office_hours(closed, rng, weekday), created + HOUR), end)
    created -= created % 1_000_000
    closed = np.where(status == OPEN, -1, closed - closed % 1_000_000)

    company = np.maximum(prof.company[contact], 0)
    size = prof.companies.employees[company] / 40.0
    amount = rng.lognormal(np.log(9000.0), 0.9, len(contact)) * size**0.3 * np.where(kind[contact] == PARTNER, 1.8, 1.0)
    amount = np.maximum(np.round(amount, -2), 500.0)
    owner = np.where(prof.owner[contact] >= 0, prof.owner[contact], prof.companies.owner[company])
    stage = np.select([status == WON, status == LOST], [3, 4], pick(rng, catalog.OPEN_STAGE_WEIGHTS, len(contact)))

    order = np.lexsort((created, contact))
    contact, status, stage, amount, created, closed, owner = (
        a[order] for a in (contact, status, stage, amount, created, closed, owner)
    )
    starts = np.flatnonzero(np.r_[True, contact[1:] != contact[:-1]]) if len(contact) else np.zeros(0, np.int64)
    number = np.arange(len(contact)) - np.repeat(starts, np.diff(np.r_[starts, len(contact)]))
    keep = number < MAX_DEALS
    return Deals(
        contact[keep], status[keep], stage[keep], amount[keep], created[keep], closed[keep], owner[keep], number[keep]
    )


def deal_table(prof: Profile, d: Deals) -> pa.Table:
    """The deals as rows of DATA.md's deals import columns."""
    n = len(d.contact)
    contact_ids = pa.array(prof.ids()).take(pa.array(d.contact))
    company_ids = pa.array(prof.companies.ids()).take(pa.array(np.maximum(prof.company[d.contact], 0)))
    deal_ids = pc.binary_join_element_wise(
        "D", pc.cast(pa.array(100000 + (prof.first + d.contact) * MAX_DEALS + d.number), pa.string()), ""
    )
    return pa.table(
        [
            deal_ids,
            contact_ids,
            company_ids,
            pa.array(catalog.DEAL_STAGES).take(pa.array(d.stage)),
            pa.array(STATUSES).take(pa.array(d.status)),
            pa.array(d.amount),
            pa.array(["EUR"] * n, pa.string()),
            pa.array(names.OWNERS).take(pa.array(d.owner)),
            pa.array(d.created, TS),
            pa.array(d.closed, TS, mask=d.closed < 0),
        ],
        schema=DEAL_SCHEMA,
    )


def crm_events(config: DemoConfig, world: World, prof: Profile, d: Deals, parts: EventParts) -> None:
    """Add sales activities and support tickets to ``parts``."""
    rng = config.rng(Stream.CRM_EVENTS, prof.chunk)
    end, start = config.end_us, config.start_us
    # sales activity while a deal is worked on
    until = np.where(d.closed >= 0, d.closed, end)
    count = np.clip(rng.poisson((until - d.created) / (18 * DAY)), 1, 15)
    dc = np.repeat(np.arange(len(d.contact)), count)
    ts = d.created[dc] + (rng.random(len(dc)) * (until - d.created)[dc]).astype(np.int64)
    ts = office_hours(ts, rng, np.ones(len(ts), dtype=bool))
    _activity(world, parts, rng, d.contact[dc], ts, d.owner[dc])
    # account care: customers and partners hear from their rep about once a quarter
    cared = np.flatnonzero(((prof.kind == CUSTOMER) | (prof.kind == PARTNER)) & (prof.owner >= 0))
    lo = np.maximum(prof.created[cared], start)
    visits = rng.poisson((end - lo) / (120 * DAY))
    cc = np.repeat(cared, visits)
    ts = np.repeat(lo, visits) + (rng.random(len(cc)) * np.repeat(end - lo, visits)).astype(np.int64)
    ts = office_hours(ts, rng, np.ones(len(ts), dtype=bool))
    _activity(world, parts, rng, cc, ts, prof.owner[cc])

    # support tickets
    rate = np.select(
        [prof.kind == CUSTOMER, prof.kind == PARTNER, prof.kind == FORMER, prof.shop], [0.06, 0.08, 0.03, 0.015], 0.0
    )
    lo = np.maximum(prof.created, start)
    hi = np.where(prof.kind == FORMER, np.minimum(start + 365 * DAY, end), end)
    span = np.maximum(hi - lo, 0)
    tickets = np.minimum(rng.poisson(rate * span / (30 * DAY)), 49)
    tc = np.repeat(np.arange(prof.n), tickets)
    ts = office_hours(lo[tc] + (rng.random(len(tc)) * span[tc]).astype(np.int64), rng, prof.b2b[tc])
    order = np.lexsort((ts, tc))
    tc, ts = tc[order], ts[order]
    starts = np.cumsum(tickets) - tickets
    k = np.arange(len(tc)) - np.repeat(starts, tickets)
    b2b = prof.b2b[tc]
    industrial = np.where(
        rng.random(len(tc)) < 0.8, np.where(prof.interest1[tc] < 3, prof.interest1[tc], 0), catalog.SERVICE
    )
    shop_topic = np.where(rng.random(len(tc)) < 0.6, catalog.DELIVERY, prof.shop_cat[tc])
    severity = pick(rng, catalog.TICKET_SEVERITY_WEIGHTS, len(tc))
    parts.add(
        TICKET,
        tc,
        ts,
        topic=np.where(b2b, industrial, shop_topic),
        props=world.props.offsets["ticket"] + severity,
        props_num=10000 + (prof.first + tc) * 50 + k,
    )


def _activity(
    world: World, parts: EventParts, rng: np.random.Generator, contact: np.ndarray, ts: np.ndarray, owner: np.ndarray
) -> None:
    kind = pick(rng, catalog.ACTIVITY_KIND_WEIGHTS, len(contact))
    parts.add(ACTIVITY, contact, ts, props=world.props.offsets["activity"] + kind * len(names.OWNERS) + owner)


def consent_table(config: DemoConfig, prof: Profile, plan: EmailPlan) -> pa.Table:
    """Consent records: granted when the contact was created, email consents revoked on unsubscribe."""
    rng = config.rng(Stream.CONSENTS, prof.chunk)
    src = prof.source
    by_source = np.select(
        [
            prof.kind == CONSUMER,
            np.isin(src, [0, 1, 2, 4]),
            src == catalog.SOURCES.index("event"),
            src == catalog.SOURCES.index("referral"),
        ],
        [3, 0, 2, 4],
        1,
    )  # index into CONSENT_SOURCES
    channel_purpose = (("email", "newsletter"), ("email", "marketing"), ("sms", "marketing"), ("phone", "marketing"))
    sources = (*catalog.CONSENT_SOURCES, "unsubscribe_link", "spam_complaint", "sms_stop")
    rows_contact, rows_kind, rows_status, rows_ts, rows_source = [], [], [], [], []

    def add(who: np.ndarray, kind: int, status: int, ts: np.ndarray, source: np.ndarray) -> None:
        rows_contact.append(who)
        rows_kind.append(np.full(len(who), kind))
        rows_status.append(np.full(len(who), status))
        rows_ts.append(ts)
        rows_source.append(source)

    unsubscribed = plan.unsubscribed >= 0
    revoke_source = np.where(plan.spam, sources.index("spam_complaint"), sources.index("unsubscribe_link"))
    for kind, given in enumerate((prof.consent_newsletter, prof.consent_marketing)):
        who = np.flatnonzero(given)
        add(who, kind, 0, prof.created[who], by_source[who])
        gone = np.flatnonzero(given & unsubscribed)
        add(gone, kind, 1, plan.unsubscribed_at[gone], revoke_source[gone])
    sms = np.flatnonzero(prof.consent_sms)
    add(sms, 2, 0, prof.created[sms], by_source[sms])
    stop = sms[rng.random(len(sms)) < 0.12]
    stop_ts = prof.created[stop] + (rng.random(len(stop)) * (config.end_us - prof.created[stop])).astype(np.int64)
    add(stop, 2, 1, stop_ts - stop_ts % 1_000_000, np.full(len(stop), sources.index("sms_stop")))
    phone = np.flatnonzero(prof.consent_phone)
    add(phone, 3, 0, prof.created[phone], np.full(len(phone), catalog.CONSENT_SOURCES.index("sales_meeting")))

    contact = np.concatenate(rows_contact)
    kind_ = np.concatenate(rows_kind)
    status = np.concatenate(rows_status)
    ts = np.concatenate(rows_ts)
    source = np.concatenate(rows_source)
    order = np.lexsort((kind_, ts, contact))
    contact, kind_, status, ts, source = (a[order] for a in (contact, kind_, status, ts, source))
    cp = [channel_purpose[k] for k in range(4)]
    return pa.table(
        [
            pa.array(prof.ids()).take(pa.array(contact)),
            pa.array([c for c, _ in cp]).take(pa.array(kind_)),
            pa.array([p for _, p in cp]).take(pa.array(kind_)),
            pa.array(("granted", "revoked")).take(pa.array(status)),
            pa.array(ts, TS),
            pa.array(sources).take(pa.array(source)),
        ],
        schema=CONSENT_SCHEMA,
    )
