"""Send-time profiles, the held-out evaluation, ``segmint report send-time`` and ``/api/reports/send-time``.

The small list is the one of tests/traits/test_send_time.py (hours in Europe/Helsinki, group
strength M = 4, smoothing s = 0.25, as of 2026-07-01 00:00 UTC):
ann (FI) 4 clicks at hour 33 (Tuesday 09:00) in January; bo (FI) 1 click at 123 (Saturday 03:00)
in January; cy (FI) 3 machine opens (ignored); di (FI) nothing; ed (SE) 6 clicks at 82 (Thursday
10:00) in June; fa (SE), gus: nothing.

The list: N = 11; smoothed counts 32: 1, 33: 2, 34: 1, 81: 1.5, 82: 3, 83: 1.5, 122: .25, 123: .5, 124: .25;
p_list = (smoothed + 1/168) / 12, so p_list[82] = 3.0059524 / 12 = 0.2504960 (the best hour),
p_list[33] = 2.0059524 / 12 = 0.1671627, p_list[83] = p_list[81] = 1.5059524 / 12 = 0.1254960.
The segment "finns" (country FI: ann, bo, cy, di; 5 events of ann and bo):
pattern = (smoothed FI + 4 p_list) / 9, so [33] = (2 + 0.6686508) / 9 = 0.2965168 (its best),
[32] = [34] = (1 + 4 * 1.0059524 / 12) / 9 = 0.1483687.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from clv_testing import load_rows
from typer.testing import CliRunner

from segmint.cli.app import app
from segmint.config import Settings
from segmint.dsl import load_segment
from segmint.errors import InsufficientDataError, NotFoundError
from segmint.insights.send_time import evaluate_send_time, send_time_profile
from segmint.segments import apply_segments
from segmint.store import open_store

runner = CliRunner()
AS_OF = datetime(2026, 7, 1, tzinfo=UTC)
SETTINGS = {"timezone": "Europe/Helsinki", "group": "country", "strength": 4.0, "group_strength": 4.0}
TOML = """
[traits.send_time]
timezone = "Europe/Helsinki"
group = "country"
strength = 4.0
group_strength = 4.0
"""

CONTACTS = [
    {"contact_id": "ann", "country": "FI"},
    {"contact_id": "bo", "country": "FI"},
    {"contact_id": "cy", "country": "FI"},
    {"contact_id": "di", "country": "FI"},
    {"contact_id": "ed", "country": "SE"},
    {"contact_id": "fa", "country": "SE"},
    {"contact_id": "gus"},
]
EVENTS = [
    *({"contact_id": "ann", "event": "email_click", "ts": f"2026-01-{d:02d}T07:15:00Z"} for d in (6, 13, 20, 27)),
    {"contact_id": "bo", "event": "email_click", "ts": "2026-01-10T01:30:00Z"},
    *(
        {"contact_id": "cy", "event": "email_open", "ts": f"2026-01-{d:02d}T10:00:00Z", "machine_open": True}
        for d in (7, 14, 21)
    ),
    *(
        {"contact_id": "ed", "event": "email_click", "ts": f"2026-06-{d:02d}T07:00:{s:02d}Z"}
        for d in (4, 11)
        for s in (1, 2, 3)
    ),
]
FINNS = {"name": "finns", "conditions": [{"field": "country", "op": "eq", "value": "FI"}]}


def small_list(path: Path) -> str:
    """The small list in a DuckDB file, with the segment "finns"; returns the file's path."""
    with open_store(str(path), Settings(traits={"send_time": SETTINGS})) as store:
        load_rows(store, "contacts", CONTACTS)
        load_rows(store, "events", EVENTS)
        apply_segments(store, {"finns": load_segment(FINNS, store.registry())})
    return str(path)


@pytest.fixture
def small_db(tmp_path: Path) -> str:
    (tmp_path / "segmint.toml").write_text(TOML, encoding="utf-8")  # the CLI reads it (tests run in tmp_path)
    return small_list(tmp_path / "small.duckdb")


