"""The ten reference segments, each in three forms: segmint's definition, hand-written SQL, pandas.

The segments span the language: contact and company fields, string and date
operators, event counts in windows (``within``, ``between_ago``), event
properties (columns and JSON keys), aggregates, ``first_time``, ``count: eq
0``, ``not``, ``any`` and a nested segment.  The evaluation time is the demo's
last moment (:data:`AS_OF`).

- ``document``: the segment as a user writes it (SEGMENTS.md);
- ``sql``: the same members written by hand, the fastest plain SQL found, in
  one text that runs on DuckDB and on PostgreSQL (``{now}`` and ``{ago:N}``
  become timestamp literals).  On DuckDB this is the limit segmint aims at;
- ``pandas``: what an analyst writes instead, on data frames already in
  memory (string columns as categoricals, as a careful analyst loads them).

Like segmint, the hand-written SQL and pandas end with the members' keys
and ids ordered by id (:meth:`Shape.hand_sql`, :meth:`Shape.members`).

Every form must return exactly the same members (contact keys), or the run
fails.  Each form follows SEGMENTS.md's rules on its own terms: strings
compare ignoring case, windows include both ends, an unset field matches
nothing (``neq`` matches it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)  # DemoConfig().end: the last moment of the demo's history

Frames = dict[str, pd.DataFrame]
"""``contacts``, ``companies`` and ``events`` (the columns :data:`PANDAS_COLUMNS` names)."""

PANDAS_COLUMNS = {
    "contacts": [
        "contact_key",
        "contact_id",
        "country",
        "seniority",
        "email",
        "role",
        "is_partner",
        "newsletter_frequency",
        "created_at",
        "company_key",
    ],
    "companies": ["company_key", "employees", "industry", "country"],
    "events": ["contact_key", "event", "ts", "url", "topic", "amount", "machine_open", "form_id"],
}
"""What the pandas implementations read; ``form_id`` is the JSON property ``properties->>'form_id'``."""


def timestamp_literal(moment: datetime) -> str:
    """A TIMESTAMPTZ literal both DuckDB and PostgreSQL read."""
    return f"TIMESTAMPTZ '{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f}+00'"


def render(sql: str) -> str:
    """``{now}`` and ``{ago:N}`` (N days before as_of) as literals."""
    sql = sql.replace("{now}", timestamp_literal(AS_OF))
    return re.sub(r"\{ago:(\d+)\}", lambda m: timestamp_literal(AS_OF - timedelta(days=int(m.group(1)))), sql)


def ago(days: int) -> pd.Timestamp:
    return pd.Timestamp(AS_OF - timedelta(days=days))


NOW = pd.Timestamp(AS_OF)


@dataclass
class Shape:
    """One reference segment in its three forms."""

    name: str
    summary: str
    document: dict[str, Any]
    sql: str
    pandas: Callable[[Frames], np.ndarray]
    stored: list[dict[str, Any]] = field(default_factory=list)  # segments it nests, applied first

    def hand_sql(self) -> str:
        """The hand-written SQL returning what segmint returns: each member's key and id, ordered by id."""
        return (
            "SELECT m.contact_key AS member_key, c.contact_id AS member_id\n"
            f"FROM ({render(self.sql).strip()}\n) AS m JOIN contacts c ON c.contact_key = m.contact_key\n"
            "ORDER BY member_id"
        )

    def members(self, frames: Frames) -> pd.DataFrame:
        """The pandas implementation's members with their ids, ordered by id, as segmint returns them."""
        c = frames["contacts"]
        found = c.loc[c["contact_key"].isin(self.pandas(frames)), ["contact_key", "contact_id"]]
        return found.sort_values("contact_id")


# ---- pandas helpers: what an analyst would write -------------------------------------------------------


def window(
    ev: pd.DataFrame, event: str | list[str], start: pd.Timestamp | None, end: pd.Timestamp = NOW
) -> pd.DataFrame:
    names = [event] if isinstance(event, str) else event
    mask = ev["event"].isin(names) & (ev["ts"] <= end)
    if start is not None:
        mask &= ev["ts"] >= start
    return ev[mask]


def lower(series: pd.Series) -> pd.Series:
    return series.str.lower()


def keys(frame: pd.DataFrame) -> np.ndarray:
    return frame["contact_key"].to_numpy()


# ---- the ten shapes ------------------------------------------------------------------------------------


def _property(f: Frames) -> np.ndarray:
    c, co = f["contacts"], f["companies"]
    sized = co.loc[co["employees"].between(50, 500), "company_key"]
    hit = c[
        lower(c["country"]).isin(["fi", "se"])
        & lower(c["seniority"]).isin(["c_level", "manager"])
        & c["company_key"].isin(sized)
    ]
    return keys(hit)


