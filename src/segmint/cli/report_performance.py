"""``segmint report``: commands of this report (see segmint.cli.report)."""

from __future__ import annotations

from segmint.cli.report import app  # noqa: F401
