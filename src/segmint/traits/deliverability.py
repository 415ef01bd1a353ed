"""Deliverability and consent: whether a contact may be sent marketing email, and why not.

Seed 002 says bounces are for cleaning the database: split hard bounces (a
bad address) from soft bounces (an out-of-office) that came back four or more
times.  Seed 004 names opt-in, opt-out and consent as the fields that steer
marketing and GDPR work.  DESIGN.md promises that nobody without consent, or
with a hard bounce, is ever sent to; ``is_mailable`` is that promise as one
field, so exports and the playbook's "email-marketable" segment need a single
condition instead of five that someone might forget.

Rules, as of ``as_of``:

- ``bounce_status``: ``hard_bounced`` after any hard bounce, even if later
  mail was delivered (kept simple on purpose: a hard bounce means the address
  was rejected once, and re-validating it is the manual work seed 002
  mentions).  Otherwise the trailing run of soft bounces counts: the soft
  bounces strictly after the latest proof of life (a delivery, open or click;
  a machine open too, as the message did reach the mailbox).  A run of at
  least ``suppress_after_soft_bounces`` is ``suppressed``, a shorter one
  ``soft_bouncing``; none is ``ok``.
- ``unsubscribed``: an unsubscribe at or after the latest granted email
  consent for a marketing purpose; a later grant re-subscribes.  An
  unsubscribe at the very instant of a grant stays unsubscribed (safe side).
- ``email_marketing_consent``: the latest email consent record for a
  marketing purpose is in force (DATA.md); on a tie, ``revoked`` wins.
"""

from __future__ import annotations

from pydantic import Field
from sqlglot import exp

from segmint.model.types import FieldType
from segmint.traits.base import TraitContext, TraitField, TraitModel, TraitSettings

#: events that prove the address accepts mail, ending a run of soft bounces
PROOF_OF_LIFE = ("email_delivered", "email_open", "email_click")


class DeliverabilitySettings(TraitSettings):
    suppress_after_soft_bounces: int = Field(
        4, gt=0, description="Soft bounces in a row (no delivery, open or click between) that suppress a contact."
    )
    marketing_purposes: list[str] = Field(
        ["marketing", "newsletter"],
        min_length=1,
        description="Consent purposes (channel email) that allow marketing email; compared ignoring case.",
    )
    require_consent: bool = Field(
        True,
        description="Mail only contacts whose consent is granted; when false, unknown consent also passes "
        "(revoked never does).",
    )