PROPERTY = Shape(
    name="property",
    summary="country in (FI, SE) and seniority in (c_level, manager) and company.employees between 50 and 500",
    document={
        "name": "bench-property",
        "conditions": [
            {"field": "country", "op": "in", "value": ["FI", "SE"]},
            {"field": "seniority", "op": "in", "value": ["c_level", "manager"]},
            {"field": "company.employees", "op": "between", "value": [50, 500]},
        ],
    },
    sql="""
SELECT c.contact_key FROM contacts c JOIN companies co ON co.company_key = c.company_key
WHERE lower(c.country) IN ('fi', 'se') AND lower(c.seniority) IN ('c_level', 'manager')
  AND co.employees BETWEEN 50 AND 500
""",
    pandas=_property,
)


def _company_strings(f: Frames) -> np.ndarray:
    c, co = f["contacts"], f["companies"]
    firms = co.loc[
        lower(co["industry"]).isin(["manufacturing", "energy"]) & (lower(co["country"]) == "fi"), "company_key"
    ]
    hit = c[
        c["company_key"].isin(firms)
        & lower(c["email"]).str.endswith(".fi", na=False)
        & (c["created_at"] >= ago(730))
        & (c["created_at"] <= NOW)
    ]
    return keys(hit)


COMPANY_STRINGS = Shape(
    name="company-strings",
    summary="company.industry in (manufacturing, energy), company.country = FI, email ends_with .fi, "
    "created_at within_last 730d",
    document={
        "name": "bench-company-strings",
        "conditions": [
            {"field": "company.industry", "op": "in", "value": ["manufacturing", "energy"]},
            {"field": "company.country", "op": "eq", "value": "FI"},
            {"field": "email", "op": "ends_with", "value": ".fi"},
            {"field": "created_at", "op": "within_last", "value": "730d"},
        ],
    },
    sql="""
SELECT c.contact_key FROM contacts c JOIN companies co ON co.company_key = c.company_key
WHERE lower(co.industry) IN ('manufacturing', 'energy') AND lower(co.country) = 'fi'
  AND lower(c.email) LIKE '%.fi' AND c.created_at BETWEEN {ago:730} AND {now}
""",
    pandas=_company_strings,
)


def _three_condition(f: Frames) -> np.ndarray:
    ev = f["events"]
    views = window(ev, "page_view", ago(7))
    views = views[lower(views["url"]).str.contains("/pricing", regex=False, na=False)]
    counts = views.groupby("contact_key").size()
    pricing = set(counts[counts >= 2].index)
    clicks = window(ev, "email_click", ago(30))
    clicked = set(clicks.loc[lower(clicks["topic"]) == "hydraulics", "contact_key"])
    bought = set(window(ev, "purchase", ago(365))["contact_key"])
    return np.array(sorted((pricing & clicked) - bought), dtype=np.int64)


THREE_CONDITION = Shape(
    name="three-condition",
    summary="page_view of /pricing >= 2 in 7d and email_click on hydraulics in 30d and not purchase in 365d",
    document={
        "name": "bench-three-condition",
        "conditions": [
            {
                "event": "page_view",
                "where": [{"field": "url", "op": "contains", "value": "/pricing"}],
                "within": "7d",
                "count": {"op": "gte", "value": 2},
            },
            {"event": "email_click", "where": [{"field": "topic", "op": "eq", "value": "hydraulics"}], "within": "30d"},
            {"not": {"event": "purchase", "within": "365d"}},
        ],
    },
    # The most selective windows first; the purchases only of the few contacts left.
    sql="""
WITH pricing AS (
    SELECT contact_key FROM events
    WHERE ts BETWEEN {ago:7} AND {now} AND event = 'page_view' AND lower(url) LIKE '%/pricing%'
    GROUP BY contact_key HAVING COUNT(*) >= 2
), candidates AS (
    SELECT contact_key FROM pricing WHERE contact_key IN (
        SELECT contact_key FROM events
        WHERE ts BETWEEN {ago:30} AND {now} AND event = 'email_click' AND lower(topic) = 'hydraulics')
)
SELECT contact_key FROM candidates c WHERE NOT EXISTS (
    SELECT 1 FROM events e WHERE e.contact_key = c.contact_key
      AND e.ts BETWEEN {ago:365} AND {now} AND e.event = 'purchase')
""",
    pandas=_three_condition,
)