def opened(path: str) -> Any:
    return open_store(path, Settings(traits={"send_time": SETTINGS}))


# ---- the profile -------------------------------------------------------------------------------------------


@pytest.mark.duckdb
def test_send_time_profile_of_the_list_and_of_a_segment(small_db: str) -> None:
    with opened(small_db) as store:
        everyone = send_time_profile(store, as_of=AS_OF)
        finns = send_time_profile(store, "finns", as_of=AS_OF)
    assert (everyone.contacts, everyone.contacts_with_engagement, everyone.clicks, everyone.opens) == (7, 3, 11, 0)
    assert everyone.timezone == "Europe/Helsinki"
    assert [h.hour for h in everyone.best_hours[:2]] == [82, 33]
    assert everyone.best_hours[0].share == pytest.approx(3.0059524 / 12)
    assert everyone.best_hours[0].label == "Thu 10:00"
    # 81 and 83 tie at 1.5059524 / 12: the earlier hour of the week comes first
    assert [h.hour for h in everyone.best_hours[2:4]] == [81, 83]
    assert sum(everyone.pattern) == pytest.approx(1.0)
    assert everyone.counts[82] == 3.0
    assert everyone.counts[33] == 2.0
    assert (finns.segment, finns.contacts, finns.contacts_with_engagement, finns.clicks) == ("finns", 4, 2, 5)
    assert finns.best_hours[0].hour == 33
    assert finns.best_hours[0].share == pytest.approx(0.2965168, abs=1e-6)
    assert finns.pattern[32] == pytest.approx(0.1483687, abs=1e-6)
    assert finns.counts[123] == 0.5
    assert finns.counts[82] == 0.0
    assert sum(finns.pattern) == pytest.approx(1.0)
    days = {d["weekday"]: d for d in finns.to_dict()["by_weekday"]}
    assert days["tuesday"]["best_hour_of_day"] == 9


@pytest.mark.duckdb
def test_send_time_profile_errors(small_db: str, tmp_path: Path) -> None:
    with opened(small_db) as store:
        with pytest.raises(NotFoundError, match="no segment named 'finn'"):
            send_time_profile(store, "finn", as_of=AS_OF)
        with pytest.raises(InsufficientDataError, match="nothing to learn send times from"):
            send_time_profile(store, as_of=datetime(2025, 1, 1, tzinfo=UTC))
    with open_store(str(tmp_path / "empty.duckdb")) as empty, pytest.raises(InsufficientDataError):
        send_time_profile(empty)


# ---- the held-out evaluation -----------------------------------------------------------------------------------


@pytest.mark.duckdb
def test_send_time_evaluation_on_the_small_list(small_db: str) -> None:
    """Cut-off 2026-06-01: ann and bo's 5 clicks train; ed's 6 June clicks at 82 are held out.

    ed has no history and SE no training data, so every method predicts the list's training best,
    33 (ann's hours): a miss for all.  Training p_list = (smoothed + 1/168) / (5 + 1) is 0 + 1/1008
    at 82 (no training counts within an hour of it): log-likelihood log(1/1008) = -6.9157.
    """
    with opened(small_db) as store:
        result = evaluate_send_time(store, AS_OF, timedelta(days=30))
    assert result.cutoff == datetime(2026, 6, 1, tzinfo=UTC)
    assert (result.training_events, result.training_contacts) == (5, 2)
    assert (result.holdout_events, result.holdout_contacts, result.holdout_with_history) == (6, 1, 0.0)
    methods = {m.method: m for m in result.methods}
    assert set(methods) == {"shrunk", "no_shrinkage", "group", "list_best_hour"}
    assert all(m.within_1h == 0.0 for m in result.methods)
    assert methods["shrunk"].log_likelihood == pytest.approx(np.log(1 / 1008), abs=1e-4)
    assert methods["list_best_hour"].log_likelihood == pytest.approx(np.log(1 / 1008), abs=1e-4)
    assert methods["no_shrinkage"].log_likelihood is None


