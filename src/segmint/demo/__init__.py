"""A deterministic, realistic synthetic data set: the Vasa manufacturer of the seed articles.

Kvarken Fluidtech makes hydraulics, pneumatics and electrical systems in Vasa
(Ostrobothnia) and runs an outdoor web shop on the side.  Its CRM holds
Swedish-, Finnish- and English-speaking contacts at companies of 3 to 2,000
employees (customers, former customers, prospects, subscribers who never
bought, partners and resellers) plus web-shop consumers; two and a half years
of email, web, shop, service and sales events; deals and consents.

>>> from segmint.demo import DemoConfig, generate
>>> data = generate(DemoConfig(contacts=50))
>>> sum(batch.num_rows for batch in data.contacts())
50

The same configuration always gives byte-identical batches; generation is
vectorised per chunk of contacts and streamed, so memory stays bounded at
any size.
"""

from __future__ import annotations

from segmint.demo.config import DemoConfig
from segmint.demo.data import ENTITIES, DemoData, generate
from segmint.demo.files import write_files

__all__ = ["ENTITIES", "DemoConfig", "DemoData", "generate", "write_files"]
