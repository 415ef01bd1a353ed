"""The tracking API's writer: group commits of tracked messages, identities, and fresh segments.

An event is acknowledged only once it is durable.  Requests do not write:
each puts its rows (:class:`~segmint.server.segment_spec.Rows`) on a bounded
queue and awaits a future.  ONE writer thread, on a connection of its own,
takes everything queued — after at most ``commit_interval_ms`` of gathering,
sooner when arrivals pause or a quarter of ``max_pending_events`` has gathered
(see :meth:`Ingestor._take`) — and stores it in one transaction: the
companies, then the contacts, then the events, each as an Arrow table through
the loader (:class:`~segmint.store.load.loader.Loader`: validation,
deduplication by ``event_id``, references; the events, already typed and checked here,
by one INSERT: :meth:`~segmint.store.load.loader.Loader.load_tracked_events`), a group commit.  Only after the
commit does it wake the waiting requests, which answer 200.  A crash before
the commit loses only messages that were never acknowledged, which clients
send again; ``messageId`` is the ``event_id``, so a retry of a batch that *was*
stored is not counted twice.

Memory is bounded: with more than ``max_pending_events`` messages queued or
being committed, a request is answered 429 with ``Retry-After`` instead of
queued (a request arriving at an empty queue is always taken, however large,
so a batch bigger than the limit is not refused for ever).

Identities: ``segmint_identities`` links an ``anonymous_id`` to a contact
(the first link wins: a later visitor on a shared device does not take the
history of the first).  Events stored with only an ``anonymous_id`` get the
contact's key as soon as a link exists, whichever arrives first.  Merging two
known contacts is not done.

Fresh segments: after each commit the contacts it touched go to a
:class:`~segmint.segments.fresh.FreshnessQueue`, flushed on another thread and
connection under ``state.refresh_lock`` as soon as something is touched, at
most once every ``fresh_interval_seconds``: an arriving event moves its contact
into (and out of) dynamic segments within about a second.  A flush that takes
longer than that (many touched contacts, many segments) is followed by a rest
as long as itself, so the fresh path takes at most half of the server's time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
from sqlglot import exp

from segmint.errors import OverloadedError, SegmintError, StoreError
from segmint.model.fields import CustomField
from segmint.model.tables import COMPANIES, CONTACTS, EVENTS, Column, Table
from segmint.model.types import FieldType
from segmint.segments.fresh import FreshnessQueue
from segmint.server.app import ServerState
from segmint.server.segment_spec import EVENT_COLUMNS, INT64, Rows, parse_instant
from segmint.store.load.loader import Loader, LoadSummary
from segmint.store.store import Store

log = logging.getLogger("segmint.server.ingest")

IDENTITIES = Table(
    name="segmint_identities",
    entity="meta",
    description="Anonymous ids (Segment's anonymousId) known to be a contact: their events belong to it.",
    columns=(
        Column("anonymous_id", FieldType.STRING, "The visitor's anonymous id."),
        Column("contact_id", FieldType.STRING, "The contact it is."),
        Column("linked_at", FieldType.TIMESTAMP, "When the link was stored."),
    ),
)

#: seconds a request waits for its commit before answering 503 (its messageIds make a retry safe)
ACK_TIMEOUT = 30.0
#: seconds a group gathers after the last commit ended, and the pause in arrivals that closes it then
LINGER, QUIET = 0.010, 0.004
#: attempts of a group commit before its requests are stored one by one
ATTEMPTS = 3
#: ids per literal IN list
CHUNK = 1000
#: anonymous ids whose link (or its absence) the writer remembers
IDENTITY_CACHE = 200_000
#: how far apart in time a retried message and its stored first copy may be and still be found
#: (the messageId dedupe reads only the stored events that close to the group's: see Loader.load_tracked_events)
DEDUPE_WINDOW = timedelta(days=1)

ARROW_TYPES = {
    FieldType.STRING: pa.string(),
    FieldType.INTEGER: pa.int64(),
    FieldType.FLOAT: pa.float64(),
    FieldType.BOOLEAN: pa.bool_(),
    FieldType.TIMESTAMP: pa.timestamp("us", tz="UTC"),
}
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")
EVENT_SCHEMA = pa.schema([(c.name, ARROW_TYPES[c.type]) for c in EVENT_COLUMNS])
#: columns every event table keeps (the loader needs an id column, a name and a time)
EVENT_KEY_COLUMNS = frozenset({"event_id", "contact_id", "anonymous_id", "event", "ts"})


@dataclass
class Submission:
    """One request's rows and the future its handler awaits."""

    rows: Rows
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[None]
    arrived: float = field(default_factory=time.monotonic)


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    """Runs on the request's loop: a handler that gave up (timeout, disconnect) has a done future."""
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


