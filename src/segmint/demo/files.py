"""Writing the demo data to the files segmint's loaders read: CSV, Parquet or JSON Lines, batch by batch."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from segmint.demo.data import ENTITIES, SCHEMAS, DemoData

DEFAULT_FORMATS: dict[str, str] = {
    "companies": "csv",
    "contacts": "csv",
    "deals": "csv",
    "consents": "csv",
    "events": "parquet",
}
FORMATS = ("csv", "parquet", "jsonl")
SUFFIXES = {"csv": ".csv", "parquet": ".parquet", "jsonl": ".jsonl"}
PART_ROWS = 10_000_000
"""Rows per file before the output is split into numbered parts (``events-00000.parquet``, ...)."""


class _Writer(Protocol):
    def write_batch(self, batch: pa.RecordBatch) -> None: ...

    def close(self) -> None: ...


class _JsonLinesWriter:
    """JSON Lines, one object per row; nulls are left out, timestamps written in ISO 8601."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("w", encoding="utf-8")

    def write_batch(self, batch: pa.RecordBatch) -> None:
        lines = []
        for row in batch.to_pylist():
            lines.append(json.dumps({k: _jsonable(v) for k, v in row.items() if v is not None}, ensure_ascii=False))
        if lines:
            self._file.write("\n".join(lines) + "\n")

    def close(self) -> None:
        self._file.close()


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _open(fmt: str, path: Path, schema: pa.Schema) -> _Writer:
    if fmt == "csv":
        return pcsv.CSVWriter(str(path), schema)
    if fmt == "parquet":
        return pq.ParquetWriter(str(path), schema, compression="zstd")
    return _JsonLinesWriter(path)


def _write(
    batches: Iterator[pa.RecordBatch], schema: pa.Schema, out_dir: Path, entity: str, fmt: str, part_rows: int
) -> list[Path]:
    """Stream ``batches`` into ``<entity>.<suffix>``, or numbered parts when more than ``part_rows`` rows come."""
    suffix = SUFFIXES[fmt]
    paths: list[Path] = []
    writer: _Writer | None = None
    rows_in_file = 0
    for batch in batches:
        offset = 0
        while offset < batch.num_rows:
            if writer is None or rows_in_file >= part_rows:
                if writer is not None:
                    writer.close()
                paths.append(out_dir / f"{entity}-{len(paths):05d}{suffix}")
                writer, rows_in_file = _open(fmt, paths[-1], schema), 0
            take = min(batch.num_rows - offset, part_rows - rows_in_file)
            writer.write_batch(batch.slice(offset, take))
            offset += take
            rows_in_file += take
    if writer is None:  # no rows at all: still a file with the header / schema
        paths.append(out_dir / f"{entity}-00000{suffix}")
        writer = _open(fmt, paths[-1], schema)
    writer.close()
    if len(paths) == 1:
        single = out_dir / f"{entity}{suffix}"
        paths[0].replace(single)
        paths = [single]
    return paths


def write_files(
    data: DemoData, out_dir: Path, formats: dict[str, str] | None = None, *, part_rows: int = PART_ROWS
) -> dict[str, list[Path]]:
    """Write every entity to ``out_dir`` and return entity -> the files written.

    ``formats`` maps an entity to ``csv``, ``parquet`` or ``jsonl`` (defaults: CSV for companies,
    contacts, deals and consents, Parquet for events).  Events larger than ``part_rows`` rows are
    written as numbered part files.  Batches are written as they are generated, never all held.
    """
    chosen = DEFAULT_FORMATS | (formats or {})
    for entity, fmt in chosen.items():
        if entity not in SCHEMAS:
            raise ValueError(f"unknown entity {entity!r}; expected one of {', '.join(ENTITIES)}")
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r} for {entity}; expected one of {', '.join(FORMATS)}")
    if part_rows < 1:
        raise ValueError(f"part_rows must be at least 1, not {part_rows}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, list[Path]] = {}
    for entity in ENTITIES:
        fmt = chosen[entity]
        for old in (*out_dir.glob(f"{entity}.*"), *out_dir.glob(f"{entity}-[0-9]*.*")):
            if old.suffix == SUFFIXES[fmt]:
                old.unlink()  # parts of an earlier, larger run would otherwise be read too
        written[entity] = _write(data.batches(entity), SCHEMAS[entity], out_dir, entity, fmt, part_rows)
    return written
