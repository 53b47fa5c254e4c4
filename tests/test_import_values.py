"""Odd files a user brings (issue 11): ':::' lists, split birthdays, day-first dates, titles, unknown headers."""

import polars as pl
import pytest

from core.contacts.custom_values import held_values_sql
from core.importer import ImportOptions, auto_map, commit_import, plan_import, read_table


def imported(con, data: bytes, name: str = "f.csv", **options):
    table = read_table(name, data)
    mapping = auto_map(con, table.headers, table.frame) | options.pop("mapping", {})
    plan = plan_import(con, table, ImportOptions(mapping=mapping, **options))
    commit_import(con, plan, "admin")
    return mapping, plan


def test_google_lists_in_one_cell_give_a_primary_and_additional_values(fresh_db):
    data = (
        b"Name,E-mail 1 - Value,Phone 1 - Value\n"
        b"Ada King,ada@example.com ::: ada@work.example.com,+44 20 7946 0958 ::: +14155550101\n"
    )
    imported(fresh_db, data)
    assert fresh_db.execute("SELECT email, phone FROM contacts").fetchone() == ("ada@example.com", "+442079460958")
    assert fresh_db.execute("SELECT kind, value FROM contact_channels ORDER BY kind").fetchall() == [
        ("email", "ada@work.example.com"),
        ("phone", "+14155550101"),
    ]


def test_labels_come_from_the_column_names(fresh_db):
    data = b"Email,Business Phone,Mobile Phone,Home Phone\nada@example.com,+14155550101,+14155550102,+14155550103\n"
    imported(fresh_db, data)
    assert fresh_db.execute("SELECT phone FROM contacts").fetchone() == ("+14155550102",)
    assert fresh_db.execute("SELECT value, label FROM contact_channels ORDER BY position").fetchall() == [
        ("+14155550101", "work"),
        ("+14155550103", "home"),
    ]


def test_thunderbird_birth_year_month_and_day_make_one_birthday(fresh_db):
    data = b"Primary Email,Birth Year,Birth Month,Birth Day\nada@example.com,1990,4,7\nbob@example.com,,4,7\n"
    mapping, plan = imported(fresh_db, data)
    assert (mapping["Birth Year"], mapping["Birth Month"], mapping["Birth Day"]) == (
        "birth_year",
        "birth_month",
        "birth_day",
    )
    birthdays = dict(fresh_db.execute("SELECT email, birthday::VARCHAR FROM contacts").fetchall())
    assert birthdays == {"ada@example.com": "1990-04-07", "bob@example.com": None}
    assert plan.warnings.filter(pl.col("line") == 3)["value"].to_list() == ["04-07"]


def test_day_first_dates_are_found_from_the_column_and_an_ambiguous_one_asks(fresh_db):
    data = b"Email,Birthday\na@example.com,20/01/1991\nb@example.com,03/04/1990\nc@example.com,Jan 5 1985\n"
    _, plan = imported(fresh_db, data)
    assert plan.date_orders == {"Birthday": "day first"}
    found = dict(fresh_db.execute("SELECT email, birthday::VARCHAR FROM contacts").fetchall())
    assert found == {"a@example.com": "1991-01-20", "b@example.com": "1990-04-03", "c@example.com": "1985-01-05"}
    ambiguous = b"Email,Birthday\nd@example.com,03/04/1990\n"
    table = read_table("a.csv", ambiguous)
    us = plan_import(fresh_db, table, ImportOptions(mapping=auto_map(fresh_db, table.headers)))
    assert us.date_orders == {"Birthday": "month first"}  # the workspace's default country is the US
    chosen = plan_import(
        fresh_db, table, ImportOptions(mapping=auto_map(fresh_db, table.headers), date_orders={"Birthday": "day first"})
    )
    assert chosen.staged["birthday"].cast(pl.String).to_list() == ["1990-04-03"]


def test_outlook_title_is_an_honorific_and_salesforce_title_a_job(fresh_db):
    outlook = read_table("o.csv", b"Title,First Name,E-mail Address\nMr.,Ada,ada@example.com\nDr,Bob,b@example.com\n")
    assert auto_map(fresh_db, outlook.headers, outlook.frame)["Title"] == "new:Title"
    salesforce = read_table("s.csv", b"Title,First Name,Email\nCTO,Ada,ada@example.com\nBuyer,Bob,b@example.com\n")
    assert auto_map(fresh_db, salesforce.headers, salesforce.frame)["Title"] == "job_title"


def test_an_unknown_column_of_emails_is_offered_as_email(fresh_db):
    table = read_table(
        "u.csv", b"Who,Contact point,Where\nAda,ada@example.com,10.0.0.1\nBob,bob@example.com,10.0.0.2\n"
    )
    mapping = auto_map(fresh_db, table.headers, table.frame)
    assert (mapping["Contact point"], mapping["Where"]) == ("email", "ip_address")


def test_unmapped_columns_are_listed_and_can_all_be_kept(fresh_db):
    data = b"Email,Shoe size,Favourite colour\nada@example.com,38,green\n"
    _, plan = imported(fresh_db, data, keep_unmapped=True)
    assert plan.unmapped == ["Shoe size", "Favourite colour"]
    kept = dict(fresh_db.execute(f"SELECT field_key, value FROM ({held_values_sql(fresh_db)})").fetchall())
    assert kept == {"shoe_size": "38", "favourite_colour": "green"}


def test_a_row_marked_as_a_company_keeps_its_name_as_the_company(fresh_db):
    data = (
        b"Name,Is a Company,Email,Related Company\n"
        b"Acme Corp,True,info@acme.example,\n"
        b"Jane Smith,False,jane@acme.example,Acme Corp\n"
    )
    mapping, _ = imported(fresh_db, data, mapping={"Related Company": "company"})
    assert mapping["Is a Company"] == "is_company"
    rows = fresh_db.execute("SELECT email, first_name, last_name, company FROM contacts ORDER BY email").fetchall()
    assert rows == [("info@acme.example", None, None, "Acme Corp"), ("jane@acme.example", "Jane", "Smith", "Acme Corp")]


