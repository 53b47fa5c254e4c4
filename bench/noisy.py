"""A labelled contact file with real-world noise, written apart from the demo's generator and the detector.

People get names drawn from several Faker locales with a skewed (Zipf) frequency, a mailbox and a US phone
and a city; a share of them come back as more records, each copy damaged independently the way contact
data is: names with a typo, cut short, in another case, a nickname, first and last swapped, missing; a
different or missing email; the phone reformatted, one digit wrong, or missing; the city changed, misspelt
or missing. No birthday, address or postal code. Ground truth is the person behind each record.

`python -m bench.noisy --rows 100000 --out data/bench/noisy_100000.duckdb` builds the file, imports it
through the project's importer (core.importer) into a new database, and writes the truth beside it
(`*.truth.parquet`: contact_id, person_id) and the imported contacts for peer tools (`*.contacts.parquet`).
"""

import argparse
import io
import time
from pathlib import Path

import numpy as np
import polars as pl

ACTOR = "admin"
MAPPING = {
    "record_id": "contact_id",
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "phone": "phone",
    "city": "city",
}
# People written down more than once, and how many extra records they then have.
DUPLICATED_SHARE = 0.3
EXTRA_COPIES = (np.array([1, 2, 3, 4]), np.array([0.7, 0.2, 0.07, 0.03]))
LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL", "pt_BR", "sv_SE")
DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com", "proton.me", "gmx.net")
AREA_CODES = (201, 212, 213, 305, 312, 347, 404, 415, 469, 503, 512, 602, 617, 646, 702, 713, 718, 773, 805, 917)
# Short forms people go by: written for this generator, not taken from the detector's table.
NICKNAMES = {
    "robert": ("bob", "rob", "bobby"),
    "william": ("bill", "will", "billy"),
    "elizabeth": ("liz", "beth", "betty"),
    "katherine": ("kate", "kathy", "katie"),
    "catherine": ("cathy", "kate"),
    "richard": ("rick", "dick", "rich"),
    "james": ("jim", "jimmy"),
    "john": ("jack", "johnny"),
    "michael": ("mike", "mick"),
    "margaret": ("maggie", "peggy", "meg"),
    "thomas": ("tom", "tommy"),
    "joseph": ("joe", "joey"),
    "daniel": ("dan", "danny"),
    "david": ("dave",),
    "christopher": ("chris",),
    "christine": ("chris", "tina"),
    "jennifer": ("jen", "jenny"),
    "patricia": ("pat", "patty", "trish"),
    "anthony": ("tony",),
    "edward": ("ed", "eddie", "ted"),
    "alexander": ("alex",),
    "alexandra": ("alex", "sandra"),
    "nicholas": ("nick",),
    "samuel": ("sam",),
    "samantha": ("sam",),
    "benjamin": ("ben",),
    "matthew": ("matt",),
    "andrew": ("andy", "drew"),
    "stephen": ("steve",),
    "steven": ("steve",),
    "susan": ("sue", "susie"),
    "deborah": ("debbie", "deb"),
    "rebecca": ("becky",),
    "jonathan": ("jon",),
    "timothy": ("tim",),
    "gregory": ("greg",),
    "peter": ("pete",),
    "victoria": ("vicky", "tori"),
    "frederick": ("fred", "freddie"),
    "charles": ("charlie", "chuck"),
}


