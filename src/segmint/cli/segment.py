"""``segmint segment …`` and ``segmint refresh``: segments as code, from the command line."""

from __future__ import annotations

import csv
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.table import Table
from sqlglot import exp

from segmint.cli.common import DbOption, SegmintTyper, console, store_from
from segmint.compile import MEMBER_ID
from segmint.dsl import explain_segment
from segmint.dsl.timestamps import parse_timestamp
from segmint.errors import UsageError
from segmint.model.tables import SEGMENT_MEMBERS, SEGMENT_REFRESHES, SEGMENTS, STATIC_MEMBERS
from segmint.segments import (
    apply_segments,
    change_static_members,
    refresh_all,
    resolve_segment,
    segment_history,
    segment_members,
    segment_sql,
    snapshot_segment,
    stored_segments,
)
from segmint.segments.definitions import check_definitions
from segmint.segments.evaluate import compiler, now_utc
from segmint.segments.explain import explain_member
from segmint.store.profiles import find_contact_key
from segmint.store.store import Store

app = SegmintTyper(help="Define, inspect and evaluate segments (SEGMENTS.md).", no_args_is_help=True)

Source = Annotated[str, typer.Argument(help="A segment YAML/JSON file, or a stored segment's name.")]
AsOf = Annotated[
    str | None,
    typer.Option("--as-of", help="Evaluate at this instant (ISO 8601; a date is midnight UTC). Default: now."),
]


def as_of_value(text: str | None) -> datetime:
    """The --as-of option as an aware UTC datetime."""
    if text is None:
        return now_utc()
    try:
        return parse_timestamp(text)
    except ValueError as exc:
        raise UsageError(f"--as-of: {exc}") from exc


@app.command("validate")
def validate(
    path: Annotated[Path, typer.Argument(help="A segment file or a folder of them.")],
    db: DbOption = None,
) -> None:
    """Check definitions against the store's fields and segments; report every problem at once."""
    with store_from(db) as store:
        checked = check_definitions(store, path)
    for name, segment in checked.items():
        console.print(f"valid: {name} ({segment.kind} {segment.entity} segment)")


@app.command("apply")
def apply(
    path: Annotated[Path, typer.Argument(help="A segment file or a folder of them.")],
    db: DbOption = None,
) -> None:
    """Store or update definitions: all of them, or none if any is invalid."""
    with store_from(db) as store:
        result = apply_segments(store, check_definitions(store, path))
    for label, names in (("created", result.created), ("updated", result.updated), ("unchanged", result.unchanged)):
        for name in names:
            console.print(f"{label}: {name}")


@app.command("list")
def list_segments(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    db: DbOption = None,
) -> None:
    """Every segment: kind, members, last refresh and the change it brought."""
    with store_from(db) as store:
        rows = segment_overview(store)
    if as_json:
        typer.echo(json.dumps(rows, default=str, indent=2))
        return
    table = Table(title="segments", title_justify="left")
    for col in ("name", "kind", "entity", "members", "last refresh", "change"):
        table.add_column(col, justify="right" if col == "members" else "left")
    for r in rows:
        change = f"+{r['entered']} −{r['exited']}" if r["last_refresh"] else ""
        members = "" if r["members"] is None else f"{r['members']:,}"
        table.add_row(r["name"], r["kind"], r["entity"], members, str(r["last_refresh"] or "never")[:19], change)
    console.print(table)


def segment_overview(store: Store) -> list[dict[str, Any]]:
    """Rows of ``segment list``: members after the last refresh (static: the list)."""
    engine = store.engine
    segments = engine.query(exp.select("name", "kind", "entity").from_(SEGMENTS.name).order_by("name")).to_pylist()
    sizes = {
        r["segment"]: r["n"]
        for table in (SEGMENT_MEMBERS.name, STATIC_MEMBERS.name)
        for r in engine.query(
            exp.select("segment", exp.Count(this=exp.Star()).as_("n")).from_(table).group_by("segment")
        ).to_pylist()
    }
    last = {
        r["segment"]: r
        for r in engine.query(
            exp.select("segment", "as_of", "entered", "exited", "refresh_id")
            .from_(SEGMENT_REFRESHES.name)
            .order_by("refresh_id")
        ).to_pylist()
    }
    rows = []
    for s in segments:
        refreshed = last.get(s["name"])
        size = sizes.get(s["name"], 0) if (s["kind"] == "static" or refreshed) else None
        rows.append(
            {
                "name": s["name"],
                "kind": s["kind"],
                "entity": s["entity"],
                "members": size,
                "last_refresh": refreshed["as_of"] if refreshed else None,
                "entered": refreshed["entered"] if refreshed else 0,
                "exited": refreshed["exited"] if refreshed else 0,
            }
        )
    return rows


