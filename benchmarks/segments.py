"""Segment evaluation: segmint's compiled SQL against hand-written DuckDB SQL, side by side.

    python -m benchmarks.segments --contacts 100000 [--repeat 5] [--db PATH] [--explain]

Builds (once; later runs reuse it) a DuckDB store holding the demo company at
``--contacts`` contacts (about 100 events each), loaded with segmint's own
loaders (``load_tables``, in the CLI's order) in a child process, so the load's
peak memory is reported apart from the queries'.  Then, for each segment shape,
at ``as_of`` = the demo's end, alternating so machine noise hits both alike:

- ``segmint``: ``segment_members(store, segment, as_of=...)`` — compile (the
  stored segments, the registry, sqlglot) and execute, to an Arrow table;
  compile alone is timed apart as well;
- ``hand``: the same segment written by hand in the fastest DuckDB SQL found,
  on the same connection, to an Arrow table of the same two columns.

Both must return exactly the same members or the run fails.  Reports the
median of ``--repeat`` runs (after one unrecorded warm-up of each) and the
ratio segmint / hand, prints a Markdown table and writes it with the raw
numbers to ``benchmarks/results/segments-<N>.md`` and ``.json``.
``--explain`` also writes ``EXPLAIN ANALYZE`` of both queries of every shape
to ``benchmarks/results/segments-<N>-plans.txt``.

Building loads the events in several ``load_tables`` calls (``--events-per-load``,
10M by default) rather than the CLI's one: a load keeps every Arrow batch it was
given (about 170 bytes an event, outside DuckDB's memory_limit) until its
transaction commits, because ``DuckDBPyConnection.register`` inside an open
transaction is only released at the commit; 100M events in one call need more
than this 24 GB machine.  Each call sorts its own events by time, so ``ts`` zone
maps still prune windows.

The goal (issue): at 1M contacts / 100M events, the three-condition segment in
at most 1 s and within 1.3x of the hand-written SQL.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

import segmint
from segmint.config import Settings, StoreSettings
from segmint.dsl import Segment, parse_segment
from segmint.segments.evaluate import compiler, segment_members
from segmint.store.store import Store

SEED = 7
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)  # DemoConfig().end: the last moment of the demo's history
LOAD_ORDER = ("companies", "contacts", "deals", "consents", "events")  # as segmint.cli.demo loads them
RESULTS = Path(__file__).parent / "results"
GOAL_MS, GOAL_RATIO = 1000.0, 1.3


# ---- the store ------------------------------------------------------------------------------


def settings_for(db: Path, memory_limit: str, temp_dir: Path) -> Settings:
    """segmint's settings for the store: a memory limit and a place to spill, so 100M events fit."""
    return Settings(store=StoreSettings(url=str(db), memory_limit=memory_limit, temp_directory=str(temp_dir)))


def open_store(db: Path, memory_limit: str, temp_dir: Path) -> Store:
    store = segmint.open(str(db), settings_for(db, memory_limit, temp_dir))
    store.engine.run("SET enable_progress_bar = false")  # DuckDB's bar would fill the log
    return store


def marker_path(db: Path) -> Path:
    return db.with_name(db.name + ".bench.json")


def cached_build(db: Path, contacts: int) -> dict[str, Any] | None:
    """What the last build of ``db`` recorded, if the file still holds that demo at that scale."""
    marker = marker_path(db)
    if not db.exists() or not marker.exists():
        return None
    info: dict[str, Any] = json.loads(marker.read_text())
    if info.get("contacts") != contacts or info.get("seed") != SEED:
        return None
    con = duckdb.connect(str(db), read_only=True)
    try:
        stored = con.execute("SELECT (SELECT COUNT(*) FROM contacts), (SELECT COUNT(*) FROM events)").fetchone()
    finally:
        con.close()
    if stored != (contacts, info.get("events")):
        return None
    return info


def slices(batches: Iterable[pa.RecordBatch], rows: int) -> Iterator[Iterator[pa.RecordBatch]]:
    """The batches in consecutive runs of at least ``rows`` rows (each run consumed before the next)."""
    it = iter(batches)
    for first in it:

        def run(batch: pa.RecordBatch = first) -> Iterator[pa.RecordBatch]:
            done = 0
            while True:
                yield batch
                done += batch.num_rows
                following = next(it, None) if done < rows else None
                if following is None:
                    return
                batch = following

        yield run()


