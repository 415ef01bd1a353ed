"""The docs say what the code does."""

from __future__ import annotations

from pathlib import Path

from segmint.model.docs import render_data_model
from segmint.model.tables import DATA_TABLES

ROOT = Path(__file__).parents[1]


def test_docs_data_model_matches_the_code() -> None:
    committed = (ROOT / "docs" / "data-model.md").read_text(encoding="utf-8")
    assert committed == render_data_model(), "regenerate with: python -m segmint.model.docs > docs/data-model.md"


def test_docs_data_model_lists_every_column() -> None:
    text = (ROOT / "docs" / "data-model.md").read_text(encoding="utf-8")
    for table in DATA_TABLES:
        for column in table.columns:
            assert f"| `{column.name}` |" in text


def test_docs_readme_names_every_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in (
        "segmint load",
        "segmint stats",
        "segmint contacts show",
        "segmint init",
        "segmint demo",
        "make demo",
        "make test",
    ):
        assert command in readme, command


def test_docs_segments_names_every_operator_and_command() -> None:
    from segmint.dsl import AGGREGATE_FNS, FIELD_OPS

    text = (ROOT / "docs" / "segments.md").read_text(encoding="utf-8")
    for op in FIELD_OPS:
        assert f"`{op}`" in text, op
    for fn in AGGREGATE_FNS:
        assert fn in text, fn
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in (
        "validate",
        "apply",
        "list",
        "count",
        "members",
        "explain",
        "sql",
        "diff",
        "snapshot",
        "add",
        "history",
    ):
        assert f"segmint segment {command}" in readme, command
    assert "segmint refresh" in readme


def test_docs_traits_match_the_code() -> None:
    from segmint.traits.docs import render_traits

    committed = (ROOT / "docs" / "traits.md").read_text(encoding="utf-8")
    assert committed == render_traits(), "regenerate with: python -m segmint.traits.docs > docs/traits.md"


def test_docs_readme_shows_the_playbook_and_every_traits_model() -> None:
    from segmint.traits import model_classes

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in ("segmint playbook list", "segmint playbook install", "segmint refresh", "make bench"):
        assert command in readme, command
    for name in model_classes():
        assert f"| {name}" in readme, name


def test_docs_readme_shows_the_server() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for text in ("segmint serve", "segmint keys create", "/v1/batch", "/api", "/docs"):
        assert text in readme, text
