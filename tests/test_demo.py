"""The demo generator: realistic spread, every kind of duplicate with ground truth, consistent records."""

import json
import re
from datetime import datetime
from importlib import resources

import duckdb
import pytest

from core.cli import main
from core.contacts.fields import CHANNELS, SOURCES
from core.db import open_database
from core.demo import reference
from core.demo.generator import DemoSummary, generate_demo

NOW = datetime(2026, 1, 15, 12, 0)
RELATED = ("conversations", "tickets", "notes", "media", "activity")

# Every two contacts of the same person, once each, with both rows side by side.
PAIRS = """
CREATE TEMP VIEW pairs AS
SELECT a.*, b.contact_id AS b_id, b.first_name AS b_first, b.last_name AS b_last, b.email AS b_email,
       b.phone AS b_phone, b.phone_raw AS b_phone_raw, b.source AS b_source, b.ip_address AS b_ip,
       b.address AS b_address, b.city AS b_city, b.birthday AS b_birthday
FROM demo_truth ta
JOIN demo_truth tb ON ta.person_id = tb.person_id AND ta.contact_id < tb.contact_id
JOIN contacts a ON a.contact_id = ta.contact_id
JOIN contacts b ON b.contact_id = tb.contact_id
"""


@pytest.fixture(scope="module")
def demo() -> tuple[duckdb.DuckDBPyConnection, DemoSummary]:
    con = open_database()
    summary = generate_demo(con, contacts=2000, seed=7, now=NOW)
    con.execute(PAIRS)
    yield con, summary
    con.close()


def count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return con.execute(sql).fetchone()[0]


def values(con: duckdb.DuckDBPyConnection, sql: str) -> set:
    return {row[0] for row in con.execute(sql).fetchall()}


def test_counts_match_the_summary(demo):
    con, summary = demo
    assert summary.contacts == 2000 == count(con, "SELECT count(*) FROM contacts")
    for table in RELATED:
        assert getattr(summary, table) == count(con, f"SELECT count(*) FROM {table}") > 0
    assert count(con, "SELECT count(*) FROM demo_truth") == 2000
    assert summary.duplicates == 2000 - count(con, "SELECT count(DISTINCT person_id) FROM demo_truth")
    assert 0.08 <= summary.duplicates / 2000 <= 0.10
    assert summary.seconds > 0


def test_every_source_most_channels_and_every_stage(demo):
    con, _ = demo
    assert values(con, "SELECT source FROM contacts") == set(SOURCES)
    assert len(values(con, "SELECT channel FROM contacts") & set(CHANNELS)) >= 8
    assert values(con, "SELECT lead_stage FROM contacts") == values(con, "SELECT name FROM lead_stages")
    assert len(values(con, "SELECT country FROM contacts")) >= 8


def test_owners_tags_subscriptions_and_blocked(demo):
    con, _ = demo
    assert con.execute("SELECT role FROM owners WHERE owner_id = 'admin'").fetchone() == ("admin",)
    assert count(con, "SELECT count(*) FROM owners WHERE role = 'agent'") >= 6
    assert 0.1 < count(con, "SELECT avg((owner_id IS NULL)::INT) FROM contacts") < 0.5
    assert count(con, "SELECT count(*) FROM contacts WHERE owner_id NOT IN (SELECT owner_id FROM owners)") == 0
    assert 10 <= len(values(con, "SELECT unnest(tags) FROM contacts")) <= 20
    assert count(con, "SELECT max(len(tags)) FROM contacts") == 3
    assert values(con, "SELECT email_subscription FROM contacts") == {"subscribed", "unsubscribed", "not set"}
    assert count(con, "SELECT count(*) FROM contacts WHERE email IS NULL AND email_subscription <> 'not set'") == 0
    blocked = count(con, "SELECT count(*) FROM contacts WHERE blocked AND blocked_on >= created_on")
    assert 0 < blocked == count(con, "SELECT count(*) FROM contacts WHERE blocked_on IS NOT NULL")


def test_times_are_consistent(demo):
    con, _ = demo
    assert count(con, "SELECT count(*) FROM contacts WHERE last_updated < created_on") == 0
    assert count(con, "SELECT count(*) FROM contacts WHERE last_contacted < created_on OR last_seen < created_on") == 0
    assert count(con, "SELECT max(created_on) FROM contacts") <= NOW
    span = count(con, "SELECT date_diff('day', min(created_on), max(created_on)) FROM contacts")
    assert 900 < span <= 3 * 365


