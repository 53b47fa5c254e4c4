"""The real files other tools export (../shared/real-exports/, read in place): mapped without help, read row by row."""

from pathlib import Path

import polars as pl
import pytest

from core.db import frame
from core.importer import ImportOptions, auto_map, commit_import, plan_import, read_table

REAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "real-exports"

pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason="shared/real-exports is not beside the repository")


def import_real(con, name: str):
    table = read_table(name, (REAL / name).read_bytes())
    mapping = auto_map(con, table.headers, table.frame)
    plan = plan_import(con, table, ImportOptions(mapping=mapping))
    commit_import(con, plan, "admin")
    return table, mapping, plan


def stored(con) -> list[dict]:
    return frame(
        con, "SELECT first_name, last_name, email, phone, company, tags FROM contacts ORDER BY email"
    ).to_dicts()


def test_chatwoot_finds_the_missing_column_and_imports_every_row(fresh_db):
    _, mapping, plan = import_real(fresh_db, "chatwoot-import-contacts-sample.csv")
    assert {mapping[c] for c in ("name", "email", "phone_number", "labels", "company_name")} == {
        "full_name",
        "email",
        "phone",
        "tags",
        "company",
    }
    assert plan.counts() == {"created": 25, "updated": 0, "skipped": 0, "rejected": 0}
    assert (plan.alignment.cells, plan.alignment.rows, plan.alignment.missing) == (10, 24, "document_number")
    assert set(plan.warnings["action"]) == {"'document_number' left blank"}
    rows = frame(
        fresh_db, "SELECT contact_id, first_name, last_name, email, phone, ip_address, company FROM contacts"
    ).rows()
    by_id = {row[0]: row for row in rows}
    assert by_id["1"] == ("1", "Clarice", "Uzzell", "cuzzell0@mozilla.org", "+498963648018", "70.61.11.201", "Acme Inc")
    assert by_id["5"] == ("5", "Tina", "O'Lunney", "tolunney4@si.edu", "+15417543011", "219.181.212.8", "Acme Inc")


def test_chatwoot_invalid_pads_at_the_end_and_keeps_the_contact_with_a_taken_email(fresh_db):
    _, _, plan = import_real(fresh_db, "chatwoot-invalid_contacts.csv")
    assert plan.counts() == {"created": 25, "updated": 0, "skipped": 0, "rejected": 0}
    assert plan.alignment.missing is None
    assert plan.warnings.filter(pl.col("column") == "email").rows() == [
        (4, "email", "cuzzell0@mozilla.org", "the same email as line 2", "left out")
    ]
    nancey = frame(fresh_db, "SELECT email, phone, phone_raw FROM contacts WHERE contact_id = '3'").row(0)
    assert nancey == (None, "+91848484848", "+91848484848")  # possible, so kept (libphonenumber: not valid)


def test_outlook_keeps_every_email_and_reports_ragged_rows(fresh_db):
    _, mapping, plan = import_real(fresh_db, "google-shared-contacts-outlook.csv")
    assert (mapping["E-mail Address"], mapping["E-mail 2 Address"], mapping["Mobile Phone"]) == (
        "email",
        "other_emails",
        "phone",
    )
    assert plan.counts()["created"] == 3 and plan.counts()["rejected"] == 0
    assert plan.warnings.filter(pl.col("column") == "").select("line", "action").rows() == [
        (3, "padded at the end"),
        (4, "padded at the end"),
    ]
    adam = frame(fresh_db, "SELECT contact_id, phone_raw FROM contacts WHERE email = 'adam.glacius@anycom.com'").row(0)
    assert adam[1] == "+1 555 3227 8544"
    assert fresh_db.execute(
        "SELECT value FROM contact_channels WHERE contact_id = ? ORDER BY position", [adam[0]]
    ).fetchall() == [("adam.g@example.com",), ("ag@glacius.com",)]


