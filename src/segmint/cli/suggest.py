"""``segmint suggest``: segments found by clustering the contacts, as definitions ``segment apply`` accepts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from segmint.cli.common import DbOption, console, print_json, store_from
from segmint.cli.segment import as_of_value
from segmint.dsl.parse import SEGMENT_FILE_SUFFIXES
from segmint.errors import UsageError
from segmint.insights.suggest import MAX_K, SuggestReport, profile_chart, suggest_report


def write_suggestions(report: SuggestReport, folder: Path) -> list[Path]:
    """One ``<name>.yaml`` per suggestion in ``folder`` (``segmint segment apply FOLDER`` stores them all)."""
    if folder.suffix.lower() in SEGMENT_FILE_SUFFIXES:
        raise UsageError(
            f"--out {folder}: give a folder; segment apply reads one segment per file, "
            "so each suggestion gets a file <name>.yaml in it"
        )
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--out {folder}: exists and is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for suggestion in report.suggestions:
        path = folder / f"{suggestion.name}.yaml"
        path.write_text(suggestion.yaml, encoding="utf-8")
        written.append(path)
    return written


def suggest(
    k: Annotated[
        int | None,
        typer.Option("--k", help=f"How many segments (2-{MAX_K}). Default: the k of 3-8 with the best silhouette."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write each definition to <name>.yaml in this folder, for segmint segment apply."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="Count events and evaluate definitions at this instant. Default: the latest refresh."
        ),
    ] = None,
    chart: Annotated[
        Path | None,
        typer.Option("--chart", help="Draw how each cluster differs from all contacts: a .png, .svg or .html file."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same suggestions.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the suggestions as JSON.")] = False,
    db: DbOption = None,
) -> None:
    """Cluster the contacts on behaviour, value and firmographics; write each cluster as a segment definition.

    Each suggestion shows its cluster's size, the definition, and the
    definition's precision and recall against the cluster as segmint
    evaluates it.  Edit the files, then: segmint segment apply FOLDER.
    Example: segmint suggest --k 4 --out suggested/ --chart suggested.png
    """
    when = as_of_value(as_of) if as_of is not None else None
    with store_from(db) as store:
        report = suggest_report(store, k=k, as_of=when, random_state=seed)
    written = write_suggestions(report, out) if out is not None else []
    drawn = profile_chart(report, chart) if chart is not None else None
    if as_json:
        print_json(report.to_dict())
        return
    scores = ", ".join(f"k={key}: {value:.3f}" for key, value in report.silhouette.items())
    console.print(
        f"{len(report.suggestions)} suggested segments from {report.contacts:,} contacts as of "
        f"{report.as_of.isoformat()} (silhouette {scores})\n",
        markup=False,
    )
    for s in report.suggestions:
        console.print(
            f"{s.name}  —  {s.title}\n  cluster {s.size:,} contacts; definition matches {s.members:,}: "
            f"precision {s.precision:.2f}, recall {s.recall:.2f}",
            markup=False,
        )
        for trait in s.traits:
            console.print(f"  · {trait.phrase}", markup=False)
        body = s.yaml[s.yaml.index("entity:") :] if "entity:" in s.yaml else s.yaml
        console.print("  " + body.rstrip().replace("\n", "\n  ") + "\n", markup=False)
    if drawn is not None:
        console.print(f"chart: {drawn}", markup=False)
    if written:
        console.print(
            f"wrote {len(written)} files to {out}; store them with: segmint segment apply {out}", markup=False
        )


def register(root: typer.Typer) -> None:
    """Adds the ``suggest`` command to the root app."""
    root.command("suggest")(suggest)
