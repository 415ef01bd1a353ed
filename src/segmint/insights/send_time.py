"""Send time: when each contact, a segment or the whole list reads email, as hours of the week.

Seed 001 says modern platforms predict the best time to send.  The signals
are the contact's own: email clicks, and email opens that are not machine
opens (a privacy proxy fetches every image seconds after delivery, so its
"open" says when the mail arrived, not when a person read it).  Each event in
the ``lookback_days`` before ``as_of`` falls into one hour of the week in the
list's time zone, ``0`` = Monday 00:00-00:59 .. ``167`` = Sunday 23:00-23:59.

The counts per contact and hour are made in SQL (one row per contact, hour
and period); the time zone enters as a ``CASE`` over the zone's UTC offsets
in force in the window, whose transition instants are computed in Python
with :mod:`zoneinfo` (no engine's own zone tables, so DuckDB, PostgreSQL and
Spark give the same hours).

A contact with a few events says little, so the estimate is shrunk
(empirical Bayes, a Dirichlet-multinomial):

- the list's pattern ``p_list`` is the pooled counts of everyone, plus one
  event spread evenly over the 168 hours (so no hour has probability 0);
- a group's pattern (the contacts with one value of the ``group`` field,
  e.g. a persona, or a segment in the report) is its pooled counts shrunk
  toward the list: ``p_g = (C_g + M p_list) / (N_g + M)``, ``M = group_strength``;
- a contact's distribution is ``p_c = (c + m p_g) / (n + m)``, with ``c`` its
  own counts, ``n`` their sum and ``m`` the prior strength: a setting, or
  estimated by maximising the Dirichlet-multinomial marginal likelihood of
  every contact's counts (scipy's bounded scalar minimiser).

Counts (own and pooled) are first smoothed over neighbouring hours with the
circular kernel ``[s, 1 - 2s, s]`` (Sunday 23:00 neighbours Monday 00:00), so
one click at 09:10 also says something about 08:00 and 10:00, and sparse data
do not pick a random hour.  The best hour is the argmax of ``p_c``; ties go
to the earliest hour of the week.  A contact without events gets the group's
best hour (the list's without a group).

Everything per contact is sparse: a contact's argmax is one of the hours it
has counts at or its group's best hour, so no (contacts x 168) matrix is
ever built.

>>> hour_label(33)
'Tue 09:00'
>>> circular_distance(np.array([0, 5]), np.array([167, 5])).tolist()
[1, 0]
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray
from pydantic import Field, field_validator
from scipy.optimize import minimize_scalar  # type: ignore[import-untyped]
from scipy.special import gammaln  # type: ignore[import-untyped]
from sqlglot import exp

from segmint.errors import ConfigError, InsufficientDataError, Problem, UsageError
from segmint.traits.base import TraitContext, TraitSettings

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from segmint.dsl import Segment
    from segmint.store.store import Store

Array = NDArray[np.float64]
Ints = NDArray[np.int64]

#: hours in a week: 0 = Monday 00:00 .. 167 = Sunday 23:00
HOURS = 168
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: hour 0 since the epoch (1970-01-01 00:00) was a Thursday 00:00: hour 72 of the week
EPOCH_HOUR_OF_WEEK = 72
#: the pseudo-events spread evenly over the week in the list's pattern, so no hour has probability 0
UNIFORM_EVENTS = 1.0
#: the prior strength m is estimated within these bounds (events)
STRENGTH_BOUNDS = (0.1, 1000.0)
#: best hours a profile lists
TOP_HOURS = 5


class SendTimeSettings(TraitSettings):
    timezone: str | None = Field(
        None, description="Time zone of the hours (e.g. Europe/Helsinki); unset: `[load] timezone`, else UTC."
    )
    lookback_days: int = Field(365, gt=0, description="Engagement within this many days before as_of counts.")
    click_events: list[str] = Field(["email_click"], min_length=1, description="Events that are clicks.")
    open_events: list[str] = Field(
        ["email_open"], description="Events that are opens (machine opens, machine_open true, never count)."
    )
    click_weight: float = Field(1.0, gt=0, description="What a click counts for; an open counts 1.")
    group: str | None = Field(
        "persona",
        description="Contact field whose value groups contacts for the prior (a column, custom property or "
        "trait, e.g. persona or company.industry); unset: every contact is shrunk toward the whole list.",
    )
    strength: float | None = Field(
        None,
        gt=0,
        description="Prior strength m in events; unset: estimated by maximum Dirichlet-multinomial likelihood.",
    )
    group_strength: float = Field(50.0, gt=0, description="Events' worth of the list's pattern in a group's pattern.")
    smoothing: float = Field(
        0.25, ge=0, le=1 / 3, description="Weight of each neighbouring hour in the smoothing kernel (0: none)."
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone '{value}'") from exc
        return value


# ---- hours of the week -----------------------------------------------------------------------------------------


def hour_label(hour: int) -> str:
    """``'Tue 09:00'`` for hour 33 of the week."""
    return f"{WEEKDAYS[hour // 24][:3].title()} {hour % 24:02d}:00"


def circular_distance(a: Ints, b: Ints) -> Ints:
    """Hours between two hours of the week, around the week's end (Sunday 23:00 to Monday 00:00 is 1)."""
    d = np.abs(np.asarray(a, np.int64) - np.asarray(b, np.int64)) % HOURS
    out: Ints = np.minimum(d, HOURS - d)
    return out


