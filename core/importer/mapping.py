"""Which field each column of an import fills: automatic by name and synonyms, re-mappable by the user.

A mapping is {column name: target}. A target is a system field key, 'full_name' (split into first and
last name), 'other_emails' / 'other_phones' (kept beside the first email or phone), 'note' (a note added to the
contact's timeline), 'custom.KEY', 'new:Label' (a new custom text field made at commit), or '' to ignore the column.
"""

import io
import re

import duckdb
import polars as pl

from core.contacts.fields import SYSTEM_FIELD_BY_KEY
from core.contacts.validation import custom_fields
from core.errors import ContactsError

IGNORE = ""
NOTE = "note"  # the cell's text added as a note on the contact's timeline (core.importer.commit)
MAX_NOTE_LENGTH = 10_000  # as core.contacts.records.add_note
HONORIFIC = "new:Title"  # the custom text field an honorific (Mr, Dr) is kept in
EXTRA_FIELDS = {
    "full_name": "Full name (split)",
    "middle_name": "Middle name (joined to the first name)",
    "other_emails": "Additional emails",
    "other_phones": "Additional phones",
    "birth_year": "Birthday: year",
    "birth_month": "Birthday: month",
    "birth_day": "Birthday: day of month",
    "is_company": "Marks a company (its name is the company's)",
    "channel_type": "Type of the email or phone beside it (Home, * Work)",
    "phone_raw": "Phone as entered (beside a Phone column, as our export writes it)",
    NOTE: "Note (added to the contact's timeline)",
}
IMPORTABLE_SYSTEM_KEYS = (
    "contact_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "lead_stage",
    "owner_id",
    "tags",
    "email_subscription",
    "sms_subscription",
    "social_id",
    "company",
    "job_title",
    "gender",
    "birthday",
    "language",
    "time_zone",
    "country",
    "state",
    "city",
    "address",
    "postal_code",
    "website",
    "ip_address",
    "utm_source",
    "utm_medium",
    "utm_campaign",
)
_SYNONYMS = {
    "contact_id": ["contact id", "contactid", "id", "customer id", "external id", "identifier"],
    "first_name": ["first name", "firstname", "given name", "forename", "first", "fname"],
    "last_name": ["last name", "lastname", "surname", "family name", "last", "lname"],
    "full_name": ["name", "full name", "fullname", "display name", "contact name", "formatted name"],
    "middle_name": ["middle name", "middlename", "additional name", "middle", "second name", "middle names"],
    # An honorific (Outlook's "Title", Google's "Name Prefix") is kept in a custom "Title" field made at commit.
    HONORIFIC: [
        "name prefix",
        "salutation",
        "honorific",
        "prefix",
        "courtesy title",
        "name title",
        "individual prefix",
    ],
    "email": [
        "email",
        "e-mail",
        "email address",
        "e-mail address",
        "mail",
        "primary email",
        "e-mail 1 - value",
        "email 1",
        "work email",
        "email home",
        "e-mail",
        "email address 1",
        "primary e-mail",
    ],
    "other_emails": [
        "e-mail 2 address",
        "e-mail 3 address",
        "secondary email",
        "e-mail 2 - value",
        "e-mail 3 - value",
        "e-mail 4 - value",
        "email 2",
        "email 3",
        "other email",
        "email work",
        "email other",
        "e-mail 2",
        "e-mail 3",
        "additional email",
        "additional emails",
        "alternate email",
    ],
    "phone": [
        "phone",
        "phone number",
        "mobile",
        "mobile phone",
        "mobile number",
        "cell",
        "cell phone",
        "telephone",
        "tel",
        "phone 1 - value",
        "primary phone",
        "whatsapp",
        "mobile phone number",
        "cellphone",
        "phone mobile",
    ],
    "other_phones": [
        "home phone",
        "work phone",
        "business phone",
        "phone 2 - value",
        "phone 3 - value",
        "other phone",
        "home phone 2",
        "business phone 2",
        "work number",
        "home number",
        "phone 4 - value",
        "company main phone",
        "car phone",
        "assistant's phone",
        "pager",
        "primary phone 2",
        "phone work",
        "phone home",
        "additional phones",
        "additional phone",
        "fax",
        "business fax",
        "home fax",
        "other fax",
        "fax number",
    ],
    "company": [
        "company",
        "company name",
        "organization",
        "organisation",
        "organization 1 - name",
        "employer",
        "account name",
        "organization name",
        "related company",
    ],
    # "Title" is Outlook's honorific (Mr, Dr) but Salesforce's job title: the column's values decide (auto_map).
    "job_title": ["job title", "position", "role", "occupation", "organization 1 - title", "jobtitle", "job position"],
    "tags": ["tags", "labels", "label", "groups", "group membership", "categories", "segments", "lists", "tag"],
    "lead_stage": ["lead stage", "stage", "lifecycle stage", "status"],
    "owner_id": ["owner", "owner id", "assigned to", "assignee", "agent", "contact owner", "salesperson", "owner name"],
    "channel_type": [
        f"{kind} {n} - {part}" for kind in ("e-mail", "phone") for n in range(1, 10) for part in ("type", "label")
    ],
    "is_company": ["is a company", "is company", "is_company", "contact type", "record type", "company type"],
    "birthday": ["birthday", "birth date", "date of birth", "dob", "birthdate"],
    "country": [
        "country",
        "home country",
        "country region",
        "cc",
        "address 1 - country",
        "home country/region",
        "business country/region",
        "mailing country",
        "work country",
    ],
    "city": ["city", "home city", "town", "address 1 - city", "business city", "mailing city", "work city"],
    "state": [
        "state/region",
        "mailing state",
        "state",
        "home state",
        "region",
        "province",
        "address 1 - region",
        "business state",
        "mailing state/province",
    ],
    "postal_code": [
        "mailing zip",
        "zipcode",
        "postal code",
        "zip",
        "zip code",
        "postcode",
        "home zipcode",
        "address 1 - postal code",
        "home postal code",
        "business postal code",
        "mailing zip/postal code",
        "work zipcode",
    ],
    "address": [
        "address1",
        "address 1",
        "address line 1",
        "address2",
        "address line 2",
        "address",
        "street",
        "home address",
        "street address",
        "address 1 - formatted",
        "home street",
        "business street",
        "mailing street",
        "home address 2",
        "address 1 - street",
        "street2",
        "street 2",
        "street3",
    ],
    "website": ["website", "web page", "web page 1", "url", "homepage", "website 1 - value"],
    "language": ["language", "locale", "preferred locale", "preferred language"],
    "time_zone": ["time zone", "timezone"],
    "gender": ["gender", "sex"],
    "ip_address": ["ip address", "ip", "optin ip"],
    "email_subscription": ["email subscription", "email status", "subscribed"],
    "sms_subscription": ["sms subscription", "sms status"],
    "social_id": ["social id"],
    "phone_raw": ["phone as entered", "phone raw"],
    # Free text about the person (Outlook's, Google's and Thunderbird's "Notes"); not "Description" or "Comments",
    # which some exporters use for other things.
    NOTE: ["notes", "note", "contact notes", "contact note", "personal notes"],
}


