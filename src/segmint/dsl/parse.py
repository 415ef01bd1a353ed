"""Reading a SEGMENTS.md document into a :class:`~segmint.dsl.nodes.Segment`.

The parser checks the document's structure — keys, names, operators, the
shape of each value, windows, counts — and collects every problem with its
path before raising one :class:`~segmint.errors.ValidationError`.  Whether a
field exists and whether its type fits the operator is the validator's job
(:mod:`segmint.dsl.validate`): it needs the field registry.

>>> seg = parse_segment('''
... name: fi-leads
... conditions:
...   - {field: country, op: in, value: [FI, SE]}
...   - event: page_view
...     within: 7d
...     count: {op: gte, value: 3}
... ''')
>>> seg.conditions[0]
FieldCondition(field='country', op='in', value=('FI', 'SE'), path='conditions[0]')
>>> seg.conditions[1].window
Within(duration=datetime.timedelta(days=7))
>>> parse_segment({"name": "x", "conditions": [{"event": "open", "count": {"op": "gte3", "value": 1}}]})
Traceback (most recent call last):
...
segmint.errors.ValidationError: <segment>: invalid segment
  conditions[0].count.op: unknown operator 'gte3' (expected one of eq, neq, gt, gte, lt, lte) (did you mean gte, gt?)
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final, TypeGuard

from segmint.dsl.documents import read_yaml
from segmint.dsl.durations import DurationError, parse_duration
from segmint.dsl.nodes import (
    AGGREGATE_FNS,
    ANY_EVENT,
    COUNT_OPS,
    ENTITIES,
    FIELD_OPS,
    KINDS,
    MATCHES,
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
)
from segmint.dsl.ops import FIELD_OPERATORS, FieldOperator
from segmint.dsl.timestamps import parse_timestamp
from segmint.errors import NotFoundError, Problem, ValidationError

#: a segment's name: lower-case letters, digits and '-', at most 63 characters
NAME_PATTERN: Final = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")

SEGMENT_KEYS = ("name", "title", "description", "tags", "entity", "kind", "match", "conditions", "members")
#: the keys that say what a condition is; each condition has exactly one
CONDITION_KINDS = ("field", "event", "segment", "all", "any", "not")
CONDITION_KEYS: dict[str, tuple[str, ...]] = {
    "field": ("field", "op", "value"),
    "event": ("event", "where", "within", "between_ago", "since", "until", "count", "aggregate", "first_time"),
    "segment": ("segment",),
    "all": ("all",),
    "any": ("any",),
    "not": ("not",),
}
COUNT_KEYS = ("op", "value")
AGGREGATE_KEYS = ("fn", "field", "op", "value")
SEGMENT_FILE_SUFFIXES = (".yaml", ".yml", ".json")

# YAML 1.1 booleans that YAML 1.2 (rightly) reads as strings: answered with "write true/false".
_WORDY_BOOLEANS: Final = {
    **dict.fromkeys(("yes", "y", "on"), "true"),
    **dict.fromkeys(("no", "n", "off"), "false"),
}


class _Invalid:
    """What a part that could not be read reads as (its problem is already recorded); never in a node."""


_INVALID: Final = _Invalid()
_MISSING: Final = object()


def parse_segment(source: str | Mapping[str, Any], *, origin: str = "<segment>") -> Segment:
    """The segment a YAML/JSON text (or an already-read mapping) defines.

    Every structural problem is collected; if there is any, one
    :class:`ValidationError` (``"<origin>: invalid segment"``) lists them all.
    Field names and types are not checked here: see
    :func:`segmint.dsl.validate.validate_segment`.
    """
    segment, problems = read_segment(source, origin=origin)
    if problems or segment is None:
        raise ValidationError(f"{origin}: invalid segment", problems=problems)
    return segment


def read_segment(source: str | Mapping[str, Any], *, origin: str = "<segment>") -> tuple[Segment | None, list[Problem]]:
    """The segment as far as it can be read, and every structural problem found.

    The segment leaves out what could not be read (a condition with a bad
    operator, say), so the validator can still check the rest; it is ``None``
    when the document is not a mapping at all.  :func:`parse_segment` raises
    instead of returning problems.
    """
    if isinstance(source, str):
        try:
            data = read_yaml(source, origin=origin)
        except ValidationError as exc:
            return None, exc.problems
    else:
        data = source
    reader = _Reader()
    segment = reader.segment(data)
    return segment, reader.problems


def parse_segment_file(path: str | Path, *, origin: str | None = None) -> Segment:
    """The segment defined in a ``.yaml``, ``.yml`` or ``.json`` file; problems name the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise NotFoundError(f"{path}: no such segment file") from exc
    return parse_segment(text, origin=origin or str(path))


