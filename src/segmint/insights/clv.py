"""Lifetime value: BG/NBD, Pareto/NBD and Gamma-Gamma, fitted by maximum likelihood on the store's purchases.

The "buy till you die" models of the literature, on the purchase summary the
literature uses (Fader, Hardie & Lee 2005), built in SQL on the store's
engine: one transaction per contact per (UTC) day, so several purchases on
one day are one transaction whose value is their sum; then per contact

- ``frequency`` (x): repeat transactions, the days with a purchase after the first;
- ``recency`` (t_x): time from the first transaction to the last;
- ``T``: time from the first transaction to ``as_of``;
- ``monetary`` (m_x): mean value of the repeat transactions (those with an amount);
  unset for one-time buyers.

Times are in days or weeks (7 days); the day of a purchase is its UTC day,
so a contact whose first purchase was on 1997-01-01 is 272 days (38.86
weeks) old at ``as_of`` 1997-09-30 00:00, as in the published CDNOW summary.

Transactions (who is alive, how often they buy):

- **BG/NBD** (Fader, Hardie & Lee 2005): purchases at a gamma(r, alpha) rate,
  and after each purchase the contact drops out with a beta(a, b) probability;
- **Pareto/NBD** (Schmittlein, Morrison & Colombo 1987): the same purchase
  process, with a lifetime whose exponential death rate is gamma(s, beta).

Value: **Gamma-Gamma** (Fader & Hardie 2013) for the mean value of a
contact's transactions, fitted on the contacts with repeat transactions.

Parameters are fitted in log space (all are positive) by L-BFGS-B on the
negative mean log-likelihood, with analytic gradients for BG/NBD and
Gamma-Gamma; for Pareto/NBD analytic but for its 2F1 parts, whose slopes are
central differences taken once per distinct ``(x, t)`` pair; the likelihoods are
written with ``gammaln``, ``betaln`` and ``hyp2f1`` in forms that neither
overflow nor cancel (see :func:`pareto_nbd_log_likelihood`), vectorised over
contacts, and each distinct ``(x, t_x, T)`` is evaluated once with its count
as weight.  On a handful of buyers the maximum may lie at infinity (no
heterogeneity to fit): the parameters then stop at their bound (``LOG_BOUND``)
and the predictions are those of the limiting model.

>>> model = BetaGeoFit(r=0.243, alpha=4.414, a=0.793, b=2.426)
>>> float(model.p_alive(np.array([0.0]), np.array([0.0]), np.array([38.86]))[0])
1.0
>>> round(float(model.expected_purchases(39, np.array([2.0]), np.array([30.43]), np.array([38.86]))[0]), 3)
1.226
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray
from scipy.optimize import minimize  # type: ignore[import-untyped]
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1  # type: ignore[import-untyped]
from sqlglot import exp

from segmint.errors import InsufficientDataError, UsageError

if TYPE_CHECKING:
    from segmint.store.store import Store
    from segmint.traits.base import TraitContext

Array = NDArray[np.float64]

#: days in one unit of time
UNIT_DAYS: dict[str, float] = {"day": 1.0, "week": 7.0}
#: the models ``fit`` knows, and the parameters each reports
MODELS: dict[str, tuple[str, ...]] = {
    "bgnbd": ("r", "alpha", "a", "b"),
    "pareto_nbd": ("r", "alpha", "s", "beta"),
    "gamma_gamma": ("p", "q", "gamma"),
}
#: every parameter is kept within exp(±LOG_BOUND) (6e-6 .. 1.6e5): beyond, the model is its limit anyway
LOG_BOUND = 12.0
#: a month of the lifetime-value horizon, in days (discounting is per month)
MONTH_DAYS = 365.25 / 12
SECONDS_PER_DAY = 86400.0


# ---- the purchase summary -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PurchaseSummary:
    """One entry per contact who bought by ``as_of``: the arrays the models are fitted on."""

    contact_key: NDArray[np.int64]
    frequency: Array
    recency: Array
    T: Array
    #: mean value of the repeat transactions; NaN for one-time buyers or repeat days without an amount
    monetary: Array
    unit: str
    as_of: datetime

    def __len__(self) -> int:
        return len(self.contact_key)


SUMMARY_TEMPLATE = """
WITH days AS (
  SELECT e.contact_key, CAST(FLOOR(EPOCH(e.ts) / 86400) AS BIGINT) AS day, SUM(e.amount) AS amount
  FROM events e
  WHERE e.ts <= :as_of AND e.event IN (:purchase_events) AND e.contact_key IS NOT NULL AND KEYS(e.contact_key)
  GROUP BY e.contact_key, CAST(FLOOR(EPOCH(e.ts) / 86400) AS BIGINT)),
firsts AS (
  SELECT d.contact_key, d.day, d.amount, MIN(d.day) OVER (PARTITION BY d.contact_key) AS first_day
  FROM days d)
SELECT f.contact_key,
       COUNT(*) - 1 AS frequency,
       MIN(f.day) AS first_day,
       MAX(f.day) AS last_day,
       AVG(CASE WHEN f.day > f.first_day THEN CAST(f.amount AS DOUBLE) END) AS monetary
