"""A labelled contact file with the noise real contact lists carry, written apart from the demo and the detector.

Written from a description of real-world noise, not from the demo generator: people have a first and a
last name drawn with a skewed frequency (a few surnames are very common, most are rare, so the same first
and last name recurs among strangers), a mailbox, a US phone and a city (also skewed); some live in
households (another person with their surname and city, sometimes their landline). A share of people come
back as more records, each copy keeping most fields and changing a few, independently: a name with a typo,
cut short, a nickname, in another case, first and last swapped, or missing; a different or missing email;
the phone reformatted, one digit wrong, or missing; the city changed or missing. No birthday, address or
postal code. The truth is the person behind each row.

`build(rows, path)` writes the CSV, imports it through the project's importer (which folds rows with the same
email, or with no email the same phone), and keeps beside the database the truth per row
(`*.truth.parquet`: row, person_id, contact_id) and the imported contacts for peer tools
(`*.contacts.parquet`).
"""

import random
import time
from itertools import accumulate
from pathlib import Path

import duckdb
import polars as pl

from core.accounts.users import bootstrap_admin
from core.contacts.normalize import normalize_emails, normalize_phones
from core.db import open_database, scalar
from core.importer import ImportOptions, commit_import, plan_import, read_table

ACTOR = "admin"
MAPPING = {"first_name": "first_name", "last_name": "last_name", "email": "email", "phone": "phone", "city": "city"}
# People written down more than once, and how many extra records they then have.
DUPLICATED_SHARE = 0.35
EXTRA_RECORDS = ((1, 0.72), (2, 0.2), (3, 0.08))
# People sharing a surname and a city with another person (a household), and how often a landline too.
HOUSEHOLD_SHARE, SHARED_LANDLINE = 0.08, 0.0

