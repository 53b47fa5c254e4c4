"""Import fidelity (issue 11): honorifics and middle names, Google's '* ' primary and labels, repeated headers,
files with no header, vCard TYPE labels."""

from core.importer import ImportOptions, auto_map, commit_import, plan_import, read_table


def imported(con, data: bytes, name: str = "f.csv", **options):
    table = read_table(name, data)
    mapping = auto_map(con, table.headers, table.frame) | options.pop("mapping", {})
    plan = plan_import(con, table, ImportOptions(mapping=mapping, **options))
    commit_import(con, plan, "admin")
    return mapping, plan


def people(con) -> list[tuple]:
    return con.execute("SELECT email, first_name, last_name, job_title FROM contacts ORDER BY email").fetchall()


def titles(con) -> dict[str, str]:
    rows = con.execute(
        "SELECT c.email, v.title FROM custom_values v JOIN contacts c USING (contact_id) WHERE v.title IS NOT NULL"
    ).fetchall()
    return dict(rows)


def test_outlook_title_is_kept_as_the_contacts_title_and_the_middle_name_joins_the_first(fresh_db):
    data = (
        b"Title,First Name,Middle Name,Last Name,Job Title,E-mail Address\n"
        b"Dr.,Ada,Mary,King,Mathematician,ada@example.com\n"
        b"Mr,Bob,,Stone,,bob@example.com\n"
        b",Cy,,Young,,cy@example.com\n"
    )
    mapping, plan = imported(fresh_db, data)
    assert (mapping["Title"], mapping["Middle Name"], mapping["Job Title"]) == ("new:Title", "middle_name", "job_title")
    assert plan.warnings.height == 0
    assert people(fresh_db) == [
        ("ada@example.com", "Ada Mary", "King", "Mathematician"),
        ("bob@example.com", "Bob", "Stone", None),
        ("cy@example.com", "Cy", "Young", None),
    ]
    assert titles(fresh_db) == {"ada@example.com": "Dr.", "bob@example.com": "Mr"}
    label = fresh_db.execute("SELECT label, type FROM custom_fields WHERE key = 'title'").fetchone()
    assert label == ("Title", "text")


def test_a_single_honorific_is_kept_and_a_second_import_fills_the_same_field(fresh_db):
    imported(fresh_db, b"Title,First Name,E-mail Address\nMs,Ada,ada@example.com\n")
    mapping, _ = imported(fresh_db, b"Title,First Name,E-mail Address\nDr,Bob,bob@example.com\n")
    assert mapping["Title"] == "custom.title"
    assert titles(fresh_db) == {"ada@example.com": "Ms", "bob@example.com": "Dr"}


def test_google_name_prefix_and_additional_name(fresh_db):
    data = b"Given Name,Additional Name,Family Name,Name Prefix,E-mail 1 - Value\nAda,Mary,King,Lady,ada@example.com\n"
    mapping, _ = imported(fresh_db, data)
    assert (mapping["Additional Name"], mapping["Name Prefix"]) == ("middle_name", "new:Title")
    assert people(fresh_db) == [("ada@example.com", "Ada Mary", "King", None)]
    assert titles(fresh_db) == {"ada@example.com": "Lady"}


def test_google_starred_type_marks_the_primary_and_types_label_the_others(fresh_db):
    data = (
        b"First Name,E-mail 1 - Label,E-mail 1 - Value,E-mail 2 - Label,E-mail 2 - Value,"
        b"Phone 1 - Label,Phone 1 - Value,Phone 2 - Label,Phone 2 - Value,Labels\n"
        b"Ada,Work,ada@work.example.com,* Home,ada@home.example.com,"
        b"Work Fax,+44 20 7946 0000,* Mobile,+44 7700 900123,* myContacts ::: Friends ::: * starred\n"
    )
    imported(fresh_db, data)
    row = fresh_db.execute("SELECT email, phone, tags FROM contacts").fetchone()
    assert row == ("ada@home.example.com", "+447700900123", ["Friends", "starred"])
    channels = fresh_db.execute("SELECT kind, value, label FROM contact_channels ORDER BY kind, position").fetchall()
    assert channels == [("email", "ada@work.example.com", "work"), ("phone", "+442079460000", "fax")]


def test_google_old_export_type_columns(fresh_db):
    data = (
        b"Given Name,Group Membership,E-mail 1 - Type,E-mail 1 - Value,E-mail 2 - Type,E-mail 2 - Value\n"
        b"Ada,* My Contacts ::: Test,Other,ada@other.example.com,* Work,ada@work.example.com\n"
    )
    imported(fresh_db, data)
    assert fresh_db.execute("SELECT email, tags FROM contacts").fetchone() == ("ada@work.example.com", ["Test"])
    assert fresh_db.execute("SELECT value, label FROM contact_channels").fetchall() == [
        ("ada@other.example.com", "other")
    ]