def _big_spenders(f: Frames) -> pd.Index:
    purchases = window(f["events"], "purchase", ago(365))
    sums = purchases.groupby("contact_key")["amount"].sum()
    return sums[sums >= 500].index


BIG_SPENDERS_DOC = {
    "name": "bench-big-spenders",
    "conditions": [
        {
            "event": "purchase",
            "within": "365d",
            "aggregate": {"fn": "sum", "field": "amount", "op": "gte", "value": 500},
        }
    ],
}
BIG_SPENDERS_SQL = """
SELECT contact_key FROM events WHERE ts BETWEEN {ago:365} AND {now} AND event = 'purchase'
GROUP BY contact_key HAVING SUM(amount) >= 500"""

AGGREGATE = Shape(
    name="aggregate",
    summary="sum(amount) of purchases in 365d >= 500",
    document=BIG_SPENDERS_DOC,
    sql=BIG_SPENDERS_SQL,
    pandas=lambda f: _big_spenders(f).to_numpy(),
)


def _nested(f: Frames) -> np.ndarray:
    c = f["contacts"]
    return keys(c[c["contact_key"].isin(_big_spenders(f)) & (lower(c["country"]) == "fi")])


NESTED = Shape(
    name="nested",
    summary="member of bench-big-spenders (the aggregate) and country = FI",
    document={
        "name": "bench-nested",
        "conditions": [{"segment": "bench-big-spenders"}, {"field": "country", "op": "eq", "value": "FI"}],
    },
    stored=[BIG_SPENDERS_DOC],
    sql=f"""
SELECT c.contact_key FROM contacts c
WHERE lower(c.country) = 'fi' AND c.contact_key IN ({BIG_SPENDERS_SQL})
""",
    pandas=_nested,
)


def _any(f: Frames) -> np.ndarray:
    c, ev = f["contacts"], f["events"]
    staged = set(
        c.loc[
            c["is_partner"].fillna(False).astype(bool) & (lower(c["newsletter_frequency"]) == "biweekly"), "contact_key"
        ]
    )
    downloads = set(window(ev, "content_download", ago(30))["contact_key"])
    forms = window(ev, "form_submit", ago(90))
    demos = set(forms.loc[lower(forms["form_id"]) == "demo_request", "contact_key"])
    return np.array(sorted(staged | downloads | demos), dtype=np.int64)


ANY = Shape(
    name="any",
    summary="any of: is_partner = true and newsletter_frequency (a custom property) = biweekly; content_download in 30d; "
    "form_submit with form_id (a JSON property) = demo_request in 90d",
    document={
        "name": "bench-any",
        "conditions": [
            {
                "any": [
                    {
                        "all": [
                            {"field": "is_partner", "op": "eq", "value": True},
                            {"field": "newsletter_frequency", "op": "eq", "value": "biweekly"},
                        ]
                    },
                    {"event": "content_download", "within": "30d"},
                    {
                        "event": "form_submit",
                        "where": [{"field": "form_id", "op": "eq", "value": "demo_request"}],
                        "within": "90d",
                    },
                ]
            }
        ],
    },
    sql="""
SELECT contact_key FROM contacts WHERE is_partner AND lower(newsletter_frequency) = 'biweekly'
UNION
SELECT contact_key FROM events
WHERE ts BETWEEN {ago:30} AND {now} AND event = 'content_download' AND contact_key IS NOT NULL
UNION
SELECT contact_key FROM events
WHERE ts BETWEEN {ago:90} AND {now} AND event = 'form_submit' AND contact_key IS NOT NULL
  AND lower(properties->>'form_id') = 'demo_request'
""",
    pandas=_any,
)


def _openers_no_clicks(f: Frames) -> np.ndarray:
    ev = f["events"]
    opens = window(ev, "email_open", ago(90))
    opens = opens[~opens["machine_open"].fillna(False).astype(bool)]
    counts = opens.groupby("contact_key").size()
    clicked = set(window(ev, "email_click", ago(90))["contact_key"])
    return np.array(sorted(set(counts[counts >= 3].index) - clicked), dtype=np.int64)


OPENERS_NO_CLICKS = Shape(
    name="opens-no-clicks",
    summary="email_open with machine_open neq true >= 3 in 90d and not email_click in 90d",
    document={
        "name": "bench-opens-no-clicks",
        "conditions": [
            {
                "event": "email_open",
                "where": [{"field": "machine_open", "op": "neq", "value": True}],
                "within": "90d",
                "count": {"op": "gte", "value": 3},
            },
            {"not": {"event": "email_click", "within": "90d"}},
        ],
    },
    sql="""
SELECT o.contact_key FROM (
    SELECT contact_key FROM events
    WHERE ts BETWEEN {ago:90} AND {now} AND event = 'email_open' AND machine_open IS DISTINCT FROM true
    GROUP BY contact_key HAVING COUNT(*) >= 3
) o WHERE NOT EXISTS (
    SELECT 1 FROM events e WHERE e.contact_key = o.contact_key
      AND e.ts BETWEEN {ago:90} AND {now} AND e.event = 'email_click')
""",
    pandas=_openers_no_clicks,
)


