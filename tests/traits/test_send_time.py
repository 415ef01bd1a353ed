"""The send_time traits model on a small hand-made list, hours in Europe/Helsinki, as of 2026-07-01 00:00 UTC.

Settings: group = country, prior strength m = 4, group strength M = 4, smoothing s = 0.25, clicks
and human opens count 1.  Hours of the week: 0 = Monday 00:00, 33 = Tuesday 09:00, 82 = Thursday 10:00.
2026-01-01 was a Thursday; Helsinki is UTC+2 until 2026-03-29 01:00 UTC, then UTC+3.

- ann (FI): 4 clicks on the Tuesdays 01-06 .. 01-27 at 07:15 UTC = 09:15 local -> hour 33;
- bo (FI): 1 click on Saturday 01-10 at 01:30 UTC = 03:30 local -> hour 5 * 24 + 3 = 123;
- cy (FI): 3 machine opens on Wednesdays at 10:00 UTC (12:00 local, hour 60): ignored;
- di (FI): nothing;
- ed (SE): 6 clicks on the Thursdays 06-04 .. 06-11 (three each) at 07:00 UTC = 10:00 local (summer)
  -> hour 3 * 24 + 10 = 82;
- fa (SE), gus (no country): nothing.

Counted: N = 11 (4 at 33, 1 at 123, 6 at 82).  Smoothed with [0.25, 0.5, 0.25]: list 32: 1, 33: 2,
34: 1; 81: 1.5, 82: 3, 83: 1.5; 122: 0.25, 123: 0.5, 124: 0.25.
p_list = (smoothed + 1/168) / (11 + 1): p_list[33] = 2.0059524 / 12 = 0.1671627,
p_list[82] = 3.0059524 / 12 = 0.2504960, p_list[123] = 0.5059524 / 12 = 0.0421627 -> the list's best: 82.
FI (ann + bo, 5 events): p_FI = (C_FI + 4 p_list) / 9: p_FI[33] = (2 + 0.6686508) / 9 = 0.2965168,
p_FI[123] = (0.5 + 0.1686508) / 9 = 0.0742945, p_FI[82] = (0 + 1.0019841) / 9 = 0.1113316 -> FI's best: 33.
SE (ed, 6 events): p_SE[82] = (3 + 1.0019841) / 10 = 0.4001984, p_SE[33] = 0.6686508 / 10 = 0.0668651 -> 82.

Best hour = argmax of own smoothed counts + m p_group:
- ann: at 33: 2 + 4 * 0.2965 = 3.186 (its best); evidence 4;
- bo: at 123: 0.5 + 4 * 0.0742945 = 0.797; at 33: 0 + 4 * 0.2965168 = 1.186 -> 33: shrunk to FI's
  pattern (alone, bo's own best would be 123); evidence 1;
- cy, di: no counted events -> FI's best 33, evidence 0 (cy's machine opens would give 60 if counted:
  1.5 + 4 p_FI[60] > 1.186);
- ed: at 82: 3 + 4 * 0.4002 = 4.6 -> 82, evidence 6;
- fa: SE's best 82; gus: the list's best 82; evidence 0.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from traits_testing import load_data, traits_by_id

from segmint.config import Settings
from segmint.insights.send_time import context_of, counts_query, hour_counts, settings_of, zone_offsets
from segmint.store import open_store
from segmint.traits import compute_traits

AS_OF = datetime(2026, 7, 1, tzinfo=UTC)
SETTINGS = {
    "timezone": "Europe/Helsinki",
    "group": "country",
    "strength": 4.0,
    "group_strength": 4.0,
    "smoothing": 0.25,
}


def event(contact: str, name: str, ts: str, machine: bool | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"contact_id": contact, "event": name, "ts": ts}
    if machine is not None:
        row["machine_open"] = machine
    return row


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
    *(event("ann", "email_click", f"2026-01-{day:02d}T07:15:00Z") for day in (6, 13, 20, 27)),
    event("bo", "email_click", "2026-01-10T01:30:00Z"),
    *(event("cy", "email_open", f"2026-01-{day:02d}T10:00:00Z", machine=True) for day in (7, 14, 21)),
    *(event("ed", "email_click", f"2026-06-{day:02d}T07:00:{s:02d}Z") for day in (4, 11) for s in (1, 2, 3)),
    event("ed", "email_sent", "2026-06-04T06:59:00Z"),  # not engagement
    event("ann", "email_click", "2026-07-02T07:15:00Z"),  # after as_of
]
EXPECTED = {  # (send_hour, send_weekday, send_hour_of_day, send_time_evidence), worked out above
    "ann": (33, "tuesday", 9, 4),
    "bo": (33, "tuesday", 9, 1),
    "cy": (33, "tuesday", 9, 0),
    "di": (33, "tuesday", 9, 0),
    "ed": (82, "thursday", 10, 6),
    "fa": (82, "thursday", 10, 0),
    "gus": (82, "thursday", 10, 0),
}


def settings(**changes: Any) -> Settings:
    return Settings(traits={"send_time": {**SETTINGS, **changes}})


@pytest.fixture(
    scope="module", params=[pytest.param(name, marks=getattr(pytest.mark, name)) for name in ("duckdb", "postgres")]
)
def module_engine_name(request: pytest.FixtureRequest) -> str:
    """DuckDB and PostgreSQL (the framework's tests run every model on Spark too)."""
    name: str = request.param
    return name


@pytest.fixture(scope="module")
def send_store(module_store_url: str) -> Iterator[Any]:
    with open_store(module_store_url, settings()) as store:
        load_data(store, {"contacts": CONTACTS, "events": EVENTS})
        yield store


def found(rows: dict[str, dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    return {
        cid: (r["send_hour"], r["send_weekday"], r["send_hour_of_day"], r["send_time_evidence"])
        for cid, r in rows.items()
    }


def test_send_time_best_hours_are_shrunk_toward_the_group_and_the_list(send_store: Any) -> None:
    assert found(traits_by_id(send_store, "send_time", AS_OF)) == EXPECTED


def test_send_time_hours_follow_daylight_saving_time(send_store: Any) -> None:
    """07:15 UTC in January is 09:15 in Helsinki (UTC+2); 07:00 UTC in June is 10:00 (UTC+3)."""
    s = settings_of(send_store)
    ctx = context_of(send_store, AS_OF)
    start = datetime(2025, 7, 1, tzinfo=UTC)
    rows = send_store.engine.query(counts_query(ctx, s, "Europe/Helsinki", start=start, restrict=False))
    counts = hour_counts(rows, 1.0)
    by_hour = {int(h): int(n) for h, n in zip(counts.hour, counts.events, strict=True)}
    assert by_hour == {33: 4, 123: 1, 82: 6}
    utc = hour_counts(send_store.engine.query(counts_query(ctx, s, "UTC", start=start, restrict=False)), 1.0)
    # in UTC: Tuesday 07:00 = 31, Saturday 01:00 = 121, Thursday 07:00 = 79
    assert {int(h): int(n) for h, n in zip(utc.hour, utc.events, strict=True)} == {31: 4, 121: 1, 79: 6}


def test_send_time_zone_offsets_split_the_window_at_each_transition() -> None:
    pieces = zone_offsets("Europe/Helsinki", datetime(2025, 7, 1, tzinfo=UTC), AS_OF)
    assert [(p[0].isoformat() if p[0] else None, p[1]) for p in pieces] == [
        (None, 3 * 3600),
        ("2025-10-26T01:00:00+00:00", 2 * 3600),
        ("2026-03-29T01:00:00+00:00", 3 * 3600),
    ]
    assert zone_offsets("UTC", datetime(2025, 7, 1, tzinfo=UTC), AS_OF) == [(None, 0)]


@pytest.mark.duckdb
def test_send_time_without_shrinkage_bo_keeps_his_own_odd_hour(tmp_path: Any) -> None:
    """With a weak prior (m = 0.1), bo's single click wins: 0.5 + 0.1 * 0.0743 > 0.1 * 0.2965 -> 123."""
    with open_store(f"duckdb:///{tmp_path / 'weak.duckdb'}", settings(strength=0.1)) as store:
        load_data(store, {"contacts": CONTACTS, "events": EVENTS})
        rows = traits_by_id(store, "send_time", AS_OF)
    assert rows["bo"]["send_hour"] == 123
    assert rows["bo"]["send_weekday"] == "saturday"
    assert rows["di"]["send_hour"] == 33


@pytest.mark.duckdb
def test_send_time_fresh_path_scores_with_the_kept_patterns(tmp_path: Any) -> None:
    """bo clicks three more times at Saturday 03:30: 4 events at 123 -> 2 + 4 * 0.0743 = 2.30 > 1.19 at 33."""
    with open_store(f"duckdb:///{tmp_path / 'fresh.duckdb'}", settings()) as store:
        load_data(store, {"contacts": CONTACTS, "events": EVENTS})
        assert found(traits_by_id(store, "send_time", AS_OF)) == EXPECTED
        kept = store.engine.query("SELECT grp, strength FROM send_time_prior ORDER BY grp NULLS FIRST").to_pylist()
        assert [r["grp"] for r in kept] == [None, "FI", "SE"]
        assert {r["strength"] for r in kept} == {4.0}
        more = [event("bo", "email_click", f"2026-02-{day:02d}T01:30:00Z") for day in (7, 14, 21)]
        load_data(store, {"events": more})
        bo = store.engine.scalar("SELECT contact_key FROM contacts WHERE contact_id = 'bo'")
        rows = traits_by_id(store, "send_time", AS_OF, contact_keys=[bo])
        assert found(rows) == {**EXPECTED, "bo": (123, "saturday", 3, 4)}


@pytest.mark.duckdb
def test_send_time_is_unset_when_the_list_has_no_engagement(tmp_path: Any) -> None:
    with open_store(f"duckdb:///{tmp_path / 'quiet.duckdb'}", settings()) as store:
        load_data(store, {"contacts": CONTACTS, "events": [EVENTS[5], EVENTS[-2]]})  # machine opens, a send
        assert compute_traits(store, as_of=AS_OF, names=["persona", "send_time"])["send_time"] == 0


@pytest.mark.duckdb
def test_send_time_estimates_the_prior_strength_within_its_bounds(tmp_path: Any) -> None:
    with open_store(f"duckdb:///{tmp_path / 'estimated.duckdb'}", settings(strength=None)) as store:
        load_data(store, {"contacts": CONTACTS, "events": EVENTS})
        rows = traits_by_id(store, "send_time", AS_OF)
        strength = store.engine.scalar("SELECT MAX(strength) FROM send_time_prior")
    assert 0.1 <= strength <= 1000
    assert rows["ann"]["send_hour"] == 33
    assert rows["ed"]["send_hour"] == 82


@pytest.mark.duckdb
def test_send_time_fields_work_in_segments(tmp_path: Any) -> None:
    from segmint.dsl import load_segment
    from segmint.segments import segment_members

    with open_store(f"duckdb:///{tmp_path / 'segments.duckdb'}", settings()) as store:
        load_data(store, {"contacts": CONTACTS, "events": EVENTS})
        compute_traits(store, as_of=AS_OF)
        morning = load_segment(
            {
                "name": "tuesday-mornings",
                "conditions": [
                    {"field": "send_hour_of_day", "op": "between", "value": [8, 9]},
                    {"field": "send_weekday", "op": "eq", "value": "Tuesday"},
                ],
            },
            store.registry(),
        )
        members = segment_members(store, morning, as_of=AS_OF).column("member_id").to_pylist()
    assert members == ["ann", "bo", "cy", "di"]