class _InTransaction(Loader):
    """A loader inside the group commit's transaction (the loader opens its own by default)."""

    def _transaction(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()


@dataclass
class Connection:
    """A connection of a service thread: its own, or (Spark) the shared one under the shared lock."""

    store: Store
    lock: contextlib.AbstractContextManager[Any]
    owned: bool

    @classmethod
    def open(cls, state: ServerState) -> Connection:
        try:
            return cls(state.store.connection(), contextlib.nullcontext(), True)
        except NotImplementedError:
            return cls(state.store, state.shared_lock, False)

    def close(self) -> None:
        if self.owned:
            self.store.engine.close()


# ---- rows into Arrow ------------------------------------------------------------------------------


def _coerce(kind: FieldType, value: Any) -> Any:
    """A custom property's value as its stored type, or None when it is not one."""
    if value is None:
        return None
    if kind is FieldType.STRING:
        return ("true" if value else "false") if isinstance(value, bool) else str(value)
    if kind is FieldType.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        return True if text in ("true", "yes", "1") else False if text in ("false", "no", "0") else None
    if kind is FieldType.INTEGER:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        elif isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
            value = int(value.strip())
        return value if isinstance(value, int) and not isinstance(value, bool) and abs(value) < INT64 else None
    if kind is FieldType.FLOAT:
        if isinstance(value, bool):
            return None
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            return None
        return number if abs(number) < float("inf") else None
    if kind is FieldType.TIMESTAMP:
        return parse_instant(value)
    return None


def _inferred(values: Sequence[Any]) -> FieldType:
    """The type of a new custom property from the JSON types of its values (strings are typed by the loader)."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return FieldType.BOOLEAN
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return FieldType.INTEGER
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return FieldType.FLOAT
    return FieldType.STRING


def _merged(rows: Sequence[dict[str, Any]], id_column: str) -> list[dict[str, Any]]:
    """One row per id, in arrival order: a later message's values win, its unset ones change nothing.

    The loader keeps only the last row of an id, so an identify followed by a
    group of the same contact in one commit would otherwise lose the traits.
    """
    merged: dict[str, dict[str, Any]] = {}
    for row in rows:
        target = merged.setdefault(row[id_column], {})
        target.update((k, v) for k, v in row.items() if v is not None)
    return list(merged.values())


def entity_table(
    table: Table, rows: Sequence[dict[str, Any]], custom: dict[str, CustomField], room: int
) -> tuple[pa.Table, list[str]]:
    """Rows of contacts or companies as Arrow (built-in columns typed, custom ones as stored or inferred).

    New custom properties beyond ``room`` are dropped; returns the table and what was dropped.
    """
    builtin = {c.name: c.type for c in table.input_columns} | dict.fromkeys(table.references, FieldType.STRING)
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    columns: dict[str, pa.Array] = {}
    dropped: list[str] = []
    for name in names:
        values = [row.get(name) for row in rows]
        if name in builtin:
            columns[name] = pa.array(values, ARROW_TYPES[builtin[name]])
            continue
        known = custom.get(name)
        if known is None:
            if room <= 0:
                dropped.append(name)
                continue
            room -= 1
            kind = _inferred(values)
        else:
            kind = known.type
        if known is not None or kind is FieldType.STRING:
            values = [_coerce(kind, v) for v in values]
        if all(v is None for v in values):
            continue  # nothing to store, and no reason to create the property
        columns[name] = pa.array(values, ARROW_TYPES.get(kind, pa.string()))
    return pa.table(columns), dropped


def event_table(rows: Sequence[Rows]) -> pa.Table:
    """Every request's events as one Arrow table of the loader's import columns (transposed in C by zip).

    Property columns no event of the group has are left out: the loader's validation query is
    planned for the columns given, and most groups have a few of them (page views: url, referrer).
    """
    events = [e for r in rows for e in r.events]
    event_id, contact_id, anonymous_id, event, ts, typed, properties = zip(*events, strict=True)
    columns = [event_id, contact_id, anonymous_id, event, ts, *zip(*typed, strict=True), properties]
    arrays, fields = [], []
    for values, f in zip(columns, EVENT_SCHEMA, strict=True):
        array = pa.array(values, f.type)
        if f.name in EVENT_KEY_COLUMNS or array.null_count < len(array):
            arrays.append(array)
            fields.append(f)
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


# ---- the writer -------------------------------------------------------------------------------------


class Ingestor:
    """The bounded queue and its one writer thread."""

    def __init__(self, state: ServerState, freshener: Freshener | None) -> None:
        self.state = state
        self.settings = state.settings.server
        self.freshener = freshener
        self._cond = threading.Condition()
        self._queue: list[Submission] = []
        self._pending = 0  # messages queued or being committed
        self._stopping = False
        self._last_commit = float("-inf")
        self._conn = Connection.open(state)
        self._conn.store.engine.create_table(IDENTITIES)
        self._identities: OrderedDict[str, str | None] = OrderedDict()
        self.auth = Connection.open(state)  # the tracking endpoints' key checks
        self.auth_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="segmint-ingest", daemon=True)

    @property
    def pending(self) -> int:
        with self._cond:
            return self._pending

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Refuse new requests, store everything queued, then close."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join()
        self._conn.close()
        self.auth.close()

    def check_room(self) -> None:
        """429 at once when the queue is full: an overloaded server does not read and parse the body first."""
        with self._cond:
            full = self._pending >= self.settings.max_pending_events
            pending = self._pending
        if full:
            raise OverloadedError(f"{pending} messages are waiting to be stored; send again in a second", retry_after=1)

    async def store(self, rows: Rows) -> None:
        """Queue ``rows`` and return once they are committed (429 when the queue is full)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        size = max(rows.messages, 1)
        with self._cond:
            if self._stopping:
                raise StoreError("the server is shutting down; send again shortly")
            if self._pending and self._pending + size > self.settings.max_pending_events:
                raise OverloadedError(
                    f"{self._pending} messages are waiting to be stored; send again in a second", retry_after=1
                )
            self._queue.append(Submission(rows, loop, future))
            self._pending += size
            self._cond.notify()  # the writer waits for a first message, enough of them, or a pause
        try:
            await asyncio.wait_for(future, ACK_TIMEOUT)
        except TimeoutError:
            raise StoreError(
                f"not stored within {ACK_TIMEOUT:.0f} s; send again (messageIds make a repeat safe)"
            ) from None

    @property
    def _enough(self) -> int:
        return max(1, self.settings.max_pending_events // 4)

    def _take(self) -> list[Submission] | None:
        """Wait for a group, and take it: the queue's messages once

        - enough have gathered (a quarter of ``max_pending_events``), or the server stops; or
        - the oldest has waited ``commit_interval_ms``; or
        - arrivals paused for ``QUIET`` seconds;

        and at least ``LINGER`` seconds after the last commit ended: the clients it answered have
        had time to send again.  Without that pause their new requests would be a group of their
        own while the others waited for it: two cohorts taking turns, each group half the size it
        could be.
        """
        interval = self.settings.commit_interval_ms / 1000
        with self._cond:
            while not self._queue:
                if self._stopping:
                    return None
                self._cond.wait()
            deadline = max(self._queue[0].arrived + interval, self._last_commit + LINGER)
            while self._pending < self._enough and not self._stopping:
                now = time.monotonic()
                close = min(deadline, max(self._last_commit + LINGER, self._queue[-1].arrived + QUIET))
                if now >= close:
                    break
                self._cond.wait(close - now)
            group, self._queue = self._queue, []
            return group

    def _run(self) -> None:
        while True:
            group = self._take()
            if group is None:
                return
            try:
                outcomes = self._store_group(group)
            except Exception as exc:  # the writer must outlive anything: its requests get an error instead
                log.exception("storing a group of tracked messages failed")
                outcomes = [(submission, _failure(exc)) for submission in group]
            self._last_commit = time.monotonic()
            with self._cond:  # room first: a client that got its answer may send again at once
                self._pending -= sum(max(s.rows.messages, 1) for s in group)
            for submission, error in outcomes:
                with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting
                    submission.loop.call_soon_threadsafe(_settle, submission.future, error)

    def _store_group(self, group: list[Submission]) -> list[tuple[Submission, BaseException | None]]:
        """Commit the group; if it keeps failing, each request alone, so one cannot fail the others."""
        try:
            touched = self._commit_retrying([s.rows for s in group])
        except Exception as exc:
            if len(group) == 1:
                log.exception("storing tracked messages failed")
                return [(group[0], _failure(exc))]
            log.warning("a group commit of %d requests failed (%s); storing them one by one", len(group), exc)
            return [outcome for submission in group for outcome in self._store_group([submission])]
        if self.freshener is not None and touched:
            self.freshener.touch(touched)
        return [(submission, None) for submission in group]

    def _commit_retrying(self, rows: list[Rows]) -> set[str]:
        """Retry what concurrent writers make fail (DuckDB's optimistic transactions conflict)."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                with self._conn.lock:
                    return self.commit(self._conn.store, rows)
            except Exception as exc:
                self._reconnect()  # whatever state the failure left the connection in, the next try starts clean
                if attempt == ATTEMPTS:
                    raise
                log.info("group commit attempt %d failed (%s); trying again", attempt, exc)
                time.sleep(0.02 * 4**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _reconnect(self) -> None:
        try:
            self._conn.close()
        except Exception:
            log.warning("closing the writer's failed connection failed", exc_info=True)
        self._conn = Connection.open(self.state)

    def commit(self, store: Store, rows: Sequence[Rows]) -> set[str]:
        """Store every request's rows in one transaction; returns the contact ids whose segments may change."""
        touched: set[str] = set()
        for r in rows:
            touched |= r.touched
        companies = _merged([c for r in rows for c in r.companies], "company_id")
        contacts = _merged([c for r in rows for c in r.contacts], "contact_id")
        links: dict[str, str] = {}
        for r in rows:
            for anonymous_id, contact_id in r.links:
                links.setdefault(anonymous_id, contact_id)  # the first link wins, as in the store
        anonymous = {a for r in rows for a in r.anonymous}
        events = event_table(rows) if any(r.events for r in rows) else None
        new_fields = False
        learned: dict[str, str | None] = {}
        joined: set[str] = set()
        engine = store.engine
        with engine.transaction():
            custom = store.custom_fields() if companies or contacts else []
            if companies:
                new_fields |= self._load(store, COMPANIES, "company", companies, custom)
            if contacts:
                new_fields |= self._load(store, CONTACTS, "contact", contacts, custom)
            if events is not None:
                summary = _InTransaction(store, "events").load_tracked_events(
                    events, "tracking-events", dedupe_window=DEDUPE_WINDOW
                )
                _report_rejects(summary)
            if links or anonymous:
                learned, joined = self._link(store, links, anonymous)
        # what the store now knows of these ids, once it is committed (a rolled-back link is no link)
        self._identities.update(learned)
        while len(self._identities) > IDENTITY_CACHE:
            self._identities.popitem(last=False)
        if new_fields:
            self.state.store._registry = None  # new request connections see the new properties
        return touched | joined

    def _load(
        self, store: Store, table: Table, entity: str, rows: list[dict[str, Any]], custom: list[CustomField]
    ) -> bool:
        mine = {f.name: f for f in custom if f.entity == entity}
        room = self.settings.max_custom_properties - len(mine)
        data, dropped = entity_table(table, rows, mine, room)
        if dropped:
            log.warning(
                "%s properties %s not stored: tracking may create at most %d (server.max_custom_properties)",
                entity,
                ", ".join(sorted(dropped)[:10]),
                self.settings.max_custom_properties,
            )
        summary = _InTransaction(store, table.name).load_tables([data], f"tracking-{table.name}")
        _report_rejects(summary)
        return bool(summary.new_fields)

    def _link(self, store: Store, links: dict[str, str], anonymous: set[str]) -> tuple[dict[str, str | None], set[str]]:
        """Store new identity links and give the anonymous events they concern their contact.

        Returns the contact (or None) of every anonymous id involved, and the contacts that
        got events.  Which ids are linked is remembered (only this writer links ids), so an id
        is looked up in the store once.
        """
        engine = store.engine
        q = engine.quote
        known: dict[str, str | None] = {}
        unknown = []
        for anonymous_id in sorted(set(links) | anonymous):
            if anonymous_id in self._identities:
                known[anonymous_id] = self._identities[anonymous_id]
            else:
                unknown.append(anonymous_id)
                known[anonymous_id] = None
        for chunk in _chunks(unknown):
            found = engine.query(
                exp.select("anonymous_id", "contact_id")
                .from_(IDENTITIES.name)
                .where(exp.column("anonymous_id").isin(*(exp.Literal.string(i) for i in chunk)))
            ).to_pylist()
            known.update((r["anonymous_id"], r["contact_id"]) for r in found)
        new = {a: c for a, c in links.items() if known[a] is None}
        if new:
            engine.load_arrow(
                IDENTITIES.name,
                pa.table(
                    {
                        "anonymous_id": list(new),
                        "contact_id": list(new.values()),
                        "linked_at": pa.array([datetime.now(UTC)] * len(new), ARROW_TYPES[FieldType.TIMESTAMP]),
                    }
                ),
            )
            known.update(new)
        # the events to give a contact: all of a newly linked id, and this commit's anonymous ones of a known id
        joining = sorted(a for a in known if known[a] is not None and (a in new or a in anonymous))
        for chunk in _chunks(joining):
            match = engine.sql(exp.column("anonymous_id", table="i").isin(*(exp.Literal.string(i) for i in chunk)))
            engine.run(
                f"UPDATE {q(EVENTS.name)} SET contact_key = m.contact_key FROM "
                f"(SELECT i.anonymous_id, c.contact_key FROM {q(IDENTITIES.name)} AS i "
                f"JOIN {q(CONTACTS.name)} AS c ON c.contact_id = i.contact_id WHERE {match}) AS m "
                f"WHERE {q(EVENTS.name)}.anonymous_id = m.anonymous_id AND {q(EVENTS.name)}.contact_key IS NULL"
            )
        return known, {c for a in joining if (c := known[a]) is not None}


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _report_rejects(summary: LoadSummary) -> None:
    """Tracked rows are checked before they are acknowledged; a reject here means a check is missing."""
    for result in summary.files:
        if result.rejected:
            log.warning(
                "%d tracked %s rows rejected by the loader (see %s): %s",
                result.rejected,
                summary.entity,
                result.rejects_path,
                "; ".join(reason for _, reason in result.reject_samples[:3]),
            )


def _failure(exc: Exception) -> SegmintError:
    if isinstance(exc, SegmintError):
        return exc
    return SegmintError("the server could not store these messages; send them again (messageIds make it safe)")


# ---- fresh segments -----------------------------------------------------------------------------------


class Freshener:
    """Flushes the freshness queue on its own thread and connection, under the refresh lock."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.interval = state.settings.server.fresh_interval_seconds
        self._conn = Connection.open(state)
        self.queue = FreshnessQueue(self._conn.store)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="segmint-fresh", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def touch(self, contact_ids: set[str]) -> None:
        self.queue.touch(contact_ids)
        self._wake.set()

    def stop(self) -> None:
        """Flush what is touched, then close."""
        self._stop.set()
        self._wake.set()
        self._thread.join()
        self._conn.close()

    def _run(self) -> None:
        started = ended = float("-inf")
        while True:
            self._wake.wait()
            if not self._stop.is_set():
                # at most one flush per interval; and a flush that took long rests as long as it ran, so
                # the fresh path (much of it Python, holding the GIL) cannot starve the requests and the writer
                self._stop.wait(max(started + self.interval, ended + (ended - started)) - time.monotonic())
            self._wake.clear()
            started = time.monotonic()
            self.flush()
            ended = time.monotonic()
            if self._stop.is_set():
                return

    def flush(self) -> None:
        with self.state.refresh_lock, self._conn.lock:
            # custom properties may have appeared since the last flush (segments can name them)
            self._conn.store._registry = None
            try:
                self.queue.flush()
            except Exception:
                log.exception("refreshing the touched contacts failed; they are retried at the next flush")


# ---- the service -----------------------------------------------------------------------------------------


def ingestor_of(state: ServerState) -> Ingestor:
    """The running writer (503 when the service is not running)."""
    ingestor = state.extras.get("ingest")
    if not isinstance(ingestor, Ingestor):
        raise StoreError("the tracking service is not running")
    return ingestor


def start(state: ServerState) -> None:
    """Start the freshness flusher and the writer."""
    freshener = Freshener(state)
    ingestor = Ingestor(state, freshener)
    freshener.start()
    ingestor.start()
    state.extras["ingest"] = ingestor
    state.extras["fresh"] = freshener


def stop(state: ServerState) -> None:
    """Store what is queued, flush what it touched, close the connections."""
    ingestor = state.extras.pop("ingest", None)
    freshener = state.extras.pop("fresh", None)
    if isinstance(ingestor, Ingestor):
        ingestor.stop()
    if isinstance(freshener, Freshener):
        freshener.stop()


__all__ = ["IDENTITIES", "Freshener", "Ingestor", "Submission", "entity_table", "event_table", "ingestor_of"]
