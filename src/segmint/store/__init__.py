"""The store: an engine, its schema and migrations, and the loaders."""

from segmint.store.store import Store, open_store

__all__ = ["Store", "open_store"]