def build(db: Path, contacts: int, memory_limit: str, temp_dir: str, events_per_load: int) -> None:
    """Generate the demo and load it with segmint's loaders (run in a child process); write the marker.

    Events go in loads of ``events_per_load`` rows: one ``load_tables`` call keeps every Arrow batch it
    was given alive until its transaction commits (see the module notes), about 170 bytes an event
    outside DuckDB's memory_limit, so 100M events in one call need more memory than the machine has.
    """
    from segmint.demo import DemoConfig, generate
    from segmint.store.load import load_tables

    for stale in (db, db.with_name(db.name + ".wal"), marker_path(db)):
        stale.unlink(missing_ok=True)
    data = generate(DemoConfig(contacts=contacts, seed=SEED))
    seconds: dict[str, float] = {}
    rows: dict[str, int] = {}
    store = open_store(db, memory_limit, Path(temp_dir))
    try:
        for entity in LOAD_ORDER:
            start = time.perf_counter()
            runs = slices(data.events(), events_per_load) if entity == "events" else iter([getattr(data, entity)()])
            rows[entity] = 0
            for i, run in enumerate(runs):
                summary = load_tables(store, entity, run, source=f"demo-{entity}-{i}")
                rows[entity] += summary.total("loaded")
                if summary.total("rejected"):
                    raise SystemExit(f"{entity}: {summary.total('rejected')} rows rejected")
                if entity == "events":
                    print(f"    {rows[entity]:,} events after {time.perf_counter() - start:.1f} s", flush=True)
            seconds[entity] = time.perf_counter() - start
            print(f"  loaded {rows[entity]:,} {entity} in {seconds[entity]:.1f} s", flush=True)
        start = time.perf_counter()
        store.engine.run("CHECKPOINT")
        seconds["checkpoint"] = time.perf_counter() - start
    finally:
        store.close()
    info = {
        "contacts": contacts,
        "seed": SEED,
        "events": rows["events"],
        "rows": rows,
        "load_seconds": seconds,
        "events_per_load": events_per_load,
        "load_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "duckdb": duckdb.__version__,
        "file_mb": db.stat().st_size / 2**20,
    }
    marker_path(db).write_text(json.dumps(info, indent=2))


def ensure_store(
    db: Path, contacts: int, memory_limit: str, temp_dir: Path, events_per_load: int
) -> tuple[dict[str, Any], bool]:
    """The build info of ``db``, building it first (in a child process) unless it is cached."""
    info = cached_build(db, contacts)
    if info is not None:
        return info, False
    print(f"building the demo at {contacts:,} contacts into {db} (generation and segmint's loaders)", flush=True)
    child = multiprocessing.get_context("spawn").Process(
        target=build, args=(db, contacts, memory_limit, str(temp_dir), events_per_load), name="segmint-bench-build"
    )
    child.start()
    child.join()
    if child.exitcode != 0:
        raise SystemExit(f"building the store failed (exit code {child.exitcode})")
    info = cached_build(db, contacts)
    if info is None:
        raise SystemExit("the build finished but the store does not hold the demo")
    return info, True


# ---- the shapes ---------------------------------------------------------------------------------


def ts(moment: datetime) -> str:
    """A TIMESTAMPTZ literal."""
    return f"TIMESTAMPTZ '{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f}+00'"


def ago(days: int) -> str:
    return ts(AS_OF - timedelta(days=days))


NOW = ts(AS_OF)


@dataclass
class Shape:
    """One segment and the same members written by hand in DuckDB SQL."""

    name: str
    summary: str
    document: dict[str, Any]
    hand_sql: str
    stored: list[dict[str, Any]] = field(default_factory=list)  # segments it refers to, applied first


REFERENCE = Shape(
    name="three-condition",
    summary="page_view /pricing >= 2 in 7d AND email_click hydraulics in 30d AND NOT purchase in 365d",
    document={
        "name": "bench-hot-pricing-leads",
        "conditions": [
            {
                "event": "page_view",
                "where": [{"field": "url", "op": "contains", "value": "/pricing"}],
                "within": "7d",
                "count": {"op": "gte", "value": 2},
            },
            {
                "event": "email_click",
                "where": [{"field": "topic", "op": "eq", "value": "hydraulics"}],
                "within": "30d",
            },
            {"not": {"event": "purchase", "within": "365d"}},
        ],
    },
    # Each condition reads only its own window (the events are in time order, so the zone maps on ts
    # skip the rest) and only its own event; the most selective ones first, then the purchases of the
    # few contacts left (DuckDB pushes their keys into the 365-day scan as a join filter).
    hand_sql=f"""
WITH pricing AS (
    SELECT contact_key FROM events
    WHERE ts >= {ago(7)} AND ts <= {NOW} AND event = 'page_view' AND contains(lower(url), '/pricing')
    GROUP BY contact_key HAVING COUNT(*) >= 2
), candidates AS (
    SELECT contact_key FROM pricing
    WHERE contact_key IN (
        SELECT contact_key FROM events
        WHERE ts >= {ago(30)} AND ts <= {NOW} AND event = 'email_click' AND lower(topic) = 'hydraulics')
), bought AS (
    SELECT DISTINCT contact_key FROM events
    WHERE ts >= {ago(365)} AND ts <= {NOW} AND event = 'purchase'
      AND contact_key IN (SELECT contact_key FROM candidates)
)
SELECT c.contact_key AS member_key, c.contact_id AS member_id
FROM contacts c SEMI JOIN candidates USING (contact_key) ANTI JOIN bought USING (contact_key)
ORDER BY member_id
""",
)