FROM firsts f
GROUP BY f.contact_key
"""


def summary_query(ctx: TraitContext, purchase_events: list[str], *, restrict: bool = True) -> exp.Query:
    """The per-contact summary in SQL (days since 1970 in UTC); ``restrict``: only ``ctx``'s contacts."""
    if not restrict:
        ctx = replace(ctx, contact_keys=None, company_keys=None, key_tables={})
    return ctx.parse(SUMMARY_TEMPLATE, purchase_events=list(purchase_events))


def summarise(rows: pa.Table, as_of: datetime, unit: str) -> PurchaseSummary:
    """The arrays of :class:`PurchaseSummary` from the rows of :func:`summary_query`, in ``unit``."""
    if unit not in UNIT_DAYS:
        raise UsageError(f"unknown unit '{unit}': day or week")
    rows = rows.sort_by("contact_key")
    scale = UNIT_DAYS[unit]
    as_of_day = as_of.astimezone(UTC).timestamp() / SECONDS_PER_DAY

    def column(name: str) -> Array:
        return np.asarray(rows.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)

    first, last = column("first_day"), column("last_day")
    return PurchaseSummary(
        contact_key=np.asarray(rows.column("contact_key").to_numpy(zero_copy_only=False), dtype=np.int64),
        frequency=column("frequency"),
        recency=(last - first) / scale,
        T=(as_of_day - first) / scale,
        monetary=column("monetary"),
        unit=unit,
        as_of=as_of.astimezone(UTC),
    )


def _context(store: Store, as_of: datetime) -> TraitContext:
    from segmint.compile import compiler_for
    from segmint.traits.base import TraitContext

    as_of = as_of.astimezone(UTC)
    return TraitContext(store, compiler_for(store.engine.name, store.registry(), {}, as_of=as_of), as_of)


def purchase_summary(
    store: Store,
    *,
    as_of: datetime | None = None,
    unit: str = "week",
    purchase_events: list[str] | None = None,
) -> PurchaseSummary:
    """The purchase summary of every contact who bought by ``as_of`` (default: now)."""
    ctx = _context(store, as_of or datetime.now(UTC))
    rows = store.engine.query(summary_query(ctx, purchase_events or ["purchase"]))
    return summarise(rows, ctx.as_of, unit)


# ---- log-likelihoods ------------------------------------------------------------------------------------------


def bgnbd_log_likelihood(params: Array, x: Array, t_x: Array, T: Array) -> Array:
    """Each contact's BG/NBD log-likelihood at ``(r, alpha, a, b)`` (FHL 2005, eq. 6), as a log-sum-exp.

    L = B(a, b+x)/B(a, b) Γ(r+x)α^r / (Γ(r)(α+T)^(r+x))
        + [x > 0] B(a+1, b+x-1)/B(a, b) Γ(r+x)α^r / (Γ(r)(α+t_x)^(r+x))
    """
    r, alpha, a, b = params
    common = gammaln(r + x) - gammaln(r) + r * math.log(alpha) - betaln(a, b)
    alive = betaln(a, b + x) - (r + x) * np.log(alpha + T)
    repeat = x > 0
    # b + x - 1 < 0 is possible only for x = 0, whose second term is absent: evaluate it at a safe point
    dropped = np.where(repeat, betaln(a + 1, np.where(repeat, b + x - 1, 1.0)) - (r + x) * np.log(alpha + t_x), -np.inf)
    out: Array = common + np.logaddexp(alive, dropped)
    return out


def bgnbd_gradient(params: Array, x: Array, t_x: Array, T: Array) -> Array:
    """d LL / d (r, alpha, a, b) of :func:`bgnbd_log_likelihood`, one row per contact."""
    r, alpha, a, b = params
    repeat = x > 0
    alive = betaln(a, b + x) - (r + x) * np.log(alpha + T)
    safe_b = np.where(repeat, b + x - 1, 1.0)
    dropped = np.where(repeat, betaln(a + 1, safe_b) - (r + x) * np.log(alpha + t_x), -np.inf)
    total = np.logaddexp(alive, dropped)
    w_alive, w_dropped = np.exp(alive - total), np.exp(dropped - total)  # the two terms' shares of L
    sum_ab = digamma(a + b + x)
    d_r = digamma(r + x) - digamma(r) + math.log(alpha) - w_alive * np.log(alpha + T) - w_dropped * np.log(alpha + t_x)
    d_alpha = r / alpha - (r + x) * (w_alive / (alpha + T) + w_dropped / (alpha + t_x))
    d_a = -(digamma(a) - digamma(a + b)) + w_alive * (digamma(a) - sum_ab) + w_dropped * (digamma(a + 1) - sum_ab)
    d_b = -(digamma(b) - digamma(a + b)) + w_alive * (digamma(b + x) - sum_ab) + w_dropped * (digamma(safe_b) - sum_ab)
    return np.column_stack([d_r, d_alpha, d_a, d_b])


def _log_hyp2f1_one(b: Array | float, c: Array | float, z: Array) -> Array:
    """log 2F1(1, b; c; z) for 0 <= z < 1 and c > b > 0: a series of positive terms, each below z^n."""
    out: Array = np.log(hyp2f1(1.0, b, c, z))
    return out