def _unengaged(f: Frames) -> np.ndarray:
    ev = f["events"]
    sent = set(window(ev, "email_sent", ago(90))["contact_key"])
    engaged = set(window(ev, ["email_open", "email_click"], ago(180))["contact_key"])
    return np.array(sorted(sent - engaged), dtype=np.int64)


UNENGAGED = Shape(
    name="unengaged",
    summary="email_sent in 90d and count(email_open or email_click in 180d) = 0",
    document={
        "name": "bench-unengaged",
        "conditions": [
            {"event": "email_sent", "within": "90d"},
            {"event": ["email_open", "email_click"], "within": "180d", "count": {"op": "eq", "value": 0}},
        ],
    },
    sql="""
SELECT DISTINCT s.contact_key FROM events s
WHERE s.ts BETWEEN {ago:90} AND {now} AND s.event = 'email_sent' AND s.contact_key IS NOT NULL
  AND NOT EXISTS (
    SELECT 1 FROM events e WHERE e.contact_key = s.contact_key
      AND e.ts BETWEEN {ago:180} AND {now} AND e.event IN ('email_open', 'email_click'))
""",
    pandas=_unengaged,
)


def _new_customers(f: Frames) -> np.ndarray:
    purchases = window(f["events"], "purchase", None)
    first = purchases.groupby("contact_key")["ts"].min()
    return first[first >= ago(90)].index.to_numpy()


NEW_CUSTOMERS = Shape(
    name="first-time",
    summary="first purchase ever within the last 90d (first_time)",
    document={
        "name": "bench-first-time",
        "conditions": [{"event": "purchase", "within": "90d", "first_time": True}],
    },
    sql="""
SELECT contact_key FROM events WHERE event = 'purchase' AND ts <= {now} AND contact_key IS NOT NULL
GROUP BY contact_key HAVING MIN(ts) >= {ago:90}
""",
    pandas=_new_customers,
)


def _lapsed(f: Frames) -> np.ndarray:
    c, ev = f["contacts"], f["events"]
    earlier = window(ev, "purchase", ago(365), ago(90))
    avg = earlier.groupby("contact_key")["amount"].mean()
    valued = set(avg[avg >= 100].index)
    recent = set(window(ev, "purchase", ago(90))["contact_key"])
    bosses = set(c.loc[lower(c["role"]).isin(["ceo", "cfo", "purchaser"]), "contact_key"])
    return np.array(sorted((valued - recent) & bosses), dtype=np.int64)


LAPSED = Shape(
    name="lapsed-buyers",
    summary="avg(amount) of purchases between 365d and 90d ago >= 100, no purchase in 90d, role in (ceo, cfo, purchaser)",
    document={
        "name": "bench-lapsed-buyers",
        "conditions": [
            {
                "event": "purchase",
                "between_ago": ["365d", "90d"],
                "aggregate": {"fn": "avg", "field": "amount", "op": "gte", "value": 100},
            },
            {"not": {"event": "purchase", "within": "90d"}},
            {"field": "role", "op": "in", "value": ["ceo", "cfo", "purchaser"]},
        ],
    },
    sql="""
SELECT c.contact_key FROM contacts c
WHERE lower(c.role) IN ('ceo', 'cfo', 'purchaser')
  AND c.contact_key IN (
    SELECT contact_key FROM events WHERE ts BETWEEN {ago:365} AND {ago:90} AND event = 'purchase'
    GROUP BY contact_key HAVING AVG(amount) >= 100)
  AND NOT EXISTS (
    SELECT 1 FROM events e WHERE e.contact_key = c.contact_key
      AND e.ts BETWEEN {ago:90} AND {now} AND e.event = 'purchase')
""",
    pandas=_lapsed,
)

SHAPES: dict[str, Shape] = {
    s.name: s
    for s in (
        PROPERTY,
        COMPANY_STRINGS,
        THREE_CONDITION,
        AGGREGATE,
        NESTED,
        ANY,
        OPENERS_NO_CLICKS,
        UNENGAGED,
        NEW_CUSTOMERS,
        LAPSED,
    )
}
