"""How each segment performs against the whole list (seed 003: which segments perform, which do not).

For a segment's *current* members (``segment_members`` of its last refresh
for a dynamic segment, ``segment_static_members`` for a static one; for a
company segment, the contacts of its member companies) this module measures,
over a window ``[since, until)`` (default: the 90 days before now):

- email, per send: a *send* is one campaign to one contact (distinct
  ``(contact, campaign_id)`` of ``email_sent``; a send without a
  ``campaign_id`` counts on its own and can never be matched), and a send is
  opened / clicked / unsubscribed from / bounced when the same contact has an
  ``email_open`` (``machine_open`` not true) / ``email_click`` /
  ``email_unsubscribe`` / ``email_bounce`` event of the same campaign in the
  window -- unique rates as HubSpot and Mailchimp report them;
- conversions (contacts with a purchase / contacts), revenue per contact,
  average order value (an order: one ``order_id`` of one contact), tickets per
  contact, sends per contact, and the mean ``predicted_clv`` of the ``clv``
  trait (as of the last refresh, not of the window).

Every measure is compared with the whole list (every contact in the store).
The test compares the segment with the contacts *outside* it: the segment is
part of the whole list, so testing it against the whole list would compare a
sample with itself, and the two-sample tests assume independent groups.  The
whole list's value is the weighted mean of the segment and the rest, so
``segment - whole = (n_rest / n_all) * (segment - rest)``: the difference and
its 95 % interval are shown against the whole list by that exact scaling, and
the p-value is the test's.  Rates use the pooled two-proportion z-test and
Newcombe's hybrid score interval (from scipy's Wilson intervals); means
use Welch's t-test from sufficient statistics (count, sum, sum of squares
summed in SQL).  Benjamini-Hochberg (``scipy.stats.false_discovery_control``)
adjusts the p-values of each family: one segment's measures in
:func:`segment_report`, every segment's measures in :func:`rank_segments`.

Aggregates run in the store's SQL (one query for every segment at once); only
one row per segment comes back to Python.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from scipy import stats  # type: ignore[import-untyped]
from sqlglot import exp

from segmint.dsl.timestamps import parse_timestamp
from segmint.errors import InsufficientDataError, NotFoundError, UsageError
from segmint.model.tables import CONTACTS, SEGMENT_REFRESHES, SEGMENTS
from segmint.segments.evaluate import compiler, now_utc
from segmint.store.store import Store
from segmint.traits.base import TraitContext

#: the default window: this many days before ``until``
DEFAULT_DAYS = 90
#: significance level of the marks (after Benjamini-Hochberg)
ALPHA = 0.05
#: segments with fewer contacts are not judged by :func:`rank_segments` (a normal approximation needs some)
DEFAULT_MIN_SIZE = 30
CLV_TABLE = "traits_clv"

PERFORMING_WELL = "performing well"
PERFORMING_POORLY = "performing poorly"
UNDER_SERVED = "high potential, under-served"

# The per-contact figures of the window, then their sums per segment (and over every contact).  A
# template in DuckDB's dialect parsed by sqlglot (TraitContext.parse): :since and :until become the
# engine's timestamp literals, :names the segment names as string literals.
_TEMPLATE = """
WITH win AS (
  SELECT contact_key, event, campaign_id, event_id, order_id, amount, machine_open
  FROM events
  WHERE contact_key IS NOT NULL AND ts >= :since AND ts < :until
    AND event IN ('email_sent', 'email_open', 'email_click', 'email_unsubscribe', 'email_bounce',
                  'purchase', 'support_ticket')
),
sends AS (
  SELECT contact_key, campaign_id
  FROM win WHERE event = 'email_sent'
  GROUP BY contact_key, campaign_id, CASE WHEN campaign_id IS NULL THEN event_id END
),
reactions AS (
  SELECT contact_key, campaign_id,
    MAX(CASE WHEN event = 'email_open' AND COALESCE(machine_open, FALSE) = FALSE THEN 1 ELSE 0 END) AS opened,
    MAX(CASE WHEN event = 'email_click' THEN 1 ELSE 0 END) AS clicked,
    MAX(CASE WHEN event = 'email_unsubscribe' THEN 1 ELSE 0 END) AS unsubscribed,
    MAX(CASE WHEN event = 'email_bounce' THEN 1 ELSE 0 END) AS bounced
  FROM win
  WHERE event IN ('email_open', 'email_click', 'email_unsubscribe', 'email_bounce') AND campaign_id IS NOT NULL
  GROUP BY contact_key, campaign_id
),
mail AS (
  SELECT s.contact_key, COUNT(*) AS sends,
    SUM(COALESCE(r.opened, 0)) AS opened,
    SUM(COALESCE(r.clicked, 0)) AS clicked,
    SUM(COALESCE(r.opened * r.clicked, 0)) AS opened_clicked,
    SUM(COALESCE(r.unsubscribed, 0)) AS unsubscribed,
    SUM(COALESCE(r.bounced, 0)) AS bounced
  FROM sends AS s
  LEFT JOIN reactions AS r ON r.contact_key = s.contact_key AND r.campaign_id = s.campaign_id
  GROUP BY s.contact_key
),
orders AS (
  SELECT contact_key, SUM(amount) AS amount
  FROM win WHERE event = 'purchase'
  GROUP BY contact_key, COALESCE(order_id, event_id)
),
buys AS (
  SELECT contact_key, COUNT(*) AS orders, COUNT(amount) AS valued, SUM(amount) AS revenue,
    SUM(amount * amount) AS amount_sq
  FROM orders GROUP BY contact_key
),
tickets AS (
  SELECT contact_key, COUNT(*) AS tickets FROM win WHERE event = 'support_ticket' GROUP BY contact_key
),
per_contact AS (
  SELECT c.contact_key, c.company_key,
    CAST(COALESCE(m.sends, 0) AS DOUBLE) AS sends,
    CAST(COALESCE(m.opened, 0) AS DOUBLE) AS opened,
    CAST(COALESCE(m.clicked, 0) AS DOUBLE) AS clicked,
    CAST(COALESCE(m.opened_clicked, 0) AS DOUBLE) AS opened_clicked,
    CAST(COALESCE(m.unsubscribed, 0) AS DOUBLE) AS unsubscribed,
    CAST(COALESCE(m.bounced, 0) AS DOUBLE) AS bounced,
    CASE WHEN b.orders > 0 THEN 1.0 ELSE 0.0 END AS buyer,
    CAST(COALESCE(b.revenue, 0) AS DOUBLE) AS revenue,
    CAST(COALESCE(b.valued, 0) AS DOUBLE) AS valued,
    CAST(COALESCE(b.amount_sq, 0) AS DOUBLE) AS amount_sq,
    CAST(COALESCE(t.tickets, 0) AS DOUBLE) AS tickets,
    CAST(:clv_column AS DOUBLE) AS clv
  FROM contacts AS c
  LEFT JOIN mail AS m ON m.contact_key = c.contact_key
  LEFT JOIN buys AS b ON b.contact_key = c.contact_key
  LEFT JOIN tickets AS t ON t.contact_key = c.contact_key
  :clv_join
),
members AS (
  SELECT m.segment, m.member_key, s.entity
  FROM segment_members AS m JOIN segments AS s ON s.name = m.segment AND s.kind = 'dynamic'
  WHERE m.segment IN (:names)
  UNION ALL
  SELECT m.segment, m.member_key, s.entity
  FROM segment_static_members AS m JOIN segments AS s ON s.name = m.segment AND s.kind = 'static'
  WHERE m.segment IN (:names)
),
member_contacts AS (
  SELECT m.segment, p.*
  FROM members AS m JOIN per_contact AS p ON p.contact_key = m.member_key
  WHERE m.entity = 'contact'
  UNION ALL
  SELECT m.segment, p.*
  FROM members AS m JOIN per_contact AS p ON p.company_key = m.member_key
  WHERE m.entity = 'company'
),
both_sides AS (
  SELECT segment, sends, opened, clicked, opened_clicked, unsubscribed, bounced, buyer, revenue, valued,
    amount_sq, tickets, clv
  FROM member_contacts
  UNION ALL
  SELECT NULL AS segment, sends, opened, clicked, opened_clicked, unsubscribed, bounced, buyer, revenue, valued,
    amount_sq, tickets, clv
  FROM per_contact
)
SELECT segment,
  COUNT(*) AS contacts,
  SUM(sends) AS sends, SUM(sends * sends) AS sends_sq,
  SUM(opened) AS opened, SUM(clicked) AS clicked, SUM(opened_clicked) AS opened_clicked,
  SUM(unsubscribed) AS unsubscribed, SUM(bounced) AS bounced,
  SUM(buyer) AS buyers,
  SUM(revenue) AS revenue, SUM(revenue * revenue) AS revenue_sq,
  SUM(valued) AS orders, SUM(amount_sq) AS order_sq,
  COUNT(clv) AS clv_n, SUM(clv) AS clv, SUM(clv * clv) AS clv_sq,
  SUM(tickets) AS tickets, SUM(tickets * tickets) AS tickets_sq
