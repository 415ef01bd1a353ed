"""``segmint playbook …``: the seeds' segments, ready to use."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from segmint.cli.common import DbOption, SegmintTyper, console, store_from
from segmint.playbook import install_playbook, playbook_segments, playbook_themes

app = SegmintTyper(help="The playbook: every segment the seeds name, built on the traits.", no_args_is_help=True)

TagOption = Annotated[
    list[str] | None, typer.Option("--tag", help="Only this theme (repeatable), e.g. --tag engagement.")
]


@app.command("list")
def list_playbook(tag: TagOption = None) -> None:
    """The playbook's segments by theme, with their titles."""
    wanted = set(playbook_segments(tag)) if tag else None
    table = Table(title="the playbook (segmint playbook install)", title_justify="left")
    for col in ("theme", "segment", "title"):
        table.add_column(col)
    for theme, segments in playbook_themes().items():
        for s in segments:
            if wanted is None or s.name in wanted:
                table.add_row(theme, s.name, s.title or "")
    console.print(table)


@app.command()
def install(tag: TagOption = None, db: DbOption = None) -> None:
    """Store the playbook's segments (all, or the themes given); then run segmint refresh."""
    with store_from(db) as store:
        result = install_playbook(store, tag)
    console.print(
        f"playbook installed: {len(result.created)} created, {len(result.updated)} updated, "
        f"{len(result.unchanged)} unchanged; run segmint refresh to compute traits and members"
    )


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="playbook")
