"""vCard in and out: .vcf files (2.1, 3.0, 4.0; several cards a file) read into the importer's table, and
contacts written as vCard 3.0 cards.

Cards are parsed by vobject after the fixes real exporters need: folded lines joined, quoted-printable soft
line breaks joined and the values decoded (in their CHARSET, else UTF-8, else Windows-1252, and said so),
PHOTO dropped. Each card is one row of the table, its number as the row's line; what is skipped (PHOTO, X-
properties, a card vobject cannot read) is listed as a warning of that card.
"""

import quopri
import re
from dataclasses import dataclass, field

import charset_normalizer
import polars as pl
import vobject

from core.errors import ContactsError

HEADERS = [
    "Contact ID",
    "First name",
    "Last name",
    "Email",
    "Additional emails",
    "Phone",
    "Additional phones",
    "Company",
    "Job title",
    "Birthday",
    "Address",
    "City",
    "State",
    "Postal code",
    "Country",
    "Website",
    "Tags",
    "Name prefix",  # N's honorific (Mr., Dr.): kept in the custom 'Title' field, as Outlook's Title is
]
_USED = {"VERSION", "N", "FN", "EMAIL", "TEL", "ORG", "TITLE", "BDAY", "ADR", "URL", "CATEGORIES", "UID"}
_CARD = re.compile(r"BEGIN:VCARD.*?END:VCARD", re.IGNORECASE | re.DOTALL)
_LIST = " ::: "


@dataclass
class _Card:
    number: int
    values: dict[str, str | None] = field(default_factory=dict)
    warnings: list[tuple[str, str, str, str]] = field(default_factory=list)  # column, value, reason, action


def looks_like_vcard(file_name: str, data: bytes) -> bool:
    """Whether an upload is a vCard file (by its name or its first line)."""
    return file_name.lower().endswith((".vcf", ".vcard")) or data.lstrip()[:11].upper() == b"BEGIN:VCARD"


