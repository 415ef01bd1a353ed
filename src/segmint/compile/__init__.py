"""Segment definitions compiled to SQL, one thin compiler per engine."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from segmint.compile.base import MEMBER_ID, MEMBER_KEY, SegmentCompiler
from segmint.compile.duckdb import DuckDBCompiler
from segmint.compile.postgres import PostgresCompiler
from segmint.compile.spark import SparkCompiler
from segmint.errors import UsageError

COMPILERS: dict[str, type[SegmentCompiler]] = {
    "duckdb": DuckDBCompiler,
    "postgres": PostgresCompiler,
    "spark": SparkCompiler,
}


def compiler_for(engine: str, *args: Any, as_of: datetime, **kwargs: Any) -> SegmentCompiler:
    """The compiler of an engine key (``duckdb``, ``postgres``, ``spark``)."""
    try:
        cls = COMPILERS[engine]
    except KeyError:
        raise UsageError(f"unknown engine '{engine}' (expected one of {', '.join(COMPILERS)})") from None
    return cls(*args, as_of=as_of, **kwargs)


__all__ = ["COMPILERS", "MEMBER_ID", "MEMBER_KEY", "SegmentCompiler", "compiler_for"]
