"""Stored segment definitions: apply (all or nothing), read, resolve, delete.

A definition is stored as the JSON of its SEGMENTS.md document.  Applying a
set of definitions validates all of them together (against the field
registry, the stored segments and each other) and stores none unless every
one is valid.  Static segments keep their members as surrogate keys in
``segment_static_members``.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
from sqlglot import exp

from segmint.dsl import Segment, parse_segment, parse_segment_file, parse_segments_dir
from segmint.dsl.parse import SEGMENT_FILE_SUFFIXES, read_segment
from segmint.dsl.validate import check_segment, validate_segments
from segmint.errors import NotFoundError, Problem, ValidationError
from segmint.model.tables import COMPANIES, CONTACTS, SEGMENTS, STATIC_MEMBERS
from segmint.store.store import Store


@dataclass
class ApplyResult:
    """What ``apply`` did, by segment name."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _now() -> pa.Array:
    return pa.array([datetime.now(UTC)], pa.timestamp("us", tz="UTC"))


_STORED = f"SELECT name, definition FROM {SEGMENTS.name} ORDER BY name"  # plain SQL every engine reads


def stored_segments(store: Store) -> dict[str, Segment]:
    """Every stored definition, validated and normalised (timestamps as datetimes)."""
    rows = store.engine.query(_STORED).to_pylist()
    if not rows:
        return {}
    # Parsing and validating every definition costs far more than reading them (a playbook of 91
    # segments: about 100 ms), and every compile needs them all: keep the result while the stored
    # text and the field registry are the same.
    source = tuple((r["name"], r["definition"]) for r in rows)
    registry = store.registry()
    cached = store.definitions_cache
    if cached is not None and cached[0] == source and cached[1] is registry:
        return dict(cached[2])
    parsed = {r["name"]: parse_segment(json.loads(r["definition"]), origin=f"segment {r['name']}") for r in rows}
    checked = validate_segments(parsed, registry)
    store.definitions_cache = (source, registry, checked)
    return dict(checked)


def read_definitions(source: str | Path) -> dict[str, Segment]:
    """Parse a file or a folder of YAML/JSON definitions (not yet checked against a store)."""
    path = Path(source)
    if path.is_dir():
        return parse_segments_dir(path)
    segment = parse_segment_file(path)
    return {segment.name: segment}


def check_definitions(store: Store, source: str | Path) -> dict[str, Segment]:
    """Parse and validate a file or folder against this store: every problem of every file at once.

    A file that is not well formed is still checked as far as it could be
    read, so a typo in a field name is reported alongside a broken operator.
    """
    path = Path(source)
    if not path.exists():
        raise NotFoundError(f"{path}: no such segment file or folder")
    files = (
        sorted(p for p in path.rglob("*") if p.suffix.lower() in SEGMENT_FILE_SUFFIXES and p.is_file())
        if path.is_dir()
        else [path]
    )
    problems: list[Problem] = []
    partial: dict[str, tuple[str, Segment, bool]] = {}
    for file in files:
        label = file.relative_to(path).as_posix() if path.is_dir() else file.name
        segment, found = read_segment(file.read_text(encoding="utf-8"), origin=label)
        problems += [Problem(f"{label}:{p.path}", p.message, p.suggestions) for p in found]
        if segment is None:
            continue
        if segment.name in partial:
            problems.append(
                Problem(f"{label}:name", f"segment '{segment.name}' is also defined in {partial[segment.name][0]}")
            )
            continue
        entity_ok = not any(p.path == "entity" for p in found)
        partial[segment.name] = (label, segment, entity_ok)
    combined = {**stored_segments(store), **{name: seg for name, (_, seg, _) in partial.items()}}
    registry = store.registry()
    checked: dict[str, Segment] = {}
    for name, (label, segment, entity_ok) in partial.items():
        if not entity_ok:
            continue
        result, found = check_segment(segment, registry, combined)
        problems += [Problem(f"{label}:{p.path}", p.message, p.suggestions) for p in found]
        checked[name] = result
    if problems:
        raise ValidationError(f"{path}: invalid segment definitions, nothing was stored", problems=problems)
    return checked


def check_segments(store: Store, new: dict[str, Segment]) -> dict[str, Segment]:
    """Validate parsed definitions together with the stored ones; every problem at once."""
    combined = {**stored_segments(store), **new}
    validated = validate_segments(combined, store.registry())
    return {name: validated[name] for name in new}