def test_profile_and_web_fields(demo):
    con, _ = demo
    phones = values(con, "SELECT phone FROM contacts WHERE phone IS NOT NULL")
    assert all(re.fullmatch(r"\+[1-9]\d{7,14}", phone) for phone in phones)
    assert count(con, "SELECT count(*) FROM contacts WHERE phone_raw <> phone") > 100
    web = count(con, "SELECT avg((browser IS NOT NULL)::INT) FROM contacts WHERE source = 'web chat'")
    assert web == 1.0
    assert count(con, "SELECT count(*) FROM contacts WHERE utm_campaign IS NOT NULL") > 100
    for column in ("company", "job_title", "gender", "birthday", "language", "time_zone", "address", "website"):
        assert count(con, f"SELECT count({column}) FROM contacts") > 50, column


def test_generated_names_are_flagged(demo):
    con, _ = demo
    generated = con.execute(
        "SELECT source, first_name IS NOT NULL AND last_name IS NOT NULL, email IS NULL AND phone IS NULL, count(*) "
        "FROM contacts WHERE name_generated GROUP BY ALL"
    ).fetchall()
    assert [row[:3] for row in generated] == [("web chat", True, True)]
    assert generated[0][3] > 100
    assert count(con, "SELECT count(*) FROM contacts WHERE source = 'inbox' AND social_id IS NULL") == 0


def test_custom_fields_and_canonical_values(demo):
    con, _ = demo
    found = con.execute("SELECT key, type, options, is_identity FROM custom_fields").fetchall()
    fields = {row[0]: row[1:] for row in found}
    assert fields["customer_number"] == ("text", [], True)
    assert fields["plan"] == ("dropdown", ["Free", "Pro", "Enterprise"], False)
    by_field = {key: values(con, f"SELECT {key} FROM custom_values WHERE {key} IS NOT NULL") for key in fields}
    assert all(re.fullmatch(r"\d+(\.\d+)?", value) for value in by_field["lifetime_value"])
    assert any("." not in value for value in by_field["lifetime_value"])
    assert by_field["newsletter_opt_in"] == {"true", "false"}
    assert all(datetime.fromisoformat(value).microsecond == 0 for value in by_field["last_purchase_at"])
    assert by_field["plan"] == {"Free", "Pro", "Enterprise"}
    orphans = "SELECT count(*) FROM custom_values WHERE contact_id NOT IN (SELECT contact_id FROM contacts)"
    assert count(con, orphans) == 0


@pytest.mark.parametrize(
    "kind, condition",
    [
        ("two browsers", "email = b_email AND source = 'web chat' AND b_source = 'web chat' AND ip_address <> b_ip"),
        ("email case", "lower(email) = lower(b_email) AND email <> b_email"),
        (
            "gmail dots",
            "lower(email) LIKE '%@gmail.com' AND lower(email) <> lower(b_email) "
            "AND replace(lower(email), '.', '') = replace(lower(b_email), '.', '')",
        ),
        ("phone formatting", "phone = b_phone AND phone_raw <> b_phone_raw"),
        ("first name typo", "first_name <> b_first AND last_name = b_last"),
        ("last name typo", "first_name = b_first AND last_name <> b_last"),
        (
            "name and address only",
            "first_name = b_first AND last_name = b_last "
            "AND (address = b_address OR (city = b_city AND birthday = b_birthday)) "
            "AND phone IS DISTINCT FROM b_phone "
            "AND (email IS NULL OR b_email IS NULL OR lower(email) <> lower(b_email))",
        ),
    ],
)
def test_each_kind_of_duplicate_exists(demo, kind, condition):
    con, _ = demo
    assert count(con, f"SELECT count(*) FROM pairs WHERE {condition}") >= 3, kind


def test_identity_field_duplicates_share_the_customer_number(demo):
    con, _ = demo
    shared = count(
        con,
        "SELECT count(*) FROM pairs p JOIN custom_values x ON x.contact_id = p.contact_id "
        "JOIN custom_values y ON y.contact_id = p.b_id WHERE x.customer_number = y.customer_number",
    )
    assert shared >= 3