COMMON_SURNAMES = """smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez
gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark
ramirez lewis robinson walker young allen king wright scott torres nguyen hill flores green adams nelson baker
hall rivera campbell mitchell carter roberts gomez phillips evans turner diaz parker cruz edwards collins reyes
stewart morris morales murphy cook rogers gutierrez ortiz morgan cooper peterson bailey reed kelly howard ramos
kim cox ward richardson watson brooks chavez wood james bennett gray mendoza ruiz hughes price alvarez castillo
sanders patel myers long ross foster jimenez powell jenkins perry russell sullivan bell coleman butler henderson
barnes gonzales fisher vasquez simmons romero jordan patterson alexander hamilton graham reynolds griffin wallace
moreno west cole hayes bryant herrera gibson ellis tran medina aguilar stevens murray ford castro marshall owens
harrison fernandez mcdonald woods washington kennedy wells vargas henry chen freeman webb tucker guzman burns
crawford olson simpson porter hunter gordon mendez silva shaw snyder mason dixon munoz hunt hicks holmes palmer
wagner black robertson boyd rose stone salazar fox warren mills meyer rice schmidt garza daniels ferguson nichols
stephens soto weaver ryan gardner payne grant dunn kelley spencer hawkins arnold pierce vazquez hansen peters
santos hart bradley knight elliott cunningham duncan armstrong hudson carroll lane riley andrews alvarado ray
delgado berry perkins hoffman johnston matthews pena richards contreras willis carpenter lawrence sandoval""".split()
COMMON_FIRST = """james mary robert patricia john jennifer michael linda david elizabeth william barbara richard
susan joseph jessica thomas sarah charles karen christopher lisa daniel nancy matthew betty anthony margaret mark
sandra donald ashley steven kimberly paul emily andrew donna joshua michelle kenneth carol kevin amanda brian
dorothy george melissa timothy deborah ronald stephanie edward rebecca jason sharon jeffrey laura ryan cynthia
jacob kathleen gary amy nicholas angela eric shirley jonathan anna stephen brenda larry pamela justin emma scott
nicole brandon helen benjamin samantha samuel katherine gregory christine alexander debra frank rachel patrick
catherine raymond carolyn jack janet dennis ruth jerry maria tyler heather aaron diane jose virginia adam julie
nathan joyce henry victoria douglas olivia zachary kelly peter christina kyle lauren ethan joan walter evelyn
noah judith jeremy megan christian andrea keith cheryl roger hannah terry jacqueline gerald martha harold gloria
sean teresa austin ann carl sara arthur madison lawrence frances dylan kathryn jesse janice jordan jean bryan
abigail billy alice joe judy bruce sophia gabriel grace logan denise albert amber willie doris alan marilyn
juan danielle wayne beverly elijah isabella randy theresa roy diana vincent natalie ralph brittany eugene
charlotte russell marie bobby kayla mason alexis philip lori louis alyssa""".split()
# Short forms people go by, written for this generator (the detector keeps its own table).
NICKNAMES = {
    "robert": ("bob", "rob", "bobby"),
    "william": ("bill", "will", "billy"),
    "elizabeth": ("liz", "beth", "betsy"),
    "katherine": ("kate", "kathy", "katie"),
    "catherine": ("cathy", "kate"),
    "kathryn": ("kate", "kathy"),
    "richard": ("rick", "rich", "dick"),
    "james": ("jim", "jimmy", "jamie"),
    "john": ("johnny", "jack"),
    "michael": ("mike", "mikey"),
    "margaret": ("maggie", "peggy", "meg"),
    "thomas": ("tom", "tommy"),
    "joseph": ("joe", "joey"),
    "daniel": ("dan", "danny"),
    "david": ("dave",),
    "christopher": ("chris",),
    "christine": ("chris", "tina"),
    "christina": ("tina", "chris"),
    "jennifer": ("jen", "jenny"),
    "patricia": ("pat", "patty", "trish"),
    "anthony": ("tony",),
    "edward": ("ed", "eddie", "ted"),
    "alexander": ("alex",),
    "nicholas": ("nick",),
    "matthew": ("matt",),
    "samuel": ("sam",),
    "samantha": ("sam",),
    "benjamin": ("ben",),
    "jonathan": ("jon",),
    "stephen": ("steve",),
    "steven": ("steve",),
    "timothy": ("tim",),
    "kenneth": ("ken", "kenny"),
    "gregory": ("greg",),
    "jeffrey": ("jeff",),
    "susan": ("sue", "suzy"),
    "deborah": ("debbie", "deb"),
    "rebecca": ("becky",),
    "victoria": ("vicky", "tori"),
    "abigail": ("abby",),
    "andrew": ("andy", "drew"),
    "donald": ("don",),
    "ronald": ("ron",),
    "raymond": ("ray",),
    "lawrence": ("larry",),
    "gerald": ("jerry",),
    "zachary": ("zach",),
    "joshua": ("josh",),
    "pamela": ("pam",),
    "jacqueline": ("jackie",),
    "dorothy": ("dot", "dottie"),
    "judith": ("judy",),
    "frances": ("fran",),
}
SYLLABLES = """al an ar ba be bo bra ca ce cha co da de del di do dra el en er fa fe fer fi fo ga ge gi go gra ha
he hi ho ia ill in ja je jo ka ke ki ko kra la le li lo lu ma me mi mo mu na ne ni no nu ol on or pa pe pi po
ra re ri ro ru sa se si so sta su ta te ti to tra tu va ve vi vo wa we wi ya yo za ze zi zo""".split()
ENDINGS = ("son", "sen", "er", "ez", "ski", "ova", "man", "ton", "ley", "berg", "ard", "ini", "ez", "ian", "")
REAL_CITIES = """new york|los angeles|chicago|houston|phoenix|philadelphia|san antonio|san diego|dallas|austin|
jacksonville|fort worth|columbus|charlotte|indianapolis|san francisco|seattle|denver|washington|boston|el paso|
nashville|detroit|oklahoma city|portland|las vegas|memphis|louisville|baltimore|milwaukee|albuquerque|tucson|
fresno|sacramento|mesa|kansas city|atlanta|omaha|colorado springs|raleigh|miami|long beach|virginia beach|
oakland|minneapolis|tulsa|tampa|arlington|new orleans|wichita|cleveland|bakersfield|aurora|anaheim|honolulu|
santa ana|riverside|corpus christi|lexington|stockton|henderson|saint paul|st. louis|cincinnati|pittsburgh|
greensboro|anchorage|plano|lincoln|orlando|irvine|newark|toledo|durham|chula vista|fort wayne|jersey city|
st. petersburg|laredo|madison|chandler|buffalo|lubbock|scottsdale|reno|glendale|gilbert|winston-salem|
north las vegas|norfolk|chesapeake|garland|irving|hialeah|fremont|boise|richmond|baton rouge|spokane""".replace(
    "\n", ""
).split("|")
CITY_PARTS = ("spring", "oak", "river", "lake", "mill", "green", "fair", "cedar", "maple", "pine", "ash", "clear")
CITY_ENDS = ("field", "ville", "ton", " falls", " park", "wood", " heights", "dale", "view", "port", " city")
DOMAINS: tuple[tuple[str, int], ...] = (
    ("gmail.com", 40),
    ("yahoo.com", 14),
    ("outlook.com", 9),
    ("hotmail.com", 9),
    ("icloud.com", 7),
    ("aol.com", 4),
    ("comcast.net", 3),
    ("proton.me", 2),
    ("mail.com", 2),
    ("work.example.com", 10),
)
AREA_CODES: tuple[int, ...] = (
    201,
    212,
    213,
    305,
    312,
    347,
    404,
    415,
    469,
    503,
    512,
    602,
    617,
    646,
    702,
    713,
    718,
    773,
    805,
    917,
) + (206, 214, 303, 310, 408, 480, 510, 602, 619, 650, 703, 704, 720, 832, 858, 909, 916, 954, 972)


