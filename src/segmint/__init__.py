"""segmint: a segmentation engine for CRM and marketing automation.

>>> import segmint, tempfile, os
>>> store = segmint.open(os.path.join(tempfile.mkdtemp(), "crm.duckdb"))
>>> store.count("events")
0
>>> store.close()
"""

from segmint.errors import SegmintError
from segmint.store import Store, open_store

__version__ = "0.1.0"

open = open_store

__all__ = ["SegmintError", "Store", "__version__", "open", "open_store"]
