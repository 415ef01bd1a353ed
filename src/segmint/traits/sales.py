"""Sales: the contact's deals, the latest sales activity and the latest marketing contact.

Seed 002 ("segment from CRM data") asks for segments on the opportunity
stage and on a specific sales rep's leads, and notes that sales activity is
recorded in the CRM too: segmenting on it lets marketing step in where sales
reps are too busy to reach all their leads.  Among the inactivity segments
it lists "no marketing contact in the last 60 days", which
``days_since_marketing_contact`` answers (unset for a contact never reached,
so the playbook segment is ``any: [gt 60, is_not_set]``).

Deals count from their creation: a deal created after ``as_of`` does not
exist yet, one without ``created_at`` always does.  Their status and stage
are the stored (current) ones.  The deal that speaks for the contact
(``deal_stage``, ``deal_status``, ``deal_owner``) is the latest open deal, or
the latest deal when none is open: an open opportunity is what sales works
on now, a closed one is only history.
"""

from __future__ import annotations

from pydantic import Field
from sqlglot import exp

from segmint.model.types import FieldType
from segmint.traits.base import TraitContext, TraitField, TraitModel, TraitSettings


class SalesSettings(TraitSettings):
    marketing_events: list[str] = Field(
        ["email_sent"],
        min_length=1,
        description="Events that count as a marketing contact (days_since_marketing_contact).",
    )


class Sales(TraitModel):
    name = "sales"
    summary = "Open and won deals, the current deal's stage and owner, last sales activity and marketing contact."
    Settings = SalesSettings
    settings: SalesSettings

    def fields(self) -> list[TraitField]:
        marketing = ", ".join(self.settings.marketing_events)
        return [
            TraitField("open_deals", FieldType.INTEGER, "Number of the contact's open deals."),
            TraitField("open_deal_amount", FieldType.FLOAT, "Total amount of the contact's open deals (0 if none)."),
            TraitField("won_deals", FieldType.INTEGER, "Number of the contact's won deals."),
            TraitField(
                "deal_stage",
                FieldType.STRING,
                "Pipeline stage of the contact's latest open deal (of the latest deal when none is open).",
            ),
            TraitField("deal_status", FieldType.STRING, "Status (open, won, lost) of that same deal."),
            TraitField("deal_owner", FieldType.STRING, "The sales rep who owns that same deal."),
            TraitField("last_sales_activity_at", FieldType.TIMESTAMP, "When sales last called, met or emailed."),
            TraitField(
                "last_sales_activity_kind", FieldType.STRING, "Kind of the latest sales activity: call, meeting, email."
            ),
            TraitField(
                "last_marketing_contact_at", FieldType.TIMESTAMP, f"When marketing last reached out ({marketing})."
            ),
            TraitField(
                "days_since_marketing_contact",
                FieldType.INTEGER,
                "Whole days since the latest marketing contact; unset when never contacted.",
            ),
        ]

    def query(self, ctx: TraitContext) -> exp.Query:
        # Deals are one small table; events are scanned twice: the marketing events (aggregated) and the
        # sales activities alone (numbered to pick the latest one's kind).
        return ctx.parse(
            """
            WITH deal_rows AS (
              SELECT d.contact_key, d.stage, LOWER(d.status) AS status, d.owner, d.amount,
                     ROW_NUMBER() OVER (PARTITION BY d.contact_key
                                        ORDER BY CASE WHEN LOWER(d.status) = 'open' THEN 0 ELSE 1 END,
                                                 d.created_at DESC NULLS LAST, d.deal_key DESC) AS pos
              FROM deals d
              WHERE d.contact_key IS NOT NULL AND (d.created_at IS NULL OR d.created_at <= :as_of)
                AND KEYS(d.contact_key)),
            deal_totals AS (
              SELECT contact_key,
                     COUNT(*) FILTER (WHERE status = 'open') AS open_deals,
                     SUM(amount) FILTER (WHERE status = 'open') AS open_deal_amount,
                     COUNT(*) FILTER (WHERE status = 'won') AS won_deals,
                     MAX(stage) FILTER (WHERE pos = 1) AS deal_stage,
                     MAX(status) FILTER (WHERE pos = 1) AS deal_status,
                     MAX(owner) FILTER (WHERE pos = 1) AS deal_owner
              FROM deal_rows
              GROUP BY contact_key),
            marketing AS (
              SELECT e.contact_key, MAX(e.ts) AS last_marketing_contact_at
              FROM events e
              WHERE e.ts <= :as_of AND e.event IN (:marketing_events) AND e.contact_key IS NOT NULL
                AND KEYS(e.contact_key)
              GROUP BY e.contact_key),
            activities AS (
              SELECT e.contact_key, e.ts, PROP(e.properties, 'kind') AS kind,
                     ROW_NUMBER() OVER (PARTITION BY e.contact_key
                                        ORDER BY e.ts DESC, PROP(e.properties, 'kind') NULLS LAST) AS pos
              FROM events e
              WHERE e.ts <= :as_of AND e.event = 'sales_activity' AND e.contact_key IS NOT NULL
                AND KEYS(e.contact_key))
            SELECT c.contact_key,
                   COALESCE(t.open_deals, 0) AS open_deals,
                   CAST(COALESCE(t.open_deal_amount, 0) AS DOUBLE) AS open_deal_amount,
                   COALESCE(t.won_deals, 0) AS won_deals,
                   t.deal_stage,
                   t.deal_status,
                   t.deal_owner,
                   a.ts AS last_sales_activity_at,
                   a.kind AS last_sales_activity_kind,
                   m.last_marketing_contact_at,
                   CAST(FLOOR(CAST(:as_of_epoch - EPOCH(m.last_marketing_contact_at) AS DOUBLE) / 86400) AS BIGINT)
                     AS days_since_marketing_contact
            FROM contacts c
              LEFT JOIN deal_totals t ON t.contact_key = c.contact_key
              LEFT JOIN marketing m ON m.contact_key = c.contact_key
              LEFT JOIN activities a ON a.contact_key = c.contact_key AND a.pos = 1
            WHERE KEYS(c.contact_key)
            """,
            marketing_events=self.settings.marketing_events,
        )


MODEL = Sales
