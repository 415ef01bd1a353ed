"""Purchases: what each contact has bought, and the value groups that follow (RFM, A/B/C, metal tiers).

Seed 002 names segmentation "ved sidste køb" and "på samlet købshistorik"
(last purchase, whole purchase history); seed 001 says the shop's purchase
history is gold and to put the effort where the revenue is ("om 70 procent av
din omsättning kommer från 20 procent av kunderna, lägg energin där först");
seed 004 names the classifications sales run on revenue: "A-B-C-kunder, eller
Silver-, Guld- och Platinum-kunder".

An order is one distinct ``order_id`` among a contact's purchase events (the
lines of an order add up; a purchase without an ``order_id`` is an order of
its own), plus, with ``include_won_deals``, each won deal closed by ``as_of``
(a manufacturer's sales close as deals, not as shop orders).  Amounts are
taken to be in the store's currency.

Scores among buyers are computed over every buyer, also when only some
contacts are recomputed, and give equal values equal scores:

- ``rfm_*``: a buyer's score is ``ceil(5 * rank / buyers)``, where ``rank``
  is SQL's ``RANK()`` in ascending goodness (oldest last purchase, fewest
  orders, least revenue first).  With distinct values this is NTILE(5); a tie
  group gets the score of its first place, so the many one-order buyers
  share frequency 1 instead of being spread over 1-3 by an arbitrary
  tie-break.  Recency is ranked on whole days since the last purchase.
- ``rfm_group``: the widely used R/F segment map (R and F scores, the
  monetary score does not enter), read first match first, see ``RF_MAP``.
  One cell is split off: R=1, F=1 (the oldest one-time buyers) is ``lost``,
  the rest of the R 1-2 / F 1-2 square ``hibernating``.
- ``value_tier`` (seed 001's 80/20 and seed 004's A-B-C): buyers by revenue
  within ``value_days``, largest first; a buyer is A when the buyers with
  strictly more revenue hold less than ``a_share`` of the total (the buyer
  who crosses the line is A), B when they hold less than ``b_share``, else
  C; a buyer without revenue in the window is C.
- ``metal_tier`` (seed 004's platinum, gold, silver, and bronze for the
  rest): by all-time revenue; a buyer is platinum when fewer than
  ``platinum_top`` of the buyers have strictly more revenue, gold below
  ``gold_top``, silver below ``silver_top``, else bronze.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Self

from pydantic import Field, model_validator
from sqlglot import exp

from segmint.model.types import FieldType
from segmint.traits.base import TraitContext, TraitField, TraitModel, TraitSettings

#: The R/F segment map (R scores, F scores, group), first match wins; ``lost`` is carved out of hibernating.
RF_MAP: tuple[tuple[str, str, str], ...] = (
    ("5", "45", "champions"),
    ("34", "45", "loyal"),
    ("45", "23", "potential_loyalist"),
    ("5", "1", "new_customer"),
    ("4", "1", "promising"),
    ("3", "3", "need_attention"),
    ("3", "12", "about_to_sleep"),
    ("12", "5", "cannot_lose"),
    ("12", "34", "at_risk"),
    ("1", "1", "lost"),
    ("12", "12", "hibernating"),
)

#: revenue_365d's window
YEAR = timedelta(days=365)


class PurchasesSettings(TraitSettings):
    purchase_events: list[str] = Field(["purchase"], min_length=1, description="Events that are purchases.")
    include_won_deals: bool = Field(
        True, description="A won deal closed by as_of is an order too (its amount at its closed_at)."
    )
    value_days: int = Field(365, gt=0, description="value_tier ranks buyers by their revenue in this many days.")
    a_share: float = Field(0.8, gt=0, le=1, description="A: the top buyers holding this share of revenue.")
    b_share: float = Field(0.95, gt=0, le=1, description="B: the next buyers, up to this share of revenue.")
    platinum_top: float = Field(0.05, gt=0, le=1, description="Platinum: this top share of buyers by revenue.")
    gold_top: float = Field(0.20, gt=0, le=1, description="Gold: buyers below platinum, up to this top share.")
    silver_top: float = Field(0.50, gt=0, le=1, description="Silver: buyers below gold, up to this top share.")

    @model_validator(mode="after")
    def _shares_rise(self) -> Self:
        if not self.a_share < self.b_share:
            raise ValueError("a_share must be below b_share")
        if not self.platinum_top < self.gold_top < self.silver_top:
            raise ValueError("platinum_top < gold_top < silver_top is required")
        return self


def _rf_groups(recency: exp.Expr, frequency: exp.Expr) -> exp.Expr:
    """``RF_MAP`` as a CASE over the two scores (NULL for non-buyers, who have no scores)."""
    case = exp.Case()
    for r, f, group in RF_MAP:
        test = exp.and_(
            recency.copy().isin(*(exp.Literal.number(int(d)) for d in r)),
            frequency.copy().isin(*(exp.Literal.number(int(d)) for d in f)),
        )
        case = case.when(test, exp.Literal.string(group), copy=False)
    return case


class Purchases(TraitModel):
    name = "purchases"
    summary = "Orders and revenue, recency, RFM scores and group, A/B/C value tier and metal tier."
    Settings = PurchasesSettings
    settings: PurchasesSettings

    def fields(self) -> list[TraitField]:
        s = self.settings
        buyers = "among buyers (NULL for contacts who never bought)"
        return [
            TraitField(
                "first_purchase_at", FieldType.TIMESTAMP, "When the contact first bought (an order or won deal)."
            ),
            TraitField("last_purchase_at", FieldType.TIMESTAMP, "When the contact last bought (an order or won deal)."),
            TraitField("orders", FieldType.INTEGER, "Orders (distinct order ids, and won deals); 0 for none."),
            TraitField("revenue", FieldType.FLOAT, "Sum of the orders' amounts; 0 for none."),
            TraitField("revenue_365d", FieldType.FLOAT, "Sum of the amounts of the orders in the last 365 days."),
            TraitField("average_order_value", FieldType.FLOAT, "Revenue per order; NULL for contacts without orders."),
            TraitField("days_since_purchase", FieldType.INTEGER, "Whole days since the last purchase; NULL for none."),
            TraitField("rfm_recency", FieldType.INTEGER, f"Recency score 1-5 (5 most recent) {buyers}."),
            TraitField("rfm_frequency", FieldType.INTEGER, f"Frequency score 1-5 (5 most orders) {buyers}."),
            TraitField("rfm_monetary", FieldType.INTEGER, f"Monetary score 1-5 (5 most revenue) {buyers}."),
            TraitField(
                "rfm_score", FieldType.STRING, "Recency, frequency and monetary scores as one string, e.g. 545."
            ),
            TraitField(
                "rfm_group",
                FieldType.STRING,
                "RFM group from the recency and frequency scores: " + ", ".join(g for _, _, g in RF_MAP) + ".",
            ),
            TraitField(
                "value_tier",
                FieldType.STRING,
                f"A (the top buyers making {s.a_share:.0%} of the revenue of the last {s.value_days} days), "
                f"B (up to {s.b_share:.0%}) or C {buyers}.",
            ),
            TraitField(
                "metal_tier",
                FieldType.STRING,
                f"platinum (top {s.platinum_top:.0%} of buyers by revenue), gold (top {s.gold_top:.0%}), "
                f"silver (top {s.silver_top:.0%}) or bronze.",
            ),
        ]

    def query(self, ctx: TraitContext) -> exp.Query:
        s = self.settings
        # Every buyer is scanned, also on the fresh path: the scores rank each buyer among all of them.
        return ctx.parse(
            """
            WITH orders AS (
              SELECT e.contact_key, MIN(e.ts) AS ordered_at, COALESCE(SUM(e.amount), 0) AS amount
              FROM events e
              WHERE e.ts <= :as_of AND e.event IN (:purchase_events) AND e.contact_key IS NOT NULL
              GROUP BY e.contact_key, e.order_id, CASE WHEN e.order_id IS NULL THEN e.event_id END
              UNION ALL
              SELECT d.contact_key, d.closed_at, COALESCE(d.amount, 0)
              FROM deals d
              WHERE :include_won_deals AND d.status = 'won' AND d.closed_at <= :as_of AND d.contact_key IS NOT NULL),
            buyers AS (
              SELECT o.contact_key,
                     MIN(o.ordered_at) AS first_purchase_at,
                     MAX(o.ordered_at) AS last_purchase_at,
                     COUNT(*) AS orders,
                     SUM(o.amount) AS revenue,
                     COALESCE(SUM(o.amount) FILTER (WHERE o.ordered_at >= :year_ago), 0) AS revenue_365d,
                     COALESCE(SUM(o.amount) FILTER (WHERE o.ordered_at >= :value_since), 0) AS value_revenue,
                     CAST(FLOOR((:as_of_epoch - EPOCH(MAX(o.ordered_at))) / 86400) AS INTEGER) AS days_since_purchase
              FROM orders o
              GROUP BY o.contact_key),
            value_levels AS (
              -- per distinct revenue in the window: the revenue of the buyers strictly above it (ties share a tier)
              SELECT l.value_revenue,
                     COALESCE(SUM(l.level_revenue) OVER (ORDER BY l.value_revenue DESC
                                                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
                       AS value_above
              FROM (SELECT value_revenue, SUM(value_revenue) AS level_revenue FROM buyers GROUP BY value_revenue) l),
            ranked AS (
              SELECT b.contact_key, b.first_purchase_at, b.last_purchase_at, b.orders, b.revenue, b.revenue_365d,
                     b.days_since_purchase, b.value_revenue, v.value_above,
                     SUM(b.value_revenue) OVER () AS value_total,
                     COUNT(*) OVER () AS buyers,
                     RANK() OVER (ORDER BY b.days_since_purchase DESC) AS r_rank,
                     RANK() OVER (ORDER BY b.orders) AS f_rank,
                     RANK() OVER (ORDER BY b.revenue) AS m_rank,
                     RANK() OVER (ORDER BY b.revenue DESC) - 1 AS revenue_above
              FROM buyers b JOIN value_levels v ON v.value_revenue = b.value_revenue),
            scored AS (
              SELECT r.*,
                     CAST(CEIL(5 * CAST(r.r_rank AS DOUBLE) / r.buyers) AS INTEGER) AS rfm_recency,
                     CAST(CEIL(5 * CAST(r.f_rank AS DOUBLE) / r.buyers) AS INTEGER) AS rfm_frequency,
                     CAST(CEIL(5 * CAST(r.m_rank AS DOUBLE) / r.buyers) AS INTEGER) AS rfm_monetary,
                     CAST(r.value_above AS DOUBLE) / NULLIF(r.value_total, 0) AS value_share_above,
                     CAST(r.revenue_above AS DOUBLE) / r.buyers AS buyers_share_above
              FROM ranked r)
            SELECT c.contact_key,
                   s.first_purchase_at,
                   s.last_purchase_at,
                   COALESCE(s.orders, 0) AS orders,
                   COALESCE(s.revenue, 0) AS revenue,
                   COALESCE(s.revenue_365d, 0) AS revenue_365d,
                   CAST(s.revenue AS DOUBLE) / s.orders AS average_order_value,
                   s.days_since_purchase,
                   s.rfm_recency,
                   s.rfm_frequency,
                   s.rfm_monetary,
                   -- CONCAT skips NULLs on some engines: non-buyers must get NULL, not ''
                   CASE WHEN s.contact_key IS NOT NULL
                        THEN CONCAT(CAST(s.rfm_recency AS VARCHAR), CAST(s.rfm_frequency AS VARCHAR),
                                    CAST(s.rfm_monetary AS VARCHAR)) END AS rfm_score,
                   :rfm_group AS rfm_group,
                   CASE WHEN s.contact_key IS NULL THEN NULL
                        WHEN s.value_revenue > 0 AND s.value_share_above < :a_share THEN 'A'
                        WHEN s.value_revenue > 0 AND s.value_share_above < :b_share THEN 'B'
                        ELSE 'C' END AS value_tier,
                   CASE WHEN s.contact_key IS NULL THEN NULL
                        WHEN s.buyers_share_above < :platinum_top THEN 'platinum'
                        WHEN s.buyers_share_above < :gold_top THEN 'gold'
                        WHEN s.buyers_share_above < :silver_top THEN 'silver'
                        ELSE 'bronze' END AS metal_tier
            FROM contacts c LEFT JOIN scored s ON s.contact_key = c.contact_key
            WHERE KEYS(c.contact_key)
            """,
            purchase_events=s.purchase_events,
            include_won_deals=s.include_won_deals,
            year_ago=YEAR,
            value_since=timedelta(days=s.value_days),
            rfm_group=_rf_groups(exp.column("rfm_recency", "s"), exp.column("rfm_frequency", "s")),
            a_share=s.a_share,
            b_share=s.b_share,
            platinum_top=s.platinum_top,
            gold_top=s.gold_top,
            silver_top=s.silver_top,
        )


MODEL = Purchases
