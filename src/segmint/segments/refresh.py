"""Refresh: every dynamic segment, in dependency order, with who entered and who left.

Each refresh evaluates the segments at one ``as_of``, compares the members
with those of the previous refresh and records every entry and exit in
``segment_changes``; ``segment_refreshes`` keeps each segment's size and
movement per refresh, which ``segment history`` reads.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from segmint.dsl import Segment, dependency_order
from segmint.model.tables import SEGMENT_CHANGES, SEGMENT_MEMBERS, SEGMENT_REFRESHES, SEGMENTS, STATIC_MEMBERS
from segmint.segments.definitions import _is_segment, stored_segments
from segmint.segments.evaluate import compiler, now_utc
from segmint.store.store import Store

_TS = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class FullRefresh:
    """A whole refresh: rows stored per traits model, then each segment's refresh, and the time each took."""

    as_of: datetime
    traits: dict[str, int]
    segments: list[RefreshResult]
    traits_seconds: float
    segments_seconds: float


@dataclass(frozen=True)
class RefreshResult:
    """One segment's refresh."""

    segment: str
    size: int
    entered: int
    exited: int


def _current(store: Store, name: str) -> pa.Table:
    return store.engine.query(
        exp.select("member_key", "since")
        .from_(SEGMENT_MEMBERS.name)
        .where(exp.column("segment").eq(exp.Literal.string(name)))
    )


def refresh_segments(
    store: Store,
    *,
    as_of: datetime | None = None,
    names: Iterable[str] | None = None,
    keys: Iterable[int] | None = None,
) -> list[RefreshResult]:
    """Refresh dynamic segments (all, or ``names``) at ``as_of``; record entries and exits.

    With ``keys``, only those members are re-evaluated (the path that keeps
    contacts whose events just arrived up to date without evaluating everyone);
    membership of every other member is left as it was.
    """
    as_of = (as_of or now_utc()).astimezone(UTC)
    segments = stored_segments(store)
    wanted = set(names) if names is not None else None
    order = [n for n in dependency_order(segments) if segments[n].kind == "dynamic" and (wanted is None or n in wanted)]
    key_list = sorted(set(keys)) if keys is not None else None
    refresh_id = int(store.engine.scalar(f"SELECT COALESCE(MAX(refresh_id), 0) + 1 FROM {SEGMENT_REFRESHES.name}") or 1)
    comp = compiler(store, as_of=as_of)
    results = []
    with store.engine.transaction():
        for name in order:
            results.append(
                _refresh_one(
                    store, segments[name], comp.text(segments[name], keys=key_list), as_of, refresh_id, key_list
                )
            )
    return results


def refresh_all(store: Store, *, as_of: datetime | None = None) -> FullRefresh:
    """The heartbeat: every traits model, then every dynamic segment, at one ``as_of``."""
    from segmint.traits import compute_traits

    as_of = (as_of or now_utc()).astimezone(UTC)
    started = time.perf_counter()
    traits = compute_traits(store, as_of=as_of)
    middle = time.perf_counter()
    segments = refresh_segments(store, as_of=as_of)
    return FullRefresh(as_of, traits, segments, middle - started, time.perf_counter() - middle)