class Deliverability(TraitModel):
    name = "deliverability"
    summary = "Bounces, unsubscribes, spam reports and email consent, and whether the contact may be mailed."
    Settings = DeliverabilitySettings
    settings: DeliverabilitySettings

    def fields(self) -> list[TraitField]:
        s = self.settings
        consent = "granted" if s.require_consent else "not revoked"
        return [
            TraitField(
                "bounce_status",
                FieldType.STRING,
                f"hard_bounced (any hard bounce), suppressed ({s.suppress_after_soft_bounces} or more soft bounces "
                "in a row with no delivery, open or click since), soft_bouncing (fewer) or ok.",
            ),
            TraitField(
                "soft_bounces_in_row",
                FieldType.INTEGER,
                "Soft bounces since the latest delivery, open or click (0 if none).",
            ),
            TraitField(
                "unsubscribed",
                FieldType.BOOLEAN,
                "Unsubscribed from email and not re-subscribed by a later granted email consent.",
            ),
            TraitField("unsubscribed_at", FieldType.TIMESTAMP, "When the contact last unsubscribed."),
            TraitField("spam_reported", FieldType.BOOLEAN, "The contact has reported an email as spam."),
            TraitField(
                "email_marketing_consent",
                FieldType.STRING,
                "granted, revoked or unknown: the latest email consent record for "
                f"{', '.join(s.marketing_purposes)} (revoked wins a tie).",
            ),
            TraitField(
                "consent_changed_at",
                FieldType.TIMESTAMP,
                "When the email marketing consent in force was recorded.",
            ),
            TraitField(
                "is_mailable",
                FieldType.BOOLEAN,
                f"May be sent marketing email: has an email, consent {consent}, no hard bounce, not suppressed, "
                "not unsubscribed and no spam report.",
            ),
        ]

    def query(self, ctx: TraitContext) -> exp.Query:
        s = self.settings
        # Two scans of events: one aggregate over the email events, then the soft bounces alone
        # (a small share of events) compared with each contact's latest proof of life.
        return ctx.parse(
            """
            WITH ev AS (
              SELECT e.contact_key,
                     MAX(e.ts) FILTER (WHERE e.event IN (:alive)) AS last_alive_at,
                     COUNT(*) FILTER (WHERE e.event = 'email_bounce' AND LOWER(e.bounce_type) = 'hard')
                       AS hard_bounces,
                     MAX(e.ts) FILTER (WHERE e.event = 'email_unsubscribe') AS unsubscribed_at,
                     COUNT(*) FILTER (WHERE e.event = 'email_spam_report') AS spam_reports
              FROM events e
              WHERE e.ts <= :as_of AND e.event IN (:email_events) AND e.contact_key IS NOT NULL
                AND KEYS(e.contact_key)
              GROUP BY e.contact_key),
            soft AS (
              SELECT b.contact_key, COUNT(*) AS soft_bounces_in_row
              FROM events b LEFT JOIN ev ON ev.contact_key = b.contact_key
              WHERE b.ts <= :as_of AND b.event = 'email_bounce' AND LOWER(b.bounce_type) = 'soft'
                AND b.contact_key IS NOT NULL AND KEYS(b.contact_key)
                AND (ev.last_alive_at IS NULL OR b.ts > ev.last_alive_at)
              GROUP BY b.contact_key),
            email_consents AS (
              SELECT cs.contact_key, LOWER(cs.status) AS status, cs.ts,
                     ROW_NUMBER() OVER (PARTITION BY cs.contact_key
                                        ORDER BY cs.ts DESC,
                                                 CASE WHEN LOWER(cs.status) = 'revoked' THEN 0 ELSE 1 END) AS pos
              FROM consents cs
              WHERE cs.ts <= :as_of AND LOWER(cs.channel) = 'email' AND LOWER(cs.purpose) IN (:purposes)
                AND LOWER(cs.status) IN ('granted', 'revoked') AND KEYS(cs.contact_key)),
            cn AS (SELECT contact_key, status, ts FROM email_consents WHERE pos = 1),
            granted AS (
              SELECT contact_key, MAX(ts) AS granted_at FROM email_consents WHERE status = 'granted'
              GROUP BY contact_key),
            d AS (
              SELECT c.contact_key,
                     c.email,
                     CASE WHEN COALESCE(ev.hard_bounces, 0) > 0 THEN 'hard_bounced'
                          WHEN COALESCE(soft.soft_bounces_in_row, 0) >= :suppress_after THEN 'suppressed'
                          WHEN COALESCE(soft.soft_bounces_in_row, 0) > 0 THEN 'soft_bouncing'
                          ELSE 'ok' END AS bounce_status,
                     COALESCE(soft.soft_bounces_in_row, 0) AS soft_bounces_in_row,
                     COALESCE(ev.unsubscribed_at >= g.granted_at OR (ev.unsubscribed_at IS NOT NULL
                                                                    AND g.granted_at IS NULL), FALSE)
                       AS unsubscribed,
                     ev.unsubscribed_at,
                     COALESCE(ev.spam_reports, 0) > 0 AS spam_reported,
                     COALESCE(cn.status, 'unknown') AS email_marketing_consent,
                     cn.ts AS consent_changed_at,
                     COALESCE(cn.status = 'granted' OR (cn.status IS NULL AND NOT :require_consent), FALSE)
                       AS consent_ok
              FROM contacts c
                LEFT JOIN ev ON ev.contact_key = c.contact_key
                LEFT JOIN soft ON soft.contact_key = c.contact_key
                LEFT JOIN cn ON cn.contact_key = c.contact_key
                LEFT JOIN granted g ON g.contact_key = c.contact_key
              WHERE KEYS(c.contact_key))
            SELECT contact_key, bounce_status, soft_bounces_in_row, unsubscribed, unsubscribed_at, spam_reported,
                   email_marketing_consent, consent_changed_at,
                   (email IS NOT NULL AND consent_ok AND bounce_status NOT IN ('hard_bounced', 'suppressed')
                    AND NOT unsubscribed AND NOT spam_reported) AS is_mailable
            FROM d
            """,
            alive=list(PROOF_OF_LIFE),
            email_events=sorted({*PROOF_OF_LIFE, "email_bounce", "email_unsubscribe", "email_spam_report"}),
            suppress_after=s.suppress_after_soft_bounces,
            purposes=sorted({p.lower() for p in s.marketing_purposes}),
            require_consent=s.require_consent,
        )


MODEL = Deliverability
