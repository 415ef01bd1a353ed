"""Fresh within a second: refresh only the contacts whose events just arrived.

A full refresh evaluates every segment for every contact.  When events arrive
for a few contacts (the HTTP server's event endpoint), only those contacts'
memberships can have changed, so :func:`refresh_contacts` re-evaluates the
dynamic segments with SQL restricted to their keys (``refresh_segments(...,
keys=...)``) and leaves everyone else's membership alone.  Entries and exits
are recorded exactly as a full refresh records them.

What events of a contact can change, and so what is refreshed:

- the contact's traits and its company's (``compute_traits`` with their keys;
  statistics over everyone, such as RFM quintiles or value-tier cutoffs, are
  computed over everyone, so the touched contacts get exactly what a full
  refresh would give them, while the others keep theirs until the next one);
- the contact segments, for the contact itself;
- the company segments, for the contact's company (SEGMENTS.md: a company's
  event conditions count the events of all its contacts).

Restricting keys is sound because every condition of a member depends only on
that member's own row, company and events; ``not`` is the complement member by
member, and a ``segment:`` condition evaluates the nested segment inline in
the same query.  What it does not catch is change that no event causes: a
window sliding past an old event as time passes, or a contact moving to
another company.  Those need the periodic full refresh (``segmint segment
refresh``) or a call naming the contacts the change touched.  Likewise an event
stamped later than the refresh's ``as_of`` (a client clock running ahead) does
not exist yet for it (SEGMENTS.md) and counts only from a later refresh.

:class:`FreshnessQueue` batches the contacts touched by many small requests
into one refresh, so a busy server refreshes once a second, not once an event:

>>> from segmint.store import open_store
>>> import tempfile, os
>>> with open_store(os.path.join(tempfile.mkdtemp(), "crm.duckdb")) as store:
...     queue = FreshnessQueue(store)
...     queue.touch(["ann@example.com", "bo@example.com"])
...     queue.touch(["ann@example.com"])
...     queue.pending
...     queue.flush()   # no stored segments: nothing to refresh
...     queue.pending
2
[]
0
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from sqlglot import exp

from segmint.model.tables import CONTACTS
from segmint.segments.definitions import stored_segments
from segmint.segments.evaluate import now_utc
from segmint.segments.refresh import RefreshResult, refresh_segments
from segmint.store.store import Store

log = logging.getLogger(__name__)

#: ids per lookup query (a literal IN list: engines cope with it, and micro-batches are small)
ID_CHUNK = 1000


def touched_keys(store: Store, contact_ids: Iterable[str]) -> tuple[list[int], list[int]]:
    """The keys of the contacts with these ids and of their companies; unknown ids are skipped.

    >>> from segmint.store import open_store
    >>> import tempfile, os
    >>> with open_store(os.path.join(tempfile.mkdtemp(), "crm.duckdb")) as store:
    ...     touched_keys(store, ["nobody"])
    ([], [])
    """
    ids = list(dict.fromkeys(str(i) for i in contact_ids))
    contact_keys: set[int] = set()
    company_keys: set[int] = set()
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        rows = store.engine.query(
            exp.select("contact_key", "company_key")
            .from_(CONTACTS.name)
            .where(exp.column("contact_id").isin(*(exp.Literal.string(i) for i in chunk)))
        ).to_pylist()
        for row in rows:
            contact_keys.add(int(row["contact_key"]))
            if row["company_key"] is not None:
                company_keys.add(int(row["company_key"]))
    return sorted(contact_keys), sorted(company_keys)


def refresh_contacts(store: Store, contact_ids: Iterable[str], *, as_of: datetime | None = None) -> list[RefreshResult]:
    """Bring the dynamic segments of these contacts (and of their companies) up to date at ``as_of``.

    Only the given contacts are re-evaluated for contact segments, and only
    their companies for company segments; every other member keeps its
    membership.  Returns one :class:`RefreshResult` per segment refreshed
    (contact segments first), each counting the entries and exits of this
    call; ``size`` is the segment's whole size after it.  Ids the store does
    not know are ignored; with no known id nothing is refreshed or recorded.

    The contact segments and the company segments are refreshed in two
    transactions, each recorded as one refresh in ``segment_refreshes``.
    """
    when = (as_of or now_utc()).astimezone(UTC)  # one instant for both entities
    contact_keys, company_keys = touched_keys(store, contact_ids)
    if not contact_keys:
        return []
    from segmint.traits import compute_traits  # traits first: segments read them

    compute_traits(store, as_of=when, contact_keys=contact_keys, company_keys=company_keys)
    dynamic = {name: s for name, s in stored_segments(store).items() if s.kind == "dynamic"}
    results: list[RefreshResult] = []
    for entity, keys in (("contact", contact_keys), ("company", company_keys)):
        names = [name for name, s in dynamic.items() if s.entity == entity]
        if names and keys:
            results += refresh_segments(store, as_of=when, names=names, keys=keys)
    return results


class FreshnessQueue:
    """Micro-batching for :func:`refresh_contacts`: many ``touch`` calls, one refresh per ``flush``.

    ``touch`` may be called from any thread (request handlers); ``flush``
    runs the refresh on the calling thread, so the store's connection must
    belong to the thread that flushes (typically the one running
    :meth:`run_every`).  Flushes never overlap, and a flush that fails keeps
    its ids for the next one, so no touched contact is forgotten.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pending: set[str] = set()
        self._lock = threading.Lock()  # guards _pending
        self._flushing = threading.Lock()  # one flush at a time

    def touch(self, contact_ids: Iterable[str]) -> None:
        """Note contacts whose events just arrived (thread-safe, cheap: no query)."""
        ids = {str(i) for i in contact_ids}
        with self._lock:
            self._pending |= ids

    @property
    def pending(self) -> int:
        """How many distinct contacts wait for the next flush."""
        with self._lock:
            return len(self._pending)

    def flush(self, as_of: datetime | None = None) -> list[RefreshResult]:
        """Refresh every contact touched since the last flush, in one call, and forget them."""
        with self._flushing:
            with self._lock:
                ids, self._pending = self._pending, set()
            if not ids:
                return []
            try:
                return refresh_contacts(self.store, sorted(ids), as_of=as_of)
            except BaseException:
                self.touch(ids)  # retried by the next flush
                raise

    def run_every(
        self,
        seconds: float,
        stop: threading.Event,
        *,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        """Flush every ``seconds`` until ``stop`` is set, then flush once more.

        Meant for a thread of its own, started by the server (nothing starts
        on import).  An error is passed to ``on_error`` (default: logged) and
        the loop goes on; the failed flush's contacts are retried next time.
        """
        while True:
            stopping = stop.wait(seconds)
            try:
                self.flush()
            except Exception as exc:
                if on_error is not None:
                    on_error(exc)
                else:
                    log.exception("refreshing touched contacts failed; they are retried at the next flush")
            if stopping:
                return


__all__ = ["FreshnessQueue", "refresh_contacts", "touched_keys"]
