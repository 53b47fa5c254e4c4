"""Export a person can use: labelled headers, owner names, the table's columns, text cells, vCard, and
additional emails and phones; export then import gives the same contacts back (issue 11, point 8)."""

import io

import openpyxl
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.accounts.users import bootstrap_admin
from core.db import frame, open_database
from core.exporting import export_view, neutralise_formulas
from core.importer import ImportOptions, auto_map, commit_import, plan_import, read_table
from core.views.queries import ListView


def test_csv_keeps_phones_and_numbers_and_neutralises_only_formulas():
    phones = "+15555551112 (work), +15555551113 (mobile), +15555551115"  # additional phones with their labels
    data = pl.DataFrame(
        {"v": ["+4915123031275", "-5", "+44 123", "-2+3", "=SUM(A1)", "@handle", "+1 (555) 010-2030", phones]}
        | {"w": ["+1 (HYPERLINK(1))", "+1, =1", "+1 (A1)", "+1 (work", "+cmd|calc!A0", "-", "+", "+1 (móvil)"]}
    )
    assert neutralise_formulas(data)["v"].to_list() == [
        "+4915123031275",
        "-5",
        "+44 123",
        "'-2+3",
        "'=SUM(A1)",
        "'@handle",
        "+1 (555) 010-2030",
        phones,
    ]
    assert neutralise_formulas(data)["w"].to_list() == [
        "'+1 (HYPERLINK(1))",
        "'+1, =1",
        "'+1 (A1)",
        "'+1 (work",  # a bracket never closed is no label: letters outside one are guarded
        "'+cmd|calc!A0",
        "'-",
        "'+",
        "+1 (móvil)",
    ]


def test_headers_are_labels_owners_are_names_and_the_table_columns_are_the_default(fresh_db, add_contact):
    fresh_db.execute("INSERT INTO owners (owner_id, name) VALUES ('maria', 'Maria Rossi')")
    add_contact(fresh_db, "c1", first_name="Ada", email="ada@example.com", phone="+4915123031275", owner_id="maria")
    fresh_db.execute("INSERT INTO contact_channels VALUES ('c1', 'email', 'ada@work.example.com', 'work', 1)")
    view = ListView(columns=["first_name", "email", "phone", "owner_id"])
    data = pl.read_csv(export_view(fresh_db, view, "admin", "csv"), infer_schema=False)
    assert data.columns == [
        "Contact ID",
        "First name",
        "Email",
        "Phone",
        "Owner",
        "Additional emails",
        "Additional phones",
    ]
    assert data.row(0) == (
        "c1",
        "Ada",
        "ada@example.com",
        "+4915123031275",
        "Maria Rossi",
        "ada@work.example.com (work)",  # its label in brackets: the import reads it back
        None,
    )
    keys = pl.read_csv(export_view(fresh_db, view, "admin", "csv", headers="keys"), infer_schema=False)
    assert keys.columns[:3] == ["contact_id", "first_name", "email"]
    everything = pl.read_csv(export_view(fresh_db, view, "admin", "csv", all_fields=True), infer_schema=False)
    assert len(everything.columns) > 30


def test_xlsx_writes_every_text_as_a_text_cell_without_a_prefix(fresh_db, add_contact):
    add_contact(fresh_db, "c1", first_name="=SUM(A1)", email="f@example.com", phone="+4915123031275")
    data = export_view(fresh_db, ListView(columns=["first_name", "phone"]), "admin", "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Contact ID", "First name", "Phone")
    assert rows[1][:3] == ("c1", "=SUM(A1)", "+4915123031275")
    assert all(cell.data_type == "s" for row in sheet.iter_rows(min_row=2) for cell in row if cell.value is not None)


def test_a_view_exports_as_vcards(fresh_db, add_contact):
    add_contact(fresh_db, "c1", first_name="Ada", last_name="Lovelace", email="ada@example.com", company="Engines")
    fresh_db.execute("INSERT INTO contact_channels VALUES ('c1', 'phone', '+442079460958', NULL, 1)")
    text = export_view(fresh_db, ListView(), "admin", "vcf").decode()
    assert "N:Lovelace;Ada;;;" in text and "EMAIL;TYPE=PREF:ada@example.com" in text
    assert "TEL:+442079460958" in text and "ORG:Engines" in text and "UID:c1" in text