FROM both_sides
GROUP BY segment
"""


@dataclass
class Measure:
    """One measure of a segment against the whole list.

    ``difference`` is segment minus whole list (rates as fractions);
    ``ci_low``/``ci_high`` its 95 % interval; ``p_value`` the test of the
    segment against the contacts outside it, ``p_adjusted`` after
    Benjamini-Hochberg; ``better`` says which way is good (True: higher,
    False: lower, None: neither).
    """

    key: str
    label: str
    kind: str  # rate, mean or count
    unit: str  # what one observation is: send, contact, order, opened send
    segment: float | None
    whole: float | None
    n: int
    n_whole: int
    better: bool | None = None
    difference: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    test: str | None = None
    statistic: float | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    significant: bool = False
    note: str | None = None

    @property
    def verdict(self) -> str | None:
        """``better`` or ``worse`` when significant and the measure has a good direction."""
        if not self.significant or self.better is None or self.difference is None or self.difference == 0:
            return None
        return "better" if (self.difference > 0) == self.better else "worse"


@dataclass
class SizeTrend:
    """The segment's size over the window, from ``segment_refreshes``."""

    start: int | None
    end: int | None
    change: int | None
    change_pct: float | None
    points: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SegmentReport:
    """How one segment performs against the whole list over ``[since, until)``."""

    segment: str
    title: str | None
    entity: str
    kind: str
    since: datetime
    until: datetime
    size: int
    contacts: int
    whole_list: int
    refreshed_at: datetime | None
    trend: SizeTrend
    measures: list[Measure]
    notes: list[str] = field(default_factory=list)

    def measure(self, key: str) -> Measure:
        return next(m for m in self.measures if m.key == key)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for item, measure in zip(data["measures"], self.measures, strict=True):
            item["verdict"] = measure.verdict
        return data


