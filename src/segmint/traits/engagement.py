"""Engagement: when a contact last showed a human sign of interest, and the tier that puts them in.

Clicks count; an email open counts only when it is not a machine open (a
privacy proxy or a scanner: seed 002 calls opens a false positive), and
``opens_only`` marks contacts whose only signals are opens, so they can be
handled apart instead of being called engaged.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from segmint.model.types import FieldType
from segmint.traits.base import TraitContext, TraitField, TraitModel, TraitSettings


class EngagementSettings(TraitSettings):
    active_days: int = Field(30, gt=0, description="Engaged within this many days: active.")
    lapsing_days: int = Field(90, gt=0, description="Engaged within this many days (but not active): lapsing.")
    signals: list[str] = Field(
        ["email_click", "email_open", "page_view", "form_submit", "content_download", "search", "cart_add", "purchase"],
        description="Events that show engagement (email_open only when not a machine open).",
    )


class Engagement(TraitModel):
    name = "engagement"
    summary = "Last engagement and the engagement tier: active, lapsing, dormant or never."
    Settings = EngagementSettings
    settings: EngagementSettings

    def fields(self) -> list[TraitField]:
        s = self.settings
        return [
            TraitField(
                "last_engaged_at",
                FieldType.TIMESTAMP,
                "When the contact last engaged: a click, a human (not machine) open, a visit, a form, a purchase.",
            ),
            TraitField(
                "engagement_tier",
                FieldType.STRING,
                f"active (engaged within {s.active_days} days), lapsing (within {s.lapsing_days}), "
                "dormant (longer ago) or never.",
            ),
            TraitField(
                "opens_only",
                FieldType.BOOLEAN,
                "The contact's only signals are email opens (often machine opens): no click, visit or purchase.",
            ),
        ]

    def query(self, ctx: TraitContext):  # type: ignore[no-untyped-def]
        s = self.settings
        others = [e for e in s.signals if e != "email_open"]
        return ctx.parse(
            """
            WITH sig AS (
              SELECT e.contact_key,
                     MAX(e.ts) FILTER (WHERE e.event IN (:signals)
                                       AND NOT (e.event = 'email_open' AND COALESCE(e.machine_open, FALSE)))
                       AS last_engaged_at,
                     COUNT(*) FILTER (WHERE e.event = 'email_open') AS opens,
                     COUNT(*) FILTER (WHERE e.event IN (:others)) AS other_signals
              FROM events e
              WHERE e.ts <= :as_of AND e.event IN (:all_events) AND e.contact_key IS NOT NULL
                AND KEYS(e.contact_key)
              GROUP BY e.contact_key)
            SELECT c.contact_key,
                   s.last_engaged_at,
                   CASE WHEN s.last_engaged_at IS NULL THEN 'never'
                        WHEN s.last_engaged_at >= :active THEN 'active'
                        WHEN s.last_engaged_at >= :lapsing THEN 'lapsing'
                        ELSE 'dormant' END AS engagement_tier,
                   COALESCE(s.opens > 0 AND s.other_signals = 0, FALSE) AS opens_only
            FROM contacts c LEFT JOIN sig s ON s.contact_key = c.contact_key
            WHERE KEYS(c.contact_key)
            """,
            signals=s.signals,
            others=others or [""],
            all_events=sorted({*s.signals, "email_open"}),
            active=timedelta(days=s.active_days),
            lapsing=timedelta(days=s.lapsing_days),
        )


MODEL = Engagement