def _refresh_one(
    store: Store, segment: Segment, query: str, as_of: datetime, refresh_id: int, keys: list[int] | None
) -> RefreshResult:
    engine = store.engine
    new = engine.query(query).column("member_key").cast(pa.int64())
    current = _current(store, segment.name)
    old = current.column("member_key").cast(pa.int64())
    if keys is not None:  # members outside the touched keys keep their membership
        old_in_scope = pc.is_in(old, value_set=pa.array(keys, pa.int64()))
        old = pc.filter(old, old_in_scope)
    entered = pc.filter(new, pc.invert(pc.is_in(new, value_set=old)))
    exited = pc.filter(old, pc.invert(pc.is_in(old, value_set=new)))
    if len(entered) or len(exited):
        n = len(entered) + len(exited)
        engine.load_arrow(
            SEGMENT_CHANGES.name,
            pa.table(
                {
                    "segment": [segment.name] * n,
                    "member_key": pa.concat_arrays([_array(entered), _array(exited)]),
                    "change": ["enter"] * len(entered) + ["exit"] * len(exited),
                    "at": pa.array([as_of] * n, _TS),
                    "refresh_id": pa.array([refresh_id] * n, pa.int64()),
                }
            ),
        )
        # Rewrite the segment's membership: stayers keep their `since`, entrants start now.
        stay = pc.invert(pc.is_in(current.column("member_key").cast(pa.int64()), value_set=_array(exited)))
        kept = current.filter(stay)
        members = pa.table(
            {
                "segment": [segment.name] * (kept.num_rows + len(entered)),
                "member_key": pa.concat_arrays([_array(kept.column("member_key").cast(pa.int64())), _array(entered)]),
                "since": pa.concat_arrays(
                    [_array(kept.column("since").cast(_TS)), pa.array([as_of] * len(entered), _TS)]
                ),
            }
        )
        engine.delete_where(SEGMENT_MEMBERS.name, _is_segment("segment", segment.name))
        engine.load_arrow(SEGMENT_MEMBERS.name, members)
    size = int(
        engine.scalar(
            exp.select(exp.Count(this=exp.Star()))
            .from_(SEGMENT_MEMBERS.name)
            .where(exp.column("segment").eq(exp.Literal.string(segment.name)))
        )
        or 0
    )
    engine.load_arrow(
        SEGMENT_REFRESHES.name,
        pa.table(
            {
                "refresh_id": pa.array([refresh_id], pa.int64()),
                "segment": [segment.name],
                "as_of": pa.array([as_of], _TS),
                "ran_at": pa.array([datetime.now(UTC)], _TS),
                "size": pa.array([size], pa.int64()),
                "entered": pa.array([len(entered)], pa.int64()),
                "exited": pa.array([len(exited)], pa.int64()),
            }
        ),
    )
    return RefreshResult(segment.name, size, len(entered), len(exited))


def _array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def segment_history(store: Store, name: str) -> list[dict[str, object]]:
    """Size, entries and exits of a segment at each refresh, oldest first."""
    return store.engine.query(
        exp.select("refresh_id", "as_of", "size", "entered", "exited")
        .from_(SEGMENT_REFRESHES.name)
        .where(exp.column("segment").eq(exp.Literal.string(name)))
        .order_by("refresh_id")
    ).to_pylist()


def member_segments(store: Store, member_key: int) -> dict[str, list[dict[str, object]]]:
    """A contact's current segments (with since) and every entry and exit it has had."""
    engine = store.engine
    key = exp.Literal.number(member_key)
    contact_segments = (
        exp.select("name").from_(SEGMENTS.name).where(exp.column("entity").eq(exp.Literal.string("contact")))
    )
    current = engine.query(
        exp.select("segment", "since")
        .from_(SEGMENT_MEMBERS.name)
        .where(exp.and_(exp.column("member_key").eq(key), exp.column("segment").isin(query=contact_segments)))
        .union(
            exp.select("segment", exp.column("added_at").as_("since"))
            .from_(STATIC_MEMBERS.name)
            .where(exp.and_(exp.column("member_key").eq(key), exp.column("segment").isin(query=contact_segments)))
        )
        .order_by("segment")
    ).to_pylist()
    changes = engine.query(
        exp.select("segment", "change", "at")
        .from_(SEGMENT_CHANGES.name)
        .where(exp.and_(exp.column("member_key").eq(key), exp.column("segment").isin(query=contact_segments)))
        .order_by("at", "segment", "change")
    ).to_pylist()
    return {"current": current, "changes": changes}


__all__ = ["FullRefresh", "RefreshResult", "member_segments", "refresh_all", "refresh_segments", "segment_history"]
