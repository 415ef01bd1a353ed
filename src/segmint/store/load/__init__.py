"""Loaders: CSV, JSON Lines and Parquet into the store, with mappings and rejects."""

from segmint.store.load.loader import FileResult, LoadSummary, load_files, load_tables
from segmint.store.load.mapping import Mapping, read_mapping

__all__ = ["FileResult", "LoadSummary", "Mapping", "load_files", "load_tables", "read_mapping"]
