"""The benchmark runner: segmint against its baselines on the demo company, one scale per run.

    python -m benchmarks run [--contacts N] [--only load,segments,refresh,tracking,clv] [--repeat R]

Makes the data with the demo generator at ``--contacts`` (about 100 events a
contact; above ``--full-events-up-to`` contacts, the events of one contact in
``--events-every`` only, so 10M contacts keep about 100M events), writes it
once as Parquet (reused while it holds the same scale), then runs the stages,
each in a child process of its own so its peak resident memory is its own:

- ``load``: the events from Parquet and from CSV into a new DuckDB store with
  segmint's loader (validation, rejects, event-id deduplication, contact
  keys, time order), against DuckDB's own ``read_parquet`` / ``read_csv``
  into a table of the same columns in time order (the limit).  The Parquet
  load builds the store the other stages use; with PostgreSQL, the same files
  are also loaded into a PostgreSQL store with segmint (reported, no baseline);
- ``segments``: the ten reference segments of :mod:`benchmarks.shapes`, each
  the median of ``--repeat`` runs after ``--warmup`` unrecorded ones, the
  implementations alternating so machine noise hits all alike: segmint on
  DuckDB, hand-written SQL on DuckDB (the limit), pandas on frames already in
  memory, segmint on PostgreSQL, the same hand-written SQL on PostgreSQL.
  Every implementation must return exactly the same members or the run fails;
- ``refresh``: the playbook installed, then one full refresh as ``segmint
  refresh`` runs it (every trait, then every segment), timed in its parts;
- ``tracking``: ``segmint serve`` on a copy of the store, Segment batches
  through ``POST /v1/batch``: events/s, p50 and p99 latency, alone and while
  full refreshes run (see :mod:`benchmarks.tracking`);
- ``clv``: the lifetime-value models fitted on the store's purchases, and on
  as many drawn buyers as the scale has contacts (see :mod:`benchmarks.clv`).

PostgreSQL is a server this run starts from the installed binaries, its data
directory kept in the work directory (so a loaded store is reused), unless
``--postgres URL`` names one, or ``--postgres off``.

Writes ``benchmarks/results/bench-<N>.md`` and ``.json``: one table of
measures, each with its ratio to its baseline, plus the machine and the
stage's peak memory.  Ratios are of times (segmint ÷ baseline; below 1 means
segmint is faster), measured in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

RESULTS = Path(__file__).parent / "results"
STAGES = ("load", "segments", "refresh", "tracking", "clv")
SEED = 7
EVENT_FILE_ROWS = 10_000_000  # events per Parquet file
GOALS = {
    "load_events_per_s": 1_000_000,  # from Parquet
    "segment_vs_hand": 1.3,  # segmint time at most 1.3x the hand-written DuckDB SQL
    "segment_vs_pandas": 10.0,  # segmint at least 10x faster than pandas
    "segment_vs_pg_hand": 1.0,  # faster than the hand-written SQL on PostgreSQL
    "refresh_seconds": 60.0,  # a full refresh of 1M contacts / 100M events
}
PG_SETTINGS = {  # a PostgreSQL tuned for this machine as a careful DBA would (the defaults are for 128 MB)
    "shared_buffers": "4GB",
    "work_mem": "256MB",
    "maintenance_work_mem": "1GB",
    "effective_cache_size": "16GB",
    "max_parallel_workers_per_gather": "2",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
}


@dataclass
class Options:
    contacts: int = 2400
    only: tuple[str, ...] = STAGES
    repeat: int = 5
    warmup: int = 1
    pg_repeat: int = 0  # 0: as --repeat up to 10M events, then 1
    pg_timeout: float = 120.0  # seconds; a PostgreSQL query over it is recorded as timed out
    work: Path = Path("bench-work")
    memory_limit: str = "10GB"
    postgres: str = "auto"  # auto | off | a URL
    csv_events: int = 5_000_000
    events_every: int = 10
    full_events_up_to: int = 1_000_000
    tracking_seconds: float = 10.0
    results: Path = RESULTS
    clv_buyers: int = 0  # drawn buyers the lifetime-value fits are timed on; 0: as many as contacts

    @property
    def dir(self) -> Path:
        return self.work / str(self.contacts)

    @property
    def every(self) -> int:
        return 1 if self.contacts <= self.full_events_up_to else self.events_every


@dataclass
class Measure:
    """One row of the table: segmint's figure, a baseline's, and the ratio of their times."""

    stage: str
    measure: str
    segmint: float
    unit: str
    baseline: str = ""
    baseline_value: float | None = None
    ratio: float | None = None  # segmint time / baseline time
    goal: str = ""
    met: bool | None = None
    note: str = ""


# ---- small helpers ----------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def source_version() -> str:
    """The git commit of the segmint that runs (and whether its sources are modified)."""
    import segmint

    src = Path(segmint.__file__).parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(src), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(src), "status", "--porcelain", "--", "."], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return commit + (" (modified)" if dirty else "")


def machine() -> dict[str, Any]:
    memory = 0
    with contextlib.suppress(OSError, ValueError):
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(memory / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "segmint": source_version(),
    }


def open_duckdb_store(db: Path, options: Options) -> Any:
    import segmint
    from segmint.config import Settings, StoreSettings

    spill = options.dir / "spill"
    spill.mkdir(parents=True, exist_ok=True)
    settings = Settings(store=StoreSettings(url=str(db), memory_limit=options.memory_limit, temp_directory=str(spill)))
    store = segmint.open(str(db), settings)
    store.engine.run("SET enable_progress_bar = false")
    return store


def limit_connection(db: Path, options: Options) -> duckdb.DuckDBPyConnection:
    """A plain DuckDB connection with the same memory limit and spill directory as segmint's store."""
    spill = options.dir / "spill"
    spill.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db), config={"memory_limit": options.memory_limit, "temp_directory": str(spill)})
    con.execute("SET enable_progress_bar = false")
    return con


