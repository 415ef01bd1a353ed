"""Evaluate segments: members, counts and the SQL, at an ``as_of``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import pyarrow as pa

from segmint.compile import MEMBER_ID, MEMBER_KEY, SegmentCompiler, compiler_for
from segmint.dsl import Segment
from segmint.segments.definitions import stored_segments
from segmint.store.store import Store


def now_utc() -> datetime:
    """The default ``as_of``: now, to the microsecond, in UTC."""
    return datetime.now(UTC)


def compiler(
    store: Store, *, as_of: datetime, engine: str | None = None, extra: Segment | None = None
) -> SegmentCompiler:
    """The compiler for the store's engine (or another), knowing every stored segment."""
    segments = stored_segments(store)
    if extra is not None:
        segments[extra.name] = extra
    return compiler_for(engine or store.engine.name, store.registry(), segments, as_of=as_of)


def segment_members(
    store: Store, segment: Segment, *, as_of: datetime | None = None, keys: Iterable[int] | None = None
) -> pa.Table:
    """The members as Arrow: ``member_key``, ``member_id``, sorted by id."""
    as_of = as_of or now_utc()
    query = compiler(store, as_of=as_of, extra=segment).text(segment, keys=keys)
    return store.engine.query(query).select([MEMBER_KEY, MEMBER_ID])


def segment_count(store: Store, segment: Segment, *, as_of: datetime | None = None) -> int:
    """How many members the segment has at ``as_of``."""
    return segment_members(store, segment, as_of=as_of).num_rows


def segment_sql(store: Store, segment: Segment, *, engine: str, as_of: datetime | None = None) -> str:
    """The SQL an engine runs for this segment (deterministic for a given ``as_of``)."""
    return compiler(store, as_of=as_of or now_utc(), engine=engine, extra=segment).sql(segment)
