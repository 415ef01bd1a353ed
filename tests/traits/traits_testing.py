"""Helpers for the traits models' tests: a small hand-made data set loaded into a real store.

Import with ``from traits_testing import load_data, traits_by_id`` (pytest puts this folder on the path).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import pyarrow as pa

from segmint.store.load.loader import load_tables
from segmint.traits import compute_traits, trait_models


def load_rows(store: Any, entity: str, rows: Iterable[Mapping[str, Any]]) -> None:
    """Load rows (dicts of import columns, as in a file) into ``store``; no row may be rejected."""
    rows = list(rows)
    if not rows:
        return
    columns = sorted({k for r in rows for k in r})
    table = pa.table({c: [r.get(c) for r in rows] for c in columns})
    summary = load_tables(store, entity, [table], source=f"test-{entity}")
    assert summary.total("rejected") == 0, summary


def load_data(store: Any, data: Mapping[str, Iterable[Mapping[str, Any]]]) -> None:
    """``data``: entity -> rows, loaded in the order companies, contacts, deals, consents, events."""
    for entity in ("companies", "contacts", "deals", "consents", "events"):
        load_rows(store, entity, data.get(entity, ()))


def traits_by_id(store: Any, model: str, as_of: datetime, **kwargs: Any) -> dict[str, dict[str, Any]]:
    """Compute the traits at ``as_of`` and return one model's rows by the contact's (company's) id."""
    models = {m.name: m for m in trait_models(store.settings)}
    needed, todo = set(), [model]
    while todo:  # the model and the models it reads, not all of them (Spark computes slowly)
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo.extend(models[name].requires)
    kwargs.setdefault("names", needed)
    compute_traits(store, as_of=as_of, **kwargs)
    m = models[model]
    entity_table, ident = ("companies", "company_id") if m.entity == "company" else ("contacts", "contact_id")
    rows = store.engine.query(
        f"SELECT x.{ident} AS id, t.* FROM {m.table} t JOIN {entity_table} x ON x.{m.key} = t.{m.key}"
    ).to_pylist()
    return {r.pop("id"): {k: v for k, v in r.items() if k != m.key} for r in rows}