def _pareto_log_tail(params: Array, x: Array, t: Array) -> Array:
    """log G(t), G(t) = (r+s+x) ∫_t^∞ (α+y)^-(r+x) (β+y)^-(s+1) dy, the A0 term's pieces (FHL's note, eq. 22).

    The note writes G with 2F1(r+s+x, s+1; r+s+x+1; z) / (α+t)^(r+s+x), whose
    first parameter grows with x and overflows; Euler's transformation
    2F1(a, b; c; z) = (1-z)^(c-a-b) 2F1(c-a, c-b; c; z) turns it into
    2F1(1, r+x; r+s+x+1; z) / ((α+t)^(r+x) (β+t)^s) for α >= β, and
    2F1(1, s+1; r+s+x+1; z) / ((α+t)^(r+x-1) (β+t)^(s+1)) for α < β.
    """
    r, alpha, s, beta = params
    c = r + s + x + 1
    if alpha >= beta:
        z = (alpha - beta) / (alpha + t)
        return _log_hyp2f1_one(r + x, c, z) - (r + x) * np.log(alpha + t) - s * np.log(beta + t)
    z = (beta - alpha) / (beta + t)
    return _log_hyp2f1_one(s + 1, c, z) - (r + x - 1) * np.log(alpha + t) - (s + 1) * np.log(beta + t)


def _pareto_log_a0(params: Array, x: Array, t_x: Array, T: Array) -> Array:
    """log A0 = log(G(t_x) - G(T)) without cancelling; -inf when t_x = T."""
    high, low = _pareto_log_tail(params, x, t_x), _pareto_log_tail(params, x, T)
    gap = np.minimum(low - high, 0.0)
    with np.errstate(divide="ignore"):
        out: Array = high + np.log(-np.expm1(gap))
    return out


def pareto_nbd_log_likelihood(params: Array, x: Array, t_x: Array, T: Array) -> Array:
    """Each contact's Pareto/NBD log-likelihood at ``(r, alpha, s, beta)`` (Fader, Hardie & Lee's note, eq. 21).

    L = Γ(r+x)α^r β^s / Γ(r) [1 / ((α+T)^(r+x) (β+T)^s) + s/(r+s+x) A0]
    """
    r, alpha, s, beta = params
    common = gammaln(r + x) - gammaln(r) + r * math.log(alpha) + s * math.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    died = math.log(s) - np.log(r + s + x) + _pareto_log_a0(params, x, t_x, T)
    out: Array = common + np.logaddexp(alive, died)
    return out


def gamma_gamma_log_likelihood(params: Array, x: Array, m: Array) -> Array:
    """Each repeat buyer's Gamma-Gamma log-likelihood of mean value ``m`` over ``x`` transactions (F&H 2013, eq. 3).

    f(m | x) = Γ(px+q) / (Γ(px)Γ(q)) γ^q m^(px-1) x^(px) / (γ + m x)^(px+q)
    """
    p, q, gamma = params
    px = p * x
    out: Array = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * math.log(gamma)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(gamma + m * x)
    )
    return out


def gamma_gamma_gradient(params: Array, x: Array, m: Array) -> Array:
    """d LL / d (p, q, gamma) of :func:`gamma_gamma_log_likelihood`, one row per repeat buyer."""
    p, q, gamma = params
    px = p * x
    both = digamma(px + q)
    log_total = np.log(gamma + m * x)
    d_p = x * (both - digamma(px) + np.log(m) + np.log(x) - log_total)
    d_q = both - digamma(q) + math.log(gamma) - log_total
    d_gamma = q / gamma - (px + q) / (gamma + m * x)
    return np.column_stack([d_p, d_q, d_gamma])


# ---- the fitted models ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fit:
    """A fitted model: its parameters, the log-likelihood at them, and how many contacts it was fitted on."""

    model: ClassVar[str]
    log_likelihood: float = math.nan
    customers: int = 0
    unit: str = "week"
    as_of: datetime | None = None

    def parameters(self) -> dict[str, float]:
        """The parameters by their names in the literature."""
        return {name: float(getattr(self, name)) for name in MODELS[self.model]}

    def to_dict(self) -> dict[str, Any]:
        """``model``, every parameter, ``log_likelihood``, ``customers``, ``unit`` and ``as_of``."""
        return {
            "model": self.model,
            **self.parameters(),
            "log_likelihood": self.log_likelihood,
            "customers": self.customers,
            "unit": self.unit,
            "as_of": self.as_of.isoformat() if self.as_of else None,
        }


@dataclass(frozen=True)
class TransactionFit(Fit):
    """A model of who is alive and how often they buy (BG/NBD or Pareto/NBD)."""

    def expected_purchases(self, t: float | Array, frequency: Array, recency: Array, T: Array) -> Array:
        """Expected transactions in the next ``t`` units of a contact with ``(x, t_x, T)``."""
        raise NotImplementedError

    def p_alive(self, frequency: Array, recency: Array, T: Array) -> Array:
        """The probability that a contact with ``(x, t_x, T)`` is still a customer."""
        raise NotImplementedError


