"""``segmint init``, ``segmint load`` and ``segmint stats``."""

from __future__ import annotations

from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

from segmint.cli.common import DbOption, console, err_console, print_json, store_from
from segmint.config import CONFIG_FILE
from segmint.errors import UsageError
from segmint.insights.stats import StoreStats, store_stats
from segmint.store.load import LoadSummary, load_files, read_mapping
from segmint.store.load.mapping import Mapping
from segmint.store.migrations import SCHEMA_VERSION

PROGRESS_MIN_BYTES = 8 << 20

CONFIG_TEMPLATE = """\
# segmint settings; SEGMINT_DB and --db override [store] url.
[store]
url = "{url}"

[load]
timezone = "UTC"        # zone of timestamps written without one
rejects_dir = "rejects" # where rejected rows are written

# Declare custom properties instead of letting loads infer their types:
# [properties.contact]
# customer_number = {{ type = "string", description = "Number in the ERP" }}
"""


class Entity(StrEnum):
    contacts = "contacts"
    companies = "companies"
    events = "events"
    deals = "deals"
    consents = "consents"


def shipped_mappings() -> list[str]:
    """Names of the mappings segmint ships (``--mapping hubspot-contacts``)."""
    folder = resources.files("segmint") / "mappings"
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def resolve_mapping(name: str, entity: str) -> Mapping:
    """A mapping file's path, or the name of a shipped mapping."""
    path = Path(name)
    if not path.exists() and name in shipped_mappings():
        with resources.as_file(resources.files("segmint") / "mappings" / f"{name}.yaml") as shipped:
            return read_mapping(shipped, entity=entity)
    if not path.exists():
        raise UsageError(f"mapping '{name}' is neither a file nor a shipped mapping ({', '.join(shipped_mappings())})")
    return read_mapping(path, entity=entity)


def init(db: DbOption = None) -> None:
    """Create the store (schema and migrations) and a segmint.toml if there is none."""
    with store_from(db) as store:
        console.print(f"store ready: {store.url} (schema version {SCHEMA_VERSION})")
        config = Path(CONFIG_FILE)
        if not config.exists():
            config.write_text(CONFIG_TEMPLATE.format(url=db or "segmint.duckdb"), encoding="utf-8")
            console.print(f"wrote {config}")


def load(
    entity: Annotated[Entity, typer.Argument(help="What the files hold.")],
    files: Annotated[list[Path], typer.Argument(help="CSV, JSON Lines or Parquet files.", show_default=False)],
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv, jsonl or parquet (default: from the extension).")
    ] = None,
    mapping: Annotated[
        str | None,
        typer.Option("--mapping", help="A mapping YAML file, or a shipped one: " + ", ".join(shipped_mappings())),
    ] = None,
    rejects: Annotated[
        Path | None,
        typer.Option("--rejects", help="Folder for the rejects files (default from segmint.toml: rejects/)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    db: DbOption = None,
) -> None:
    """Load files into the store: bad rows go to a rejects file, the rest load, all or nothing.

    Example: segmint load contacts export.csv --mapping hubspot-contacts
    """
    chosen = resolve_mapping(mapping, entity.value) if mapping else None
    with store_from(db) as store, _progress(files) as progress:
        tasks: dict[str, TaskID] = {}

        def report(label: str, done: int, total: int) -> None:
            if progress is None:
                return
            if label not in tasks:
                tasks[label] = progress.add_task(Path(label).name, total=total)
            progress.update(tasks[label], completed=done)

        summary = load_files(store, entity.value, files, fmt=fmt, mapping=chosen, rejects_dir=rejects, progress=report)
    if as_json:
        print_json(_summary_dict(summary))
    else:
        _print_summary(summary)


def _progress(files: list[Path]) -> Progress:
    big = any(f.exists() and f.stat().st_size >= PROGRESS_MIN_BYTES for f in files)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err_console,
        disable=not (big and err_console.is_terminal),
        transient=True,
    )


def _summary_dict(summary: LoadSummary) -> dict[str, object]:
    return {
        "entity": summary.entity,
        "files": [
            {
                "source": f.source,
                "rows": f.rows,
                "loaded": f.loaded,
                "updated": f.updated,
                "unchanged": f.unchanged,
                "rejected": f.rejected,
                "rejects_file": str(f.rejects_path) if f.rejects_path else None,
                "rejects": [{"row": r, "reason": why} for r, why in f.reject_samples],
            }
            for f in summary.files
        ],
        "created_references": summary.created_references,
        "new_properties": [{"entity": f.entity, "name": f.name, "type": f.type.value} for f in summary.new_fields],
    }


def _print_summary(summary: LoadSummary) -> None:
    table = Table(title=f"load {summary.entity}", title_justify="left")
    for col in ("file", "rows", "loaded", "updated", "unchanged", "rejected"):
        table.add_column(col, justify="left" if col == "file" else "right")
    for f in summary.files:
        table.add_row(f.source, *(f"{getattr(f, c):,}" for c in ("rows", "loaded", "updated", "unchanged", "rejected")))
    console.print(table)
    for name, count in summary.created_references.items():
        console.print(f"created {count:,} {name} that rows referred to (ids only; load them to fill them in)")
    for prop in summary.new_fields:
        console.print(f"new custom property {prop.entity}.{prop.name} ({prop.type.value})")
    for f in summary.files:
        if not f.rejected:
            continue
        console.print(
            f"[yellow]{f.rejected:,} rows of {f.source} rejected[/], written to {f.rejects_path}:", markup=True
        )
        for row, reason in f.reject_samples[:10]:
            console.print(f"  row {row}: {reason}")
        if f.rejected > 10:
            console.print(f"  … and {f.rejected - 10:,} more in {f.rejects_path}")


def stats(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    db: DbOption = None,
) -> None:
    """What data do we have: rows, date ranges and how often each field is filled in."""
    with store_from(db) as store:
        result = store_stats(store)
    if as_json:
        print_json(result.to_dict())
        return
    print_stats(result)


def print_stats(result: StoreStats) -> None:
    overview = Table(title=f"store {result.url}", title_justify="left")
    for col in ("table", "rows", "from", "to"):
        overview.add_column(col, justify="right" if col == "rows" else "left")
    for t in result.tables:
        overview.add_row(t.table, f"{t.rows:,}", (t.first or "")[:10], (t.last or "")[:10])
    console.print(overview)
    if result.events_by_name:
        events = Table(title="events by name", title_justify="left")
        events.add_column("event")
        events.add_column("rows", justify="right")
        for name, count in result.events_by_name.items():
            events.add_row(name, f"{count:,}")
        console.print(events)
    for t in result.tables:
        if not t.rows or not t.fields:
            continue
        fill = Table(title=f"{t.table}: fill rate", title_justify="left")
        fill.add_column("field")
        fill.add_column("type")
        fill.add_column("filled", justify="right")
        fill.add_column("rate", justify="right")
        for f in t.fields:
            fill.add_row(f.name, f.type, f"{f.filled:,}", f"{f.rate:.0%}")
        console.print(fill)


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(load)
    app.command()(stats)
