"""Load throughput: segmint's loaders against DuckDB's own readers, side by side.

    python -m benchmarks.load --events 1000000 [--repeat 3]

Writes one events file in Parquet and CSV, then times, in the same run and
alternating so machine noise hits both alike:

- ``segmint``: ``load_files(store, "events", [file])`` into a fresh DuckDB store —
  validation, rejects, event-id deduplication, reference creation, time order;
- ``limit``: DuckDB's ``read_parquet`` / ``read_csv`` straight into a table of the
  same columns, in time order — what the hardware can do with no checks at all.

Reports events/s for both and their ratio (median of the repeats).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

import segmint
from segmint.store.load import load_files

EVENT_NAMES = np.array(["email_sent", "email_open", "email_click", "page_view", "purchase", "cart_add"])


def make_events(n: int, seed: int = 1) -> pa.Table:
    """n events of n/100 contacts in time order, with the usual properties."""
    rng = np.random.default_rng(seed)
    ts = np.sort(rng.integers(1_650_000_000_000_000, 1_760_000_000_000_000, n))
    maybe = lambda share, value: pa.array(np.where(rng.random(n) < share, value, None))  # noqa: E731
    return pa.table(
        {
            "event_id": pa.array(np.char.add("ev-", np.arange(n).astype(str))),
            "contact_id": pa.array(np.char.add("c", rng.integers(0, max(n // 100, 1), n).astype(str))),
            "event": pa.array(EVENT_NAMES[rng.integers(0, len(EVENT_NAMES), n)]),
            "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
            "campaign_id": maybe(0.5, "cmp-2026-11"),
            "url": maybe(0.3, "/pricing"),
            "topic": maybe(0.2, "hydraulics"),
            "amount": pa.array(
                np.where(rng.random(n) < 0.05, np.round(rng.random(n) * 500, 2), np.nan), from_pandas=True
            ),
        }
    )


def time_segmint(path: Path, work: Path, run: int) -> float:
    store = segmint.open(str(work / f"segmint-{path.suffix[1:]}-{run}.duckdb"))
    try:
        start = time.perf_counter()
        summary = load_files(store, "events", [path], rejects_dir=work / "rejects")
        elapsed = time.perf_counter() - start
        assert summary.total("rejected") == 0
    finally:
        store.close()
    return elapsed


def time_limit(path: Path, work: Path, run: int) -> float:
    con = duckdb.connect(str(work / f"limit-{path.suffix[1:]}-{run}.duckdb"))
    reader = "read_parquet" if path.suffix == ".parquet" else "read_csv"
    con.execute(f"CREATE TABLE events AS SELECT * FROM {reader}('{path}') LIMIT 0")
    start = time.perf_counter()
    con.execute(f"INSERT INTO events SELECT * FROM {reader}('{path}') ORDER BY ts")
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="segmint-bench-") as tmp:
        work = Path(tmp)
        table = make_events(args.events)
        files = {"parquet": work / "events.parquet", "csv": work / "events.csv"}
        pq.write_table(table, files["parquet"])
        pacsv.write_csv(table, files["csv"])
        print(f"{args.events:,} events; median of {args.repeat} runs, alternating segmint and the limit\n")
        print("| format | segmint events/s | DuckDB limit events/s | segmint / limit time |")
        print("| --- | ---: | ---: | ---: |")
        for fmt, path in files.items():
            ours, limit = [], []
            for run in range(args.repeat):
                ours.append(time_segmint(path, work, run))
                limit.append(time_limit(path, work, run))
            o, lim = statistics.median(ours), statistics.median(limit)
            print(f"| {fmt} | {args.events / o:,.0f} | {args.events / lim:,.0f} | {o / lim:.2f}x |")


if __name__ == "__main__":
    main()
