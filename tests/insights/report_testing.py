"""Helpers of the segment performance report's tests: two hand-made stores.

Import with ``from report_testing import load_small, load_planted`` (pytest puts this folder on the path).

``load_small``: twelve contacts c01..c12, window [2026-03-01, 2026-04-01).
Static segment ``vip`` = {c01, c02, c03, c04}; the rest of the list is c05..c12.

sends (distinct contact x campaign of email_sent in the window):
  c01 m1 (sent twice: one send), c01 m2, c02 m1, c02 m2, c03 m1, c04 m1     -> vip 6
  c05 m1, c05 m2, c06 m1, c07 m1, c08 m1, c09 m1, c10 m1                   -> rest 7; whole 13
  (c03 m0 on 2026-02-20 with an open: before the window, ignored)
human opens (machine_open not true) of a send:
  c01 m1 (two opens), c02 m1, c02 m2                                        -> vip 3 / 6
  c05 m1, c06 m1 (a machine and a human open), c08 m1 (machine_open unset)  -> rest 3 / 7; whole 6 / 13
  machine opens only: c01 m2, c03 m1, c09 m1
clicks:   c01 m1, c01 m2 (machine-opened only), c02 m2                       -> vip 3 / 6
          c05 m1                                                            -> rest 1 / 7; whole 4 / 13
opened and clicked: c01 m1, c02 m2 (vip 2 / 3 opened); c05 m1 (rest 1 / 3); whole 3 / 6
unsubscribes: c04 m1 (vip 1 / 6), c07 m1 (rest 1 / 7); whole 2 / 13
bounces: c10 m1 (rest 1 / 7); vip 0 / 6; whole 1 / 13
purchases in the window:
  c01 order o1 (two lines: 100 + 50 = 150) and o2 (250): revenue 400; c02 o3 100
  c06 o4 60; c07 o6 without an amount (a conversion, no order value); c11 o5 40
  (c03 bought 999 on 2026-02-10: before the window, ignored)
  buyers: vip c01, c02 -> 2 / 4; rest c06, c07, c11 -> 3 / 8; whole 5 / 12
support tickets: c03 2, c05 1, c12 1
predicted_clv (the clv trait's rows, written directly): c01 300, c02 100, c05 50, c06 70, c11 30

Dynamic segment ``recent-buyers`` (a purchase within 30 days), refreshed at 2026-02-20 (only c03's
purchase of 2026-02-10 is within 30 days: 1 member) and at 2026-03-31 (c01, c02, c06, c07, c11: 5).

``load_planted``: 150 contacts, window [2026-03-01, 2026-04-01), for the ranking marks:
  stars s01..s30: campaigns a and b sent, both opened by a person and clicked; one order of 100 each
  sleepers z01..z30: a and b sent, never opened; nothing bought
  gems g01..g30: only the odd ones were sent a (15 sends, 0.5 per contact), every send opened and clicked;
    one order of 200 each -- high value and engagement, fewer sends than the list
  filler f01..f60: a and b sent (and c to the odd ones); a opened and clicked; the odd ones bought 200
  static segments: stars, sleepers, gems, plain (f01..f30), tiny (f31, f32)
  plain against the rest (by hand): opens 30 / 75 sends = 40 % against (60 + 0 + 15 + 30) / 210 = 50 %
  (z = -1.49, p = 0.14); buyers 15 / 30 against 75 / 120 (z = -1.25); revenue per contact 100 against
  (3000 + 6000 + 3000) / 120 = 100: no measure of the marks differs, so no mark.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
from sqlglot import exp

from segmint.dsl import parse_segment
from segmint.segments import apply_segments, refresh_segments
from segmint.store.load import load_tables
from segmint.store.store import Store

SINCE = "2026-03-01"
UNTIL = "2026-04-01"


def load_rows(store: Store, entity: str, rows: Iterable[Mapping[str, Any]]) -> None:
    """Load rows (dicts of import columns) into ``store``; no row may be rejected."""
    rows = list(rows)
    columns = sorted({k for r in rows for k in r})
    table = pa.table({c: [r.get(c) for r in rows] for c in columns})
    summary = load_tables(store, entity, [table], source=f"test-{entity}")
    assert summary.total("rejected") == 0, summary


def _contacts(ids: Iterable[str]) -> list[dict[str, Any]]:
    return [{"contact_id": i, "email": f"{i}@example.com", "country": "FI"} for i in ids]


def apply_static(store: Store, name: str, members: list[str]) -> None:
    apply_segments(store, {name: parse_segment({"name": name, "kind": "static", "members": members})})


def small_events() -> list[dict[str, Any]]:
    rows: list[tuple[str, str, str, str | None, dict[str, Any]]] = [
        # (contact, event, day in March, campaign, extra)
        ("c01", "email_sent", "02", "m1", {}),
        ("c01", "email_sent", "03", "m1", {}),  # the same campaign again: still one send
        ("c01", "email_sent", "10", "m2", {}),
        ("c02", "email_sent", "02", "m1", {}),
        ("c02", "email_sent", "10", "m2", {}),
        ("c03", "email_sent", "02", "m1", {}),
        ("c04", "email_sent", "02", "m1", {}),
        ("c05", "email_sent", "02", "m1", {}),
        ("c05", "email_sent", "10", "m2", {}),
        ("c06", "email_sent", "02", "m1", {}),
        ("c07", "email_sent", "02", "m1", {}),
        ("c08", "email_sent", "02", "m1", {}),
        ("c09", "email_sent", "02", "m1", {}),
        ("c10", "email_sent", "02", "m1", {}),
        ("c01", "email_open", "04", "m1", {"machine_open": False}),
        ("c01", "email_open", "05", "m1", {"machine_open": False}),
        ("c01", "email_open", "11", "m2", {"machine_open": True}),
        ("c02", "email_open", "04", "m1", {"machine_open": False}),
        ("c02", "email_open", "11", "m2", {"machine_open": False}),
        ("c03", "email_open", "02", "m1", {"machine_open": True}),
        ("c05", "email_open", "04", "m1", {"machine_open": False}),
        ("c06", "email_open", "02", "m1", {"machine_open": True}),
        ("c06", "email_open", "06", "m1", {"machine_open": False}),
        ("c08", "email_open", "04", "m1", {}),
        ("c09", "email_open", "02", "m1", {"machine_open": True}),
        ("c01", "email_click", "04", "m1", {}),
        ("c01", "email_click", "11", "m2", {}),
        ("c02", "email_click", "11", "m2", {}),
        ("c05", "email_click", "04", "m1", {}),
        ("c04", "email_unsubscribe", "03", "m1", {}),
        ("c07", "email_unsubscribe", "03", "m1", {}),
        ("c10", "email_bounce", "02", "m1", {"bounce_type": "hard"}),
        ("c01", "purchase", "12", None, {"order_id": "o1", "amount": 100.0}),
        ("c01", "purchase", "12", None, {"order_id": "o1", "amount": 50.0}),
        ("c01", "purchase", "20", None, {"order_id": "o2", "amount": 250.0}),
        ("c02", "purchase", "15", None, {"order_id": "o3", "amount": 100.0}),
        ("c06", "purchase", "15", None, {"order_id": "o4", "amount": 60.0}),
        ("c07", "purchase", "16", None, {"order_id": "o6"}),
        ("c11", "purchase", "18", None, {"order_id": "o5", "amount": 40.0}),
        ("c03", "support_ticket", "05", None, {}),
        ("c03", "support_ticket", "06", None, {}),
        ("c05", "support_ticket", "07", None, {}),
        ("c12", "support_ticket", "08", None, {}),
    ]
    events = [
        {"event_id": f"e{n:03d}", "contact_id": c, "event": e, "ts": f"2026-03-{day}T10:00:00Z", "campaign_id": m, **x}
        for n, (c, e, day, m, x) in enumerate(rows)
    ]
    events += [  # before the window
        {
            "event_id": "old1",
            "contact_id": "c03",
            "event": "email_sent",
            "ts": "2026-02-20T10:00:00Z",
            "campaign_id": "m0",
        },
        {
            "event_id": "old2",
            "contact_id": "c03",
            "event": "email_open",
            "ts": "2026-02-20T11:00:00Z",
            "campaign_id": "m0",
            "machine_open": False,
        },
        {
            "event_id": "old3",
            "contact_id": "c03",
            "event": "purchase",
            "ts": "2026-02-10T10:00:00Z",
            "order_id": "o0",
            "amount": 999.0,
        },
    ]
    return events


def write_clv(store: Store, values: Mapping[str, float]) -> None:
    """The clv trait's predicted_clv of some contacts, as a refresh would have stored it."""
    keys = {
        r["contact_id"]: r["contact_key"]
        for r in store.engine.query(exp.select("contact_id", "contact_key").from_("contacts")).to_pylist()
    }
    store.engine.load_arrow(
        "traits_clv",
        pa.table(
            {
                "contact_key": pa.array([keys[i] for i in values], pa.int64()),
                "predicted_clv": pa.array(list(values.values()), pa.float64()),
            }
        ),
    )


