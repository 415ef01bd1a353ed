"""What every command shares: the --db option, consoles and opening the store."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from segmint.config import load_settings
from segmint.errors import SegmintError
from segmint.store import Store, open_store

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="SEGMINT_DB",
        help="Store URL: a path or duckdb:///path (default ./segmint.duckdb), postgresql://…, or spark://local[2]?warehouse=DIR.",
        show_envvar=True,
    ),
]


def handle_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command; a SegmintError becomes one line on stderr and its exit code, never a traceback."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except SegmintError as exc:
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True)  # [lint] is text, not markup
            raise typer.Exit(exc.exit_code) from exc
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except BrokenPipeError:  # `segmint … | head` closed the pipe: not an error
            sys.stderr.close()
            raise typer.Exit(0) from None
        except Exception as exc:  # a bug: one line, the traceback only for SEGMINT_DEBUG
            if os.environ.get("SEGMINT_DEBUG"):
                raise
            err_console.print(
                f"[bold red]error:[/] internal error ({type(exc).__name__}: {escape(str(exc))}); rerun with SEGMINT_DEBUG=1 for details",
                markup=True,
            )
            raise typer.Exit(1) from exc

    return run


class SegmintTyper(typer.Typer):
    """A Typer app whose every command is wrapped by :func:`handle_errors`."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:  # type: ignore[override]
        register = super().command(*args, **kwargs)
        return lambda function: register(handle_errors(function))


@contextmanager
def store_from(db: str | None) -> Iterator[Store]:
    """Open the store a command names with --db / SEGMINT_DB / segmint.toml."""
    settings = load_settings(db=db)
    store = open_store(settings.store.url, settings)
    try:
        yield store
    finally:
        store.close()


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def print_json(data: Any) -> None:
    """Machine-readable output on stdout."""
    typer.echo(json.dumps(data, default=_default, ensure_ascii=False, indent=2))
