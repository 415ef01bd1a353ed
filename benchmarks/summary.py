"""Tables across scales from the runner's JSON reports, for docs/benchmarks.md.

    python -m benchmarks summary [--results DIR]

Reads every ``bench-<N>.json`` under the results directory and prints, in
Markdown: the segments' ratios per scale (segmint on DuckDB against each
baseline), then loads, refresh, tracking and each stage's peak memory.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from benchmarks.run import RESULTS

BASELINES = ("hand-written SQL", "pandas", "hand-written SQL on PostgreSQL", "segmint on PostgreSQL")


def reports(results: Path) -> list[dict[str, Any]]:
    found = [json.loads(p.read_text()) for p in results.glob("bench-*.json")]
    return sorted(found, key=lambda r: r["data"]["rows"]["contacts"])


def scale(report: dict[str, Any]) -> str:
    rows = report["data"]["rows"]
    return f"{rows['contacts']:,} / {rows['events'] / 1e6:,.1f}M"


def segments_table(found: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| contacts / events | segment | members | segmint ms | × hand SQL | × pandas | × hand SQL on PG | × segmint on PG |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for report in found:
        seg = report["stages"].get("segments")
        if not seg:
            continue
        for shape in seg["shapes"]:
            med = shape["median_ms"]
            ours = med["segmint"]
            ratios = [f"{ours / med[b]:.2f}" if b in med else "" for b in BASELINES]
            lines.append(
                f"| {scale(report)} | {shape['shape']} | {shape['members']:,} | {ours:,.1f} | "
                + " | ".join(ratios)
                + " |"
            )
    return lines


def measures_table(found: list[dict[str, Any]], stages: tuple[str, ...]) -> list[str]:
    lines = [
        "| contacts / events | stage | measure | segmint | unit | baseline | ratio | goal |",
        "| --- | --- | --- | ---: | --- | ---: | ---: | --- |",
    ]
    for report in found:
        for stage in stages:
            for m in report["stages"].get(stage, {}).get("measures", []):
                base = "" if m["baseline_value"] is None else f"{m['baseline']} {m['baseline_value']:,.0f}"
                ratio = "" if m["ratio"] is None else f"{m['ratio']:.2f}"
                met = "" if m["met"] is None else (" (met)" if m["met"] else " (**not met**)")
                value = f"{m['segmint']:,.0f}" if m["segmint"] >= 100 else f"{m['segmint']:,.1f}"
                lines.append(
                    f"| {scale(report)} | {stage} | {m['measure']} | {value} | {m['unit']} | {base} | {ratio} | "
                    f"{m['goal']}{met} |"
                )
    return lines


def memory_table(found: list[dict[str, Any]]) -> list[str]:
    stages = ["data", "load", "postgres load", "segments", "refresh", "tracking", "clv"]
    lines = [
        "| contacts / events | " + " | ".join(stages) + " |",
        "| --- | " + " | ".join("---:" for _ in stages) + " |",
    ]
    for report in found:
        cells = []
        for stage in stages:
            result = report["stages"].get(stage)
            cells.append(f"{result['peak_rss_mb']:,.0f} MB / {result['seconds']:,.0f} s" if result else "")
        lines.append(f"| {scale(report)} | " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks summary", description=__doc__)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    found = reports(args.results)
    if not found:
        print(f"no bench-*.json under {args.results}: run python -m benchmarks run first")
        return 1
    print("### Segments: segmint on DuckDB, its time ÷ each baseline's (below 1: segmint is faster)\n")
    print("\n".join(segments_table(found)))
    print("\n### Load, refresh, tracking, lifetime value\n")
    print("\n".join(measures_table(found, ("load", "postgres load", "refresh", "tracking", "clv"))))
    print("\n### Peak resident memory and duration of each stage (its own process)\n")
    print("\n".join(memory_table(found)))
    return 0
