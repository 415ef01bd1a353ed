"""Charts for the reports: one figure, written as PNG, SVG or HTML by the file's suffix.

matplotlib draws every chart (it writes PNG and SVG itself, headless, with
the Agg canvas).  An ``.html`` file is a small page embedding the SVG, with
the figure's title, for a person who opens the report in a browser.
"""

from __future__ import annotations

import html
import io
from pathlib import Path

from matplotlib.figure import Figure

from segmint.errors import UsageError

FORMATS = (".png", ".svg", ".html")


def new_figure(width: float = 8.0, height: float = 4.5) -> Figure:
    """A figure of ``width`` x ``height`` inches, not registered with pyplot's global state."""
    # a Figure made directly (not through pyplot) draws with the Agg canvas and leaves no global state
    return Figure(figsize=(width, height), layout="constrained")


def save_figure(figure: Figure, path: str | Path, title: str = "") -> Path:
    """Write ``figure`` to ``path`` as PNG, SVG or HTML (by its suffix); returns the path."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"chart file {str(target)!r}: the name must end in .png, .svg or .html")
    target.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".png":
        figure.savefig(target, format="png", dpi=144)
    elif suffix == ".svg":
        figure.savefig(target, format="svg")
    else:
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg")
        target.write_text(
            '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title or target.stem)}</title></head>\n"
            f"<body>\n<h1>{html.escape(title or target.stem)}</h1>\n{buffer.getvalue()}\n</body></html>\n",
            encoding="utf-8",
        )
    return target
