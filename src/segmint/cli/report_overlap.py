"""``segmint report overlap``: how much segments share, who is in many, and a heatmap."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from segmint.cli.common import DbOption, console, print_json, store_from
from segmint.cli.report import app
from segmint.errors import UsageError
from segmint.insights.overlap import Overlap, overlap, overlap_chart

#: up to this many segments the matrix is printed whole; beyond, the pairs that overlap most
MATRIX_UP_TO = 8


def _print_matrix(report: Overlap) -> None:
    table = Table(title=f"Jaccard index |A∩B| / |A∪B| of {len(report.segments)} segments", title_justify="left")
    table.add_column("segment")
    table.add_column("size", justify="right")
    for s in report.segments:
        table.add_column(s.name, justify="right")
    for s, row in zip(report.segments, report.matrix(), strict=True):
        table.add_row(s.name, str(s.size), *(f"{v:.2f}" for v in row))
    console.print(table)


def _print_pairs(report: Overlap, top: int) -> None:
    table = Table(
        title=f"The {min(top, len(report.pairs))} most overlapping of {len(report.segments)} segments' pairs",
        title_justify="left",
    )
    for name, justify in (("a", "left"), ("b", "left"), ("size a", "right"), ("size b", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    table.add_column("both", justify="right")
    table.add_column("jaccard", justify="right")
    for p in report.pairs[:top]:
        table.add_row(p.a, p.b, str(p.size_a), str(p.size_b), str(p.both), f"{p.jaccard:.2f}")
    console.print(table)


def _print_contacts(report: Overlap, top: int) -> None:
    table = Table(title=f"Contacts by how many segments they are in (of {report.contacts})", title_justify="left")
    table.add_column("segments", justify="right")
    table.add_column("contacts", justify="right")
    for k, v in sorted(report.distribution.items()):
        table.add_row(str(k), str(v))
    console.print(table)
    if report.busiest:
        busy = Table(title=f"The {min(top, len(report.busiest))} contacts in the most segments", title_justify="left")
        busy.add_column("contact_id")
        busy.add_column("email")
        busy.add_column("segments", justify="right")
        for c in report.busiest[:top]:
            busy.add_row(c.contact_id, c.email or "", str(c.segments))
        console.print(busy)


@app.command("overlap")
def overlap_command(
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Segments to compare (default: every stored segment).", show_default=False),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    chart: Annotated[
        str | None,
        typer.Option("--chart", help="Also draw the Jaccard matrix as a heatmap: a .png, .svg or .html file."),
    ] = None,
    top: Annotated[int, typer.Option("--top", help="How many pairs and contacts to list.", min=1)] = 10,
    db: DbOption = None,
) -> None:
    """How much the segments overlap: the Jaccard index of every pair, and the contacts in many segments.

    Members are those of each segment's last refresh (run segmint refresh
    first).  Up to 8 segments the whole matrix is printed; beyond, the --top
    pairs that overlap most.  Example: segmint report overlap customers
    repeat-buyers tier-gold --chart overlap.png
    """
    if chart is not None and not chart.lower().endswith((".png", ".svg", ".html")):
        raise UsageError(f"--chart {chart!r}: the name must end in .png, .svg or .html")
    with store_from(db) as store:
        report = overlap(store, names or None, top=top)
    written = overlap_chart(report, chart) if chart else None
    if as_json:
        data = report.to_dict(top=top)
        if written is not None:
            data["chart"] = str(written)
        print_json(data)
        return
    if len(report.segments) <= MATRIX_UP_TO:
        _print_matrix(report)
    else:
        _print_pairs(report, top)
    _print_contacts(report, top)
    if written is not None:
        console.print(f"heatmap written to {written}")
