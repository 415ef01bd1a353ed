"""``segmint report send-time``: when a segment (or the whole list) reads email, and how well that predicts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from segmint.cli.common import DbOption, console, print_json, store_from
from segmint.cli.report import app
from segmint.cli.segment import as_of_value
from segmint.errors import UsageError
from segmint.insights.charts import save_figure
from segmint.insights.send_time import (
    WEEKDAYS,
    SendTimeEvaluation,
    SendTimeProfile,
    evaluate_send_time,
    send_time_chart,
    send_time_profile,
)


@app.command("send-time")
def send_time(
    segment: Annotated[
        str | None, typer.Argument(help="A stored segment's name or a segment file; default: the whole list.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the profile (and evaluation) as JSON.")] = False,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="Write the week's heat map to this .png, .svg or .html file.")
    ] = None,
    evaluate: Annotated[
        bool, typer.Option("--evaluate", help="Fit before --holdout-days and score the held-out engagement.")
    ] = False,
    holdout_days: Annotated[
        int, typer.Option("--holdout-days", help="With --evaluate: the last days held out of the fit.")
    ] = 90,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Count engagement up to this instant (ISO 8601; a date is midnight UTC)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """The week as hours: when the segment's contacts click and open (machine opens left out), its best hours.

    Hours are in the send_time traits model's zone (``[traits.send_time]
    timezone``, else ``[load] timezone``).  With --evaluate, the model is fitted
    on the engagement before the last --holdout-days and its predicted hours are
    compared with the held-out clicks and opens, against one best hour for the
    whole list.  Example: segmint report send-time customers --chart week.png --evaluate
    """
    if holdout_days <= 0:
        raise UsageError("--holdout-days must be a positive number of days")
    if chart is not None and chart.suffix.lower() not in (".png", ".svg", ".html"):
        raise UsageError(f"--chart {str(chart)!r}: the name must end in .png, .svg or .html")
    when = as_of_value(as_of)
    with store_from(db) as store:
        profile = send_time_profile(store, segment, when)
        evaluation = evaluate_send_time(store, when, timedelta(days=holdout_days)) if evaluate else None
    if chart is not None:
        save_figure(send_time_chart(profile), chart, title=f"Send time: {segment or 'the whole list'}")
    if as_json:
        result: dict[str, Any] = {"profile": profile.to_dict()}
        if evaluation is not None:
            result["evaluation"] = evaluation.to_dict()
        if chart is not None:
            result["chart"] = str(chart)
        print_json(result)
        return
    _print_profile(profile)
    if evaluation is not None:
        _print_evaluation(evaluation)
    if chart is not None:
        console.print(f"chart written to {chart}")


def _print_profile(profile: SendTimeProfile) -> None:
    who = f"segment {profile.segment}" if profile.segment else "the whole list"
    console.print(
        f"Send time of {who}: {profile.contacts:,} contacts, {profile.contacts_with_engagement:,} with "
        f"{profile.clicks:,} clicks and {profile.opens:,} human opens in the {profile.lookback_days} days to "
        f"{profile.as_of:%Y-%m-%d %H:%M} UTC; hours in {profile.timezone}"
    )
    best = Table(title="Best hours", title_justify="left")
    best.add_column("rank", justify="right")
    best.add_column("hour of the week")
    best.add_column("send_hour", justify="right")
    best.add_column("share", justify="right")
    for rank, hour in enumerate(profile.best_hours, start=1):
        best.add_row(str(rank), hour.label, str(hour.hour), f"{hour.share:.1%}")
    console.print(best)
    days = Table(title="By weekday", title_justify="left")
    days.add_column("weekday")
    days.add_column("share", justify="right")
    days.add_column("best hour", justify="right")
    for d, row in enumerate(profile.grid()):
        days.add_row(WEEKDAYS[d], f"{row.sum():.1%}", f"{int(row.argmax()):02d}:00")
    console.print(days)


def _print_evaluation(evaluation: SendTimeEvaluation) -> None:
    console.print(
        f"Held out: {evaluation.holdout_events:,} clicks and human opens of {evaluation.holdout_contacts:,} contacts "
        f"after {evaluation.cutoff:%Y-%m-%d %H:%M} UTC ({evaluation.holdout_with_history:.0%} from contacts with "
        f"earlier engagement); fitted on {evaluation.training_events:,} events of "
        f"{evaluation.training_contacts:,} contacts, prior strength m = {evaluation.strength:.3g}"
    )
    table = Table(title="Held-out quality", title_justify="left")
    table.add_column("method")
    table.add_column("within ±1 h", justify="right")
    table.add_column("exact hour", justify="right")
    table.add_column("log-likelihood", justify="right")
    for method in evaluation.methods:
        ll = f"{method.log_likelihood:.3f}" if method.log_likelihood is not None else "-"
        table.add_row(method.method, f"{method.within_1h:.1%}", f"{method.exact:.1%}", ll)
    console.print(table)
    for method in evaluation.methods:
        console.print(f"{method.method}: {method.description}")
    console.print("A uniform guess: 1.8 % within ±1 h, log-likelihood -5.124 (log 1/168).")