def test_keila_trims_spaces_and_mixed_quoting(fresh_db):
    _, _, plan = import_real(fresh_db, "keila-import_malformed1.csv")
    assert plan.counts() == {"created": 3, "updated": 0, "skipped": 0, "rejected": 0}
    assert [(r["email"], r["first_name"], r["last_name"]) for r in stored(fresh_db)] == [
        ("foo2@example.com", "Foo2", "Bar2"),
        ("foo3@example.com", "Foo 3", "Bar3"),
        ("foo@example.com", "Foo", "Bar"),
    ]


def test_mailchimp_unwraps_tags_and_trims_names(fresh_db):
    _, mapping, plan = import_real(fresh_db, "mailchimp-subscribed.csv")
    assert (mapping["Email Address"], mapping["TAGS"]) == ("email", "tags")
    assert plan.counts()["created"] == 5
    last = stored(fresh_db)[-1]
    assert last == {
        "first_name": "Dolor",
        "last_name": "Simet",
        "email": "s5@example.com",
        "phone": None,
        "company": "Lorem Co.",
        "tags": ["Lorem Editors"],
    }


def test_google_contacts_maps_its_81_columns_and_reports_the_placeholder_phone(fresh_db):
    table, mapping, plan = import_real(fresh_db, "roundcube-gmail.csv")
    assert len(table.headers) == 81
    assert (mapping["Given Name"], mapping["E-mail 1 - Value"], mapping["E-mail 2 - Value"]) == (
        "first_name",
        "email",
        "other_emails",
    )
    assert table.frame["Address 1 - Formatted"][0].count("\n") == 3
    assert plan.warnings.select("line", "column", "value", "action").rows()[0] == (
        2,
        "Phone 1 - Value",
        "pager",
        "kept in Phone as entered",
    )
    assert plan.counts()["created"] == 1
    assert [v for (v,) in fresh_db.execute("SELECT value FROM contact_channels ORDER BY position").fetchall()] == [
        "work@email.pl",
        "unknown@email.com",
        "other@email.com",
    ]


def test_thunderbird_utf16_is_read_with_its_reserved_domain_email(fresh_db):
    table, mapping, plan = import_real(fresh_db, "thunderbird-utf16le.csv")
    assert (table.encoding, table.headers[0], mapping["Primary Email"]) == ("utf-16", "First Name", "email")
    assert plan.counts() == {"created": 1, "updated": 0, "skipped": 0, "rejected": 0}
    assert plan.warnings.filter(pl.col("column") == "Primary Email").height == 0
    assert stored(fresh_db) == [
        {
            "first_name": "John",
            "last_name": "Doe",
            "email": "johndoe@host.invalid",
            "phone": None,
            "company": None,
            "tags": [],
        }
    ]


def test_thunderbird_birth_day_is_the_day_of_one_birthday(fresh_db):
    table = read_table("t.csv", (REAL / "thunderbird-utf16le.csv").read_bytes())
    mapping = auto_map(fresh_db, table.headers)
    assert (mapping["Birth Day"], mapping["Birth Month"], mapping["Birth Year"]) == (
        "birth_day",
        "birth_month",
        "birth_year",
    )


def test_evolution_vcard_unfolds_and_fills_the_fields(fresh_db):
    table, _, plan = import_real(fresh_db, "ezvcard-John_Doe_EVOLUTION.vcf")
    assert table.kind == "vcf" and plan.counts()["created"] == 1
    row = frame(
        fresh_db,
        "SELECT first_name, last_name, email, phone, company, job_title, birthday::VARCHAR, tags FROM contacts",
    ).row(0)
    assert row == (
        "John Richter, James",
        "Doe",
        "john.doe@ibm.com",
        "+19056661234",
        "IBM",
        "Money Counter",
        "1980-03-22",
        ["VIP"],
    )
    assert fresh_db.execute("SELECT kind, value FROM contact_channels").fetchall() == [("phone", "+19055551234")]
    assert "X-EVOLUTION-SPOUSE" in plan.warnings["value"][0]


