"""ICP fit: how well a company matches the ideal customer profile, by rules and as learned from the best customers.

Seed 003 ("Idealisk kundprofil"): an ICP describes the kind of company that
gets the most value from the product; you find it by deciding which
properties are common among your successful customers (most often company
size, revenue and industry), then mark the companies in the database that
match it, tailor communication to them and prioritise leads who work there.
Both halves are here:

- ``icp_rule_score``: the profile as the user writes it down, as rules
  (``industry in [...]``, ``employees between [50, 1000]``) worth points;
  the points a company earns over the points there are to earn, as 0–100.
- ``icp_learned_score``: the profile as the data shows it.  The best
  customers are the top ``best_share`` of the companies that have revenue
  (won deals plus purchases of their contacts, up to ``as_of``).  For each
  value of each attribute (industry, sub-industry, country, employee band,
  revenue band) the *lift* is how much more common the value is among the
  best customers than among all companies; a company's raw score is the sum
  of the logarithms of its values' lifts (a naive-Bayes log-likelihood
  ratio of "looks like a best customer"), and the raw scores are rescaled
  so the least alike company is 0 and the most alike 100.
- ``icp_score`` mixes them (``learned_weight``), ``icp_fit`` grades it A/B/C.

The learned lift is smoothed with an m-estimate: the best customers' share
of a value is ``(best_n + m * p) / (best_count + m)`` where ``p`` is the
value's share among all companies, so a value seen once among the best does
not dominate, and a value never seen among them gets a lift below 1 instead
of 0.  An unset attribute adds nothing (no evidence either way).  Industry
and sub-industry are counted as separate pieces of evidence although they
are correlated, as naive Bayes does; set ``learned_attributes`` to drop one.
Everything is computed in SQL over every company (the learned statistics
are global), and only the output is limited to the companies being
refreshed.  With no customer at all, or when every company looks the same,
the learned score is unset and ``icp_score`` is the rule score alone.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlglot import exp

from segmint.model.tables import COMPANIES
from segmint.model.types import FieldType
from segmint.traits.base import TraitContext, TraitField, TraitModel, TraitSettings

RuleField = Literal["industry", "sub_industry", "employees", "annual_revenue", "country", "region"]
NUMERIC_FIELDS = ("employees", "annual_revenue")
Attribute = Literal["industry", "sub_industry", "country", "employee_band", "revenue_band"]
ATTRIBUTES: tuple[Attribute, ...] = ("industry", "sub_industry", "country", "employee_band", "revenue_band")


class IcpRule(BaseModel):
    """One rule of the written profile: ``field op value`` is worth ``points``."""

    model_config = ConfigDict(extra="forbid")

    field: RuleField
    op: Literal["eq", "in", "between", "gte", "lte"]
    value: float | str | list[float | str]
    points: float

    @model_validator(mode="after")
    def _value_fits(self) -> IcpRule:
        numeric = self.field in NUMERIC_FIELDS
        values = self.value if isinstance(self.value, list) else [self.value]
        if self.op in ("between", "gte", "lte") and not numeric:
            raise ValueError(f"op '{self.op}' needs a numeric field (employees, annual_revenue), not '{self.field}'")
        texts = [isinstance(v, str) for v in values]
        if any(texts) if numeric else not all(texts):
            raise ValueError(f"values of '{self.field}' must be {'numbers' if numeric else 'strings'}")
        expected = {"in": "a non-empty list", "between": "a list [low, high]"}.get(self.op, "a single value")
        if isinstance(self.value, list) != (self.op in ("in", "between")) or (self.op == "in" and not values):
            raise ValueError(f"op '{self.op}' needs {expected}")
        if self.op == "between" and (len(values) != 2 or float(values[0]) > float(values[1])):
            raise ValueError("between needs [low, high] with low <= high")
        return self


DEFAULT_RULES = [
    # the demo manufacturer's heavy users of hydraulics and electrical systems
    IcpRule(field="industry", op="in", value=["manufacturing", "energy", "forestry", "marine", "mining"], points=40),
    IcpRule(field="employees", op="between", value=[50, 1000], points=30),
    IcpRule(field="country", op="in", value=["FI", "SE"], points=20),
    IcpRule(field="annual_revenue", op="gte", value=5_000_000, points=10),
]


class IcpFitSettings(TraitSettings):
    rules: list[IcpRule] = Field(
        default_factory=lambda: [r.model_copy() for r in DEFAULT_RULES],
        description="The written profile: {field, op, value, points}; the score is points earned over the "
        "positive points there are (write the values of one field as one `in` rule).",
    )
    best_share: float = Field(
        0.2, gt=0, le=1, description="Best customers: this top share of the companies with revenue."
    )
    learned_attributes: list[Attribute] = Field(
        default_factory=lambda: list(ATTRIBUTES), description="Company attributes the learned score compares."
    )
    employee_bands: list[int] = Field(
        [10, 50, 250, 1000], description="Band edges of employees for the learned score (ascending)."
    )
    revenue_bands: list[float] = Field(
        [2_000_000, 10_000_000, 50_000_000, 250_000_000],
        description="Band edges of annual revenue for the learned score (ascending).",
    )
    smoothing: float = Field(1.0, gt=0, description="The m of the m-estimate of the best customers' shares.")
    learned_weight: float = Field(0.5, ge=0, le=1, description="Weight of the learned score in icp_score.")
    grade_a: float = Field(70, description="icp_score from which a company is A.")
    grade_b: float = Field(40, description="icp_score from which a company is B (below: C).")

    @model_validator(mode="after")
    def _check(self) -> IcpFitSettings:
        for name in ("employee_bands", "revenue_bands"):
            edges = getattr(self, name)
            if list(edges) != sorted(set(edges)):
                raise ValueError(f"{name} must be strictly ascending")
        if self.grade_b > self.grade_a:
            raise ValueError("grade_b must not be above grade_a")
        return self


class IcpFit(TraitModel):
    name = "icp_fit"
    entity = "company"
    summary = "ICP fit of a company: a rule score, a score learned from the best customers, their mix and A/B/C."
    Settings = IcpFitSettings
    settings: IcpFitSettings

    def fields(self) -> list[TraitField]:
        s = self.settings
        return [
            TraitField(
                "icp_rule_score",
                FieldType.FLOAT,
                "ICP score by the configured rules, 0-100: the points earned over the points there are.",
            ),
            TraitField(
                "icp_learned_score",
                FieldType.FLOAT,
                f"ICP score learned from the best customers (top {s.best_share:.0%} by won deals and purchases), "
                "0-100; unset without customers.",
            ),
            TraitField(
                "icp_score",
                FieldType.FLOAT,
                f"ICP score 0-100: {1 - s.learned_weight:.0%} rules, {s.learned_weight:.0%} learned "
                "(the rules alone when nothing is learned).",
            ),
            TraitField(
                "icp_fit",
                FieldType.STRING,
                f"ICP grade: A (icp_score >= {s.grade_a:g}), B (>= {s.grade_b:g}) or C.",
            ),
        ]

    def query(self, ctx: TraitContext) -> exp.Query:
        s = self.settings
        attributes = " UNION ALL ".join(_ATTRIBUTE_SQL[a] for a in dict.fromkeys(s.learned_attributes)) or (
            "SELECT company_key, '' AS attr, '' AS val FROM companies WHERE FALSE"
        )
        return ctx.parse(
            f"""
            WITH deal_value AS (
              SELECT COALESCE(d.company_key, c.company_key) AS company_key, SUM(COALESCE(d.amount, 0)) AS amount
              FROM deals d LEFT JOIN contacts c ON c.contact_key = d.contact_key
              WHERE LOWER(d.status) = 'won' AND COALESCE(d.closed_at, d.created_at, :as_of) <= :as_of
              GROUP BY COALESCE(d.company_key, c.company_key)),
            purchase_value AS (
              SELECT c.company_key, SUM(COALESCE(e.amount, 0)) AS amount
              FROM events e JOIN contacts c ON c.contact_key = e.contact_key
              WHERE e.event = 'purchase' AND e.ts <= :as_of AND c.company_key IS NOT NULL
              GROUP BY c.company_key),
            customer AS (
              SELECT company_key, SUM(amount) AS amount
              FROM (SELECT company_key, amount FROM deal_value
                    UNION ALL SELECT company_key, amount FROM purchase_value) v
              WHERE company_key IS NOT NULL
              GROUP BY company_key
              HAVING SUM(amount) > 0),
            ranked AS (
              SELECT company_key, RANK() OVER (ORDER BY amount DESC) AS place, COUNT(*) OVER () AS customers
              FROM customer),
            best AS (
              SELECT company_key FROM ranked
              WHERE place = 1 OR CAST(place AS DOUBLE) / customers <= :best_share),
            attrs AS ({attributes}),
            sizes AS (
              SELECT a.n AS companies, b.n AS best_count
              FROM (SELECT COUNT(*) AS n FROM companies) a CROSS JOIN (SELECT COUNT(*) AS n FROM best) b),
            stats AS (
              SELECT a.attr, a.val, COUNT(*) AS all_n, COUNT(b.company_key) AS best_n
              FROM attrs a LEFT JOIN best b ON b.company_key = a.company_key
              GROUP BY a.attr, a.val),
            lift AS (
              SELECT s.attr, s.val,
                     LN(((s.best_n + :m * CAST(s.all_n AS DOUBLE) / z.companies) / (z.best_count + :m))
                        / (CAST(s.all_n AS DOUBLE) / z.companies)) AS log_lift
              FROM stats s CROSS JOIN sizes z
              WHERE z.best_count > 0),
            evidence AS (
              SELECT co.company_key, COALESCE(SUM(l.log_lift), 0) AS total
              FROM companies co
              LEFT JOIN attrs a ON a.company_key = co.company_key
              LEFT JOIN lift l ON l.attr = a.attr AND l.val = a.val
              GROUP BY co.company_key),
            bounds AS (SELECT MIN(total) AS lo, MAX(total) AS hi FROM evidence),
            scores AS (
              SELECT co.company_key,
                     ROUND(CAST(:rule_score AS DOUBLE), 1) AS rule_score,
                     ROUND(CAST(CASE WHEN b.hi > b.lo THEN 100 * (r.total - b.lo) / (b.hi - b.lo) END AS DOUBLE), 1)
                       AS learned_score
              FROM companies co
              JOIN evidence r ON r.company_key = co.company_key
              CROSS JOIN bounds b
              WHERE COMPANY_KEYS(co.company_key)),
            mixed AS (
              SELECT company_key, rule_score, learned_score,
                     ROUND(CAST(CASE WHEN learned_score IS NULL THEN rule_score
                                     ELSE (1 - :w) * rule_score + :w * learned_score END AS DOUBLE), 1) AS icp_score
              FROM scores)
            SELECT company_key,
                   rule_score AS icp_rule_score,
                   learned_score AS icp_learned_score,
                   icp_score,
                   CASE WHEN icp_score >= :grade_a THEN 'A' WHEN icp_score >= :grade_b THEN 'B' ELSE 'C' END AS icp_fit
            FROM mixed
            """,
            best_share=s.best_share,
            m=s.smoothing,
            w=s.learned_weight,
            grade_a=s.grade_a,
            grade_b=s.grade_b,
            rule_score=self.rule_score(ctx),
            employee_band=_band(exp.column("employees"), s.employee_bands),
            revenue_band=_band(exp.column("annual_revenue"), s.revenue_bands),
        )

    def rule_score(self, ctx: TraitContext) -> exp.Expr:
        """100 * max(0, points earned) / positive points there are, over the companies row ``co``."""
        possible = sum(r.points for r in self.settings.rules if r.points > 0)
        if possible <= 0:
            return exp.Literal.number(0)
        earned: exp.Expr = exp.Literal.number(0)
        for rule in self.settings.rules:
            kind = COMPANIES.column(rule.field).type
            value = tuple(rule.value) if isinstance(rule.value, list) else rule.value
            test = ctx.compiler.field_test(rule.op, exp.column(rule.field, table="co"), value, kind)
            earned = exp.Add(
                this=earned,
                expression=exp.case().when(test, exp.Literal.number(rule.points)).else_(exp.Literal.number(0)),
            )
        positive = exp.func("GREATEST", earned, exp.Literal.number(0))
        return exp.Div(
            this=exp.Mul(this=exp.Literal.number(100.0), expression=positive),
            expression=exp.Literal.number(float(possible)),
        )


# One branch of the attribute table per attribute: (company, attribute, value), unset values left out.
_ATTRIBUTE_SQL: dict[str, str] = {
    "industry": "SELECT company_key, 'industry' AS attr, LOWER(industry) AS val FROM companies WHERE industry IS NOT NULL",
    "sub_industry": "SELECT company_key, 'sub_industry', LOWER(sub_industry) FROM companies WHERE sub_industry IS NOT NULL",
    "country": "SELECT company_key, 'country', LOWER(country) FROM companies WHERE country IS NOT NULL",
    "employee_band": "SELECT company_key, 'employee_band', :employee_band FROM companies WHERE employees IS NOT NULL",
    "revenue_band": "SELECT company_key, 'revenue_band', :revenue_band FROM companies WHERE annual_revenue IS NOT NULL",
}


def _band(column: exp.Expr, edges: list[int] | list[float]) -> exp.Expr:
    """The band of ``column`` as text: '0' below the first edge, '1' below the second, ..., len(edges) above."""
    if not edges:
        return exp.Literal.string("0")
    case = exp.case()
    for i, edge in enumerate(edges):
        case = case.when(column < exp.Literal.number(edge), exp.Literal.string(str(i)))
    return case.else_(exp.Literal.string(str(len(edges))))


MODEL = IcpFit