def smooth(pattern: Array, s: float) -> Array:
    """A 168-hour vector smoothed with the circular kernel ``[s, 1 - 2s, s]`` (its sum is kept)."""
    out: Array = (1 - 2 * s) * pattern + s * np.roll(pattern, 1) + s * np.roll(pattern, -1)
    return out


def settings_of(store: Store) -> SendTimeSettings:
    """The ``send_time`` traits model's settings of this store (``[traits.send_time]``)."""
    from segmint.traits import model_classes, model_settings

    found = model_settings(model_classes()["send_time"], store.settings)
    assert isinstance(found, SendTimeSettings)
    return found


def zone_of(settings: SendTimeSettings, store: Store) -> str:
    """The zone the hours are in: the setting, else the store's ``[load] timezone`` (UTC by default)."""
    return settings.timezone or store.settings.load.timezone or "UTC"


# ---- time zone -----------------------------------------------------------------------------------------------


def zone_offsets(zone: str, start: datetime, end: datetime) -> list[tuple[datetime | None, int]]:
    """The UTC offsets (seconds) of ``zone`` between ``start`` and ``end``: ``[(from, offset), ...]``.

    The first piece has ``from`` None; each later one starts at a transition
    (to the second).  Found by stepping a day at a time and bisecting, since
    :mod:`zoneinfo` does not list its transitions.

    >>> pieces = zone_offsets("Europe/Helsinki", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC))
    >>> [(p[0].isoformat() if p[0] else None, p[1] // 3600) for p in pieces]
    [(None, 2), ('2026-03-29T01:00:00+00:00', 3), ('2026-10-25T01:00:00+00:00', 2)]
    """
    tz = ZoneInfo(zone)

    def offset(seconds: int) -> int:
        moment = datetime.fromtimestamp(seconds, UTC).astimezone(tz)
        delta = moment.utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    lo_s, hi_s = int(start.timestamp()) - 1, int(end.timestamp()) + 1
    pieces: list[tuple[datetime | None, int]] = [(None, offset(lo_s))]
    day = 86_400
    at = lo_s
    while at < hi_s:
        nxt = min(at + day, hi_s)
        if offset(nxt) != offset(at):
            lo, hi = at, nxt  # offset(lo) is the old offset, offset(hi) the new one
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if offset(mid) == offset(lo) else (lo, mid)
            pieces.append((datetime.fromtimestamp(hi, UTC), offset(hi)))
        at = nxt
    return pieces


def _offset_sql(pieces: list[tuple[datetime | None, int]]) -> tuple[str, dict[str, Any]]:
    """The template text of the offset in seconds at ``e.ts``, and its placeholders' values."""
    values: dict[str, Any] = {f"offset_{i}": offset for i, (_, offset) in enumerate(pieces)}
    if len(pieces) == 1:
        return ":offset_0", values
    whens = []
    for i in range(len(pieces) - 1):
        values[f"zone_change_{i + 1}"] = pieces[i + 1][0]
        whens.append(f"WHEN e.ts < :zone_change_{i + 1} THEN :offset_{i}")
    return f"CASE {' '.join(whens)} ELSE :offset_{len(pieces) - 1} END", values


# ---- counts in SQL -------------------------------------------------------------------------------------------

COUNTS_TEMPLATE = """
WITH engaged AS (
  SELECT e.contact_key,
         CAST(FLOOR((EPOCH(e.ts) + {offset}) / 3600) AS BIGINT) AS local_hour,
         CASE WHEN e.ts > :split THEN 1 ELSE 0 END AS period,
         CASE WHEN e.event IN (:click_events) THEN 1 ELSE 0 END AS is_click
  FROM events e
  WHERE e.ts >= :start AND e.ts <= :as_of AND e.contact_key IS NOT NULL AND KEYS(e.contact_key)
    AND (e.event IN (:click_events)
         OR (e.event IN (:open_events) AND NOT COALESCE(e.machine_open, FALSE)))),
hours AS (
  SELECT g.contact_key, ((g.local_hour % 168) + 168 + :epoch_hour) % 168 AS hour, g.period, g.is_click
  FROM engaged g)
SELECT h.contact_key, CAST(h.hour AS INT) AS hour, CAST(h.period AS INT) AS period,
       CAST(SUM(h.is_click) AS BIGINT) AS clicks, CAST(COUNT(*) AS BIGINT) AS events
FROM hours h
GROUP BY h.contact_key, h.hour, h.period
"""