def remove_db(db: Path) -> None:
    for path in (db, db.with_name(db.name + ".wal")):
        path.unlink(missing_ok=True)


# ---- data ------------------------------------------------------------------------------------------------


ENTITIES = ("companies", "contacts", "deals", "consents", "events")  # as `segmint demo` loads them


def data_dir(options: Options) -> Path:
    return options.dir / "data"


def data_marker(options: Options) -> dict[str, Any]:
    return {"contacts": options.contacts, "seed": SEED, "events_every": options.every, "csv_events": options.csv_events}


def data_ready(options: Options) -> dict[str, Any] | None:
    marker = data_dir(options) / "data.json"
    if not marker.exists():
        return None
    info: dict[str, Any] = json.loads(marker.read_text())
    return info if all(info.get(k) == v for k, v in data_marker(options).items()) else None


def event_files(options: Options) -> list[Path]:
    return sorted(data_dir(options).glob("events-*.parquet"))


def make_data(options: Options) -> dict[str, Any]:
    """The demo at this scale as Parquet files (events in files of EVENT_FILE_ROWS) and one CSV sample of events."""
    from segmint.demo import DemoConfig, generate

    out = data_dir(options)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    data = generate(DemoConfig(contacts=options.contacts, seed=SEED))
    rows: dict[str, int] = {}
    started = time.perf_counter()
    for entity in ENTITIES:
        rows[entity] = 0
        writer: pq.ParquetWriter | None = None
        part = 0
        batches = data.events(every=options.every) if entity == "events" else data.batches(entity)
        for batch in batches:
            if writer is None:
                name = f"events-{part:03d}.parquet" if entity == "events" else f"{entity}.parquet"
                writer = pq.ParquetWriter(out / name, batch.schema)
            writer.write_batch(batch, row_group_size=1_000_000)
            rows[entity] += batch.num_rows
            if entity == "events" and rows[entity] >= (part + 1) * EVENT_FILE_ROWS:
                writer.close()
                writer, part = None, part + 1
        if writer is not None:
            writer.close()
        print(f"  generated {rows[entity]:,} {entity}", flush=True)
    # CSV: the first csv_events events, as an export from another tool would write them
    csv_rows = 0
    with pacsv.CSVWriter(out / "events.csv", pq.read_schema(event_files(options)[0])) as csv:
        for path in event_files(options):
            for batch in pq.ParquetFile(path).iter_batches(batch_size=500_000):
                take = batch.slice(0, options.csv_events - csv_rows)
                csv.write_batch(take)
                csv_rows += take.num_rows
                if csv_rows >= options.csv_events:
                    break
            if csv_rows >= options.csv_events:
                break
    info = data_marker(options) | {
        "rows": rows,
        "csv_rows": csv_rows,
        "seconds": time.perf_counter() - started,
        "made_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    (out / "data.json").write_text(json.dumps(info, indent=2))
    return info


# ---- stage: load ---------------------------------------------------------------------------------------


def store_path(options: Options) -> Path:
    return options.dir / "segmint.duckdb"


def store_marker(options: Options) -> Path:
    return options.dir / "segmint.duckdb.json"


def store_ready(options: Options, info: dict[str, Any]) -> bool:
    marker = store_marker(options)
    return store_path(options).exists() and marker.exists() and json.loads(marker.read_text()) == info["rows"]


def load_store(options: Options, db: Path, info: dict[str, Any]) -> dict[str, float]:
    """Every entity into a new store at ``db`` with segmint's loader; seconds per entity."""
    from segmint.store.load import load_files

    seconds: dict[str, float] = {}
    store = open_duckdb_store(db, options)
    try:
        for entity in ENTITIES:
            files = event_files(options) if entity == "events" else [data_dir(options) / f"{entity}.parquet"]
            took, summary = timed(
                lambda e=entity, f=files: load_files(store, e, f, rejects_dir=options.dir / "rejects")
            )
            if summary.total("rejected") or summary.total("loaded") != info["rows"][entity]:
                raise SystemExit(
                    f"load of {entity}: {summary.total('loaded'):,} loaded, {summary.total('rejected'):,} rejected, "
                    f"expected {info['rows'][entity]:,}"
                )
            seconds[entity] = took
            print(f"  segmint loaded {info['rows'][entity]:,} {entity} in {took:.1f} s", flush=True)
    finally:
        store.close()
    return seconds


def limit_load(options: Options, reader: str, files: list[Path]) -> float:
    """DuckDB's own reader into a table of the file's columns, in time order: seconds."""
    db = options.dir / "limit.duckdb"
    remove_db(db)
    con = limit_connection(db, options)
    try:
        source = f"{reader}([{', '.join(repr(str(f)) for f in files)}])"
        con.execute(f"CREATE TABLE events AS SELECT * FROM {source} LIMIT 0")
        took, _ = timed(lambda: con.execute(f"INSERT INTO events SELECT * FROM {source} ORDER BY ts"))
    finally:
        con.close()
        remove_db(db)
    return took


def stage_load(options: Options, info: dict[str, Any]) -> dict[str, Any]:
    from segmint.store.load import load_files

    measures: list[Measure] = []
    events = info["rows"]["events"]
    # Parquet: the limit first (its pages then in the OS cache for both), then segmint, building the store.
    limit_s = limit_load(options, "read_parquet", event_files(options))
    remove_db(store_path(options))
    store_marker(options).unlink(missing_ok=True)
    seconds = load_store(options, store_path(options), info)
    store_marker(options).write_text(json.dumps(info["rows"]))
    ours = seconds["events"]
    goal = GOALS["load_events_per_s"]
    measures.append(
        Measure(
            "load",
            "events from Parquet",
            events / ours,
            "events/s",
            "DuckDB read_parquet",
            events / limit_s,
            ours / limit_s,
            f">= {goal:,} events/s",
            events / ours >= goal,
            f"{events:,} events in {len(event_files(options))} files, one load",
        )
    )
    others = sum(v for k, v in seconds.items() if k != "events")
    other_rows = sum(v for k, v in info["rows"].items() if k != "events")
    measures.append(
        Measure(
            "load",
            "contacts, companies, deals, consents from Parquet",
            other_rows / others,
            "rows/s",
            note=", ".join(f"{k} {v:.1f} s" for k, v in seconds.items() if k != "events"),
        )
    )
    # CSV: a sample of the events, into an empty store (the events' contacts created by reference)
    csv = data_dir(options) / "events.csv"
    limit_csv = limit_load(options, "read_csv", [csv])
    db = options.dir / "csv.duckdb"
    remove_db(db)
    store = open_duckdb_store(db, options)
    try:
        ours_csv, summary = timed(lambda: load_files(store, "events", [csv], rejects_dir=options.dir / "rejects"))
    finally:
        store.close()
        remove_db(db)
    if summary.total("rejected") or summary.total("loaded") != info["csv_rows"]:
        raise SystemExit(f"CSV load: {summary.total('loaded'):,} loaded, {summary.total('rejected'):,} rejected")
    n = info["csv_rows"]
    measures.append(
        Measure(
            "load",
            "events from CSV",
            n / ours_csv,
            "events/s",
            "DuckDB read_csv",
            n / limit_csv,
            ours_csv / limit_csv,
            note=f"the first {n:,} events, into an empty store",
        )
    )
    return {"measures": [asdict(m) for m in measures], "load_seconds": seconds}


# ---- PostgreSQL ---------------------------------------------------------------------------------------


PG_DATABASE = "segmint_bench"


def pg_store_url(server_url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    return urlunsplit(urlsplit(server_url)._replace(path="/" + PG_DATABASE))


def pg_marker(server_url: str) -> Any:
    import psycopg

    try:
        with psycopg.connect(pg_store_url(server_url), autocommit=True) as con:
            row = con.execute("SELECT info FROM bench_marker").fetchone()
            return json.loads(row[0]) if row else None
    except psycopg.Error:
        return None


def stage_pg_load(options: Options, info: dict[str, Any], server_url: str) -> dict[str, Any]:
    """The same Parquet files into a PostgreSQL store with segmint's loader (reused while it holds this scale)."""
    import psycopg

    import segmint
    from segmint.store.load import load_files

    if pg_marker(server_url) == info["rows"]:
        return {"measures": [], "reused": True}
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{PG_DATABASE}"')
    store = segmint.open(pg_store_url(server_url))
    seconds: dict[str, float] = {}
    try:
        for entity in ENTITIES:
            files = event_files(options) if entity == "events" else [data_dir(options) / f"{entity}.parquet"]
            took, summary = timed(
                lambda e=entity, f=files: load_files(store, e, f, rejects_dir=options.dir / "rejects")
            )
            if summary.total("loaded") != info["rows"][entity]:
                raise SystemExit(f"PostgreSQL load of {entity}: {summary.total('loaded'):,} loaded")
            seconds[entity] = took
            print(f"  segmint loaded {info['rows'][entity]:,} {entity} into PostgreSQL in {took:.1f} s", flush=True)
        analyze, _ = timed(lambda: store.engine.run("ANALYZE"))
        store.engine.run("CREATE TABLE bench_marker (info TEXT)")
        store.engine.run(f"INSERT INTO bench_marker VALUES ('{json.dumps(info['rows'])}')")
    finally:
        store.close()
    events = info["rows"]["events"]
    return {
        "measures": [
            asdict(
                Measure(
                    "load",
                    "events from Parquet into PostgreSQL",
                    events / seconds["events"],
                    "events/s",
                    note=f"segmint's loader; then ANALYZE {analyze:.1f} s",
                )
            )
        ],
        "load_seconds": seconds,
    }


# ---- stage: segments ---------------------------------------------------------------------------------


def pandas_frames(store: Any) -> dict[str, Any]:
    """The columns the pandas implementations read, as data frames (strings as categoricals)."""
    from benchmarks.shapes import PANDAS_COLUMNS

    con = store.engine.workspace()
    frames = {}
    for table, columns in PANDAS_COLUMNS.items():
        select = ", ".join("properties->>'form_id' AS form_id" if c == "form_id" else c for c in columns)
        where = " WHERE contact_key IS NOT NULL" if table == "events" else ""
        arrow = con.sql(f"SELECT {select} FROM {table}{where}").to_arrow_table()
        encoded = [
            arrow.column(i).dictionary_encode() if pa.types.is_string(arrow.schema.field(i).type) else arrow.column(i)
            for i in range(arrow.num_columns)
        ]
        frames[table] = pa.table(encoded, names=arrow.column_names).to_pandas()
    return frames


@dataclass
class Impl:
    name: str
    run: Callable[[], Any]
    keys: Callable[[Any], set[int]]  # the members' contact keys (of its own store)
    runs: list[float] = field(default_factory=list)
    timed_out: bool = False

    def attempt(self, timeout_s: float | None) -> Any:
        """Run once; on PostgreSQL, a query over the statement timeout marks it timed out (None)."""
        if self.timed_out:
            return None
        try:
            return self.run()
        except Exception as exc:  # the driver's cancel, through segmint's error or not
            if timeout_s is None or "statement timeout" not in str(exc):
                raise
            self.timed_out = True
            print(f"    {self.name}: over the {timeout_s:.0f} s statement timeout", flush=True)
            return None


def member_keys(table: pa.Table) -> set[int]:
    return set(table.column(0).to_pylist())


def agree(shape: str, impls: list[Impl], results: dict[str, Any]) -> int:
    """Fail unless every implementation found the same members; the number of members.

    Within an engine the contact keys are compared; across engines (each store has its own keys),
    segmint's member ids.
    """
    expected = impls[0].keys(results[impls[0].name])
    for impl in impls[1:]:
        if "PostgreSQL" in impl.name:
            continue
        found = impl.keys(results[impl.name])
        if found != expected:
            fail(shape, impl.name, found, expected)
    pg = [i for i in impls if "PostgreSQL" in i.name and results.get(i.name) is not None]
    if pg:
        ours, theirs = results["segmint"], results[pg[0].name]
        if set(ours.column("member_id").to_pylist()) != set(theirs.column("member_id").to_pylist()):
            fail(
                shape,
                pg[0].name,
                set(theirs.column("member_id").to_pylist()),
                set(ours.column("member_id").to_pylist()),
            )
        pg_keys = pg[0].keys(theirs)
        for impl in pg[1:]:
            found = impl.keys(results[impl.name])
            if found != pg_keys:
                fail(shape, impl.name, found, pg_keys)
    return len(expected)


def fail(shape: str, impl: str, found: set[Any], expected: set[Any]) -> None:
    raise SystemExit(
        f"{shape}: {impl} disagrees with segmint: {len(found):,} vs {len(expected):,} members; "
        f"only {impl}: {sorted(map(str, found - expected))[:5]}, only segmint: {sorted(map(str, expected - found))[:5]}"
    )


def stage_segments(options: Options, info: dict[str, Any], server_url: str | None) -> dict[str, Any]:

    import segmint
    from benchmarks.shapes import AS_OF, SHAPES
    from segmint.dsl import parse_segment
    from segmint.segments.evaluate import segment_members

    duck = open_duckdb_store(store_path(options), options)
    pg = segmint.open(pg_store_url(server_url)) if server_url else None
    frames_s, frames = timed(lambda: pandas_frames(duck))
    print(f"  pandas frames loaded in {frames_s:.1f} s", flush=True)
    con = duck.engine.workspace()
    events = info["rows"]["events"]
    pg_repeat = options.pg_repeat or (options.repeat if events <= 10_000_000 else 1)
    if pg is not None:  # a plan gone wrong must not hold the run for hours: record it as over the limit
        pg.engine.run(f"SET statement_timeout = '{int(options.pg_timeout * 1000)}ms'")
    results, measures = [], []
    try:
        for store in (duck, pg):
            for shape in SHAPES.values():
                for doc in shape.stored if store is not None else []:
                    store.apply(doc)
        for shape in SHAPES.values():
            segment = parse_segment(shape.document)
            sql = shape.hand_sql()
            impls = [
                Impl(
                    "segmint",
                    lambda s=segment: segment_members(duck, s, as_of=AS_OF),
                    lambda t: set(t.column("member_key").to_pylist()),
                ),
                Impl("hand-written SQL", lambda q=sql: con.sql(q).to_arrow_table(), member_keys),
                Impl("pandas", lambda sh=shape: sh.members(frames), lambda m: set(m["contact_key"].tolist())),
            ]
            if pg is not None:
                impls += [
                    Impl(
                        "segmint on PostgreSQL",
                        lambda s=segment: segment_members(pg, s, as_of=AS_OF),
                        lambda t: set(t.column("member_key").to_pylist()),
                    ),
                    Impl("hand-written SQL on PostgreSQL", lambda q=sql: pg.engine.query(q), member_keys),
                ]
            # The first run of each is the agreement check (and the first warm-up).
            timeout = options.pg_timeout if pg is not None else None
            members = agree(shape.name, impls, {impl.name: impl.attempt(timeout) for impl in impls})
            if not members:
                raise SystemExit(f"{shape.name}: no members at this scale; the benchmark needs members to compare")
            for _ in range(options.warmup - 1):
                for impl in impls:
                    impl.attempt(timeout)
            for run in range(options.repeat):
                for impl in impls if run % 2 == 0 else impls[::-1]:
                    if impl.timed_out or ("PostgreSQL" in impl.name and run >= pg_repeat):
                        continue
                    took, result = timed(lambda i=impl, t=timeout: i.attempt(t))
                    if result is not None:
                        impl.runs.append(took * 1000)
            # a timed-out implementation counts as the timeout itself: its ratio is an upper bound
            med = {i.name: statistics.median(i.runs) if i.runs else options.pg_timeout * 1000 for i in impls}
            results.append(
                {
                    "shape": shape.name,
                    "summary": shape.summary,
                    "members": members,
                    "median_ms": med,
                    "runs_ms": {impl.name: impl.runs for impl in impls},
                }
            )
            ours = med["segmint"]
            line = [f"  {shape.name}: {members:,} members, segmint {ours:,.1f} ms"]
            for impl in impls[1:]:
                base = med[impl.name]
                goal, met = {
                    "hand-written SQL": (f"<= {GOALS['segment_vs_hand']}", ours / base <= GOALS["segment_vs_hand"]),
                    "pandas": ("<= 0.1 (10x faster)", ours / base <= 1 / GOALS["segment_vs_pandas"]),
                    "hand-written SQL on PostgreSQL": ("< 1", ours / base < GOALS["segment_vs_pg_hand"]),
                }.get(impl.name, ("", None))
                note = f"{members:,} members"
                if impl.timed_out:  # the baseline is at least the timeout: the ratio is an upper bound
                    note += f"; over the {options.pg_timeout:.0f} s statement timeout (the ratio is at most this)"
                measures.append(
                    Measure(
                        "segments",
                        shape.name,
                        ours,
                        "ms",
                        impl.name,
                        base,
                        ours / base,
                        goal,
                        met,
                        note,
                    )
                )
                line.append(f"{impl.name} {base:,.1f} ms ({ours / base:.2f}x)")
            print(", ".join(line), flush=True)
    finally:
        duck.close()
        if pg is not None:
            pg.close()
    return {
        "measures": [asdict(m) for m in measures],
        "shapes": results,
        "pandas_frames_seconds": frames_s,
        "repeat": options.repeat,
        "pg_repeat": pg_repeat if pg is not None else 0,
        "sql": {s.name: s.hand_sql().strip() for s in SHAPES.values()},
    }


# ---- stage: refresh ----------------------------------------------------------------------------------


def stage_refresh(options: Options, info: dict[str, Any]) -> dict[str, Any]:
    """The playbook installed, then two full refreshes as ``segmint refresh`` runs them.

    The first writes every membership (every member enters); the second is what a scheduled refresh
    costs from then on (only entries and exits are written): the goal is judged on it.
    """
    from benchmarks.shapes import AS_OF
    from segmint.playbook import install_playbook
    from segmint.segments import refresh_all

    store = open_duckdb_store(store_path(options), options)
    try:
        installed = install_playbook(store)
        playbook = len(installed.created) + len(installed.updated) + len(installed.unchanged)
        first_s, first = timed(lambda: refresh_all(store, as_of=AS_OF))
        next_s, steady = timed(lambda: refresh_all(store, as_of=AS_OF))
    finally:
        store.close()
    contacts, events = info["rows"]["contacts"], info["rows"]["events"]
    segments = len(steady.segments)
    others = f" ({playbook} of the playbook, {segments - playbook} of the benchmark)" if segments > playbook else ""
    goal = GOALS["refresh_seconds"]
    at_goal_scale = contacts >= 1_000_000 and events >= 90_000_000
    measures = []
    for label, full in (("first refresh", first), ("next refresh", steady)):
        measures += [
            Measure("refresh", f"{label}: all traits", full.traits_seconds, "s", note=f"{len(full.traits)} models"),
            Measure("refresh", f"{label}: all {segments} segments{others}", full.segments_seconds, "s"),
        ]
    measures += [
        Measure("refresh", "first refresh, in all", first_s, "s", note="every member enters: all memberships written"),
        Measure(
            "refresh",
            "next refresh, in all (traits, then segments)",
            next_s,
            "s",
            goal=f"<= {goal:.0f} s at 1M / 100M",
            met=(next_s <= goal) if at_goal_scale else None,
            note="as a scheduled segmint refresh runs from then on",
        ),
    ]
    return {
        "measures": [asdict(m) for m in measures],
        "traits": steady.traits,
        "sizes": {r.segment: r.size for r in steady.segments},
    }


# ---- stage: tracking ---------------------------------------------------------------------------------


def stage_tracking(options: Options, info: dict[str, Any]) -> dict[str, Any]:
    from benchmarks.tracking import Load, run_tracking

    db = options.dir / "tracking.duckdb"
    remove_db(db)
    shutil.copyfile(store_path(options), db)
    try:
        report = run_tracking(db, Load(seconds=options.tracking_seconds, warmup=min(3.0, options.tracking_seconds)))
    finally:
        remove_db(db)
    if not report["ok"]:
        raise SystemExit(f"tracking: {report['check']}")
    measures = []
    for phase in report["phases"]:
        name = phase["phase"]
        measures += [
            Measure(
                "tracking",
                f"events/s ({name})",
                phase["events_per_s"],
                "events/s",
                note=f"{report['load']['clients']} clients, batches of {report['load']['events_per_batch']}",
            ),
            Measure("tracking", f"p50 latency ({name})", phase["p50_ms"], "ms"),
            Measure(
                "tracking",
                f"p99 latency ({name})",
                phase["p99_ms"],
                "ms",
                note=f"server peak RSS {phase['peak_rss_mb']:,} MB",
            ),
        ]
    return {"measures": [asdict(m) for m in measures], "tracking": report}


# ---- orchestration -----------------------------------------------------------------------------------


def stage_clv(options: Options, info: dict[str, Any]) -> dict[str, Any]:
    from benchmarks.clv import stage_clv as run_clv

    return run_clv(options, info)


def _child(stage: str, options: Options, info: dict[str, Any], server_url: str | None, out: Path) -> None:
    functions: dict[str, Callable[[], dict[str, Any]]] = {
        "data": lambda: make_data(options),
        "load": lambda: stage_load(options, info),
        "postgres load": lambda: stage_pg_load(options, info, server_url or ""),
        "segments": lambda: stage_segments(options, info, server_url),
        "refresh": lambda: stage_refresh(options, info),
        "tracking": lambda: stage_tracking(options, info),
        "clv": lambda: stage_clv(options, info),
    }
    result = functions[stage]()
    result["peak_rss_mb"] = peak_rss_mb()
    out.write_text(json.dumps(result, default=str))


def in_child(stage: str, options: Options, info: dict[str, Any], server_url: str | None) -> dict[str, Any]:
    """Run one stage in a child process of its own: its peak RSS is the stage's."""
    out = options.dir / f"stage-{stage.replace(' ', '-')}.json"
    out.unlink(missing_ok=True)
    print(f"{stage}:", flush=True)
    child = multiprocessing.get_context("spawn").Process(
        target=_child, args=(stage, options, info, server_url, out), name=f"segmint-bench-{stage}"
    )
    started = time.perf_counter()
    child.start()
    child.join()
    if child.exitcode != 0 or not out.exists():
        raise SystemExit(f"stage {stage} failed (exit code {child.exitcode})")
    result: dict[str, Any] = json.loads(out.read_text())
    result["seconds"] = time.perf_counter() - started
    result["ran_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return result


@contextlib.contextmanager
def postgres(options: Options) -> Iterator[str | None]:
    if options.postgres == "off" or "segments" not in options.only:
        yield None
        return
    if options.postgres != "auto":
        yield options.postgres
        return
    from segmint.testing.postgres import PostgresUnavailable, throwaway_postgres

    try:
        with throwaway_postgres(options.dir / "postgres", settings=PG_SETTINGS) as url:
            yield url
    except PostgresUnavailable as exc:
        raise SystemExit(f"PostgreSQL: {exc} (or run with --postgres off, or --postgres URL)") from None


def run(options: Options) -> dict[str, Any]:
    options.dir.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "contacts": options.contacts,
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(options).items()},
        "machine": machine(),
        "load_average_before": load_average(),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "stages": {},
    }
    info = data_ready(options)
    if info is None:
        data = in_child("data", options, {}, None)
        info = data_ready(options)
        assert info is not None
        report["stages"]["data"] = {"seconds": data["seconds"], "peak_rss_mb": data["peak_rss_mb"]}
    report["data"] = info
    if "load" not in options.only and not store_ready(options, info):
        print("the store is not built yet at this scale: running the load stage first", flush=True)
        options.only = ("load", *options.only)
    with postgres(options) as server_url:
        # A stage that fails ends the run, but what the stages before it measured is still reported.
        try:
            for stage in STAGES:
                if stage not in options.only:
                    continue
                if stage == "segments" and server_url is not None:
                    report["stages"]["postgres load"] = in_child("postgres load", options, info, server_url)
                report["stages"][stage] = in_child(stage, options, info, server_url)
        except SystemExit as exc:
            report["failed"] = str(exc)
    report["load_average_after"] = load_average()
    report["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return report


# ---- report --------------------------------------------------------------------------------------------


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return ""
    if unit in ("events/s", "rows/s"):
        return f"{value:,.0f}"
    if unit == "ms":
        return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"
    return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"


def markdown(report: dict[str, Any]) -> str:
    data, m = report["data"], report["machine"]
    rows = data["rows"]
    lines = [
        f"# segmint benchmark: {rows['contacts']:,} contacts, {rows['events']:,} events",
        "",
        f"- machine: {m['cpus']} CPUs, {m['memory_gb']} GB, {m['platform']}, Python {m['python']}, DuckDB "
        f"{m['duckdb']}; segmint {m['segmint']}; load average {report['load_average_before']} before, "
        f"{report['load_average_after']} after",
        f"- data: the demo generator (seed {data['seed']}), {rows['companies']:,} companies, {rows['deals']:,} deals, "
        f"{rows['consents']:,} consents"
        + (f"; the events of one contact in {data['events_every']}" if data["events_every"] > 1 else ""),
        f"- DuckDB memory_limit {report['options']['memory_limit']}; ratio = segmint's time / the baseline's time "
        "(below 1: segmint is faster), measured side by side in this run",
    ]
    if report.get("failed"):
        lines.append(f"- **the run failed**: {report['failed']}; the stages after it did not run")
    seg = report["stages"].get("segments")
    if seg:
        lines.append(
            f"- segments: median of {seg['repeat']} runs after {report['options']['warmup']} warm-up(s), "
            f"implementations alternating; PostgreSQL median of {seg['pg_repeat'] or 'no'} run(s); pandas on frames "
            f"already in memory (loading them took {seg['pandas_frames_seconds']:.1f} s, not counted); "
            "every implementation returned exactly the same members"
        )
    lines += [
        "",
        "| stage | measure | segmint | unit | baseline | baseline | ratio | goal | met | note |",
        "| --- | --- | ---: | --- | --- | ---: | ---: | --- | --- | --- |",
    ]
    for stage, result in report["stages"].items():
        for x in result.get("measures", []):
            met = "" if x["met"] is None else ("yes" if x["met"] else "**no**")
            ratio = "" if x["ratio"] is None else f"{x['ratio']:.2f}"
            lines.append(
                f"| {stage} | {x['measure']} | {fmt(x['segmint'], x['unit'])} | {x['unit']} | {x['baseline']} | "
                f"{fmt(x['baseline_value'], x['unit'])} | {ratio} | {x['goal']} | {met} | {x['note']} |"
            )
    lines += ["", "| stage | seconds | peak RSS MB |", "| --- | ---: | ---: |"]
    for stage, result in report["stages"].items():
        lines.append(f"| {stage} | {result['seconds']:,.1f} | {result['peak_rss_mb']:,.0f} |")
    if seg:
        lines += ["", "Reference segments:", ""]
        lines += [f"- {s['shape']}: {s['summary']}" for s in seg["shapes"]]
    return "\n".join(lines) + "\n"


def parse(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    d = Options()
    parser.add_argument("--contacts", type=int, default=d.contacts)
    parser.add_argument("--only", default=",".join(STAGES), help=f"comma-separated stages, of {', '.join(STAGES)}")
    parser.add_argument("--repeat", type=int, default=d.repeat, help="timed runs per segment and implementation")
    parser.add_argument("--warmup", type=int, default=d.warmup, help="unrecorded runs first (at least 1: the check)")
    parser.add_argument(
        "--pg-repeat",
        type=int,
        default=d.pg_repeat,
        help="timed runs on PostgreSQL (default: --repeat up to 10M events, then 1)",
    )
    parser.add_argument("--pg-timeout", type=float, default=d.pg_timeout, help="PostgreSQL statement timeout, s")
    parser.add_argument("--work", type=Path, default=d.work, help="where data and stores are kept between runs")
    parser.add_argument("--memory-limit", default=d.memory_limit, help="DuckDB's memory_limit, for segmint and limits")
    parser.add_argument("--postgres", default=d.postgres, help="auto (start a server here), off, or a server URL")
    parser.add_argument("--csv-events", type=int, default=d.csv_events, help="events in the CSV load")
    parser.add_argument("--events-every", type=int, default=d.events_every)
    parser.add_argument(
        "--full-events-up-to",
        type=int,
        default=d.full_events_up_to,
        help="above this many contacts, the events of one contact in --events-every only",
    )
    parser.add_argument("--tracking-seconds", type=float, default=d.tracking_seconds)
    parser.add_argument("--results", type=Path, default=d.results)
    parser.add_argument(
        "--clv-buyers", type=int, default=d.clv_buyers, help="drawn buyers for the clv stage (default: --contacts)"
    )
    args = parser.parse_args(argv)
    only = tuple(s.strip() for s in args.only.split(",") if s.strip())
    unknown = [s for s in only if s not in STAGES]
    if unknown:
        parser.error(f"unknown stage(s) {', '.join(unknown)}; expected {', '.join(STAGES)}")
    if args.warmup < 1:
        parser.error("--warmup must be at least 1 (the first run is the agreement check)")
    return Options(
        args.contacts,
        only,
        args.repeat,
        args.warmup,
        args.pg_repeat,
        args.pg_timeout,
        args.work.resolve(),  # absolute: the server and PostgreSQL run in directories of their own
        args.memory_limit,
        args.postgres,
        args.csv_events,
        args.events_every,
        args.full_events_up_to,
        args.tracking_seconds,
        args.results,
        args.clv_buyers,
    )


def main(argv: list[str]) -> int:
    options = parse(argv)
    report = run(options)
    stem = options.results / f"bench-{options.contacts}"
    earlier = stem.with_suffix(".json")
    if earlier.exists():  # a run of some stages keeps the others' latest results (each says when it ran)
        kept = json.loads(earlier.read_text())
        if kept.get("data", {}).get("rows") == report["data"]["rows"]:
            # A stage that only found its store already loaded (PostgreSQL's) keeps the load it reused.
            fresh = {k: v for k, v in report["stages"].items() if not (v.get("reused") and k in kept["stages"])}
            report["stages"] = {**{k: v for k, v in kept["stages"].items() if k not in fresh}, **fresh}
            order = ["data", "load", "postgres load", "segments", "refresh", "tracking", "clv"]
            report["stages"] = dict(sorted(report["stages"].items(), key=lambda kv: order.index(kv[0])))
    text = markdown(report)
    print()
    print(text)
    options.results.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".md").write_text(text)
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"wrote {stem}.md and {stem}.json")
    if report.get("failed"):
        print(f"the run failed: {report['failed']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
