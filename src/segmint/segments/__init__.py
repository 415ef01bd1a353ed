"""Segments at work: stored definitions, evaluation, refresh and membership history."""

from segmint.segments.definitions import (
    ApplyResult,
    apply_segments,
    change_static_members,
    delete_segment,
    read_definitions,
    resolve_segment,
    snapshot_segment,
    stored_segments,
)
from segmint.segments.evaluate import segment_count, segment_members, segment_sql
from segmint.segments.refresh import (
    FullRefresh,
    RefreshResult,
    member_segments,
    refresh_all,
    refresh_segments,
    segment_history,
)

__all__ = [
    "ApplyResult",
    "FullRefresh",
    "RefreshResult",
    "apply_segments",
    "change_static_members",
    "delete_segment",
    "member_segments",
    "read_definitions",
    "refresh_all",
    "refresh_segments",
    "resolve_segment",
    "segment_count",
    "segment_history",
    "segment_members",
    "segment_sql",
    "snapshot_segment",
    "stored_segments",
]
