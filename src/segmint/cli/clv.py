"""``segmint clv …``: lifetime-value models fitted on the store's purchases."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from segmint.cli.common import DbOption, SegmintTyper, console, print_json, store_from
from segmint.cli.segment import as_of_value
from segmint.insights.clv import fit

app = SegmintTyper(
    help="Lifetime value: BG/NBD, Pareto/NBD and Gamma-Gamma fitted on the store's purchase events.",
    no_args_is_help=True,
)


class ModelChoice(StrEnum):
    bgnbd = "bgnbd"
    pareto_nbd = "pareto_nbd"
    gamma_gamma = "gamma_gamma"


class UnitChoice(StrEnum):
    day = "day"
    week = "week"


@app.command("fit")
def fit_command(
    model: Annotated[
        ModelChoice,
        typer.Option("--model", help="bgnbd (BG/NBD), pareto_nbd (Pareto/NBD) or gamma_gamma (Gamma-Gamma)."),
    ] = ModelChoice.bgnbd,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="End of the calibration period (ISO 8601; a date is midnight UTC). Default: now."),
    ] = None,
    unit: Annotated[UnitChoice, typer.Option("--unit", help="Time unit of the parameters: day or week.")] = (
        UnitChoice.week
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print the parameters as JSON.")] = False,
    db: DbOption = None,
) -> None:
    """Fit a model by maximum likelihood on the purchase events up to --as-of; print its parameters.

    One transaction per contact per UTC day; recency and age are measured
    from each contact's first purchase.  Example:
    segmint clv fit --model pareto_nbd --as-of 1997-09-30 --json
    """
    when = as_of_value(as_of)
    with store_from(db) as store:
        fitted = fit(store, model=model.value, as_of=when, unit=unit.value)
    result = fitted.to_dict()
    if as_json:
        print_json(result)
        return
    table = Table(
        title=f"{model.value} fitted on {fitted.customers} contacts, as of {result['as_of']}, time in {unit.value}s",
        title_justify="left",
    )
    table.add_column("parameter")
    table.add_column("value", justify="right")
    for name, value in fitted.parameters().items():
        table.add_row(name, f"{value:.6g}")
    table.add_row("log_likelihood", f"{fitted.log_likelihood:.4f}")
    console.print(table)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="clv")