@dataclass(frozen=True)
class BetaGeoFit(TransactionFit):
    """BG/NBD: purchases at rate λ ~ gamma(r, alpha); after each, dropping out with p ~ beta(a, b)."""

    model: ClassVar[str] = "bgnbd"
    r: float = 1.0
    alpha: float = 1.0
    a: float = 1.0
    b: float = 1.0

    def _log_odds_dead(self, x: Array, t_x: Array, T: Array) -> Array:
        """log of a/(b+x-1) ((α+T)/(α+t_x))^(r+x); -inf for x = 0 (who cannot have dropped out)."""
        repeat = x > 0
        safe = np.where(repeat, self.b + x - 1, 1.0)
        odds = math.log(self.a) - np.log(safe) + (self.r + x) * (np.log(self.alpha + T) - np.log(self.alpha + t_x))
        return np.where(repeat, odds, -np.inf)

    def p_alive(self, frequency: Array, recency: Array, T: Array) -> Array:
        """P(alive | x, t_x, T) = 1 / (1 + [x > 0] a/(b+x-1) ((α+T)/(α+t_x))^(r+x)) (FHL 2005's note)."""
        out: Array = expit(-self._log_odds_dead(frequency, recency, T))
        return out

    def expected_purchases(self, t: float | Array, frequency: Array, recency: Array, T: Array) -> Array:
        """E[Y(t) | x, t_x, T] (FHL 2005, eq. 10), with its 2F1 Euler-transformed so that it does not overflow.

        (1-z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z) = (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z), z = t/(α+T+t).
        """
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        x = frequency
        z = t / (alpha + T + t)
        tail = np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
        out: Array = (a + b + x - 1) / (a - 1) * (1 - tail) * self.p_alive(x, recency, T)
        return out


@dataclass(frozen=True)
class ParetoNBDFit(TransactionFit):
    """Pareto/NBD: purchases at rate λ ~ gamma(r, alpha) while alive, death rate μ ~ gamma(s, beta)."""

    model: ClassVar[str] = "pareto_nbd"
    r: float = 1.0
    alpha: float = 1.0
    s: float = 1.0
    beta: float = 1.0

    def p_alive(self, frequency: Array, recency: Array, T: Array) -> Array:
        """P(alive) = 1 / (1 + s/(r+s+x) (α+T)^(r+x) (β+T)^s A0) (Fader, Hardie & Lee's note, eq. 18)."""
        params = np.array([self.r, self.alpha, self.s, self.beta])
        x = frequency
        log_odds = (
            math.log(self.s)
            - np.log(self.r + self.s + x)
            + (self.r + x) * np.log(self.alpha + T)
            + self.s * np.log(self.beta + T)
            + _pareto_log_a0(params, x, recency, T)
        )
        out: Array = expit(-log_odds)
        return out

    def expected_purchases(self, t: float | Array, frequency: Array, recency: Array, T: Array) -> Array:
        """E[Y(t) | x, t_x, T] = (r+x)(β+T) / ((α+T)(s-1)) [1 - ((β+T)/(β+T+t))^(s-1)] P(alive) (SMC 1987).

        At s = 1 the bracket over (s-1) is its limit log((β+T+t)/(β+T)).
        """
        r, alpha, s, beta = self.r, self.alpha, self.s, self.beta
        x = frequency
        shrink = np.log1p(t / (beta + T))  # log((β+T+t)/(β+T))
        growth = shrink if abs(s - 1) < 1e-9 else -np.expm1(-(s - 1) * shrink) / (s - 1)
        out: Array = (r + x) * (beta + T) / (alpha + T) * growth * self.p_alive(x, recency, T)
        return out


@dataclass(frozen=True)
class GammaGammaFit(Fit):
    """Gamma-Gamma: a transaction's value ~ gamma(p, ν), ν ~ gamma(q, gamma) per contact."""

    model: ClassVar[str] = "gamma_gamma"
    p: float = 1.0
    q: float = 1.0
    gamma: float = 1.0

    def expected_value(self, frequency: Array, monetary: Array) -> Array:
        """E[M | x, m_x] = p(γ + x m_x) / (px + q - 1): the population mean pγ/(q-1) for x = 0 (F&H 2013, eq. 5).

        NaN where that mean does not exist (px + q <= 1).
        """
        # a buyer whose repeat purchases have no amount is valued like a one-time buyer
        x = np.where(np.isfinite(monetary), frequency, 0.0)
        m = np.where(x > 0, np.nan_to_num(monetary, nan=0.0), 0.0)
        den = self.p * x + self.q - 1
        with np.errstate(divide="ignore", invalid="ignore"):
            out: Array = np.where(den > 0, self.p * (self.gamma + m * x) / den, np.nan)
        return out


FIT_CLASSES: dict[str, type[Fit]] = {"bgnbd": BetaGeoFit, "pareto_nbd": ParetoNBDFit, "gamma_gamma": GammaGammaFit}


# ---- maximum likelihood ---------------------------------------------------------------------------------------


def _distinct(*columns: Array) -> tuple[list[Array], Array]:
    """The distinct rows of the columns and how often each occurs (every distinct contact is evaluated once)."""
    rows, inverse = _distinct_with_inverse(*columns)
    return rows, np.bincount(inverse, minlength=len(rows[0])).astype(np.float64)


