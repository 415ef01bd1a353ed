"""``segmint clv fit``: the parameters as a table or JSON, on DuckDB and PostgreSQL; a clear error without purchases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from clv_testing import load_cdnow
from typer.testing import CliRunner

from segmint.cli.app import app
from segmint.store import open_store
from segmint.traits import compute_traits

runner = CliRunner()

#: published: Fader, Hardie & Lee 2005; Fader & Hardie 2013 (see test_clv_cdnow.py)
PUBLISHED = {
    "bgnbd": ({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, -9582.4),
    "pareto_nbd": ({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}, -9595.0),
    "gamma_gamma": ({"p": 6.25, "q": 3.74, "gamma": 15.44}, None),
}


def clv_fit(db: str, *args: str) -> Any:
    return runner.invoke(app, ["clv", "fit", "--db", db, *args], catch_exceptions=False)


def check_published(output: str, model: str) -> None:
    found = json.loads(output)
    params, log_likelihood = PUBLISHED[model]
    assert set(found) == {*params, "log_likelihood", "model", "customers", "unit", "as_of"}
    digits = 2 if model == "gamma_gamma" else 3
    assert {k: round(found[k], digits) for k in params} == params
    if log_likelihood is not None:
        assert round(found["log_likelihood"], 1) == log_likelihood
    assert found["model"] == model
    assert found["unit"] == "week"
    assert found["as_of"] == "1997-09-30T00:00:00+00:00"


@pytest.fixture(scope="module")
def cdnow_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("cdnow-cli") / "cdnow.duckdb")
    with open_store(path) as store:
        load_cdnow(store)
    return path


@pytest.mark.duckdb
@pytest.mark.parametrize("model", list(PUBLISHED))
def test_clv_fit_json_prints_the_published_parameters(cdnow_db: str, model: str) -> None:
    result = clv_fit(cdnow_db, "--model", model, "--as-of", "1997-09-30", "--unit", "week", "--json")
    assert result.exit_code == 0, result.output
    check_published(result.output, model)


@pytest.mark.duckdb
def test_clv_fit_prints_a_table_by_default(cdnow_db: str) -> None:
    result = clv_fit(cdnow_db, "--as-of", "1997-09-30")
    assert result.exit_code == 0, result.output
    assert "bgnbd fitted on 2357 contacts" in result.output
    for name in ("r", "alpha", "a", "b", "log_likelihood"):
        assert f"│ {name} " in result.output, name
    assert "-9582.4" in result.output
    days = json.loads(clv_fit(cdnow_db, "--as-of", "1997-09-30", "--unit", "day", "--json").output)
    assert days["unit"] == "day"
    assert round(days["alpha"] / 7, 3) == 4.414


@pytest.mark.duckdb
def test_clv_fit_on_an_empty_store_is_a_one_line_error(tmp_path: Path) -> None:
    result = clv_fit(str(tmp_path / "empty.duckdb"), "--json")
    assert result.exit_code == 10
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: no purchases by ")
    assert lines[0].endswith("nothing to fit bgnbd on")


@pytest.mark.duckdb
def test_clv_fit_rejects_bad_options(cdnow_db: str) -> None:
    bad_date = clv_fit(cdnow_db, "--as-of", "yesterday")
    assert bad_date.exit_code == 2
    assert "--as-of" in bad_date.output
    bad_model = clv_fit(cdnow_db, "--model", "bgnbdd")
    assert bad_model.exit_code == 2


@pytest.mark.parametrize("engine_name", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_clv_fit_and_traits_on_postgres(store_url: str) -> None:
    """The SQL summary on PostgreSQL gives the same fits, and the traits model runs there."""
    with open_store(store_url) as store:
        load_cdnow(store)
        for model in PUBLISHED:
            result = clv_fit(store_url, "--model", model, "--as-of", "1997-09-30", "--json")
            assert result.exit_code == 0, result.output
            check_published(result.output, model)
        from datetime import UTC, datetime

        assert compute_traits(store, as_of=datetime(1997, 9, 30, tzinfo=UTC), names=["clv"]) == {"clv": 2357}
        alive = store.engine.scalar("SELECT COUNT(*) FROM traits_clv WHERE p_alive = 1")
        assert alive == 2357 - 946  # every one-time buyer, and no repeat buyer


@pytest.mark.duckdb
@pytest.mark.parametrize("model", list(PUBLISHED))
def test_clv_fit_over_http_gives_the_published_parameters(cdnow_db: str, model: str) -> None:
    from tests.server.api_testing import serve

    with open_store(cdnow_db) as store, serve(store) as api:
        response = api.get(f"/api/clv/fit?model={model}&as_of=1997-09-30&unit=week", scope="read")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.pop("ok") is True
    check_published(json.dumps(body), model)


@pytest.mark.duckdb
def test_clv_fit_over_http_reports_client_mistakes_as_4xx(cdnow_db: str, tmp_path: Path) -> None:
    from tests.server.api_testing import error, serve

    with open_store(cdnow_db) as store, serve(store) as api:
        bad_model = error(api.get("/api/clv/fit?model=bgnbdd", scope="read"), 400)
        bad_date = error(api.get("/api/clv/fit?as_of=yesterday", scope="read"), 400)
        error(api.get("/api/clv/fit", scope=None), 401)
    assert "model" in bad_model["error"]
    assert "query.as_of" in bad_date["error"]
    with open_store(str(tmp_path / "empty.duckdb")) as empty, serve(empty) as api:
        nothing = error(api.get("/api/clv/fit", scope="read"), 422, "insufficient_data")
    assert nothing["error"].startswith("no purchases by ")
    assert nothing["error"].endswith("nothing to fit bgnbd on")
