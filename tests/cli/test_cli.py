"""The command line, through Typer's runner and once through the installed script."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from segmint.cli.app import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)  # rejects/ and segmint.toml land in the test's own folder
    return str(tmp_path / "cli.duckdb")


def test_cli_load_prints_the_summary_and_each_rejected_row(db: str, tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text("contact_id,email,language\nc1,anna@example.fi,sv\nc2,bo@,sv\nc3,cia@example.fi,swedish\n")
    result = invoke("load", "contacts", str(path), "--db", db, "--rejects", str(tmp_path / "rej"))
    assert result.exit_code == 0, result.output
    assert "row 2: email: 'bo@' is not a valid address" in result.output
    assert "row 3: language: 'swedish' is not an ISO 639-1 language code" in result.output
    assert str(tmp_path / "rej" / "contacts.rejects.csv") in result.output
    again = invoke("load", "contacts", str(path), "--db", db, "--json", "--rejects", str(tmp_path / "rej"))
    summary = json.loads(again.output)
    assert summary["files"][0] | {"rejects": None, "rejects_file": None} == {
        "source": str(path),
        "rows": 3,
        "loaded": 0,
        "updated": 0,
        "unchanged": 1,
        "rejected": 2,
        "rejects": None,
        "rejects_file": None,
    }


def test_cli_db_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEGMINT_DB", str(tmp_path / "env.duckdb"))
    path = tmp_path / "c.csv"
    path.write_text("contact_id\nc1\n")
    assert invoke("load", "contacts", str(path)).exit_code == 0
    assert (tmp_path / "env.duckdb").exists()


def test_cli_errors_are_one_line_with_their_exit_code(db: str, tmp_path: Path) -> None:
    missing = invoke("load", "contacts", str(tmp_path / "nope.csv"), "--db", db)
    assert missing.exit_code == 4
    assert missing.output.strip() == f"error: {tmp_path / 'nope.csv'}: no such file"
    unknown = invoke("contacts", "show", "ghost", "--db", db)
    assert unknown.exit_code == 5
    assert "Traceback" not in unknown.output
    assert "no contact with id or email 'ghost'" in unknown.output
    bad_url = invoke("stats", "--db", "mysql://localhost/crm")
    assert bad_url.exit_code == 6
    assert "unknown store URL scheme 'mysql'" in bad_url.output
    bad_mapping = invoke("load", "contacts", str(tmp_path / "x.csv"), "--mapping", "salesforce", "--db", db)
    assert bad_mapping.exit_code == 2
    assert "hubspot-contacts" in bad_mapping.output


def test_cli_contacts_show_lists_profile_company_consents_and_events(db: str, tmp_path: Path) -> None:
    (tmp_path / "companies.csv").write_text("company_id,name,employees\nacme,Acme Ab,40\n")
    (tmp_path / "contacts.csv").write_text("contact_id,email,first_name,company_id\nc1,anna@acme.fi,Anna,acme\n")
    (tmp_path / "consents.csv").write_text(
        "contact_id,channel,purpose,status,ts\nc1,email,marketing,granted,2023-01-01\nc1,email,marketing,revoked,2024-02-01\n"
    )
    (tmp_path / "events.csv").write_text(
        "contact_id,event,ts,url\nc1,page_view,2024-01-01T10:00:00Z,/pricing\nc1,page_view,2024-03-01T10:00:00Z,/blog\n"
    )
    for entity in ("companies", "contacts", "consents", "events"):
        assert invoke("load", entity, str(tmp_path / f"{entity}.csv"), "--db", db).exit_code == 0
    result = invoke("contacts", "show", "ANNA@acme.fi", "--db", db, "--json")
    profile = json.loads(result.output)
    assert profile["contact"]["first_name"] == "Anna"
    assert profile["company"]["name"] == "Acme Ab"
    # the latest consent record is the one in force
    assert [(c["purpose"], c["status"]) for c in profile["consents"]] == [("marketing", "revoked")]
    assert [e["url"] for e in profile["latest_events"]] == ["/blog", "/pricing"]
    text = invoke("contacts", "show", "c1", "--db", db).output
    for shown in ("Acme Ab", "revoked", "/pricing"):
        assert shown in text


def test_cli_stats_reports_fill_rates(db: str, tmp_path: Path) -> None:
    (tmp_path / "contacts.csv").write_text(
        "contact_id,email,city,created_at\nc1,a@x.fi,Vasa,2023-05-01\nc2,,Oulu,2024-07-01\nc3,,,2022-01-01\nc4,d@x.fi,,\n"
    )
    invoke("load", "contacts", str(tmp_path / "contacts.csv"), "--db", db)
    stats = json.loads(invoke("stats", "--db", db, "--json").output)
    contacts = next(t for t in stats["tables"] if t["table"] == "contacts")
    assert contacts["rows"] == 4
    assert (contacts["first"][:10], contacts["last"][:10]) == ("2022-01-01", "2024-07-01")
    fill = {f["name"]: (f["filled"], f["rate"]) for f in contacts["fields"]}
    assert fill["email"] == (2, 0.5)
    assert fill["city"] == (2, 0.5)
    assert fill["created_at"] == (3, 0.75)
    assert fill["phone"] == (0, 0.0)


def test_cli_init_creates_store_and_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("init", "--db", "crm.duckdb")
    assert result.exit_code == 0
    assert (tmp_path / "crm.duckdb").exists()
    assert 'url = "crm.duckdb"' in (tmp_path / "segmint.toml").read_text()


def test_cli_help_for_every_command() -> None:
    for args in ([], ["load"], ["stats"], ["init"], ["contacts"], ["contacts", "show"], ["demo"]):
        result = invoke(*args, "--help")
        assert result.exit_code == 0, args
        assert "Usage" in result.output


def test_cli_installed_script_runs(tmp_path: Path) -> None:
    script = shutil.which("segmint") or str(Path(__file__).parents[2] / ".venv" / "bin" / "segmint")
    done = subprocess.run(
        [script, "stats", "--db", "postgresql://nobody@127.0.0.1:1/none"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 6
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error:")