def preference_events(seed: int = 11) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """300 contacts, each with a favourite hour (one of 12) and a country (two); 70 % of a contact's events
    at the favourite hour, the rest at Tuesday 07:00 (the list's send time: 20 %) or anywhere (10 %).
    Training: 0-7 events in the 21 weeks from Monday 2026-01-05; held out: 1-4 in the 13 weeks from 06-01."""
    rng = np.random.default_rng(seed)
    favourites = np.array([9, 33, 40, 58, 64, 80, 87, 105, 112, 130, 140, 160])
    contacts, events = [], []
    base = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
    for i in range(300):
        cid = f"c{i:03d}"
        contacts.append({"contact_id": cid, "country": "FI" if i % 2 else "SE"})
        favourite = int(favourites[rng.integers(len(favourites))])
        for first_week, weeks, n in ((0, 21, int(rng.integers(0, 8))), (21, 13, int(rng.integers(1, 5)))):
            for _ in range(n):
                u = rng.random()
                hour = favourite if u < 0.7 else 31 if u < 0.9 else int(rng.integers(168))
                week = first_week + int(rng.integers(weeks))
                ts = base + timedelta(weeks=week, hours=hour, minutes=int(rng.integers(1, 60)))
                events.append({"contact_id": cid, "event": "email_click", "ts": ts.isoformat()})
    return contacts, events


@pytest.mark.duckdb
def test_send_time_evaluation_beats_the_single_best_hour_on_personal_preferences(tmp_path: Path) -> None:
    contacts, events = preference_events()
    settings = Settings(traits={"send_time": {"timezone": "UTC", "group": "country"}})  # m estimated
    with open_store(str(tmp_path / "prefs.duckdb"), settings) as store:
        load_rows(store, "contacts", contacts)
        load_rows(store, "events", events)
        result = evaluate_send_time(store, datetime(2026, 9, 1, tzinfo=UTC), timedelta(days=92))
    assert result.cutoff == datetime(2026, 6, 1, tzinfo=UTC)
    methods = {m.method: m for m in result.methods}
    shrunk, single = methods["shrunk"], methods["list_best_hour"]
    # one hour for everyone is right for the Tuesday 07:00 share (about 20 %) and a favourite or two;
    # a contact's own favourite is right for about 70 % of their events once they have history
    assert single.within_1h < 0.35
    assert shrunk.within_1h > single.within_1h + 0.25
    # preferences this strong (70 %) leave little for shrinkage to add to the hits (it adds to the
    # log-likelihood and to thin contacts): about equal to the contact's own best hour
    assert shrunk.within_1h >= methods["no_shrinkage"].within_1h - 0.02
    assert shrunk.log_likelihood is not None
    assert single.log_likelihood is not None
    assert shrunk.log_likelihood > single.log_likelihood + 0.5
    assert 0.1 <= result.strength <= 1000


# ---- the CLI ---------------------------------------------------------------------------------------------------


def send_time_cli(db: str, *args: str) -> Any:
    return runner.invoke(app, ["report", "send-time", "--db", db, "--as-of", "2026-07-01", *args])