def read_vcards(file_name: str, data: bytes) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(one text row per card with the HEADERS columns, additional values written 'value (label)', its card
    number as __line; the cards' warnings)."""
    text = data.decode("utf-8", errors="replace")
    cards = [_read_card(number, block) for number, block in enumerate(_CARD.findall(text), start=1)]
    if not cards:
        raise ContactsError(f"{file_name} holds no vCard (no BEGIN:VCARD ... END:VCARD).")
    headers = list(HEADERS)
    rows = {header: [card.values.get(header) for card in cards] for header in headers}
    table = pl.DataFrame(rows, schema={header: pl.String for header in headers}).with_columns(
        pl.Series("__line", [card.number for card in cards], dtype=pl.Int64),
        pl.lit(len(headers), dtype=pl.Int32).alias("__cells"),
    )
    warnings = pl.DataFrame(
        [(card.number, *warning) for card in cards for warning in card.warnings],
        schema={"line": pl.Int64, "column": pl.String, "value": pl.String, "reason": pl.String, "action": pl.String},
        orient="row",
    )
    return table, warnings


def _logical_lines(block: str, card: _Card) -> list[str]:
    """The card's properties one per line: folds and quoted-printable soft breaks joined, PHOTO dropped."""
    raw = re.split(r"\r\n|\r|\n", block)
    lines: list[str] = []
    for line in raw:
        if lines and line[:1] in (" ", "\t") and not _soft_broken(lines[-1]):
            lines[-1] += line[1:]
        elif lines and _soft_broken(lines[-1]):
            lines[-1] = lines[-1][:-1] + line
        elif line.strip():
            lines.append(line)
    fallback = _card_charset(lines)
    kept = []
    for line in lines:
        name = line.split(":", 1)[0].split(";", 1)[0].split(".")[-1].upper()
        if ":" not in line:
            card.warnings.append(("", line[:80], "a line that is not a property", "skipped"))
        elif name == "PHOTO":
            card.warnings.append(("PHOTO", "", "photos are not imported", "skipped"))
        else:
            kept.append(_decoded(line, card, fallback))
    return kept


def _quoted_printable(line: str) -> tuple[list[str], bytes] | None:
    """(the property's name and parameters, its decoded bytes) when it is quoted-printable, else None."""
    head, value = line.split(":", 1)
    params = head.split(";")
    if not any(p.upper() in ("ENCODING=QUOTED-PRINTABLE", "QUOTED-PRINTABLE") for p in params[1:]):
        return None
    return params, quopri.decodestring(value.encode("latin-1", errors="replace"))


def _card_charset(lines: list[str]) -> str:
    """The charset the card's quoted-printable values with no CHARSET and not UTF-8 are written in, as
    charset-normalizer reads all of them together (The Bat!'s 0xF1 is Windows-1250's 'ń'); else Windows-1252."""
    unknown = []
    for line in lines:
        found = _quoted_printable(line) if ":" in line else None
        if found is None or any(p.upper().startswith("CHARSET=") for p in found[0][1:]):
            continue
        try:
            found[1].decode("utf-8")
        except UnicodeDecodeError:
            unknown.append(found[1])
    best = charset_normalizer.from_bytes(b"\n".join(unknown)).best() if unknown else None
    return best.encoding if best is not None else "cp1252"


def _charset_name(encoding: str) -> str:
    return f"Windows-{encoding[2:]}" if re.fullmatch(r"cp125\d", encoding) else encoding


def _soft_broken(line: str) -> bool:
    return line.endswith("=") and "QUOTED-PRINTABLE" in line.split(":", 1)[0].upper()


def _decoded(line: str, card: _Card, fallback: str = "cp1252") -> str:
    """A quoted-printable property rewritten as plain text in its charset (vCard escapes kept); with none
    given and not UTF-8, in the card's `fallback`."""
    found = _quoted_printable(line)
    if found is None:
        return line
    params, raw = found
    charset = next((p.split("=", 1)[1] for p in params[1:] if p.upper().startswith("CHARSET=")), None)
    try:
        text = raw.decode(charset or "utf-8")
    except (UnicodeDecodeError, LookupError):
        text = raw.decode("utf-8", errors="replace")
        invalid = text.count("\ufffd")
        if invalid and invalid <= sum(1 for ch in text if ord(ch) > 0x7F) - invalid:
            card.warnings.append((params[0], text, "a byte that is not UTF-8", "replaced by \ufffd"))
        else:
            encoding = fallback if charset is None else "cp1252"
            text = raw.decode(encoding, errors="replace")
            card.warnings.append((params[0], text, f"not {charset or 'UTF-8'}", f"read as {_charset_name(encoding)}"))
    kept = [
        p for p in params if not p.upper().startswith(("ENCODING=", "CHARSET=")) and p.upper() != "QUOTED-PRINTABLE"
    ]
    text = text.replace("\r\n", "\\n").replace("\n", "\\n")
    return ";".join(kept) + ":" + text


def _read_card(number: int, block: str) -> _Card:
    card = _Card(number)
    lines = _logical_lines(block, card)
    try:
        parsed = vobject.readOne("\r\n".join(lines) + "\r\n", ignoreUnreadable=True)
    except Exception as error:  # vobject raises several types for one unreadable card
        card.warnings.append(("", "", f"the card cannot be read: {error}", "skipped"))
        return card
    _fill(card, parsed)
    return card


def _text(value: object) -> str:
    if isinstance(value, list):
        return _text(value[0]) if value else ""
    return str(value).strip()


def _types(child: vobject.base.ContentLine) -> list[str]:
    types = [t.lower() for t in child.params.get("TYPE", [])]
    types += [k.lower() for k, v in child.params.items() if not v and k != "TYPE"]  # 2.1: TEL;CELL;PREF
    return [t for part in types for t in part.split(",")]


_LABELS = (("fax", ("fax",)), ("mobile", ("cell", "mobile", "iphone")), ("work", ("work",)), ("home", ("home",)))


# Types that say how a value is used, not whose it is: no label.
_PLAIN_TYPES = {"pref", "internet", "voice", "x400", "text", "msg", "textphone", "video", "bbs", "modem", "isdn"}


def _label(child: vobject.base.ContentLine) -> str | None:
    """The label a value's TYPE gives it (CELL -> mobile, WORK,FAX -> fax, school -> school); None for none."""
    written = _types(child)
    types = set(written)
    found = next((label for label, words in _LABELS if types & set(words)), None)
    own = [t for t in written if t not in _PLAIN_TYPES and not t.startswith("x-") and re.fullmatch(r"[^()\d]+", t)]
    return found or ("other" if "other" in types else (own[0] if own else None))


def _ordered(children: list) -> list[tuple[str, str | None]]:
    """(value, label) with the PREF one first, else in file order; a repeated value once."""
    preferred = [c for c in children if "pref" in _types(c) or c.params.get("PREF")]
    rest = [c for c in children if c not in preferred]
    found: dict[str, str | None] = {}
    for child in [*preferred, *rest]:
        value = _text(child.value)
        if value and value not in found:
            found[value] = _label(child)
    return list(found.items())


def _not_names(contents: dict) -> set[str]:
    """What an FN may hold that is no person's name: the card's organisation, an email, a phone or its UID (a
    card with no name is given one of them, as FN is required)."""
    found = {_text(child.value) for key in ("email", "tel", "uid") for child in contents.get(key, [])}
    found |= {_text(child.value) for child in contents.get("org", [])}
    return found - {""}


def _fill(card: _Card, parsed: vobject.base.Component) -> None:
    contents = parsed.contents
    values = card.values
    name = contents.get("n", [None])[0]
    if name is not None and (str(name.value.given).strip() or str(name.value.family).strip()):
        given = " ".join(p for p in (_text(name.value.given), _text(name.value.additional)) if p)
        values["First name"], values["Last name"] = given or None, _text(name.value.family) or None
        values["Name prefix"] = _text(name.value.prefix) or None
    elif "fn" in contents and _text(contents["fn"][0].value) not in _not_names(contents):
        from core.importer.names import split_name  # the importer's own parser (it imports this module)

        values["First name"], values["Last name"] = split_name(_text(contents["fn"][0].value))
    for key, column, more in (("email", "Email", "Additional emails"), ("tel", "Phone", "Additional phones")):
        found = _ordered(contents.get(key, []))
        values[column] = found[0][0] if found else None
        # The others in the card's order, each with its TYPE's label in brackets, which the import reads back.
        values[more] = _LIST.join(v if label is None else f"{v} ({label})" for v, label in found[1:]) or None
    if "org" in contents:
        values["Company"] = _text(contents["org"][0].value) or None
    for key, column in (("title", "Job title"), ("bday", "Birthday"), ("url", "Website"), ("uid", "Contact ID")):
        if key in contents:
            values[column] = _text(contents[key][0].value) or None
    if "adr" in contents:
        address = contents["adr"][0].value
        street = ", ".join(p for p in (_text(address.box), _text(address.street)) if p)
        values |= {
            "Address": street or None,
            "City": _text(address.city) or None,
            "State": _text(address.region) or None,
            "Postal code": _text(address.code) or None,
            "Country": _text(address.country) or None,
        }
    if "categories" in contents:
        tags = [
            str(t).strip()
            for c in contents["categories"]
            for t in (c.value if isinstance(c.value, list) else [c.value])
        ]
        values["Tags"] = ", ".join(t for t in tags if t) or None
    skipped = sorted({child.name for child in parsed.getChildren() if child.name.upper() not in _USED})
    if skipped:
        card.warnings.append(("", ", ".join(skipped), "properties with no field here", "skipped"))


# The TYPE each label is written as (the reader's _LABELS, the other way round); another label as itself.
_TYPES = {"mobile": "CELL", "work": "WORK", "home": "HOME", "fax": "FAX", "other": "OTHER"}
HONORIFIC_KEY = "title"  # the custom field an honorific is kept in (core.importer.mapping.HONORIFIC)


def write_vcards(data: pl.DataFrame) -> bytes:
    """Contacts (keyed columns as export_frame gives them) as vCard 3.0 cards."""
    cards = []
    for row in data.iter_rows(named=True):  # a card is built property by property: no set-based form exists
        card = vobject.vCard()
        card.add("version").value = "3.0"
        first, last = row.get("first_name") or "", row.get("last_name") or ""
        prefix = row.get(f"custom.{HONORIFIC_KEY}") or ""  # the honorific the import keeps in 'Title'
        card.add("n").value = vobject.vcard.Name(family=last, given=first, prefix=prefix)
        # FN is required: a contact with no name is given its company, email or ID, which the reader knows.
        card.add("fn").value = (
            " ".join(p for p in (first, last) if p) or row.get("company") or row.get("email") or row["contact_id"]
        )
        card.add("uid").value = row["contact_id"]
        for kind, primary, more in (("email", "email", "additional_emails"), ("tel", "phone", "additional_phones")):
            if row.get(primary):
                line = card.add(kind)
                line.value = row[primary]
                line.type_param = "PREF"
            for item in row.get(more) or []:
                line = card.add(kind)
                line.value = item["value"]
                if item.get("label"):
                    line.type_param = _TYPES.get(item["label"].lower(), item["label"].upper())
        if row.get("company"):
            card.add("org").value = [row["company"]]
        if row.get("job_title"):
            card.add("title").value = row["job_title"]
        if row.get("birthday"):
            card.add("bday").value = str(row["birthday"])
        if any(row.get(k) for k in ("address", "city", "state", "postal_code", "country")):
            card.add("adr").value = vobject.vcard.Address(
                street=row.get("address") or "",
                city=row.get("city") or "",
                region=row.get("state") or "",
                code=row.get("postal_code") or "",
                country=row.get("country") or "",
            )
        if row.get("website"):
            card.add("url").value = row["website"]
        if row.get("tags"):
            card.add("categories").value = list(row["tags"])
        cards.append(card.serialize())
    return "".join(cards).encode("utf-8")
