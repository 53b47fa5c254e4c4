"""Labelled duplicates: extra contacts for people already present, changed the way real duplicates are."""

import numpy as np
import polars as pl

from core.demo.draw import lit, pick, sample
from core.demo.people import distinct_people

DUPLICATE_SHARE = 0.09
# How each kind of duplicate is made, and its share of the duplicates.
DUPLICATE_KINDS = {
    "browser": 0.22,
    "email_variant": 0.2,
    "phone_format": 0.2,
    "typo": 0.18,
    "name_address": 0.12,
    "identity": 0.08,
}
# Where each kind of duplicate comes from.
COPY_SOURCES = {
    "browser": {"web chat": 1.0},
    "email_variant": {"import": 0.5, "manual": 0.2, "API": 0.3},
    "phone_format": {"inbox": 0.6, "import": 0.4},
    "typo": {"import": 0.5, "manual": 0.3, "API": 0.2},
    "name_address": {"import": 0.7, "manual": 0.3},
    "identity": {"API": 0.6, "import": 0.4},
}


def people_with_duplicates(rng: np.random.Generator, total: int, first_person: int) -> pl.DataFrame:
    """`total` contacts: distinct people plus about 9% extra copies of some of them, `_kind` naming the copies."""
    extra = round(total * DUPLICATE_SHARE) if total >= 10 else 0
    people = distinct_people(rng, total - extra, first_person)
    counts = np.floor(np.array(list(DUPLICATE_KINDS.values())) * extra).astype(int)
    counts[0] += extra - counts.sum()
    copies = [_copies(rng, people, kind, int(count)) for kind, count in zip(DUPLICATE_KINDS, counts, strict=True)]
    everyone = pl.concat([people, *copies], how="vertical_relaxed")
    # Kinds that found no eligible source rows leave a shortfall; fill it with more distinct people.
    missing = total - everyone.height
    if missing:
        more = distinct_people(rng, missing, first_person + people.height)
        everyone = pl.concat([everyone, more], how="vertical_relaxed")
    # The helpers for names, emails and phones are spent; _kind stays to count the duplicates.
    return everyone.drop(column for column in everyone.columns if column.startswith("_") and column != "_kind")


def _eligible(people: pl.DataFrame, kind: str) -> np.ndarray:
    """Rows of people a duplicate of this kind can be made from."""
    named = ~pl.col("name_generated")
    condition = {
        "browser": named & (pl.col("source") == "web chat") & pl.col("email").is_not_null(),
        "email_variant": pl.col("email").is_not_null(),
        "phone_format": pl.col("phone").is_not_null(),
        "typo": named
        & pl.col("first_name").str.contains(r"^[A-Za-z]\w{3,}$")
        & pl.col("last_name").is_not_null()
        & (pl.col("email").is_not_null() | pl.col("phone").is_not_null()),
        "name_address": named
        & pl.col("last_name").is_not_null()
        & (pl.col("address").is_not_null() | (pl.col("city").is_not_null() & pl.col("birthday").is_not_null())),
        "identity": pl.col("customer_number").is_not_null(),
    }[kind]
    return people.select(pl.arg_where(condition.fill_null(False))).to_series().to_numpy()


def _copies(rng: np.random.Generator, people: pl.DataFrame, kind: str, size: int) -> pl.DataFrame:
    """`size` extra contacts for people already present, changed the way this kind of duplicate is."""
    pool = _eligible(people, kind)
    if size == 0 or len(pool) == 0:
        return people.clear()
    rows = rng.choice(pool, size=size)
    source = sample(rng, COPY_SOURCES[kind], size)
    changes = {"source": pl.lit(source), "name_generated": pl.lit(False)} | _copy_changes(rng, kind, size)
    if kind != "identity":
        changes["customer_number"] = None
    by_app, by_mail = lit(rng.random(size) < 0.6), lit(rng.random(size) < 0.5)
    channel = (
        pl.when(pl.col("source") == "web chat")
        .then(pl.lit("web"))
        .when(pl.col("source") == "inbox")
        .then(pl.when(by_app).then(pl.lit("WhatsApp")).otherwise(pl.lit("SMS")))
        .when(pl.col("email").is_not_null() & by_mail)
        .then(pl.lit("email"))
    )
    return (
        people[rows]
        .with_columns(
            _kind=pl.lit(kind),
            **{key: pl.lit(None, people.schema[key]) if value is None else value for key, value in changes.items()},
        )
        .with_columns(channel=channel)
    )


