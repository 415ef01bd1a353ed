"""Events as integer codes while they are generated, and as one Arrow table per chunk at the end.

Each generator adds a *part*: the event name, the contact (position in the
chunk), the time and the codes of whatever properties that event has.
:func:`materialize` concatenates the parts, drops what falls outside the
history window, numbers each contact's events in time order (``event_id`` =
``ev-<contact index>-<n>``), sorts by time and turns codes into strings by
taking from the world's vocabularies.  No Python loop runs per event.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segmint.demo.world import World

TS = pa.timestamp("us", tz="UTC")

EVENT_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("contact_id", pa.string()),
        ("event", pa.string()),
        ("ts", TS),
        ("campaign_id", pa.string()),
        ("url", pa.string()),
        ("link_url", pa.string()),
        ("referrer", pa.string()),
        ("utm_source", pa.string()),
        ("utm_medium", pa.string()),
        ("utm_campaign", pa.string()),
        ("topic", pa.string()),
        ("bounce_type", pa.string()),
        ("machine_open", pa.bool_()),
        ("amount", pa.float64()),
        ("price", pa.float64()),
        ("currency", pa.string()),
        ("order_id", pa.string()),
        ("product_id", pa.string()),
        ("category", pa.string()),
        ("query", pa.string()),
        ("properties", pa.string()),
    ]
)

#: Integer code fields a part may set (unset: -1), the float fields (unset: NaN) and the spliced number.
INT_FIELDS = (
    "campaign",
    "url",
    "link",
    "traffic",
    "utm_campaign",
    "topic",
    "bounce",
    "machine",
    "product",
    "category",
    "query",
    "props",
    "order",
)
FLOAT_FIELDS = ("amount", "price")
NUMBER_FIELD = "props_num"  # a number spliced into the properties JSON (ticket ids); may outgrow 32 bits
_DTYPES = {
    **dict.fromkeys(INT_FIELDS, np.int32),
    **dict.fromkeys(FLOAT_FIELDS, np.float64),
    NUMBER_FIELD: np.int64,
    "event": np.int32,
    "contact": np.int32,
    "ts": np.int64,
}


class EventParts:
    """The events of one chunk while they are being generated."""

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []

    def add(self, event: int, contact: np.ndarray, ts: np.ndarray, **codes: Any) -> None:
        """Add events named ``event`` for ``contact`` at ``ts``; ``codes`` are arrays or scalars of the same length."""
        n = len(contact)
        if n == 0:
            return
        part = {"event": np.full(n, event, np.int32), "contact": np.asarray(contact), "ts": np.asarray(ts)}
        for name, value in codes.items():
            if name not in _DTYPES or name in part:
                raise KeyError(f"unknown event field {name!r}")
            part[name] = np.asarray(value)
        self.parts.append(part)

    def __len__(self) -> int:
        return sum(len(p["ts"]) for p in self.parts)

    def column(self, name: str, rows: np.ndarray | None = None) -> np.ndarray:
        """One field over every part (unset values filled in), optionally taken at ``rows``."""
        dtype = _DTYPES[name]
        if not any(name in p for p in self.parts):
            return np.full(len(self) if rows is None else len(rows), np.nan if dtype == np.float64 else -1, dtype)
        out = np.full(len(self), np.nan if dtype == np.float64 else -1, dtype)
        at = 0
        for part in self.parts:
            size = len(part["ts"])
            if name in part:
                out[at : at + size] = part[name]
            at += size
        return out if rows is None else np.take(out, rows)


def _take(vocab: pa.Array, codes: np.ndarray) -> pa.Array:
    """``vocab[codes]``, null where the code is negative."""
    missing = codes < 0
    if missing.all():
        return pa.nulls(len(codes), vocab.type)
    indices = pa.array(codes, mask=missing if missing.any() else None)
    return vocab.take(indices)


def _strings(values: np.ndarray) -> pa.Array:
    """Decimal strings of non-negative integers, null for negative ones."""
    missing = values < 0
    return pc.cast(pa.array(values, mask=missing if missing.any() else None), pa.string())


_POSITION_BITS = 24
_POSITION_MASK = (1 << _POSITION_BITS) - 1


def _order(keys: np.ndarray) -> np.ndarray:
    """Positions that sort ``keys`` (non-negative, < 2**39), ties in position order: the same on every machine."""
    if len(keys) <= _POSITION_MASK:
        packed = (keys.astype(np.int64) << _POSITION_BITS) | np.arange(len(keys), dtype=np.int64)
        return np.sort(packed) & _POSITION_MASK  # unique keys: any sort algorithm gives this order
    return np.argsort(keys, kind="stable")


def _ranks(groups: np.ndarray) -> np.ndarray:
    """For each element, how many equal elements come before it (0, 1, 2, ...)."""
    by_group = _order(groups)
    sorted_groups = np.take(groups, by_group)
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    ranks = np.empty(len(groups), np.int64)
    ranks[by_group] = np.arange(len(groups)) - np.repeat(starts, np.diff(np.r_[starts, len(groups)]))
    return ranks


def materialize(world: World, parts: EventParts, first: int, created: np.ndarray) -> pa.Table:
    """The chunk's events as one Arrow table in time order (contacts ``first`` .. ``first + len(created) - 1``)."""
    if not parts.parts:
        return EVENT_SCHEMA.empty_table()
    config = world.config
    start_s = config.start_us // 1_000_000
    ts, contact = parts.column("ts"), parts.column("contact")
    seconds = ts // 1_000_000 - start_s  # whole seconds since the window opened
    keep = np.flatnonzero((ts >= np.take(created, contact)) & (seconds >= 0) & (ts <= config.end_us))
    rows = np.take(keep, _order(np.take(seconds, keep)))
    contact = np.take(contact, rows)
    ts = (np.take(seconds, rows) + start_s) * 1_000_000
    c = {name: parts.column(name, rows) for name in (*INT_FIELDS, "event")}
    amount, price = parts.column("amount", rows), parts.column("price", rows)

    # event_id: ev-<contact index>-<the contact's n-th event, in time order>
    n_contacts = len(created)
    contact_idx = pa.array(contact)
    prefixes = pc.binary_join_element_wise(
        "ev", pc.cast(pa.array(np.arange(first, first + n_contacts, dtype=np.int64)), pa.string()), "", "-"
    )
    ordinal = _ranks(contact)
    numerals = pc.cast(pa.array(np.arange(int(ordinal.max()) + 1 if len(ordinal) else 0)), pa.string())
    event_id = pc.binary_join_element_wise(prefixes.take(contact_idx), numerals.take(pa.array(ordinal)), "")
    contact_ids = pc.binary_join_element_wise(
        "C", pc.cast(pa.array(np.arange(first + 100001, first + 100001 + n_contacts, dtype=np.int64)), pa.string()), ""
    )

    a = world.arrays
    traffic, machine = c["traffic"], c["machine"]
    has_money = ~(np.isnan(amount) & np.isnan(price))
    columns = [
        event_id,
        contact_ids.take(contact_idx),
        _take(a["event"], c["event"]),
        pa.array(ts, TS),
        _take(a["campaign_id"], c["campaign"]),
        _take(a["url"], c["url"]),
        _take(a["link_url"], c["link"]),
        _take(a["referrer"], traffic),
        _take(a["utm_source"], traffic),
        _take(a["utm_medium"], traffic),
        _take(a["utm_campaign"], c["utm_campaign"]),
        _take(a["topic"], c["topic"]),
        _take(a["bounce_type"], c["bounce"]),
        pa.array(machine == 1, pa.bool_(), mask=machine < 0),
        pa.array(amount, pa.float64(), from_pandas=True),
        pa.array(price, pa.float64(), from_pandas=True),
        _take(a["currency"], np.where(has_money, 0, -1)),
        _order_ids(c["order"], contact, first),
        _take(a["product_id"], c["product"]),
        _take(a["topic"], c["category"]),
        _take(a["query"], c["query"]),
        _properties(world, c["props"], parts.column(NUMBER_FIELD, rows)),
    ]
    return pa.Table.from_arrays(columns, schema=EVENT_SCHEMA)