NAMES = st.text(alphabet="abcdeñü '=-+@", min_size=1, max_size=10).map(str.strip).filter(lambda s: s[:1].isalpha())
# vCard TYPEs carry the usual labels and one of its own ('school'); CSV and XLSX any label without brackets.
LABELS = st.sampled_from([None, "work", "home", "mobile", "fax", "other", "school"])
EMAILS = st.lists(st.sampled_from(["x@example.org", "y@example.net", "z@example.com"]), max_size=3, unique=True)
PHONES = st.lists(st.sampled_from(["+442079460958", "+14155550123", "+4915123031275"]), max_size=3, unique=True)
PEOPLE = st.lists(
    st.tuples(
        NAMES,
        st.lists(st.tuples(st.sampled_from(["x@example.org", "y@example.net", "z@example.com"]), LABELS), max_size=3),
        st.lists(st.tuples(st.sampled_from(["+442079460958", "+14155550123", "+4915123031275"]), LABELS), max_size=3),
        st.sampled_from([None, "Mr", "Ms", "Dr.", "Prof"]),
    ),
    min_size=1,
    max_size=4,
)
COLUMNS = ["first_name", "email", "phone", "custom.title"]


def _unique(values: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    return list({value: (value, label) for value, label in reversed(values)}.values())[::-1]


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=PEOPLE, fmt=st.sampled_from(["csv", "xlsx", "vcf"]))
def test_export_then_import_gives_the_same_contacts_with_their_additional_values(people, fmt, add_contact):
    from core.contacts.records import get_contact
    from core.workspace import define_custom_field

    source, target = open_database(), open_database()
    bootstrap_admin(source)
    bootstrap_admin(target)
    # The field an import keeps an honorific in (Outlook's Title, a vCard N's prefix), as an import made it.
    define_custom_field(source, "title", "Title", "text", actor="admin")
    for index, (name, emails, phones, title) in enumerate(people):
        phones = _unique(phones)
        phone = phones[0][0] if phones else None
        custom = {"title": title} if title else {}
        add_contact(
            source,
            f"id{index}",
            stored=True,
            first_name=name,
            email=f"p{index}@example.com",
            phone=phone,
            custom=custom,
        )
        extra = [*(("email", *e) for e in _unique(emails)), *(("phone", *p) for p in phones[1:])]
        for position, (kind, value, label) in enumerate(extra):
            source.execute(
                "INSERT INTO contact_channels VALUES (?, ?, ?, ?, ?)", [f"id{index}", kind, value, label, position]
            )
    data = export_view(source, ListView(columns=COLUMNS), "admin", fmt)
    table = read_table(f"contacts.{fmt}", data)
    plan = plan_import(target, table, ImportOptions(mapping=auto_map(target, table.headers, table.frame)))
    assert plan.counts()["rejected"] == 0, plan.errors.to_dicts()
    commit_import(target, plan, "admin")
    for query in (
        "SELECT contact_id, first_name, email, phone FROM contacts ORDER BY 1",
        "SELECT contact_id, kind, value, label FROM contact_channels ORDER BY 1, 2, position",
    ):
        assert frame(target, query).rows() == frame(source, query).rows()
    ids = [f"id{index}" for index in range(len(people))]
    assert [get_contact(target, i).custom.get("title") for i in ids] == [
        get_contact(source, i).custom.get("title") for i in ids
    ]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_phone_as_entered_comes_back_beside_the_phone(fresh_db, add_contact, fmt):
    add_contact(fresh_db, "c1", first_name="Ada", email="ada@example.com", phone="(415) 555-0132")
    source = frame(fresh_db, "SELECT phone, phone_raw FROM contacts").row(0)
    data = export_view(fresh_db, ListView(), "admin", fmt, all_fields=True)
    target = open_database()
    bootstrap_admin(target)
    table = read_table(f"all.{fmt}", data)
    mapping = auto_map(target, table.headers, table.frame)
    assert mapping["Phone as entered"] == "phone_raw"
    commit_import(target, plan_import(target, table, ImportOptions(mapping=mapping)), "admin")
    assert frame(target, "SELECT phone, phone_raw FROM contacts").row(0) == source
    assert target.execute("SELECT count(*) FROM contact_channels").fetchone() == (0,)


def test_a_contact_without_a_name_comes_back_from_vcard_without_one(fresh_db, add_contact):
    add_contact(fresh_db, "c1", email="nobody@example.com")
    add_contact(fresh_db, "c2", company="Acme Ltd", phone="+14155550123")
    data = export_view(fresh_db, ListView(), "admin", "vcf")
    assert "FN:nobody@example.com" in data.decode() and "FN:Acme Ltd" in data.decode()  # FN is required
    target = open_database()
    bootstrap_admin(target)
    table = read_table("all.vcf", data)
    commit_import(target, plan_import(target, table, ImportOptions(mapping=auto_map(target, table.headers))), "admin")
    query = "SELECT contact_id, first_name, last_name, company, email, phone FROM contacts ORDER BY 1"
    assert frame(target, query).rows() == frame(fresh_db, query).rows()
