"""Helpers of the lifetime-value tests: the CDNOW sample as purchase events, and loading hand-made rows.

Import with ``from clv_testing import load_cdnow, load_rows`` (pytest puts this folder on the path).
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from segmint.store.load import load_tables

CDNOW_PACKAGE = "lifetimes"
CDNOW_FILE = "lifetimes/datasets/CDNOW_sample.txt"


def cdnow_path() -> Path:
    """The CDNOW sample shipped by the ``lifetimes`` package (read as a file: the package is never imported)."""
    try:
        path = Path(str(importlib.metadata.distribution(CDNOW_PACKAGE).locate_file(CDNOW_FILE)))
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("the CDNOW sample ships in the lifetimes package: pip install -e '.[dev]'")
    assert path.exists(), path
    return path


def cdnow_events() -> pa.Table:
    """Every CDNOW transaction as a purchase event: 2,357 customers, 1997-01-01 to 1998-06-30.

    Columns of the file: customer id, id in the sample, date (YYYYMMDD), CDs bought, dollar value.
    A row is one transaction; its line number is its event id (two rows alike are two purchases).
    """
    ids, times, amounts = [], [], []
    for line in cdnow_path().read_text(encoding="ascii").splitlines():
        if not line.strip():
            continue
        customer, _, day, _, amount = line.split()
        ids.append(f"c{customer}")
        times.append(datetime.strptime(day, "%Y%m%d").replace(tzinfo=UTC))
        amounts.append(float(amount))
    n = len(ids)
    return pa.table(
        {
            "event_id": [f"cdnow-{i}" for i in range(1, n + 1)],
            "contact_id": ids,
            "event": ["purchase"] * n,
            "ts": pa.array(times, pa.timestamp("us", tz="UTC")),
            "amount": amounts,
        }
    )


def load_rows(store: Any, entity: str, rows: Iterable[Mapping[str, Any]]) -> None:
    """Load rows (dicts of import columns, as in a file) into ``store``; no row may be rejected."""
    rows = list(rows)
    if not rows:
        return
    columns = sorted({k for r in rows for k in r})
    table = pa.table({c: [r.get(c) for r in rows] for c in columns})
    summary = load_tables(store, entity, [table], source=f"test-{entity}")
    assert summary.total("rejected") == 0, summary


def load_cdnow(store: Any) -> None:
    """The CDNOW sample into ``store`` through segmint's loader."""
    summary = load_tables(store, "events", [cdnow_events()], source="cdnow")
    assert summary.total("rejected") == 0, summary
    assert summary.total("loaded") == 6919, summary