def resolve_segment(store: Store, source: str) -> Segment:
    """A definition from a file (validated against this store) or a stored segment's name."""
    path = Path(source)
    if path.suffix.lower() in SEGMENT_FILE_SUFFIXES or path.exists():
        return next(iter(check_definitions(store, path).values()))
    stored = stored_segments(store)
    if source not in stored:
        close = difflib.get_close_matches(source, list(stored), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise NotFoundError(f"no segment named '{source}'{hint}; give a stored name or a YAML file")
    return stored[source]


def _member_keys(store: Store, segment: Segment, ids: Iterable[str]) -> tuple[list[int], list[str]]:
    """Keys of the given member ids, and the ids the store does not know."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return [], []
    table = COMPANIES if segment.entity == "company" else CONTACTS
    assert table.id_column is not None
    assert table.key_column is not None
    rows = store.engine.query(
        exp.select(table.key_column, table.id_column)
        .from_(table.name)
        .where(exp.column(table.id_column).isin(*(exp.Literal.string(i) for i in ids)))
    ).to_pylist()
    found = {r[table.id_column]: int(r[table.key_column]) for r in rows}
    return [found[i] for i in ids if i in found], [i for i in ids if i not in found]


def apply_segments(store: Store, segments: dict[str, Segment]) -> ApplyResult:
    """Store or update definitions: all of them, or (if any is invalid) none."""
    checked = check_segments(store, segments)
    problems: list[Problem] = []
    static_keys: dict[str, list[int]] = {}
    for name, segment in checked.items():
        if segment.kind == "static":
            keys, unknown = _member_keys(store, segment, segment.members)
            if unknown:
                problems.append(Problem(f"{name}.members", f"unknown {segment.entity} ids: {', '.join(unknown[:10])}"))
            static_keys[name] = keys
    if problems:
        raise ValidationError("segments not applied: nothing was stored", problems=problems)
    stored = {
        r["name"]: r["definition"]
        for r in store.engine.query(exp.select("name", "definition").from_(SEGMENTS.name)).to_pylist()
    }
    result = ApplyResult()
    engine = store.engine
    with engine.transaction():
        for name, segment in sorted(checked.items()):
            document = json.dumps(segment.to_dict(), sort_keys=True, ensure_ascii=False)
            if stored.get(name) == document:
                result.unchanged.append(name)
                continue
            (result.updated if name in stored else result.created).append(name)
            created_at = None
            if name in stored:
                created_at = engine.scalar(
                    exp.select("created_at").from_(SEGMENTS.name).where(exp.column("name").eq(exp.Literal.string(name)))
                )
                engine.delete_where(SEGMENTS.name, _is_segment("name", name))
            now = _now()
            engine.load_arrow(
                SEGMENTS.name,
                pa.table(
                    {
                        "name": [name],
                        "entity": [segment.entity],
                        "kind": [segment.kind],
                        "title": pa.array([segment.title], pa.string()),
                        "definition": [document],
                        "created_at": pa.array([created_at], pa.timestamp("us", tz="UTC")) if created_at else now,
                        "updated_at": now,
                    }
                ),
            )
            if segment.kind == "static":
                replace_static_members(store, name, static_keys[name])
    return result


def _is_segment(column: str, name: str) -> str:
    return exp.column(column).eq(exp.Literal.string(name)).sql()


def replace_static_members(store: Store, name: str, keys: list[int]) -> None:
    """Make ``keys`` the members of static segment ``name`` (call inside a transaction)."""
    engine = store.engine
    engine.delete_where(STATIC_MEMBERS.name, _is_segment("segment", name))
    if keys:
        engine.load_arrow(
            STATIC_MEMBERS.name,
            pa.table(
                {
                    "segment": [name] * len(keys),
                    "member_key": pa.array(sorted(set(keys)), pa.int64()),
                    "added_at": pa.array([datetime.now(UTC)] * len(set(keys)), pa.timestamp("us", tz="UTC")),
                }
            ),
        )


def static_member_ids(store: Store, segment: Segment) -> list[str]:
    table = COMPANIES if segment.entity == "company" else CONTACTS
    assert table.id_column is not None
    assert table.key_column is not None
    rows = store.engine.query(
        exp.select(exp.column(table.id_column, table="t"))
        .from_(exp.to_table(STATIC_MEMBERS.name).as_("m"))
        .join(
            exp.to_table(table.name).as_("t"),
            on=exp.column(table.key_column, table="t").eq(exp.column("member_key", table="m")),
        )
        .where(exp.column("segment", table="m").eq(exp.Literal.string(segment.name)))
        .order_by(exp.column(table.id_column, table="t"))
    ).to_pylist()
    return [r[table.id_column] for r in rows]


def change_static_members(store: Store, name: str, *, add: Iterable[str] = (), remove: Iterable[str] = ()) -> list[str]:
    """Add or remove members of a static segment by id; returns its members after."""
    segment = resolve_segment(store, name)
    if segment.kind != "static":
        raise ValidationError(
            f"segment '{name}' is dynamic: its members follow its conditions; only static segments take add and remove"
        )
    members = set(static_member_ids(store, segment))
    _, unknown = _member_keys(store, segment, add)
    if unknown:
        raise NotFoundError(f"unknown {segment.entity} ids: {', '.join(unknown[:10])}")
    members = (members | set(add)) - set(remove)
    return _store_static(store, segment, sorted(members))


def _store_static(store: Store, segment: Segment, ids: list[str]) -> list[str]:
    updated = replace(segment, members=tuple(ids))
    apply_segments(store, {segment.name: updated})
    return ids


def snapshot_segment(store: Store, name: str, source: str, *, as_of: datetime) -> list[str]:
    """Make static segment ``name`` hold the current members of ``source`` (created if new)."""
    from segmint.segments.evaluate import segment_members

    other = resolve_segment(store, source)
    ids = segment_members(store, other, as_of=as_of).column("member_id").to_pylist()
    existing = stored_segments(store).get(name)
    if existing is not None and existing.kind != "static":
        raise ValidationError(f"segment '{name}' is dynamic; a snapshot goes into a static segment")
    base = existing or Segment(
        name, entity=other.entity, kind="static", title=f"Snapshot of {other.name} at {as_of:%Y-%m-%d %H:%M} UTC"
    )
    return _store_static(store, base, sorted(ids))


def delete_segment(store: Store, name: str) -> None:
    """Delete a definition; refused while another segment refers to it."""
    stored = stored_segments(store)
    if name not in stored:
        raise NotFoundError(f"no segment named '{name}'")
    users = sorted(n for n, s in stored.items() if name in s.dependencies())
    if users:
        raise ValidationError(f"segment '{name}' is used by {', '.join(users)}; change those first")
    with store.engine.transaction():
        store.engine.delete_where(SEGMENTS.name, _is_segment("name", name))
        store.engine.delete_where(STATIC_MEMBERS.name, _is_segment("segment", name))
