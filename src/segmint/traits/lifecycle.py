"""Lifecycle stage and journey phase: where a contact stands with the company, and where in the buying journey.

Seed 001 starts from the contact's relationship ("subscribers who never
bought", "active customers", ...) and ends with lifecycle segmentation that
follows the customer's journey: awareness (just found the problem: educate,
do not sell), consideration (comparing options: cases, specifications,
demo invitations), decision (ready to buy: prices, terms, a salesperson),
onboarding (just bought: help them get started, no upselling yet) and
retention (established customers: value, complementary products, loyalty).

``lifecycle_stage`` refines the contact's stored field of the same name: the
stored (imported) stage wins in segments when set, so this model's column
holds the *inferred* stage only, the highest that applies as of ``as_of``:

- ``customer``: a purchase (``customer_events``) or a won deal (closed, or
  created when the close date is missing, by ``as_of``);
- ``opportunity``: a deal open at ``as_of`` (created by then and either still
  open or closed only later);
- ``sql``: a sales activity, or a demo or quote request form, within
  ``sql_days`` (sales is working the contact now);
- ``mql``: a form within ``mql_days`` (other than a newsletter signup), or
  ``mql_page_views`` views of pricing or product pages within ``mql_days`` —
  seed 001's "visited the pricing page three times in the last week", kept
  simple and configurable instead of a full lead score;
- ``lead``: any form (other than a newsletter signup) or download ever (seed
  001: the whitepaper download that gave you the address);
- ``subscriber``: a newsletter signup, a granted email consent in force
  (the latest record per purpose, DATA.md; on a tie ``revoked`` wins), or
  any email received;
- ``other``: everyone else.

``journey_phase`` is the first of ``journey_rules`` that matches (several
rules of one phase are alternatives), else ``default_phase``.  A rule names
events (``deal_won`` stands for a won deal at its close date), optionally the
URLs they must contain and the form ids, a window, a minimum count, or
``first_time``: the contact's first such event falls in the window (so
onboarding is "first purchase within 60 days" and retention, evaluated after
it, "bought before").  The defaults follow the demo site's pages and forms.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlglot import exp

from segmint.model.types import FieldType
from segmint.traits.base import TraitContext, TraitField, TraitModel, TraitSettings

#: the event name a won deal takes in journey rules and ``customer_events``
DEAL_WON = "deal_won"


class JourneyRule(BaseModel):
    """One behaviour that puts a contact in a journey phase (the first matching rule wins)."""

    model_config = ConfigDict(extra="forbid")

    phase: str = Field(min_length=1, description="The phase this rule gives.")
    events: list[str] = Field(min_length=1, description=f"Event names (any of them); '{DEAL_WON}': a won deal.")
    url_contains: list[str] = Field([], description="The event's url contains one of these (ignoring case).")
    form_ids: list[str] = Field([], description="The event's form_id is one of these (ignoring case).")
    within_days: int | None = Field(None, gt=0, description="Only events within this many days; none: ever.")
    min_count: int = Field(1, ge=1, description="At least this many matching events.")
    first_time: bool = Field(False, description="The contact's first matching event ever is within the window.")

    @model_validator(mode="after")
    def _first_time_needs_a_window(self) -> JourneyRule:
        if self.first_time and self.within_days is None:
            raise ValueError("first_time needs within_days")
        return self


def _rule(phase: str, events: list[str], **more: Any) -> JourneyRule:
    return JourneyRule(phase=phase, events=events, **more)


DEFAULT_RULES = [
    _rule("onboarding", ["purchase", DEAL_WON], within_days=60, first_time=True),
    _rule("retention", ["purchase", DEAL_WON]),
    _rule("decision", ["page_view"], url_contains=["/pricing", "/demo"], within_days=30),
    _rule("decision", ["form_submit"], form_ids=["demo_request", "quote_request"], within_days=30),
    _rule("decision", ["cart_add"], within_days=30),
    _rule(
        "consideration",
        ["page_view"],
        url_contains=["/products", "/shop/", "/webinars", "/downloads", "/references"],
        within_days=30,
    ),
    _rule("consideration", ["content_download", "search"], within_days=30),
    _rule("consideration", ["form_submit"], form_ids=["webinar_registration"], within_days=30),
]


class LifecycleSettings(TraitSettings):
    customer_events: list[str] = Field(["purchase"], description="Events that make a customer (won deals always do).")
    sql_days: int = Field(90, gt=0, description="A sales activity or sales form within this many days: sql.")
    sales_events: list[str] = Field(["sales_activity"], description="Events of sales working the contact.")
    sales_forms: list[str] = Field(
        ["demo_request", "quote_request"], description="Form ids that ask for sales (ignoring case)."
    )
    mql_days: int = Field(30, gt=0, description="Window of the mql signals.")
    mql_page_views: int = Field(3, gt=0, description="Views of mql_urls within mql_days that make an mql.")
    mql_urls: list[str] = Field(
        ["/pricing", "/products"], description="Pages whose views count towards mql (url contains, ignoring case)."
    )
    subscriber_forms: list[str] = Field(
        ["newsletter_signup"], description="Form ids of signing up for email: subscriber, not lead (ignoring case)."
    )
    email_events: list[str] = Field(
        ["email_sent", "email_delivered", "email_open", "email_click"],
        description="Events that show the contact receives email: subscriber.",
    )
    journey_rules: list[JourneyRule] = Field(
        DEFAULT_RULES, description="Journey phase rules, in order: the first that matches gives the phase."
    )
    default_phase: str = Field("awareness", min_length=1, description="The phase when no rule matches.")


def _lowered(values: list[str]) -> list[str]:
    return sorted({v.strip().lower() for v in values})


def _rule_filter(rule: JourneyRule) -> exp.Expr:
    """The rule's URL and form conditions on a row of ``ev`` (whose url and form_id are lower-cased)."""
    tests: list[exp.Expr] = []
    if rule.url_contains:
        url = exp.column("url", table="ev")
        tests.append(
            exp.paren(
                exp.or_(
                    *(
                        exp.StrPosition(this=url.copy(), substr=exp.Literal.string(u)) > exp.Literal.number(0)
                        for u in _lowered(rule.url_contains)
                    )
                )
            )
        )
    if rule.form_ids:
        tests.append(exp.column("form_id", table="ev").isin(*(exp.Literal.string(f) for f in _lowered(rule.form_ids))))
    return exp.and_(*tests) if tests else exp.true()