PROPERTY = Shape(
    name="property",
    summary="country in (FI, SE) AND seniority in (c_level, manager) AND company.employees between 50 and 500",
    document={
        "name": "bench-fi-se-managers",
        "conditions": [
            {"field": "country", "op": "in", "value": ["FI", "SE"]},
            {"field": "seniority", "op": "in", "value": ["c_level", "manager"]},
            {"field": "company.employees", "op": "between", "value": [50, 500]},
        ],
    },
    hand_sql="""
SELECT c.contact_key AS member_key, c.contact_id AS member_id
FROM contacts c JOIN companies co ON co.company_key = c.company_key
WHERE lower(c.country) IN ('fi', 'se') AND lower(c.seniority) IN ('c_level', 'manager')
  AND co.employees BETWEEN 50 AND 500
ORDER BY member_id
""",
)

BIG_SPENDERS = {
    "name": "bench-big-spenders",
    "conditions": [
        {
            "event": "purchase",
            "within": "365d",
            "aggregate": {"fn": "sum", "field": "amount", "op": "gte", "value": 500},
        }
    ],
}

AGGREGATE = Shape(
    name="aggregate",
    summary="sum(amount) of purchases in 365d >= 500",
    document=BIG_SPENDERS,
    hand_sql=f"""
SELECT c.contact_key AS member_key, c.contact_id AS member_id
FROM contacts c JOIN (
    SELECT contact_key FROM events
    WHERE ts >= {ago(365)} AND ts <= {NOW} AND event = 'purchase'
    GROUP BY contact_key HAVING SUM(amount) >= 500
) s USING (contact_key)
ORDER BY member_id
""",
)

NESTED = Shape(
    name="nested",
    summary="member of bench-big-spenders (the aggregate) AND country = FI",
    document={
        "name": "bench-finnish-big-spenders",
        "conditions": [{"segment": "bench-big-spenders"}, {"field": "country", "op": "eq", "value": "FI"}],
    },
    stored=[BIG_SPENDERS],
    hand_sql=f"""
SELECT c.contact_key AS member_key, c.contact_id AS member_id
FROM contacts c JOIN (
    SELECT contact_key FROM events
    WHERE ts >= {ago(365)} AND ts <= {NOW} AND event = 'purchase'
    GROUP BY contact_key HAVING SUM(amount) >= 500
) s USING (contact_key)
WHERE lower(c.country) = 'fi'
ORDER BY member_id
""",
)

SHAPES = {s.name: s for s in (REFERENCE, PROPERTY, AGGREGATE, NESTED)}


# ---- timing -------------------------------------------------------------------------------------