def counts_query(
    ctx: TraitContext,
    settings: SendTimeSettings,
    zone: str,
    *,
    start: datetime,
    split: datetime | None = None,
    restrict: bool = True,
) -> exp.Query:
    """Engagement per contact, hour of the week in ``zone`` and period (1: after ``split``), from ``start``
    to ``ctx.as_of``; ``restrict``: only ``ctx``'s contacts."""
    if not restrict:
        ctx = replace(ctx, contact_keys=None, company_keys=None, key_tables={})
    offset, values = _offset_sql(zone_offsets(zone, start, ctx.as_of))
    return ctx.parse(
        COUNTS_TEMPLATE.format(offset=offset),
        start=start,
        split=split or ctx.as_of,
        click_events=list(settings.click_events),
        open_events=list(settings.open_events) or [""],
        epoch_hour=EPOCH_HOUR_OF_WEEK,
        **values,
    )


@dataclass(frozen=True)
class HourCounts:
    """Sparse counts: one entry per contact and hour of the week (of one period)."""

    contact_key: Ints
    hour: Ints
    #: clicks x click_weight + opens
    weight: Array
    #: events (clicks and opens, each 1)
    events: Ints

    def __len__(self) -> int:
        return len(self.contact_key)

    def only(self, chosen: NDArray[np.bool_]) -> HourCounts:
        return HourCounts(self.contact_key[chosen], self.hour[chosen], self.weight[chosen], self.events[chosen])


def hour_counts(rows: pa.Table, click_weight: float, period: int | None = None) -> HourCounts:
    """The :class:`HourCounts` of :func:`counts_query`'s rows (of one ``period``, or all)."""

    def column(name: str) -> NDArray[Any]:
        return np.asarray(rows.column(name).to_numpy(zero_copy_only=False))

    keys = column("contact_key").astype(np.int64)
    chosen = np.ones(len(keys), bool) if period is None else column("period").astype(np.int64) == period
    clicks = column("clicks").astype(np.float64)[chosen]
    events = column("events").astype(np.int64)[chosen]
    counts = HourCounts(
        keys[chosen], column("hour").astype(np.int64)[chosen], clicks * click_weight + (events - clicks), events
    )
    order = np.lexsort((counts.hour, counts.contact_key))
    return HourCounts(counts.contact_key[order], counts.hour[order], counts.weight[order], counts.events[order])


# ---- groups ---------------------------------------------------------------------------------------------------


def group_query(ctx: TraitContext, group: str | None, *, restrict: bool = True) -> exp.Query:
    """Every contact (of ``ctx``'s scope) with the value of the ``group`` field as text (``grp``)."""
    contacts = exp.to_table("contacts").as_("c")
    key = exp.column("contact_key", "c")
    where = ctx.keys_condition(key) if restrict else exp.true()
    if group is None:
        return exp.select(key, exp.null().as_("grp")).from_(contacts).where(where)
    registry = ctx.store.registry()
    found = registry.find("contact", group)
    if found is None:
        raise ConfigError(
            f"segmint.toml: traits.send_time.group: unknown contact field '{group}'",
            problems=[
                Problem("traits.send_time.group", f"unknown field '{group}'", registry.suggest("contact", group))
            ],
        )
    if found.table == "traits_send_time":
        raise ConfigError("segmint.toml: traits.send_time.group cannot be one of send_time's own fields")
    query = exp.select(key).from_(contacts)
    if found.via == "company":
        query = query.join(exp.to_table("companies").as_("co"), on="co.company_key = c.company_key", join_type="left")
        owner, owner_key = "co", "company_key"
    else:
        owner, owner_key = "c", "contact_key"
    if found.table in ("contacts", "companies"):
        value: exp.Expr = exp.column(found.column, owner, quoted=True)
    elif not ctx.store.engine.table_exists(found.table):  # a trait not computed yet: no groups
        value = exp.null()
    else:
        on = exp.column(owner_key, "t").eq(exp.column(owner_key, owner))
        query = query.join(exp.to_table(found.table).as_("t"), on=on, join_type="left")
        value = exp.column(found.column, "t", quoted=True)
        if found.explicit_column:  # the stored value wins over the inferred one
            value = exp.Coalesce(this=exp.column(found.explicit_column, owner, quoted=True), expressions=[value])
    text = exp.Cast(this=value, to=exp.DataType.build("text"))
    return query.select(text.as_("grp")).where(where)