class Lifecycle(TraitModel):
    name = "lifecycle"
    summary = "Inferred lifecycle stage (the stored one wins) and the buying-journey phase."
    Settings = LifecycleSettings
    settings: LifecycleSettings

    def fields(self) -> list[TraitField]:
        s = self.settings
        phases = list(dict.fromkeys([*(r.phase for r in s.journey_rules), s.default_phase]))
        return [
            TraitField(
                "lifecycle_stage",
                FieldType.STRING,
                "Lifecycle stage: the stored one, else inferred: customer (bought or won a deal), opportunity "
                f"(open deal), sql (sales activity or demo/quote request within {s.sql_days} days), mql (a form, "
                f"or {s.mql_page_views} pricing/product views, within {s.mql_days} days), lead (any form or "
                "download), subscriber (newsletter signup, email consent or email received) or other.",
                explicit=True,
            ),
            TraitField(
                "journey_phase",
                FieldType.STRING,
                "Buying-journey phase from behaviour: " + ", ".join(phases) + " (the first matching rule wins).",
            ),
        ]

    def query(self, ctx: TraitContext) -> exp.Query:
        s = self.settings
        rules = s.journey_rules
        values: dict[str, Any] = {}
        columns, phases = [], []
        for i, rule in enumerate(rules):
            values[f"r{i}_events"] = rule.events
            values[f"r{i}_where"] = _rule_filter(rule)
            values[f"r{i}_min"] = rule.min_count
            values[f"r{i}_phase"] = rule.phase
            match = f"ev.event IN (:r{i}_events) AND :r{i}_where"
            if rule.within_days is not None:
                values[f"r{i}_since"] = timedelta(days=rule.within_days)
            if rule.first_time:
                columns.append(f"MIN(ev.ts) FILTER (WHERE {match}) >= :r{i}_since AS r{i}")
            else:
                window = f" AND ev.ts >= :r{i}_since" if rule.within_days is not None else ""
                columns.append(f"COUNT(*) FILTER (WHERE {match}{window}) >= :r{i}_min AS r{i}")
            phases.append(f"WHEN a.r{i} THEN :r{i}_phase")
        events = {
            *s.customer_events,
            *s.sales_events,
            "form_submit",
            "content_download",
            "page_view",
            *(e for r in rules for e in r.events),
        } - {DEAL_WON}
        mql_url = exp.column("url", table="ev")
        mql_pages = [
            exp.StrPosition(this=mql_url.copy(), substr=exp.Literal.string(u)) > exp.Literal.number(0)
            for u in _lowered(s.mql_urls)
        ]
        rule_columns = "".join(f", {c}" for c in columns)
        journey = f"CASE {' '.join(phases)} ELSE :default_phase END" if phases else ":default_phase"
        return ctx.parse(
            f"""
            WITH ev AS (
              SELECT e.contact_key, e.event, e.ts, LOWER(e.url) AS url,
                     -- only forms have a form_id: reading the JSON of every event cost most of the model's time
                     CASE WHEN e.event = 'form_submit' THEN LOWER(PROP(e.properties, 'form_id')) END AS form_id
              FROM events e
              WHERE e.ts <= :as_of AND e.event IN (:events) AND e.contact_key IS NOT NULL AND KEYS(e.contact_key)
              UNION ALL
              SELECT d.contact_key, :deal_won, COALESCE(d.closed_at, d.created_at), CAST(NULL AS VARCHAR),
                     CAST(NULL AS VARCHAR)
              FROM deals d
              WHERE d.status = 'won' AND COALESCE(d.closed_at, d.created_at) <= :as_of AND d.contact_key IS NOT NULL
                AND KEYS(d.contact_key)),
            act AS (
              SELECT ev.contact_key,
                     COUNT(*) FILTER (WHERE ev.event IN (:customer_events)) > 0 AS is_customer,
                     COUNT(*) FILTER (WHERE ev.ts >= :sql_since
                                      AND (ev.event IN (:sales_events)
                                           OR (ev.event = 'form_submit' AND ev.form_id IN (:sales_forms)))) > 0
                       AS is_sql,
                     COUNT(*) FILTER (WHERE ev.ts >= :mql_since AND ev.event = 'form_submit'
                                      AND NOT COALESCE(ev.form_id IN (:subscriber_forms), FALSE)) > 0
                       OR COUNT(*) FILTER (WHERE ev.ts >= :mql_since AND ev.event = 'page_view' AND :mql_pages)
                          >= :mql_page_views AS is_mql,
                     COUNT(*) FILTER (WHERE ev.event = 'content_download'
                                      OR (ev.event = 'form_submit'
                                          AND NOT COALESCE(ev.form_id IN (:subscriber_forms), FALSE))) > 0 AS is_lead,
                     COUNT(*) FILTER (WHERE ev.event = 'form_submit' AND ev.form_id IN (:subscriber_forms)) > 0
                       AS is_subscriber{rule_columns}
              FROM ev GROUP BY ev.contact_key),
            -- receiving email makes a subscriber: a narrow scan of its own, because email events are most of
            -- the events and would otherwise all go through the aggregate above
            mailed AS (
              SELECT DISTINCT e.contact_key
              FROM events e
              WHERE e.ts <= :as_of AND e.event IN (:email_events) AND e.contact_key IS NOT NULL
                AND KEYS(e.contact_key)),
            open_deal AS (
              SELECT DISTINCT d.contact_key
              FROM deals d
              WHERE d.contact_key IS NOT NULL AND KEYS(d.contact_key)
                AND (d.created_at IS NULL OR d.created_at <= :as_of)
                AND (d.status = 'open' OR COALESCE(d.closed_at, d.created_at) > :as_of)),
            latest_consent AS (
              SELECT k.contact_key, k.status,
                     ROW_NUMBER() OVER (PARTITION BY k.contact_key, LOWER(k.purpose) ORDER BY k.ts DESC, k.status DESC)
                       AS n
              FROM consents k
              WHERE k.channel = 'email' AND k.ts <= :as_of AND k.contact_key IS NOT NULL AND KEYS(k.contact_key)),
            consent AS (
              SELECT lc.contact_key FROM latest_consent lc
              WHERE lc.n = 1 AND lc.status = 'granted'
              GROUP BY lc.contact_key)
            SELECT c.contact_key,
                   CASE WHEN a.is_customer THEN 'customer'
                        WHEN o.contact_key IS NOT NULL THEN 'opportunity'
                        WHEN a.is_sql THEN 'sql'
                        WHEN a.is_mql THEN 'mql'
                        WHEN a.is_lead THEN 'lead'
                        WHEN a.is_subscriber OR m.contact_key IS NOT NULL OR g.contact_key IS NOT NULL
                          THEN 'subscriber'
                        ELSE 'other' END AS lifecycle_stage,
                   {journey} AS journey_phase
            FROM contacts c
            LEFT JOIN act a ON a.contact_key = c.contact_key
            LEFT JOIN open_deal o ON o.contact_key = c.contact_key
            LEFT JOIN consent g ON g.contact_key = c.contact_key
            LEFT JOIN mailed m ON m.contact_key = c.contact_key
            WHERE KEYS(c.contact_key)
            """,
            events=sorted(events),
            deal_won=DEAL_WON,
            customer_events=[*s.customer_events, DEAL_WON],
            sql_since=timedelta(days=s.sql_days),
            sales_events=s.sales_events,
            sales_forms=_lowered(s.sales_forms),
            mql_since=timedelta(days=s.mql_days),
            mql_pages=exp.paren(exp.or_(*mql_pages)) if mql_pages else exp.false(),
            mql_page_views=s.mql_page_views,
            subscriber_forms=_lowered(s.subscriber_forms),
            email_events=s.email_events,
            default_phase=s.default_phase,
            **values,
        )


MODEL = Lifecycle