def test_a_repeated_header_keeps_the_first_value_and_warns_the_others(fresh_db):
    data = (
        b"First Name,Last Name,Email,Last Name\n"
        b"Ada,King,ada@example.com,Lovelace\n"
        b"Bob,,bob@example.com,Stone\n"
        b"Cy,Young,cy@example.com,Young\n"
        b"Di,Prince,di@example.com,\n"
    )
    mapping, plan = imported(fresh_db, data)
    assert (mapping["Last Name"], mapping["Last Name (2)"]) == ("last_name", "last_name")
    assert plan.counts()["created"] == 4
    assert [(e, f, last) for e, f, last, _ in people(fresh_db)] == [
        ("ada@example.com", "Ada", "King"),
        ("bob@example.com", "Bob", "Stone"),
        ("cy@example.com", "Cy", "Young"),
        ("di@example.com", "Di", "Prince"),
    ]
    assert plan.warnings.select("line", "column", "value", "action").rows() == [
        (2, "Last Name (2)", "Lovelace", "left out")
    ]
    assert plan.warnings["reason"][0] == "'Last Name' is repeated; the first value in the row is kept"


def test_a_file_without_a_header_has_its_name_columns_found_by_their_values(fresh_db):
    data = b"John Doe,John,Doe,john@doe.invalid\nJane Doe,Jane,Doe,jane@doe.invalid\n"
    mapping, plan = imported(fresh_db, data)
    assert mapping == {"Column 1": "", "Column 2": "first_name", "Column 3": "last_name", "Column 4": "email"}
    assert [(e, f, last) for e, f, last, _ in people(fresh_db)] == [
        ("jane@doe.invalid", "Jane", "Doe"),
        ("john@doe.invalid", "John", "Doe"),
    ]


def test_a_file_without_a_header_and_one_name_column_splits_it(fresh_db):
    data = b"ada@example.com,Ada King\nbob@example.com,Bob Stone\n"
    mapping, _ = imported(fresh_db, data)
    assert mapping == {"Column 1": "email", "Column 2": "full_name"}
    assert [(e, f, last) for e, f, last, _ in people(fresh_db)] == [
        ("ada@example.com", "Ada", "King"),
        ("bob@example.com", "Bob", "Stone"),
    ]


def test_values_with_a_header_are_not_guessed_as_names(fresh_db):
    table = read_table("h.csv", b"Email,Nickname\nada@example.com,Ada King\nbob@example.com,Bob Stone\n")
    assert auto_map(fresh_db, table.headers, table.frame)["Nickname"] == ""


def test_vcard_types_label_the_additional_emails_and_phones(fresh_db):
    card = (
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:King;Ada;;;\r\n"
        b"EMAIL;TYPE=HOME:ada@home.example.com\r\nEMAIL;TYPE=WORK,PREF:ada@work.example.com\r\n"
        b"EMAIL;TYPE=INTERNET:ada@plain.example.com\r\n"
        b"TEL;TYPE=CELL:+44 7700 900123\r\nTEL;TYPE=WORK,FAX:+44 20 7946 0000\r\n"
        b"TEL;TYPE=HOME,VOICE:+44 20 7946 0958\r\n"
        b"END:VCARD\r\n"
    )
    table = read_table("a.vcf", card)
    assert table.headers[3:7] == ["Email", "Additional emails", "Phone", "Additional phones"]
    assert table.frame.select("Additional emails", "Additional phones").row(0) == (
        "ada@home.example.com (home) ::: ada@plain.example.com",
        "+44 20 7946 0000 (fax) ::: +44 20 7946 0958 (home)",
    )
    imported(fresh_db, card, name="a.vcf")
    assert fresh_db.execute("SELECT email, phone FROM contacts").fetchone() == (
        "ada@work.example.com",
        "+447700900123",
    )
    channels = fresh_db.execute("SELECT kind, value, label FROM contact_channels ORDER BY kind, position").fetchall()
    assert channels == [
        ("email", "ada@home.example.com", "home"),
        ("email", "ada@plain.example.com", None),
        ("phone", "+442079460000", "fax"),
        ("phone", "+442079460958", "home"),
    ]


