"""SEGMENTS.md as code: nodes, parsing, validation, durations and plain-language explanations.

>>> from segmint.model.fields import build_registry
>>> seg = load_segment("name: finns\\nconditions: [{field: country, op: eq, value: FI}]", build_registry())
>>> explain_segment(seg)
'Contacts whose country is FI'
"""

from segmint.dsl.documents import dump_yaml, read_yaml
from segmint.dsl.durations import DurationError, format_duration, parse_duration
from segmint.dsl.explain import explain_segment
from segmint.dsl.graph import dependency_order, find_cycle
from segmint.dsl.nodes import (
    AGGREGATE_FNS,
    COUNT_OPS,
    DEFAULT_COUNT,
    FIELD_OPS,
    Absolute,
    Aggregate,
    AllOf,
    AnyOf,
    BetweenAgo,
    Condition,
    Count,
    EventCondition,
    FieldCondition,
    Not,
    Segment,
    SegmentCondition,
    Window,
    Within,
    walk,
)
from segmint.dsl.ops import FIELD_OPERATORS, FieldOperator, operators_for
from segmint.dsl.parse import parse_segment, parse_segment_file, parse_segments_dir, read_segment
from segmint.dsl.timestamps import format_timestamp, parse_timestamp
from segmint.dsl.validate import (
    check_segment,
    load_segment,
    load_segments_dir,
    validate_segment,
    validate_segments,
)

__all__ = [
    "AGGREGATE_FNS",
    "COUNT_OPS",
    "DEFAULT_COUNT",
    "FIELD_OPERATORS",
    "FIELD_OPS",
    "Absolute",
    "Aggregate",
    "AllOf",
    "AnyOf",
    "BetweenAgo",
    "Condition",
    "Count",
    "DurationError",
    "EventCondition",
    "FieldCondition",
    "FieldOperator",
    "Not",
    "Segment",
    "SegmentCondition",
    "Window",
    "Within",
    "check_segment",
    "dependency_order",
    "dump_yaml",
    "explain_segment",
    "find_cycle",
    "format_duration",
    "format_timestamp",
    "load_segment",
    "load_segments_dir",
    "operators_for",
    "parse_duration",
    "parse_segment",
    "parse_segment_file",
    "parse_segments_dir",
    "parse_timestamp",
    "read_segment",
    "read_yaml",
    "validate_segment",
    "validate_segments",
    "walk",
]