@dataclass(frozen=True)
class Groups:
    """Contacts (sorted by key) and their group: ``code`` indexes ``names`` (-1: no group)."""

    contact_key: Ints
    code: Ints
    names: list[str]

    def of(self, keys: Ints) -> Ints:
        """The group codes of ``keys`` (-1 for a key not listed)."""
        if len(self.contact_key) == 0:
            return np.full(len(keys), -1, np.int64)
        at = np.minimum(np.searchsorted(self.contact_key, keys), len(self.contact_key) - 1)
        out: Ints = np.where(self.contact_key[at] == keys, self.code[at], -1)
        return out

    def at(self, keys: Ints) -> Groups:
        """The groups of ``keys`` (sorted)."""
        return Groups(keys, self.of(keys), self.names)


def groups_of(rows: pa.Table) -> Groups:
    """The :class:`Groups` of :func:`group_query`'s rows (an empty value is no group)."""
    rows = rows.sort_by("contact_key")
    keys = np.asarray(rows.column("contact_key").to_numpy(zero_copy_only=False), dtype=np.int64)
    encoded = pc.dictionary_encode(pc.cast(rows.column("grp"), pa.string())).combine_chunks()
    names = [str(v) for v in encoded.dictionary.to_pylist()]
    codes = np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
    if "" in names:
        codes = np.where(codes == names.index(""), -1, codes)
    return Groups(keys, codes, names)


# ---- the fit -------------------------------------------------------------------------------------------------


@dataclass
class SendTimeFit:
    """The list's and each group's 168-hour pattern, and the contacts' prior strength ``m``."""

    list_pattern: Array
    group_patterns: dict[str, Array]
    strength: float
    smoothing: float
    #: events (weighted) the list's pattern was made from
    events: float = 0.0

    def prior(self, group: str | None) -> Array:
        if group is not None and group in self.group_patterns:
            return self.group_patterns[group]
        return self.list_pattern

    def best_hour(self, group: str | None = None) -> int:
        """The argmax of the group's (the list's) pattern; the earliest hour of the week on ties."""
        return int(np.argmax(np.round(self.prior(group), 12)))

    def to_rows(self) -> list[tuple[str | None, str | None]]:
        """(group, pattern as JSON) rows, the list's first with group None."""
        rows: list[tuple[str | None, str | None]] = [(None, json.dumps([float(v) for v in self.list_pattern]))]
        return rows + [(g, json.dumps([float(v) for v in p])) for g, p in sorted(self.group_patterns.items())]

    def table(self, names: Sequence[str]) -> tuple[Array, Ints]:
        """The (patterns + 1) x 168 matrix of the group patterns and the list's (last), and the row of each
        group code of ``names`` in it, with one more entry (the list's row) for code -1."""
        kept = sorted(self.group_patterns)
        row = {name: i for i, name in enumerate(kept)}
        matrix = np.vstack([*(self.group_patterns[n] for n in kept), self.list_pattern])
        rows = np.array([row.get(name, len(kept)) for name in names] + [len(kept)], np.int64)
        return matrix, rows


def fit_send_time(
    counts: HourCounts,
    codes: Ints,
    names: Sequence[str],
    *,
    smoothing: float,
    group_strength: float,
    strength: float | None = None,
) -> SendTimeFit | None:
    """Fit the list's and groups' patterns (and ``m`` when ``strength`` is None); None without any engagement.

    ``codes`` holds the group (an index into ``names``, -1: none) of each entry of ``counts``.
    """
    total = float(counts.weight.sum())
    if total <= 0:
        return None
    pooled = smooth(np.bincount(counts.hour, weights=counts.weight, minlength=HOURS).astype(np.float64), smoothing)
    list_pattern = (pooled + UNIFORM_EVENTS / HOURS) / (total + UNIFORM_EVENTS)
    grouped = codes >= 0
    cells = codes[grouped] * HOURS + counts.hour[grouped]
    by_group = np.bincount(cells, weights=counts.weight[grouped], minlength=len(names) * HOURS)
    by_group = by_group.reshape(len(names), HOURS)
    by_group = (1 - 2 * smoothing) * by_group + smoothing * (np.roll(by_group, 1, 1) + np.roll(by_group, -1, 1))
    totals = by_group.sum(axis=1)
    patterns = {
        names[g]: (by_group[g] + group_strength * list_pattern) / (totals[g] + group_strength)
        for g in np.flatnonzero(totals > 0).tolist()
    }
    fitted = SendTimeFit(list_pattern, patterns, strength or 1.0, smoothing, total)
    if strength is None:
        fitted.strength = estimate_strength(counts, codes, names, fitted)
    return fitted