def _sparse(values: pa.Array, where: np.ndarray, n: int) -> pa.Array:
    """An array of ``n`` nulls with ``values`` at positions ``where`` (a single take, no per-row work)."""
    indices = np.full(n, -1, np.int64)
    indices[where] = np.arange(len(where))
    return _take(values, indices)


def _order_ids(order: np.ndarray, contact: np.ndarray, first: int) -> pa.Array:
    """``WS-<contact number>-<k>`` for purchases, null elsewhere."""
    where = np.flatnonzero(order >= 0)
    if not len(where):
        return pa.nulls(len(order), pa.string())
    ids = pc.binary_join_element_wise(
        "WS", _strings(np.take(contact, where) + first + 1), _strings(np.take(order, where)), "-"
    )
    return _sparse(ids, where, len(order))


def _properties(world: World, props: np.ndarray, number: np.ndarray) -> pa.Array:
    """The ``properties`` JSON objects: vocabulary entries, with a number spliced in where one is given."""
    vocab = world.arrays["properties"]
    where = np.flatnonzero(number >= 0)
    if not len(where):
        return _take(vocab, props)
    codes = pa.array(np.take(props, where))
    spliced = pc.binary_join_element_wise(
        vocab.take(codes), _strings(np.take(number, where)), world.arrays["properties_tail"].take(codes), ""
    )
    indices = props.astype(np.int64)
    indices[where] = len(vocab) + np.arange(len(where))
    return _take(pa.concat_arrays([vocab, spliced]), indices)
