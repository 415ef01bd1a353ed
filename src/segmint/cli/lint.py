"""``segmint lint``: health checks of the segments, one line per finding with its fix.

Like a code linter it exits 0 when there is nothing to report and
:data:`FINDINGS_EXIT_CODE` when there are findings, so a scheduled job can
alert on it; an error (no contacts, a bad option) has its own exit code.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from segmint.cli.common import DbOption, console, print_json, store_from
from segmint.cli.segment import as_of_value
from segmint.insights.lint import CHECKS, lint

#: the exit code when there are findings (errors use theirs: 2 usage, 10 no data, ...)
FINDINGS_EXIT_CODE = 1

Check = StrEnum("Check", {name.replace("-", "_"): name for name in CHECKS})  # type: ignore[misc]


def lint_command(
    check: Annotated[
        list[Check] | None,
        typer.Option("--check", metavar="CHECK", help="Run only this check (repeat for more). Default: every check."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Look back from this instant (ISO 8601). Default: the last refresh's as_of."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
    db: DbOption = None,
) -> None:
    """Health checks after seed 000's mistakes: unused data, empty, small, duplicate, frozen, unused and too many
    segments, contacts stuck in segments built on old data.

    One line per finding, with a concrete fix.  Exit code 0 when clean, 1 when
    there are findings.  Thresholds: [lint] in segmint.toml (see docs/lint.md).
    Example: segmint lint --check near-duplicate --check stuck-contacts
    """
    when = as_of_value(as_of) if as_of else None
    with store_from(db) as store:
        findings = lint(store, checks=[c.value for c in check] if check else None, as_of=when)
    if as_json:
        print_json({"ok": True, "clean": not findings, "findings": [f.to_dict() for f in findings]})
    elif not findings:
        console.print("no findings: the segments look healthy")
    else:
        for f in findings:
            console.print(f"{f.check} [{f.severity}] {f.subject}: {f.message} Fix: {f.fix}", markup=False)
        console.print(f"{len(findings)} finding{'s' if len(findings) != 1 else ''}")
    if findings:
        raise typer.Exit(FINDINGS_EXIT_CODE)


def register(root: typer.Typer) -> None:
    """Adds ``segmint lint`` to the root app."""
    root.command("lint")(lint_command)
