"""Companies: one block per contact chunk, from 3 to 2,000 employees, in Finland, Sweden and a few export markets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from segmint.demo import catalog, names
from segmint.demo.config import DAY, DemoConfig, Stream, pick
from segmint.demo.names import COUNTRIES, REGIONS, SALES_REGIONS, SALES_REPS

BRANDS = ("Botnia", "Kvarken", "Nordic", "Polar", "Arctic", "Baltic", "Aurora", "Norrsken", "Pohjola", "Vega")
LEGAL_FORMS = {
    # (country, name language) -> legal forms
    (names.FI, catalog.SV): ("Oy Ab", "Ab"),
    (names.FI, catalog.FIN): ("Oy",),
    (names.FI, catalog.EN): ("Oy", "Ltd"),
    (names.SE, catalog.SV): ("AB",),
    (names.DE, catalog.EN): ("GmbH",),
    (names.NO, catalog.EN): ("AS",),
    (names.EE, catalog.EN): ("OÜ",),
}
TLDS = (".fi", ".se", ".de", ".no", ".ee")

_REGION_WEIGHTS = np.array([r.weight for r in REGIONS])
_REGION_COUNTRY = np.array([r.country for r in REGIONS])
_REGION_SV = np.array([r.swedish_share for r in REGIONS])
_INDUSTRY_WEIGHTS = np.array([i[2] for i in catalog.INDUSTRIES])
_SUB_COUNT = np.array([len(i[1]) for i in catalog.INDUSTRIES])
_REP_OFFSET = {sr: sum(len(SALES_REPS[s]) for s in SALES_REGIONS[:i]) for i, sr in enumerate(SALES_REGIONS)}
_REGION_REP_OFFSET = np.array([_REP_OFFSET[r.sales_region] for r in REGIONS])
_REGION_REP_COUNT = np.array([len(SALES_REPS[r.sales_region]) for r in REGIONS])
SUB_INDUSTRIES = tuple(sub for ind in catalog.INDUSTRIES for sub in ind[1])
_SUB_OFFSET = np.concatenate([[0], np.cumsum(_SUB_COUNT)[:-1]])


@dataclass
class CompanyBlock:
    """The companies of one block, as arrays indexed by the company's position in the block."""

    first: int
    industry: np.ndarray
    sub_industry: np.ndarray  # index into SUB_INDUSTRIES
    employees: np.ndarray
    revenue: np.ndarray
    region: np.ndarray
    country: np.ndarray
    owner: np.ndarray  # index into names.OWNERS
    created: np.ndarray
    partner: np.ndarray
    name_lang: np.ndarray
    names: list[str]
    domains: list[str]

    @property
    def n(self) -> int:
        """Number of companies in the block."""
        return len(self.industry)

    @property
    def size_class(self) -> np.ndarray:
        """0 small (< 20 employees), 1 mid, 2 large (> 250), 3 a reseller: the rows of ROLE_WEIGHTS."""
        cls = np.where(self.employees < 20, 0, np.where(self.employees > 250, 2, 1))
        return np.where(self.partner, 3, cls)

    def ids(self) -> list[str]:
        """The companies' ids as a CRM would show them."""
        return [f"CO{10001 + self.first + i}" for i in range(self.n)]


