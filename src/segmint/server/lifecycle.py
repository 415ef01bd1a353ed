"""Services that run beside the requests, started and stopped with the application.

Each service module has ``start(state)`` and ``stop(state)``: the tracking
API's group committer and freshness queue (:mod:`segmint.server.ingest`) and
the background refresh runner (:mod:`segmint.server.refresher`).  They are
started in this order and stopped in the reverse one.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from segmint.server.app import ServerState

SERVICE_MODULES = ("segmint.server.refresher", "segmint.server.ingest")


def _services() -> list[ModuleType]:
    found = []
    for name in SERVICE_MODULES:
        try:
            found.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return found


def start(state: ServerState) -> None:
    for module in _services():
        module.start(state)


def stop(state: ServerState) -> None:
    for module in reversed(_services()):
        module.stop(state)