def test_android_vcards_are_each_read_or_reported_by_their_number(fresh_db):
    _, _, plan = import_real(fresh_db, "ezvcard-John_Doe_ANDROID.vcf")
    assert plan.counts() == {"created": 6, "updated": 0, "skipped": 0, "rejected": 0}
    assert sorted(r[0] for r in fresh_db.execute("SELECT email FROM contacts WHERE email IS NOT NULL").fetchall()) == [
        "bob@company.com",
        "henry@company.com",
        "jane.doe@company.com",
        "john.doe@company.com",
    ]
    # Cards 3 and 4 have only a name of Ñs and impossible phones: the name makes the contact, the phone is kept
    # as entered.
    named = "SELECT last_name, phone, phone_raw FROM contacts WHERE email IS NULL ORDER BY length(last_name)"
    assert fresh_db.execute(named).fetchall() == [("Ñ Ñ Ñ Ñ", None, "123456789"), (" ".join("Ñ" * 11), None, "123456")]
    assert (5, "PHOTO", "skipped") in plan.warnings.select("line", "column", "action").rows()
    assert (6, "ORG", "replaced by \ufffd") in plan.warnings.select("line", "column", "action").rows()


def test_fullcontact_vcard_keeps_five_emails_and_nine_phones(fresh_db):
    import_real(fresh_db, "ezvcard-fullcontact.vcf")
    assert frame(fresh_db, "SELECT email, birthday::VARCHAR FROM contacts").row(0) == ("home@example.com", "2016-08-01")
    counts = dict(fresh_db.execute("SELECT kind, count(*) FROM contact_channels GROUP BY kind").fetchall())
    assert counts == {"email": 4, "phone": 8}


def test_the_bat_vcard_without_a_charset_is_read_and_warned(fresh_db):
    _, _, plan = import_real(fresh_db, "roundcube-thebat.vcf")
    assert frame(fresh_db, "SELECT first_name, last_name, email FROM contacts").row(0) == (
        "Piotr",
        "Iksiński",
        "piotr.iksinski@somedomain.com",
    )
    assert ("N", "read as Windows-1250") in plan.warnings.select("column", "action").rows()


def test_thunderbird_files_without_a_header_or_with_mixed_delimiters_keep_every_line(fresh_db):
    table = read_table("n.csv", (REAL / "thunderbird-csv_no_header.csv").read_bytes())
    assert table.headers == ["Column 1", "Column 2", "Column 3", "Column 4"]
    assert table.frame["Column 4"].to_list() == ["john@doe.invalid", "jane@doe.invalid"]
    assert auto_map(fresh_db, table.headers, table.frame)["Column 4"] == "email"
    mixed = read_table("m.csv", (REAL / "thunderbird-tab_comma_mixed.csv").read_bytes())
    assert mixed.frame.select("Column 1", "Column 5", "__cells").rows() == [
        ("1", "1@host.invalid", 26),
        ("2", "2@host.invalid", 5),
        ("3", "3@host.invalid", 5),
        ("4", "4@host.invalid", 5),
    ]


def test_thunderbird_company_row_keeps_its_name_as_company(fresh_db):
    import_real(fresh_db, "thunderbird-quote.csv")
    assert frame(fresh_db, "SELECT first_name, last_name, company, phone_raw FROM contacts").row(0) == (
        None,
        None,
        "Acer America",
        "(800) 000-0000",
    )


def test_ghost_formula_like_values_are_kept_as_written(fresh_db):
    _, mapping, plan = import_real(fresh_db, "ghost-members-formula-like-values.csv")
    assert mapping["note"] == "note" and plan.unmapped == []  # '+44 123' is a note, not a phone
    rows = frame(fresh_db, "SELECT email, first_name, last_name FROM contacts ORDER BY email").rows()
    assert rows == [("formula2@example.com", "=SUM(A1)", None), ("formula@example.com", "-5", None)]
    notes = frame(fresh_db, "SELECT c.email, n.body FROM notes n JOIN contacts c USING (contact_id) ORDER BY 1")
    assert notes.rows() == [("formula2@example.com", "@handle"), ("formula@example.com", "+44 123")]