def _distinct_with_inverse(*columns: Array) -> tuple[list[Array], NDArray[np.intp]]:
    """The distinct rows of the columns, and for each input row the index of its distinct row.

    A lexicographic sort and a scan for changes: ``np.unique(axis=0)`` is several times slower.
    """
    order = np.lexsort(columns[::-1])
    ordered = [c[order] for c in columns]
    starts = np.ones(len(order), dtype=bool)
    for c in ordered:
        starts[1:] &= c[1:] == c[:-1]
    starts = ~starts
    if len(order):
        starts[0] = True
    group = np.cumsum(starts) - 1
    inverse = np.empty(len(order), dtype=np.intp)
    inverse[order] = group
    return [c[starts] for c in ordered], inverse


Totals = Callable[[Array], tuple[float, Array]]


def _dot(a: Array, b: Array) -> float:
    """Σ a·b over contacts: einsum's own loop, many times faster here than BLAS's ddot behind ``@``."""
    return float(np.einsum("i,i->", a, b))


def _maximise(totals: Totals, start: Array, total_weight: float) -> tuple[Array, float]:
    """The parameters maximising Σ w·LL, searched in log space by L-BFGS-B; returns them and the maximum.

    ``totals(params)`` gives Σ w·LL and Σ w·dLL/dparam.
    """

    def value_and_jacobian(log_params: Array) -> tuple[float, Array]:
        params = np.exp(log_params)
        with np.errstate(all="ignore"):
            total, slope = totals(params)
        if not math.isfinite(total):
            return 1e100, np.zeros_like(log_params)
        jacobian = -slope * params / total_weight  # chain rule: d/dlogθ = θ d/dθ
        return -total / total_weight, np.where(np.isfinite(jacobian), jacobian, 0.0)

    x0 = np.log(start)
    # Bounded: on a few buyers the maximum can lie at infinity, where BFGS would wander off to 1e300
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(x0)
    options = {"ftol": 1e-15, "gtol": 1e-9, "maxiter": 2000}
    found = minimize(value_and_jacobian, x0, jac=True, method="L-BFGS-B", bounds=bounds, options=options)
    if not math.isfinite(found.fun) or found.fun >= 1e99:
        raise InsufficientDataError("the lifetime-value model could not be fitted: the likelihood is not finite")
    return np.exp(found.x), -float(found.fun) * total_weight


def _bgnbd_totals(x: Array, t_x: Array, T: Array, weights: Array) -> Totals:
    """Σ w·LL of BG/NBD and its gradient (as :func:`bgnbd_log_likelihood` and :func:`bgnbd_gradient`).

    What depends on x alone (gammaln, betaln, digamma) is computed once per distinct x, of which
    there are few, and each row's share of the x-only terms is summed per x.
    """
    xs, index = np.unique(x, return_inverse=True)
    index = index.reshape(-1)
    repeat = xs > 0
    weight_of_x = np.bincount(index, weights=weights, minlength=len(xs))

    def totals(params: Array) -> tuple[float, Array]:
        r, alpha, a, b = params
        safe_b = np.where(repeat, b + xs - 1, 1.0)
        alive_x = betaln(a, b + xs)
        dropped_x = np.where(repeat, betaln(a + 1, safe_b), -np.inf)
        rx = (r + xs)[index]
        log_T, log_tx = np.log(alpha + T), np.log(alpha + t_x)
        alive = alive_x[index] - rx * log_T
        dropped = dropped_x[index] - rx * log_tx
        per_row = np.logaddexp(alive, dropped)
        w_alive = np.exp(alive - per_row)
        w_dropped = 1.0 - w_alive  # the two terms' shares of L
        common_x = gammaln(r + xs) - gammaln(r) + r * math.log(alpha) - betaln(a, b)
        value = float(weight_of_x @ common_x + _dot(weights, per_row))
        alive_of_x = np.bincount(index, weights=weights * w_alive, minlength=len(xs))
        dropped_of_x = weight_of_x - alive_of_x
        sum_ab = digamma(a + b + xs)
        d_r = weight_of_x @ (digamma(r + xs) - digamma(r) + math.log(alpha)) - _dot(
            weights, w_alive * log_T + w_dropped * log_tx
        )
        d_alpha = weight_of_x.sum() * r / alpha - _dot(
            weights, rx * (w_alive / (alpha + T) + w_dropped / (alpha + t_x))
        )
        d_a = (
            -weight_of_x.sum() * (digamma(a) - digamma(a + b))
            + alive_of_x @ (digamma(a) - sum_ab)
            + dropped_of_x @ (digamma(a + 1) - sum_ab)
        )
        d_b = (
            -weight_of_x.sum() * (digamma(b) - digamma(a + b))
            + alive_of_x @ (digamma(b + xs) - sum_ab)
            + dropped_of_x @ np.where(repeat, digamma(safe_b) - sum_ab, 0.0)
        )
        return value, np.array([d_r, d_alpha, d_a, d_b])

    return totals


