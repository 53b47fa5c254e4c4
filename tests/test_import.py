"""The import pipeline: mapping, validation, matching, update rules, dry run and an all-or-nothing commit."""

import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from core.contacts.models import ContactInput
from core.contacts.records import create_contact, get_contact
from core.db import open_database, scalar
from core.errors import ContactsError
from core.importer import ImportOptions, auto_map, commit_import, import_history, plan_import, read_table, sample_file
from core.importer.commit import problems_csv, rejected_csv
from core.workspace import add_owner, define_custom_field

FILES = Path(__file__).resolve().parent / "files" / "import"


def run(con, name: str, data: bytes | None = None, commit: bool = True, **options):
    """Read, auto-map (plus any `mapping` given), plan and, unless told not to, commit."""
    table = read_table(name, data if data is not None else (FILES / name).read_bytes())
    mapping = auto_map(con, table.headers) | options.pop("mapping", {})
    plan = plan_import(con, table, ImportOptions(mapping=mapping, **options))
    if commit:
        commit_import(con, plan, "admin")
    return plan


def contacts(con) -> list[tuple]:
    return con.execute(
        "SELECT first_name, last_name, email, phone, lead_stage, source FROM contacts ORDER BY first_name"
    ).fetchall()


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            ["E-mail", "Mobile", "Given name", "Surname", "Company Name"],
            ["email", "phone", "first_name", "last_name", "company"],
        ),
        (
            ["Email Address", "Phone Number", "First Name", "Last Name", "Whatever"],
            ["email", "phone", "first_name", "last_name", ""],
        ),
        (
            ["name", "email", "email 2", "phone", "home phone"],
            ["full_name", "email", "other_emails", "phone", "other_phones"],
        ),
    ],
)
def test_columns_map_by_name_and_synonym(fresh_db, headers, expected):
    assert list(auto_map(fresh_db, headers).values()) == expected


def test_custom_fields_map_by_label_or_key(fresh_db):
    define_custom_field(fresh_db, "plan", "Subscription plan", "dropdown", options=["Free", "Pro"], actor="admin")
    assert auto_map(fresh_db, ["Subscription Plan", "plan"]) == {"Subscription Plan": "custom.plan", "plan": ""}


def test_a_bad_value_costs_that_value_and_only_a_row_with_no_identity_is_rejected(fresh_db):
    define_custom_field(fresh_db, "plan", "Plan", "dropdown", options=["Free", "Pro"], actor="admin")
    define_custom_field(fresh_db, "score", "Score", "number", actor="admin")
    plan = run(fresh_db, "bad_rows.csv")
    assert plan.counts() == {"created": 7, "updated": 0, "skipped": 0, "rejected": 1}
    assert plan.errors.rows() == [
        (5, "", "nothing identifies the row: no valid contact ID, email, phone, name or company")
    ]
    warnings = {row["line"]: row for row in plan.warnings.to_dicts()}
    assert warnings[3] | {} == {
        "line": 3,
        "column": "",
        "value": "",
        "reason": "the row has 2 cells but the header has 5",
        "action": "padded at the end",
    }
    assert (warnings[4]["reason"], warnings[4]["action"]) == (
        "the row has 6 cells but the header has 5",
        "extra cells ignored",
    )
    assert warnings[6] == {
        "line": 6,
        "column": "Mobile",
        "value": "12",
        "reason": "'12' is not a possible phone number",
        "action": "kept in Phone as entered",
    }
    assert warnings[7] == {
        "line": 7,
        "column": "Plan",
        "value": "Platinum",
        "reason": "'Platinum' is not one of: Free, Pro",
        "action": "left blank",
    }
    assert warnings[8]["reason"] == "'lots' is not a number" and warnings[8]["action"] == "left blank"
    assert plan.report()["warnings"][0]["line"] == 3
    assert sorted(c[0] for c in contacts(fresh_db)) == sorted(
        ["AlsoGood", "BadPhone", "BadPlan", "BadScore", "Good", "Long", "Short"]
    )
    bad_phone = scalar(fresh_db, "SELECT phone_raw FROM contacts WHERE first_name = 'BadPhone'")
    assert bad_phone == "12"
    assert scalar(fresh_db, "SELECT count(plan) FROM custom_values") == 5
    also_good = scalar(fresh_db, "SELECT contact_id FROM contacts WHERE first_name = 'AlsoGood'")
    assert get_contact(fresh_db, also_good).phone == "+14155550103"


def test_a_ten_megabyte_cell_loses_only_its_value(fresh_db):
    data = b"Email,Notes\nbig@example.com," + b"x" * (10 * 1024 * 1024) + b"\nsmall@example.com,short\n"
    plan = run(fresh_db, "big.csv", data, mapping={"Notes": "new:Notes"})
    assert plan.counts()["rejected"] == 0 and plan.counts()["created"] == 2
    assert plan.warnings.select("line", "column", "reason", "action").row(0) == (
        2,
        "Notes",
        "the value is 10485760 characters; the limit is 2000",
        "left blank",
    )