def estimate_strength(counts: HourCounts, codes: Ints, names: Sequence[str], fitted: SendTimeFit) -> float:
    """The prior strength m maximising the Dirichlet-multinomial marginal likelihood of the contacts' counts.

    log p(c | m, p) = log Γ(m) - log Γ(n + m) + Σ_h [log Γ(c_h + m p_h) - log Γ(m p_h)] per contact
    (the multinomial coefficient does not depend on m); hours without counts add nothing, so the sum
    runs over the sparse entries only.  The counts are the raw (weighted, unsmoothed) ones, the prior
    ``p`` the contact's group's pattern.  The terms depend only on (c, group, hour) and on n, so each
    distinct value is evaluated once with its count as weight; scipy's bounded Brent search over log m.
    """
    if len(counts) == 0:
        return 1.0
    matrix, rows = fitted.table(names)
    cells = rows[codes] * HOURS + counts.hour
    order = np.lexsort((counts.weight, cells))
    cells, weights = cells[order], counts.weight[order]
    starts = np.flatnonzero(np.r_[True, (cells[1:] != cells[:-1]) | (weights[1:] != weights[:-1])])
    entry_weight = np.diff(np.r_[starts, len(cells)])
    p = matrix.reshape(-1)[cells[starts]]
    c = weights[starts]
    _, contact_index = np.unique(counts.contact_key, return_inverse=True)
    n, contact_weight = np.unique(np.bincount(contact_index, weights=counts.weight), return_counts=True)

    def negative(log_m: float) -> float:
        m = float(np.exp(log_m))
        per_contact = contact_weight @ (gammaln(m) - gammaln(n + m))
        per_entry = entry_weight @ (gammaln(c + m * p) - gammaln(m * p))
        return -float(per_contact + per_entry)

    lo, hi = np.log(STRENGTH_BOUNDS[0]), np.log(STRENGTH_BOUNDS[1])
    found = minimize_scalar(negative, bounds=(lo, hi), method="bounded", options={"xatol": 1e-4})
    return float(np.exp(found.x))


def smooth_sparse(counts: HourCounts, s: float) -> tuple[Ints, Ints, Array]:
    """Each contact's counts smoothed over neighbouring hours: (contact_key, hour, weight), sorted."""
    if s == 0 or len(counts) == 0:
        return counts.contact_key, counts.hour, counts.weight
    keys = np.concatenate([counts.contact_key] * 3)
    hours = np.concatenate([(counts.hour - 1) % HOURS, counts.hour, (counts.hour + 1) % HOURS])
    weights = np.concatenate([s * counts.weight, (1 - 2 * s) * counts.weight, s * counts.weight])
    combined = keys * HOURS + hours
    unique, inverse = np.unique(combined, return_inverse=True)
    summed: Array = np.bincount(inverse, weights=weights).astype(np.float64)
    entries: Ints = unique.astype(np.int64)
    return entries // HOURS, entries % HOURS, summed


def _first_max(index: Ints, hours: Ints, values: Array) -> tuple[Ints, Ints, Array]:
    """Per run of equal ``index`` (sorted; hours ascending within a run): the index, the earliest hour of the
    largest value, and that value (values rounded to 9 decimals so float noise never decides a tie)."""
    values = np.round(values, 9)
    starts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
    best = np.maximum.reduceat(values, starts)
    run = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(values)]))
    hour = np.minimum.reduceat(np.where(values == best[run], hours, HOURS), starts)
    return index[starts], hour, best


@dataclass(frozen=True)
class Scores:
    """Per contact (sorted by key): the best hour (-1: none) and the own events that informed it."""

    contact_key: Ints
    best_hour: Ints
    evidence: Ints


def score_contacts(fitted: SendTimeFit | None, counts: HourCounts, groups: Groups) -> Scores:
    """Every contact of ``groups``: the argmax of ``p_c = (c + m p_g) / (n + m)`` (earliest hour on ties)."""
    keys = groups.contact_key
    best = np.full(len(keys), -1, np.int64)
    evidence = np.zeros(len(keys), np.int64)
    if fitted is None or len(keys) == 0:
        return Scores(keys, best, evidence)
    counts = counts.only(np.isin(counts.contact_key, keys))
    index = np.searchsorted(keys, counts.contact_key)
    evidence = np.bincount(index, weights=counts.events, minlength=len(keys)).astype(np.int64)
    matrix, rows = fitted.table(groups.names)
    group_row = rows[groups.code]
    group_best = np.argmax(np.round(matrix, 12), axis=1)
    best = group_best[group_row].astype(np.int64)  # no own data: the group's (list's) best hour
    if len(counts):
        own_keys, own_hours, own_weights = smooth_sparse(counts, fitted.smoothing)
        own_index = np.searchsorted(keys, own_keys)
        values = own_weights + fitted.strength * matrix[group_row[own_index], own_hours]
        who, hour, value = _first_max(own_index, own_hours, values)
        # the group's best hour competes at its prior value alone (where the contact has counts at that
        # hour too, the entries above hold a value at least as large)
        prior_hour = best[who]
        prior_value = np.round(fitted.strength * matrix[group_row[who], prior_hour], 9)
        best[who] = np.where(
            value > prior_value, hour, np.where(value < prior_value, prior_hour, np.minimum(hour, prior_hour))
        )
    return Scores(keys, best, evidence)


# ---- the profile of a segment or the list --------------------------------------------------------------------


@dataclass
class HourShare:
    hour: int
    label: str
    weekday: str
    hour_of_day: int
    share: float


