"""The real files other tools export (../shared/real-exports/, read in place): mapped without help, read row by row."""

from pathlib import Path

import pytest

from core.db import frame
from core.importer import ImportOptions, auto_map, commit_import, plan_import, read_table

REAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "real-exports"

pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason="shared/real-exports is not beside the repository")


def import_real(con, name: str):
    table = read_table(name, (REAL / name).read_bytes())
    mapping = auto_map(con, table.headers)
    plan = plan_import(con, table, ImportOptions(mapping=mapping))
    commit_import(con, plan, "admin")
    return table, mapping, plan


def stored(con) -> list[dict]:
    return frame(
        con, "SELECT first_name, last_name, email, phone, company, tags FROM contacts ORDER BY email"
    ).to_dicts()


def test_chatwoot_splits_names_and_rejects_the_shifted_rows(fresh_db):
    _, mapping, plan = import_real(fresh_db, "chatwoot-import-contacts-sample.csv")
    assert {mapping[c] for c in ("name", "email", "phone_number", "labels", "company_name")} == {
        "full_name",
        "email",
        "phone",
        "tags",
        "company",
    }
    assert plan.counts() == {"created": 1, "updated": 0, "skipped": 0, "rejected": 24}
    assert set(plan.errors["reason"]) == {"the row has 10 cells but the header has 11"}
    assert stored(fresh_db) == [
        {
            "first_name": "Clarice",
            "last_name": "Uzzell",
            "email": "cuzzell0@mozilla.org",
            "phone": "+498963648018",
            "company": "Acme Inc",
            "tags": [],
        }
    ]


def test_outlook_keeps_the_other_emails_and_reports_ragged_rows(fresh_db):
    _, mapping, plan = import_real(fresh_db, "google-shared-contacts-outlook.csv")
    assert (mapping["E-mail Address"], mapping["E-mail 2 Address"], mapping["Mobile Phone"]) == (
        "email",
        "other_emails",
        "phone",
    )
    assert plan.errors.select("line", "column").rows() == [(2, "Mobile Phone"), (3, ""), (4, "")]
    assert "is not a possible phone number" in plan.errors["reason"][0]
    assert plan.counts()["rejected"] == 3


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
    assert plan.errors.rows() == [(2, "Phone 1 - Value", "'pager' is not a phone number")]


def test_thunderbird_utf16_is_read_and_its_reserved_domain_reported(fresh_db):
    table, mapping, plan = import_real(fresh_db, "thunderbird-utf16le.csv")
    assert (table.encoding, table.headers[0], mapping["Primary Email"]) == ("utf-16", "First Name", "email")
    assert plan.counts()["rejected"] == 1
    assert "special-use or reserved name" in plan.errors["reason"][0]
