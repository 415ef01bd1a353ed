"""``segmint suggest``."""

from __future__ import annotations

import typer


def register(root: typer.Typer) -> None:
    """Adds the command to the root app (filled in with the command)."""