def company_block(config: DemoConfig, chunk: int) -> CompanyBlock:
    """Block ``chunk`` of companies, the same every time for the same configuration."""
    rng = config.rng(Stream.COMPANIES, chunk)
    first, n = config.chunk_companies(chunk)
    region = pick(rng, _REGION_WEIGHTS, n)
    country = _REGION_COUNTRY[region]
    industry = pick(rng, _INDUSTRY_WEIGHTS, n)
    sub = _SUB_OFFSET[industry] + (rng.random(n) * _SUB_COUNT[industry]).astype(np.int64)
    partner = (industry == catalog.WHOLESALE) & (rng.random(n) < 0.8)
    employees = np.clip(np.rint(np.exp(rng.normal(np.log(25.0), 1.3, n))), 3, 2000).astype(np.int64)
    big = rng.random(n) < 0.01
    employees[big] = rng.integers(800, 2001, int(big.sum()))
    revenue = np.round(employees * rng.uniform(120_000, 320_000, n), -4)
    owner = _REGION_REP_OFFSET[region] + (rng.random(n) * _REGION_REP_COUNT[region]).astype(np.int64)
    years = np.minimum(0.3 + rng.exponential(3.0, n), 12.0)
    created = config.end_us - (years * 365.25 * DAY).astype(np.int64)
    created -= created % 1_000_000
    u = rng.random(n)
    name_lang = np.where(
        country == names.SE,
        catalog.SV,
        np.where(
            country != names.FI,
            catalog.EN,
            np.where(u < _REGION_SV[region], catalog.SV, np.where(u > 0.9, catalog.EN, catalog.FIN)),
        ),
    )
    pattern = rng.integers(0, 4, n)
    word_pick = rng.random(n)
    surname_pick = rng.random(n)
    city_pick = rng.random(n)
    brand_pick = rng.integers(0, len(BRANDS), n)
    legal_pick = rng.random(n)
    company_names: list[str] = []
    domains: list[str] = []
    seen: dict[str, int] = {}
    for i in range(n):
        lang, ctry, reg = int(name_lang[i]), int(country[i]), REGIONS[int(region[i])]
        words = catalog.NAME_WORDS[lang][int(industry[i])]
        word = words[int(word_pick[i] * len(words))]
        group = {catalog.SV: names.FI_SV if ctry == names.FI else names.SE_SV, catalog.FIN: names.FI_FI}.get(
            lang, names.INTL
        )
        surnames = names.LAST_NAMES[group]
        surname = surnames[int(surname_pick[i] * len(surnames))]
        city = reg.cities[int(city_pick[i] * len(reg.cities))]
        p = int(pattern[i])
        if p == 0:
            stem = f"{surname} {word}"
        elif p == 1:
            stem = f"{city} {word}"
        elif p == 2:
            stem = f"{BRANDS[int(brand_pick[i])]} {word}"
        else:
            stem = {catalog.FIN: f"{word} {surname}", catalog.SV: f"Bröderna {surname}"}.get(lang, f"{surname} {word}")
        forms = LEGAL_FORMS.get((ctry, lang), ("Ltd",))
        base = names.slug(stem).replace("-", "")
        if chunk:
            base = f"{base}{chunk}"
        count = seen.get(base, 0) + 1
        seen[base] = count
        if count > 1:
            stem = f"{stem} {('Group', 'Nord', 'Service', 'Industri')[(count - 2) % 4]}"
            base = f"{base}{count}"
        company_names.append(f"{stem} {forms[int(legal_pick[i] * len(forms))]}")
        domains.append(base + TLDS[ctry])
    return CompanyBlock(
        first,
        industry,
        sub,
        employees,
        revenue,
        region,
        country,
        owner,
        created,
        partner,
        name_lang,
        company_names,
        domains,
    )


COMPANY_SCHEMA = pa.schema(
    [
        ("company_id", pa.string()),
        ("name", pa.string()),
        ("domain", pa.string()),
        ("industry", pa.string()),
        ("sub_industry", pa.string()),
        ("employees", pa.int64()),
        ("annual_revenue", pa.float64()),
        ("country", pa.string()),
        ("region", pa.string()),
        ("sales_region", pa.string()),
        ("owner", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
    ]
)

_INDUSTRY_NAMES = pa.array([i[0] for i in catalog.INDUSTRIES])
_SUB_NAMES = pa.array(SUB_INDUSTRIES)
_COUNTRY_NAMES = pa.array(COUNTRIES)
_REGION_NAMES = pa.array([r.name for r in REGIONS])
_SALES_REGION_NAMES = pa.array([r.sales_region for r in REGIONS])
_OWNER_NAMES = pa.array(names.OWNERS)


def company_table(block: CompanyBlock) -> pa.Table:
    """The block as rows of DATA.md's companies import columns."""
    return pa.table(
        [
            pa.array(block.ids()),
            pa.array(block.names),
            pa.array(block.domains),
            _INDUSTRY_NAMES.take(block.industry),
            _SUB_NAMES.take(block.sub_industry),
            pa.array(block.employees),
            pa.array(block.revenue),
            _COUNTRY_NAMES.take(block.country),
            _REGION_NAMES.take(block.region),
            _SALES_REGION_NAMES.take(block.region),
            _OWNER_NAMES.take(block.owner),
            pa.array(block.created, pa.timestamp("us", tz="UTC")),
        ],
        schema=COMPANY_SCHEMA,
    )
