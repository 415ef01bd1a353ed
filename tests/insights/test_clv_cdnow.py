"""The lifetime-value fits against the published CDNOW results.

The CDNOW sample: 2,357 customers who first bought in the first quarter of 1997,
with every purchase until 1998-06-30 (shipped by the lifetimes package). The
literature calibrates on 1997-01-01..1997-09-30 (39 weeks) in weeks, one
transaction per customer per day, T measured from each customer's first purchase
to the end of calibration (a first purchase on 1997-01-01 is 272 days, 38.86 weeks,
old), and recency from the first purchase to the last. Published:

- BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"):
  r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, log-likelihood -9582.4; and a customer
  with x = 2, t_x = 30.43, T = 38.86 is expected to make 1.226 purchases in the next 39 weeks;
- Pareto/NBD (same paper): r = 0.553, alpha = 10.578, s = 0.606, beta = 11.669, LL -9595.0;
- Gamma-Gamma (Fader & Hardie 2013), on the 946 customers with repeat purchases:
  p = 6.25, q = 3.74, gamma = 15.44.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from clv_testing import load_cdnow

from segmint.errors import InsufficientDataError, UsageError
from segmint.insights.clv import BetaGeoFit, GammaGammaFit, ParetoNBDFit, fit, purchase_summary
from segmint.store import open_store
from segmint.traits import compute_traits

CALIBRATION_END = datetime(1997, 9, 30, tzinfo=UTC)

pytestmark = pytest.mark.duckdb


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A DuckDB store holding the CDNOW sample as purchase events, loaded by segmint's loader."""
    with open_store(str(tmp_path_factory.mktemp("cdnow") / "cdnow.duckdb")) as store:
        load_cdnow(store)
        yield store


def key_of(store: Any, contact_id: str) -> int:
    return int(store.engine.scalar(f"SELECT contact_key FROM contacts WHERE contact_id = '{contact_id}'"))


def test_cdnow_summary_is_the_literatures(cdnow: Any) -> None:
    summary = purchase_summary(cdnow, as_of=CALIBRATION_END, unit="week")
    assert len(summary) == 2357
    assert summary.frequency.sum() == 2457  # repeat transactions in the 39 calibration weeks
    assert int((summary.frequency > 0).sum()) == 946
    # customer 4: 1997-01-01, 01-18 and 08-02 in calibration (12-12 is after it)
    i = int(np.flatnonzero(summary.contact_key == key_of(cdnow, "c00004"))[0])
    assert summary.frequency[i] == 2
    assert round(float(summary.recency[i]), 2) == 30.43
    assert round(float(summary.T[i]), 2) == 38.86
    assert summary.monetary[i] == pytest.approx((29.73 + 14.96) / 2)


def test_cdnow_bgnbd_matches_fader_hardie_lee_2005(cdnow: Any) -> None:
    fitted = fit(cdnow, model="bgnbd", as_of=CALIBRATION_END, unit="week")
    assert isinstance(fitted, BetaGeoFit)
    assert {k: round(v, 3) for k, v in fitted.parameters().items()} == {
        "r": 0.243,
        "alpha": 4.414,
        "a": 0.793,
        "b": 2.426,
    }
    assert round(fitted.log_likelihood, 1) == -9582.4
    assert fitted.customers == 2357
    published = fitted.expected_purchases(39, np.array([2.0]), np.array([30.43]), np.array([38.86]))
    assert round(float(published[0]), 3) == 1.226


def test_cdnow_pareto_nbd_matches_the_published_fit(cdnow: Any) -> None:
    fitted = fit(cdnow, model="pareto_nbd", as_of=CALIBRATION_END, unit="week")
    assert isinstance(fitted, ParetoNBDFit)
    assert {k: round(v, 3) for k, v in fitted.parameters().items()} == {
        "r": 0.553,
        "alpha": 10.578,
        "s": 0.606,
        "beta": 11.669,
    }
    assert round(fitted.log_likelihood, 1) == -9595.0


def test_cdnow_gamma_gamma_matches_fader_hardie_2013(cdnow: Any) -> None:
    fitted = fit(cdnow, model="gamma_gamma", as_of=CALIBRATION_END, unit="week")
    assert isinstance(fitted, GammaGammaFit)
    assert {k: round(v, 2) for k, v in fitted.parameters().items()} == {"p": 6.25, "q": 3.74, "gamma": 15.44}
    assert fitted.customers == 946


def test_cdnow_fit_in_days_scales_only_the_rate_parameters(cdnow: Any) -> None:
    """A day is a seventh of a week: alpha and beta scale by 7, the shape parameters stay."""
    for model, rates in (("bgnbd", ("alpha",)), ("pareto_nbd", ("alpha", "beta"))):
        weeks = fit(cdnow, model=model, as_of=CALIBRATION_END, unit="week").parameters()
        days = fit(cdnow, model=model, as_of=CALIBRATION_END, unit="day").parameters()
        for name, value in weeks.items():
            assert days[name] == pytest.approx(value * 7 if name in rates else value, rel=1e-4), (model, name)


def test_cdnow_traits_agree_with_the_lifetimes_package(cdnow: Any) -> None:
    """Every customer's predictions against an independent implementation, at the same parameters."""
    lifetimes = pytest.importorskip("lifetimes")
    compute_traits(cdnow, as_of=CALIBRATION_END, names=["clv"])
    rows = cdnow.engine.query("SELECT * FROM traits_clv ORDER BY contact_key").to_pylist()
    assert len(rows) == 2357
    summary = purchase_summary(cdnow, as_of=CALIBRATION_END, unit="week")
    assert [r["contact_key"] for r in rows] == list(summary.contact_key)
    fitted = fit(cdnow, model="bgnbd", as_of=CALIBRATION_END, unit="week")
    reference = lifetimes.BetaGeoFitter()
    import pandas as pd

    reference.params_ = pd.Series(fitted.parameters())
    x, t_x, T = summary.frequency, summary.recency, summary.T
    alive = reference.conditional_probability_alive(x, t_x, T)
    assert [r["p_alive"] for r in rows] == pytest.approx(list(alive), rel=1e-9)
    for days in (90, 365):
        expected = reference.conditional_expected_number_of_purchases_up_to_time(days / 7, x, t_x, T)
        assert [r[f"expected_purchases_{days}d"] for r in rows] == pytest.approx(list(expected), rel=1e-9)


def test_cdnow_fit_errors(cdnow: Any) -> None:
    with pytest.raises(UsageError):
        fit(cdnow, model="bgnbdd", as_of=CALIBRATION_END)
    with pytest.raises(InsufficientDataError, match="no purchases by 1996-12-31"):
        fit(cdnow, as_of=datetime(1996, 12, 31, tzinfo=UTC))
    with pytest.raises(InsufficientDataError, match="no contact bought twice"):
        fit(cdnow, as_of=datetime(1997, 1, 1, 12, tzinfo=UTC))
