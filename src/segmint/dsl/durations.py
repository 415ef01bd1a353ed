"""Durations as SEGMENTS.md writes them: an integer and a unit.

The units are ``m`` minutes, ``h`` hours, ``d`` days and ``w`` weeks; there
are no months or years, because they have no fixed length (write ``365d``).

>>> parse_duration("2w")
datetime.timedelta(days=14)
>>> format_duration(parse_duration("90m"))
'90m'
>>> format_duration(parse_duration("2w"))
'14d'
"""

from __future__ import annotations

import re
from datetime import timedelta

from segmint.errors import Problem, ValidationError

#: unit letter -> its length; the only units SEGMENTS.md knows
UNITS: dict[str, timedelta] = {
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}

#: the units format_duration writes, largest first (days, not weeks, as SEGMENTS.md's examples do)
_FORMAT_UNITS = ("d", "h", "m")

_DURATION = re.compile(r"([0-9]+)([mhdw])")
# Months and years people write out of habit, each with its length in days for the suggestion.
_CALENDAR = re.compile(r"([0-9]+)\s*(mo|mon|mons|month|months|y|yr|yrs|year|years|M|Y)")
_CALENDAR_DAYS = {"y": 365, "yr": 365, "yrs": 365, "year": 365, "years": 365, "Y": 365}

EXAMPLES = "e.g. 90m, 1h, 30d, 2w"


class DurationError(ValidationError):
    """A duration is not an integer followed by one of the units m, h, d, w."""

    code = "invalid_duration"


def parse_duration(text: object) -> timedelta:
    """Read ``90m``, ``1h``, ``30d`` or ``2w`` as a :class:`~datetime.timedelta`.

    Anything else raises :class:`DurationError`, whose ``message`` says what to
    write instead (months and years are answered with days).

    >>> parse_duration("30d")
    datetime.timedelta(days=30)
    >>> try:
    ...     parse_duration("1y")
    ... except DurationError as exc:
    ...     print(exc.message, exc.problems[0].suggestions)
    invalid duration '1y': no months or years, write days (e.g. 90d or 365d) ['365d']
    """
    if isinstance(text, str):
        found = _DURATION.fullmatch(text)
        if found:
            return int(found.group(1)) * UNITS[found.group(2)]
        calendar = _CALENDAR.fullmatch(text.strip())
        if calendar:
            days = int(calendar.group(1)) * _CALENDAR_DAYS.get(calendar.group(2), 30)
            message = f"invalid duration {text!r}: no months or years, write days (e.g. 90d or 365d)"
            raise DurationError(message, problems=[Problem("", message, [f"{days}d"])])
        suggestion = text.strip().lower().replace(" ", "")
        suggestions = [suggestion] if suggestion != text and _DURATION.fullmatch(suggestion) else []
        message = f"invalid duration {text!r}: write an integer and a unit m, h, d or w ({EXAMPLES})"
        raise DurationError(message, problems=[Problem("", message, suggestions)])
    message = f"invalid duration {text!r}: write an integer and a unit m, h, d or w ({EXAMPLES})"
    suggestions = [f"{text}d"] if isinstance(text, int) and not isinstance(text, bool) and text >= 0 else []
    raise DurationError(message, problems=[Problem("", message, suggestions)])


def format_duration(duration: timedelta) -> str:
    """Write a duration in the largest of the units d, h, m that divides it exactly.

    Days are preferred to weeks (``14d``, not ``2w``) because SEGMENTS.md's
    own examples count in days; both read back as the same duration.

    >>> format_duration(timedelta(hours=36))
    '36h'
    >>> format_duration(timedelta(0))
    '0d'
    """
    if duration < timedelta(0) or duration % UNITS["m"]:
        raise ValueError(f"{duration!r} is not a whole, non-negative number of minutes")
    for unit in _FORMAT_UNITS:
        if duration % UNITS[unit] == timedelta(0):
            return f"{duration // UNITS[unit]}{unit}"
    raise AssertionError("unreachable: every whole number of minutes has a unit")
