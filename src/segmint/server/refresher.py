"""The background refresh runner: ``POST /api/refresh`` starts a full refresh, and requests go on.

A full refresh (every traits model, then every dynamic segment:
:func:`~segmint.segments.refresh_all`) takes seconds to minutes, longer than
a request should stay open.  So it runs in a thread of its own, on a
connection of its own (reads on theirs keep being answered: each sees what
was committed when its query started), under the server's refresh lock so it
never overlaps the tracking API's refresh of touched contacts.  One full
refresh at a time: asking for a second while one runs is a 409.

Runs are remembered in memory (the latest :data:`KEPT_RUNS`) with their
status, ``running``, ``done`` or ``failed``, and their result; the enter/exit
log and ``segment_refreshes`` in the store are the lasting record.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from segmint.errors import ConflictError, NotFoundError, SegmintError
from segmint.segments import FullRefresh, refresh_all
from segmint.segments.evaluate import now_utc

if TYPE_CHECKING:
    from segmint.server.app import ServerState

log = logging.getLogger(__name__)

#: finished runs remembered for ``GET /api/refresh``
KEPT_RUNS = 50
EXTRA = "refresher"


@dataclass
class RefreshRun:
    """One full refresh the API started."""

    id: int
    as_of: datetime
    status: str = "running"
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    seconds: float | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "as_of": self.as_of,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "seconds": self.seconds,
            "result": self.result,
            "error": self.error,
        }


def _result(done: FullRefresh) -> dict[str, Any]:
    return {
        "traits": done.traits,
        "traits_seconds": round(done.traits_seconds, 3),
        "segments_seconds": round(done.segments_seconds, 3),
        "segments": [
            {"segment": r.segment, "size": r.size, "entered": r.entered, "exited": r.exited} for r in done.segments
        ],
    }


class Refresher:
    """Starts full refreshes in a thread and remembers how they went."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self._runs: OrderedDict[int, RefreshRun] = OrderedDict()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()  # guards _runs and _thread
        self._thread: threading.Thread | None = None

    def start(self, as_of: datetime | None = None) -> RefreshRun:
        """Start a full refresh at ``as_of`` (default now); 409 while one runs."""
        with self._lock:
            running = [r for r in self._runs.values() if r.status == "running"]
            if running:
                raise ConflictError(f"refresh {running[0].id} is running; follow it at /api/refresh/{running[0].id}")
            run = RefreshRun(next(self._ids), (as_of or now_utc()).astimezone(UTC))
            self._runs[run.id] = run
            while len(self._runs) > KEPT_RUNS:
                self._runs.popitem(last=False)
            self._thread = threading.Thread(
                target=self._run, args=(run,), name=f"segmint-refresh-{run.id}", daemon=True
            )
            self._thread.start()
        return run

    def _run(self, run: RefreshRun) -> None:
        started = time.perf_counter()
        result: dict[str, Any] | None = None
        error: dict[str, Any] | None = None
        try:
            with self.state.refresh_lock:
                result = _result(self._refresh(run.as_of))
        except SegmintError as exc:
            error = exc.to_dict()
        except Exception as exc:  # the server goes on; the run says what failed
            log.exception("refresh %s failed", run.id)
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            error = SegmintError(f"the refresh failed: {first}").to_dict()
        run.seconds = round(time.perf_counter() - started, 3)
        run.finished_at = datetime.now(UTC)
        run.result, run.error = result, error
        # the status last: whoever sees the run finished sees its result and times too
        run.status = "done" if error is None else "failed"

    def _refresh(self, as_of: datetime) -> FullRefresh:
        """The refresh on a connection of its own (the shared one, one at a time, for an engine without a second)."""
        try:
            store = self.state.store.connection()
        except NotImplementedError:
            with self.state.shared_lock:
                return refresh_all(self.state.store, as_of=as_of)
        try:
            return refresh_all(store, as_of=as_of)
        finally:
            store.close()

    def get(self, run_id: int) -> RefreshRun:
        with self._lock:
            run = self._runs.get(run_id)
        if run is None:
            raise NotFoundError(f"no refresh {run_id} (the server remembers the latest {KEPT_RUNS} since it started)")
        return run

    def runs(self) -> list[RefreshRun]:
        """The remembered runs, newest first."""
        with self._lock:
            return list(reversed(self._runs.values()))

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the running refresh, if any, to finish."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)


def refresher_of(state: ServerState) -> Refresher:
    refresher: Refresher = state.extras[EXTRA]
    return refresher


def start(state: ServerState) -> None:
    state.extras[EXTRA] = Refresher(state)


def stop(state: ServerState) -> None:
    """Wait for a running refresh: the store closes after the services stop, and a refresh rolls back if cut."""
    refresher = state.extras.pop(EXTRA, None)
    if refresher is not None:
        refresher.wait()


__all__ = ["RefreshRun", "Refresher", "refresher_of", "start", "stop"]
