"""The operators of SEGMENTS.md as data: one line each.

Each field operator says what shape of value it takes, which field types it
applies to, and the phrase a person reads (with a variant for timestamps
where "after" reads better than "more than").  The parser, the validator and
:func:`~segmint.dsl.explain.explain_segment` all read this table; nothing
branches on operator names.

>>> FIELD_OPERATORS["between"].shape
'pair'
>>> FIELD_OPERATORS["gt"].phrase_for(timestamp=True)
'is after {value}'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from segmint.dsl.nodes import COUNT_OPS, FIELD_OPS
from segmint.model.types import FieldType

#: The value shapes of SEGMENTS.md's operator table.
#: scalar: one str/number/bool/timestamp; list: one or more scalars; ordered: a number, date or timestamp;
#: pair: [low, high] of ordered values; text: a string; duration: 30d; none: no value at all.
Shape = Literal["scalar", "list", "ordered", "pair", "text", "duration", "none"]

_S, _I, _F, _B, _T, _J = (
    FieldType.STRING,
    FieldType.INTEGER,
    FieldType.FLOAT,
    FieldType.BOOLEAN,
    FieldType.TIMESTAMP,
    FieldType.JSON,
)
_EQUALS = (_S, _I, _F, _B, _T)
_MEMBERS = (_S, _I, _F, _T)
_ORDERED = (_I, _F, _T)
_TEXT = (_S,)
_EVERY = (_S, _I, _F, _B, _T, _J)


@dataclass(frozen=True)
class FieldOperator:
    """One field operator: its value shape, the field types it applies to, and its sentence."""

    name: str
    shape: Shape
    types: tuple[FieldType, ...]
    phrase: str
    timestamp_phrase: str | None = None

    def phrase_for(self, *, timestamp: bool = False) -> str:
        """The phrase template; ``{value}`` (or ``{low}`` and ``{high}``) stand for the value."""
        return (self.timestamp_phrase or self.phrase) if timestamp else self.phrase


FIELD_OPERATORS: dict[str, FieldOperator] = {
    op.name: op
    for op in (
        FieldOperator("eq", "scalar", _EQUALS, "is {value}"),
        FieldOperator("neq", "scalar", _EQUALS, "is not {value}"),
        FieldOperator("in", "list", _MEMBERS, "is one of {value}"),
        FieldOperator("not_in", "list", _MEMBERS, "is none of {value}"),
        FieldOperator("gt", "ordered", _ORDERED, "is more than {value}", "is after {value}"),
        FieldOperator("gte", "ordered", _ORDERED, "is at least {value}", "is on or after {value}"),
        FieldOperator("lt", "ordered", _ORDERED, "is less than {value}", "is before {value}"),
        FieldOperator("lte", "ordered", _ORDERED, "is at most {value}", "is on or before {value}"),
        FieldOperator("between", "pair", _ORDERED, "is between {low} and {high}"),
        FieldOperator("contains", "text", _TEXT, "contains {value}"),
        FieldOperator("not_contains", "text", _TEXT, "does not contain {value}"),
        FieldOperator("starts_with", "text", _TEXT, "starts with {value}"),
        FieldOperator("ends_with", "text", _TEXT, "ends with {value}"),
        FieldOperator("is_set", "none", _EVERY, "is set"),
        FieldOperator("is_not_set", "none", _EVERY, "is not set"),
        FieldOperator("within_last", "duration", (_T,), "is within the last {value}"),
        FieldOperator("older_than", "duration", (_T,), "is more than {value} ago"),
    )
}

#: count and aggregate comparisons, as words: "at least 3 times", "a total amount of at least 1000"
COMPARISON_PHRASES: dict[str, str] = {
    "eq": "exactly {value}",
    "neq": "other than {value}",
    "gt": "more than {value}",
    "gte": "at least {value}",
    "lt": "less than {value}",
    "lte": "at most {value}",
}

#: aggregate functions, as words: "with a total amount of at least 1000"
AGGREGATE_PHRASES: dict[str, str] = {
    "sum": "a total {field}",
    "avg": "an average {field}",
    "min": "a smallest {field}",
    "max": "a largest {field}",
}


def operators_for(field_type: FieldType) -> tuple[str, ...]:
    """The field operators that apply to a field of this type, in SEGMENTS.md's order.

    >>> operators_for(FieldType.BOOLEAN)
    ('eq', 'neq', 'is_set', 'is_not_set')
    """
    return tuple(op.name for op in FIELD_OPERATORS.values() if field_type in op.types)


# The table must cover exactly the operators SEGMENTS.md names.
assert tuple(FIELD_OPERATORS) == FIELD_OPS
assert tuple(COMPARISON_PHRASES) == COUNT_OPS
