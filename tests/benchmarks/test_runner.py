"""The benchmark runner at the smallest scale: a smoke test of its agreement checks, not of its timings.

``python -m benchmarks run`` makes the 2,400-contact demo, loads it with
segmint and with DuckDB's own readers, evaluates the ten reference segments
five ways (segmint and hand-written SQL on DuckDB and PostgreSQL, pandas) and
fails unless all five return the same members; then a full refresh and the
tracking API.  This test runs it as CI would and reads its JSON report.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from benchmarks.run import Impl, agree
from benchmarks.shapes import SHAPES

ROOT = Path(__file__).resolve().parents[2]
DEMO_EVENTS = 245_529  # the 2,400-contact demo (seed 7), as `segmint demo` reports it


@pytest.mark.postgres
def test_runner_smallest_scale(tmp_path: Path, postgres_url: str) -> None:
    results = tmp_path / "results"
    done = subprocess.run(
        [
            sys.executable, "-m", "benchmarks", "run", "--contacts", "2400", "--repeat", "1",
            "--work", str(tmp_path / "work"), "--results", str(results), "--postgres", postgres_url,
            "--tracking-seconds", "1", "--csv-events", "50000",
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((results / "bench-2400.json").read_text())
    assert report["data"]["rows"]["contacts"] == 2400
    assert report["data"]["rows"]["events"] == DEMO_EVENTS
    assert set(report["stages"]) == {"data", "load", "postgres load", "segments", "refresh", "tracking", "clv"}

    shapes = report["stages"]["segments"]["shapes"]
    assert [s["shape"] for s in shapes] == list(SHAPES)
    for shape in shapes:
        assert shape["members"] > 0, shape["shape"]
        assert set(shape["median_ms"]) == {
            "segmint", "hand-written SQL", "pandas", "segmint on PostgreSQL", "hand-written SQL on PostgreSQL"
        }  # fmt: skip
    measures = [m for stage in report["stages"].values() for m in stage.get("measures", [])]
    parquet = next(m for m in measures if m["measure"] == "events from Parquet")
    assert parquet["baseline"] == "DuckDB read_parquet"
    assert parquet["ratio"] > 0
    csv = next(m for m in measures if m["measure"] == "events from CSV")
    assert "50,000 events" in csv["note"]
    assert report["stages"]["tracking"]["tracking"]["ok"]
    assert report["stages"]["refresh"]["sizes"]["bench-big-spenders"] == next(
        s["members"] for s in shapes if s["shape"] == "aggregate"
    )
    fits = report["stages"]["clv"]["fits"]
    assert set(fits) == {
        f"{where} {model}" for where in ("store", "drawn") for model in ("bgnbd", "pareto_nbd", "gamma_gamma")
    }
    assert fits["drawn bgnbd"]["customers"] == 2400  # as many drawn buyers as contacts
    assert (
        next(m for m in measures if m["measure"] == "bgnbd fit on 2,400 drawn buyers")["goal"]
        == "<= 10 s at 10,000,000"
    )
    for stage in report["stages"].values():
        assert stage["peak_rss_mb"] > 0
    text = (results / "bench-2400.md").read_text()
    assert "| segments | three-condition |" in text
    assert "| load | events from Parquet |" in text

    # A second run reuses the data and the stores; --only runs just the stage asked for.
    again = subprocess.run(
        [
            sys.executable, "-m", "benchmarks", "run", "--contacts", "2400", "--repeat", "1", "--only", "refresh",
            "--work", str(tmp_path / "work"), "--results", str(results), "--postgres", "off", "--csv-events", "50000",
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr[-3000:]
    merged = json.loads((results / "bench-2400.json").read_text())
    assert set(merged["stages"]) == set(report["stages"])  # the other stages' latest results are kept
    assert merged["stages"]["load"] == report["stages"]["load"]
    assert merged["stages"]["refresh"]["ran_at"] >= report["stages"]["refresh"]["ran_at"]
    assert merged["stages"]["refresh"] != report["stages"]["refresh"]

    # The segments again on the same PostgreSQL: its store is found loaded and reused, and the report keeps
    # the load that filled it rather than an empty stage.
    reused = subprocess.run(
        [
            sys.executable, "-m", "benchmarks", "run", "--contacts", "2400", "--repeat", "1", "--only", "segments",
            "--work", str(tmp_path / "work"), "--results", str(results), "--postgres", postgres_url,
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert reused.returncode == 0, reused.stdout[-3000:] + reused.stderr[-3000:]
    again_segments = json.loads((results / "bench-2400.json").read_text())
    assert again_segments["stages"]["postgres load"] == report["stages"]["postgres load"]
    assert again_segments["stages"]["segments"]["ran_at"] >= report["stages"]["segments"]["ran_at"]
    assert again_segments["stages"]["segments"] != report["stages"]["segments"]
    assert "| postgres load | events from Parquet into PostgreSQL |" in (results / "bench-2400.md").read_text()

    # A stage that fails (no PostgreSQL where it is said to be) ends the run with an error, and the report
    # still says what ran and what failed.
    refused = subprocess.run(
        [
            sys.executable, "-m", "benchmarks", "run", "--contacts", "2400", "--repeat", "1", "--only", "segments",
            "--work", str(tmp_path / "work"), "--results", str(results),
            "--postgres", "postgresql://postgres@127.0.0.1:1/postgres",
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert refused.returncode == 1, refused.stdout[-3000:] + refused.stderr[-3000:]
    assert "the run failed: stage postgres load failed" in refused.stderr
    failed = json.loads((results / "bench-2400.json").read_text())
    assert failed["failed"] == "stage postgres load failed (exit code 1)"
    assert failed["stages"]["segments"] == again_segments["stages"]["segments"]  # the earlier result, not a new one
    assert "**the run failed**: stage postgres load failed" in (results / "bench-2400.md").read_text()


def test_runner_rejects_unknown_stage() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "run", "--only", "segmnts"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "unknown stage(s) segmnts" in done.stderr


def _keys(table: pa.Table) -> set[int]:
    return set(table.column(0).to_pylist())


def test_disagreement_fails_the_run() -> None:
    same = pa.table({"member_key": [1, 2, 3], "member_id": ["a", "b", "c"]})
    impls = [Impl("segmint", lambda: None, _keys), Impl("pandas", lambda: None, _keys)]
    assert agree("shape-x", impls, {"segmint": same, "pandas": pa.table({"k": [3, 2, 1]})}) == 3
    with pytest.raises(
        SystemExit, match=r"shape-x: pandas disagrees with segmint: 2 vs 3 members.*only segmint: \['3'\]"
    ):
        agree("shape-x", impls, {"segmint": same, "pandas": pa.table({"k": [1, 2]})})


def test_disagreement_across_engines_compares_ids() -> None:
    ours = pa.table({"member_key": [1, 2], "member_id": ["a", "b"]})
    theirs = pa.table({"member_key": [7, 8], "member_id": ["a", "x"]})  # another store's keys: ids decide
    impls = [
        Impl("segmint", lambda: None, _keys),
        Impl("segmint on PostgreSQL", lambda: None, _keys),
        Impl("hand-written SQL on PostgreSQL", lambda: None, _keys),
    ]
    with pytest.raises(SystemExit, match="segmint on PostgreSQL disagrees"):
        agree("s", impls, {"segmint": ours, "segmint on PostgreSQL": theirs, "hand-written SQL on PostgreSQL": theirs})
    fine = pa.table({"member_key": [7, 8], "member_id": ["a", "b"]})
    assert (
        agree(
            "s",
            impls,
            {"segmint": ours, "segmint on PostgreSQL": fine, "hand-written SQL on PostgreSQL": pa.table({"k": [8, 7]})},
        )
        == 2
    )