def test_different_people_never_share_an_email_or_phone(demo):
    con, _ = demo
    for column in ("replace(lower(email), '.', '')", "phone"):
        shared = count(
            con,
            f"SELECT count(*) FROM (SELECT {column} AS v FROM contacts JOIN demo_truth USING (contact_id) "
            f"WHERE {column} IS NOT NULL GROUP BY 1 HAVING count(DISTINCT person_id) > 1)",
        )
        assert shared == 0, column


def test_related_records_belong_to_contacts_and_follow_their_creation(demo):
    con, _ = demo
    times = {
        "conversations": "started_at",
        "tickets": "created_at",
        "notes": "created_at",
        "media": "created_at",
        "activity": "happened_at",
    }
    for table, column in times.items():
        orphans = count(con, f"SELECT count(*) FROM {table} WHERE contact_id NOT IN (SELECT contact_id FROM contacts)")
        early = count(con, f"SELECT count(*) FROM {table} JOIN contacts USING (contact_id) WHERE {column} < created_on")
        assert (orphans, early) == (0, 0), table
    assert count(con, "SELECT count(DISTINCT contact_id) FROM activity WHERE action = 'created'") == 2000
    assert count(con, "SELECT count(*) FROM notes WHERE author NOT IN (SELECT owner_id FROM owners)") == 0
    assert count(con, "SELECT count(*) FROM conversations WHERE last_message_at < started_at") == 0


def test_conversation_kind_follows_the_channel(demo):
    con, _ = demo
    kinds = con.execute(
        "SELECT DISTINCT c.source, v.kind FROM conversations v JOIN contacts c USING (contact_id) "
        "WHERE c.source IN ('web chat', 'inbox')"
    ).fetchall()
    assert sorted(kinds) == [("inbox", "inbox"), ("web chat", "webchat")]
    assert count(con, "SELECT count(*) FROM conversations WHERE (kind = 'webchat') <> (channel = 'web')") == 0


def test_activity_changes_are_json_in_the_app_format(demo):
    con, _ = demo
    for (changes,) in con.execute("SELECT changes FROM activity WHERE changes IS NOT NULL LIMIT 200").fetchall():
        parsed = json.loads(changes)
        assert parsed and all(set(change) == {"before", "after"} for change in parsed.values())
    assert values(con, "SELECT action FROM activity") == {"created", "updated", "blocked", "note added"}


def snapshot(con: duckdb.DuckDBPyConnection) -> list:
    tables = ("contacts", "demo_truth", "custom_values", *RELATED)
    return [con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall() for table in tables]


@pytest.mark.slow
def test_the_same_seed_gives_the_same_data(demo):
    con, _ = demo
    first, second = open_database(), open_database()
    generate_demo(first, contacts=200, seed=3, now=NOW)
    generate_demo(second, contacts=200, seed=3, now=NOW)
    assert snapshot(first) == snapshot(second)
    assert not values(first, "SELECT contact_id FROM contacts") & values(con, "SELECT contact_id FROM contacts")


def test_adds_to_a_database_that_already_has_a_demo():
    con = open_database()
    assert generate_demo(con, contacts=0, now=NOW).contacts == 0
    first = generate_demo(con, contacts=150, seed=7, now=NOW)
    second = generate_demo(con, contacts=150, seed=7, now=NOW)
    assert (first.contacts, second.contacts) == (150, 150) and first.duplicates > 0
    assert count(con, "SELECT count(*) FROM contacts") == 300
    assert count(con, "SELECT count(*) FROM owners") == 8
    assert count(con, "SELECT count(*) FROM custom_fields") == 5
    # The second run's people are new people, not more copies of the first run's.
    persons = count(con, "SELECT count(DISTINCT person_id) FROM demo_truth")
    assert persons == 300 - first.duplicates - second.duplicates