# Headers in the languages address books are exported in (Japanese, Chinese, Korean, Russian, French, German,
# Spanish, Italian, Dutch), beside the English ones above.
_OTHER_LANGUAGES = {
    "first_name": ["名", "下の名前", "имя", "prénom", "vorname", "nombre", "nome", "voornaam"],
    "last_name": [
        "姓",
        "苗字",
        "성",
        "фамилия",
        "nom",
        "nom de famille",
        "nachname",
        "apellido",
        "apellidos",
        "cognome",
    ],
    "full_name": ["氏名", "名前", "姓名", "表示名", "フルネーム", "이름", "фио", "nom complet", "nombre completo"],
    "middle_name": ["ミドルネーム", "отчество"],
    "email": [
        *("メール", "メールアドレス", "電子メール", "eメール", "邮箱", "电子邮件", "電郵", "이메일"),
        *("электронная почта", "почта", "courriel", "adresse e-mail", "correo", "correo electrónico", "e-mail-adresse"),
    ],
    "phone": [
        *("電話", "電話番号", "携帯", "携帯電話", "电话", "手机", "電話號碼", "전화", "전화번호", "휴대폰"),
        *("телефон", "мобильный", "téléphone", "portable", "telefon", "handy", "mobil", "teléfono", "telefono"),
    ],
    "company": [
        "会社",
        "会社名",
        "公司",
        "회사",
        "компания",
        "организация",
        "société",
        "entreprise",
        "firma",
        "empresa",
    ],
    "job_title": ["役職", "职位", "직책", "должность", "poste", "cargo"],
    "address": ["住所", "地址", "주소", "адрес", "adresse", "dirección", "straße", "strasse"],
    "city": ["市区町村", "城市", "도시", "город", "ville", "stadt", "ort", "ciudad"],
    "postal_code": ["郵便番号", "邮编", "우편번호", "индекс", "code postal", "plz", "postleitzahl", "código postal"],
    "country": ["国", "国家", "국가", "страна", "pays", "land", "país"],
    "birthday": ["誕生日", "生日", "생일", "дата рождения", "date de naissance", "geburtstag", "fecha de nacimiento"],
}