def _copy_changes(rng: np.random.Generator, kind: str, size: int) -> dict[str, pl.Expr | None]:
    """What differs in a duplicate of this kind (None: left empty)."""
    sometimes, often = lit(rng.random(size) < 0.3), lit(rng.random(size) < 0.6)
    keep_phone: dict[str, pl.Expr | None] = {
        "phone": pl.when(sometimes).then("phone"),
        "phone_raw": pl.when(sometimes).then("phone_raw"),
    }
    if kind == "browser":
        return keep_phone
    if kind == "email_variant":
        shout, where = lit(rng.random(size) < 0.3), lit(rng.random(size))
        return keep_phone | {"email": _email_variant(pl.col("email"), often, shout, where)}
    if kind == "phone_format":
        return {"phone_raw": pl.col("_phone_raw_other"), "email": pl.when(sometimes).then("email")}
    if kind == "typo":
        return _typo_changes(rng, size)
    # Matched only by name and address, or by the customer number: another email, no phone.
    return {"email": pl.when(often).then("_email_other"), "phone": None, "phone_raw": None}


def _email_variant(email: pl.Expr, dots: pl.Expr, shout: pl.Expr, where: pl.Expr) -> pl.Expr:
    """The same mailbox written differently: Gmail dots moved, or letters in another case."""
    local, domain = email.str.extract(r"^([^@]*)@"), email.str.extract(r"@(.*)$")
    # A dot goes between letters, never among the digits of "anna1990".
    letters = local.str.extract(r"^([a-z]*)").str.len_chars()
    position = (where * (letters - 1)).cast(pl.Int64) + 1
    undotted = pl.when(local.str.contains(".", literal=True)).then(local.str.replace_all(".", "", literal=True))
    dotted = undotted.when(letters >= 2).then(local.str.slice(0, position) + "." + local.str.slice(position))
    titled = local.str.to_titlecase() + "@" + domain.str.slice(0, 1).str.to_uppercase() + domain.str.slice(1)
    recased = pl.when(shout).then(email.str.to_uppercase()).otherwise(titled)
    gmail = domain.is_in(["gmail.com", "googlemail.com"])
    return pl.when(gmail & dots & dotted.is_not_null()).then(dotted + "@" + domain).otherwise(recased)


def _typo_changes(rng: np.random.Generator, size: int) -> dict[str, pl.Expr | None]:
    """A typo in the first name (70%) or the last name, keeping the email or phone that links them."""
    in_first = lit(rng.random(size) < 0.7)
    kind, letter = lit(rng.integers(3, size=size)), pick("aeiourlnst", rng.integers(10, size=size))

    def slip(column: str) -> pl.Expr:
        length = pl.col(column).str.len_chars()
        position = (lit(rng.random(size)) * (length - 2)).cast(pl.Int64) + 1
        return pl.when(length >= 3).then(_typo(pl.col(column), position, kind, pl.lit(letter))).otherwise(column)

    return {
        "first_name": pl.when(in_first).then(slip("first_name")).otherwise("first_name"),
        "last_name": pl.when(in_first).then("last_name").otherwise(slip("last_name")),
    }


def _typo(name: pl.Expr, position: pl.Expr, kind: pl.Expr, letter: pl.Expr) -> pl.Expr:
    """One slip of the keyboard: two letters swapped, one dropped, or one replaced."""
    head, here, after = name.str.slice(0, position), name.str.slice(position, 1), name.str.slice(position + 1, 1)
    tail = name.str.slice(position + 2)
    dropped = head + name.str.slice(position + 1)
    swapped = pl.when(here != after).then(head + after + here + tail).otherwise(dropped)
    replaced = pl.when(here != letter).then(head + letter + name.str.slice(position + 1)).otherwise(dropped)
    return pl.when(kind == 0).then(swapped).when(kind == 1).then(dropped).otherwise(replaced)