def load_small(store: Store) -> None:
    """The twelve contacts of the module doc, their events, ``vip``, ``recent-buyers`` and clv values."""
    load_rows(store, "contacts", _contacts(f"c{i:02d}" for i in range(1, 13)))
    load_rows(store, "events", small_events())
    apply_static(store, "vip", ["c01", "c02", "c03", "c04"])
    apply_segments(
        store,
        {
            "recent-buyers": parse_segment(
                {
                    "name": "recent-buyers",
                    "title": "Bought in 30 days",
                    "conditions": [{"event": "purchase", "within": "30d"}],
                }
            )
        },
    )
    refresh_segments(store, as_of=datetime(2026, 2, 20, tzinfo=UTC), names=["recent-buyers"])
    refresh_segments(store, as_of=datetime(2026, 3, 31, tzinfo=UTC), names=["recent-buyers"])
    write_clv(store, {"c01": 300.0, "c02": 100.0, "c05": 50.0, "c06": 70.0, "c11": 30.0})


def load_planted(store: Store) -> None:
    """The 150 contacts of the module doc with the segments stars, sleepers, gems, plain and tiny."""
    groups = {
        "s": [f"s{i:02d}" for i in range(1, 31)],
        "z": [f"z{i:02d}" for i in range(1, 31)],
        "g": [f"g{i:02d}" for i in range(1, 31)],
        "f": [f"f{i:02d}" for i in range(1, 61)],
    }
    load_rows(store, "contacts", _contacts(i for ids in groups.values() for i in ids))
    events: list[dict[str, Any]] = []

    def add(contact: str, event: str, day: int, campaign: str | None = None, **extra: Any) -> None:
        events.append(
            {
                "event_id": f"p{len(events):04d}",
                "contact_id": contact,
                "event": event,
                "ts": f"2026-03-{day:02d}T10:00:00Z",
                "campaign_id": campaign,
                **extra,
            }
        )

    for c in groups["s"]:
        for day, m in ((2, "a"), (9, "b")):
            add(c, "email_sent", day, m)
            add(c, "email_open", day + 1, m, machine_open=False)
            add(c, "email_click", day + 1, m)
        add(c, "purchase", 20, order_id=f"o-{c}", amount=100.0)
    for c in groups["z"]:
        add(c, "email_sent", 2, "a")
        add(c, "email_sent", 9, "b")
    for n, c in enumerate(groups["g"], 1):
        if n % 2:
            add(c, "email_sent", 2, "a")
            add(c, "email_open", 3, "a", machine_open=False)
            add(c, "email_click", 3, "a")
        add(c, "purchase", 21, order_id=f"o-{c}", amount=200.0)
    for n, c in enumerate(groups["f"], 1):
        add(c, "email_sent", 2, "a")
        add(c, "email_open", 3, "a", machine_open=False)
        add(c, "email_click", 3, "a")
        add(c, "email_sent", 9, "b")
        if n % 2:
            add(c, "email_sent", 16, "c")
            add(c, "purchase", 22, order_id=f"o-{c}", amount=200.0)
    load_rows(store, "events", events)
    apply_static(store, "stars", groups["s"])
    apply_static(store, "sleepers", groups["z"])
    apply_static(store, "gems", groups["g"])
    apply_static(store, "plain", groups["f"][:30])
    apply_static(store, "tiny", groups["f"][30:32])
