"""The clv traits model on a small hand-made data set, as of 2026-06-30 00:00 UTC.

Purchases (one transaction per contact per UTC day; its value is the day's sum):

- ann: 01-05 09:00 100 and 17:00 50 (one transaction of 150), 03-02 80, 06-01 120
  -> x = 2, t_x = 147 days = 21 weeks, T = 176 days = 25.142857 weeks, m = (80 + 120) / 2 = 100;
- bo: 04-01 200 -> x = 0, t_x = 0, T = 90 days, no repeat value;
- cy: 2025-07-01 40, 2025-08-01 60, 2025-09-01 20 -> x = 2, t_x = 62 days, T = 364 days, m = 40;
- fa: 02-10 10:00 10, 02-10 23:59 20, 02-11 00:01 30 (UTC days 02-10 and 02-11)
  -> x = 1, t_x = 1 day, T = 140 days, m = 30;
- gus: 05-01 50, 05-20 without an amount -> x = 1, t_x = 19 days, T = 60 days, no repeat value;
- hal: 2025-11-03 70, 2025-12-01 30, 2026-01-05 50, 2026-02-02 90 (noon) -> x = 3, t_x = 91 days,
  T = 239 days, m = 170 / 3;
- di: a page view, no purchase; ed: a purchase on 07-02, after as_of -> neither is a buyer: no row.

Under BG/NBD a buyer can drop out only right after a repeat purchase, so bo (x = 0) is alive
for sure: p_alive = 1, churn_risk = 0.  For the others P(alive) is
1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)), computed below by hand
from the parameters the refresh kept in clv_fit.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from clv_testing import load_rows

from segmint.config import Settings
from segmint.insights.clv import purchase_summary
from segmint.store import open_store
from segmint.traits import compute_traits

AS_OF = datetime(2026, 6, 30, tzinfo=UTC)
BUYERS = ("ann", "bo", "cy", "fa", "gus", "hal")
WEEK = 7.0


def purchase(contact: str, ts: str, amount: float | None) -> dict[str, Any]:
    return {"contact_id": contact, "event": "purchase", "ts": ts, "amount": amount}


EVENTS = [
    purchase("ann", "2026-01-05T09:00:00Z", 100),
    purchase("ann", "2026-01-05T17:00:00Z", 50),
    purchase("ann", "2026-03-02T12:00:00Z", 80),
    purchase("ann", "2026-06-01T08:00:00Z", 120),
    purchase("bo", "2026-04-01T10:00:00Z", 200),
    purchase("cy", "2025-07-01T12:00:00Z", 40),
    purchase("cy", "2025-08-01T12:00:00Z", 60),
    purchase("cy", "2025-09-01T12:00:00Z", 20),
    purchase("fa", "2026-02-10T10:00:00Z", 10),
    purchase("fa", "2026-02-10T23:59:00Z", 20),
    purchase("fa", "2026-02-11T00:01:00Z", 30),
    purchase("gus", "2026-05-01T12:00:00Z", 50),
    purchase("gus", "2026-05-20T12:00:00Z", None),
    purchase("hal", "2025-11-03T12:00:00Z", 70),
    purchase("hal", "2025-12-01T12:00:00Z", 30),
    purchase("hal", "2026-01-05T12:00:00Z", 50),
    purchase("hal", "2026-02-02T12:00:00Z", 90),
    {"contact_id": "di", "event": "page_view", "ts": "2026-06-01T12:00:00Z", "url": "/shop"},
    purchase("ed", "2026-07-02T12:00:00Z", 10),
]

#: (x, t_x in days, T in days, mean repeat value or None), worked out above
SUMMARY = {
    "ann": (2, 147, 176, 100.0),
    "bo": (0, 0, 90, None),
    "cy": (2, 62, 364, 40.0),
    "fa": (1, 1, 140, 30.0),
    "gus": (1, 19, 60, None),
    "hal": (3, 91, 239, 170 / 3),
}


@pytest.fixture(
    scope="module", params=[pytest.param(name, marks=getattr(pytest.mark, name)) for name in ("duckdb", "postgres")]
)
def module_engine_name(request: pytest.FixtureRequest) -> str:
    """DuckDB and PostgreSQL share this module's store; Spark has one test of its own (it is slow here)."""
    name: str = request.param
    return name


@pytest.fixture(scope="module")
def clv_store(module_store_url: str) -> Iterator[Any]:
    with open_store(module_store_url) as store:
        load_rows(store, "events", EVENTS)
        yield store


