"""Lifetime value: expected purchases, the probability a buyer is still a customer, and predicted value.

Seed 001 says to put the effort where the revenue is and that modern
platforms predict; seed 003 asks which segments have potential we
under-serve.  This model fits BG/NBD (or Pareto/NBD) and Gamma-Gamma by
maximum likelihood on every buyer's purchase summary at ``as_of`` (one
transaction per contact per UTC day; see ``segmint.insights.clv``), in
weeks, then scores each buyer:

- ``expected_purchases_90d`` / ``_365d``: expected transactions (days with a
  purchase) in the next 90 / 365 days;
- ``p_alive``: the probability the buyer has not dropped out (1 under BG/NBD
  for someone who bought once: BG/NBD lets a buyer drop out only right after
  a repeat purchase); ``churn_risk`` is ``1 - p_alive``;
- ``predicted_clv``: over ``horizon`` days, month by month (365.25/12 days),
  the expected purchases times the Gamma-Gamma expected value of a purchase,
  divided by ``(1 + discount) ** month``.  Amounts are in the store's currency.

Contacts who never bought have no row: every field is unset for them.  When
the store's purchases cannot support a fit (no repeat buyer), no one has a
prediction; without a value model (no repeat purchases with amounts),
``predicted_clv`` alone is unset.

The fit is computed in Python between two queries, so this model has a
``compute`` method returning its rows rather than one query.  A
full refresh refits and keeps the parameters in table ``clv_fit``; the fresh
path (contacts whose events just arrived) scores them with those parameters
at its own ``as_of`` instead of refitting on every buyer, so their values can
differ slightly from what the next full refresh (a new fit) gives.  Before
any full refresh, the fresh path fits once and keeps that fit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pyarrow as pa
from pydantic import Field

from segmint.errors import InsufficientDataError
from segmint.insights.clv import (
    Fit,
    GammaGammaFit,
    PurchaseSummary,
    TransactionFit,
    fit_from_dict,
    fit_json,
    fit_summary,
    predict,
    summarise,
    summary_query,
)
from segmint.model.tables import Column, Table
from segmint.model.types import FieldType
from segmint.traits.base import TraitContext, TraitField, TraitModel, TraitSettings

#: the time unit of the fits the model keeps (weeks, as in the literature; predictions do not depend on it)
UNIT = "week"
#: the windows of the expected_purchases_<n>d fields
WINDOWS = (90, 365)

FITS = Table(
    name="clv_fit",
    entity="meta",
    description="The lifetime-value fits of the last full refresh, which the fresh path scores with.",
    columns=(
        Column("model", FieldType.STRING, "bgnbd, pareto_nbd or gamma_gamma."),
        Column("settings", FieldType.STRING, "The settings the fit was made with (JSON)."),
        Column("fit", FieldType.STRING, "Parameters, log-likelihood, customers, unit and as_of (JSON); unset: none."),
    ),
)


class ClvSettings(TraitSettings):
    model: Literal["bgnbd", "pareto_nbd"] = Field(
        "bgnbd", description="Purchase and drop-out model: bgnbd (BG/NBD) or pareto_nbd (Pareto/NBD)."
    )
    horizon: int = Field(365, gt=0, description="predicted_clv: the days of future purchases it adds up.")
    discount: float = Field(
        0.01, ge=0, lt=1, description="predicted_clv: discount rate per month (0.01 is about 12.7 % a year)."
    )
    purchase_events: list[str] = Field(["purchase"], min_length=1, description="Events that are purchases.")


class Clv(TraitModel):
    name = "clv"
    summary = "Expected purchases in 90 and 365 days, P(alive), churn risk and predicted lifetime value."
    Settings = ClvSettings
    settings: ClvSettings

    def fields(self) -> list[TraitField]:
        unset = "unset for contacts who never bought"
        fields = [
            TraitField(
                f"expected_purchases_{days}d",
                FieldType.FLOAT,
                f"Expected purchases (days with a purchase) in the next {days} days; {unset}.",
            )
            for days in WINDOWS
        ]
        return [
            *fields,
            TraitField("p_alive", FieldType.FLOAT, f"Probability that the buyer is still a customer (0-1); {unset}."),
            TraitField(
                "predicted_clv",
                FieldType.FLOAT,
                f"Expected revenue of the next {self.settings.horizon} days, discounted by "
                f"{self.settings.discount:g} a month; {unset}.",
            ),
            TraitField("churn_risk", FieldType.FLOAT, f"1 - p_alive: the probability the buyer has left; {unset}."),
        ]

    def compute(self, ctx: TraitContext) -> pa.Table:
        engine = ctx.store.engine
        events = self.settings.purchase_events
        fits = self._stored_fits(ctx) if ctx.contact_keys is not None else None
        if fits is None:  # a full refresh, or a fresh path before any: fit on every buyer and keep the fit
            everyone = summarise(engine.query(summary_query(ctx, events, restrict=False)), ctx.as_of, UNIT)
            fits = self._fit(everyone)
            self._store_fits(ctx, fits)
            summary = everyone if ctx.contact_keys is None else _only(everyone, ctx.contact_keys)
        else:
            summary = summarise(engine.query(summary_query(ctx, events)), ctx.as_of, UNIT)
        transactions, value = fits
        if transactions is None or len(summary) == 0:
            return _rows(np.empty(0, np.int64), {})
        s = self.settings
        predicted = predict(
            transactions, value, summary, windows_days=WINDOWS, horizon_days=s.horizon, discount=s.discount
        )
        values = {f"expected_purchases_{days}d": predicted.expected_purchases[days] for days in WINDOWS}
        values |= {
            "p_alive": predicted.p_alive,
            "predicted_clv": predicted.predicted_clv,
            "churn_risk": predicted.churn_risk,
        }
        return _rows(summary.contact_key, values)

    # ---- the kept fit ----------------------------------------------------------------------------------------

    def _signature(self) -> str:
        """What a kept fit must have been made with to be reused."""
        return json.dumps({"model": self.settings.model, "purchase_events": sorted(self.settings.purchase_events)})

    def _fit(self, summary: PurchaseSummary) -> tuple[TransactionFit | None, GammaGammaFit | None]:
        try:
            transactions = fit_summary(summary, self.settings.model)
        except InsufficientDataError:
            return None, None
        try:
            value = fit_summary(summary, "gamma_gamma")
        except InsufficientDataError:
            value = None
        assert isinstance(transactions, TransactionFit)
        assert value is None or isinstance(value, GammaGammaFit)
        return transactions, value

    def _store_fits(self, ctx: TraitContext, fits: tuple[Fit | None, Fit | None]) -> None:
        engine = ctx.store.engine
        engine.drop_table(FITS.name)
        engine.create_table(FITS)
        names = (self.settings.model, "gamma_gamma")
        engine.load_arrow(
            FITS.name,
            pa.table(
                {
                    "model": pa.array(names, pa.string()),
                    "settings": pa.array([self._signature()] * 2, pa.string()),
                    "fit": pa.array([fit_json(f) if f is not None else None for f in fits], pa.string()),
                }
            ),
        )

    def _stored_fits(self, ctx: TraitContext) -> tuple[TransactionFit | None, GammaGammaFit | None] | None:
        """The last full refresh's fits, if made with these settings (None: there are none to reuse)."""
        engine = ctx.store.engine
        if not engine.table_exists(FITS.name):
            return None
        rows = engine.query(f"SELECT model, settings, fit FROM {engine.quote(FITS.name)}").to_pylist()
        kept = {r["model"]: r["fit"] for r in rows if r["settings"] == self._signature()}
        if self.settings.model not in kept:
            return None
        transactions, value = (
            fit_from_dict(json.loads(text)) if text else None
            for text in (kept[self.settings.model], kept.get("gamma_gamma"))
        )
        assert transactions is None or isinstance(transactions, TransactionFit)
        assert value is None or isinstance(value, GammaGammaFit)
        return transactions, value


def _only(summary: PurchaseSummary, keys: Sequence[int]) -> PurchaseSummary:
    """The summary of some contacts only."""
    chosen = np.isin(summary.contact_key, np.asarray(list(keys), dtype=np.int64))
    return PurchaseSummary(
        summary.contact_key[chosen],
        summary.frequency[chosen],
        summary.recency[chosen],
        summary.T[chosen],
        summary.monetary[chosen],
        summary.unit,
        summary.as_of,
    )


def _rows(keys: np.ndarray, values: dict[str, np.ndarray]) -> pa.Table:
    """Arrow rows: the key and each field, NaN as unset."""
    columns: dict[str, pa.Array] = {"contact_key": pa.array(keys, pa.int64())}
    for name, column in values.items():
        column = np.asarray(column, dtype=np.float64)
        columns[name] = pa.array(column, pa.float64(), mask=~np.isfinite(column))
    return pa.table(columns)


MODEL = Clv
