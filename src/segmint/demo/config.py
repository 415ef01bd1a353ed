"""The demo generator's settings, its chunking and its random streams.

Contacts are generated in fixed chunks of :data:`CHUNK_CONTACTS`; chunk ``k``
owns company block ``k`` (its contacts work only there), so every chunk can be
produced on its own, in bounded memory, from random streams seeded by
``(seed, stream, k)``.  The output therefore depends on the configuration and
never on how many rows a batch holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum

import numpy as np

SECOND = 1_000_000
"""One second in microseconds, the unit of every timestamp the generator computes."""
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

HISTORY_DAYS = 913
"""Days of event history before ``end`` (two and a half years)."""
CHUNK_CONTACTS = 4096
"""Contacts generated together; fixed so the output does not depend on ``batch_rows``."""
CONTACTS_PER_COMPANY = 7.0
"""About one company per seven contacts (web-shop consumers included)."""

NEVER = np.iinfo(np.int64).min // 4
"""A time before anything (engaged-until of a contact who never engaged)."""
FOREVER = np.iinfo(np.int64).max // 4
"""A time after everything (unsubscribed-at of a contact who never unsubscribed)."""


class Stream(IntEnum):
    """Independent random streams, one per purpose, so that one part changing leaves the others alone."""

    CAMPAIGNS = 1
    COMPANIES = 2
    PROFILE = 3
    CONTACT_TEXT = 4
    EMAIL_PLAN = 5
    EMAIL_EVENTS = 6
    WEB = 7
    DEALS = 8
    CRM_EVENTS = 9
    CONSENTS = 10
    RECENT_CARTS = 11


@dataclass(frozen=True)
class DemoConfig:
    """What to generate: how many contacts, from which seed, ending when, in batches of at most how many rows."""

    contacts: int = 2400
    seed: int = 7
    end: datetime = datetime(2026, 11, 1, tzinfo=UTC)  # last event time; data spans >= 2 years before
    batch_rows: int = 500_000  # max rows per yielded batch

    def __post_init__(self) -> None:
        if self.contacts < 1:
            raise ValueError(f"contacts must be at least 1, not {self.contacts}")
        if self.seed < 0:
            raise ValueError(f"seed must not be negative, not {self.seed}")
        if self.batch_rows < 1:
            raise ValueError(f"batch_rows must be at least 1, not {self.batch_rows}")
        if self.end.tzinfo is None:
            object.__setattr__(self, "end", self.end.replace(tzinfo=UTC))

    @property
    def start(self) -> datetime:
        """The first moment events may have (``end`` minus :data:`HISTORY_DAYS` days)."""
        return self.end - timedelta(days=HISTORY_DAYS)

    @property
    def end_us(self) -> int:
        """``end`` in microseconds since the epoch."""
        return to_us(self.end)

    @property
    def start_us(self) -> int:
        """``start`` in microseconds since the epoch."""
        return to_us(self.start)

    @property
    def chunks(self) -> int:
        """How many contact chunks the run has."""
        return -(-self.contacts // CHUNK_CONTACTS)

    def chunk_contacts(self, chunk: int) -> tuple[int, int]:
        """The first contact index of ``chunk`` and its number of contacts."""
        first = chunk * CHUNK_CONTACTS
        return first, min(CHUNK_CONTACTS, self.contacts - first)

    def chunk_companies(self, chunk: int) -> tuple[int, int]:
        """The first company index of block ``chunk`` and its number of companies."""
        per_block = round(CHUNK_CONTACTS / CONTACTS_PER_COMPANY)
        _, n = self.chunk_contacts(chunk)
        return chunk * per_block, max(1, round(n / CONTACTS_PER_COMPANY))

    def rng(self, stream: Stream, chunk: int = 0) -> np.random.Generator:
        """The random generator of ``stream`` for ``chunk``: the same for the same seed, always."""
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence([self.seed, int(stream), chunk])))


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime.

    >>> to_us(datetime(1970, 1, 2, tzinfo=UTC))
    86400000000
    """
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * SECOND + delta.microseconds


def from_us(us: int) -> datetime:
    """The aware datetime of microseconds since the epoch.

    >>> from_us(86_400_000_000).isoformat()
    '1970-01-02T00:00:00+00:00'
    """
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)


def pick(rng: np.random.Generator, weights: np.ndarray | tuple[float, ...], size: int) -> np.ndarray:
    """``size`` draws of indices with the given (unnormalised) weights, vectorised."""
    w = np.asarray(weights, dtype=np.float64)
    cum = np.cumsum(w / w.sum())
    cum[-1] = 1.0
    return np.searchsorted(cum, rng.random(size), side="right").astype(np.int64)


def pick_rows(rng: np.random.Generator, table: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One draw per element of ``rows``, each from the weights in ``table[rows[i]]``."""
    t = np.asarray(table, dtype=np.float64)
    cum = np.cumsum(t / t.sum(axis=1, keepdims=True), axis=1)
    cum[:, -1] = 1.0
    u = rng.random(len(rows))
    return (u[:, None] >= cum[rows]).sum(axis=1).astype(np.int64)


def office_hours(ts: np.ndarray, rng: np.random.Generator, b2b: np.ndarray) -> np.ndarray:
    """Move times to daytime (UTC), and where ``b2b`` mostly to weekdays (office hours in Finland)."""
    day = ts // DAY
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    weekend = b2b & (weekday >= 5) & (rng.random(len(ts)) < 0.85)
    day = day + np.where(weekend, 7 - weekday, 0)
    hour = np.where(b2b, rng.uniform(5.0, 15.5, len(ts)), rng.uniform(5.0, 20.0, len(ts)))  # UTC
    return day * DAY + (hour * HOUR).astype(np.int64)