def clv_rows(store: Any) -> dict[str, dict[str, Any]]:
    rows = store.engine.query(
        "SELECT c.contact_id AS id, t.* FROM traits_clv t JOIN contacts c ON c.contact_key = t.contact_key"
    ).to_pylist()
    return {r.pop("id"): {k: v for k, v in r.items() if k != "contact_key"} for r in rows}


def kept_fits(store: Any) -> dict[str, dict[str, Any]]:
    rows = store.engine.query("SELECT model, fit FROM clv_fit").to_pylist()
    return {r["model"]: json.loads(r["fit"]) for r in rows if r["fit"]}


def bgnbd_p_alive(fit: dict[str, Any], x: int, t_x_days: float, T_days: float) -> float:
    """P(alive) of BG/NBD by hand, times in weeks (the unit the fit is kept in)."""
    if x == 0:
        return 1.0
    r, alpha, a, b = fit["r"], fit["alpha"], fit["a"], fit["b"]
    odds = a / (b + x - 1) * ((alpha + T_days / WEEK) / (alpha + t_x_days / WEEK)) ** (r + x)
    return 1 / (1 + odds)


def gamma_gamma_value(fit: dict[str, Any], x: int, m: float | None) -> float:
    """Expected value of a purchase: p(γ + x m) / (px + q - 1); a buyer without repeat values counts as x = 0."""
    p, q, gamma = fit["p"], fit["q"], fit["gamma"]
    if m is None:
        x, m = 0, 0.0
    return p * (gamma + x * m) / (p * x + q - 1)


def ids_by_key(store: Any) -> dict[int, str]:
    return {
        r["contact_key"]: r["contact_id"]
        for r in store.engine.query("SELECT contact_key, contact_id FROM contacts").to_pylist()
    }


def test_clv_summary_is_one_transaction_per_contact_per_utc_day(clv_store: Any) -> None:
    summary = purchase_summary(clv_store, as_of=AS_OF, unit="day")
    ids = ids_by_key(clv_store)
    found = {}
    for i, key in enumerate(summary.contact_key):
        m = summary.monetary[i]
        found[ids[int(key)]] = (int(summary.frequency[i]), summary.recency[i], summary.T[i], None if m != m else m)
    assert found.keys() == SUMMARY.keys()
    for contact, (x, t_x, T, m) in SUMMARY.items():
        assert found[contact] == (x, pytest.approx(t_x), pytest.approx(T), pytest.approx(m)), contact
    weeks = purchase_summary(clv_store, as_of=AS_OF, unit="week")
    assert list(weeks.T) == pytest.approx([t / WEEK for t in summary.T])
    assert list(weeks.recency) == pytest.approx([t / WEEK for t in summary.recency])


def test_clv_traits_by_hand(clv_store: Any) -> None:
    compute_traits(clv_store, as_of=AS_OF, names=["clv"])
    rows = clv_rows(clv_store)
    assert set(rows) == set(BUYERS)  # di never bought, ed only after as_of: no prediction
    fits = kept_fits(clv_store)
    assert set(fits) == {"bgnbd", "gamma_gamma"}
    assert fits["bgnbd"]["customers"] == 6
    assert fits["gamma_gamma"]["customers"] == 4  # ann, cy, fa, hal: repeat purchases with amounts
    assert rows["bo"]["p_alive"] == 1.0
    assert rows["bo"]["churn_risk"] == 0.0
    for contact, (x, t_x, T, _) in SUMMARY.items():
        row = rows[contact]
        assert row["p_alive"] == pytest.approx(bgnbd_p_alive(fits["bgnbd"], x, t_x, T), rel=1e-9), contact
        assert row["churn_risk"] == pytest.approx(1 - row["p_alive"], abs=1e-12), contact
        assert 0 < row["expected_purchases_90d"] < row["expected_purchases_365d"], contact
        assert row["predicted_clv"] > 0, contact
    # the longer since the last purchase relative to the buyer's pace, the less alive: cy's last was 10 months ago
    assert rows["cy"]["p_alive"] < rows["ann"]["p_alive"]


