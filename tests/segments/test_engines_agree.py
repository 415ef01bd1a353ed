"""``segment members`` gives the same CSV on DuckDB, PostgreSQL and Spark for the demo data."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from segmint.cli.segment import member_rows, write_rows
from segmint.demo import DemoConfig, generate
from segmint.segments import apply_segments
from segmint.segments.definitions import check_definitions
from segmint.store import open_store
from segmint.store.load import load_tables

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
SEGMENTS = {
    "pricing-prospects.yaml": """
name: pricing-prospects
conditions:
  - event: page_view
    where: [{field: url, op: contains, value: /pricing}]
    within: 90d
  - not: {event: purchase}
""",
    "hydraulics-fans.yaml": """
name: hydraulics-fans
match: any
conditions:
  - {event: email_click, where: [{field: topic, op: eq, value: hydraulics}], within: 365d}
  - {event: content_download, where: [{field: topic, op: eq, value: hydraulics}]}
""",
    "big-finnish-buyers.yaml": """
name: big-finnish-buyers
conditions:
  - {field: country, op: eq, value: fi}
  - {field: company.employees, op: gte, value: 50}
  - {event: purchase, aggregate: {fn: sum, field: amount, op: gte, value: 200}, within: 730d}
""",
    "engaged-partners.yaml": """
name: engaged-partners
conditions:
  - {field: is_partner, op: eq, value: true}
  - any:
      - {event: email_click, within: 180d}
      - {segment: hydraulics-fans}
""",
    "busy-companies.yaml": """
name: busy-companies
entity: company
conditions:
  - {event: "*", within: 30d, count: {op: gte, value: 20}}
""",
}
FIELDS = {"contact": ["email", "country", "created_at", "company.name"], "company": ["name", "employees"]}


def _members_csv(url: str, folder: Path) -> dict[str, str]:
    data = generate(DemoConfig(contacts=150, seed=11))
    store = open_store(url)
    try:
        for entity in ("companies", "contacts", "deals", "consents", "events"):
            load_tables(store, entity, getattr(data, entity)(), source=f"demo-{entity}")
        for name, text in SEGMENTS.items():
            (folder / name).write_text(text)
        apply_segments(store, check_definitions(store, folder))
        result = {}
        for name in SEGMENTS:
            segment = check_definitions(store, folder / name)
            (seg,) = segment.values()
            rows, header = member_rows(store, seg, AS_OF, FIELDS[seg.entity])
            out = io.StringIO()
            write_rows(rows, header, "csv", out)
            result[seg.name] = out.getvalue()
        return result
    finally:
        store.close()


@pytest.mark.postgres
@pytest.mark.spark
def test_engines_agree_on_demo_members(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    urls: dict[str, Any] = {"duckdb": f"duckdb:///{tmp_path / 'demo.duckdb'}"}
    server = request.getfixturevalue("postgres_server")
    urls["postgres"] = server.new_database("demo")
    request.getfixturevalue("spark_session")
    urls["spark"] = f"spark://local[2]?warehouse={tmp_path / 'wh'}&database=segmint_demo_agree"
    results = {}
    for engine, url in urls.items():
        folder = tmp_path / f"defs-{engine}"
        folder.mkdir()
        results[engine] = _members_csv(url, folder)
    server.drop_database(urls["postgres"])
    reference = results["duckdb"]
    # every segment has members, so agreement means something
    assert all(csv.count("\n") > 1 for csv in reference.values()), reference
    for engine in ("postgres", "spark"):
        for name in SEGMENTS:
            stem = name.removesuffix(".yaml")
            assert results[engine][stem] == reference[stem], (engine, stem)