def test_real_vcards_keep_their_types_as_labels(fresh_db):
    from tests.test_import_real_exports import REAL

    if not REAL.is_dir():
        return
    for name in ("ezvcard-fullcontact.vcf", "ezvcard-John_Doe_EVOLUTION.vcf"):
        imported(fresh_db, (REAL / name).read_bytes(), name=name)
    rows = fresh_db.execute(
        "SELECT c.email, ch.kind, ch.value, ch.label FROM contact_channels ch JOIN contacts c USING (contact_id) "
        "ORDER BY c.email, ch.kind, ch.position"
    ).fetchall()
    # In the card's order after the first (home@, the primary); each TYPE its label, one of its own included.
    assert rows == [
        ("home@example.com", "email", "work@example.com", "work"),
        ("home@example.com", "email", "school@example.com", "school"),
        ("home@example.com", "email", "other@example.com", "other"),
        ("home@example.com", "email", "custom@example.com", "customtype"),
        ("home@example.com", "phone", "+15555551112", "work"),
        ("home@example.com", "phone", "+15555551113", "mobile"),
        ("home@example.com", "phone", "+15555551114", "mobile"),
        ("home@example.com", "phone", "+15555551115", None),
        ("home@example.com", "phone", "+15555551116", "fax"),
        ("home@example.com", "phone", "+15555551117", "fax"),
        ("home@example.com", "phone", "+15555551118", None),
        ("home@example.com", "phone", "+15555551119", None),
        ("john.doe@ibm.com", "phone", "+19055551234", "work"),
    ]


def test_vcard_name_prefix_is_kept_as_the_title(fresh_db):
    card = (
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Doe;John;Richter\\, James;Mr.;Sr.\r\nEMAIL:john@example.com\r\nEND:VCARD\r\n"
    )
    mapping, _ = imported(fresh_db, card, name="j.vcf")
    assert mapping["Name prefix"] == "new:Title"
    assert people(fresh_db) == [("john@example.com", "John Richter, James", "Doe", None)]
    assert titles(fresh_db) == {"john@example.com": "Mr."}


def test_thunderbird_file_without_a_header_imports_both_people_without_help(fresh_db):
    from tests.test_import_real_exports import REAL

    if not REAL.is_dir():
        return
    mapping, plan = imported(fresh_db, (REAL / "thunderbird-csv_no_header.csv").read_bytes())
    assert mapping == {"Column 1": "", "Column 2": "first_name", "Column 3": "last_name", "Column 4": "email"}
    assert plan.counts() == {"created": 2, "updated": 0, "skipped": 0, "rejected": 0}
    assert [(e, f, last) for e, f, last, _ in people(fresh_db)] == [
        ("jane@doe.invalid", "Jane", "Doe"),
        ("john@doe.invalid", "John", "Doe"),
    ]


def test_after_an_outlook_import_a_salesforce_title_is_still_the_job_title(fresh_db):
    imported(fresh_db, b"Title,First Name,E-mail Address\nMs,Ada,ada@example.com\n")
    mapping, _ = imported(fresh_db, b"Title,First Name,Email\nCTO,Bob,bob@example.com\nBuyer,Cy,cy@example.com\n")
    assert mapping["Title"] == "job_title"
    google = read_table("g.csv", b"Given Name,Name Prefix,E-mail 1 - Value\nDi,Dr,di@example.com\n")
    assert auto_map(fresh_db, google.headers, google.frame)["Name Prefix"] == "custom.title"
    assert [(e, job) for e, _, _, job in people(fresh_db)] == [
        ("ada@example.com", None),
        ("bob@example.com", "CTO"),
        ("cy@example.com", "Buyer"),
    ]
    assert titles(fresh_db) == {"ada@example.com": "Ms"}


def test_google_type_columns_are_mapped_so_they_are_not_kept_as_custom_fields(fresh_db):
    data = (
        b"First Name,E-mail 1 - Label,E-mail 1 - Value,"
        b"Phone 1 - Label,Phone 1 - Value,Phone 2 - Label,Phone 2 - Value\n"
        b"Ada,* Home,ada@example.com,Work,+44 20 7946 0000,* Mobile,+44 7700 900123\n"
    )
    mapping, plan = imported(fresh_db, data, keep_unmapped=True)
    assert [mapping[c] for c in ("E-mail 1 - Label", "Phone 1 - Label", "Phone 2 - Label")] == ["channel_type"] * 3
    assert plan.unmapped == []
    assert fresh_db.execute("SELECT count(*) FROM custom_fields").fetchone() == (0,)
    assert fresh_db.execute("SELECT email, phone FROM contacts").fetchone() == ("ada@example.com", "+447700900123")
    assert fresh_db.execute("SELECT value, label FROM contact_channels").fetchall() == [("+442079460000", "work")]
