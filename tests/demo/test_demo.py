"""The demo data generator: deterministic, consistent across entities, realistic, streamed in bounded batches."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.json as pjson
import pyarrow.parquet as pq
import pytest
from email_validator import validate_email

import segmint.demo.data as demo_data
from segmint.demo import ENTITIES, DemoConfig, DemoData, generate, write_files
from segmint.demo.catalog import ROLES
from segmint.model.tables import DEAL_STATUSES, LIFECYCLE_STAGES


def words(text: str) -> list[str]:
    """The space-separated words of ``text``."""
    return text.split()


# DATA.md's canonical event names.
CANONICAL_EVENTS = set(
    words(
        "email_sent email_delivered email_open email_click email_bounce email_unsubscribe email_spam_report page_view "
        "form_submit content_download search cart_add purchase support_ticket sales_activity"
    )
)
# DATA.md's import columns of each entity.
IMPORT_COLUMNS = {
    "companies": words(
        "company_id name domain industry sub_industry employees annual_revenue country region sales_region "
        "owner created_at"
    ),
    "contacts": words(
        "contact_id email first_name last_name phone job_title role seniority company_id country region city "
        "language source lifecycle_stage owner is_partner created_at"
    ),
    "deals": words("deal_id contact_id company_id stage status amount currency owner created_at closed_at"),
    "consents": words("contact_id channel purpose status ts source"),
    "events": words(
        "event_id contact_id event ts campaign_id url link_url referrer utm_source utm_medium utm_campaign topic "
        "bounce_type machine_open amount price currency order_id product_id category query properties"
    ),
}
# DATA.md: an empty CSV cell is an unset value.
NULL_CELLS = pcsv.ConvertOptions(strings_can_be_null=True)


def _table(batches: Iterator[pa.RecordBatch]) -> pa.Table:
    return pa.Table.from_batches(list(batches))


@pytest.fixture(scope="module")
def config() -> DemoConfig:
    return DemoConfig()


@pytest.fixture(scope="module")
def tables(config: DemoConfig) -> dict[str, pa.Table]:
    data = generate(config)
    return {entity: _table(data.batches(entity)) for entity in ENTITIES}


@pytest.fixture(scope="module")
def db(tables: dict[str, pa.Table]) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    for name, table in tables.items():
        con.register(name, table)
    yield con
    con.close()


def one(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    assert row is not None
    return row[0]


def column_set(con: duckdb.DuckDBPyConnection, sql: str) -> set[Any]:
    return {row[0] for row in con.execute(sql).fetchall()}


# ---- determinism and the API ---------------------------------------------------------


def test_generate_same_config_gives_identical_batches(tables: dict[str, pa.Table], config: DemoConfig) -> None:
    again = generate(config)
    for entity in ENTITIES:
        assert _table(again.batches(entity)).equals(tables[entity]), entity


def test_generate_other_seed_gives_other_data(tables: dict[str, pa.Table]) -> None:
    other = _table(generate(DemoConfig(seed=8)).contacts())
    assert other.num_rows == tables["contacts"].num_rows
    assert not other.column("email").equals(tables["contacts"].column("email"))


def test_generate_output_does_not_depend_on_batch_rows(tables: dict[str, pa.Table]) -> None:
    small = generate(DemoConfig(batch_rows=7_000))
    for entity in ("contacts", "events"):
        batches = list(small.batches(entity))
        assert all(b.num_rows <= 7_000 for b in batches)
        assert pa.Table.from_batches(batches).equals(tables[entity]), entity


def test_generate_threads_do_not_change_the_output(monkeypatch: pytest.MonkeyPatch) -> None:
    config = DemoConfig(contacts=6_000)  # two chunks
    threaded = _table(generate(config).events())
    monkeypatch.setattr(demo_data, "WORKERS", 1)
    assert _table(generate(config).events()).equals(threaded)


def test_batches_use_the_data_md_import_columns(tables: dict[str, pa.Table]) -> None:
    for entity, expected in IMPORT_COLUMNS.items():
        names = tables[entity].column_names
        assert names[: len(expected)] == expected, entity
    assert tables["contacts"].column_names[len(IMPORT_COLUMNS["contacts"]) :] == [
        "customer_number",
        "newsletter_frequency",
    ]
    for entity in ENTITIES:
        for field in tables[entity].schema:
            if pa.types.is_timestamp(field.type):
                assert field.type == pa.timestamp("us", tz="UTC"), (entity, field.name)


def test_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="contacts"):
        DemoConfig(contacts=0)
    with pytest.raises(ValueError, match="batch_rows"):
        DemoConfig(batch_rows=0)


def test_unset_values_are_null_never_empty_strings(tables: dict[str, pa.Table]) -> None:
    for entity, table in tables.items():
        for name in table.column_names:
            if pa.types.is_string(table.schema.field(name).type):
                assert "" not in set(table.column(name).unique().to_pylist()), (entity, name)


# ---- contacts and companies ------------------------------------------------------------


def test_contacts_default_has_2400_unique_ids_and_valid_emails(tables: dict[str, pa.Table]) -> None:
    contacts = tables["contacts"]
    ids = contacts.column("contact_id").to_pylist()
    emails = contacts.column("email").to_pylist()
    assert len(ids) == 2400 == len(set(ids))
    assert len(set(emails)) == 2400
    for email in emails:
        assert validate_email(email, check_deliverability=False).normalized.lower() == email


def test_contacts_company_ids_exist_or_are_null(db: duckdb.DuckDBPyConnection) -> None:
    assert one(db, "select count(*) from contacts where company_id not in (select company_id from companies)") == 0
    consumers = one(db, "select count(*) from contacts where company_id is null")
    assert 24 <= consumers <= 360  # a handful of web-shop consumers: 1% .. 15%
    assert one(db, "select count(distinct company_id) from companies") == one(db, "select count(*) from companies")


def test_companies_scale_with_contacts_and_have_3_to_2000_employees(db: duckdb.DuckDBPyConnection) -> None:
    assert one(db, "select count(*) from companies") == round(2400 / 7)
    assert one(db, "select min(employees) from companies") >= 3
    assert one(db, "select max(employees) from companies") <= 2000
    assert one(db, "select count(*) from companies where employees < 10") > 0
    assert one(db, "select count(*) from companies where employees > 250") > 0
    assert one(db, "select count(distinct industry) from companies") >= 5
    assert one(db, "select count(distinct domain) from companies") == one(db, "select count(*) from companies")
    regions = column_set(db, "select distinct region from companies")
    assert {"Österbotten", "Nyland", "Birkaland", "Västerbotten"} <= regions
    assert {"Finland West", "Finland South", "Sweden North"} <= column_set(db, "select sales_region from companies")


def test_contacts_have_roles_seniorities_languages_and_partners(db: duckdb.DuckDBPyConnection) -> None:
    roles = column_set(db, "select role from contacts")
    assert {"cfo", "it_manager", "purchaser", "engineer", "ceo", "production_manager"} <= roles
    assert column_set(db, "select seniority from contacts where seniority is not null") == {
        "c_level",
        "manager",
        "individual",
    }
    assert column_set(db, "select language from contacts") == {"sv", "fi", "en"}
    assert one(db, "select count(*) from contacts where is_partner") > 0
    assert one(db, "select count(*) from contacts where not is_partner") > 0


def test_contacts_job_titles_match_role_and_language(tables: dict[str, pa.Table]) -> None:
    titles = {
        (role, lang): set(ROLES[i][2][j])
        for i, role in enumerate(r[0] for r in ROLES)
        for j, lang in enumerate(("sv", "fi", "en"))
    }
    rows = tables["contacts"].select(["job_title", "role", "language"]).to_pylist()
    with_title = [r for r in rows if r["job_title"] is not None]
    assert len(with_title) > len(rows) / 2
    for r in with_title:
        assert r["job_title"] in titles[(r["role"], r["language"])], r


def test_contacts_emails_use_the_company_domain_or_free_mail(db: duckdb.DuckDBPyConnection) -> None:
    mismatched = one(
        db,
        """select count(*) from contacts c join companies k using (company_id)
                            where split_part(c.email, '@', 2) <> k.domain""",
    )
    assert mismatched == 0
    free = column_set(db, "select split_part(email, '@', 2) from contacts where company_id is null")
    assert free <= {"gmail.com", "hotmail.com", "outlook.com", "yahoo.com", "luukku.com", "icloud.com"}


def test_contacts_phones_follow_the_country(db: duckdb.DuckDBPyConnection) -> None:
    assert one(db, "select count(*) from contacts where country = 'FI' and phone not like '+358 %'") == 0
    assert one(db, "select count(*) from contacts where country = 'SE' and phone not like '+46 %'") == 0
    assert one(db, "select count(*) from contacts where phone is null") > 0


def test_contacts_lifecycle_stage_is_given_for_some_only(db: duckdb.DuckDBPyConnection) -> None:
    given = column_set(db, "select lifecycle_stage from contacts where lifecycle_stage is not null")
    assert given <= set(LIFECYCLE_STAGES)
    assert {"subscriber", "lead", "customer", "opportunity"} <= given
    unset = one(db, "select count(*) from contacts where lifecycle_stage is null")
    assert 240 < unset < 2160


# ---- events ---------------------------------------------------------------------------


def test_events_are_canonical_and_all_occur(db: duckdb.DuckDBPyConnection) -> None:
    assert column_set(db, "select distinct event from events") == CANONICAL_EVENTS


def test_events_about_100_per_contact_with_skew(db: duckdb.DuckDBPyConnection) -> None:
    per_contact = one(db, "select count(*) / 2400 from events")
    assert 70 <= per_contact <= 140
    counts = [r[0] for r in db.execute("select count(*) c from events group by contact_id order by c desc").fetchall()]
    top_1_percent = sum(counts[:24])
    assert top_1_percent > 0.05 * sum(counts)  # a few very active contacts ...
    assert counts[len(counts) // 2] < per_contact  # ... and many quiet ones


def test_events_ts_span_two_years_up_to_end(db: duckdb.DuckDBPyConnection, config: DemoConfig) -> None:
    first, last = db.execute("select min(ts), max(ts) from events").fetchone()  # type: ignore[misc]
    assert last <= config.end
    assert first >= config.end - timedelta(days=3 * 365)
    assert first <= config.end - timedelta(days=2 * 365)
    assert last >= config.end - timedelta(days=2)


def test_events_happen_after_the_contact_was_created(db: duckdb.DuckDBPyConnection) -> None:
    assert one(db, "select count(*) from events e join contacts c using (contact_id) where e.ts < c.created_at") == 0
    assert one(db, "select count(*) from events where contact_id not in (select contact_id from contacts)") == 0


def test_events_ids_are_unique_and_name_the_contact(tables: dict[str, pa.Table]) -> None:
    events = tables["events"]
    ids = events.column("event_id").to_pylist()
    assert len(set(ids)) == len(ids)
    for event_id, contact_id in zip(ids[:5000], events.column("contact_id").to_pylist()[:5000], strict=True):
        match = re.fullmatch(r"ev-(\d+)-(\d+)", event_id)
        assert match, event_id
        assert contact_id == f"C{100001 + int(match.group(1))}"


def test_events_batches_are_in_time_order(config: DemoConfig) -> None:
    for batch in generate(DemoConfig(batch_rows=50_000)).events():
        ts = batch.column("ts").to_numpy()
        assert (ts[1:] >= ts[:-1]).all()


def test_events_properties_are_json_objects(tables: dict[str, pa.Table]) -> None:
    values = tables["events"].column("properties").drop_null().unique().to_pylist()
    assert len(values) > 100
    for value in values:
        assert isinstance(json.loads(value), dict)


def test_email_opens_include_machine_and_human_opens(db: duckdb.DuckDBPyConnection) -> None:
    opens = dict(
        db.execute("select machine_open, count(*) from events where event = 'email_open' group by 1").fetchall()
    )
    assert opens.get(True, 0) > 0
    assert opens.get(False, 0) > 0
    assert None not in opens
    assert one(db, "select count(*) from events where event <> 'email_open' and machine_open is not null") == 0
    agents = column_set(
        db,
        """select json_extract_string(properties, '$.user_agent') from events
                               where event = 'email_open' and machine_open""",
    )
    assert None not in agents
    # the false positive: contacts who only ever "opened" through a proxy
    proxy_only = one(
        db,
        """select count(*) from (select contact_id from events where event in ('email_open', 'email_click')
                            group by 1 having bool_and(coalesce(machine_open, false)))""",
    )
    assert proxy_only > 0


def test_email_bounces_hard_soft_and_repeated_soft(db: duckdb.DuckDBPyConnection) -> None:
    kinds = column_set(db, "select bounce_type from events where event = 'email_bounce'")
    assert kinds == {"hard", "soft"}
    # nothing is sent after a hard bounce
    after = one(
        db,
        """select count(*) from events s join (select contact_id, min(ts) t from events
                       where bounce_type = 'hard' group by 1) h using (contact_id)
                       where s.event = 'email_sent' and s.ts > h.t""",
    )
    assert after == 0
    # some contacts soft-bounce four or more times in a row
    rows = db.execute("""select s.contact_id, list(b.campaign_id is not null order by s.ts) from events s
                     left join events b on b.event = 'email_bounce' and b.bounce_type = 'soft'
                          and b.contact_id = s.contact_id and b.campaign_id = s.campaign_id
                     where s.event = 'email_sent' group by 1""").fetchall()
    longest = [
        max((len(run) for run in "".join("x" if b else "." for b in flags).split(".")), default=0) for _, flags in rows
    ]
    assert sum(n >= 4 for n in longest) >= 3


def test_email_flow_is_consistent(db: duckdb.DuckDBPyConnection) -> None:
    sent = one(db, "select count(*) from events where event = 'email_sent'")
    delivered = one(db, "select count(*) from events where event = 'email_delivered'")
    bounced = one(db, "select count(*) from events where event = 'email_bounce'")
    assert sent == delivered + bounced
    assert one(db, """select count(*) from events where event like 'email_%' and campaign_id is null""") == 0
    assert one(db, "select count(*) from events where event = 'email_sent' and properties->>'subject' is null") == 0
    newsletters = column_set(
        db, "select campaign_id from events where event = 'email_sent' and campaign_id like 'nl-%'"
    )
    assert len(newsletters) >= 24  # monthly over two and a half years


def test_clicks_topics_and_landing_pages(db: duckdb.DuckDBPyConnection) -> None:
    topics = column_set(db, "select topic from events where event = 'email_click'")
    assert {"hydraulics", "pneumatics", "electrical", "fishing", "camping", "running"} <= topics
    assert one(db, "select count(*) from events where event = 'email_click' and link_url not like 'https://%'") == 0
    email_visits = one(
        db,
        """select count(*) from events where event = 'page_view'
                              and utm_source = 'newsletter' and utm_medium = 'email'""",
    )
    assert email_visits == one(db, "select count(*) from events where event = 'email_click'")


def test_page_views_urls_and_traffic_sources(db: duckdb.DuckDBPyConnection) -> None:
    urls = column_set(db, "select url from events where event = 'page_view'")
    for prefix in ("/pricing", "/service", "/blog/", "/products/hydraulics/", "/products/pneumatics/", "/shop/"):
        assert any(u.startswith(prefix) for u in urls), prefix
    sources = set(
        db.execute("select distinct utm_source, utm_medium from events where utm_source is not null").fetchall()
    )
    assert {("google", "cpc"), ("linkedin", "social"), ("newsletter", "email")} <= sources
    assert one(db, "select count(*) from events where event = 'page_view' and properties->>'title' is null") == 0


def test_other_web_events_carry_their_properties(db: duckdb.DuckDBPyConnection) -> None:
    forms = column_set(db, "select properties->>'form_id' from events where event = 'form_submit'")
    assert {"demo_request", "contact_form"} <= forms
    assert one(db, "select count(*) from events where event = 'form_submit' and url is null") == 0
    assert (
        one(
            db,
            """select count(*) from events where event = 'content_download'
                      and (topic is null or properties->>'asset' is null)""",
        )
        == 0
    )
    assert one(db, "select count(*) from events where event = 'search' and query is null") == 0


def test_shop_purchases_follow_carts(db: duckdb.DuckDBPyConnection) -> None:
    categories = column_set(db, "select category from events where event in ('cart_add', 'purchase')")
    assert categories == {"fishing", "camping", "running"}
    bad = one(
        db,
        """select count(*) from events where event = 'purchase' and (order_id is null or amount <= 0
                     or currency <> 'EUR' or product_id is null)""",
    )
    assert bad == 0
    assert one(db, "select count(distinct order_id) = count(*) from events where event = 'purchase'")
    unmatched = one(
        db,
        """select count(*) from events p where p.event = 'purchase' and not exists (
                           select 1 from events c where c.event = 'cart_add' and c.contact_id = p.contact_id
                           and c.product_id = p.product_id and c.ts <= p.ts)""",
    )
    assert unmatched == 0
    carts, purchases = (one(db, f"select count(*) from events where event = '{e}'") for e in ("cart_add", "purchase"))
    assert purchases < carts  # abandoned carts exist


def test_service_and_sales_events(db: duckdb.DuckDBPyConnection) -> None:
    severities = column_set(db, "select properties->>'severity' from events where event = 'support_ticket'")
    assert severities == {"low", "medium", "high", "critical"}
    tickets = column_set(db, "select properties->>'ticket_id' from events where event = 'support_ticket'")
    assert None not in tickets
    assert one(db, "select count(*) from events where event = 'support_ticket' and topic is null") == 0
    kinds = column_set(db, "select properties->>'kind' from events where event = 'sales_activity'")
    assert kinds == {"call", "meeting", "email"}
    assert one(db, "select count(*) from events where event = 'sales_activity' and properties->>'owner' is null") == 0


def test_engagement_tiers_all_occur(db: duckdb.DuckDBPyConnection, config: DemoConfig) -> None:
    end = config.end.strftime("%Y-%m-%d %H:%M:%S")
    tiers = dict(
        db.execute(f"""
        with last as (select contact_id, max(ts) filter (where event in ('email_click', 'page_view', 'form_submit')
                      or (event = 'email_open' and not machine_open)) as t from events group by 1)
        select case when t is null then 'never'
                    when t > timestamptz '{end}+00' - interval 30 day then 'active'
                    when t > timestamptz '{end}+00' - interval 90 day then 'lapsing'
                    else 'dormant' end, count(*)
        from contacts left join last using (contact_id) group by 1""").fetchall()
    )
    assert set(tiers) == {"active", "lapsing", "dormant", "never"}
    assert min(tiers.values()) >= 100


# ---- deals and consents -----------------------------------------------------------------


def test_deals_status_matches_stage_and_dates(db: duckdb.DuckDBPyConnection, config: DemoConfig) -> None:
    pairs = set(db.execute("select stage, status from deals").fetchall())
    assert pairs == {
        ("qualification", "open"),
        ("proposal", "open"),
        ("negotiation", "open"),
        ("closed_won", "won"),
        ("closed_lost", "lost"),
    }
    assert column_set(db, "select status from deals") == set(DEAL_STATUSES)
    assert one(db, "select count(*) from deals where (status = 'open') <> (closed_at is null)") == 0
    assert one(db, "select count(*) from deals where closed_at < created_at") == 0
    assert one(db, f"select count(*) from deals where closed_at > timestamptz '{config.end.isoformat()}'") == 0
    assert one(db, "select count(distinct deal_id) = count(*) from deals")
    mismatched = one(
        db, "select count(*) from deals d join contacts c using (contact_id) where d.company_id <> c.company_id"
    )
    assert mismatched == 0


def test_customers_and_former_customers_differ_in_recency(db: duckdb.DuckDBPyConnection, config: DemoConfig) -> None:
    last_won = db.execute("""select contact_id, max(closed_at) from deals where status = 'won' group by 1""").fetchall()
    year_ago = config.end - timedelta(days=365)
    recent = sum(t > year_ago for _, t in last_won)
    long_ago = sum(t < year_ago for _, t in last_won)
    assert recent > 100
    assert long_ago > 100


def test_consents_revocations_match_unsubscribes(db: duckdb.DuckDBPyConnection) -> None:
    assert column_set(db, "select status from consents") == {"granted", "revoked"}
    revoked = set(
        db.execute("select contact_id, ts from consents where channel = 'email' and status = 'revoked'").fetchall()
    )
    quit_ = set(
        db.execute("""select contact_id, ts from events
                          where event in ('email_unsubscribe', 'email_spam_report')""").fetchall()
    )
    assert revoked
    assert revoked == quit_
    # no marketing email after the revocation
    after = one(
        db,
        """select count(*) from events e join consents c using (contact_id)
                       where c.channel = 'email' and c.status = 'revoked' and e.event = 'email_sent' and e.ts > c.ts""",
    )
    assert after == 0
    assert column_set(db, "select channel from consents") == {"email", "sms", "phone"}


# ---- files and scale --------------------------------------------------------------------


def test_write_files_writes_readable_csv_and_parquet(
    tables: dict[str, pa.Table], config: DemoConfig, tmp_path: Path
) -> None:
    paths = write_files(generate(config), tmp_path)
    assert {e: [p.name for p in ps] for e, ps in paths.items()} == {
        "companies": ["companies.csv"],
        "contacts": ["contacts.csv"],
        "deals": ["deals.csv"],
        "consents": ["consents.csv"],
        "events": ["events.parquet"],
    }
    for entity in ("companies", "contacts", "deals", "consents"):
        read = pcsv.read_csv(paths[entity][0], convert_options=NULL_CELLS)
        assert read.num_rows == tables[entity].num_rows, entity
        assert read.column_names == tables[entity].column_names
    contacts = pcsv.read_csv(paths["contacts"][0], convert_options=NULL_CELLS)
    assert contacts.column("phone").null_count == tables["contacts"].column("phone").null_count > 0
    events = pq.read_table(paths["events"][0])
    assert events.num_rows == tables["events"].num_rows
    assert events.schema.equals(tables["events"].schema)


def test_write_files_splits_large_events_into_parts_and_writes_jsonl(
    tables: dict[str, pa.Table], tmp_path: Path, config: DemoConfig
) -> None:
    (tmp_path / "events.parquet").write_bytes(b"stale")
    paths = write_files(generate(config), tmp_path, {"contacts": "jsonl"}, part_rows=100_000)
    parts = paths["events"]
    expected_parts = -(-tables["events"].num_rows // 100_000)
    assert [p.name for p in parts] == [f"events-{i:05d}.parquet" for i in range(expected_parts)]
    assert not (tmp_path / "events.parquet").exists()
    assert sum(pq.read_metadata(p).num_rows for p in parts) == tables["events"].num_rows
    assert paths["contacts"] == [tmp_path / "contacts.jsonl"]
    assert pjson.read_json(paths["contacts"][0]).num_rows == 2400
    with pytest.raises(ValueError, match="format"):
        write_files(generate(config), tmp_path, {"events": "xlsx"})


def test_large_run_streams_in_bounded_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo_data, "WORKERS", 1)
    data: DemoData = generate(DemoConfig(contacts=30_000, batch_rows=50_000))
    baseline = pa.total_allocated_bytes()
    peak = produced = rows = 0
    for batch in data.events():
        assert batch.num_rows <= 50_000
        rows += batch.num_rows
        produced += batch.nbytes
        peak = max(peak, pa.total_allocated_bytes() - baseline)
        del batch
    assert 30_000 * 70 <= rows <= 30_000 * 140
    assert peak < produced / 2  # never all events at once: about one chunk of 4,096 contacts at a time
    contacts = list(data.contacts())
    assert sum(b.num_rows for b in contacts) == 30_000
    assert all(b.num_rows <= 50_000 for b in contacts)
