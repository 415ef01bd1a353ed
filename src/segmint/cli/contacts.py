"""``segmint contacts``: look at one contact."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from segmint.cli.common import DbOption, SegmintTyper, console, print_json, store_from
from segmint.store.profiles import contact_profile

app = SegmintTyper(help="Look at contacts.", no_args_is_help=True)


@app.command("show")
def show(
    contact: Annotated[str, typer.Argument(help="The contact's id or email.")],
    events: Annotated[int, typer.Option(help="How many of the latest events to list.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    db: DbOption = None,
) -> None:
    """A contact's profile, company, traits, consents in force, segments and latest events."""
    with store_from(db) as store:
        profile = contact_profile(store, contact, events=events)
    if as_json:
        print_json(profile)
        return
    _print_fields(f"contact {profile['contact']['contact_id']}", profile["contact"])
    if profile["company"]:
        _print_fields(f"company {profile['company']['company_id']}", profile["company"])
    if any(v is not None for v in profile["traits"].values()):
        _print_fields("traits (as of the last refresh)", profile["traits"])
    else:
        console.print("traits: none yet (run segmint refresh)")
    consent = Table(title="consents in force", title_justify="left")
    for col in ("channel", "purpose", "status", "since", "source"):
        consent.add_column(col)
    for c in profile["consents"]:
        consent.add_row(c["channel"], c["purpose"] or "", c["status"], _text(c["ts"]), c["source"] or "")
    console.print(consent if profile["consents"] else "consents: none recorded")
    segments = Table(title="segments", title_justify="left")
    for col in ("segment", "since", "history"):
        segments.add_column(col)
    history: dict[str, list[str]] = {}
    for change in profile["segments"]["changes"]:
        history.setdefault(change["segment"], []).append(f"{change['change']} {_text(change['at'])[:10]}")
    current = {s["segment"]: s["since"] for s in profile["segments"]["current"]}
    for name in sorted(set(current) | set(history)):
        since = _text(current[name])[:19] if name in current else "(left)"
        segments.add_row(name, since, ", ".join(history.get(name, [])))
    console.print(segments if (current or history) else "segments: none (run segmint refresh after applying segments)")
    latest = Table(
        title=f"latest events ({len(profile['latest_events'])} of {profile['event_count']:,})", title_justify="left"
    )
    for col in ("ts", "event", "details"):
        latest.add_column(col)
    for e in profile["latest_events"]:
        details = ", ".join(f"{k}={_text(v)}" for k, v in e.items() if k not in ("ts", "event"))
        latest.add_row(_text(e["ts"]), e["event"], details)
    console.print(latest)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def _print_fields(title: str, fields: dict[str, Any]) -> None:
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    for name, value in fields.items():
        if value is not None:
            table.add_row(name, _text(value))
    console.print(table)