@dataclass
class SegmentRanking:
    """One segment's place in :func:`rank_segments`: its mark and the reasons in words."""

    rank: int
    segment: str
    title: str | None
    size: int
    contacts: int
    mark: str | None
    score: int
    reasons: list[str]
    measures: dict[str, dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---- the window -----------------------------------------------------------------------------


def report_window(
    since: datetime | str | None = None, until: datetime | str | None = None
) -> tuple[datetime, datetime]:
    """``[since, until)`` as aware UTC datetimes: until defaults to now, since to 90 days before until."""
    end = _instant(until, "until") or now_utc()
    start = _instant(since, "since") or end - timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise UsageError(f"since ({start.isoformat()}) must be before until ({end.isoformat()})")
    return start, end


def _instant(value: datetime | str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        raise UsageError(f"--{name}: {exc}") from exc


# ---- statistics ------------------------------------------------------------------------------


def proportion_test(x1: int, n1: int, x2: int, n2: int) -> tuple[float | None, float | None]:
    """The pooled two-proportion z-test of ``x1/n1`` against ``x2/n2``: (z, two-sided p).

    (z, p) is (None, None) when a group is empty; equal rates of 0 or 1 give
    p = 1 with no z (no variation to test).
    """
    if n1 <= 0 or n2 <= 0:
        return None, None
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return None, 1.0
    z = (x1 / n1 - x2 / n2) / math.sqrt(variance)
    return z, float(2 * stats.norm.sf(abs(z)))


def newcombe_interval(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """Newcombe's hybrid score interval (his method 10) of ``x1/n1 - x2/n2`` at 95 %.

    Built from the two Wilson score intervals scipy computes
    (``binomtest(...).proportion_ci(method="wilson")``); scipy has no interval
    of a difference of proportions, so the combination is written here.
    """
    p1, p2 = x1 / n1, x2 / n2
    w1 = stats.binomtest(x1, n1).proportion_ci(0.95, method="wilson")
    w2 = stats.binomtest(x2, n2).proportion_ci(0.95, method="wilson")
    d = p1 - p2
    low = d - math.sqrt((p1 - w1.low) ** 2 + (w2.high - p2) ** 2)
    high = d + math.sqrt((w1.high - p1) ** 2 + (p2 - w2.low) ** 2)
    return low, high


def welch_test(
    mean1: float, var1: float, n1: int, mean2: float, var2: float, n2: int
) -> tuple[str, float | None, float | None, tuple[float, float] | None]:
    """A t-test of two means from (mean, sample variance, n): (test, t, two-sided p, 95 % CI of mean1 - mean2).

    Welch's test (unequal variances) through scipy's ``ttest_ind_from_stats``,
    which returns no interval: the Welch-Satterthwaite degrees of freedom are
    computed here for ``stats.t.ppf``.  When one group does not vary at all
    (every value equal, typically a segment without a single buyer), Welch's
    standard error would hold the other group's spread alone and call a
    chance absence of rare values significant; Student's test with the
    pooled variance is used instead.  t, p and the interval are None where a
    group has fewer than 2 observations or neither group varies.
    """
    if n1 < 2 or n2 < 2:
        return "Welch t-test", None, None, None
    d = mean1 - mean2
    if var1 > 0 and var2 > 0:
        se2 = var1 / n1 + var2 / n2
        df = se2**2 / ((var1 / n1) ** 2 / (n1 - 1) + (var2 / n2) ** 2 / (n2 - 1))
        name, equal = "Welch t-test", False
    else:
        pooled = ((n1 - 1) * var1 + (n2 - 1) * var2) / (n1 + n2 - 2)
        se2 = pooled * (1 / n1 + 1 / n2)
        df = n1 + n2 - 2
        name, equal = "Student t-test (a group does not vary)", True
    if se2 <= 0:
        return name, None, (1.0 if d == 0 else None), None
    result = stats.ttest_ind_from_stats(mean1, math.sqrt(var1), n1, mean2, math.sqrt(var2), n2, equal_var=equal)
    half = float(stats.t.ppf(0.975, df)) * math.sqrt(se2)
    return name, float(result.statistic), float(result.pvalue), (d - half, d + half)


def _moments(n: float, total: float, squares: float) -> tuple[float | None, float]:
    """Mean and sample variance from n, the sum and the sum of squares (clamped at 0 against rounding)."""
    if n <= 0:
        return None, 0.0
    mean = total / n
    if n < 2:
        return mean, 0.0
    return mean, max(0.0, (squares - total * total / n) / (n - 1))


def _rate(key: str, label: str, unit: str, x: float, n: float, x_all: float, n_all: float, better: bool) -> Measure:
    xs, ns, xa, na = round(x), round(n), round(x_all), round(n_all)
    xr, nr = xa - xs, na - ns
    measure = Measure(key, label, "rate", unit, xs / ns if ns else None, xa / na if na else None, ns, na, better)
    if measure.segment is not None and measure.whole is not None:
        measure.difference = measure.segment - measure.whole
    if ns and nr > 0:
        measure.test = "two-proportion z-test"
        measure.statistic, measure.p_value = proportion_test(xs, ns, xr, nr)
        low, high = newcombe_interval(xs, ns, xr, nr)
        share = nr / na  # segment - whole = share * (segment - rest)
        measure.ci_low, measure.ci_high = share * low, share * high
    return measure


def _mean(
    key: str,
    label: str,
    unit: str,
    n: float,
    total: float,
    squares: float,
    sums_all: tuple[float, float, float],
    better: bool | None,
) -> Measure:
    n_all, total_all, squares_all = sums_all
    ns, na = round(n), round(n_all)
    mean_s, var_s = _moments(ns, total, squares)
    mean_a, _ = _moments(na, total_all, squares_all)
    measure = Measure(key, label, "mean", unit, mean_s, mean_a, ns, na, better)
    if mean_s is not None and mean_a is not None:
        measure.difference = mean_s - mean_a
    nr = na - ns
    mean_r, var_r = _moments(nr, total_all - total, squares_all - squares)
    if mean_s is not None and mean_r is not None:
        measure.test, measure.statistic, measure.p_value, interval = welch_test(mean_s, var_s, ns, mean_r, var_r, nr)
        if interval is not None:
            share = nr / na
            measure.ci_low, measure.ci_high = share * interval[0], share * interval[1]
    return measure


def _measures(row: dict[str, Any], whole: dict[str, Any], clv_note: str | None) -> list[Measure]:
    def v(data: dict[str, Any], key: str) -> float:
        return float(data.get(key) or 0)

    def sums(key: str, n_key: str = "contacts", sq_key: str | None = None) -> tuple[float, float, float]:
        return v(whole, n_key), v(whole, key), v(whole, sq_key or f"{key}_sq")

    sends = Measure(
        "sends",
        "sends",
        "count",
        "send",
        v(row, "sends"),
        v(whole, "sends"),
        round(v(row, "contacts")),
        round(v(whole, "contacts")),
    )
    measures = [
        sends,
        _mean(
            "sends_per_contact",
            "sends per contact",
            "contact",
            v(row, "contacts"),
            v(row, "sends"),
            v(row, "sends_sq"),
            sums("sends"),
            None,
        ),
        _rate(
            "open_rate",
            "unique open rate",
            "send",
            v(row, "opened"),
            v(row, "sends"),
            v(whole, "opened"),
            v(whole, "sends"),
            True,
        ),
        _rate(
            "click_rate",
            "unique click rate",
            "send",
            v(row, "clicked"),
            v(row, "sends"),
            v(whole, "clicked"),
            v(whole, "sends"),
            True,
        ),
        _rate(
            "click_to_open",
            "click-to-open rate",
            "opened send",
            v(row, "opened_clicked"),
            v(row, "opened"),
            v(whole, "opened_clicked"),
            v(whole, "opened"),
            True,
        ),
        _rate(
            "unsubscribe_rate",
            "unsubscribe rate",
            "send",
            v(row, "unsubscribed"),
            v(row, "sends"),
            v(whole, "unsubscribed"),
            v(whole, "sends"),
            False,
        ),
        _rate(
            "bounce_rate",
            "bounce rate",
            "send",
            v(row, "bounced"),
            v(row, "sends"),
            v(whole, "bounced"),
            v(whole, "sends"),
            False,
        ),
        _rate(
            "conversion_rate",
            "conversion rate",
            "contact",
            v(row, "buyers"),
            v(row, "contacts"),
            v(whole, "buyers"),
            v(whole, "contacts"),
            True,
        ),
        _mean(
            "revenue_per_contact",
            "revenue per contact",
            "contact",
            v(row, "contacts"),
            v(row, "revenue"),
            v(row, "revenue_sq"),
            sums("revenue"),
            True,
        ),
        _mean(
            "average_order_value",
            "average order value",
            "order",
            v(row, "orders"),
            v(row, "revenue"),
            v(row, "order_sq"),
            sums("revenue", "orders", "order_sq"),
            True,
        ),
        _mean(
            "predicted_clv",
            "predicted lifetime value",
            "contact with a prediction",
            v(row, "clv_n"),
            v(row, "clv"),
            v(row, "clv_sq"),
            sums("clv", "clv_n"),
            True,
        ),
        _mean(
            "tickets_per_contact",
            "support tickets per contact",
            "contact",
            v(row, "contacts"),
            v(row, "tickets"),
            v(row, "tickets_sq"),
            sums("tickets"),
            None,
        ),
    ]
    if clv_note:
        measures[10].note = clv_note
    return measures


def adjust(measures: list[Measure]) -> None:
    """Benjamini-Hochberg over every tested measure given (one family); sets p_adjusted and significant."""
    for measure in measures:  # a degenerate test is no test (JSON has no NaN)
        if measure.p_value is not None and not math.isfinite(measure.p_value):
            measure.statistic = measure.p_value = None
    tested = [m for m in measures if m.p_value is not None]
    if not tested:
        return
    adjusted = stats.false_discovery_control([m.p_value for m in tested], method="bh")
    for measure, p in zip(tested, adjusted, strict=True):
        measure.p_adjusted = float(p)
        measure.significant = bool(p < ALPHA)


# ---- the store ---------------------------------------------------------------------------------


def _segments(store: Store) -> dict[str, dict[str, Any]]:
    rows = store.engine.query(
        exp.select("name", "entity", "kind", "title").from_(SEGMENTS.name).order_by("name")
    ).to_pylist()
    return {r["name"]: r for r in rows}


def _contact_count(store: Store) -> int:
    return int(store.engine.scalar(exp.select(exp.Count(this=exp.Star())).from_(CONTACTS.name)) or 0)


def _clv_source(store: Store) -> tuple[str, str, str | None]:
    """The clv column and join of the template, and a note when the trait is missing."""
    engine = store.engine
    if engine.table_exists(CLV_TABLE) and "predicted_clv" in engine.table_columns(CLV_TABLE):
        filled = int(engine.scalar(exp.select(exp.Count(this=exp.column("predicted_clv"))).from_(CLV_TABLE)) or 0)
        note = None if filled else "no predicted_clv computed: the clv trait needs repeat purchases and a refresh"
        return "v.predicted_clv", f"LEFT JOIN {CLV_TABLE} AS v ON v.contact_key = c.contact_key", note
    return "NULL", "", "the clv trait is not installed: no predicted_clv"


def _aggregate(
    store: Store, names: list[str], since: datetime, until: datetime
) -> tuple[dict[str, dict[str, Any]], dict[str, Any], str | None]:
    """Sums per segment (by name) and over every contact, in one query; and the clv note."""
    column, join, note = _clv_source(store)
    # the clv column and join are fixed texts of this module, never user values
    template = _TEMPLATE.replace(":clv_column", column).replace(":clv_join", join)
    ctx = _context(store, until)
    query = ctx.parse(template, since=since, until=until, names=names)
    rows = store.engine.query(query).to_pylist()
    whole: dict[str, Any] = next((r for r in rows if r["segment"] is None), {})
    return {r["segment"]: r for r in rows if r["segment"] is not None}, whole, note


def _trends(store: Store, names: list[str], since: datetime, until: datetime, points: bool) -> dict[str, SizeTrend]:
    """Each segment's size at the start of the window (its last refresh at or before since, else its first in the
    window) and at the end (its last refresh before until); with ``points``, every refresh in the window."""
    ctx = _context(store, until)
    rows = store.engine.query(
        ctx.parse(
            f"SELECT segment, refresh_id, as_of, size FROM {SEGMENT_REFRESHES.name} "
            "WHERE segment IN (:names) AND as_of < :until ORDER BY segment, refresh_id",
            names=names,
            until=until,
        )
    ).to_pylist()
    by_name: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_name.setdefault(row["segment"], []).append(row)
    trends = {}
    for name in names:
        history = by_name.get(name, [])
        before = [r for r in history if r["as_of"] <= since]
        inside = [r for r in history if r["as_of"] > since]
        start_row = before[-1] if before else (inside[0] if inside else None)
        end_row = history[-1] if history else None
        start = int(start_row["size"]) if start_row else None
        end = int(end_row["size"]) if end_row else None
        change = end - start if start is not None and end is not None else None
        pct = change / start if change is not None and start else None
        shown = ([before[-1]] if before else []) + inside if points else []
        trends[name] = SizeTrend(
            start, end, change, pct, [{"as_of": r["as_of"], "size": int(r["size"])} for r in shown]
        )
    return trends


def _sizes(store: Store) -> dict[str, tuple[int, datetime | None]]:
    """Each segment's current member count and its last refresh."""
    ctx = _context(store, now_utc())
    rows = store.engine.query(
        ctx.parse(
            """
            SELECT s.name AS segment,
              CASE WHEN s.kind = 'static'
                THEN (SELECT COUNT(*) FROM segment_static_members AS m WHERE m.segment = s.name)
                ELSE (SELECT COUNT(*) FROM segment_members AS m WHERE m.segment = s.name) END AS size,
              (SELECT MAX(r.as_of) FROM segment_refreshes AS r WHERE r.segment = s.name) AS refreshed_at
            FROM segments AS s
            """
        )
    ).to_pylist()
    return {r["segment"]: (int(r["size"] or 0), r["refreshed_at"]) for r in rows}


def _context(store: Store, until: datetime) -> TraitContext:
    """What parses this module's templates: the engine's timestamp literals and list placeholders."""
    return TraitContext(store=store, compiler=compiler(store, as_of=until), as_of=until)


def _require_contacts(store: Store) -> int:
    contacts = _contact_count(store)
    if contacts == 0:
        raise InsufficientDataError(
            "the store has no contacts, so there is nothing to report: load contacts and events "
            "(segmint load) or try segmint demo"
        )
    return contacts


def segment_report(
    store: Store, name: str, since: datetime | str | None = None, until: datetime | str | None = None
) -> SegmentReport:
    """How segment ``name``'s current members perform over ``[since, until)`` against the whole list.

    Example: ``segment_report(store, "customers", since="2026-01-01").measure("click_rate").segment``
    """
    start, end = report_window(since, until)
    segments = _segments(store)
    if name not in segments:
        close = difflib.get_close_matches(name, list(segments), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        stored = "" if segments else "; no segments are stored yet (segmint segment apply, segmint playbook install)"
        raise NotFoundError(f"no segment named '{name}'{hint}{stored}")
    whole_list = _require_contacts(store)
    info = segments[name]
    rows, whole, clv_note = _aggregate(store, [name], start, end)
    row = rows.get(name, {})
    measures = _measures(row, whole, clv_note)
    adjust(measures)
    size, refreshed_at = _sizes(store).get(name, (0, None))
    notes = []
    if size == 0:
        if info["kind"] == "dynamic" and refreshed_at is None:
            notes.append(f"segment '{name}' has no members: it has not been refreshed yet (run segmint refresh)")
        else:
            notes.append(f"segment '{name}' has no members, so every measure of it is unset")
    if info["kind"] == "static":
        notes.append("a static segment has no size history: it changes only when someone edits it")
    if clv_note:
        notes.append(clv_note)
    if info["entity"] == "company":
        notes.append("a company segment: the measures are those of its member companies' contacts")
    if measures[0].whole == 0:
        notes.append("no email_sent events in the window: the email rates are unset")
    trend = _trends(store, [name], start, end, points=True)[name]
    return SegmentReport(
        name,
        info["title"],
        info["entity"],
        info["kind"],
        start,
        end,
        size,
        round(float(row.get("contacts") or 0)),
        whole_list,
        refreshed_at,
        trend,
        measures,
        notes,
    )


# ---- ranking -------------------------------------------------------------------------------------

#: the measures that decide the marks
MARK_MEASURES = (
    "open_rate",
    "click_rate",
    "conversion_rate",
    "revenue_per_contact",
    "predicted_clv",
    "unsubscribe_rate",
    "bounce_rate",
)
#: value or engagement above the list, with fewer sends per contact: under-served
POTENTIAL_MEASURES = ("predicted_clv", "revenue_per_contact", "conversion_rate", "open_rate", "click_rate")


def rank_segments(
    store: Store,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    *,
    min_size: int = DEFAULT_MIN_SIZE,
) -> list[SegmentRanking]:
    """Every segment, ranked, marked performing well, performing poorly or high potential and under-served.

    Segments of fewer than ``min_size`` contacts are listed last, unjudged.
    The rules are in docs/reports.md and :func:`_mark`.
    """
    if min_size < 1:
        raise UsageError(f"--min-size must be at least 1, got {min_size}")
    start, end = report_window(since, until)
    _require_contacts(store)
    segments = _segments(store)
    if not segments:
        raise InsufficientDataError(
            "no segments are stored, so there is nothing to rank: segmint playbook install or segmint segment apply"
        )
    names = list(segments)
    rows, whole, clv_note = _aggregate(store, names, start, end)
    sizes = _sizes(store)
    trends = _trends(store, names, start, end, points=False)
    judged: dict[str, list[Measure]] = {}
    for name in names:
        row = rows.get(name, {})
        if float(row.get("contacts") or 0) >= min_size:
            judged[name] = _measures(row, whole, clv_note)
    adjust([m for measures in judged.values() for m in measures])
    rankings = []
    for name in names:
        info = segments[name]
        contacts = round(float(rows.get(name, {}).get("contacts") or 0))
        size = sizes.get(name, (0, None))[0]
        if name not in judged:
            reason = f"too small to judge: {contacts} contact{'' if contacts == 1 else 's'} (fewer than {min_size})"
            rankings.append(SegmentRanking(0, name, info["title"], size, contacts, None, 0, [reason], {}))
            continue
        mark, score, reasons = _mark(judged[name])
        trend = trends[name]
        if trend.change:
            reasons.append(f"size {trend.start} -> {trend.end} over the window")
        summary = {
            m.key: {"segment": m.segment, "whole": m.whole, "p_adjusted": m.p_adjusted, "verdict": m.verdict}
            for m in judged[name]
        }
        rankings.append(SegmentRanking(0, name, info["title"], size, contacts, mark, score, reasons, summary))
    order = sorted(rankings, key=lambda r: (r.segment not in judged, -r.score, -r.contacts, r.segment))
    for place, ranking in enumerate(order, 1):
        ranking.rank = place
    return order


def _mark(measures: list[Measure]) -> tuple[str | None, int, list[str]]:
    """The mark, the score (significantly better measures minus worse ones) and the reasons in words.

    - high potential, under-served: sends per contact significantly below the
      list, and value or engagement (predicted CLV, revenue per contact,
      conversion, open or click rate) significantly above;
    - otherwise performing well / poorly: more of the mark measures
      significantly better / worse than the list than the other way round.
    """
    by_key = {m.key: m for m in measures}
    better = [by_key[k] for k in MARK_MEASURES if by_key[k].verdict == "better"]
    worse = [by_key[k] for k in MARK_MEASURES if by_key[k].verdict == "worse"]
    score = len(better) - len(worse)
    sends = by_key["sends_per_contact"]
    potential = [by_key[k] for k in POTENTIAL_MEASURES if by_key[k].verdict == "better"]
    if potential and sends.significant and sends.difference is not None and sends.difference < 0:
        return UNDER_SERVED, score, [*(describe(m) for m in potential), describe(sends)]
    reasons = [describe(m) for m in better + worse]
    if score > 0:
        return PERFORMING_WELL, score, reasons
    if score < 0:
        return PERFORMING_POORLY, score, reasons
    if reasons:
        return None, score, ["mixed: " + reasons[0], *reasons[1:]]
    return None, score, ["no measure differs significantly from the whole list"]


# ---- words ---------------------------------------------------------------------------------------


def format_value(measure: Measure, value: float | None, *, signed: bool = False, points: bool = False) -> str:
    """A measure's value for people: rates in % (a difference of rates in percentage points, ``points``),
    means with two decimals, counts whole; "-" when unset."""
    if value is None:
        return "-"
    sign = "+" if signed else ""
    if measure.kind == "rate":
        return f"{value * 100:{sign}.1f} {'pp' if points else '%'}"
    if measure.kind == "count":
        return f"{value:{sign},.0f}"
    return f"{value:{sign},.2f}"


def format_p(p: float | None) -> str:
    if p is None:
        return "-"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def describe(measure: Measure) -> str:
    """E.g. ``click rate 8.1 % against 3.2 % for the whole list (adjusted p < 0.001)``."""
    p = format_p(measure.p_adjusted)
    p_text = f"p {p}" if p.startswith("<") else f"p = {p}"
    return (
        f"{measure.label} {format_value(measure, measure.segment)} against "
        f"{format_value(measure, measure.whole)} for the whole list (adjusted {p_text})"
    )


# ---- chart ---------------------------------------------------------------------------------------


def write_report_chart(report: SegmentReport, path: str | Path) -> Path:
    """The size over the window and the email and conversion rates against the whole list, as PNG/SVG/HTML."""
    import matplotlib.dates as mdates

    from segmint.insights.charts import new_figure, save_figure

    figure = new_figure(11.0, 4.5)
    size_axes, rate_axes = figure.subplots(1, 2, width_ratios=[1, 1.2])
    points = report.trend.points
    if points:
        size_axes.plot(
            [p["as_of"] for p in points],
            [p["size"] for p in points],
            marker="o",
            color="#2a6f97",
            drawstyle="steps-post",
        )
        locator = mdates.AutoDateLocator()
        size_axes.xaxis.set_major_locator(locator)
        size_axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    else:
        size_axes.text(0.5, 0.5, "no refresh in the window", ha="center", va="center", transform=size_axes.transAxes)
    size_axes.set_title(f"members of {report.segment}")
    size_axes.set_ylabel("members")
    rates = [m for m in report.measures if m.kind == "rate"]
    positions = list(range(len(rates)))
    height = 0.38
    rate_axes.barh(
        [p - height / 2 for p in positions],
        [100 * (m.segment or 0) for m in rates],
        height,
        label=report.segment,
        color="#2a6f97",
    )
    rate_axes.barh(
        [p + height / 2 for p in positions],
        [100 * (m.whole or 0) for m in rates],
        height,
        label="whole list",
        color="#a9a9a9",
    )
    rate_axes.set_yticks(positions, [m.label + (" *" if m.significant else "") for m in rates])
    rate_axes.invert_yaxis()
    rate_axes.set_xlabel("% (* significant after Benjamini-Hochberg)")
    rate_axes.set_title("rates against the whole list")
    rate_axes.legend(loc="lower right")
    title = f"{report.segment}: {report.since:%Y-%m-%d} to {report.until:%Y-%m-%d}"
    figure.suptitle(title)
    return save_figure(figure, path, title)


__all__ = [
    "ALPHA",
    "DEFAULT_DAYS",
    "DEFAULT_MIN_SIZE",
    "PERFORMING_POORLY",
    "PERFORMING_WELL",
    "UNDER_SERVED",
    "Measure",
    "SegmentRanking",
    "SegmentReport",
    "SizeTrend",
    "adjust",
    "describe",
    "format_p",
    "format_value",
    "newcombe_interval",
    "proportion_test",
    "rank_segments",
    "report_window",
    "segment_report",
    "welch_test",
]
