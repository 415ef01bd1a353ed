"""Spark: timestamps are instants in the session's zone (UTC), written without an offset."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlglot import exp

from segmint.compile.base import SegmentCompiler


class SparkCompiler(SegmentCompiler):
    """Segments for Spark SQL."""

    dialect = "spark"
    MATERIALIZE = False  # Spark SQL has no WITH ... AS MATERIALIZED
    SEMI_JOIN_ANY = False  # a subquery under OR: Spark keeps the join to the event pass

    def timestamp(self, value: datetime) -> exp.Expr:
        # Spark's TIMESTAMP is an instant shown in the session zone, which the engine sets to UTC
        text = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return exp.cast(exp.Literal.string(text), exp.DataType.build("timestamp"), copy=False)
