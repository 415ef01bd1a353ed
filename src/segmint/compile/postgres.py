"""PostgreSQL: properties are JSONB, read with ``#>>``."""

from __future__ import annotations

from sqlglot import exp

from segmint.compile.base import SegmentCompiler


class PostgresCompiler(SegmentCompiler):
    """Segments for PostgreSQL."""

    dialect = "postgres"

    def json_text(self, column: exp.Expr, path: list[str]) -> exp.Expr:
        # sqlglot writes JSON paths for PostgreSQL's json type; the store's column is jsonb
        return exp.JSONBExtractScalar(this=column, expression=exp.Literal.string("{" + ",".join(path) + "}"))