def _vocabulary(common: list[str], rng: random.Random, size: int, offset: float) -> tuple[list[str], list[float]]:
    """The common names first, then made-up rare ones, weighed 1 / (rank + offset): a long Zipf tail."""
    names, seen = list(common), set(common)
    while len(names) < size:
        made = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((1, 2, 2, 3)))) + rng.choice(ENDINGS)
        if len(made) >= 3 and made not in seen:
            seen.add(made)
            names.append(made)
    return names, [1.0 / (rank + offset) for rank in range(len(names))]


def _cities(rng: random.Random, size: int) -> tuple[list[str], list[float]]:
    names, seen = list(REAL_CITIES), set(REAL_CITIES)
    while len(names) < size:
        made = rng.choice(CITY_PARTS) + rng.choice(CITY_ENDS)
        made = made if made not in seen else f"{rng.choice(('north', 'east', 'west', 'south', 'new'))} {made}"
        if made not in seen:
            seen.add(made)
            names.append(made)
    return names, [1.0 / (rank + 3) ** 1.1 for rank in range(len(names))]


def _phone(rng: random.Random) -> str:
    return (
        f"{rng.choice(AREA_CODES)}{rng.randint(2, 9)}{rng.randint(0, 9)}{rng.randint(2, 9)}{rng.randint(0, 9999):04d}"
    )


def _written_phone(digits: str, rng: random.Random) -> str:
    """The ten digits as someone typed them."""
    a, b, c = digits[:3], digits[3:6], digits[6:]
    return rng.choice(
        (f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"{a}.{b}.{c}", f"+1 {a} {b} {c}", f"{a}{b}{c}", f"1{a}{b}{c}")
    )


def _email(first: str, last: str, rng: random.Random, taken: set[str]) -> str:
    """A mailbox made the usual ways from the names, no one else's (a taken one gets a number)."""
    domain = rng.choices([d for d, _ in DOMAINS], [w for _, w in DOMAINS])[0]
    number = str(rng.randint(1, 99)) if rng.random() < 0.4 else ""
    local = rng.choice(
        (f"{first}.{last}", f"{first}{last}", f"{first[0]}{last}", f"{first}_{last}", f"{last}.{first}", f"{first}")
    )
    if rng.random() < 0.1:
        local = "".join(rng.choice(SYLLABLES) for _ in range(3))
    email = f"{local}{number}@{domain}"
    while _mailbox(email) in taken:
        email = f"{local}{rng.randint(1, 9999)}@{domain}"
    taken.add(_mailbox(email))
    return email


