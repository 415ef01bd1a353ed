"""The generator's entry point: :func:`generate` and the streams of Arrow batches it offers.

Nothing is generated up front: each method walks the contact chunks and
builds only what it yields, so a run of ten million contacts needs the memory
of a few chunks (the one being read and those generated ahead).  Every stream re-derives the chunk's profile from the seed, so
the streams agree with each other (an event's contact exists, a revoked
consent has its unsubscribe) without being kept in memory.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import pyarrow as pa

from segmint.demo.companies import COMPANY_SCHEMA, company_block, company_table
from segmint.demo.config import DemoConfig
from segmint.demo.contacts import CONTACT_SCHEMA, contact_table
from segmint.demo.crm import CONSENT_SCHEMA, DEAL_SCHEMA, consent_table, crm_events, deal_table, deals
from segmint.demo.emails import email_events, plan_emails
from segmint.demo.frame import EVENT_SCHEMA, EventParts, materialize
from segmint.demo.profile import profile
from segmint.demo.web import web_events
from segmint.demo.world import World, build_world

SCHEMAS: dict[str, pa.Schema] = {
    "companies": COMPANY_SCHEMA,
    "contacts": CONTACT_SCHEMA,
    "deals": DEAL_SCHEMA,
    "consents": CONSENT_SCHEMA,
    "events": EVENT_SCHEMA,
}
ENTITIES = tuple(SCHEMAS)


def _rebatch(tables: Iterator[pa.Table], max_rows: int) -> Iterator[pa.RecordBatch]:
    """Gather the chunks' tables into batches of up to ``max_rows`` rows, in order."""
    pending: list[pa.Table] = []
    rows = 0
    for table in tables:
        if not table.num_rows:
            continue
        pending.append(table)
        rows += table.num_rows
        if rows >= max_rows:
            whole = pa.concat_tables(pending).combine_chunks()
            full = rows - rows % max_rows
            yield from whole.slice(0, full).to_batches(max_chunksize=max_rows)
            rest = whole.slice(full)
            pending, rows = ([rest] if rest.num_rows else []), rest.num_rows
    if rows:
        yield from pa.concat_tables(pending).combine_chunks().to_batches(max_chunksize=max_rows)


WORKERS = max(1, min(4, (os.cpu_count() or 1)))
"""Threads generating event chunks ahead of the reader."""


def _ordered_map(build: Callable[[int], pa.Table], chunks: range, workers: int) -> Iterator[pa.Table]:
    """``build(k)`` for each chunk, in order, at most ``workers`` chunks ahead of the reader."""
    if workers <= 1 or len(chunks) <= 1:
        yield from map(build, chunks)
        return
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="segmint-demo")
    try:
        pending: deque[Future[pa.Table]] = deque()
        todo = iter(chunks)
        for chunk in todo:
            pending.append(pool.submit(build, chunk))
            if len(pending) >= workers:
                break
        while pending:
            table = pending.popleft().result()
            for chunk in todo:
                pending.append(pool.submit(build, chunk))
                break
            yield table
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _split(table: pa.Table, max_rows: int) -> Iterator[pa.RecordBatch]:
    """One table as batches of up to ``max_rows`` rows."""
    yield from table.combine_chunks().to_batches(max_chunksize=max_rows)


@dataclass
class DemoData:
    """The demo data of one configuration, as streams of Arrow batches (DATA.md import columns)."""

    config: DemoConfig
    world: World

    def _chunks(self, build: Callable[[int], pa.Table]) -> Iterator[pa.Table]:
        for chunk in range(self.config.chunks):
            yield build(chunk)

    def companies(self) -> Iterator[pa.RecordBatch]:
        """Companies: company_id, name, domain, industry, sub_industry, employees, ... created_at."""
        tables = self._chunks(lambda k: company_table(company_block(self.config, k)))
        return _rebatch(tables, self.config.batch_rows)

    def contacts(self) -> Iterator[pa.RecordBatch]:
        """Contacts: contact_id, email, names, phone, job_title, role, ... plus two custom properties."""
        tables = self._chunks(lambda k: contact_table(self.config, profile(self.config, k)))
        return _rebatch(tables, self.config.batch_rows)

    def deals(self) -> Iterator[pa.RecordBatch]:
        """Deals: deal_id, contact_id, company_id, stage, status, amount, currency, owner, created_at, closed_at."""

        def build(chunk: int) -> pa.Table:
            prof = profile(self.config, chunk)
            return deal_table(prof, deals(self.config, prof))

        return _rebatch(self._chunks(build), self.config.batch_rows)

    def consents(self) -> Iterator[pa.RecordBatch]:
        """Consents: contact_id, channel, purpose, status (granted / revoked), ts, source."""

        def build(chunk: int) -> pa.Table:
            prof = profile(self.config, chunk)
            return consent_table(self.config, prof, plan_emails(self.config, self.world, prof))

        return _rebatch(self._chunks(build), self.config.batch_rows)

    def event_table(self, chunk: int) -> pa.Table:
        """The events of one contact chunk, in time order."""
        config = self.config
        prof = profile(config, chunk)
        parts = EventParts()
        email_events(config, self.world, prof, plan_emails(config, self.world, prof), parts)
        web_events(config, self.world, prof, parts)
        crm_events(config, self.world, prof, deals(config, prof), parts)
        return materialize(self.world, parts, prof.first, prof.created)

    def events(self, every: int = 1) -> Iterator[pa.RecordBatch]:
        """Events: event_id, contact_id, event, ts, the typed property columns and ``properties`` (JSON).

        Streamed chunk by chunk; each batch is in time order (batches are never merged across chunks).
        Chunks are generated ahead on a few threads (numpy and Arrow release the GIL); the output is
        the same as one thread's, in the same order.  ``every`` > 1 keeps the events of one contact
        chunk in ``every`` only (the others' contacts then have CRM data and no tracked behaviour):
        the benchmarks' largest scale uses it to keep the events table at about 100M rows.
        """
        if every < 1:
            raise ValueError(f"every must be at least 1, not {every}")
        for table in _ordered_map(self.event_table, range(0, self.config.chunks, every), WORKERS):
            yield from _split(table, self.config.batch_rows)

    def batches(self, entity: str) -> Iterator[pa.RecordBatch]:
        """The stream of ``entity`` (one of :data:`ENTITIES`)."""
        if entity not in SCHEMAS:
            raise KeyError(f"unknown entity {entity!r}; expected one of {', '.join(ENTITIES)}")
        method: Callable[[], Iterator[pa.RecordBatch]] = getattr(self, entity)
        return method()


def generate(config: DemoConfig) -> DemoData:
    """The demo data of ``config``: cheap to call, the streams generate as they are read."""
    return DemoData(config, build_world(config))