@pytest.mark.duckdb
def test_cli_report_send_time_json_and_table(small_db: str) -> None:
    result = send_time_cli(small_db, "finns", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["profile"]["segment"] == "finns"
    assert body["profile"]["best_hours"][0]["hour"] == 33
    assert body["profile"]["best_hours"][0]["label"] == "Tue 09:00"
    assert "evaluation" not in body
    table = send_time_cli(small_db)
    assert table.exit_code == 0, table.output
    assert "Send time of the whole list: 7 contacts, 3 with 11 clicks" in table.output
    assert "Europe/Helsinki" in table.output
    assert "│    1 │ Thu 10:00" in table.output


@pytest.mark.duckdb
def test_cli_report_send_time_evaluate_and_charts(small_db: str, tmp_path: Path) -> None:
    result = send_time_cli(small_db, "--evaluate", "--holdout-days", "30", "--json")
    assert result.exit_code == 0, result.output
    evaluation = json.loads(result.output)["evaluation"]
    assert evaluation["holdout_events"] == 6
    assert evaluation["cutoff"] == "2026-06-01T00:00:00+00:00"
    text = send_time_cli(small_db, "--evaluate", "--holdout-days", "30")
    assert "Held-out quality" in text.output
    assert "list_best_hour" in text.output
    for suffix, start in ((".png", b"\x89PNG"), (".svg", b"<?xml"), (".html", b"<!doctype html>")):
        chart = tmp_path / f"week{suffix}"
        drawn = send_time_cli(small_db, "finns", "--chart", str(chart))
        assert drawn.exit_code == 0, drawn.output
        assert chart.read_bytes().startswith(start)
    assert "<svg" in (tmp_path / "week.html").read_text(encoding="utf-8")


@pytest.mark.duckdb
@pytest.mark.parametrize(
    ("args", "code", "start"),
    [
        ([], 10, "error: the store has no email_click or human email_open events between"),
        (["nope"], 5, "error: no segment named 'nope'"),
        (["--holdout-days", "0", "--evaluate"], 2, "error: --holdout-days must be a positive number"),
        (["--chart", "week.gif"], 2, "error: --chart 'week.gif': the name must end in .png, .svg or .html"),
    ],
)
def test_cli_report_send_time_errors_are_one_line(tmp_path: Path, args: list[str], code: int, start: str) -> None:
    result = send_time_cli(str(tmp_path / "empty.duckdb"), *args)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(start)


# ---- the HTTP API ----------------------------------------------------------------------------------------------


@pytest.mark.duckdb
def test_api_reports_send_time(small_db: str, tmp_path: Path) -> None:
    from tests.server.api_testing import error, ok, serve

    with opened(small_db) as store, serve(store) as api:
        params = {"segment": "finns", "as_of": "2026-07-01T00:00:00Z"}
        body = ok(api.get("/api/reports/send-time", params=params, scope="read"))
        assert body["profile"]["best_hours"][0]["hour"] == 33
        assert body["profile"]["contacts"] == 4
        assert len(body["profile"]["pattern"]) == 168
        assert "evaluation" not in body
        both = ok(
            api.get(
                "/api/reports/send-time",
                params={"as_of": "2026-07-01T00:00:00Z", "evaluate": "true", "holdout_days": 30},
            )
        )
        assert both["profile"]["segment"] is None
        assert both["evaluation"]["holdout_events"] == 6
        error(api.get("/api/reports/send-time", params={"segment": "nope"}), 404, "not_found")
        error(api.get("/api/reports/send-time", params={"holdout_days": 0}), 400, "bad_request")
        error(api.get("/api/reports/send-time", params={"as_of": "soon"}), 400)
        error(api.get("/api/reports/send-time", scope=None), 401)
    with open_store(str(tmp_path / "empty.duckdb")) as empty, serve(empty) as api:
        error(api.get("/api/reports/send-time"), 422, "insufficient_data")


@pytest.mark.parametrize("engine_name", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_send_time_profile_and_evaluation_on_postgres(store_url: str) -> None:
    """The same numbers as on DuckDB (worked out at the top of this module and in the evaluation test)."""
    with open_store(store_url, Settings(traits={"send_time": SETTINGS})) as store:
        load_rows(store, "contacts", CONTACTS)
        load_rows(store, "events", EVENTS)
        apply_segments(store, {"finns": load_segment(FINNS, store.registry())})
        finns = send_time_profile(store, "finns", as_of=AS_OF)
        result = evaluate_send_time(store, AS_OF, timedelta(days=30))
    assert (finns.contacts, finns.contacts_with_engagement, finns.clicks) == (4, 2, 5)
    assert finns.best_hours[0].hour == 33
    assert finns.best_hours[0].share == pytest.approx(0.2965168, abs=1e-6)
    assert (result.training_events, result.holdout_events) == (5, 6)
    assert result.methods[0].log_likelihood == pytest.approx(np.log(1 / 1008), abs=1e-4)