def _gamma_gamma_totals(x: Array, m: Array, weights: Array) -> Totals:
    """Σ w·LL of Gamma-Gamma and its gradient (as :func:`gamma_gamma_log_likelihood` and
    :func:`gamma_gamma_gradient`), with the gammaln and digamma terms computed once per distinct x.

    Only log(γ + m·x) and its reciprocal depend on the parameters row by row; every other row term is
    linear in p and q, so its sums over rows are taken once, before the search.
    """
    xs, index = np.unique(x, return_inverse=True)
    index = index.reshape(-1)
    weight_of_x = np.bincount(index, weights=weights, minlength=len(xs))
    everyone = float(weights.sum())
    log_m, log_xs = np.log(m), np.log(xs)
    spend = m * x
    wx = weights * x
    sum_log_m = _dot(weights, log_m)
    sum_x_log_m = _dot(wx, log_m)

    def totals(params: Array) -> tuple[float, Array]:
        p, q, gamma = params
        pxs = p * xs
        log_total = np.log(gamma + spend)
        inverse = 1.0 / (gamma + spend)
        sum_log_total, sum_x_log_total = _dot(weights, log_total), _dot(wx, log_total)
        per_x = gammaln(pxs + q) - gammaln(pxs) - gammaln(q) + q * math.log(gamma) + pxs * log_xs
        # Σ w [(p x - 1) log m - (p x + q) log(γ + m x)]
        rows = p * sum_x_log_m - sum_log_m - p * sum_x_log_total - q * sum_log_total
        value = float(weight_of_x @ per_x + rows)
        both = digamma(pxs + q)
        d_p = weight_of_x @ (xs * (both - digamma(pxs) + log_xs)) + sum_x_log_m - sum_x_log_total
        d_q = weight_of_x @ (both - digamma(q)) + everyone * math.log(gamma) - sum_log_total
        d_gamma = everyone * q / gamma - p * _dot(wx, inverse) - q * _dot(weights, inverse)
        return value, np.array([d_p, d_q, d_gamma])

    return totals


def _pareto_nbd_totals(x: Array, t_x: Array, T: Array, weights: Array) -> Totals:
    """Σ w·LL of Pareto/NBD (as :func:`pareto_nbd_log_likelihood`) and its gradient.

    The likelihood's bracket, e^alive(T) + k (G(t_x) - G(T)) with k = s/(r+s+x), splits into a part of
    ``(x, T)``, P = log(e^alive(T) - k G(T)), and a part of ``(x, t_x)``, H = log(k G(t_x)); P is never
    negative inside the log, since k G(T) <= e^alive(T) (bound (β+y)^-(s+1)'s integrand by α+T).  Both are
    computed once per distinct ``(x, t)`` pair, of which there are far fewer than distinct
    ``(x, t_x, T)`` rows (at 1M buyers, 20k pairs for 330k rows; the 2F1 is the costly part), and each row
    is then two lookups and one log-sum-exp.
    """
    n = len(x)
    (pair_x, pair_t), pair_of = _distinct_with_inverse(np.concatenate([x, x]), np.concatenate([t_x, T]))
    at_t_x, at_T = pair_of[:n], pair_of[n:]
    xs, x_of = np.unique(x, return_inverse=True)
    x_of = x_of.reshape(-1)
    weight_of_x = np.bincount(x_of, weights=weights, minlength=len(xs))

    def parts(params: Array) -> tuple[Array, Array]:
        r, alpha, s, beta = params
        log_k = math.log(s) - np.log(r + s + pair_x)
        alive = -(r + pair_x) * np.log(alpha + pair_t) - s * np.log(beta + pair_t)
        held = log_k + _pareto_log_tail(params, pair_x, pair_t)
        with np.errstate(divide="ignore"):
            alive_part = alive + np.log1p(-np.minimum(np.exp(held - alive), 1.0))
        return alive_part, held

    def totals(params: Array) -> tuple[float, Array]:
        r, alpha, s, beta = params
        alive_part, held = parts(params)
        row = _log_add_exp(alive_part[at_T], held[at_t_x])
        common_x = gammaln(r + xs) - gammaln(r) + r * math.log(alpha) + s * math.log(beta)
        value = float(weight_of_x @ common_x + _dot(weights, row))
        # The gradient: each row's share of its two parts, summed per pair, times the parts' slopes.  The
        # 2F1 has no cheap derivative in its parameters, so the parts' slopes are central differences in
        # log space, taken per pair (cheap) rather than over the whole likelihood (eight evaluations of
        # every row per step).
        share = weights * np.exp(alive_part[at_T] - row)
        on_alive = np.bincount(at_T, weights=share, minlength=len(pair_x))
        on_held = np.bincount(at_t_x, weights=weights - share, minlength=len(pair_x))
        slope = np.empty(4)
        for i in range(4):
            step = np.zeros(4)
            step[i] = 1e-5
            up_alive, up_held = parts(params * np.exp(step))
            down_alive, down_held = parts(params * np.exp(-step))
            d_alive = np.where(on_alive > 0, (up_alive - down_alive) / 2e-5, 0.0)
            d_held = np.where(on_held > 0, (up_held - down_held) / 2e-5, 0.0)
            slope[i] = (on_alive @ d_alive + on_held @ d_held) / params[i]
        total = float(weight_of_x.sum())
        slope += [
            weight_of_x @ (digamma(r + xs) - digamma(r) + math.log(alpha)),
            total * r / alpha,
            total * math.log(beta),
            total * s / beta,
        ]
        return value, slope

    return totals