@dataclass
class SendTimeProfile:
    """When a segment (or the whole list) engages: the 168-hour pattern and its best hours."""

    segment: str | None
    as_of: datetime
    timezone: str
    lookback_days: int
    #: the segment's members (everyone for the list)
    contacts: int
    contacts_with_engagement: int
    clicks: int
    opens: int
    #: weighted engagement per hour, smoothed, not shrunk
    counts: list[float]
    #: the share of engagement per hour: the smoothed counts shrunk toward the list's pattern, summing to 1
    pattern: list[float]
    best_hours: list[HourShare] = field(default_factory=list)

    def grid(self) -> Array:
        """The pattern as 7 weekdays x 24 hours."""
        return np.asarray(self.pattern, dtype=np.float64).reshape(7, 24)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat()
        data["by_weekday"] = [
            {"weekday": WEEKDAYS[d], "share": round(float(row.sum()), 6), "best_hour_of_day": int(np.argmax(row))}
            for d, row in enumerate(self.grid())
        ]
        return data


def context_of(store: Store, as_of: datetime) -> TraitContext:
    """A traits context on ``store`` at ``as_of`` (for queries outside a refresh)."""
    from segmint.compile import compiler_for

    as_of = as_of.astimezone(UTC)
    return TraitContext(store, compiler_for(store.engine.name, store.registry(), {}, as_of=as_of), as_of)


def _no_engagement(settings: SendTimeSettings, start: datetime, end: datetime, who: str) -> InsufficientDataError:
    kinds = " or ".join([*settings.click_events, *(f"human {e}" for e in settings.open_events)])
    return InsufficientDataError(
        f"{who} has no {kinds} events between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} UTC: "
        "nothing to learn send times from"
    )