def test_beehiiv_names_are_trimmed_and_a_status_that_is_no_stage_is_warned(fresh_db):
    _, _, plan = import_real(fresh_db, "beehiiv-members.csv")
    assert plan.counts()["created"] == 9
    names = dict(
        (
            (email, (first, last))
            for email, first, last in frame(fresh_db, "SELECT email, first_name, last_name FROM contacts").rows()
        )
    )
    assert names["lorem@example.com"] == ("Lorem Name", None)
    assert names["ipsum@example.com"] == ("Ipsum", "Name")
    assert names["dolor@example.com"] == (None, "Dolor Name")
    assert names["nullfirst@example.com"] == (None, "Last Only")
    assert set(plan.warnings["action"]) == {"left blank"} and set(plan.warnings["column"]) == {"status"}


def civicrm_rows(con) -> list[tuple]:
    """Every contact as (first, last, birthday, deceased, date one, date two, address), sorted."""
    from core.contacts.records import get_contact

    rows = []
    for (contact_id,) in con.execute("SELECT contact_id FROM contacts").fetchall():
        contact = get_contact(con, contact_id)
        custom = {key: str(value) if value is not None else None for key, value in contact.custom.items()}
        # The three are date-and-time fields: a date alone is stored at midnight.
        dates = [
            (custom.get(key) or "")[:10] or None for key in ("deceased_date", "custom_date_one", "custom_date_two")
        ]
        birthday = str(contact.birthday) if contact.birthday else None
        rows.append((contact.first_name, contact.last_name, birthday, *dates, contact.address))
    return sorted(rows, key=lambda row: tuple(value or "" for value in row))


@pytest.fixture
def civicrm_db(fresh_db):
    """A workspace with CiviCRM's three other date columns as date fields (a CiviCRM user makes them first)."""
    from core.workspace import define_custom_field

    for key, label in (
        ("deceased_date", "Deceased Date"),
        ("custom_date_one", "Custom Date One"),
        ("custom_date_two", "Custom Date Two"),
    ):
        define_custom_field(fresh_db, key, label, "datetime", actor="admin")
    return fresh_db


def test_civicrm_year_first_dates_import_every_row_and_a_bad_date_costs_only_itself(civicrm_db):
    table, mapping, plan = import_real(civicrm_db, "civicrm-individual_dates_type1.csv")
    assert (mapping["first_name"], mapping["Last Name"], mapping["Birth Date"], mapping["Street Address"]) == (
        "first_name",
        "last_name",
        "birthday",
        "address",
    )
    assert mapping["Deceased Date"] == "custom.deceased_date" and mapping["Custom Date Two"] == "custom.custom_date_two"
    # A name is all these rows have: each is a contact of its own (rows 3-7 are one person: duplicates finds them).
    assert plan.counts() == {"created": 7, "updated": 0, "skipped": 0, "rejected": 0}
    assert plan.combined == 0
    assert plan.warnings.select("line", "column", "value", "action").rows() == [
        (5, "Birth Date", "2008-25-1", "left blank"),
        (6, "Deceased Date", "2008-25-1", "left blank"),
        (7, "Custom Date One", "2008-25-1", "left blank"),
        (8, "Custom Date Two", "2008-25-1", "left blank"),
    ]
    assert plan.warnings["reason"][0] == "'2008-25-1' is not a date like 1990-04-23"  # as written, not rewritten
    good = "2008-09-01"
    assert civicrm_rows(civicrm_db) == [
        ("Joe", "1", good, good, good, good, "10 Downing St"),
        ("Joe", "2", good, good, good, good, "11 Downing St"),
        ("Joe", "3", None, good, good, good, "12 Downing St"),
        ("Joe", "3", good, None, good, good, "12 Downing St"),
        ("Joe", "3", good, good, None, good, "12 Downing St"),
        ("Joe", "3", good, good, good, None, "12 Downing St"),
        ("Joe", "3", good, good, good, good, "12 Downing St"),
    ]


