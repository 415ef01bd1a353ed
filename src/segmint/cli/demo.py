"""``segmint demo``: realistic data to try segmint on (placeholder until the generator lands)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Registered once the generator exists."""