def send_time_profile(
    store: Store,
    segment: str | Segment | None = None,
    as_of: datetime | None = None,
    *,
    settings: SendTimeSettings | None = None,
) -> SendTimeProfile:
    """The 168-hour engagement pattern of a segment's members (or the whole list) and its best hours.

    ``segment``: a stored segment's name, a segment file, or a definition.

    The segment's pooled, smoothed counts are shrunk toward the list's
    pattern like a group's (``group_strength``), so a small segment's best
    hours are not the accident of a few clicks.  Counted in SQL by hour only.
    """
    from segmint.compile import MEMBER_KEY
    from segmint.segments.definitions import resolve_segment
    from segmint.segments.evaluate import compiler

    settings = settings or settings_of(store)
    as_of = (as_of or datetime.now(UTC)).astimezone(UTC)
    ctx = context_of(store, as_of)
    zone = zone_of(settings, store)
    start = as_of - timedelta(days=settings.lookback_days)
    counts = counts_query(ctx, settings, zone, start=start)
    members: exp.Query | None = None
    name: str | None = None
    if segment is not None:
        definition = resolve_segment(store, segment) if isinstance(segment, str) else segment
        name = definition.name
        if definition.entity != "contact":
            raise UsageError(f"segment '{name}' is a company segment: send times are per contact")
        compiled = compiler(store, as_of=as_of, extra=definition).compile(definition)
        members = exp.select(exp.column(MEMBER_KEY)).from_(exp.paren(compiled).as_("m"))
    engine = store.engine
    pooled_everyone = _pooled_by_hour(store, counts, None, settings.click_weight)
    if pooled_everyone["events"] == 0:
        raise _no_engagement(settings, start, as_of, "the store")
    list_pattern = (smooth(pooled_everyone["weights"], settings.smoothing) + UNIFORM_EVENTS / HOURS) / (
        float(pooled_everyone["weights"].sum()) + UNIFORM_EVENTS
    )
    mine = pooled_everyone if members is None else _pooled_by_hour(store, counts, members, settings.click_weight)
    contacts_query = exp.select(exp.Count(this=exp.Star())).from_(exp.to_table("contacts").as_("c"))
    if members is not None:
        contacts_query = contacts_query.where(exp.column("contact_key", "c").isin(query=members.copy()))
    contacts = int(engine.query(contacts_query).column(0)[0].as_py() or 0)
    own = smooth(mine["weights"], settings.smoothing)
    if members is None:
        pattern = list_pattern
    else:
        m = settings.group_strength
        pattern = (own + m * list_pattern) / (float(own.sum()) + m)
    order = np.lexsort((np.arange(HOURS), -np.round(pattern, 12)))[:TOP_HOURS]
    best = [HourShare(int(h), hour_label(int(h)), WEEKDAYS[h // 24], int(h % 24), float(pattern[h])) for h in order]
    return SendTimeProfile(
        segment=name,
        as_of=as_of,
        timezone=zone,
        lookback_days=settings.lookback_days,
        contacts=contacts,
        contacts_with_engagement=int(mine["contacts"]),
        clicks=int(mine["clicks"]),
        opens=int(mine["events"] - mine["clicks"]),
        counts=[round(float(v), 6) for v in own],
        pattern=[float(v) for v in pattern],
        best_hours=best,
    )


def _pooled_by_hour(store: Store, counts: exp.Query, members: exp.Query | None, click_weight: float) -> dict[str, Any]:
    """Clicks and events per hour of everyone (or of ``members``), and the contacts with any, from SQL."""
    rows_of = exp.paren(counts.copy()).as_("k")
    where = exp.column("contact_key", "k").isin(query=members.copy()) if members is not None else exp.true()
    by_hour = (
        exp.select(
            exp.column("hour", "k"),
            exp.Sum(this=exp.column("clicks", "k")).as_("clicks"),
            exp.Sum(this=exp.column("events", "k")).as_("events"),
        )
        .from_(rows_of)
        .where(where)
        .group_by(exp.column("hour", "k"))
    )
    rows = store.engine.query(by_hour).to_pylist()
    clicks = np.zeros(HOURS)
    events = np.zeros(HOURS)
    for row in rows:
        clicks[int(row["hour"])] = float(row["clicks"] or 0)
        events[int(row["hour"])] = float(row["events"] or 0)
    distinct = exp.select(exp.Count(this=exp.Distinct(expressions=[exp.column("contact_key", "k")])))
    contacts = store.engine.query(distinct.from_(rows_of.copy()).where(where.copy())).column(0)[0].as_py()
    return {
        "weights": clicks * click_weight + (events - clicks),
        "clicks": float(clicks.sum()),
        "events": float(events.sum()),
        "contacts": int(contacts or 0),
    }


# ---- held-out evaluation -------------------------------------------------------------------------------------


@dataclass
class MethodScore:
    """How one way of choosing the hour did on the held-out events."""

    method: str
    description: str
    #: share of held-out events within ±1 h of the predicted hour (around the week's end)
    within_1h: float
    #: share of held-out events exactly at the predicted hour
    exact: float
    #: mean natural log of the probability the method's distribution gave the actual hour (None: no distribution)
    log_likelihood: float | None


@dataclass
class SendTimeEvaluation:
    """Fit on the events up to ``cutoff``, then score the engagement after it (``cutoff`` .. ``as_of``)."""

    as_of: datetime
    cutoff: datetime
    timezone: str
    training_events: int
    training_contacts: int
    holdout_events: int
    holdout_contacts: int
    #: share of held-out events whose contact had own training events
    holdout_with_history: float
    strength: float
    methods: list[MethodScore]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat()
        data["cutoff"] = self.cutoff.isoformat()
        data["uniform_log_likelihood"] = float(-np.log(HOURS))
        return data


def evaluate_send_time(
    store: Store,
    as_of: datetime | None = None,
    holdout: timedelta = timedelta(days=90),
    *,
    settings: SendTimeSettings | None = None,
) -> SendTimeEvaluation:
    """Held-out check: fit on the ``lookback_days`` before ``as_of - holdout``, score the engagement after.

    Methods compared on each held-out click / human open (each event counts once):
    ``shrunk`` (this model), ``no_shrinkage`` (the contact's own smoothed argmax; the
    list's best hour without own data), ``group`` (the group's best hour) and
    ``list_best_hour`` (one hour for everyone).
    """
    settings = settings or settings_of(store)
    as_of = (as_of or datetime.now(UTC)).astimezone(UTC)
    if holdout <= timedelta(0):
        raise UsageError("holdout must be a positive duration")
    cutoff = as_of - holdout
    start = cutoff - timedelta(days=settings.lookback_days)
    ctx = context_of(store, as_of)
    zone = zone_of(settings, store)
    rows = store.engine.query(counts_query(ctx, settings, zone, start=start, split=cutoff))
    train = hour_counts(rows, settings.click_weight, period=0)
    test = hour_counts(rows, settings.click_weight, period=1)
    if len(train) == 0:
        raise _no_engagement(settings, start, cutoff, "the store")
    if len(test) == 0:
        raise _no_engagement(settings, cutoff, as_of, "the held-out period")
    groups = groups_of(store.engine.query(group_query(context_of(store, cutoff), settings.group, restrict=False)))
    fitted = fit_send_time(
        train,
        groups.of(train.contact_key),
        groups.names,
        smoothing=settings.smoothing,
        group_strength=settings.group_strength,
        strength=settings.strength,
    )
    assert fitted is not None
    people = np.union1d(train.contact_key, test.contact_key)
    scope = groups.at(people)
    shrunk = score_contacts(fitted, train, scope)
    at = np.searchsorted(people, test.contact_key)
    weights = test.events.astype(np.float64)
    table, rows = fitted.table(scope.names)
    group_row = rows[scope.code]
    group_best = np.argmax(np.round(table, 12), axis=1)[group_row]
    list_best = fitted.best_hour(None)
    own_best = _own_best(train, people, list_best, fitted.smoothing)
    had_history = shrunk.evidence[at] > 0

    def score(method: str, description: str, predicted: Ints, log_p: Array | None) -> MethodScore:
        d = circular_distance(predicted[at], test.hour)
        return MethodScore(
            method,
            description,
            float(np.average(d <= 1, weights=weights)),
            float(np.average(d == 0, weights=weights)),
            float(np.average(log_p, weights=weights)) if log_p is not None else None,
        )

    methods = [
        score(
            "shrunk",
            "own hours shrunk toward the group's and the list's pattern",
            shrunk.best_hour,
            np.log(_posterior_at(fitted, train, scope, test.contact_key, test.hour)),
        ),
        score("no_shrinkage", "the contact's own best hour (the list's without own data)", own_best, None),
        score(
            "group",
            "the best hour of the contact's group (the list's without a group)",
            group_best,
            np.log(table[group_row[at], test.hour]),
        ),
        score(
            "list_best_hour",
            "the list's single best hour for everyone",
            np.full(len(people), list_best, np.int64),
            np.log(fitted.list_pattern[test.hour]),
        ),
    ]
    return SendTimeEvaluation(
        as_of=as_of,
        cutoff=cutoff,
        timezone=zone,
        training_events=int(train.events.sum()),
        training_contacts=len(np.unique(train.contact_key)),
        holdout_events=int(test.events.sum()),
        holdout_contacts=len(np.unique(test.contact_key)),
        holdout_with_history=float(np.average(had_history, weights=weights)),
        strength=fitted.strength,
        methods=methods,
    )


def _own_best(counts: HourCounts, people: Ints, fallback: int, s: float) -> Ints:
    """Each person's argmax of their own smoothed counts (earliest on ties); ``fallback`` without counts."""
    best = np.full(len(people), fallback, np.int64)
    keys, hours, weights = smooth_sparse(counts, s)
    if len(keys):
        who, hour, _ = _first_max(keys, hours, weights)
        best[np.searchsorted(people, who)] = hour
    return best


def _posterior_at(fitted: SendTimeFit, counts: HourCounts, scope: Groups, keys: Ints, hours: Ints) -> Array:
    """``p_c(h) = (c_h + m p_g(h)) / (n + m)`` of each (contact, hour) asked for."""
    own_keys, own_hours, own_weights = smooth_sparse(counts, fitted.smoothing)
    combined = own_keys * HOURS + own_hours
    wanted = keys * HOURS + hours
    at = np.minimum(np.searchsorted(combined, wanted), max(len(combined) - 1, 0))
    c = np.where(combined[at] == wanted, own_weights[at], 0.0) if len(combined) else np.zeros(len(keys))
    people = len(scope.contact_key)
    totals = np.bincount(
        np.searchsorted(scope.contact_key, counts.contact_key), weights=counts.weight, minlength=people
    )
    where = np.searchsorted(scope.contact_key, keys)
    n = totals[where]
    table, rows = fitted.table(scope.names)
    p = table[rows[scope.code[where]], hours]
    out: Array = (c + fitted.strength * p) / (n + fitted.strength)
    return out


# ---- the chart -----------------------------------------------------------------------------------------------


def send_time_chart(profile: SendTimeProfile) -> Figure:
    """The week as a 7 x 24 heat map of the share of engagement, the best hour framed."""
    from matplotlib.patches import Rectangle

    from segmint.insights.charts import new_figure

    figure = new_figure(10.0, 4.2)
    axes = figure.add_subplot()
    grid = profile.grid() * 100
    image = axes.imshow(grid, aspect="auto", cmap="viridis", interpolation="nearest")
    axes.set_yticks(range(7), [d[:3].title() for d in WEEKDAYS])
    axes.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
    axes.set_xlabel(f"hour of the day ({profile.timezone})")
    if profile.best_hours:
        top = profile.best_hours[0].hour
        axes.add_patch(Rectangle((top % 24 - 0.5, top // 24 - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2))
    who = f"segment {profile.segment}" if profile.segment else "the whole list"
    axes.set_title(
        f"When {who} engages: clicks and human opens, {profile.lookback_days} days to {profile.as_of:%Y-%m-%d}"
    )
    colorbar = figure.colorbar(image, ax=axes)
    colorbar.set_label("share of engagement (%)")
    return figure


__all__ = [
    "HOURS",
    "WEEKDAYS",
    "Groups",
    "HourCounts",
    "MethodScore",
    "Scores",
    "SendTimeEvaluation",
    "SendTimeFit",
    "SendTimeProfile",
    "SendTimeSettings",
    "circular_distance",
    "counts_query",
    "evaluate_send_time",
    "fit_send_time",
    "group_query",
    "groups_of",
    "hour_counts",
    "hour_label",
    "score_contacts",
    "send_time_chart",
    "send_time_profile",
    "smooth",
    "zone_offsets",
]