def test_clv_predicted_value_without_discount_is_purchases_times_value(clv_store: Any, module_store_url: str) -> None:
    """discount = 0: predicted_clv = expected purchases in the horizon x the Gamma-Gamma value of a purchase."""
    settings = Settings.model_validate({"traits": {"clv": {"discount": 0, "horizon": 365}}})
    with open_store(module_store_url, settings) as store:
        compute_traits(store, as_of=AS_OF, names=["clv"])
        undiscounted = clv_rows(store)
        value_fit = kept_fits(store)["gamma_gamma"]
    for contact, (x, _, _, m) in SUMMARY.items():
        row = undiscounted[contact]
        expected = row["expected_purchases_365d"] * gamma_gamma_value(value_fit, x, m)
        assert row["predicted_clv"] == pytest.approx(expected, rel=1e-9), contact
    compute_traits(clv_store, as_of=AS_OF, names=["clv"])  # the default: 1 % a month
    discounted = clv_rows(clv_store)
    for contact in BUYERS:
        plain = undiscounted[contact]["predicted_clv"]
        assert plain / 1.01**12 < discounted[contact]["predicted_clv"] < plain, contact


@pytest.mark.parametrize(
    "engine_name", [pytest.param(name, marks=getattr(pytest.mark, name)) for name in ("duckdb", "postgres")]
)
def test_clv_fresh_path_scores_with_the_kept_fit(store: Any) -> None:
    """Touched contacts are scored with the last full refresh's parameters, at their own as_of."""
    clv_store = store  # a store of its own: new purchases are loaded
    load_rows(clv_store, "events", EVENTS)
    compute_traits(clv_store, as_of=AS_OF, names=["clv"])
    before, fits = clv_rows(clv_store), kept_fits(clv_store)
    load_rows(
        clv_store,
        "events",
        [purchase("bo", "2026-06-20T12:00:00Z", 70), purchase("di", "2026-06-25T12:00:00Z", 35)],
    )
    keys = {v: k for k, v in ids_by_key(clv_store).items()}
    compute_traits(clv_store, as_of=AS_OF, names=["clv"], contact_keys=[keys["bo"], keys["di"]])
    after = clv_rows(clv_store)
    assert kept_fits(clv_store) == fits  # not refitted
    # bo: x = 1, t_x = 80 days, T = 90 days, with the kept parameters; di: a first purchase, x = 0
    assert after["bo"]["p_alive"] == pytest.approx(bgnbd_p_alive(fits["bgnbd"], 1, 80, 90), rel=1e-9)
    assert after["di"]["p_alive"] == 1.0
    assert after["di"]["expected_purchases_365d"] > 0
    assert {c: after[c] for c in BUYERS if c != "bo"} == {c: before[c] for c in BUYERS if c != "bo"}
    compute_traits(clv_store, as_of=AS_OF, names=["clv"])  # a full refresh refits on the new purchases
    assert kept_fits(clv_store)["bgnbd"]["customers"] == 7


def test_clv_pareto_nbd_setting(tmp_path: Any) -> None:
    """Under Pareto/NBD a one-time buyer may have died too: bo's p_alive is below 1."""
    settings = Settings.model_validate({"traits": {"clv": {"model": "pareto_nbd"}}})
    with open_store(str(tmp_path / "p.duckdb"), settings) as store:
        load_rows(store, "events", EVENTS)
        compute_traits(store, as_of=AS_OF, names=["clv"])
        rows = clv_rows(store)
        assert set(kept_fits(store)) == {"pareto_nbd", "gamma_gamma"}
    assert set(rows) == set(BUYERS)
    assert 0 < rows["bo"]["p_alive"] < 1
    for row in rows.values():
        assert row["churn_risk"] == pytest.approx(1 - row["p_alive"], abs=1e-12)


def test_clv_without_purchases_leaves_every_field_unset(tmp_path: Any) -> None:
    with open_store(str(tmp_path / "e.duckdb")) as store:
        load_rows(store, "events", [{"contact_id": "di", "event": "page_view", "ts": "2026-06-01T12:00:00Z"}])
        assert compute_traits(store, as_of=AS_OF, names=["clv"]) == {"clv": 0}
        assert kept_fits(store) == {}
        store.refresh(as_of=AS_OF)  # every model together, with no buyer at all


@pytest.mark.parametrize("engine_name", [pytest.param("spark", marks=pytest.mark.spark)])
def test_clv_on_spark(store: Any) -> None:
    """The one Spark test: the summary, the fit and the traits."""
    load_rows(store, "events", EVENTS)
    compute_traits(store, as_of=AS_OF, names=["clv"])
    rows = clv_rows(store)
    assert set(rows) == set(BUYERS)
    fits = kept_fits(store)
    assert rows["bo"]["p_alive"] == 1.0
    for contact, (x, t_x, T, _) in SUMMARY.items():
        assert rows[contact]["p_alive"] == pytest.approx(bgnbd_p_alive(fits["bgnbd"], x, t_x, T), rel=1e-9)