def parse_segments_dir(path: str | Path) -> dict[str, Segment]:
    """Every segment file under a directory (recursively), by segment name, in file-name order.

    Problems from all files are reported together, each path prefixed by its
    file (``hot-leads.yaml:conditions[0].op``); two files defining the same
    name is a problem too.
    """
    root = Path(path)
    if not root.is_dir():
        raise NotFoundError(f"{root}: no such directory")
    segments: dict[str, Segment] = {}
    files: dict[str, str] = {}
    problems: list[Problem] = []
    for file in sorted(p for p in root.rglob("*") if p.suffix in SEGMENT_FILE_SUFFIXES and p.is_file()):
        rel = file.relative_to(root).as_posix()
        segment, found = read_segment(file.read_text(encoding="utf-8"), origin=rel)
        problems += [Problem(f"{rel}:{p.path}", p.message, p.suggestions) for p in found]
        if segment is None or found:
            continue
        if segment.name in segments:
            problems.append(
                Problem(f"{rel}:name", f"segment '{segment.name}' is also defined in {files[segment.name]}")
            )
            continue
        segments[segment.name] = segment
        files[segment.name] = rel
    if problems:
        raise ValidationError(f"{root}: invalid segments", problems=problems)
    return segments


def check_name(name: object) -> tuple[str, list[str]] | None:
    """``None`` for a valid segment name, else the message and suggested names.

    >>> check_name("Hot Leads!")
    ("invalid segment name 'Hot Leads!': use a-z, 0-9 and '-', starting with a letter or digit, at most 63 characters", ['hot-leads'])
    """
    if isinstance(name, str) and NAME_PATTERN.fullmatch(name):
        return None
    rules = "use a-z, 0-9 and '-', starting with a letter or digit, at most 63 characters"
    if not isinstance(name, str):
        return f"a segment name is text ({rules}), got {_describe(name)}", []
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:63].rstrip("-")
    return f"invalid segment name {name!r}: {rules}", [slug] if NAME_PATTERN.fullmatch(slug) else []


# ---- helpers ------------------------------------------------------------------------------


def join_path(path: str, key: str | int) -> str:
    """``conditions[1]`` + ``count`` -> ``conditions[1].count``; an int index gives ``[i]``.

    >>> join_path("conditions", 2), join_path("conditions[2]", "op"), join_path("", "name")
    ('conditions[2]', 'conditions[2].op', 'name')
    """
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _close(word: object, choices: Sequence[str]) -> list[str]:
    return difflib.get_close_matches(str(word), list(choices), n=3, cutoff=0.6)