def test_owners_written_by_name_are_read_as_their_ids(fresh_db):
    from core.workspace import add_owner

    add_owner(fresh_db, "maria", "Maria Rossi", actor="admin")
    mapping, plan = imported(fresh_db, b"Email,Contact owner\nada@example.com,maria rossi\nbob@example.com,Nobody\n")
    assert mapping["Contact owner"] == "owner_id"
    owners = dict(fresh_db.execute("SELECT email, owner_id FROM contacts").fetchall())
    assert owners == {"ada@example.com": "maria", "bob@example.com": None}
    assert plan.warnings.select("line", "value", "action").rows() == [(3, "Nobody", "left blank")]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (  # Mautic
            ["firstname", "lastname", "email", "mobile", "phone", "position", "address1", "zipcode", "tags"],
            [
                "first_name",
                "last_name",
                "email",
                "phone",
                "other_phones",
                "job_title",
                "address",
                "postal_code",
                "tags",
            ],
        ),
        (  # Zoho CRM
            ["First Name", "Email", "Secondary Email", "Mailing Street", "Mailing Zip", "Mailing State", "Tag"],
            ["first_name", "email", "other_emails", "address", "postal_code", "state", "tags"],
        ),
        (  # HubSpot
            ["Email", "Phone Number", "Mobile Phone Number", "State/Region", "Country/Region", "Lifecycle Stage"],
            ["email", "phone", "other_phones", "state", "country", "lead_stage"],
        ),
        (  # Outlook
            ["First Name", "Middle Name", "Last Name", "Title", "E-mail Address", "E-mail 2 Address", "Categories"],
            ["first_name", "middle_name", "last_name", "", "email", "other_emails", "tags"],
        ),
    ],
)
def test_the_exporters_headers_map_without_help(fresh_db, headers, expected):
    assert list(auto_map(fresh_db, headers).values()) == expected


ODOO = (
    b"Display Name,Company Type,Related Company,Title,Job Position,Email,Phone,Mobile,Street,Street2,City,Zip,Tags\n"
    b"Acme Corp,Company,,,,info@acme.example,+44 20 7946 0000,,1 High St,Floor 2,London,EC1A 1BB,Customer\n"
    b"Jane Smith,Individual,Acme Corp,Madam,CEO,jane@acme.example,,+44 7700 900123,,,,,\n"
)
MAUTIC = (
    b"title,firstname,lastname,company,position,email,mobile,phone,fax,address1,address2,preferred_locale,tags\n"
    b"Mr,John,Doe,Acme,CTO,john@acme.example,+14155550100,+14155550101,+14155550102,1 Main St,Suite 5,en_US,"
    b"vip|newsletter\n"
)
CIVICRM = (
    b"Contact ID,Contact Type,Display Name,Individual Prefix,First Name,Last Name,Last Name,Organization Name,Email\n"
    b"1,Individual,Mr. Joe Bloggs,Mr.,Joe,Bloggs,,,joe@example.org\n"
    b"2,Organization,Acme Corp,,,,,Acme Corp,info@acme.example\n"
)


def test_odoo_company_rows_keep_their_name_and_people_their_company(fresh_db):
    mapping, plan = imported(fresh_db, ODOO)
    assert [mapping[c] for c in ("Company Type", "Related Company", "Title", "Job Position", "Street2")] == [
        "is_company",
        "company",
        "new:Title",
        "job_title",
        "address",
    ]
    assert plan.counts()["created"] == 2 and plan.warnings.height == 0
    rows = fresh_db.execute(
        "SELECT first_name, last_name, company, job_title, address, phone, tags FROM contacts ORDER BY email"
    ).fetchall()
    assert rows == [
        (None, None, "Acme Corp", None, "1 High St, Floor 2", "+442079460000", ["Customer"]),
        ("Jane", "Smith", "Acme Corp", "CEO", None, "+447700900123", []),  # her only phone is the primary
    ]
    assert fresh_db.execute("SELECT count(*) FROM contact_channels").fetchone() == (0,)


def test_mautic_maps_without_help_and_splits_its_tags(fresh_db):
    mapping, plan = imported(fresh_db, MAUTIC)
    assert [mapping[c] for c in ("title", "fax", "address2", "preferred_locale")] == [
        "new:Title",
        "other_phones",
        "address",
        "language",
    ]
    row = fresh_db.execute("SELECT phone, address, language, tags, job_title FROM contacts").fetchone()
    assert row == ("+14155550100", "1 Main St, Suite 5", "en_US", ["vip", "newsletter"], "CTO")
    labels = fresh_db.execute("SELECT value, label FROM contact_channels ORDER BY position").fetchall()
    assert labels == [("+14155550101", None), ("+14155550102", "fax")]


def test_civicrm_export_keeps_an_organisation_as_a_company_and_its_prefix_as_the_title(fresh_db):
    mapping, plan = imported(fresh_db, CIVICRM)
    assert (mapping["Contact Type"], mapping["Individual Prefix"], mapping["Last Name (2)"]) == (
        "is_company",
        "new:Title",
        "last_name",
    )
    assert plan.counts() == {"created": 2, "updated": 0, "skipped": 0, "rejected": 0}
    rows = fresh_db.execute("SELECT contact_id, first_name, last_name, company FROM contacts ORDER BY 1").fetchall()
    assert rows == [("1", "Joe", "Bloggs", None), ("2", None, None, "Acme Corp")]
