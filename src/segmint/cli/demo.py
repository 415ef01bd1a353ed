"""``segmint demo``: a realistic company to try segmint on."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from segmint.cli.common import DbOption, console, store_from
from segmint.cli.data import print_stats
from segmint.insights.stats import store_stats
from segmint.segments import apply_segments, refresh_segments
from segmint.segments.definitions import check_definitions
from segmint.store.load import LoadSummary, load_files, load_tables

# Companies before the contacts who work there, contacts before what they did.
LOAD_ORDER = ("companies", "contacts", "deals", "consents", "events")


def demo(
    contacts: Annotated[int, typer.Option(min=1, help="How many contacts to generate.")] = 2400,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same data.")] = 7,
    out: Annotated[
        Path | None, typer.Option(help="Also write the data as CSV and Parquet files here, and load from them.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Generate the demo company (a manufacturer in Ostrobothnia and its web shop) and load it.

    Loading the same demo twice changes nothing.  With --out the files are written
    first and loaded with the same loaders as your own exports.
    """
    from segmint.demo import DemoConfig, generate, write_files

    data = generate(DemoConfig(contacts=contacts, seed=seed))
    summaries: list[LoadSummary] = []
    with store_from(db) as store:
        if out is not None:
            paths = write_files(data, out)
            console.print(f"wrote the demo data to {out}/")
            for entity in LOAD_ORDER:
                summaries.append(load_files(store, entity, paths[entity]))
        else:
            for entity in LOAD_ORDER:
                summaries.append(load_tables(store, entity, getattr(data, entity)(), source=f"demo-{entity}"))
        # Example segments from the seeds, refreshed at the end of the demo's data.
        with resources.as_file(resources.files("segmint.demo") / "segments") as folder:
            apply_segments(store, check_definitions(store, folder))
        refreshed = refresh_segments(store, as_of=data.config.end)
        result = store_stats(store)
        busiest = store.engine.scalar(
            "SELECT c.contact_id FROM contacts c JOIN events e ON e.contact_key = c.contact_key "
            "WHERE e.event = 'purchase' GROUP BY c.contact_id ORDER BY COUNT(*) DESC, c.contact_id LIMIT 1"
        )
    table = Table(title="demo loaded", title_justify="left")
    for col in ("entity", "rows", "loaded", "updated", "unchanged", "rejected"):
        table.add_column(col, justify="left" if col == "entity" else "right")
    for summary in summaries:
        table.add_row(
            summary.entity, *(f"{summary.total(c):,}" for c in ("rows", "loaded", "updated", "unchanged", "rejected"))
        )
    console.print(table)
    print_stats(result)
    segments = Table(
        title=f"example segments at {data.config.end:%Y-%m-%d} (segmint segment list)", title_justify="left"
    )
    for col in ("segment", "members"):
        segments.add_column(col, justify="right" if col == "members" else "left")
    for r in refreshed:
        segments.add_row(r.segment, f"{r.size:,}")
    console.print(segments)
    where = f" --db {db}" if db else ""
    if busiest:
        console.print(f"\nnext: segmint contacts show {busiest}{where}   (the demo's most frequent buyer)")


def register(app: typer.Typer) -> None:
    app.command()(demo)