def _mailbox(email: str) -> str:
    """Gmail ignores dots (john.smith@ and johnsmith@ are one mailbox): one person's, whatever the provider."""
    local, _, domain = email.partition("@")
    return f"{local.replace('.', '')}@{domain}"


def _typo(name: str, rng: random.Random) -> str:
    if len(name) < 2:
        return name
    i = rng.randrange(len(name))
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    kind = rng.random()
    if kind < 0.35:
        return name[:i] + letter + name[i + 1 :]
    if kind < 0.6:
        return name[:i] + name[i + 1 :]
    if kind < 0.8:
        return name[:i] + letter + name[i:]
    j = min(i, len(name) - 2)
    return name[:j] + name[j + 1] + name[j] + name[j + 2 :]


def _cased(name: str, rng: random.Random) -> str:
    return rng.choice((name.upper(), name.lower(), name.capitalize()))


def _first_copy(first: str, rng: random.Random) -> str | None:
    r = rng.random()
    if r < 0.08:
        return _typo(first, rng)
    if r < 0.12 and NICKNAMES.get(first):
        return rng.choice(NICKNAMES[first])
    if r < 0.15 and len(first) > 4:
        return first[: rng.randint(3, len(first) - 1)]
    if r < 0.16:
        return first[0]
    if r < 0.19:
        return None
    return first


def _last_copy(last: str, rng: random.Random) -> str | None:
    r = rng.random()
    if r < 0.08:
        return _typo(last, rng)
    if r < 0.10 and len(last) > 5:
        return last[: rng.randint(4, len(last) - 1)]
    if r < 0.11:
        return None
    return last


Vocabulary = tuple[list[str], list[float]]
Person = dict[str, str | None]


def _person(rng: random.Random, pick: dict[str, Vocabulary], household: Person | None, taken: set[str]) -> Person:
    # Cumulative weights given once: choices() would otherwise add up a 125,000-name list on every draw at 1M.
    first = rng.choices(pick["first"][0], cum_weights=pick["first"][1])[0]
    last = household["last"] if household else rng.choices(pick["last"][0], cum_weights=pick["last"][1])[0]
    city = household["city"] if household else rng.choices(pick["city"][0], cum_weights=pick["city"][1])[0]
    shared = household is not None and household["phone"] and rng.random() < SHARED_LANDLINE
    phone = household["phone"] if household is not None and shared else (_phone(rng) if rng.random() < 0.8 else None)
    assert first and last
    email = _email(first, last, rng, taken) if rng.random() < 0.85 or phone is None else None
    return {"first": first, "last": last, "city": city if rng.random() < 0.92 else None, "email": email, "phone": phone}


def _record(person: dict[str, str | None], rng: random.Random, copy: bool, taken: set[str]) -> dict[str, str | None]:
    """One row for this person: as they are, or a copy with a few fields changed."""
    first, last = person["first"], person["last"]
    email, phone, city = person["email"], person["phone"], person["city"]
    assert first and last
    if copy:
        first_written, last_written = _first_copy(first, rng), _last_copy(last, rng)
        r = rng.random()
        email = email if r < 0.5 else (_email(first, last, rng, taken) if r < 0.78 else None)
        r = rng.random()
        phone_kept = phone if r < 0.7 else (_phone(rng) if r < 0.78 else None)
        if phone_kept and rng.random() < 0.08:
            i = rng.randrange(6, 10)
            phone_kept = phone_kept[:i] + str((int(phone_kept[i]) + rng.randint(1, 9)) % 10) + phone_kept[i + 1 :]
        phone = phone_kept
        r = rng.random()
        city = city if r < 0.78 else (rng.choice(REAL_CITIES) if r < 0.9 else None)
        if email is None and phone is None:
            phone = person["phone"] or _phone(rng)
        if rng.random() < 0.02:
            first_written, last_written = last_written, first_written
    else:
        first_written, last_written = first, last
    names = [
        _cased(n, rng) if n and rng.random() < 0.15 else (n.capitalize() if n else None)
        for n in (first_written, last_written)
    ]
    return {
        "first_name": names[0],
        "last_name": names[1],
        "email": email,
        "phone": _written_phone(phone, rng) if phone else None,
        "city": city.title() if city and rng.random() < 0.9 else city,
    }


