"""The traits framework: settings, registry, joins, profiles, the fresh path and the playbook's base.

The models' own values are tested in their modules; here the machinery they share.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from traits_testing import load_data, traits_by_id
from typer.testing import CliRunner

from segmint.cli.app import app
from segmint.config import load_settings
from segmint.errors import ConfigError
from segmint.store import open_store
from segmint.store.profiles import contact_profile
from segmint.traits import compute_traits, model_classes, trait_models

AS_OF = datetime(2026, 6, 30, 12, tzinfo=UTC)
runner = CliRunner()

DATA = {
    "companies": [{"company_id": "acme", "name": "Acme", "employees": 120}],
    "contacts": [
        {"contact_id": "ann", "email": "ann@example.com", "company_id": "acme"},
        {"contact_id": "bo", "email": "bo@example.com"},
    ],
    "events": [
        {"contact_id": "ann", "event": "email_click", "ts": "2026-06-20T08:00:00Z"},
        {"contact_id": "bo", "event": "page_view", "ts": "2026-03-01T10:00:00Z"},
    ],
}


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "segmint.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_settings_override_the_seeds_defaults(tmp_path: Path) -> None:
    settings = load_settings(write_toml(tmp_path, "[traits.engagement]\nactive_days = 7\n"))
    [engagement] = [m for m in trait_models(settings) if m.name == "engagement"]
    assert engagement.settings.active_days == 7  # type: ignore[attr-defined]
    assert engagement.settings.lapsing_days == 90  # type: ignore[attr-defined]


def test_a_misspelt_setting_names_its_path(tmp_path: Path) -> None:
    settings = load_settings(write_toml(tmp_path, "[traits.engagement]\nactive_dayz = 7\n"))
    with pytest.raises(ConfigError) as raised:
        trait_models(settings)
    assert [p.path for p in raised.value.problems] == ["traits.engagement.active_dayz"]


def test_an_unknown_model_is_named_with_the_known_ones(tmp_path: Path) -> None:
    settings = load_settings(write_toml(tmp_path, "[traits.engagment]\nactive_days = 7\n"))
    with pytest.raises(ConfigError) as raised:
        trait_models(settings)
    assert "engagement" in raised.value.problems[0].suggestions


def test_models_come_after_the_models_they_read() -> None:
    order = [m.name for m in trait_models()]
    for model in trait_models():
        for required in model.requires:
            assert order.index(required) < order.index(model.name), (required, model.name)
    assert set(order) == set(model_classes())


def test_every_trait_is_in_the_registry_with_a_description(tmp_path: Path) -> None:
    with open_store(str(tmp_path / "s.duckdb")) as store:
        registry = store.registry()
        for model in trait_models():
            for f in model.fields():
                found = registry.get(model.entity, f.name)
                assert found.origin == "trait"
                assert found.table == f"traits_{model.name}"
                assert len(f.description) > 20, f.name
                if model.entity == "company":
                    assert registry.get("contact", f"company.{f.name}").via == "company"


def test_trait_tables_exist_before_the_first_refresh(tmp_path: Path) -> None:
    """A segment on a trait works on a new store (no one matches until a refresh computes it)."""
    with open_store(str(tmp_path / "s.duckdb")) as store:
        load_data(store, DATA)
        store.apply({"name": "active", "conditions": [{"field": "engagement_tier", "op": "eq", "value": "active"}]})
        assert store.members("active", as_of=AS_OF) == []
        store.refresh(as_of=AS_OF)
        assert store.members("active", as_of=AS_OF) == ["ann"]


def test_the_fresh_path_recomputes_only_the_touched_contacts(tmp_path: Path) -> None:
    with open_store(str(tmp_path / "s.duckdb")) as store:
        load_data(store, DATA)
        before = traits_by_id(store, "engagement", AS_OF)
        assert before["bo"]["engagement_tier"] == "dormant"
        load_data(store, {"events": [{"contact_id": "bo", "event": "email_click", "ts": "2026-06-29T08:00:00Z"}]})
        keys = [int(store.engine.scalar("SELECT contact_key FROM contacts WHERE contact_id = 'bo'"))]
        later = datetime(2026, 8, 15, tzinfo=UTC)  # ann's click is older than 30 days by then
        compute_traits(store, as_of=later, contact_keys=keys)
        rows = store.engine.query(
            "SELECT c.contact_id, t.engagement_tier FROM traits_engagement t JOIN contacts c USING (contact_key) "
            "ORDER BY 1"
        ).to_pylist()
        # bo: recomputed at 08-15 (click 06-29 is 47 days old: lapsing); ann: untouched, still active from 06-30
        assert rows == [
            {"contact_id": "ann", "engagement_tier": "active"},
            {"contact_id": "bo", "engagement_tier": "lapsing"},
        ]


def test_profile_and_cli_show_traits(tmp_path: Path) -> None:
    db = str(tmp_path / "s.duckdb")
    with open_store(db) as store:
        load_data(store, DATA)
        store.refresh(as_of=AS_OF)
        profile: dict[str, Any] = contact_profile(store, "ann")
    assert profile["traits"]["engagement_tier"] == "active"
    shown = runner.invoke(app, ["contacts", "show", "ann", "--db", db], catch_exceptions=False)
    assert shown.exit_code == 0
    assert "engagement_tier" in shown.output
    assert "active" in shown.output
    members = runner.invoke(
        app,
        [
            "segment",
            "members",
            "--db",
            db,
            "--fields",
            "engagement_tier,last_engaged_at",
            "--as-of",
            AS_OF.isoformat(),
            str(write_segment(tmp_path)),
        ],
        catch_exceptions=False,
    )
    assert members.exit_code == 0, members.output
    assert members.output.splitlines()[:3] == [
        "contact_id,engagement_tier,last_engaged_at",
        "ann,active,2026-06-20T08:00:00+00:00",
        "bo,dormant,2026-03-01T10:00:00+00:00",
    ]


def write_segment(tmp_path: Path) -> Path:
    path = tmp_path / "engaged.yaml"
    path.write_text("name: engaged\nconditions:\n  - {field: engagement_tier, op: neq, value: never}\n")
    return path


def test_refresh_command_reports_traits(tmp_path: Path) -> None:
    db = str(tmp_path / "s.duckdb")
    with open_store(db) as store:
        load_data(store, DATA)
    result = runner.invoke(app, ["refresh", "--db", db, "--as-of", AS_OF.isoformat()], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"traits: {len(model_classes())} models computed" in result.output


def test_explain_shows_the_value_a_segment_sees_for_a_refined_field(tmp_path: Path) -> None:
    """lifecycle_stage: the stored value wins over the inferred one, in segments and in explanations."""
    db = str(tmp_path / "s.duckdb")
    with open_store(db) as store:
        load_data(
            store,
            {
                "contacts": [
                    {"contact_id": "ev", "email": "ev@example.com", "lifecycle_stage": "evangelist"},
                    {"contact_id": "np", "email": "np@example.com"},
                ],
                "events": [
                    {"contact_id": c, "event": "purchase", "ts": "2026-06-01T10:00:00Z", "amount": 10.0}
                    for c in ("ev", "np")
                ],
            },
        )
        store.refresh(as_of=AS_OF)
        store.apply({"name": "custs", "conditions": [{"field": "lifecycle_stage", "op": "eq", "value": "customer"}]})
        assert store.members("custs", as_of=AS_OF) == ["np"]  # inferred customer; ev's stored value wins
    result = runner.invoke(
        app, ["segment", "explain", "custs", "--contact", "ev", "--db", db, "--as-of", AS_OF.isoformat()]
    )
    assert result.exit_code == 0, result.output
    assert "lifecycle_stage = 'evangelist'" in result.output