def test_the_rejected_rows_download_as_csv_with_a_reason(fresh_db):
    plan = run(fresh_db, "bad_rows.csv", commit=False)
    rejected = pl.read_csv(rejected_csv(plan), infer_schema=False)
    assert rejected.columns == ["line", "First name", "Email", "Mobile", "Plan", "Score", "reason"]
    assert rejected["Email"].to_list() == ["not-an-email"]
    problems = pl.read_csv(problems_csv(plan), infer_schema=False)
    assert problems.columns == ["line", "outcome", "column", "value", "reason", "action"]
    assert problems.filter(pl.col("line") == "5")["outcome"].to_list() == ["row rejected", "value warned"]
    assert "value warned" in problems["outcome"].to_list()


def test_the_dry_run_writes_nothing(fresh_db):
    plan = run(fresh_db, "bad_rows.csv", commit=False)
    assert plan.counts()["created"] == 7
    assert scalar(fresh_db, "SELECT count(*) FROM contacts") == 0
    assert scalar(fresh_db, "SELECT count(*) FROM import_history") == 0


def test_rows_that_are_the_same_contact_are_combined_and_people_may_share_a_phone(fresh_db):
    plan = run(fresh_db, "duplicates.csv")
    assert plan.counts() == {"created": 3, "updated": 0, "skipped": 0, "rejected": 0}
    assert plan.combined == 1
    assert plan.warnings.filter(pl.col("line") == 3).select("reason", "action").row(0) == (
        "the same contact as line 2",
        "combined into line 2",
    )
    assert plan.errors.height == 0


def test_a_later_row_fills_the_first_rows_blanks_and_adds_its_emails_and_phones(fresh_db):
    data = (
        b"ID,Email,Phone,Company,City\nc1,ada@example.com,,Acme,\nc1,ada@work.example.com,+14155550101,Other,London\n"
    )
    plan = run(fresh_db, "same.csv", data)
    assert plan.combined == 1 and plan.counts()["created"] == 1
    row = fresh_db.execute("SELECT email, phone, company, city FROM contacts").fetchone()
    assert row == ("ada@example.com", "+14155550101", "Acme", "London")
    assert fresh_db.execute("SELECT kind, value FROM contact_channels").fetchall() == [
        ("email", "ada@work.example.com")
    ]


def test_full_names_split_and_several_emails_are_kept(fresh_db):
    data = b"Name,E-mail Address,E-mail 2 Address\nAda King Lovelace,ada@example.com,ada2@example.com\n"
    run(fresh_db, "names.csv", data)
    assert contacts(fresh_db) == [("Ada King", "Lovelace", "ada@example.com", None, "Contact", "import")]
    assert fresh_db.execute("SELECT kind, value, label, position FROM contact_channels").fetchall() == [
        ("email", "ada2@example.com", None, 1)
    ]
    assert scalar(fresh_db, "SELECT count(*) FROM custom_fields") == 0


def _existing(con) -> str:
    add_owner(con, "maria", "Maria", actor="admin")
    made = create_contact(
        con,
        ContactInput(first_name="Ada", email="ada@example.com", company="Old", tags=["vip"], phone="+14155550101"),
        "admin",
    )
    return made.contact_id


@pytest.mark.parametrize(("rule", "company"), [("overwrite", "New"), ("fill", "Old"), ("append", "Old, New")])
def test_update_rules_per_field(fresh_db, rule, company):
    contact_id = _existing(fresh_db)
    data = b'Email,Company,Tags,First name\nADA@example.com,New,"new, vip",\n'
    plan = run(fresh_db, "u.csv", data, mode="update", rules={"company": rule}, owner_id="maria")
    assert plan.counts() == {"created": 0, "updated": 1, "skipped": 0, "rejected": 0}
    after = get_contact(fresh_db, contact_id)
    assert (after.company, after.tags, after.first_name, after.owner_id) == (company, ["vip", "new"], "Ada", "maria")
    assert after.lead_stage == "Contact"


@pytest.mark.parametrize(
    ("mode", "counts"),
    [
        ("create", {"created": 1, "updated": 0, "skipped": 1, "rejected": 0}),
        ("update", {"created": 0, "updated": 1, "skipped": 1, "rejected": 0}),
        ("upsert", {"created": 1, "updated": 1, "skipped": 0, "rejected": 0}),
    ],
)
def test_modes_create_update_and_both(fresh_db, mode, counts):
    _existing(fresh_db)
    data = b"Phone,First name\n(415) 555-0101,Matched\n+1 415 555 0199,New\n"
    plan = run(fresh_db, "m.csv", data, mode=mode)
    assert plan.counts() == counts
    assert scalar(fresh_db, "SELECT count(*) FROM contacts") == 1 + counts["created"]