@app.command("count")
def count(source: Source, as_of: AsOf = None, db: DbOption = None) -> None:
    """Print only the number of members."""
    with store_from(db) as store:
        segment = resolve_segment(store, source)
        typer.echo(segment_members(store, segment, as_of=as_of_value(as_of)).num_rows)


@app.command("members")
def members(
    source: Source,
    as_of: AsOf = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "csv",
    fields: Annotated[
        str | None, typer.Option("--fields", help="More fields to print, e.g. email,company.name.")
    ] = None,
    db: DbOption = None,
) -> None:
    """The members, sorted by id: CSV with contact_id (or company_id) first."""
    if fmt not in ("csv", "jsonl"):
        raise UsageError(f"--format: '{fmt}' is not csv or jsonl")
    with store_from(db) as store:
        segment = resolve_segment(store, source)
        extra = [f.strip() for f in fields.split(",") if f.strip()] if fields else []
        rows, header = member_rows(store, segment, as_of_value(as_of), extra)
    write_rows(rows, header, fmt)


def member_rows(
    store: Store, segment: Any, as_of: datetime, fields: list[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Members with the requested fields, sorted by id."""
    registry = store.registry()
    id_name = "company_id" if segment.entity == "company" else "contact_id"
    resolved = [registry.get(segment.entity, name, path=f"--fields {name}") for name in fields]
    query = compiler(store, as_of=as_of, extra=segment).compile(segment, fields=resolved)
    query = exp.select(
        exp.column(MEMBER_ID).as_(id_name), *(exp.column(f"f_{i}") for i in range(1, len(resolved) + 1))
    ).from_(query.subquery("m"))
    query = query.order_by(exp.column(id_name))
    result = store.engine.query(query)
    header = [id_name, *fields]
    rows = [dict(zip(header, values.values(), strict=True)) for values in result.to_pylist()]
    return rows, header


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def write_rows(rows: list[dict[str, Any]], header: list[str], fmt: str, out: IO[str] | None = None) -> None:
    """CSV (header first) or JSON Lines (on stdout); timestamps ISO 8601, the same on every engine."""
    out = out or sys.stdout
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps({k: _cell(v) for k, v in row.items()}, ensure_ascii=False, default=str) + "\n")
        return
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if row[h] is None else _cell(row[h]) for h in header])


@app.command("explain")
def explain(
    source: Source,
    contact: Annotated[
        str | None, typer.Option("--contact", help="Check each condition for this contact (id or email).")
    ] = None,
    as_of: AsOf = None,
    db: DbOption = None,
) -> None:
    """The definition in plain language; with --contact, whether each condition holds and why."""
    with store_from(db) as store:
        segment = resolve_segment(store, source)
        console.print(explain_segment(segment, store.registry()), markup=False)
        if contact is None:
            return
        when = as_of_value(as_of)
        key = find_contact_key(store, contact)
        checks = explain_member(store, segment, key, as_of=when)
        member = segment_members(store, segment, as_of=when, keys=[key]).num_rows > 0
    console.print(f"\n{contact} {'IS' if member else 'is NOT'} a member at {when.isoformat()}:", markup=False)
    for check in checks:
        mark = "✓" if check.holds else "✗"
        seen = f"  [{check.seen}]" if check.seen else ""
        console.print(f"{'  ' * check.depth}{mark} {check.text}{seen}", markup=False)


@app.command("sql")
def sql(
    source: Source,
    engine: Annotated[str, typer.Option("--engine", help="duckdb, postgres or spark.")] = "duckdb",
    as_of: AsOf = None,
    db: DbOption = None,
) -> None:
    """The SQL an engine runs for the segment (cutoffs computed for --as-of)."""
    with store_from(db) as store:
        segment = resolve_segment(store, source)
        typer.echo(segment_sql(store, segment, engine=engine, as_of=as_of_value(as_of)))


@app.command("diff")
def diff(
    path: Annotated[Path, typer.Argument(help="A segment file whose name is stored.")],
    as_of: AsOf = None,
    db: DbOption = None,
) -> None:
    """Dry run: who would enter and who would leave if this definition replaced the stored one."""
    when = as_of_value(as_of)
    with store_from(db) as store:
        new = next(iter(check_definitions(store, path).values()))
        old = stored_segments(store).get(new.name)
        before = set(segment_members(store, old, as_of=when).column(MEMBER_ID).to_pylist()) if old else set()
        after = set(segment_members(store, new, as_of=when).column(MEMBER_ID).to_pylist())
    entering, leaving = sorted(after - before), sorted(before - after)
    console.print(
        f"{new.name}: {len(before):,} now, {len(after):,} with this definition "
        f"(+{len(entering):,} entering, −{len(leaving):,} leaving)"
    )
    for label, ids in (("enter", entering), ("leave", leaving)):
        for member in ids[:20]:
            console.print(f"  {label}: {member}")
        if len(ids) > 20:
            console.print(f"  … {len(ids) - 20:,} more would {label}")


@app.command("snapshot")
def snapshot(
    name: Annotated[str, typer.Argument(help="The static segment to fill (created if new).")],
    source: Annotated[str, typer.Option("--from", help="The segment whose members to copy.")],
    as_of: AsOf = None,
    db: DbOption = None,
) -> None:
    """Freeze another segment's current members into a static segment."""
    with store_from(db) as store:
        ids = snapshot_segment(store, name, source, as_of=as_of_value(as_of))
    console.print(f"{name}: {len(ids):,} members")


@app.command("add")
def add(name: str, ids: Annotated[list[str], typer.Argument(help="Member ids.")], db: DbOption = None) -> None:
    """Add members to a static segment."""
    with store_from(db) as store:
        result = change_static_members(store, name, add=ids)
    console.print(f"{name}: {len(result):,} members")


@app.command("remove")
def remove(name: str, ids: Annotated[list[str], typer.Argument(help="Member ids.")], db: DbOption = None) -> None:
    """Remove members from a static segment."""
    with store_from(db) as store:
        result = change_static_members(store, name, remove=ids)
    console.print(f"{name}: {len(result):,} members")


@app.command("history")
def history(name: str, db: DbOption = None) -> None:
    """Size, entries and exits of a segment at each refresh."""
    with store_from(db) as store:
        resolve_segment(store, name)
        rows = segment_history(store, name)
    table = Table(title=f"history of {name}", title_justify="left")
    for col in ("refresh", "as_of", "size", "entered", "exited"):
        table.add_column(col, justify="left" if col == "as_of" else "right")
    for r in rows:
        table.add_row(
            str(r["refresh_id"]), _cell(r["as_of"]), f"{r['size']:,}", f"{r['entered']:,}", f"{r['exited']:,}"
        )
    console.print(table if rows else f"{name} has not been refreshed yet: run segmint refresh")


def refresh(as_of: AsOf = None, db: DbOption = None) -> None:
    """Compute every trait, then re-evaluate every dynamic segment in dependency order and record who entered and left."""
    when = as_of_value(as_of)
    with store_from(db) as store:
        done = refresh_all(store, as_of=when)
    results = done.segments
    console.print(
        f"traits: {len(done.traits)} models computed in {done.traits_seconds:.1f} s; "
        f"segments: {len(results)} refreshed in {done.segments_seconds:.1f} s"
    )
    table = Table(title=f"refresh at {when.isoformat()}", title_justify="left")
    for col in ("segment", "members", "entered", "exited"):
        table.add_column(col, justify="left" if col == "segment" else "right")
    for r in results:
        table.add_row(r.segment, f"{r.size:,}", f"{r.entered:,}", f"{r.exited:,}")
    console.print(table if results else "no dynamic segments to refresh: apply some with segmint segment apply")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="segment")
    root.command()(refresh)