def _log_add_exp(a: Array, b: Array) -> Array:
    """log(e^a + e^b): numpy's ``logaddexp`` guards cases that cannot occur here and costs twice as much."""
    top = np.maximum(a, b)
    out: Array = top + np.log1p(np.exp(-np.abs(a - b)))
    return np.where(np.isneginf(top), top, out)


def _transaction_columns(summary: PurchaseSummary) -> tuple[list[Array], Array]:
    """The distinct ``(x, t_x, T)`` of the summary and how many buyers have each.

    The store's summary counts whole days, so the three columns are whole numbers of days: one
    integer key per buyer, then one sort of integers (or a count per key when the keys are few), some ten
    times faster at 10M buyers than sorting three float columns lexicographically, which stays the way
    for a summary made by hand of other times.
    """
    columns = [summary.frequency, summary.recency, summary.T]
    days = UNIT_DAYS[summary.unit]
    whole = [columns[0], np.rint(columns[1] * days), np.rint(columns[2] * days)]
    integral = (
        all(np.isfinite(w).all() and (w >= 0).all() for w in whole)
        and np.array_equal(whole[0], np.rint(whole[0]))
        and all(np.array_equal(w / days, c) for w, c in zip(whole[1:], columns[1:], strict=True))
    )
    sizes = [int(w.max()) + 1 if len(w) else 1 for w in whole] if integral else []
    if not integral or math.prod(sizes) >= 2**62:
        return _distinct(*columns)
    x, t_x, T = (w.astype(np.int64) for w in whole)
    key = (x * sizes[1] + t_x) * sizes[2] + T
    if math.prod(sizes) <= 4 * len(key):
        counts = np.bincount(key, minlength=0)
        found = np.flatnonzero(counts)
        weights = counts[found].astype(np.float64)
    else:
        found, counts_of = np.unique(key, return_counts=True)
        weights = counts_of.astype(np.float64)
    T_days = found % sizes[2]
    rest = found // sizes[2]
    return [(rest // sizes[1]).astype(np.float64), (rest % sizes[1]) / days, T_days / days], weights


def fit_bgnbd(summary: PurchaseSummary) -> BetaGeoFit:
    """BG/NBD by maximum likelihood on every buyer of ``summary``."""
    _require_buyers(summary, "bgnbd")
    columns, weights = _transaction_columns(summary)
    params, ll = _maximise(_bgnbd_totals(columns[0], columns[1], columns[2], weights), np.ones(4), float(weights.sum()))
    r, alpha, a, b = (float(v) for v in params)
    return BetaGeoFit(ll, len(summary), summary.unit, summary.as_of, r=r, alpha=alpha, a=a, b=b)


def fit_pareto_nbd(summary: PurchaseSummary) -> ParetoNBDFit:
    """Pareto/NBD by maximum likelihood on every buyer of ``summary``."""
    _require_buyers(summary, "pareto_nbd")
    columns, weights = _transaction_columns(summary)
    params, ll = _maximise(
        _pareto_nbd_totals(columns[0], columns[1], columns[2], weights), np.ones(4), float(weights.sum())
    )
    r, alpha, s, beta = (float(v) for v in params)
    return ParetoNBDFit(ll, len(summary), summary.unit, summary.as_of, r=r, alpha=alpha, s=s, beta=beta)


def fit_gamma_gamma(summary: PurchaseSummary) -> GammaGammaFit:
    """Gamma-Gamma by maximum likelihood on the buyers with repeat transactions of a positive mean value."""
    _require_buyers(summary, "gamma_gamma")
    usable = (summary.frequency > 0) & np.isfinite(summary.monetary) & (summary.monetary > 0)
    x, m = summary.frequency[usable], summary.monetary[usable]
    if len(x) < 2 or np.ptp(m) == 0:
        raise InsufficientDataError(
            "gamma_gamma needs repeat buyers whose repeat purchases have amounts, and not all the same: "
            f"{len(x)} found by {summary.as_of:%Y-%m-%d %H:%M} UTC"
        )
    # the mean values are amounts, nearly all distinct: finding the distinct rows would cost more than it saves
    params, ll = _maximise(_gamma_gamma_totals(x, m, np.ones(len(x))), np.ones(3), float(len(x)))
    p, q, gamma = (float(v) for v in params)
    return GammaGammaFit(ll, len(x), summary.unit, summary.as_of, p=p, q=q, gamma=gamma)


def _require_buyers(summary: PurchaseSummary, model: str) -> None:
    if len(summary) == 0:
        raise InsufficientDataError(f"no purchases by {summary.as_of:%Y-%m-%d %H:%M} UTC: nothing to fit {model} on")
    if not (summary.frequency > 0).any():
        raise InsufficientDataError(
            f"no contact bought twice by {summary.as_of:%Y-%m-%d %H:%M} UTC: {model} needs repeat buyers"
        )


FITTERS: dict[str, Any] = {"bgnbd": fit_bgnbd, "pareto_nbd": fit_pareto_nbd, "gamma_gamma": fit_gamma_gamma}


def fit_summary(summary: PurchaseSummary, model: str = "bgnbd") -> Fit:
    """Fit ``model`` (bgnbd, pareto_nbd or gamma_gamma) on a purchase summary."""
    if model not in FITTERS:
        raise UsageError(f"unknown lifetime-value model '{model}': {', '.join(MODELS)}")
    fitted: Fit = FITTERS[model](summary)
    return fitted


def fit(
    store: Store,
    *,
    model: str = "bgnbd",
    as_of: datetime | None = None,
    unit: str = "week",
    purchase_events: list[str] | None = None,
) -> Fit:
    """Fit a model on the store's purchase events up to ``as_of`` (default: now).

    ``segmint clv fit`` prints what this returns; ``fit(store).to_dict()``
    holds the parameters under their names in the literature.
    """
    if model not in FITTERS:
        raise UsageError(f"unknown lifetime-value model '{model}': {', '.join(MODELS)}")
    summary = purchase_summary(store, as_of=as_of, unit=unit, purchase_events=purchase_events)
    return fit_summary(summary, model)


def fit_from_dict(data: dict[str, Any]) -> Fit:
    """A fit back from :meth:`Fit.to_dict` (as stored by the ``clv`` traits model)."""
    cls = FIT_CLASSES[data["model"]]
    as_of = datetime.fromisoformat(data["as_of"]) if data.get("as_of") else None
    params = {name: float(data[name]) for name in MODELS[data["model"]]}
    fitted: Fit = cls(float(data["log_likelihood"]), int(data["customers"]), str(data["unit"]), as_of, **params)
    return fitted


# ---- predictions ----------------------------------------------------------------------------------------------


@dataclass
class Predictions:
    """Per contact of a summary: what the traits model stores."""

    contact_key: NDArray[np.int64]
    expected_purchases: dict[int, Array] = field(default_factory=dict)
    p_alive: Array = field(default_factory=lambda: np.empty(0))
    predicted_clv: Array = field(default_factory=lambda: np.empty(0))

    @property
    def churn_risk(self) -> Array:
        """1 - P(alive)."""
        out: Array = 1.0 - self.p_alive
        return out


def predicted_clv(
    transactions: TransactionFit,
    value: GammaGammaFit | None,
    summary: PurchaseSummary,
    *,
    horizon_days: float = 365.0,
    discount: float = 0.01,
) -> Array:
    """Discounted expected revenue over the next ``horizon_days``: month by month, the expected purchases
    in that month times the expected value of a purchase, divided by ``(1 + discount) ** month``.

    Months are 365.25/12 days; a horizon that is not a whole number of months ends with a short one.
    NaN for every contact without a value model (``value`` None).
    """
    if value is None:
        return np.full(len(summary), np.nan)
    scale = UNIT_DAYS[summary.unit]
    months = max(1, math.ceil(horizon_days / MONTH_DAYS - 1e-9))
    ends = np.minimum(np.arange(1, months + 1) * MONTH_DAYS, horizon_days) / scale
    cols, counts_inverse = _distinct_with_inverse(summary.frequency, summary.recency, summary.T)
    x, t_x, T = cols
    cumulative = np.column_stack([transactions.expected_purchases(t, x, t_x, T) for t in ends])
    per_month = np.diff(cumulative, axis=1, prepend=0.0)
    factors = (1.0 + discount) ** -np.arange(1, months + 1, dtype=np.float64)
    purchases = np.einsum("ij,j->i", per_month, factors)[counts_inverse]
    out: Array = purchases * value.expected_value(summary.frequency, summary.monetary)
    return out


def predict(
    transactions: TransactionFit,
    value: GammaGammaFit | None,
    summary: PurchaseSummary,
    *,
    windows_days: tuple[int, ...] = (90, 365),
    horizon_days: float = 365.0,
    discount: float = 0.01,
) -> Predictions:
    """Expected purchases in each window, P(alive) and predicted CLV for every contact of ``summary``."""
    scale = UNIT_DAYS[summary.unit]
    (x, t_x, T), inverse = _distinct_with_inverse(summary.frequency, summary.recency, summary.T)
    with np.errstate(all="ignore"):
        expected = {d: transactions.expected_purchases(d / scale, x, t_x, T)[inverse] for d in windows_days}
        alive = transactions.p_alive(x, t_x, T)[inverse]
        clv = predicted_clv(transactions, value, summary, horizon_days=horizon_days, discount=discount)
    return Predictions(summary.contact_key, expected, alive, clv)


def fit_json(fitted: Fit) -> str:
    """A fit as JSON text (the ``clv_fit`` table's ``fit`` column)."""
    return json.dumps(fitted.to_dict(), sort_keys=True)


__all__ = [
    "MODELS",
    "BetaGeoFit",
    "Fit",
    "GammaGammaFit",
    "ParetoNBDFit",
    "Predictions",
    "PurchaseSummary",
    "TransactionFit",
    "bgnbd_log_likelihood",
    "fit",
    "fit_bgnbd",
    "fit_from_dict",
    "fit_gamma_gamma",
    "fit_pareto_nbd",
    "fit_summary",
    "gamma_gamma_log_likelihood",
    "pareto_nbd_log_likelihood",
    "predict",
    "predicted_clv",
    "purchase_summary",
    "summarise",
    "summary_query",
]
