"""DuckDB: the base compiler already speaks it."""

from __future__ import annotations

from segmint.compile.base import SegmentCompiler


class DuckDBCompiler(SegmentCompiler):
    """Segments for DuckDB."""

    dialect = "duckdb"
