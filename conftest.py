"""Doctest collection: skip the modules of engines whose optional package is missing."""

from __future__ import annotations

import importlib.util

collect_ignore = [
    path
    for path, package in (("src/segmint/engines/postgres.py", "psycopg"), ("src/segmint/engines/spark.py", "pyspark"))
    if importlib.util.find_spec(package) is None
]
