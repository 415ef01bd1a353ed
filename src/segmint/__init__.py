r"""segmint: a segmentation engine for CRM and marketing automation.

>>> import segmint, tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> store = segmint.open(str(folder / "crm.duckdb"))
>>> _ = (folder / "contacts.csv").write_text("contact_id,country\nc1,FI\nc2,SE\nc3,fi\n")
>>> from segmint.store.load import load_files
>>> load_files(store, "contacts", [folder / "contacts.csv"]).total("loaded")
3

Segments are applied from YAML files or documents, then evaluated at an instant:

>>> from datetime import datetime, UTC
>>> store.apply({"name": "finns", "conditions": [{"field": "country", "op": "eq", "value": "FI"}]})
ApplyResult(created=['finns'], updated=[], unchanged=[])
>>> store.count("finns"), store.members("finns")
(2, ['c1', 'c3'])
>>> print(store.explain("finns"))
Contacts whose country is FI
>>> [(r.segment, r.size, r.entered) for r in store.refresh(as_of=datetime(2026, 6, 30, tzinfo=UTC))]
[('finns', 2, 2)]
>>> store.close()
"""

from segmint.errors import SegmintError
from segmint.store import Store, open_store

__version__ = "0.1.0"

open = open_store

__all__ = ["SegmintError", "Store", "__version__", "open", "open_store"]
