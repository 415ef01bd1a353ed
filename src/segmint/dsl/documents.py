"""Reading and writing segment documents as YAML 1.2 (JSON is a subset).

SEGMENTS.md: "Values are read as YAML 1.2 would read them: ``NO``, ``yes``
and ``off`` are strings, and an unquoted ``2026-01-01`` is the string of a
date, never a boolean or a parser-specific date object."  ruamel.yaml in 1.2
mode already reads ``NO`` as a string, but it still turns ``2026-01-01`` into
a ``datetime.date`` (its timestamp resolver applies to 1.1 and 1.2 alike).
So documents are read with a resolver holding exactly the YAML 1.2 core
schema: null, booleans, integers and floats; every other plain scalar is a
string.

>>> read_yaml("a: NO\\nb: 2026-01-01\\nc: 0x1F\\nd: ~\\ne: 1.5e3\\nf: True")
{'a': 'NO', 'b': '2026-01-01', 'c': 31, 'd': None, 'e': 1500.0, 'f': True}
"""

from __future__ import annotations

import io
import re
from typing import Any, Final

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.representer import SafeRepresenter
from ruamel.yaml.resolver import BaseResolver, implicit_resolvers

from segmint.errors import Problem, ValidationError

# The YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution):
# (tag, pattern, the characters a matching scalar can start with).
_CORE_SCHEMA: tuple[tuple[str, str, str], ...] = (
    ("tag:yaml.org,2002:null", r"~|null|Null|NULL|", "~nN"),
    ("tag:yaml.org,2002:bool", r"true|True|TRUE|false|False|FALSE", "tTfF"),
    ("tag:yaml.org,2002:int", r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
        "-+0123456789.",
    ),
)


class Yaml12CoreResolver(BaseResolver):
    """A ruamel.yaml resolver for exactly the YAML 1.2 core schema (no timestamps, no 1.1 booleans)."""

    def __init__(self, version: Any = None, loader: Any = None, loadumper: Any = None) -> None:
        # ruamel.yaml passes the YAML version; the core schema is the same for every document.
        super().__init__(loadumper if loadumper is not None else loader)

    @property
    def processing_version(self) -> tuple[int, int]:
        """The scanner, parser and constructors ask; every document is read as YAML 1.2."""
        return (1, 2)


for _tag, _pattern, _first in _CORE_SCHEMA:
    # The empty scalar (a key with nothing after it) is null: first character "".
    _starts = [*_first, ""] if _tag.endswith(":null") else list(_first)
    Yaml12CoreResolver.add_implicit_resolver_base(_tag, re.compile(rf"^(?:{_pattern})$"), _starts)


class _CautiousResolver(Yaml12CoreResolver):
    """For writing: quote every string that a YAML 1.1 *or* 1.2 reader would take for something else."""


for _rule in implicit_resolvers:
    _CautiousResolver.add_implicit_resolver_base(*_rule[1:])


def _yaml(resolver: type[BaseResolver] = Yaml12CoreResolver) -> YAML:
    # A fresh instance per call: ruamel.yaml objects are not safe to share between threads.
    yaml = YAML(typ="safe", pure=True)
    yaml.Resolver = resolver
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]  # keep the document order
    yaml.allow_unicode = True
    return yaml


def read_yaml(text: str, *, origin: str = "<segment>") -> Any:
    """The data of one YAML 1.2 (or JSON) document, read with the core schema only.

    A syntax error or a duplicate key raises :class:`ValidationError` with the
    line and column.
    """
    try:
        return _yaml().load(text)
    except YAMLError as exc:
        raise ValidationError(f"{origin}: not valid YAML", problems=[_yaml_problem(exc)]) from exc


def dump_yaml(data: Any) -> str:
    """YAML text that :func:`read_yaml` reads back as ``data``.

    Strings that any YAML reader could take for a date, a boolean or a number
    are quoted, so the file means the same in other tools too.

    >>> print(dump_yaml({"value": ["2026-01-01", "NO", "FI"]}), end="")
    value:
    - '2026-01-01'
    - 'NO'
    - FI
    """
    stream = io.StringIO()
    yaml = _yaml(_CautiousResolver)
    yaml.Representer = _Representer
    yaml.dump(data, stream)
    return stream.getvalue()


# Characters ruamel.yaml's reader treats as line breaks (YAML 1.1) inside plain and single-quoted text.
_OLD_LINE_BREAKS: Final = frozenset("\x85\u2028\u2029")


def _represent_str(representer: Any, text: str) -> Any:
    # Double quotes escape them (\N, \L, \P), so they survive the round trip.
    style = '"' if _OLD_LINE_BREAKS.intersection(text) else None
    return representer.represent_scalar("tag:yaml.org,2002:str", text, style=style)


class _Representer(SafeRepresenter):
    """The safe representer, with strings holding old-style line breaks double-quoted."""


_Representer.add_representer(str, _represent_str)


def _yaml_problem(exc: YAMLError) -> Problem:
    if isinstance(exc, MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}"
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        return Problem("", f"not valid YAML at {where}: {what}")
    return Problem("", f"not valid YAML: {exc}")