def _pool(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """Distinct values from Faker across locales, in random order (so the Zipf ranks mix the locales)."""
    from faker import Faker

    found: set[str] = set()
    for locale in LOCALES:
        fake = Faker(locale)
        fake.seed_instance(int(rng.integers(1 << 30)))
        for _ in range(size // len(LOCALES) * 3):
            found.add(getattr(fake, kind)())
    values = np.array(sorted(found))
    rng.shuffle(values)
    return values


def _zipf_pick(pool: np.ndarray, count: int, rng: np.random.Generator, bend: float = 1.0) -> np.ndarray:
    weights = 1.0 / np.arange(10, len(pool) + 10) ** bend
    return pool[rng.choice(len(pool), size=count, p=weights / weights.sum())]


def _typo(text: str, rng: np.random.Generator) -> str:
    """One insertion, deletion, substitution or swap of neighbours."""
    if len(text) < 2:
        return text
    i = int(rng.integers(len(text) - 1))
    letter = "abcdefghijklmnopqrstuvwxyz"[int(rng.integers(26))]
    match int(rng.integers(4)):
        case 0:
            return text[:i] + letter + text[i:]
        case 1:
            return text[:i] + text[i + 1 :]
        case 2:
            return text[:i] + letter + text[i + 1 :]
        case _:
            return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def _recase(text: str, rng: np.random.Generator) -> str:
    return (text.upper(), text.lower(), text.title())[int(rng.integers(3))]


def _name(text: str | None, rng: np.random.Generator, first: bool) -> str | None:
    if text is None or rng.random() < (0.03 if first else 0.02):
        return None
    roll = rng.random()
    nick = NICKNAMES.get(text.lower())
    if first and nick and roll < 0.35:
        text = nick[int(rng.integers(len(nick)))].title()
    elif roll < 0.2:
        text = _typo(text, rng)
        if rng.random() < 0.15:
            text = _typo(text, rng)
    elif roll < 0.25 and len(text) > 4:
        text = text[: int(rng.integers(1 if first else 3, len(text) - 1))]
    if rng.random() < 0.15:
        text = _recase(text, rng)
    return text


def _mailbox(first: str, last: str, rng: np.random.Generator) -> str:
    f, la = first.lower().replace(" ", ""), last.lower().replace(" ", "")
    local = (f"{f}.{la}", f"{f[0]}{la}", f"{f}{la}{rng.integers(100)}", f"{la}.{f}", f"{f}_{rng.integers(1000, 9999)}")[
        int(rng.integers(5))
    ]
    return f"{local}@{DOMAINS[int(rng.integers(len(DOMAINS)))]}"


def _phone(rng: np.random.Generator) -> str:
    exchange = int(rng.integers(200, 1000))
    while exchange % 100 == 11 or exchange == 555:
        exchange = int(rng.integers(200, 1000))
    return f"{AREA_CODES[int(rng.integers(len(AREA_CODES)))]}{exchange}{int(rng.integers(10000)):04d}"


def _written(digits: str, rng: np.random.Generator) -> str:
    """A ten-digit US number as people write it."""
    a, b, c = digits[:3], digits[3:6], digits[6:]
    return (f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"{a}.{b}.{c}", f"+1 {a} {b} {c}", f"1{a}{b}{c}", digits)[
        int(rng.integers(6))
    ]


def _copy(person: dict, rng: np.random.Generator, cities: np.ndarray) -> dict:
    """One more record of a person, damaged independently field by field."""
    first, last = _name(person["first_name"], rng, True), _name(person["last_name"], rng, False)
    if rng.random() < 0.03:
        first, last = last, first
    roll = rng.random()
    email = person["email_raw"]
    if roll < 0.22 or email is None:
        email = None
    elif roll < 0.47:
        email = _mailbox(person["first_name"], person["last_name"], rng)
    elif roll < 0.52:
        email = email.upper()
    roll = rng.random()
    phone = person["phone_digits"]
    if roll < 0.25 or phone is None:
        phone = None
    elif roll < 0.35:
        i = int(rng.integers(3, 10))
        phone = phone[:i] + str((int(phone[i]) + int(rng.integers(1, 10))) % 10) + phone[i + 1 :]
    elif roll < 0.38:
        phone = _phone(rng)
    phone = None if phone is None else _written(phone, rng)
    roll = rng.random()
    city = person["city"]
    if roll < 0.15 or city is None:
        city = None
    elif roll < 0.35:
        city = str(cities[int(rng.integers(len(cities)))])
    elif roll < 0.4:
        city = _typo(city, rng)
    return {"first_name": first, "last_name": last, "email": email, "phone": phone, "city": city}


def generate(rows: int, seed: int = 7) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`rows` records (record_id, first_name, last_name, email, phone, city) and their truth (record_id, person_id)."""
    rng = np.random.default_rng(seed)
    mean_copies = 1 + DUPLICATED_SHARE * float((EXTRA_COPIES[0] * EXTRA_COPIES[1]).sum())
    people = int(rows / mean_copies) + 1
    firsts = _zipf_pick(_pool("first_name", 6000, rng), people, rng, 0.9)
    lasts = _zipf_pick(_pool("last_name", 30000, rng), people, rng, 0.8)
    cities = _pool("city", 3000, rng)
    towns = _zipf_pick(cities, people, rng, 0.7)
    records: list[dict] = []
    used: set[str] = set()
    for person_id in range(people):
        first, last = str(firsts[person_id]), str(lasts[person_id])
        email = None if rng.random() < 0.1 else _mailbox(first, last, rng)
        while email is not None and email in used:
            local, domain = email.split("@")
            email = f"{local}{rng.integers(10, 10000)}@{domain}"
        if email:
            used.add(email)
        person = {
            "first_name": first,
            "last_name": last,
            "email_raw": email,
            "phone_digits": None if rng.random() < 0.15 else _phone(rng),
            "city": None if rng.random() < 0.05 else str(towns[person_id]),
        }
        phone = person["phone_digits"]
        records.append(
            {
                "person_id": person_id,
                "first_name": first,
                "last_name": last,
                "email": email,
                "phone": None if phone is None else _written(phone, rng),
                "city": person["city"],
            }
        )
        if rng.random() < DUPLICATED_SHARE:
            for _ in range(int(rng.choice(EXTRA_COPIES[0], p=EXTRA_COPIES[1]))):
                records.append({"person_id": person_id, **_copy(person, rng, cities)})
        if len(records) >= rows:
            break
    order = rng.permutation(len(records))
    table = pl.DataFrame(records).with_columns(pl.Series("order", order)).sort("order").drop("order")
    table = table.with_row_index("n").with_columns(record_id=pl.format("r{}", pl.col("n"))).drop("n")
    return table.drop("person_id"), table.select("record_id", "person_id")


def build(rows: int, out: Path, seed: int = 7) -> dict[str, float]:
    """Generate, import through core.importer into a new database at `out`, and write truth and contacts."""
    from core.db import open_database
    from core.importer import ImportOptions, commit_import, plan_import, read_table
    from core.workspace import ensure_owner

    started = time.perf_counter()
    table, truth = generate(rows, seed)
    buffer = io.BytesIO()
    table.write_csv(buffer)
    generated = time.perf_counter()
    partial = out.with_suffix(".building")
    partial.unlink(missing_ok=True)
    con = open_database(partial)
    ensure_owner(con, ACTOR)
    plan = plan_import(
        con, read_table(f"noisy_{rows}.csv", buffer.getvalue()), ImportOptions(mode="create", mapping=MAPPING)
    )
    commit_import(con, plan, ACTOR)
    imported = time.perf_counter()
    contacts = con.sql("SELECT contact_id, first_name, last_name, email, phone, city FROM contacts").pl()
    con.execute("CHECKPOINT")
    con.close()
    partial.rename(out)
    truth.rename({"record_id": "contact_id"}).write_parquet(out.with_suffix(".truth.parquet"))
    contacts.write_parquet(out.with_suffix(".contacts.parquet"))
    return {
        "rows": table.height,
        "contacts": contacts.height,
        "generate_s": generated - started,
        "import_s": imported - generated,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(build(args.rows, args.out, args.seed))


if __name__ == "__main__":
    main()
