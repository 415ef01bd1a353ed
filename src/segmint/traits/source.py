"""Source channel, first-touch content and time: how, with what and when a contact came, and when they converted.

Seed 003 names the three as the first ways to segment a database: the source
channel ("did they come organically? were they a referral? did they click a
paid ad?") shows which marketing deserves more investment; the first-touch
content ("while the source channel says how a contact was brought to your
site, first-touch content is what they saw when they came"); and time ("was
there a campaign or a seasonal event behind a contact's conversion, and how
do contacts who converted through it perform over time").

Rules, as of ``as_of``:

- The *first touch* is the contact's earliest page view, form submission or
  download (ties broken by ``event_id``).  Its channel, content and time
  describe the same event, so ``original_source``, ``first_touch_content``
  and ``first_touch_at`` never disagree.  A form or download that comes
  before any page view (a form embedded elsewhere, page tracking added
  later) is the first touch; its own referrer and UTM tags give its channel,
  and without them it is ``direct``, like a page view without a referrer.
- ``original_source``: the contact's stored ``source`` wins when set (the
  import knows best, DATA.md), lower-cased and mapped through
  ``source_synonyms`` ('organic' -> organic_search, 'ppc' -> paid, ...);
  other stored values are kept lower-cased (e.g. ``event``, ``webshop``).
  Otherwise the first touch is read in this order: a paid UTM medium ->
  ``paid``; an email medium or a newsletter UTM source -> ``email``; a social
  medium, UTM source or referrer -> ``social``; a search engine's referrer ->
  ``organic_search``; any other referrer -> ``referral``; none -> ``direct``.
  A contact without any page view, form or download came in by a list or a
  CRM sync, not through the site: ``import`` (email events alone do not make
  a touch: mail is only sent to contacts who are already known).
- ``first_touch_content``: the first page view's UTM campaign, else its URL
  path (no host, query or fragment); the first form's ``form_id``; the first
  download's ``asset``.
- ``signup_month``: the month of ``created_at`` (when it is not after
  ``as_of``), else of the contact's first event; ``conversion_month``: the
  month of the first purchase or won deal (its ``closed_at``, or its
  ``created_at`` when the close date is missing).  Months are UTC.

Referrer hosts are compared by whole labels: ``google`` matches
``www.google.fi`` and ``google.com``, ``t.co`` matches ``t.co`` but not
``at.com``.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field
from sqlglot import exp

from segmint.model.types import FieldType
from segmint.traits.base import TraitContext, TraitField, TraitModel, TraitSettings

#: the channels inference gives (stored sources may add others, e.g. event or webshop)
CHANNELS = ("organic_search", "paid", "social", "email", "referral", "direct", "import")
#: the events that can be a first touch
TOUCH_EVENTS = ("page_view", "form_submit", "content_download")


class SourceSettings(TraitSettings):
    paid_mediums: list[str] = Field(
        ["cpc", "ppc", "paid", "paid_search", "paid_social", "display", "cpm"],
        description="UTM mediums of paid traffic (compared ignoring case).",
    )
    email_mediums: list[str] = Field(
        ["email", "e-mail", "newsletter"], description="UTM mediums of email traffic (compared ignoring case)."
    )
    email_sources: list[str] = Field(
        ["newsletter"], description="A UTM source containing any of these (ignoring case) is email traffic."
    )
    social_mediums: list[str] = Field(
        ["social", "social_media", "social-media", "organic_social"],
        description="UTM mediums of (unpaid) social traffic (compared ignoring case).",
    )
    social_sources: list[str] = Field(
        ["facebook", "fb", "instagram", "ig", "linkedin", "twitter", "x", "youtube", "tiktok"],
        description="UTM sources that are social networks (equal, ignoring case).",
    )
    social_domains: list[str] = Field(
        ["facebook", "fb.com", "linkedin", "lnkd.in", "instagram", "twitter", "x.com", "t.co", "youtube", "youtu.be"],
        description="Referrer hosts of social networks: whole labels, 'facebook' matches www.facebook.com.",
    )
    search_domains: list[str] = Field(
        ["google", "bing", "duckduckgo", "yahoo", "ecosia", "yandex"],
        description="Referrer hosts of search engines: whole labels, 'google' matches www.google.fi.",
    )
    source_synonyms: dict[str, list[str]] = Field(
        {
            "organic_search": ["organic", "organic search", "organic_seo", "seo", "search"],
            "paid": ["ppc", "cpc", "paid search", "paid_search", "sem", "ads", "paid social", "paid_social", "display"],
            "social": ["social media", "social_media", "social-media"],
            "email": ["e-mail", "newsletter", "email marketing", "email_marketing"],
            "referral": ["referrer", "referred"],
            "direct": ["direct traffic", "direct_traffic", "typed"],
            "import": ["imported", "list import", "list_import", "offline"],
        },
        description="Stored source values (ignoring case) that mean a channel: channel -> its synonyms.",
    )
    conversion_events: list[str] = Field(
        ["purchase"], min_length=1, description="Events that convert a contact (won deals always do)."
    )


def _lowered(values: Iterable[str]) -> list[str]:
    return sorted({v.strip().lower() for v in values})


def _contains_any(text: exp.Expr, needles: Iterable[str]) -> exp.Expr:
    """``text`` contains one of ``needles`` (already lower-cased); FALSE for none."""
    tests = [exp.StrPosition(this=text.copy(), substr=exp.Literal.string(n)) > exp.Literal.number(0) for n in needles]
    return exp.paren(exp.or_(*tests)) if tests else exp.false()


def _host_matches(host: exp.Expr, domains: Iterable[str]) -> exp.Expr:
    """``host`` (written ``.www.google.fi.``) has one of ``domains`` as whole labels."""
    return _contains_any(host, [f".{d.strip('.')}." for d in _lowered(domains)])


class Source(TraitModel):
    name = "source"
    summary = "Original source channel, first-touch content and time, signup and conversion months."
    Settings = SourceSettings
    settings: SourceSettings

    def fields(self) -> list[TraitField]:
        return [
            TraitField(
                "original_source",
                FieldType.STRING,
                "How the contact came: " + ", ".join(CHANNELS) + " (or the stored source, lower-cased); "
                "the stored source wins, else inferred from the first page view, form or download.",
            ),
            TraitField(
                "first_touch_content",
                FieldType.STRING,
                "What the contact first saw: the first page view's UTM campaign or URL path, "
                "the first form's form_id or the first download's asset.",
            ),
            TraitField(
                "first_touch_at", FieldType.TIMESTAMP, "When the contact's first page view, form or download happened."
            ),
            TraitField(
                "signup_month",
                FieldType.STRING,
                "Month the contact was created (YYYY-MM, UTC), else of their first event.",
            ),
            TraitField(
                "conversion_month",
                FieldType.STRING,
                "Month of the contact's first purchase or won deal (YYYY-MM, UTC); unset if never.",
            ),
        ]

    def query(self, ctx: TraitContext) -> exp.Query:
        s = self.settings
        host = exp.column("host", table="ft")
        # stored synonyms: one WHEN per channel, values as literals
        synonyms = {f"syn_{i}": _lowered(words) for i, words in enumerate(s.source_synonyms.values())}
        targets = {f"target_{i}": target.strip().lower() for i, target in enumerate(s.source_synonyms)}
        mapping = " ".join(f"WHEN st.stored IN (:syn_{i}) THEN :target_{i}" for i in range(len(synonyms)))
        stored = f"CASE {mapping} ELSE st.stored END" if mapping else "st.stored"
        return ctx.parse(
            f"""
            WITH firsts AS (
              SELECT e.contact_key, MIN(e.ts) AS first_event_at,
                     MIN(e.ts) FILTER (WHERE e.event IN (:touch_events)) AS first_touch_ts,
                     MIN(e.ts) FILTER (WHERE e.event IN (:conversion_events)) AS first_conversion_at
              FROM events e
              WHERE e.ts <= :as_of AND e.contact_key IS NOT NULL AND KEYS(e.contact_key)
              GROUP BY e.contact_key),
            -- the first touch's row: a join on its instant, so only those rows are ranked and read in full
            -- (ranking every page view to keep the first cost most of the model's time)
            touch AS (
              SELECT e.contact_key, e.event, e.ts, e.utm_campaign,
                     LOWER(TRIM(e.utm_source)) AS src, LOWER(TRIM(e.utm_medium)) AS medium,
                     NULLIF(LOWER(TRIM(e.referrer)), '') AS ref,
                     SPLIT_PART(SPLIT_PART(TRIM(e.url), '#', 1), '?', 1) AS url,
                     PROP(e.properties, 'form_id') AS form_id, PROP(e.properties, 'asset') AS asset,
                     ROW_NUMBER() OVER (PARTITION BY e.contact_key ORDER BY e.event_id) AS n
              FROM events e JOIN firsts f ON f.contact_key = e.contact_key AND f.first_touch_ts = e.ts
              WHERE e.ts <= :as_of AND e.event IN (:touch_events) AND KEYS(e.contact_key)),
            split AS (
              SELECT t.*,
                     CASE WHEN STRPOS(t.url, '://') > 0 THEN SUBSTRING(t.url, STRPOS(t.url, '://') + 3) END
                       AS url_rest,
                     CASE WHEN STRPOS(t.ref, '://') > 0 THEN SUBSTRING(t.ref, STRPOS(t.ref, '://') + 3)
                          ELSE t.ref END AS ref_rest
              FROM touch t WHERE t.n = 1),
            ft AS (
              SELECT x.contact_key, x.event, x.ts, x.src, x.medium, x.form_id, x.asset,
                     NULLIF(TRIM(x.utm_campaign), '') AS campaign,
                     NULLIF(CASE WHEN x.url_rest IS NULL THEN x.url
                                 WHEN STRPOS(x.url_rest, '/') > 0 THEN SUBSTRING(x.url_rest, STRPOS(x.url_rest, '/'))
                                 ELSE '/' END, '') AS path,
                     CASE WHEN x.ref IS NOT NULL
                          THEN '.' || SPLIT_PART(SPLIT_PART(SPLIT_PART(x.ref_rest, '/', 1), '?', 1), ':', 1) || '.'
                          END AS host
              FROM split x),
            won AS (
              SELECT d.contact_key, MIN(COALESCE(d.closed_at, d.created_at)) AS first_won_at
              FROM deals d
              WHERE d.status = 'won' AND COALESCE(d.closed_at, d.created_at) <= :as_of AND d.contact_key IS NOT NULL
                AND KEYS(d.contact_key)
              GROUP BY d.contact_key),
            st AS (
              SELECT c.contact_key, c.created_at, NULLIF(LOWER(TRIM(c.source)), '') AS stored
              FROM contacts c WHERE KEYS(c.contact_key))
            SELECT st.contact_key,
                   COALESCE(
                     {stored},
                     CASE WHEN ft.contact_key IS NULL THEN 'import'
                          WHEN ft.medium IN (:paid_mediums) THEN 'paid'
                          WHEN ft.medium IN (:email_mediums) OR :email_source THEN 'email'
                          WHEN ft.medium IN (:social_mediums) OR ft.src IN (:social_sources) OR :social_host
                            THEN 'social'
                          WHEN :search_host THEN 'organic_search'
                          WHEN ft.host IS NOT NULL THEN 'referral'
                          ELSE 'direct' END) AS original_source,
                   CASE WHEN ft.event = 'form_submit' THEN COALESCE(ft.form_id, ft.path)
                        WHEN ft.event = 'content_download' THEN COALESCE(ft.asset, ft.path)
                        ELSE COALESCE(ft.campaign, ft.path) END AS first_touch_content,
                   ft.ts AS first_touch_at,
                   STRFTIME(COALESCE(CASE WHEN st.created_at <= :as_of THEN st.created_at END, f.first_event_at),
                            '%Y-%m') AS signup_month,
                   STRFTIME(LEAST(COALESCE(f.first_conversion_at, w.first_won_at),
                                  COALESCE(w.first_won_at, f.first_conversion_at)), '%Y-%m') AS conversion_month
            FROM st
            LEFT JOIN ft ON ft.contact_key = st.contact_key
            LEFT JOIN firsts f ON f.contact_key = st.contact_key
            LEFT JOIN won w ON w.contact_key = st.contact_key
            """,
            touch_events=list(TOUCH_EVENTS),
            conversion_events=s.conversion_events,
            paid_mediums=_lowered(s.paid_mediums),
            email_mediums=_lowered(s.email_mediums),
            email_source=_contains_any(exp.column("src", table="ft"), _lowered(s.email_sources)),
            social_mediums=_lowered(s.social_mediums),
            social_sources=_lowered(s.social_sources),
            social_host=_host_matches(host, s.social_domains),
            search_host=_host_matches(host, s.search_domains),
            **synonyms,
            **targets,
        )


MODEL = Source
