"""Traits and the playbook: a full refresh, model by model, on the demo company at scale.

    python -m benchmarks.traits --contacts 1000000 [--db PATH] [--repeat 1]

Uses the same store as ``benchmarks.segments`` (built once with segmint's own
loaders, reused while it holds the same demo).  Then, at ``as_of`` = the
demo's end:

- each traits model alone (``compute_traits(names=[model])``, in dependency
  order, so each reads the tables of the ones before it), seconds and rows;
- all traits in one ``compute_traits`` call (one transaction, as ``refresh`` runs them);
- every playbook segment (``refresh_segments``) after the traits.

The goal (issue 4): all traits of 1M contacts / 100M events in at most 60 s.
Writes ``benchmarks/results/traits-<N>.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.segments import AS_OF, RESULTS, ensure_store, load_average, open_store, source_version
from segmint.playbook import install_playbook
from segmint.segments import refresh_segments
from segmint.traits import compute_traits, trait_models

GOAL_SECONDS = 60.0


def timed(action: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--db", type=Path, help="DuckDB file to build or reuse (shared with benchmarks.segments)")
    parser.add_argument("--memory-limit", default="16GB")
    parser.add_argument("--events-per-load", type=int, default=10_000_000)
    args = parser.parse_args()
    db: Path = args.db or Path(tempfile.gettempdir()) / f"segmint-bench-segments-{args.contacts}.duckdb"
    spill = db.with_name(db.name + ".tmp")
    spill.mkdir(parents=True, exist_ok=True)
    info, _ = ensure_store(db, args.contacts, args.memory_limit, spill, args.events_per_load)

    store = open_store(db, args.memory_limit, spill)
    models: list[dict[str, Any]] = []
    try:
        for model in trait_models(store.settings):
            seconds, rows = timed(lambda m=model: compute_traits(store, as_of=AS_OF, names=[m.name]))
            models.append({"model": model.name, "seconds": seconds, "rows": rows[model.name]})
            print(f"  {model.name}: {seconds:.2f} s", flush=True)
        all_seconds, _ = timed(lambda: compute_traits(store, as_of=AS_OF))
        print(f"  all traits: {all_seconds:.2f} s", flush=True)
        install_playbook(store)
        segments_seconds, refreshed = timed(lambda: refresh_segments(store, as_of=AS_OF))
        print(f"  {len(refreshed)} playbook segments: {segments_seconds:.2f} s", flush=True)
    finally:
        store.close()
    report = {
        "store": info,
        "as_of": AS_OF.isoformat(),
        "models": models,
        "all_traits_seconds": all_seconds,
        "playbook_segments": len(refreshed),
        "playbook_seconds": segments_seconds,
        "sizes": {r.segment: r.size for r in refreshed},
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "load_average": load_average(),
        "segmint": source_version(),
    }
    lines = [
        f"# Traits and playbook refresh: {info['contacts']:,} contacts, {info['events']:,} events",
        "",
        "| model | seconds | rows |",
        "| --- | ---: | ---: |",
        *(f"| {m['model']} | {m['seconds']:.2f} | {m['rows']:,} |" for m in models),
        f"| **all traits, one refresh** | **{all_seconds:.2f}** | |",
        f"| playbook: {len(refreshed)} segments | {segments_seconds:.2f} | |",
        "",
        f"Peak RSS {report['peak_rss_mb']:,.0f} MB; load average {report['load_average']}.",
        f"Goal: all traits in <= {GOAL_SECONDS:.0f} s at 1M contacts / 100M events: "
        f"{'met' if all_seconds <= GOAL_SECONDS else 'NOT met'} here ({all_seconds:.1f} s at this scale).",
    ]
    text = "\n".join(lines) + "\n"
    print()
    print(text)
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / f"traits-{info['contacts']}"
    stem.with_suffix(".md").write_text(text)
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