def test_civicrm_day_first_two_digit_years_are_settled_by_the_month_name(civicrm_db):
    from core.importer.dates import DAY_FIRST, column_order, to_iso

    _, _, plan = import_real(civicrm_db, "civicrm-individual_dates_type16.csv")
    assert plan.counts() == {"created": 2, "updated": 0, "skipped": 0, "rejected": 0}
    assert plan.warnings.height == 0
    assert plan.date_orders["Birth Date"] == DAY_FIRST  # '01-Sep-08' settles '01/09/08'
    good = "2008-09-01"
    assert civicrm_rows(civicrm_db) == [
        ("Joe", "13", good, good, good, good, "22 Downing St"),
        ("Joe", "14", good, good, good, good, "23 Downing St"),
    ]
    cells = pl.Series(["01/09/08"])  # alone, the form is ambiguous: the workspace's country decides
    assert column_order(cells) is None
    assert pl.select(to_iso(pl.lit(cells), DAY_FIRST)).to_series().to_list() == [good]


def test_civicrm_dates_are_not_taken_for_phones(fresh_db):
    _, mapping, plan = import_real(fresh_db, "civicrm-individual_dates_type1.csv")
    assert (mapping["Birth Date"], mapping["Deceased Date"], mapping["Custom Date One"]) == ("birthday", "", "")
    assert plan.counts()["created"] == 7


def _people(con) -> list[tuple]:
    return frame(con, "SELECT first_name, last_name, email FROM contacts ORDER BY email").rows()


def test_thunderbird_semicolons_are_detected_and_reserved_domain_emails_kept(fresh_db):
    table, mapping, plan = import_real(fresh_db, "thunderbird-csv_semicolon.csv")
    assert (table.delimiter, mapping["Primary Email"]) == (";", "email")
    assert plan.counts() == {"created": 2, "updated": 0, "skipped": 0, "rejected": 0}
    assert plan.warnings.height == 0
    assert _people(fresh_db) == [("Jane", "Doe", "jane@doe.invalid"), ("John", "Doe", "john@doe.invalid")]


def test_thunderbird_file_without_a_header_imports_both_people(fresh_db):
    table = read_table("n.csv", (REAL / "thunderbird-csv_no_header.csv").read_bytes())
    mapping = auto_map(fresh_db, table.headers, table.frame)
    assert mapping["Column 4"] == "email"
    # Thunderbird too asks which columns hold the names; here they are mapped as its user would.
    mapping |= {"Column 2": "first_name", "Column 3": "last_name"}
    plan = plan_import(fresh_db, table, ImportOptions(mapping=mapping))
    commit_import(fresh_db, plan, "admin")
    assert plan.counts() == {"created": 2, "updated": 0, "skipped": 0, "rejected": 0}
    assert _people(fresh_db) == [("Jane", "Doe", "jane@doe.invalid"), ("John", "Doe", "john@doe.invalid")]


def test_thunderbird_mixed_delimiters_import_all_four_rows(fresh_db):
    _, _, plan = import_real(fresh_db, "thunderbird-tab_comma_mixed.csv")
    assert plan.counts() == {"created": 4, "updated": 0, "skipped": 0, "rejected": 0}
    assert [email for _, _, email in _people(fresh_db)] == [f"{n}@host.invalid" for n in range(1, 5)]


def test_outlook_and_gmail_notes_become_notes_on_the_timeline(fresh_db):
    for name in ("google-shared-contacts-outlook.csv", "roundcube-gmail.csv"):
        _, mapping, plan = import_real(fresh_db, name)
        assert "note" in mapping.values() and not any("note" in column.lower() for column in plan.unmapped)
    bodies = frame(fresh_db, "SELECT body, author FROM notes ORDER BY body").rows()
    assert bodies == [("Has 2 kids", "admin"), ('note"note', "admin")]