def test_match_by_contact_id_first(fresh_db):
    contact_id = _existing(fresh_db)
    data = f"Contact ID,Email,Job title\n{contact_id},someone.else@example.com,Countess\n".encode()
    plan = run(fresh_db, "id.csv", data)
    assert plan.counts()["updated"] == 1
    assert get_contact(fresh_db, contact_id).job_title == "Countess"


def test_tags_owner_activity_and_history(fresh_db):
    add_owner(fresh_db, "maria", "Maria", actor="admin")
    run(fresh_db, "keila.csv", b"Email\na@example.com\nb@example.com\n", tags=["spring"], owner_id="maria")
    assert fresh_db.execute("SELECT DISTINCT tags, owner_id, lead_stage FROM contacts").fetchall() == [
        (["spring"], "maria", "Contact")
    ]
    assert scalar(fresh_db, "SELECT count(*) FROM activity WHERE action = 'created' AND actor = 'admin'") == 2
    history = import_history(fresh_db).row(0, named=True)
    assert (history["actor"], history["file_name"], history["mode"], history["created"]) == (
        "admin",
        "keila.csv",
        "upsert",
        2,
    )


def test_a_failure_mid_commit_leaves_the_database_as_it_was(fresh_db, monkeypatch):
    _existing(fresh_db)
    before = fresh_db.execute("SELECT * FROM contacts").fetchall()
    table = read_table("f.csv", b"Email,Company\nada@example.com,Changed\nnew@example.com,Fresh\n")
    plan = plan_import(fresh_db, table, ImportOptions(mapping=auto_map(fresh_db, table.headers)))
    from core.importer import commit as commit_module

    def explode(*args, **kwargs):
        raise duckdb.IOException("disk gone")

    monkeypatch.setattr(commit_module, "_write_custom", explode)
    with pytest.raises(duckdb.IOException):
        commit_import(fresh_db, plan, "admin")
    assert fresh_db.execute("SELECT * FROM contacts").fetchall() == before
    assert scalar(fresh_db, "SELECT count(*) FROM import_history") == 0


def test_mapping_to_an_unknown_field_is_refused(fresh_db):
    table = read_table("x.csv", b"Email\na@example.com\n")
    with pytest.raises(ContactsError, match="is not a field"):
        plan_import(fresh_db, table, ImportOptions(mapping={"Email": "email; DROP TABLE contacts"}))
    with pytest.raises(ContactsError, match="both map to"):
        table = read_table("x.csv", b"Email,Mail\na@example.com,b@example.com\n")
        plan_import(fresh_db, table, ImportOptions(mapping={"Email": "email", "Mail": "email"}))


def test_the_sample_file_imports_cleanly(fresh_db):
    define_custom_field(fresh_db, "plan", "Plan", "dropdown", options=["Free", "Pro"], actor="admin")
    plan = run(fresh_db, "sample.csv", sample_file(fresh_db))
    assert plan.counts() == {"created": 1, "updated": 0, "skipped": 0, "rejected": 0}
    made = fresh_db.execute("SELECT first_name, email, phone, tags, birthday::VARCHAR FROM contacts").fetchone()
    assert made == ("Ada", "ada@example.com", "+442079460958", ["vip", "newsletter"], "1815-12-10")


def test_blank_subscription_cells_take_the_default_and_no_empty_extra_fields_are_made(fresh_db):
    plan = run(fresh_db, "s.csv", b"Email,Email subscription,SMS subscription\na@example.com,,yes\n")
    assert plan.counts()["created"] == 1
    assert fresh_db.execute("SELECT email_subscription, sms_subscription FROM contacts").fetchall() == [
        ("not set", "subscribed")
    ]
    assert scalar(fresh_db, "SELECT count(*) FROM custom_fields") == 0


def test_the_owner_option_wins_over_an_owner_column(fresh_db):
    add_owner(fresh_db, "maria", "Maria", actor="admin")
    add_owner(fresh_db, "li", "Li", actor="admin")
    run(fresh_db, "o.csv", b"Email,Owner\na@example.com,li\nb@example.com,\n", owner_id="maria")
    assert fresh_db.execute("SELECT DISTINCT owner_id FROM contacts").fetchall() == [("maria",)]