@pytest.mark.slow
def test_command_line_creates_a_demo_database(tmp_path, capsys):
    target = tmp_path / "demo.duckdb"
    assert main(["demo", "--contacts", "150", "--db", str(target)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["contacts"] == 150
    con = open_database(target, read_only=True)
    assert count(con, "SELECT count(*) FROM contacts") == 150
    con.close()


# --- The reference tables, read from core/demo/tables/ ----------------------------------------------------------


def test_every_data_file_ships_in_the_package():
    tables = resources.files("core.demo").joinpath("tables")
    found = {entry.name for entry in tables.iterdir() if entry.is_file()}
    assert found == {
        "cities.csv", "countries.json", "email_patterns.csv", "genders.csv", "lead_stages.csv", "media_kinds.csv",
        "messaging.json", "owners.csv", "sources.json", "tags.csv", "texts.json", "traffic.csv", "web_clients.csv",
        "work.json", "README.md",
    }  # fmt: skip
    locales = {f"{country.locale}.csv" for country in reference.countries()}
    assert {entry.name for entry in tables.joinpath("names").iterdir()} == locales


@pytest.mark.parametrize("country", reference.countries(), ids=lambda country: country.code)
def test_every_country_has_what_the_generator_needs(country):
    assert country.weight > 0 and re.fullmatch(r"[a-z]{2}_[A-Z]{2}", country.locale)
    assert re.fullmatch(r"[1-9]\d{0,2}", country.calling_code)
    assert country.mobile_prefixes and all(prefix.isdigit() for prefix in country.mobile_prefixes)
    assert 0 <= country.subscriber_floor < 10**country.subscriber_digits
    national = min(map(len, country.mobile_prefixes)) + country.subscriber_digits
    assert all(0 < layout.count("#") <= national for layout in country.phone_formats)
    assert len(country.phone_formats) >= 2  # a duplicate writes the number in another format
    assert country.email_domains and all(weight > 0 for weight in country.email_domains.values())
    assert country.tld and country.legal_forms and country.streets
    assert set(re.findall(r"\{(\w+)\}", country.address_format)) <= {"n", "m", "street"}
    assert "{street}" in country.address_format
    assert country.messaging in reference.messaging()
    assert country.cities and all(city.city and city.state and city.weight > 0 for city in country.cities)
    assert all(re.fullmatch(r"\w+/\w+", city.time_zone) for city in country.cities)
    for pool in reference.name_pools(country.locale):
        assert len(pool.native) == len(pool.latin) == len(pool.slug) == len(pool.weights) > 10
        assert all(re.fullmatch(r"[a-z0-9]+", slug) for slug in pool.slug)
        assert abs(pool.weights.sum() - 1) < 1e-9


def test_weighted_tables_name_only_known_values():
    mix = reference.source_mix()
    assert set(mix.weights) == set(SOURCES) and all(weight > 0 for weight in mix.weights.values())
    assert set(mix.channels) == set(SOURCES) - {"inbox"}  # inbox contacts write from their market's apps
    channels = [*mix.channels.values(), *reference.messaging().values()]
    assert all(set(options) <= {*CHANNELS, None} for options in channels)
    fields = {"email", "phone", "company", "address", "birthday", "gender", "city", "time_zone", "language"}
    assert set(mix.known) == fields and all(len(shares) == len(SOURCES) for shares in mix.known.values())
    assert all(0 <= share <= 1 for shares in mix.known.values() for share in shares)
    assert {"Lead", "Customer", "Churned"} <= set(reference.stage_weights())
    assert set(reference.genders()) == {"female", "male", "non-binary", "unspecified"}
    assert len(reference.tags()) >= 10 and all(weight > 0 for weight in reference.tags().values())
    placeholders = {"f", "l", "f0", "l0", "dd", "yyyy"}
    assert all(set(re.findall(r"\{(\w+)\}", pattern)) <= placeholders for pattern, _ in reference.email_patterns())


def test_team_records_and_texts_tables():
    team = reference.owners()
    assert [owner.role for owner in team].count("admin") == 1 and team[0].owner_id == "admin"
    assert len({owner.owner_id for owner in team}) == len(team) == 8
    assert all(kind.smallest_bytes < kind.largest_bytes and "{n}" in kind.file_name for kind in reference.media_kinds())
    assert all(visit.landing_page.startswith("/") for visit in reference.traffic())
    assert any(visit.utm_source and not visit.utm_campaign for visit in reference.traffic())
    assert all(client.device in {"Mobile", "Desktop", "Tablet"} for client in reference.web_clients())
    texts = reference.texts()
    assert texts.conversation_subjects and texts.ticket_subjects and texts.note_openings
    assert "" in texts.note_follow_ups  # some notes have no follow-up
    assert len(reference.job_titles()) >= 20 and all(len(words) >= 10 for words in reference.company_words())
