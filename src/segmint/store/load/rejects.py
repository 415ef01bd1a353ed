"""The rejects file: every row that could not load, with its row number and reason."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv


class RejectsWriter:
    """Writes rejected rows as CSV (``row``, ``reason``, then the row's own cells), opened on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self.samples: list[tuple[int, str]] = []
        self._writer: pacsv.CSVWriter | None = None

    def write(self, rows: pa.Table) -> None:
        if rows.num_rows == 0:
            return
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pacsv.CSVWriter(str(self.path), rows.schema)
        self._writer.write_table(rows)
        self.count += rows.num_rows
        if len(self.samples) < 20:
            for row, reason in zip(rows.column("row").to_pylist(), rows.column("reason").to_pylist(), strict=True):
                if len(self.samples) < 20:
                    self.samples.append((row, reason))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
