"""Firmographics: company size bands, and what the company's contacts have bought.

Seed 004 segments companies by turnover, "en stafflad skala" (a stepped
scale), and by headcount when turnover does not work: headcount matters
most before the company becomes a customer, the revenue you make from it
after.  Seed 001 calls company size often the most important factor in B2B
("en mikroföretagare med tre anställda" needs other messages than a company
with 200), and seed 003 builds the ideal customer profile from size,
revenue and industry.  The seeds name no band limits, so the defaults are
the EU's size classes (micro below 10 employees, small below 50, medium
below 250) with two larger steps; both scales are settings.

A band is the last one whose lower bound the value reaches; a value below
the first bound, or unset, has no band (0 employees is taken as unknown,
as CRMs often store it).  The purchase columns sum the contacts' purchases
model: ``company_customers`` counts contacts with an order.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Self

from pydantic import Field, model_validator
from sqlglot import exp

from segmint.model.types import FieldType
from segmint.traits.base import TraitContext, TraitField, TraitModel, TraitSettings


def _check_bands(bands: list[tuple[str, float]], what: str) -> None:
    bounds = [b for _, b in bands]
    if any(low >= high for low, high in pairwise(bounds)):
        raise ValueError(f"{what}: lower bounds must rise")
    if len({label for label, _ in bands}) != len(bands):
        raise ValueError(f"{what}: labels must differ")


class FirmographicsSettings(TraitSettings):
    employee_bands: list[tuple[str, int]] = Field(
        [("1-9", 1), ("10-49", 10), ("50-249", 50), ("250-999", 250), ("1000+", 1000)],
        min_length=1,
        description="employee_band: [label, lowest number of employees] pairs, rising.",
    )
    revenue_bands: list[tuple[str, float]] = Field(
        [("<1M", 0), ("1M-10M", 1e6), ("10M-50M", 1e7), ("50M-250M", 5e7), ("250M+", 2.5e8)],
        min_length=1,
        description="revenue_band: [label, lowest annual revenue in the store's currency] pairs, rising.",
    )

    @model_validator(mode="after")
    def _bands_rise(self) -> Self:
        _check_bands([(label, float(low)) for label, low in self.employee_bands], "employee_bands")
        _check_bands(self.revenue_bands, "revenue_bands")
        return self


def _band(value: exp.Expr, bands: list[tuple[str, int]] | list[tuple[str, float]]) -> exp.Expr:
    """The label of the highest band whose lower bound ``value`` reaches (NULL below the first or unset)."""
    case = exp.Case()
    for label, low in reversed(bands):
        case = case.when(value.copy() >= exp.Literal.number(low), exp.Literal.string(label), copy=False)
    return case


def _labels(bands: list[tuple[str, int]] | list[tuple[str, float]]) -> str:
    return ", ".join(f"'{label}'" for label, _ in bands)


class Firmographics(TraitModel):
    name = "firmographics"
    entity = "company"
    requires = ("purchases",)
    summary = "Employee and revenue bands, and the company's customers, revenue and last purchase."
    Settings = FirmographicsSettings
    settings: FirmographicsSettings

    def fields(self) -> list[TraitField]:
        s = self.settings
        return [
            TraitField("employee_band", FieldType.STRING, f"Size by employees: {_labels(s.employee_bands)}."),
            TraitField("revenue_band", FieldType.STRING, f"Size by annual revenue: {_labels(s.revenue_bands)}."),
            TraitField("company_customers", FieldType.INTEGER, "Contacts of the company with an order."),
            TraitField(
                "company_revenue_365d", FieldType.FLOAT, "Revenue from the company's contacts in the last 365 days."
            ),
            TraitField("company_last_purchase_at", FieldType.TIMESTAMP, "When a contact of the company last bought."),
        ]

    def query(self, ctx: TraitContext) -> exp.Query:
        s = self.settings
        return ctx.parse(
            f"""
            WITH bought AS (
              SELECT c.company_key,
                     COUNT(*) FILTER (WHERE p.orders > 0) AS company_customers,
                     SUM(p.revenue_365d) AS company_revenue_365d,
                     MAX(p.last_purchase_at) AS company_last_purchase_at
              FROM contacts c JOIN {ctx.table("purchases")} p ON p.contact_key = c.contact_key
              WHERE c.company_key IS NOT NULL AND COMPANY_KEYS(c.company_key)
              GROUP BY c.company_key)
            SELECT co.company_key,
                   :employee_band AS employee_band,
                   :revenue_band AS revenue_band,
                   COALESCE(b.company_customers, 0) AS company_customers,
                   COALESCE(b.company_revenue_365d, 0) AS company_revenue_365d,
                   b.company_last_purchase_at
            FROM companies co LEFT JOIN bought b ON b.company_key = co.company_key
            WHERE COMPANY_KEYS(co.company_key)
            """,
            employee_band=_band(exp.column("employees", "co"), s.employee_bands),
            revenue_band=_band(exp.column("annual_revenue", "co"), s.revenue_bands),
        )


MODEL = Firmographics