@pytest.mark.slow
def test_a_process_killed_mid_commit_leaves_the_database_as_it_was(tmp_path):
    database, source = tmp_path / "k.duckdb", tmp_path / "k.csv"
    source.write_bytes(b"Email,First name\n" + b"".join(f"p{i}@example.com,P{i}\n".encode() for i in range(5000)))
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from core.db import open_database\n"
        "from core.importer import ImportOptions, auto_map, commit_import, plan_import, read_table\n"
        "from core.accounts.users import bootstrap_admin\n"
        "con = open_database(sys.argv[1])\n"
        "bootstrap_admin(con)\n"
        "table = read_table('k.csv', Path(sys.argv[2]).read_bytes())\n"
        "plan = plan_import(con, table, ImportOptions(mapping=auto_map(con, table.headers)))\n"
        "def die(fraction, text):\n"
        "    if fraction >= 0.85:\n"
        "        os._exit(9)  # as if killed: no rollback, no close, after the contacts were written\n"
        "commit_import(con, plan, 'admin', progress=die)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(database), str(source)], cwd=Path(__file__).parents[1])
    assert done.returncode == 9
    con = open_database(database)
    assert scalar(con, "SELECT count(*) FROM contacts") == 0
    assert scalar(con, "SELECT count(*) FROM import_history") == 0
    con.close()


def test_an_update_that_changes_nothing_leaves_the_contact_alone(fresh_db):
    contact_id = _existing(fresh_db)
    before = get_contact(fresh_db, contact_id)
    run(fresh_db, "same.csv", b"Email,Company\nada@example.com,Old\n", mode="update")
    after = get_contact(fresh_db, contact_id)
    assert (after.version, after.last_updated) == (before.version, before.last_updated)
    assert scalar(fresh_db, "SELECT count(*) FROM activity WHERE action = 'updated'") == 0


def test_a_new_field_named_like_a_system_field_gets_its_own_key(fresh_db):
    run(fresh_db, "n.csv", b"Email,Company\na@example.com,Acme\n", mapping={"Company": "new:Company"})
    assert fresh_db.execute("SELECT key, label FROM custom_fields").fetchall() == [("imported_company", "Company")]
    assert scalar(fresh_db, "SELECT imported_company FROM custom_values") == "Acme"
    assert scalar(fresh_db, "SELECT company FROM contacts") is None


def test_the_commit_counts_the_contacts_whose_values_changed(fresh_db):
    _existing(fresh_db)
    create_contact(fresh_db, ContactInput(first_name="Alan", email="alan@example.com", company="Old"), "admin")
    table = read_table("c.csv", b"Email,Company\nada@example.com,Old\nalan@example.com,New\n")
    plan = plan_import(fresh_db, table, ImportOptions(mode="update", mapping=auto_map(fresh_db, table.headers)))
    assert commit_import(fresh_db, plan, "admin").model_dump(exclude={"import_id"}) == {
        "created": 0,
        "updated": 2,
        "skipped": 0,
        "rejected": 0,
        "changed": 1,
    }


NAME_ONLY = (
    b"First name,Last name,Company,Email\n"
    b"Ada,Lovelace,,\nAda,Lovelace,,\n,,Acme Ltd,\n,,,not-an-email\nBob,,,bob@example.com\n"
)


def test_a_name_or_a_company_is_enough_and_name_only_rows_are_never_combined(fresh_db):
    plan = run(fresh_db, "names.csv", NAME_ONLY)
    assert plan.counts() == {"created": 4, "updated": 0, "skipped": 0, "rejected": 1}
    assert plan.errors.rows() == [
        (5, "", "nothing identifies the row: no valid contact ID, email, phone, name or company")
    ]
    assert plan.combined == 0  # two Ada Lovelaces may be two people: duplicate detection finds them later
    rows = fresh_db.execute("SELECT first_name, last_name, company, email FROM contacts ORDER BY 1, 2, 3, 4").fetchall()
    assert rows == [
        ("Ada", "Lovelace", None, None),
        ("Ada", "Lovelace", None, None),
        ("Bob", None, None, "bob@example.com"),
        (None, None, "Acme Ltd", None),
    ]


def test_a_name_only_row_matches_no_contact_so_update_only_skips_it_with_a_reason(fresh_db):
    run(fresh_db, "first.csv", b"First name,Email\nBob,bob@example.com\nAda,\n")
    plan = run(fresh_db, "names.csv", NAME_ONLY, mode="update")
    assert plan.counts() == {"created": 0, "updated": 1, "skipped": 3, "rejected": 1}
    assert plan.report()["skips"] == [
        {"line": line, "reason": "only a name or a company: it cannot match an existing contact (update only)"}
        for line in (2, 3, 4)
    ]
    created = run(fresh_db, "names.csv", NAME_ONLY, mode="create", commit=False)
    assert created.counts() == {"created": 3, "updated": 0, "skipped": 1, "rejected": 1}
    assert created.skip_reasons.rows() == [(6, "an existing contact has its contact ID, email or phone (create only)")]
    assert scalar(fresh_db, "SELECT count(*) FROM contacts WHERE first_name = 'Ada'") == 1
