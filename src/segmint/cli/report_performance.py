"""``segmint report segment`` and ``segmint report segments``: how segments perform against the whole list."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from segmint.cli.common import DbOption, console, print_json, store_from
from segmint.cli.report import app
from segmint.insights.report import (
    DEFAULT_MIN_SIZE,
    Measure,
    SegmentReport,
    format_p,
    format_value,
    rank_segments,
    segment_report,
    write_report_chart,
)

Since = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="Start of the window, included (ISO 8601; a date is midnight UTC). Default: 90 days before --until.",
    ),
]
Until = Annotated[
    str | None,
    typer.Option("--until", help="End of the window, excluded (ISO 8601). Default: now."),
]
Json = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]


@app.command("segment")
def segment_command(
    name: Annotated[str, typer.Argument(help="A stored segment's name.")],
    since: Since = None,
    until: Until = None,
    as_json: Json = False,
    chart: Annotated[
        Path | None,
        typer.Option(
            "--chart", help="Also draw the size over the window and the rates against the list (.png, .svg or .html)."
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """One segment's members against the whole list: size and trend, email, conversions, revenue, CLV, tickets.

    Each measure is tested against the contacts outside the segment (rates:
    two-proportion z-test; means: Welch's t-test), with a 95 % interval of the
    difference and Benjamini-Hochberg adjusted p-values.  Example:
    segmint report segment customers --since 2026-01-01 --chart customers.png
    """
    with store_from(db) as store:
        report = segment_report(store, name, since=since, until=until)
    if chart is not None:
        write_report_chart(report, chart)
    if as_json:
        print_json(report.to_dict())
        return
    _print_report(report)
    if chart is not None:
        console.print(f"chart: {chart}")


def _print_report(report: SegmentReport) -> None:
    trend = report.trend
    title = f" ({escape(report.title)})" if report.title else ""
    console.print(f"[bold]{report.segment}[/]{title}: {report.kind} {report.entity} segment", markup=True)
    refreshed = f", last refreshed {report.refreshed_at:%Y-%m-%d %H:%M} UTC" if report.refreshed_at else ""
    members = f"{report.size:,} members"
    if report.entity == "company":
        members += f" ({report.contacts:,} contacts)"
    console.print(f"{members} of a list of {report.whole_list:,} contacts{refreshed}")
    if trend.change is not None:
        pct = f", {trend.change_pct * 100:+.1f} %" if trend.change_pct is not None else ""
        console.print(f"size over the window: {trend.start:,} -> {trend.end:,} ({trend.change:+,}{pct})")
    for note in report.notes:
        console.print(f"note: {escape(note)}")
    table = Table(
        title=f"{report.since:%Y-%m-%d %H:%M} to {report.until:%Y-%m-%d %H:%M} UTC, against the whole list",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 0, 0, 1),
        caption="difference: segment minus whole list, its 95 % interval below; adj. p: Benjamini-Hochberg",
        caption_justify="left",
    )
    # Narrow enough for an 80-column terminal: no vertical rules, the interval under the difference, the
    # p-value shown is the adjusted one (--json has both)
    for column, justify in (
        ("measure", "left"),
        ("segment", "right"),
        ("list", "right"),
        ("difference", "right"),
        ("adj. p", "right"),
        ("", "left"),
    ):
        table.add_column(column, justify=justify, no_wrap=column != "measure")  # type: ignore[arg-type]
    for measure in report.measures:
        table.add_row(
            measure.label,
            format_value(measure, measure.segment),
            format_value(measure, measure.whole),
            _difference(measure),
            format_p(measure.p_adjusted),
            _significance(measure),
        )
    console.print(table)


def _difference(measure: Measure) -> str:
    if not measure.test:
        return "-"
    shown = format_value(measure, measure.difference, signed=True, points=True)
    if measure.ci_low is None or measure.ci_high is None:
        return shown
    low, high = (format_value(measure, v, points=True).removesuffix(" pp") for v in (measure.ci_low, measure.ci_high))
    return f"{shown}\n({low} .. {high})"


def _significance(measure: Measure) -> str:
    if not measure.significant:
        return ""
    return measure.verdict or "signif."


@app.command("segments")
def segments_command(
    since: Since = None,
    until: Until = None,
    as_json: Json = False,
    min_size: Annotated[
        int,
        typer.Option("--min-size", min=1, help="Segments with fewer contacts are listed last, not judged."),
    ] = DEFAULT_MIN_SIZE,
    db: DbOption = None,
) -> None:
    """Rank every segment: performing well, performing poorly, or high potential and under-served, with reasons.

    A mark needs measures significantly different from the whole list after
    Benjamini-Hochberg over every segment's tests (docs/reports.md has the
    rules).  Example: segmint report segments --since 2026-01-01 --min-size 50
    """
    with store_from(db) as store:
        rankings = rank_segments(store, since=since, until=until, min_size=min_size)
    if as_json:
        print_json([r.to_dict() for r in rankings])
        return
    # One block per segment, its reasons indented under it: a table's "why" column wraps to a word a line
    console.print("segments against the whole list, best first", markup=False)
    width = len(str(len(rankings)))
    for ranking in rankings:
        mark = f": {ranking.mark}" if ranking.mark else ""
        console.print(
            f"{ranking.rank:>{width}}. {escape(ranking.segment)} ({ranking.contacts:,} contact{'' if ranking.contacts == 1 else 's'}){mark}",
            highlight=False,
        )
        for reason in ranking.reasons:
            console.print(f"{'':>{width}}    {escape(reason)}", highlight=False)
