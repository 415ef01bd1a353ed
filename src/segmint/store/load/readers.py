"""Read CSV, JSON Lines and Parquet files as a stream of Arrow batches.

CSV cells are read as text (types are decided by the validator, so that a bad
cell rejects one row instead of failing the file) and an empty cell is null.
Each batch gets a ``_row`` column: the 1-based number of the record in the
file, header not counted, which the rejects file reports.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from segmint.errors import LoadError

FORMATS = ("csv", "jsonl", "parquet")
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
ROW = "_row"
BLOCK_BYTES = 16 << 20


def detect_format(path: Path, given: str | None = None) -> str:
    """The file's format: ``given`` if any, else from its extension."""
    if given:
        fmt = given.lower()
        if fmt == "json":
            fmt = "jsonl"
        if fmt not in FORMATS:
            raise LoadError(f"unknown format '{given}' (use csv, jsonl or parquet)")
        return fmt
    found = _EXTENSIONS.get(path.suffix.lower())
    if found is None:
        raise LoadError(
            f"{path}: cannot tell the format from the extension '{path.suffix}'; give --format csv|jsonl|parquet"
        )
    return found


def normalize_name(name: str) -> str:
    """Column names are case-insensitive; 'First Name' and 'first-name' both mean first_name."""
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


@dataclass
class Batch:
    """A batch of raw rows and how far into the file it reaches (for progress)."""

    data: pa.Table
    position: int


class _CountingReader(io.RawIOBase):
    """Counts bytes as pyarrow reads them, for the progress bar."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        n = self.raw.readinto(buffer)  # type: ignore[attr-defined]
        self.position += n or 0
        return n or 0


def _csv_header(path: Path, delimiter: str) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        try:
            return next(csv.reader(fh, delimiter=delimiter))
        except StopIteration:
            raise LoadError(f"{path}: the file is empty (no header row)") from None
        except UnicodeDecodeError as exc:
            raise LoadError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


def _with_row_numbers(table: pa.Table, start: int) -> pa.Table:
    rows = pa.array(range(start + 1, start + 1 + table.num_rows), pa.int64())
    return table.append_column(ROW, rows)


def read_batches(path: Path, fmt: str) -> Iterator[Batch]:
    """Yield the file's rows in batches, each with its ``_row`` numbers."""
    if not path.exists():
        raise LoadError(f"{path}: no such file")
    try:
        if fmt == "csv":
            yield from _read_csv(path)
        elif fmt == "jsonl":
            yield from _read_jsonl(path)
        else:
            yield from _read_parquet(path)
    except pa.ArrowInvalid as exc:
        raise LoadError(f"{path}: cannot read as {fmt}: {exc}") from exc


def _read_csv(path: Path) -> Iterator[Batch]:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    header = _csv_header(path, delimiter)
    if not any(h.strip() for h in header):
        raise LoadError(f"{path}: the header row is empty")
    # Read every cell as text: the validator decides types row by row.
    convert = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in header},
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    read = pacsv.ReadOptions(block_size=BLOCK_BYTES, encoding="utf8")
    parse = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True)
    start = 0
    with path.open("rb") as raw:
        counting = _CountingReader(raw)
        buffered = io.BufferedReader(counting, buffer_size=1 << 20)
        reader = pacsv.open_csv(buffered, read_options=read, parse_options=parse, convert_options=convert)
        for record_batch in reader:
            table = pa.Table.from_batches([record_batch])
            yield Batch(_with_row_numbers(table, start), counting.position)
            start += table.num_rows


def _read_jsonl(path: Path) -> Iterator[Batch]:
    start = 0
    with path.open("rb") as raw:
        counting = _CountingReader(raw)
        buffered = io.BufferedReader(counting, buffer_size=1 << 20)
        reader = pajson.open_json(buffered, read_options=pajson.ReadOptions(block_size=BLOCK_BYTES))
        for record_batch in reader:
            table = pa.Table.from_batches([record_batch])
            yield Batch(_with_row_numbers(table, start), counting.position)
            start += table.num_rows


def _read_parquet(path: Path) -> Iterator[Batch]:
    parquet = pq.ParquetFile(path)
    start = 0
    for record_batch in parquet.iter_batches(batch_size=1_000_000):
        table = pa.Table.from_batches([record_batch])
        start_row = start
        start += table.num_rows
        yield Batch(_with_row_numbers(table, start_row), start)


def file_size(path: Path, fmt: str) -> int:
    """What progress counts up to: bytes for text formats, rows for Parquet."""
    if fmt == "parquet":
        return pq.ParquetFile(path).metadata.num_rows
    return path.stat().st_size