def _squash(name: str) -> str:
    """A header reduced to its letters (of any script) and digits, so 'E-mail Address' and 'email_address'
    compare equal."""
    return re.sub(r"[\W_]", "", name.lower())


_LOOKUP = {
    _squash(synonym): target
    for table in (_OTHER_LANGUAGES, _SYNONYMS)  # the English ones win a clash
    for target, synonyms in table.items()
    for synonym in synonyms
}


def mapping_targets(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Every target a column can map to: key to label ('' ignores the column)."""
    system = {key: SYSTEM_FIELD_BY_KEY[key].label for key in IMPORTABLE_SYSTEM_KEYS}
    custom = {f"custom.{field.key}": f"{field.label} (custom)" for field in custom_fields(con)}
    return {IGNORE: "Ignore this column", **system, **EXTRA_FIELDS, **custom}


# What a column's values say it is when its name says nothing (share of its non-blank values that must fit).
_DATES = r"^\d{4}-\d{1,2}-\d{1,2}|^\d{8}$|^\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}$"  # not phones
_VALUE_KINDS = (
    ("email", r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"),
    ("ip_address", r"^(?:\d{1,3}\.){3}\d{1,3}$"),
    ("phone", r"^\+?[\d\s().\-/]{7,}$"),
    ("website", r"^(?:https?://|www\.)\S+$"),
)
_HONORIFICS = (
    r"(?i)^(?:mr|mrs|ms|miss|mx|dr|prof|sir|dame|rev|herr|frau|m|mme|mlle|sr|sra|srta|mister|madam|doctor|professor"
    r"|monsieur|madame|mademoiselle|señor|señora|señorita)\.?$"
)
_NAME_WORD = r"[^\W\d_][^\W\d_'’.\-]*"
_NAMES = rf"^{_NAME_WORD}(?: {_NAME_WORD})*$"
_SAMPLE = 200
_FIT = 0.8
_MIN_VALUES = 2  # one value says too little about a column


def auto_map(con: duckdb.DuckDBPyConnection, headers: list[str], values: pl.DataFrame | None = None) -> dict[str, str]:
    """A target for each column by its name: system fields and synonyms, then custom fields; else, given the
    file's `values`, by what its cells look like (emails, phones, IP addresses, web addresses); else ignored."""
    mapping = _map_by_name(con, headers)
    mapping = mapping if values is None else _map_by_values(mapping, values)
    title = f"custom.{new_field_key(HONORIFIC.removeprefix('new:'))}"
    if any(f"custom.{field.key}" == title for field in custom_fields(con)):
        mapping = {column: title if target == HONORIFIC else target for column, target in mapping.items()}
    return mapping


def _map_by_values(mapping: dict[str, str], values: pl.DataFrame) -> dict[str, str]:
    """Unmapped columns whose values are mostly of one kind offered as that field; a 'Title' column of job
    titles (not Mr/Ms, as Outlook's is) as the job title."""
    used = set(mapping.values())
    # Rows of the header's length only: a short row's cells sit under the wrong names until it is aligned.
    full = values.filter(pl.col("__cells") == len(mapping)) if "__cells" in values.columns else values
    if full.height < _MIN_VALUES and all(re.fullmatch(r"Column \d+", column) for column in mapping):
        # No header line: the first row's length says nothing, so short rows count too (Thunderbird's
        # one 26-cell line, then 5-cell ones).
        full = values
    sample = full.head(_SAMPLE)
    for column, target in list(mapping.items()):
        if target or column not in sample.columns:
            continue
        cells = sample[column].cast(pl.String).str.strip_chars().drop_nulls()
        cells = cells.filter(cells != "")
        if _squash(column) == "title" and cells.len():
            # Outlook's Title is the honorific (Mr, Dr): kept as the contact's Title; a column of job titles
            # (Salesforce's) is the job title.
            honorific = cells.str.contains(_HONORIFICS).mean() >= _FIT  # type: ignore[operator]
            target = "job_title" if not honorific and "job_title" not in used else HONORIFIC
            if target not in used:
                mapping[column] = target
                used.add(target)
            continue
        if cells.len() < _MIN_VALUES:
            continue
        if cells.str.contains(_DATES).mean() >= _FIT:  # type: ignore[operator]
            continue  # dates: which date a column holds, its name says, not its values
        for kind, pattern in _VALUE_KINDS:
            if cells.str.contains(pattern).mean() >= _FIT:  # type: ignore[operator]
                extra = {"email": "other_emails", "phone": "other_phones"}.get(kind)
                mapping[column] = kind if kind not in used else (extra or IGNORE)
                used.add(mapping[column])
                break
    if all(re.fullmatch(r"Column \d+", column) for column in mapping):
        _names_by_values(mapping, sample, used)
    return mapping


def _names_by_values(mapping: dict[str, str], sample: pl.DataFrame, used: set[str]) -> None:
    """A file with no header: its name columns found by their values. Three columns where one is the other two
    joined by a space ('John Doe', 'John', 'Doe', as Thunderbird writes display, first and last name) are the
    full name and the first and last name; else one column of names of two words or more is the full name."""
    if used & {"first_name", "last_name", "full_name"}:
        return
    names = {}
    for column, target in mapping.items():
        if target or column not in sample.columns:
            continue
        cells = sample[column].cast(pl.String).str.strip_chars()
        filled = cells.drop_nulls().filter(cells.drop_nulls() != "")
        if filled.len() and filled.str.contains(_NAMES).mean() >= _FIT:  # type: ignore[operator]
            names[column] = cells
    for whole, cells in names.items():
        for first, last in ((a, b) for a in names for b in names if len({a, b, whole}) == 3):
            joined = names[first] + " " + names[last]
            if (cells == joined).fill_null(False).mean() >= _FIT:  # type: ignore[operator]
                mapping |= {first: "first_name", last: "last_name"}
                return  # the display name stays unmapped: the first and last name say it
    for column, cells in names.items():
        if cells.drop_nulls().str.contains(" ").mean() >= _FIT:  # type: ignore[operator]
            mapping[column] = "full_name"
            return


def _map_by_name(con: duckdb.DuckDBPyConnection, headers: list[str]) -> dict[str, str]:
    """A target for each column by its name: system fields and synonyms, then custom fields; else ignored."""
    custom = {}
    for field in custom_fields(con):
        custom[_squash(field.key)] = custom[_squash(field.label)] = f"custom.{field.key}"
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for header in headers:
        squashed = _squash(header)
        # 'Title' is an honorific or a job title whatever fields exist: its values decide (_map_by_values).
        known = custom.get(squashed) if squashed != "title" else None
        target = known or _LOOKUP.get(squashed) or _system_by_label(squashed) or IGNORE
        base, suffix = _suffixed(header)
        if not target and base is not None:
            # 'Last Name (2)', a repeated header (CiviCRM's), fills the same field: the first non-blank value of
            # the repeats is kept, the others warned; 'Additional emails (work)' is a label's column (vCard).
            target = mapping.get(base) or _LOOKUP.get(_squash(base)) or _system_by_label(_squash(base)) or IGNORE
            if suffix.isdigit() and base in mapping and target not in CHANNEL_FIELDS:
                mapping[header] = target
                continue
        # Several columns may fill tags, additional values and an address's further lines ('address2', 'Street2');
        # a second address of its own (Outlook's Business Street beside Home Street) is not joined to the first.
        more = target in ("other_emails", "other_phones", "channel_type", "tags") or (
            target == "address" and re.search(r"[23]$", squashed) is not None
        )
        if target in used and not more:
            # A second email or phone column is kept beside the first rather than fighting over it.
            target = {"email": "other_emails", "phone": "other_phones"}.get(target, IGNORE)
        mapping[header] = target
        used.add(target)
    if {"birthyear", "birthmonth"} & {_squash(h) for h in headers}:
        # Thunderbird's "Birth Day" is the day of the month beside "Birth Year" and "Birth Month": one birthday.
        parts = {"birthyear": "birth_year", "birthmonth": "birth_month", "birthday": "birth_day"}
        mapping = {c: parts.get(_squash(c), t) for c, t in mapping.items()}
    if "full_name" in used and ("first_name" in used or "last_name" in used):
        mapping = {column: (IGNORE if t == "full_name" else t) for column, t in mapping.items()}
    return mapping


CHANNEL_FIELDS = ("email", "phone", "other_emails", "other_phones")


def _suffixed(header: str) -> tuple[str | None, str]:
    """('Last Name', '2') for 'Last Name (2)', ('Additional emails', 'work') for 'Additional emails (work)'."""
    found = re.fullmatch(r"(.+?)\s*\((\w+)\)", header.strip())
    return (found[1], found[2]) if found else (None, "")


def repeats_of(column: str, headers: list[str]) -> str | None:
    """The header a repeated one repeats ('Last Name' for 'Last Name (2)' when both are in the file), else None."""
    base, suffix = _suffixed(column)
    return base if base is not None and suffix.isdigit() and base in headers else None


def _system_by_label(squashed: str) -> str | None:
    for key in IMPORTABLE_SYSTEM_KEYS:
        if squashed in (_squash(key), _squash(SYSTEM_FIELD_BY_KEY[key].label)):
            return key
    return None


# Fields several columns may fill together: the cells are joined ("12", "High St", "Flat 3" -> one address).
COMBINABLE = ("other_emails", "other_phones", "address", "tags", "channel_type")


def check_mapping(con: duckdb.DuckDBPyConnection, headers: list[str], mapping: dict[str, str]) -> dict[str, str]:
    """The mapping with every column and target checked against what exists (allow-lists), or ContactsError."""
    targets = mapping_targets(con)
    checked = {}
    for column, target in mapping.items():
        if column not in headers:
            raise ContactsError(f"The file has no column '{column}'.", field="mapping")
        if target.startswith("new:"):
            if not target.removeprefix("new:").strip():
                raise ContactsError(f"Give the new field for '{column}' a name.", field="mapping")
        elif target not in targets:
            raise ContactsError(f"'{target}' is not a field a column can be imported into.", field="mapping")
        checked[column] = target
    seen: dict[str, str] = {}
    for column, target in checked.items():
        # Two new fields whose labels reduce to one key ("Foo!", "Foo?") would be one field: refused, not merged.
        slot = f"custom.{new_field_key(target.removeprefix('new:'))}" if target.startswith("new:") else target
        if slot and slot not in COMBINABLE and slot in seen and repeats_of(column, headers) == seen[slot]:
            continue  # a repeated header fills its field with the first non-blank value (clean_fields)
        if slot and slot not in COMBINABLE and slot in seen:
            if target.startswith("new:"):
                key = slot.removeprefix("custom.")
                raise ContactsError(
                    f"Columns '{seen[slot]}' and '{column}' would both become the field '{key}'; "
                    "give one of the new fields another name.",
                    field="mapping",
                )
            raise ContactsError(
                f"Columns '{seen[slot]}' and '{column}' both map to {targets.get(target, target)}.", field="mapping"
            )
        seen[slot] = column
    return checked


def new_field_key(label: str) -> str:
    """The custom field key a 'new:Label' target creates: lower-case letters, digits and underscores."""
    key = re.sub(r"[^a-z0-9]+", "_", label.strip().lower()).strip("_") or "field"
    key = key if key[0].isalpha() else f"f_{key}"
    # A column called "Email" made into a new field must not take a system field's key.
    return (f"imported_{key}" if key in SYSTEM_FIELD_BY_KEY else key)[:63]


def sample_file(con: duckdb.DuckDBPyConnection) -> bytes:
    """A CSV with every importable field as a column and one example row, to fill in and upload."""
    example = {
        "contact_id": "",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "phone": "+44 20 7946 0958",
        "lead_stage": "Contact",
        "tags": "vip, newsletter",
        "email_subscription": "subscribed",
        "sms_subscription": "not set",
        "company": "Analytical Engines",
        "job_title": "Mathematician",
        "gender": "female",
        "birthday": "1815-12-10",
        "country": "GB",
        "city": "London",
    }
    columns = {SYSTEM_FIELD_BY_KEY[key].label: [example.get(key, "")] for key in IMPORTABLE_SYSTEM_KEYS}
    columns |= {field.label: [field.options[0] if field.options else ""] for field in custom_fields(con)}
    buffer = io.BytesIO()
    pl.DataFrame(columns, schema={name: pl.String for name in columns}).write_csv(buffer)
    return buffer.getvalue()