def timed(run: Callable[[], pa.Table]) -> tuple[float, float, pa.Table]:
    """Wall and CPU milliseconds (the process's CPU time: every DuckDB thread included) and the result.

    CPU time suffers less than wall time from other people's jobs on a shared machine.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000, result


def same_members(shape: str, ours: pa.Table, hand: pa.Table) -> None:
    """Fail the run unless both return exactly the same members (ids and keys)."""
    a = dict(zip(ours.column("member_id").to_pylist(), ours.column("member_key").to_pylist(), strict=True))
    b = dict(zip(hand.column("member_id").to_pylist(), hand.column("member_key").to_pylist(), strict=True))
    if a != b or ours.num_rows != hand.num_rows:
        only_ours, only_hand = sorted(set(a) - set(b)), sorted(set(b) - set(a))
        raise SystemExit(
            f"{shape}: segmint and the hand-written SQL disagree: {ours.num_rows} vs {hand.num_rows} members; "
            f"only segmint: {only_ours[:5]}, only hand-written: {only_hand[:5]}"
        )


def bench_shape(store: Store, shape: Shape, repeat: int, warmup: int) -> dict[str, Any]:
    segment: Segment = parse_segment(shape.document)
    con = store.engine.workspace()
    assert isinstance(con, duckdb.DuckDBPyConnection)

    def ours() -> pa.Table:
        return segment_members(store, segment, as_of=AS_OF)

    def hand() -> pa.Table:
        return con.sql(shape.hand_sql).to_arrow_table()

    def compile_only() -> str:  # what segment_members does before it runs the query
        return store.engine.sql(compiler(store, as_of=AS_OF, extra=segment).compile(segment))

    *_, first = timed(ours)  # warm-ups, unrecorded: both read the same pages and memory afterwards
    *_, reference = timed(hand)
    for _ in range(warmup - 1):
        timed(ours)
        timed(hand)
    same_members(shape.name, first, reference)
    if first.num_rows == 0:
        raise SystemExit(f"{shape.name}: no members; the benchmark needs a segment that matches someone")
    times: dict[str, list[float]] = {"segmint": [], "hand": [], "segmint_cpu": [], "hand_cpu": [], "compile": []}
    for run in range(repeat):
        order = [("segmint", ours), ("hand", hand)]
        for name, fn in order if run % 2 == 0 else order[::-1]:
            ms, cpu, result = timed(fn)
            same_members(shape.name, result, reference)
            times[name].append(ms)
            times[f"{name}_cpu"].append(cpu)
        start = time.perf_counter()
        compile_only()
        times["compile"].append((time.perf_counter() - start) * 1000)
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "shape": shape.name,
        "summary": shape.summary,
        "members": reference.num_rows,
        "segmint_ms": med["segmint"],
        "compile_ms": med["compile"],
        "hand_ms": med["hand"],
        "ratio": med["segmint"] / med["hand"],
        "segmint_cpu_ms": med["segmint_cpu"],
        "hand_cpu_ms": med["hand_cpu"],
        "cpu_ratio": med["segmint_cpu"] / med["hand_cpu"],
        "runs_ms": times,
        "segmint_sql": compiler(store, as_of=AS_OF, extra=segment).sql(segment),
        "hand_sql": shape.hand_sql.strip(),
    }


def explain(store: Store, shape: Shape) -> str:
    """EXPLAIN ANALYZE of both queries, for comparing plans."""
    con = store.engine.workspace()
    assert isinstance(con, duckdb.DuckDBPyConnection)
    segment = parse_segment(shape.document)
    ours = compiler(store, as_of=AS_OF, extra=segment).sql(segment)
    out = []
    for label, sql in (("segmint", ours), ("hand-written", shape.hand_sql)):
        plan = con.execute(f"EXPLAIN ANALYZE {sql}").fetchall()
        out.append(f"==== {shape.name}: {label} ====\n{sql.strip()}\n\n{plan[0][1]}\n")
    return "\n".join(out)


# ---- report -------------------------------------------------------------------------------------


def source_version() -> str:
    """The git commit of the segmint that runs, and whether its compiler differs from it."""
    src = Path(segmint.__file__).parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(src), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(src), "status", "--porcelain", "--", "compile", "segments"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"{src} (not a git checkout)"
    return f"{src} at {commit}{' (compile/ or segments/ modified)' if dirty else ''}"


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def markdown(report: dict[str, Any]) -> str:
    info = report["store"]
    events = info["events"]
    load_s = sum(v for k, v in info["load_seconds"].items() if k != "checkpoint")
    lines = [
        f"# Segment evaluation at {info['contacts']:,} contacts / {events:,} events (DuckDB)",
        "",
        f"- as_of {AS_OF.isoformat()}; median of {report['repeat']} runs after {report['warmup']} warm-ups, "
        "segmint and hand-written alternating on one connection; ms are wall time, CPU ms the process's "
        "CPU time (all DuckDB threads; less sensitive to other jobs on a shared machine)",
        f"- segmint from {report['machine']['segmint']}{' (label ' + report['label'] + ')' if report['label'] else ''}",
        f"- machine: {report['machine']['cpus']} CPUs, DuckDB {report['machine']['duckdb']}, "
        f"memory_limit {report['memory_limit']}, load average {report['load_before']} before / "
        f"{report['load_after']} after",
        f"- store: {info['file_mb']:,.0f} MB; built {info['built_at']}"
        f"{' in this run' if report['built_now'] else ' earlier (cached)'}: "
        f"load {load_s:,.1f} s ({events / info['load_seconds']['events']:,.0f} events/s for the events, "
        f"{events / load_s:,.0f} events/s overall), load peak RSS {info['load_peak_rss_mb']:,.0f} MB",
        f"- query phase peak RSS {report['query_peak_rss_mb']:,.0f} MB",
        "",
        "| shape | members | segmint ms | of which compile ms | hand-written ms | segmint / hand "
        "| segmint CPU ms | hand-written CPU ms | CPU segmint / hand |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in report["results"]:
        lines.append(
            f"| {r['shape']} | {r['members']:,} | {r['segmint_ms']:,.1f} | {r['compile_ms']:,.1f} | "
            f"{r['hand_ms']:,.1f} | {r['ratio']:.2f}x | {r['segmint_cpu_ms']:,.1f} | {r['hand_cpu_ms']:,.1f} | "
            f"{r['cpu_ratio']:.2f}x |"
        )
    lines.append("")
    for r in report["results"]:
        lines.append(f"- {r['shape']}: {r['summary']}")
    ref = next((r for r in report["results"] if r["shape"] == REFERENCE.name), None)
    if ref is not None and info["contacts"] >= 1_000_000:
        ok = ref["segmint_ms"] <= GOAL_MS and ref["ratio"] <= GOAL_RATIO
        lines += [
            "",
            f"Goal (at 1M contacts): three-condition <= {GOAL_MS:.0f} ms and <= {GOAL_RATIO}x hand-written: "
            f"{'met' if ok else 'NOT met'} here ({ref['segmint_ms']:,.0f} ms, {ref['ratio']:.2f}x).",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2, help="unrecorded runs of each query first (at least 1)")
    parser.add_argument("--db", type=Path, help="DuckDB file to build or reuse (default: in the temp directory)")
    parser.add_argument("--memory-limit", default="16GB", help="DuckDB's memory_limit (segmint's StoreSettings)")
    parser.add_argument(
        "--events-per-load",
        type=int,
        default=10_000_000,
        help="events per load_tables call when building (each call holds its Arrow batches until it commits)",
    )
    parser.add_argument("--shapes", default=",".join(SHAPES), help=f"comma-separated, of {', '.join(SHAPES)}")
    parser.add_argument("--explain", action="store_true", help="also write EXPLAIN ANALYZE of both queries")
    parser.add_argument(
        "--label", default="", help="suffix of the result files, e.g. to compare a patched segmint (PYTHONPATH)"
    )
    args = parser.parse_args()
    shapes = [SHAPES[s] for s in args.shapes.split(",")]

    db: Path = args.db or Path(tempfile.gettempdir()) / f"segmint-bench-segments-{args.contacts}.duckdb"
    db.parent.mkdir(parents=True, exist_ok=True)
    spill = db.with_name(db.name + ".tmp")
    spill.mkdir(exist_ok=True)
    info, built_now = ensure_store(db, args.contacts, args.memory_limit, spill, args.events_per_load)

    load_before = load_average()
    store = open_store(db, args.memory_limit, spill)
    results, plans = [], []
    try:
        for shape in shapes:
            for doc in shape.stored:
                store.apply(doc)
        for shape in shapes:
            result = bench_shape(store, shape, args.repeat, args.warmup)
            results.append(result)
            print(
                f"  {shape.name}: {result['members']:,} members, segmint {result['segmint_ms']:,.1f} ms "
                f"(compile {result['compile_ms']:,.1f}), hand {result['hand_ms']:,.1f} ms, "
                f"{result['ratio']:.2f}x (CPU {result['cpu_ratio']:.2f}x)",
                flush=True,
            )
            if args.explain:
                plans.append(explain(store, shape))
    finally:
        store.close()

    report = {
        "repeat": args.repeat,
        "warmup": args.warmup,
        "label": args.label,
        "memory_limit": args.memory_limit,
        "db": str(db),
        "built_now": built_now,
        "store": info,
        "load_before": load_before,
        "load_after": load_average(),
        "query_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "machine": {
            "cpus": os.cpu_count(),
            "duckdb": duckdb.__version__,
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "segmint": source_version(),
        },
        "as_of": AS_OF.isoformat(),
        "results": results,
    }
    text = markdown(report)
    print()
    print(text)
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / f"segments-{args.contacts}{'-' + args.label if args.label else ''}"
    stem.with_suffix(".md").write_text(text)
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    if plans:
        stem.with_name(stem.name + "-plans.txt").write_text("\n".join(plans))
    print(f"wrote {stem}.md and .json")


if __name__ == "__main__":
    main()
