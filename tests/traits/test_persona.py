"""Personas on a hand-made set of roles and job titles, on every engine.

Expected personas, worked out from the default rules (role first, then the first persona in order
executive, finance, it, purchasing, technical, marketing, sales, operations, hr with a keyword in the title):

- cfo_vd: role "CFO " (upper case, a trailing space) and title "VD" -> finance from the role (the role wins).
- vd: title "VD" -> executive (the whole word).
- avd: "Avdelningschef" holds "vd" but not as a word, and no other keyword -> unset, no source.
- kval: "Kvalitetschef" holds "it" but not as a word -> unset.
- dk_fin: "Økonomichef" (Danish, upper-case Ø) -> finance.
- it_chef: "IT-chef" -> "it chef": the word "it" -> it.
- head_it: "Head of IT" -> it.
- adm: "Adm. direktør" -> "adm direktør" holds the keyword "adm. dir" (normalised "adm dir") -> executive.
- eko_dir: "Ekonomidirektör" -> finance (no executive keyword: "direktör" alone is none).
- presales: "Presales Engineer" -> technical: "engineer" (technical) comes before "sales" (sales).
- hr: "HR-chef" -> hr.
- dk_buy: "Indkøbschef" -> purchasing.
- fi_ceo: "Toimitusjohtaja" -> executive.
- odd_role: role "astronaut" (not in the map), title "Myyntipäällikkö" -> sales from the title.
- nothing: no role, no title -> unset.
- fi_mkt: "Markkinointipäällikkö" -> marketing.
- fi_ops: "Tuotantopäällikkö" -> operations.
- eng_role: role "engineer", no title -> technical from the role.

Segment "persona eq Finance" (case ignored): cfo_vd, dk_fin, eko_dir.
With the keyword order changed so sales comes before technical, "Presales Engineer" is sales.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError
from traits_testing import load_data, traits_by_id

from segmint.compile import compiler_for
from segmint.traits.base import TraitContext
from segmint.traits.persona import DEFAULT_KEYWORDS, Persona, PersonaSettings

AS_OF = datetime(2026, 6, 30, 12, tzinfo=UTC)

PEOPLE: list[tuple[str, str | None, str | None, str | None, str | None]] = [
    # id, role, job_title, expected persona, expected source
    ("cfo_vd", "CFO ", "VD", "finance", "role"),
    ("vd", None, "VD", "executive", "job_title"),
    ("avd", None, "Avdelningschef", None, None),
    ("kval", None, "Kvalitetschef", None, None),
    ("dk_fin", None, "Økonomichef", "finance", "job_title"),
    ("it_chef", None, "IT-chef", "it", "job_title"),
    ("head_it", None, "Head of IT", "it", "job_title"),
    ("adm", None, "Adm. direktør", "executive", "job_title"),
    ("eko_dir", None, "Ekonomidirektör", "finance", "job_title"),
    ("presales", None, "Presales Engineer", "technical", "job_title"),
    ("hr", None, "HR-chef", "hr", "job_title"),
    ("dk_buy", None, "Indkøbschef", "purchasing", "job_title"),
    ("fi_ceo", None, "Toimitusjohtaja", "executive", "job_title"),
    ("odd_role", "astronaut", "Myyntipäällikkö", "sales", "job_title"),
    ("nothing", None, None, None, None),
    ("fi_mkt", None, "Markkinointipäällikkö", "marketing", "job_title"),
    ("fi_ops", None, "Tuotantopäällikkö", "operations", "job_title"),
    ("eng_role", "engineer", None, "technical", "role"),
]

DATA = {
    "contacts": [
        {"contact_id": cid, "email": f"{cid}@example.com", "role": role, "job_title": title}
        for cid, role, title, _, _ in PEOPLE
    ]
}


@pytest.fixture(scope="module")
def personas(module_store: Any) -> dict[str, dict[str, Any]]:
    load_data(module_store, DATA)
    return traits_by_id(module_store, "persona", AS_OF)


def test_persona_from_role_then_title(personas: dict[str, dict[str, Any]]) -> None:
    got = {cid: (row["persona"], row["persona_source"]) for cid, row in personas.items()}
    assert got == {cid: (persona, source) for cid, _, _, persona, source in PEOPLE}


def test_persona_segment(module_store: Any, personas: dict[str, dict[str, Any]]) -> None:
    module_store.apply({"name": "finance", "conditions": [{"field": "persona", "op": "eq", "value": "Finance"}]})
    assert module_store.members("finance", as_of=AS_OF) == ["cfo_vd", "dk_fin", "eko_dir"]


def test_persona_keyword_order_is_a_setting(module_store: Any, personas: dict[str, dict[str, Any]]) -> None:
    order = ["sales", *(p for p in DEFAULT_KEYWORDS if p != "sales")]
    model = Persona(PersonaSettings(keywords={p: DEFAULT_KEYWORDS[p] for p in order}, roles={}))
    engine = module_store.engine
    ctx = TraitContext(module_store, compiler_for(engine.name, module_store.registry(), {}, as_of=AS_OF), AS_OF)
    rows = engine.query(
        f"SELECT c.contact_id, m.persona FROM ({engine.sql(model.query(ctx))}) m "
        "JOIN contacts c ON c.contact_key = m.contact_key"
    ).to_pylist()
    got = {r["contact_id"]: r["persona"] for r in rows}
    assert got["presales"] == "sales"
    # without the roles map, the CFO whose title is "VD" is an executive
    assert got["cfo_vd"] == "executive"
    assert got["eng_role"] is None


def test_persona_settings_reject_an_empty_keyword() -> None:
    with pytest.raises(ValidationError, match="empty keyword"):
        PersonaSettings(keywords={"finance": ["cfo", " - "]})
