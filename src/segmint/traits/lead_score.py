"""Lead score: fit plus decaying activity points minus an inactivity penalty, its history and its trend.

Seed 002 ("Segmentering på leadscore"): scores must be computed from a
combination of activity and inactivity, and four segments are worth having:
leads without a score, leads whose score rose most in the last 30 days,
leads with the highest score over a period, and leads whose score fell in
the last 60 days.  The fields here are what those segments need:
``has_score``, ``lead_score_change_30d``, ``lead_score_max_90d`` and
``lead_score_change_60d``, next to ``lead_score`` itself.

The score of a contact at an instant ``t`` is

    fit + sum over scored events with ts <= t of points * 0.5 ** ((t - ts) / half_life) + inactivity(t)

- *activity points* (``activities``): each event scores by the first rule it
  matches, e.g. a demo-request form +30, a pricing-page view +10 (and any
  other page view +1), an email click +5 (seed 002: a click is the most
  accurate email signal; an open is a false positive and scores nothing),
  a content download +8, an unsubscribe -20.  An event no rule matches, or
  that scores 0, is not scored activity.
- *decay*: points halve every ``half_life_days``, so interest shown long
  ago weighs little and a score falls when a lead goes quiet.
- *inactivity*: ``inactivity_points`` (-10) while there has been no scored
  activity for more than ``inactivity_days`` (30) — seed 002's "no action
  in the last N days" as part of the score.  It applies to contacts that
  have a score at ``t`` (some scored activity up to ``t``, or fit points).
- *fit* (seed 003: prioritise leads at ICP companies, by buyer persona): points
  for the persona, the seniority, the company's size and industry and its
  ICP grade (``icp_fit``).  Fit is today's, at every ``t``: the changes and
  the 90-day maximum therefore follow activity only.

A contact without a score (``has_score`` false) has 0 everywhere.

Exponential decay factorises, ``0.5 ** ((t - ts)/h) = 2 ** ((as_of - t)/h) *
2 ** ((ts - as_of)/h)``, so each event is weighted once,
``points * 2 ** ((ts - as_of)/h)`` (the exponent is <= 0: no overflow), and
the activity part at any ``t`` is ``2 ** ((as_of - t)/h)`` times the sum of
the weights up to ``t``: conditional sums give the score 30, 60 and 90 days
ago, a running sum (a window) gives it at every event.  The 90-day maximum
needs no day-by-day series: between changes the score moves monotonically
(it decays towards the fit, upwards when the activity sum is negative), so
its highest value over ``[as_of - 90d, as_of]`` is at one of the window's
ends, right after an event, just before an event, or just before the
inactivity penalty sets in (``inactivity_days`` after an event with none
following); every candidate is scored exactly and the largest kept.  Events
at the same instant are summed into one step first.  One scan of events
(filtered by name and ``ts <= as_of``) feeds all of it.

``after`` keeps a daily history in ``lead_score_history``: one row per
contact with a score for the day of ``as_of`` (midnight UTC), replacing that
day's rows of the contacts just computed, so refreshing twice a day leaves
one row and the fresh path touches only its own contacts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlglot import exp

from segmint.model.tables import EVENT_PROPERTY_COLUMNS, Column, Table
from segmint.model.types import FieldType
from segmint.traits.base import TraitContext, TraitField, TraitModel, TraitSettings

DAY_SECONDS = 86_400.0
#: event columns a rule may test (the typed ones; `event` is the rule's own key)
RULE_COLUMNS: dict[str, Column] = {c.name: c for c in EVENT_PROPERTY_COLUMNS}

HISTORY = Table(
    name="lead_score_history",
    entity="contact",
    description="Daily lead score: one row per contact with a score per day of refresh (the latest refresh wins).",
    columns=(
        Column("contact_key", FieldType.INTEGER, "Internal key of the contact.", internal=True),
        Column("day", FieldType.TIMESTAMP, "The day of the refresh's as_of, at midnight UTC."),
        Column("score", FieldType.FLOAT, "The lead score at that refresh."),
    ),
)


class Where(BaseModel):
    """A test on one event column: ``eq`` or ``contains``, ignoring case."""

    model_config = ConfigDict(extra="forbid")

    field: str
    op: Literal["eq", "contains"]
    value: str

    @model_validator(mode="after")
    def _known_column(self) -> Where:
        column = RULE_COLUMNS.get(self.field)
        if column is None or column.type is not FieldType.STRING:
            known = ", ".join(n for n, c in RULE_COLUMNS.items() if c.type is FieldType.STRING)
            raise ValueError(f"'{self.field}' is not a text column of events (one of {known})")
        return self


class Activity(BaseModel):
    """Points for an event (optionally only when ``where`` holds)."""

    model_config = ConfigDict(extra="forbid")

    event: str
    where: Where | None = None
    points: float


def _activity(event: str, points: float, field: str | None = None, op: str = "contains", value: str = "") -> Activity:
    where = Where.model_validate({"field": field, "op": op, "value": value}) if field else None
    return Activity(event=event, where=where, points=points)


DEFAULT_ACTIVITIES = [
    _activity("form_submit", 30, "url", value="/demo"),  # the demo's demo_request form
    _activity("form_submit", 25, "url", value="/pricing"),  # its quote_request form
    _activity("form_submit", 10),
    _activity("page_view", 10, "url", value="/pricing"),
    _activity("page_view", 1),
    _activity("content_download", 8),
    _activity("email_click", 5),
    _activity("search", 2),
    _activity("cart_add", 5),
    _activity("purchase", 20),
    _activity("email_unsubscribe", -20),
    _activity("email_spam_report", -30),
]


class SizeBand(BaseModel):
    """Fit points for a company size: ``min <= employees <= max`` (either bound may be left out)."""

    model_config = ConfigDict(extra="forbid")

    min: int | None = None
    max: int | None = None
    points: float


class LeadScoreSettings(TraitSettings):
    activities: list[Activity] = Field(
        default_factory=lambda: [a.model_copy(deep=True) for a in DEFAULT_ACTIVITIES],
        description="Activity points: {event, where: {field, op: eq|contains, value}, points}; "
        "an event scores by the first rule it matches.",
    )
    half_life_days: float = Field(30, gt=0, description="Activity points halve every this many days.")
    inactivity_days: float = Field(30, gt=0, description="No scored activity for this many days: inactive.")
    inactivity_points: float = Field(-10, description="Points while inactive (a contact with a score only).")
    persona_points: dict[str, float] = Field(
        default_factory=lambda: {
            "executive": 10.0,
            "purchasing": 10.0,
            "technical": 10.0,
            "operations": 10.0,
            "finance": 5.0,
            "it": 5.0,
        },
        description="Fit points by persona (the persona model).",
    )
    seniority_points: dict[str, float] = Field(
        default_factory=lambda: {"c_level": 10.0, "manager": 5.0}, description="Fit points by seniority."
    )
    company_size_points: list[SizeBand] = Field(
        default_factory=lambda: [SizeBand(min=50, max=1000, points=5)],
        description="Fit points by the company's employees: {min, max, points}.",
    )
    industry_points: dict[str, float] = Field(
        default_factory=lambda: dict.fromkeys(("manufacturing", "energy", "forestry", "marine", "mining"), 5.0),
        description="Fit points by the company's industry.",
    )
    icp_fit_points: dict[str, float] = Field(
        default_factory=lambda: {"A": 15.0, "B": 5.0}, description="Fit points by the company's ICP grade (icp_fit)."
    )


class LeadScore(TraitModel):
    name = "lead_score"
    requires = ("icp_fit", "persona")
    summary = "Lead score from fit, decaying activity points and inactivity; its 30/60-day change and 90-day high."
    Settings = LeadScoreSettings
    settings: LeadScoreSettings

    def fields(self) -> list[TraitField]:
        s = self.settings
        return [
            TraitField(
                "lead_score",
                FieldType.FLOAT,
                f"Lead score: fit points + activity points halving every {s.half_life_days:g} days "
                f"{s.inactivity_points:+g} after {s.inactivity_days:g} days without scored activity.",
            ),
            TraitField("lead_score_change_30d", FieldType.FLOAT, "Lead score now minus 30 days ago."),
            TraitField("lead_score_change_60d", FieldType.FLOAT, "Lead score now minus 60 days ago."),
            TraitField("lead_score_max_90d", FieldType.FLOAT, "Highest lead score over the last 90 days."),
            TraitField(
                "has_score",
                FieldType.BOOLEAN,
                "The contact has a lead score: some scored activity, or fit points (false: a lead without a score).",
            ),
        ]

    def query(self, ctx: TraitContext) -> exp.Query:
        s = self.settings
        h = s.half_life_days * DAY_SECONDS
        gap = s.inactivity_days * DAY_SECONDS
        start = ctx.as_of - timedelta(days=90)

        instants: dict[str, float] = {}

        def at(days: int) -> str:
            """The score ``days`` before as_of, from the conditional sums (see the module doc)."""
            instants[f"factor{days}"] = 2 ** (days * DAY_SECONDS / h)
            instants[f"idle_before{days}"] = ctx.as_of.timestamp() - days * DAY_SECONDS - gap
            return (
                f"f.fit + :factor{days} * COALESCE(n.s{days}, 0)"
                f" + CASE WHEN (n.last{days} IS NOT NULL OR f.fit <> 0)"
                f" AND (n.last{days} IS NULL OR EPOCH(n.last{days}) < :idle_before{days}) THEN :idle ELSE 0 END"
            )

        score_at = {days: at(days) for days in (0, 30, 60, 90)}
        return ctx.parse(
            f"""
            WITH fit AS (
              SELECT c.contact_key, CAST(:fit AS DOUBLE) AS fit
              FROM contacts c
              LEFT JOIN {ctx.table("persona")} p ON p.contact_key = c.contact_key
              LEFT JOIN companies co ON co.company_key = c.company_key
              LEFT JOIN {ctx.table("icp_fit")} i ON i.company_key = c.company_key
              WHERE KEYS(c.contact_key)),
            hits AS (
              SELECT e.contact_key, e.ts, :points AS points
              FROM events e
              WHERE e.ts <= :as_of AND e.event IN (:events) AND e.contact_key IS NOT NULL AND KEYS(e.contact_key)),
            weighted AS (
              SELECT contact_key, ts, EPOCH(ts) AS secs,
                     points * POWER(CAST(2 AS DOUBLE), (EPOCH(ts) - :as_of_epoch) / :h) AS weight
              FROM hits
              WHERE points IS NOT NULL AND points <> 0),
            -- events at one instant are one step; only the steps the 90-day maximum looks at are grouped
            moments AS (
              SELECT contact_key, secs, SUM(weight) AS weight
              FROM weighted
              WHERE secs > :start_epoch - :gap
              GROUP BY contact_key, secs),
            sums AS (
              SELECT contact_key,
                     SUM(weight) AS s0, MAX(ts) AS last0,
                     SUM(weight) FILTER (WHERE ts <= :t30) AS s30, MAX(ts) FILTER (WHERE ts <= :t30) AS last30,
                     SUM(weight) FILTER (WHERE ts <= :t60) AS s60, MAX(ts) FILTER (WHERE ts <= :t60) AS last60,
                     SUM(weight) FILTER (WHERE ts <= :t90) AS s90, MAX(ts) FILTER (WHERE ts <= :t90) AS last90,
                     SUM(weight) FILTER (WHERE secs <= :start_epoch - :gap) AS s_pre,
                     MAX(secs) FILTER (WHERE secs <= :start_epoch - :gap) AS last_pre
              FROM weighted
              GROUP BY contact_key),
            -- the moments the 90-day maximum looks at; what came before enters as a sum and a last instant
            -- (windows over every moment of all time cost most of the model's time)
            steps AS (
              SELECT m.contact_key, m.secs, m.weight,
                     COALESCE(n.s_pre, 0) + SUM(m.weight) OVER (PARTITION BY m.contact_key ORDER BY m.secs
                                                            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS total,
                     COALESCE(LAG(m.secs) OVER (PARTITION BY m.contact_key ORDER BY m.secs), n.last_pre) AS prev_secs,
                     LEAD(m.secs) OVER (PARTITION BY m.contact_key ORDER BY m.secs) AS next_secs
              FROM moments m JOIN sums n ON n.contact_key = m.contact_key
              WHERE m.secs > :start_epoch - :gap),
            peaks AS (
              SELECT st.contact_key,
                     MAX(CASE WHEN st.secs > :start_epoch
                              THEN POWER(CAST(2 AS DOUBLE), (:as_of_epoch - st.secs) / :h) * st.total END) AS after_step,
                     MAX(CASE WHEN st.secs > :start_epoch
                              THEN POWER(CAST(2 AS DOUBLE), (:as_of_epoch - st.secs) / :h) * (st.total - st.weight)
                                   + CASE WHEN (st.prev_secs IS NOT NULL OR f.fit <> 0)
                                           AND (st.prev_secs IS NULL OR st.prev_secs < st.secs - :gap)
                                          THEN :idle ELSE 0 END END) AS before_step,
                     MAX(CASE WHEN st.secs + :gap BETWEEN :start_epoch AND :as_of_epoch
                               AND (st.next_secs IS NULL OR st.next_secs > st.secs + :gap)
                              THEN POWER(CAST(2 AS DOUBLE), (:as_of_epoch - st.secs - :gap) / :h) * st.total END)
                       AS before_idle
              FROM steps st JOIN fit f ON f.contact_key = st.contact_key
              WHERE st.secs > :start_epoch - :gap
              GROUP BY st.contact_key),
            scores AS (
              SELECT f.contact_key, f.fit, n.last0,
                     {score_at[0]} AS score0,
                     {score_at[30]} AS score30,
                     {score_at[60]} AS score60,
                     {score_at[90]} AS score90,
                     p.after_step, p.before_step, p.before_idle
              FROM fit f
              LEFT JOIN sums n ON n.contact_key = f.contact_key
              LEFT JOIN peaks p ON p.contact_key = f.contact_key)
            SELECT contact_key,
                   ROUND(CAST(score0 AS DOUBLE), 1) AS lead_score,
                   ROUND(CAST(score0 - score30 AS DOUBLE), 1) AS lead_score_change_30d,
                   ROUND(CAST(score0 - score60 AS DOUBLE), 1) AS lead_score_change_60d,
                   ROUND(CAST(GREATEST(score0, score90, COALESCE(fit + after_step, score0),
                                       COALESCE(fit + before_step, score0), COALESCE(fit + before_idle, score0))
                              AS DOUBLE), 1)
                     AS lead_score_max_90d,
                   COALESCE(last0 IS NOT NULL OR fit <> 0, FALSE) AS has_score
            FROM scores
            """,
            fit=self.fit_points(),
            points=self.activity_points(ctx),
            events=sorted({a.event for a in s.activities}) or [""],
            h=h,
            gap=gap,
            idle=s.inactivity_points,
            start_epoch=start.timestamp(),
            t30=timedelta(days=30),
            t60=timedelta(days=60),
            t90=timedelta(days=90),
            **instants,
        )

    def activity_points(self, ctx: TraitContext) -> exp.Expr:
        """The points of an event row ``e``: the first matching rule's, NULL when none matches."""
        rules = self.settings.activities
        if not rules:
            return exp.cast(exp.null(), exp.DataType.build("double"))
        case = exp.case()
        for rule in rules:
            test: exp.Expr = exp.column("event", table="e").eq(exp.Literal.string(rule.event))
            if rule.where is not None:
                column = exp.column(rule.where.field, table="e")
                test = exp.and_(
                    test, ctx.compiler.field_test(rule.where.op, column, rule.where.value, FieldType.STRING)
                )
            case = case.when(test, exp.Literal.number(rule.points))
        return case

    def fit_points(self) -> exp.Expr:
        """The fit points of a contact row ``c`` with its persona ``p``, company ``co`` and ICP grade ``i``."""
        s = self.settings
        parts = [
            _lookup(exp.column("persona", table="p"), s.persona_points),
            _lookup(exp.column("seniority", table="c"), s.seniority_points),
            _lookup(exp.column("industry", table="co"), s.industry_points),
            _lookup(exp.column("icp_fit", table="i"), s.icp_fit_points),
        ]
        employees = exp.column("employees", table="co")
        for band in s.company_size_points:
            bounds: list[exp.Expr] = [employees.is_(exp.null()).not_()]
            if band.min is not None:
                bounds.append(employees >= exp.Literal.number(band.min))
            if band.max is not None:
                bounds.append(employees <= exp.Literal.number(band.max))
            parts.append(
                exp.case().when(exp.and_(*bounds), exp.Literal.number(band.points)).else_(exp.Literal.number(0))
            )
        total: exp.Expr = exp.Literal.number(0)
        for part in parts:
            total = exp.Add(this=total, expression=part)
        return total

    def after(self, ctx: TraitContext) -> None:
        """Replace today's history rows of the contacts just computed with their scores."""
        engine = ctx.store.engine
        if not engine.table_exists(HISTORY.name):
            engine.create_table(HISTORY)
        day = _day(ctx.as_of)
        today = exp.and_(exp.column("day").eq(ctx.literal(day)), ctx.keys_condition("contact_key"))
        engine.delete_where(HISTORY.name, engine.sql(today))
        rows = ctx.parse(
            f"SELECT contact_key, :day AS day, lead_score AS score FROM {self.table} "
            "WHERE has_score AND KEYS(contact_key)",
            day=day,
        )
        engine.insert_select(HISTORY.name, HISTORY.column_names, engine.sql(rows))


def _lookup(column: exp.Expr, points: dict[str, float]) -> exp.Expr:
    """``points[lower(column)]``, 0 when the value is unset or not listed."""
    if not points:
        return exp.Literal.number(0)
    case = exp.case()
    for value, p in points.items():
        case = case.when(exp.Lower(this=column).eq(exp.Literal.string(value.lower())), exp.Literal.number(p))
    return case.else_(exp.Literal.number(0))


def _day(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


MODEL = LeadScore