def _describe(value: object) -> str:
    """A value as the document would show it, for messages."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return repr(value)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_list(value: object) -> TypeGuard[list[Any] | tuple[Any, ...]]:
    return isinstance(value, list | tuple)


class _Reader:
    """Reads one document, collecting problems instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, path: str, message: str, suggestions: Sequence[str] = ()) -> None:
        self.problems.append(Problem(path, message, list(suggestions)))

    def check_keys(self, data: Mapping[Any, Any], known: Sequence[str], path: str) -> None:
        """A problem for each key that is not ``known``, with the closest known keys."""
        for key in data:
            if key not in known:
                close = _close(key, known)
                hint = "" if close else f" (expected one of {', '.join(known)})"
                self.problem(join_path(path, str(key)), f"unknown key {str(key)!r}{hint}", close)

    def choice(
        self,
        data: Mapping[str, Any],
        key: str,
        choices: Sequence[str],
        path: str,
        label: str,
        default: object = _MISSING,
    ) -> str | None:
        """``data[key]`` if it is one of ``choices`` (or the default when absent), else a problem and ``None``."""
        value = data.get(key, default)
        if isinstance(value, str) and value in choices:
            return value
        where = join_path(path, key)
        if value is _MISSING:
            self.problem(where, f"missing {label} (one of {', '.join(choices)})")
        else:
            shown = repr(value) if isinstance(value, str) else _describe(value)
            self.problem(
                where, f"unknown {label} {shown} (expected one of {', '.join(choices)})", _close(value, choices)
            )
        return None

    def text(self, data: Mapping[str, Any], key: str, path: str) -> str | None:
        """An optional free-text value (title, description)."""
        value = data.get(key)
        if value is None or isinstance(value, str):
            return value
        self.problem(join_path(path, key), f"{key} is text, got {_describe(value)}")
        return None

    # ---- the document --------------------------------------------------------------------

    def segment(self, data: object) -> Segment | None:
        if not isinstance(data, Mapping):
            self.problem("", f"a segment is a mapping with a name and conditions (or members), got {_describe(data)}")
            return None
        self.check_keys(data, SEGMENT_KEYS, "")
        name = data.get("name", _MISSING)
        if name is _MISSING:
            self.problem("name", "missing name: every segment needs one, e.g. name: hot-leads")
        elif (bad := check_name(name)) is not None:
            self.problem("name", *bad)
        title = self.text(data, "title", "")
        description = self.text(data, "description", "")
        tags = self.tags(data.get("tags"))
        entity = self.choice(data, "entity", ENTITIES, "", "entity", default="contact")
        kind = self.choice(data, "kind", KINDS, "", "kind", default="dynamic")
        match = self.choice(data, "match", MATCHES, "", "match", default="all")
        conditions: tuple[Condition, ...] = ()
        members: tuple[str, ...] = ()
        if kind == "static":
            for key in ("conditions", "match"):
                if key in data:
                    self.problem(key, f"a static segment has members, not {key}; use kind: dynamic for {key}")
            members = self.members(data.get("members", _MISSING))
        elif kind == "dynamic":
            if "members" in data:
                self.problem("members", "only a static segment has members; a dynamic segment has conditions")
            conditions = self.conditions(data.get("conditions", _MISSING), "conditions", "a dynamic segment")
        return Segment(
            name=name if isinstance(name, str) else "",
            entity=entity or "contact",
            kind=kind or "dynamic",
            match=match or "all",
            conditions=conditions,
            members=members,
            title=title,
            description=description,
            tags=tags,
        )

    def tags(self, value: object) -> tuple[str, ...]:
        """An extension of SEGMENTS.md: optional labels that group segments (the playbook's themes)."""
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.problem("tags", f"tags is a list of words, e.g. [engagement], got {_describe(value)}")
            return ()
        return tuple(dict.fromkeys(v.strip().lower() for v in value))

    def members(self, value: object) -> tuple[str, ...]:
        """A static segment's ids: strings (integers are read as their digits); duplicates dropped."""
        if value is _MISSING or value is None:
            self.problem("members", "a static segment needs members: a list of ids (it may be empty: [])")
            return ()
        if not _is_list(value):
            self.problem("members", f"members is a list of ids, got {_describe(value)}")
            return ()
        ids: dict[str, None] = {}
        for i, item in enumerate(value):
            if isinstance(item, str) and item:
                ids[item] = None
            elif isinstance(item, int) and not isinstance(item, bool):
                ids[str(item)] = None
            else:
                self.problem(join_path("members", i), f"an id is non-empty text, got {_describe(item)}")
        return tuple(ids)

    def conditions(self, value: object, path: str, owner: str) -> tuple[Condition, ...]:
        """One or more conditions; the ones that cannot be read are left out (their problems recorded)."""
        if value is _MISSING or value is None:
            self.problem(path, f"{owner} needs conditions: a list of one or more")
            return ()
        if not _is_list(value):
            self.problem(path, f"{owner} needs a list of conditions (each starting with '- '), got {_describe(value)}")
            return ()
        if not value:
            self.problem(path, f"{owner} needs one or more conditions, got an empty list")
            return ()
        found = [self.condition(item, join_path(path, i)) for i, item in enumerate(value)]
        return tuple(c for c in found if c is not None)

    # ---- conditions -----------------------------------------------------------------------

    def condition(self, data: object, path: str) -> Condition | None:
        if not isinstance(data, Mapping):
            self.problem(
                path, f"a condition is a mapping with one of {', '.join(CONDITION_KINDS)}, got {_describe(data)}"
            )
            return None
        kinds = [key for key in CONDITION_KINDS if key in data]
        if len(kinds) == 1:
            self.check_keys(data, CONDITION_KEYS[kinds[0]], path)
            reader = getattr(self, f"{kinds[0]}_condition")
            result: Condition | None = reader(data, path)
            return result
        if kinds:
            self.problem(
                path, f"a condition has exactly one of {', '.join(CONDITION_KINDS)}; this one has {', '.join(kinds)}"
            )
            return None
        # No kind at all: most likely a misspelt one ("feild"); say so if a key is close to a kind.
        typos = {str(key): _close(key, CONDITION_KINDS) for key in data}
        typos = {key: close for key, close in typos.items() if close}
        for key, close in typos.items():
            self.problem(join_path(path, key), f"unknown key {key!r}", close)
        if not typos:
            self.problem(path, f"a condition needs one of {', '.join(CONDITION_KINDS)}")
        return None

    def field_condition(self, data: Mapping[str, Any], path: str) -> FieldCondition | None:
        name = data.get("field")
        if not isinstance(name, str) or not name:
            self.problem(join_path(path, "field"), f"a field name is non-empty text, got {_describe(name)}")
        op = self.choice(data, "op", FIELD_OPS, path, "operator")
        if op is None:
            return None
        operator = FIELD_OPERATORS[op]
        value_path = join_path(path, "value")
        value = data.get("value", _MISSING)
        if operator.shape == "none":
            normalised = self.no_value(operator, value, value_path)
        elif value is _MISSING or value is None:
            self.problem(value_path, f"{op} needs a value: {_SHAPE_WORDS[operator.shape]}")
            normalised = _INVALID
        else:
            normalised = getattr(self, f"{operator.shape}_value")(operator, value, value_path)
        if normalised is _INVALID or not isinstance(name, str) or not name:
            return None
        return FieldCondition(name, op, normalised, path)

    def event_condition(self, data: Mapping[str, Any], path: str) -> EventCondition | None:
        ok = True
        events = self.event_names(data["event"], join_path(path, "event"))
        where: tuple[FieldCondition, ...] = ()
        if "where" in data:
            where = self.where(data["where"], join_path(path, "where"))
        window = self.window(data, path)
        count = self.count(data["count"], join_path(path, "count")) if "count" in data else None
        aggregate = self.aggregate(data["aggregate"], join_path(path, "aggregate")) if "aggregate" in data else None
        if "count" in data and "aggregate" in data:
            self.problem(path, "count and aggregate cannot be used together: count the events, or aggregate a property")
            ok = False
        first_time = data.get("first_time", False)
        if not isinstance(first_time, bool):
            hint = _WORDY_BOOLEANS.get(str(first_time).lower())
            self.problem(
                join_path(path, "first_time"),
                f"first_time is true or false, got {_describe(first_time)}",
                [hint] if hint else [],
            )
            ok = False
        if (
            not ok
            or isinstance(events, _Invalid)
            or isinstance(window, _Invalid)
            or isinstance(count, _Invalid)
            or isinstance(aggregate, _Invalid)
        ):
            return None
        return EventCondition(
            events=events,
            where=where,
            window=window,
            count=count,
            aggregate=aggregate,
            first_time=first_time,
            path=path,
        )

    def segment_condition(self, data: Mapping[str, Any], path: str) -> SegmentCondition | None:
        name = data["segment"]
        if (bad := check_name(name)) is not None:
            self.problem(join_path(path, "segment"), *bad)
            return None
        return SegmentCondition(name, path)

    def all_condition(self, data: Mapping[str, Any], path: str) -> AllOf:
        return AllOf(self.conditions(data["all"], join_path(path, "all"), "all"), path)

    def any_condition(self, data: Mapping[str, Any], path: str) -> AnyOf:
        return AnyOf(self.conditions(data["any"], join_path(path, "any"), "any"), path)

    def not_condition(self, data: Mapping[str, Any], path: str) -> Not | None:
        inner = data["not"]
        if _is_list(inner):
            self.problem(
                join_path(path, "not"),
                "not takes one condition (a mapping); to negate several, put them under all or any",
            )
            return None
        condition = self.condition(inner, join_path(path, "not"))
        return Not(condition, path) if condition is not None else None

    # ---- field values, one reader per shape of SEGMENTS.md's operator table ------------------

    def no_value(self, operator: FieldOperator, value: object, path: str) -> object:
        if value is not _MISSING and value is not None:
            self.problem(path, f"{operator.name} takes no value, got {_describe(value)}")
            return _INVALID
        return None

    def scalar_value(self, operator: FieldOperator, value: object, path: str) -> object:
        scalar = _scalar(value)
        if scalar is _INVALID:
            self.problem(path, f"{operator.name} needs {_SHAPE_WORDS['scalar']}, got {_describe(value)}")
        return scalar

    def list_value(self, operator: FieldOperator, value: object, path: str) -> object:
        if not _is_list(value) or not value:
            shown = _describe(value) if not isinstance(value, str) else repr(value)
            self.problem(path, f"{operator.name} needs {_SHAPE_WORDS['list']}, got {shown}")
            return _INVALID
        items = [_scalar(item) for item in value]
        for i, item in enumerate(items):
            if item is _INVALID:
                self.problem(join_path(path, i), f"a value of {operator.name} is {_SHAPE_WORDS['scalar']}")
        return _INVALID if _INVALID in items else tuple(items)

    def ordered_value(self, operator: FieldOperator, value: object, path: str) -> object:
        ordered = _ordered(value)
        if ordered is _INVALID:
            self.problem(path, f"{operator.name} needs {_SHAPE_WORDS['ordered']}, got {_describe(value)}")
        return ordered

    def pair_value(self, operator: FieldOperator, value: object, path: str) -> object:
        if not _is_list(value) or len(value) != 2:
            self.problem(path, f"{operator.name} needs {_SHAPE_WORDS['pair']}, got {_describe(value)}")
            return _INVALID
        low, high = (_ordered(item) for item in value)
        for i, item in enumerate((low, high)):
            if item is _INVALID:
                self.problem(join_path(path, i), f"{operator.name} needs {_SHAPE_WORDS['ordered']}")
        if _INVALID in (low, high):
            return _INVALID
        if _is_number(low) and _is_number(high) and low > high:
            self.problem(path, f"between needs [low, high] with low <= high, got [{low}, {high}]", [f"[{high}, {low}]"])
            return _INVALID
        return (low, high)

    def text_value(self, operator: FieldOperator, value: object, path: str) -> object:
        if isinstance(value, str):
            return value
        quoted = [f"'{value}'"] if _is_number(value) else []
        self.problem(path, f"{operator.name} needs {_SHAPE_WORDS['text']}, got {_describe(value)}", quoted)
        return _INVALID

    def duration_value(self, operator: FieldOperator, value: object, path: str) -> object:
        return self.duration(value, path)

    def duration(self, value: object, path: str) -> timedelta | _Invalid:
        try:
            return parse_duration(value)
        except DurationError as exc:
            self.problem(path, exc.message, exc.problems[0].suggestions if exc.problems else [])
            return _INVALID

    # ---- event conditions -------------------------------------------------------------------

    def event_names(self, value: object, path: str) -> tuple[str, ...] | _Invalid | None:
        if value == ANY_EVENT:
            return None
        if isinstance(value, str) and value:
            return (value,)
        if _is_list(value) and value and all(isinstance(v, str) and v and v != ANY_EVENT for v in value):
            return tuple(value)
        self.problem(
            path, f"event is a name, a list of one or more names, or '*' for every event; got {_describe(value)}"
        )
        return _INVALID

    def where(self, value: object, path: str) -> tuple[FieldCondition, ...]:
        if not _is_list(value) or not value:
            self.problem(path, f"where is a list of one or more field conditions, got {_describe(value)}")
            return ()
        found: list[FieldCondition] = []
        for i, item in enumerate(value):
            item_path = join_path(path, i)
            if not isinstance(item, Mapping) or "field" not in item:
                self.problem(item_path, f"a where condition is {{field, op, value}}, got {_describe(item)}")
                continue
            self.check_keys(item, CONDITION_KEYS["field"], item_path)
            condition = self.field_condition(item, item_path)
            if condition is not None:
                found.append(condition)
        return tuple(found)

    def window(self, data: Mapping[str, Any], path: str) -> Window | _Invalid | None:
        given = [key for key in ("within", "between_ago") if key in data]
        if "since" in data or "until" in data:
            given.append("since/until")
        if len(given) > 1:
            self.problem(path, f"one window at most (within, between_ago, or since/until), got {' and '.join(given)}")
            return _INVALID
        if "within" in data:
            duration = self.duration(data["within"], join_path(path, "within"))
            return duration if isinstance(duration, _Invalid) else Within(duration)
        if "between_ago" in data:
            return self.between_ago(data["between_ago"], join_path(path, "between_ago"))
        if "since" in data or "until" in data:
            return self.absolute(data, path)
        return None

    def between_ago(self, value: object, path: str) -> BetweenAgo | _Invalid:
        if not _is_list(value) or len(value) != 2:
            self.problem(path, f"between_ago is [D1, D2] with D1 > D2, e.g. [30d, 7d]; got {_describe(value)}")
            return _INVALID
        older, newer = (self.duration(item, join_path(path, i)) for i, item in enumerate(value))
        if isinstance(older, _Invalid) or isinstance(newer, _Invalid):
            return _INVALID
        if older <= newer:
            given = list(value)
            self.problem(
                path,
                f"between_ago is [D1, D2] with D1 > D2 (D1 longer ago), got [{given[0]}, {given[1]}]",
                [f"[{given[1]}, {given[0]}]"] if older != newer else [],
            )
            return _INVALID
        return BetweenAgo(older, newer)

    def absolute(self, data: Mapping[str, Any], path: str) -> Absolute | _Invalid:
        bounds: dict[str, datetime | None] = {}
        for key in ("since", "until"):
            value = data.get(key)
            bounds[key] = None
            if value is None:
                continue
            try:
                bounds[key] = parse_timestamp(value)
            except ValueError as exc:
                self.problem(join_path(path, key), f"{key}: {exc}")
                return _INVALID
        since, until = bounds["since"], bounds["until"]
        if since is None and until is None:
            self.problem(path, "since/until needs a date or timestamp")
            return _INVALID
        if since is not None and until is not None and since > until:
            self.problem(join_path(path, "until"), f"until ({data['until']}) is before since ({data['since']})")
            return _INVALID
        return Absolute(since, until)

    def count(self, value: object, path: str) -> Count | _Invalid:
        if not isinstance(value, Mapping):
            self.problem(path, f"count is {{op, value}}, e.g. {{op: gte, value: 3}}; got {_describe(value)}")
            return _INVALID
        self.check_keys(value, COUNT_KEYS, path)
        op = self.choice(value, "op", COUNT_OPS, path, "operator")
        number = value.get("value", _MISSING)
        if not isinstance(number, int) or isinstance(number, bool) or number < 0:
            self.problem(join_path(path, "value"), f"a count is a whole number, 0 or more; got {_describe(number)}")
            return _INVALID
        return _INVALID if op is None else Count(op, number)

    def aggregate(self, value: object, path: str) -> Aggregate | _Invalid:
        if not isinstance(value, Mapping):
            self.problem(
                path,
                f"aggregate is {{fn, field, op, value}}, e.g. {{fn: sum, field: amount, op: gte, value: 1000}}; got {_describe(value)}",
            )
            return _INVALID
        self.check_keys(value, AGGREGATE_KEYS, path)
        fn = self.choice(value, "fn", AGGREGATE_FNS, path, "function")
        name = value.get("field")
        if not isinstance(name, str) or not name:
            self.problem(
                join_path(path, "field"), f"aggregate needs the field to {fn or 'aggregate'}, got {_describe(name)}"
            )
        op = self.choice(value, "op", COUNT_OPS, path, "operator")
        number = value.get("value", _MISSING)
        if not _is_number(number):
            self.problem(join_path(path, "value"), f"aggregate compares with a number, got {_describe(number)}")
            return _INVALID
        if fn is None or op is None or not isinstance(name, str) or not name:
            return _INVALID
        return Aggregate(fn, name, op, number)


#: how each value shape is described in messages
_SHAPE_WORDS: dict[str, str] = {
    "scalar": "one value (text, a number, true/false or a date)",
    "list": "a list of one or more values, e.g. [FI, SE]",
    "ordered": "a number, a date or a timestamp",
    "pair": "[low, high], e.g. [50, 500]",
    "text": "text (quote numbers: '123')",
    "duration": "a duration, e.g. 90m, 1h, 30d, 2w",
    "none": "no value",
}


def _scalar(value: object) -> object:
    """A scalar as stored: text, bool, finite number, or an aware UTC datetime (from a date/datetime object)."""
    if isinstance(value, str | bool) or _is_number(value):
        return value
    if isinstance(value, datetime | date):
        return parse_timestamp(value)
    return _INVALID


def _ordered(value: object) -> object:
    """A value that can be compared: a number, or a date/timestamp (as text until the validator knows the type)."""
    if isinstance(value, bool):
        return _INVALID
    if isinstance(value, str) or _is_number(value):
        return value
    if isinstance(value, datetime | date):
        return parse_timestamp(value)
    return _INVALID
