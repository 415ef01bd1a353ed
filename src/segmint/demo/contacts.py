"""Contacts as a CRM exports them: names, emails, phones, titles, places and a few custom properties.

Names follow the contact's language and country (Finland-Swedish, Finnish,
Swedish or international); B2B emails are built from the name and the
company's domain, web-shop consumers use free-mail addresses.  Only some
contacts carry a ``lifecycle_stage`` (the rest are left for inference), and
former customers still say ``customer``, as stale CRM data does.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segmint.demo import catalog, names
from segmint.demo.config import DemoConfig, Stream, pick
from segmint.demo.frame import TS
from segmint.demo.profile import CONSUMER, CUSTOMER, FORMER, PARTNER, PROSPECT, SUBSCRIBER, Profile

CONTACT_SCHEMA = pa.schema(
    [
        ("contact_id", pa.string()),
        ("email", pa.string()),
        ("first_name", pa.string()),
        ("last_name", pa.string()),
        ("phone", pa.string()),
        ("job_title", pa.string()),
        ("role", pa.string()),
        ("seniority", pa.string()),
        ("company_id", pa.string()),
        ("country", pa.string()),
        ("region", pa.string()),
        ("city", pa.string()),
        ("language", pa.string()),
        ("source", pa.string()),
        ("lifecycle_stage", pa.string()),
        ("owner", pa.string()),
        ("is_partner", pa.bool_()),
        ("created_at", TS),
        # custom properties, to show that unknown columns become custom properties
        ("customer_number", pa.string()),
        ("newsletter_frequency", pa.string()),
    ]
)


def _flat(groups: tuple[tuple[str, ...], ...]) -> tuple[list[str], np.ndarray, np.ndarray]:
    values = [v for g in groups for v in g]
    sizes = np.array([len(g) for g in groups])
    return values, np.cumsum(sizes) - sizes, sizes


_FIRST, _FIRST_OFF, _FIRST_N = _flat(names.FIRST_NAMES)
_LAST, _LAST_OFF, _LAST_N = _flat(names.LAST_NAMES)
_FIRST_A, _LAST_A = pa.array(_FIRST), pa.array(_LAST)
_FIRST_SLUG, _LAST_SLUG = pa.array([names.slug(v) for v in _FIRST]), pa.array([names.slug(v) for v in _LAST])
_TITLES, _TITLE_OFF, _TITLE_N = _flat(tuple(titles for r in catalog.ROLES for titles in r[2]))
_CITIES, _CITY_OFF, _ = _flat(tuple(r.cities for r in names.REGIONS))
_PREFIXES, _PREFIX_OFF, _PREFIX_N = _flat(names.PHONE_PREFIXES)
_SENIORITY = np.array([catalog.SENIORITIES.index(r[1]) for r in catalog.ROLES])
LIFECYCLE = ("subscriber", "lead", "mql", "sql", "opportunity", "customer", "evangelist", "other")


def _take(values: list[str] | tuple[str, ...] | pa.Array, codes: np.ndarray) -> pa.Array:
    array = values if isinstance(values, pa.Array) else pa.array(values, pa.string())
    missing = codes < 0
    return array.take(pa.array(np.where(missing, 0, codes), mask=missing if missing.any() else None))


def _numbers(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values, pa.int64()), pa.string())


def contact_table(config: DemoConfig, prof: Profile) -> pa.Table:
    """The chunk's contacts as rows of DATA.md's contacts import columns."""
    rng = config.rng(Stream.CONTACT_TEXT, prof.chunk)
    n = prof.n
    lang, country, b2b, kind = prof.lang, prof.country, prof.b2b, prof.kind
    group = np.select(
        [lang == catalog.FIN, (lang == catalog.SV) & (country == names.FI), lang == catalog.SV],
        [names.FI_FI, names.FI_SV, names.SE_SV],
        names.INTL,
    )
    last_group = np.where((group == names.FI_FI) & (rng.random(n) < 0.1), names.FI_SV, group)  # mixed families
    first = _FIRST_OFF[group] + (rng.random(n) * _FIRST_N[group]).astype(np.int64)
    last = _LAST_OFF[last_group] + (rng.random(n) * _LAST_N[last_group]).astype(np.int64)

    # email: name @ company domain (format varies by company custom), free mail for consumers
    fmt = pick(rng, (0.70, 0.15, 0.08, 0.07), n)
    fs, ls = _FIRST_SLUG.take(pa.array(first)), _LAST_SLUG.take(pa.array(last))
    initial = pc.utf8_slice_codeunits(fs, 0, 1)
    local = pa.array(
        np.select(
            [fmt == 0, fmt == 1, fmt == 2],
            [
                pc.binary_join_element_wise(fs, ls, ".").to_numpy(zero_copy_only=False),
                pc.binary_join_element_wise(initial, ls, ".").to_numpy(zero_copy_only=False),
                pc.binary_join_element_wise(fs, ls, "").to_numpy(zero_copy_only=False),
            ],
            pc.binary_join_element_wise(ls, fs, ".").to_numpy(zero_copy_only=False),
        ),
        pa.string(),
    )
    consumer = ~b2b
    freemail = pick(rng, names.FREEMAIL_WEIGHTS, n)
    consumer_local = pc.binary_join_element_wise(
        pc.binary_join_element_wise(fs, ls, "."), _numbers(prof.first + np.arange(n) + 1), ""
    )
    domains = _take(prof.companies.domains, np.where(b2b, prof.company, -1))
    domain = pc.if_else(pa.array(consumer), _take(names.FREEMAIL_DOMAINS, freemail), domains)
    local = pc.if_else(pa.array(consumer), consumer_local, local)
    local = _deduplicate(local, domain)
    email = pc.binary_join_element_wise(local, domain, "@")

    # phones, titles, places
    prefix = _PREFIX_OFF[country] + (rng.random(n) * _PREFIX_N[country]).astype(np.int64)
    digits = _numbers(rng.integers(1_000_000, 10_000_000, n))
    phone = pc.binary_join_element_wise(
        _take(_PREFIXES, prefix), pc.utf8_slice_codeunits(digits, 0, 3), pc.utf8_slice_codeunits(digits, 3, 7), " "
    )
    phone = pc.if_else(pa.array(rng.random(n) < np.where(b2b, 0.25, 0.55)), pa.scalar(None, pa.string()), phone)
    role = prof.role
    title = np.where(role >= 0, _TITLE_OFF[np.maximum(role, 0) * 3 + lang], -1)
    title = np.where(
        title >= 0, title + (rng.random(n) * _TITLE_N[np.maximum(role, 0) * 3 + lang]).astype(np.int64), -1
    )
    title = np.where(rng.random(n) < 0.08, -1, title)
    seniority = np.where(role >= 0, _SENIORITY[np.maximum(role, 0)], -1)
    city = _CITY_OFF[prof.region] + prof.city

    # lifecycle stage, for some contacts only
    stage = np.select(
        [kind == CUSTOMER, kind == FORMER, kind == PROSPECT, kind == SUBSCRIBER, kind == PARTNER],
        [
            LIFECYCLE.index("customer"),
            np.where(rng.random(n) < 0.7, LIFECYCLE.index("customer"), LIFECYCLE.index("other")),
            1 + np.maximum(prof.stage, 0),
            LIFECYCLE.index("subscriber"),
            np.where(rng.random(n) < 0.4, LIFECYCLE.index("evangelist"), LIFECYCLE.index("other")),
        ],
        LIFECYCLE.index("subscriber"),
    )
    stage = np.where((kind != CONSUMER) & (rng.random(n) < 0.6), stage, -1)  # consumers: inferred from purchases

    company_global = prof.companies.first + np.maximum(prof.company, 0)
    has_number = np.isin(kind, (CUSTOMER, FORMER, PARTNER))
    customer_number = pc.binary_join_element_wise("KN", _numbers(20000 + company_global), "")
    customer_number = pc.if_else(pa.array(has_number), customer_number, pa.scalar(None, pa.string()))
    frequency = np.where(prof.consent_newsletter, 0, np.where(consumer & prof.consent_marketing, 1, -1))

    return pa.table(
        [
            pa.array(prof.ids()),
            email,
            _FIRST_A.take(pa.array(first)),
            _LAST_A.take(pa.array(last)),
            phone,
            _take(_TITLES, title),
            _take(catalog.ROLE_NAMES, role),
            _take(catalog.SENIORITIES, seniority),
            _take(prof.companies.ids(), np.where(b2b, prof.company, -1)),
            _take(names.COUNTRIES, country),
            _take([r.name for r in names.REGIONS], prof.region),
            _take(_CITIES, city),
            _take(catalog.LANGUAGES, lang),
            _take(catalog.SOURCES, prof.source),
            _take(LIFECYCLE, stage),
            _take(names.OWNERS, prof.owner),
            pa.array(kind == PARTNER),
            pa.array(prof.created, TS),
            customer_number,
            _take(("monthly", "biweekly"), frequency),
        ],
        schema=CONTACT_SCHEMA,
    )


def _deduplicate(local: pa.Array, domain: pa.Array) -> pa.Array:
    """Number repeated addresses (anna.nyman, anna.nyman2, ...): emails are unique."""
    email = pc.binary_join_element_wise(local, domain, "@")
    unique = pc.unique(email)
    if len(unique) == len(email):
        return local
    code = pc.index_in(email, unique).to_numpy()
    order = np.argsort(code, kind="stable")
    sorted_code = code[order]
    starts = np.flatnonzero(np.r_[True, sorted_code[1:] != sorted_code[:-1]])
    rank = np.empty(len(code), np.int64)
    rank[order] = np.arange(len(code)) - np.repeat(starts, np.diff(np.r_[starts, len(code)]))
    suffix = pc.if_else(pa.array(rank > 0), _numbers(rank + 1), pa.scalar("", pa.string()))
    return pc.binary_join_element_wise(local, suffix, "")
