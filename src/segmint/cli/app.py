"""The ``segmint`` command: one Typer app, one module per noun.

Every error a user can cause is a :class:`segmint.errors.SegmintError`;
:class:`SegmintTyper` turns it into one line on stderr and the error's exit
code, never a traceback.  ``SEGMINT_DEBUG=1`` shows the traceback of an
unexpected error.
"""

from __future__ import annotations

import typer

from segmint import __version__
from segmint.cli import clv, contacts, data, demo, lint, playbook, report, segment, server, suggest
from segmint.cli.common import SegmintTyper

app = SegmintTyper(
    name="segmint",
    help="segmint: segments for CRM and marketing automation, on DuckDB, PostgreSQL or Spark.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"segmint {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """segmint: segments for CRM and marketing automation, on DuckDB, PostgreSQL or Spark."""


data.register(app)
demo.register(app)
app.add_typer(contacts.app, name="contacts")
segment.register(app)
playbook.register(app)
server.register(app)
clv.register(app)
report.register(app)
lint.register(app)
suggest.register(app)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="segmint")
