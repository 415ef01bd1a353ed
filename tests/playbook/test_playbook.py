"""The playbook: every segment the seeds name, valid, documented, and non-empty on the demo data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from segmint.cli.app import app
from segmint.demo import DemoConfig, generate
from segmint.errors import ValidationError
from segmint.playbook import install_playbook, playbook_segments, playbook_themes
from segmint.segments import refresh_all, stored_segments
from segmint.store import open_store
from segmint.store.load import load_tables

runner = CliRunner()

#: The issue's list of what the seeds name, as playbook names.
SEEDS_NAME = {
    "the four relationship groups": ["prospects", "customers", "former-customers", "partners"],
    "the engagement tiers": ["engaged-active", "engaged-lapsing", "engaged-dormant", "never-engaged"],
    "an interest segment per topic": [
        f"interest-{t}"
        for t in ("hydraulics", "pneumatics", "electrical", "fishing", "camping", "running", "service", "delivery")
    ],
    "hot leads": ["hot-leads"],
    "abandoned carts": ["abandoned-carts"],
    "the five journey phases": [
        f"journey-{p}" for p in ("awareness", "consideration", "decision", "onboarding", "retention")
    ],
    "hard bounces and suppressed soft bounces": ["hard-bounces", "suppressed-soft-bounces"],
    "no action in 60 days": ["no-action-60d"],
    "no marketing contact in 60 days": ["no-marketing-contact-60d"],
    "the four lead-score segments": ["no-lead-score", "lead-score-rising", "lead-score-peak-90d", "lead-score-falling"],
    "by last purchase and by purchase history": ["bought-last-30d", "bought-31-180d-ago", "repeat-buyers"],
    "by lead stage and by deal stage": ["marketing-qualified", "sales-qualified", "deal-proposal"],
    "a sales rep's leads": ["rep-mikael-backlund-leads"],
    "by source channel and first-touch content": ["source-organic-search", "source-paid", "first-touch-pricing"],
    "conversion cohorts": ["cohort-converted-2026"],
    "ICP fit A": ["icp-fit-a"],
    "each persona": [
        f"persona-{p}"
        for p in ("executive", "finance", "it", "purchasing", "technical", "marketing", "sales", "operations", "hr")
    ],
    "by region and by industry": ["region-ostrobothnia", "industry-manufacturing"],
    "the value tiers": ["value-tier-a", "value-tier-b", "value-tier-c"],
    "employee bands": ["employees-50-249"],
    "consent given and withdrawn": ["consent-given", "consent-withdrawn"],
}


def test_the_playbook_names_everything_the_seeds_name() -> None:
    names = set(playbook_segments())
    missing = {what: [n for n in wanted if n not in names] for what, wanted in SEEDS_NAME.items()}
    assert {k: v for k, v in missing.items() if v} == {}


def test_every_segment_says_what_advice_it_implements_and_has_a_theme() -> None:
    for name, segment in playbook_segments().items():
        assert segment.title, name
        assert segment.description is not None
        assert len(segment.description) > 60, name
        assert segment.tags, name
    assert sum(len(v) for v in playbook_themes().values()) == len(playbook_segments())


def test_an_unknown_theme_is_an_error_naming_the_known_ones() -> None:
    with pytest.raises(ValidationError) as raised:
        playbook_segments(["engagment"])
    assert "engagement" in raised.value.problems[0].suggestions


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """The demo data in a DuckDB file, the playbook installed and refreshed at the demo's end."""
    data = generate(DemoConfig())
    path = tmp_path_factory.mktemp("playbook") / "demo.duckdb"
    with open_store(str(path)) as store:
        for entity in ("companies", "contacts", "deals", "consents", "events"):
            load_tables(store, entity, getattr(data, entity)(), source=f"demo-{entity}")
        install_playbook(store)
        done = refresh_all(store, as_of=data.config.end)
        yield store, done


def test_the_playbook_applies_cleanly(demo_store: tuple[Any, Any]) -> None:
    store, _ = demo_store
    assert set(playbook_segments()) <= set(stored_segments(store))


def test_every_playbook_segment_is_non_empty_on_the_demo_data(demo_store: tuple[Any, Any]) -> None:
    store, done = demo_store
    sizes = {r.segment: r.size for r in done.segments}
    contacts = store.count("contacts")
    companies = store.count("companies")
    for name, segment in playbook_segments().items():
        everyone = companies if segment.entity == "company" else contacts
        assert 0 < sizes[name] < everyone, (name, sizes[name])


def test_cli_lists_and_installs_a_theme(tmp_path: Path) -> None:
    db = str(tmp_path / "s.duckdb")
    listed = runner.invoke(app, ["playbook", "list", "--tag", "engagement"], catch_exceptions=False)
    assert listed.exit_code == 0
    assert "engaged-lapsing" in listed.output
    assert "hot-leads" not in listed.output
    installed = runner.invoke(app, ["playbook", "install", "--tag", "relationship", "--db", db], catch_exceptions=False)
    assert installed.exit_code == 0, installed.output
    with open_store(db) as store:
        stored = set(stored_segments(store))
    assert {"prospects", "customers", "former-customers", "partners", "partners-tech"} <= stored
    assert "interest-hydraulics" in stored  # nested by partners-tech: installed with it
    assert "hot-leads" not in stored
