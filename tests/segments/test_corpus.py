"""The segment corpus (tests/corpus): every case on every engine.

Each case's expected ids were worked out by hand from the corpus data (see
``why`` in cases.yaml); none was copied from an engine's output.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from segmint.dsl import parse_segment
from segmint.dsl.documents import read_yaml
from segmint.dsl.timestamps import parse_timestamp
from segmint.segments import apply_segments, segment_members
from segmint.segments.definitions import check_segments
from segmint.store import Store, open_store
from segmint.store.load import load_files

CORPUS = Path(__file__).parents[1] / "corpus"
DEFAULT_AS_OF = "2026-06-30T12:00:00Z"
DATA_FILES = (
    ("companies", "companies.csv"),
    ("contacts", "contacts.csv"),
    ("events", "events.jsonl"),
    ("consents", "consents.csv"),
)


def _yaml(name: str) -> Any:
    # YAML 1.2 core schema, as segment files are read: unquoted dates stay strings
    path = CORPUS / name
    return read_yaml(path.read_text(encoding="utf-8"), origin=name) if path.exists() else []


CASES: list[dict[str, Any]] = _yaml("cases.yaml") or []


@pytest.fixture(scope="module")
def corpus_store(module_store_url: str) -> Iterator[Store]:
    store = open_store(module_store_url)
    try:
        for entity, name in DATA_FILES:
            if (CORPUS / "data" / name).exists():
                summary = load_files(store, entity, [CORPUS / "data" / name])
                assert summary.total("rejected") == 0, summary.files[0].reject_samples
        helpers = [
            parse_segment(doc, origin=f"segments.yaml[{i}]") for i, doc in enumerate(_yaml("segments.yaml") or [])
        ]
        if helpers:
            apply_segments(store, {s.name: s for s in helpers})
        yield store
    finally:
        store.close()


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_corpus_case(corpus_store: Store, case: dict[str, Any]) -> None:
    segment = parse_segment(case["segment"], origin=case["name"])
    (checked,) = check_segments(corpus_store, {segment.name: segment}).values()
    as_of = parse_timestamp(str(case.get("as_of") or DEFAULT_AS_OF))
    members = segment_members(corpus_store, checked, as_of=as_of).column("member_id").to_pylist()
    assert members == sorted(str(i) for i in case["expected"]), case.get("why", "")
