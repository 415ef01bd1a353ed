"""``segmint report …``: how segments perform, how they overlap, when to send.

The ``report`` group is one Typer app; each report's commands live in a
module of their own (``report_performance``, ``report_overlap``,
``report_send_time``) that adds them to :data:`app` when imported by
:func:`register`.
"""

from __future__ import annotations

import importlib

import typer

from segmint.cli.common import SegmintTyper

app = SegmintTyper(
    help="Reports: each segment's performance against the whole list, overlap between segments, send times.",
    no_args_is_help=True,
)

#: the modules whose commands make up ``segmint report``
REPORT_MODULES = ("report_performance", "report_overlap", "report_send_time")


def register(root: typer.Typer) -> None:
    for name in REPORT_MODULES:
        importlib.import_module(f"segmint.cli.{name}")
    root.add_typer(app, name="report")