def generate(rows: int, seed: int = 15) -> pl.DataFrame:
    """`rows` records (row, person_id, first_name, last_name, email, phone, city) in a shuffled order."""
    rng = random.Random(seed)
    people_count = int(rows / (1 + DUPLICATED_SHARE * sum(n * p for n, p in EXTRA_RECORDS)))
    pick = {
        "first": _vocabulary(COMMON_FIRST, rng, max(2_000, people_count // 150), 3.0),
        "last": _vocabulary(COMMON_SURNAMES, rng, max(5_000, people_count // 8), 25.0),
        "city": _cities(rng, min(max(300, people_count // 400), 800)),  # the made-up names run out near 890
    }
    pick = {key: (names, list(accumulate(weights))) for key, (names, weights) in pick.items()}
    people: list[Person] = []
    taken: set[str] = set()
    for _ in range(people_count):
        household = None
        if people and rng.random() < HOUSEHOLD_SHARE:
            other = people[rng.randrange(len(people))]
            household = {"last": other["last"], "city": other["city"], "phone": other["phone"]}
        people.append(_person(rng, pick, household, taken))
    records: list[dict[str, object]] = []
    for person_id, person in enumerate(people):
        records.append({"person_id": person_id, **_record(person, rng, False, taken)})
        if rng.random() < DUPLICATED_SHARE:
            extra = rng.choices([n for n, _ in EXTRA_RECORDS], [p for _, p in EXTRA_RECORDS])[0]
            records.extend({"person_id": person_id, **_record(person, rng, True, taken)} for _ in range(extra))
    rng.shuffle(records)
    table = pl.DataFrame(records[:rows], schema_overrides={"person_id": pl.Int64})
    return table.with_row_index("row")


def _row_contacts(con: duckdb.DuckDBPyConnection, table: pl.DataFrame) -> pl.DataFrame:
    """Each row's contact after the import: by its email (rows with one are keyed by it), else its phone."""
    keys = table.select(
        "row",
        email=normalize_emails(table["email"])["email"],
        phone=normalize_phones(table["phone"])["phone"],
    )
    contacts = con.sql("SELECT contact_id, lower(email) AS email, phone FROM contacts").pl()
    by_email = keys.join(contacts.filter(pl.col("email").is_not_null()).select("email", "contact_id"), on="email")
    by_phone = keys.filter(pl.col("email").is_null()).join(
        contacts.filter(pl.col("email").is_null()).select("phone", "contact_id"), on="phone"
    )
    return pl.concat([by_email.select("row", "contact_id"), by_phone.select("row", "contact_id")])


def build(rows: int, path: Path, seed: int = 15) -> dict[str, float]:
    """Generate, import into a new database at `path`, and write the truth and contacts beside it."""
    started = time.perf_counter()
    table = generate(rows, seed)
    generated = time.perf_counter()
    csv = table.drop("row", "person_id").write_csv().encode()
    path.unlink(missing_ok=True)
    con = open_database(path)
    bootstrap_admin(con)
    plan = plan_import(con, read_table("noisy.csv", csv), ImportOptions(mode="create", mapping=MAPPING))
    commit_import(con, plan, ACTOR)
    imported = time.perf_counter()
    rows_to_contacts = _row_contacts(con, table)
    truth = table.select("row", "person_id").join(rows_to_contacts, on="row", how="left")
    truth.write_parquet(path.with_suffix(".truth.parquet"))
    con.sql("SELECT contact_id, first_name, last_name, email, phone, city FROM contacts").pl().write_parquet(
        path.with_suffix(".contacts.parquet")
    )
    contacts = scalar(con, "SELECT count(*) FROM contacts")
    con.execute("CHECKPOINT")
    con.close()
    return {
        "rows": rows,
        "contacts": contacts,
        "rows_without_contact": truth["contact_id"].null_count(),
        "generate_s": generated - started,
        "import_s": imported - generated,
    }
