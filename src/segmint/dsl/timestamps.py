"""Dates and timestamps in segment values, read as SEGMENTS.md says.

A date-only value (``2026-01-31``) means midnight UTC of that day, and a
timestamp without a zone is UTC.  Every value comes out as an aware UTC
:class:`~datetime.datetime`.

>>> parse_timestamp("2026-01-31")
datetime.datetime(2026, 1, 31, 0, 0, tzinfo=datetime.timezone.utc)
>>> parse_timestamp("2026-01-31T10:30:00+02:00")
datetime.datetime(2026, 1, 31, 8, 30, tzinfo=datetime.timezone.utc)
>>> format_timestamp(parse_timestamp("2026-01-31 10:30"))
'2026-01-31T10:30:00Z'
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

# ISO 8601 as people write it: a date, optionally a time (T or space), optionally a zone.
_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?)?"
)

EXAMPLES = "e.g. 2026-01-31 or 2026-01-31T09:00:00Z"


def parse_timestamp(value: object) -> datetime:
    """An aware UTC datetime from a date or timestamp string, a ``date`` or a ``datetime``.

    Raises :class:`ValueError` with a message a person can act on.
    """
    if isinstance(value, datetime):
        return to_utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str) and _TIMESTAMP.fullmatch(value):
        try:
            parsed = datetime.fromisoformat(value.replace("z", "Z"))
        except ValueError as exc:
            raise ValueError(f"invalid date or timestamp {value!r}: {exc}") from exc
        return to_utc(parsed)
    raise ValueError(f"expected a date or timestamp ({EXAMPLES}), got {value!r}")


def to_utc(value: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``; midnight is written as the date alone.

    >>> format_timestamp(datetime(2026, 1, 31, tzinfo=UTC))
    '2026-01-31'
    """
    value = to_utc(value)
    if value.time() == datetime.min.time():
        return value.date().isoformat()
    return value.replace(tzinfo=None).isoformat() + "Z"
