"""``segmint demo``: a realistic company to try segmint on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from segmint.cli.common import DbOption, console, store_from
from segmint.cli.data import print_stats
from segmint.insights.stats import store_stats
from segmint.playbook import install_playbook, playbook_themes
from segmint.segments import refresh_all
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
        # The playbook, with every trait, refreshed at the end of the demo's data.
        install_playbook(store)
        refreshed = refresh_all(store, as_of=data.config.end)
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
    sizes = {r.segment: r.size for r in refreshed.segments}
    segments = Table(
        title=f"the playbook at {data.config.end:%Y-%m-%d}: traits in {refreshed.traits_seconds:.1f} s, "
        f"segments in {refreshed.segments_seconds:.1f} s (titles: segmint playbook list)",
        title_justify="left",
    )
    for col in ("theme", "segment", "members"):
        segments.add_column(col, justify="right" if col == "members" else "left", no_wrap=True)
    for theme, members in playbook_themes().items():
        for i, segment in enumerate(members):
            segments.add_row(theme if i == 0 else "", segment.name, f"{sizes.get(segment.name, 0):,}")
    console.print(segments)
    where = f" --db {db}" if db else ""
    if busiest:
        console.print(f"\nnext: segmint contacts show {busiest}{where}   (the demo's most frequent buyer)")


def register(app: typer.Typer) -> None:
    app.command()(demo)
