"""Distinct people of every country: names, origin, phones, addresses, work and emails, with unknowns left empty."""

from functools import cache

import numpy as np
import polars as pl

from core.contacts.fields import CHANNELS, SOURCES
from core.demo.draw import (
    choose,
    digits,
    fill_template,
    format_digits,
    keep,
    lit,
    one_of,
    pick,
    sample,
)
from core.demo.reference import (
    Country,
    company_words,
    countries,
    email_patterns,
    genders,
    job_titles,
    messaging,
    name_pools,
    slug,
    source_mix,
)

ANONYMOUS_WEB_SHARE = 0.45


@cache
def _company_pool(code: str) -> tuple[list[str], list[str], np.ndarray]:
    """About 150 companies of a country: names, web domains, and sizes (a few big, many small)."""
    country = next(entry for entry in countries() if entry.code == code)
    rng = np.random.default_rng(sum(map(ord, code)))
    last_names = name_pools(country.locale)[2].latin
    names, domains = [], []
    for _ in range(150):
        if rng.random() < 0.6:
            first, second = (words[rng.integers(len(words))] for words in company_words())
            names.append(f"{first} {second}")
            domains.append(f"{slug(first + second)}.{'com' if rng.random() < 0.7 else country.tld}")
        else:
            last = last_names[rng.integers(len(last_names))]
            legal = country.legal_forms[rng.integers(len(country.legal_forms))]
            names.append(f"{last} {legal}")
            domains.append(f"{slug(last)}-{slug(legal)}.{country.tld}")
    sizes = 1.0 / (np.arange(150) + 3.0)
    return names, domains, sizes / sizes.sum()


def _names(rng: np.random.Generator, country: Country, size: int) -> pl.DataFrame:
    """Gender, first and last name (native script shown for 60% of Japanese names) and their slugs."""
    female, male, last = name_pools(country.locale)
    gender_index = choose(rng, list(genders().values()), size)
    use_female = (gender_index == 0) | ((gender_index >= 2) & (rng.random(size) < 0.5))
    female_index = rng.choice(len(female.native), size=size, p=female.weights)
    male_index = rng.choice(len(male.native), size=size, p=male.weights)
    last_index = rng.choice(len(last.native), size=size, p=last.weights)
    native = rng.random(size) < (0.6 if country.locale == "ja_JP" else 0.0)
    first_shown = pl.Series(female.native + male.native)
    first_latin = pl.Series(female.latin + male.latin)
    first_slug = pl.Series(female.slug + male.slug)
    first_index = np.where(use_female, female_index, len(female.native) + male_index)
    return pl.DataFrame(
        {
            "gender": pick(list(genders()), gender_index),
            "first_name": keep(first_shown.gather(first_index), native),
            "_first_latin": first_latin.gather(first_index),
            "_first_slug": first_slug.gather(first_index),
            "last_name": keep(pick(last.native, last_index), native),
            "_last_latin": pick(last.latin, last_index),
            "_last_slug": pick(last.slug, last_index),
        }
    ).with_columns(
        first_name=pl.coalesce("first_name", "_first_latin"), last_name=pl.coalesce("last_name", "_last_latin")
    )


def _origins(rng: np.random.Generator, country: Country, size: int) -> pl.DataFrame:
    """Source, channel, whether the visitor stayed anonymous, and whether email and phone are known."""
    mix = source_mix()
    source = choose(rng, [mix.weights[name] for name in SOURCES], size)
    channel = np.full(size, -1)
    for number, name in enumerate(SOURCES):
        rows = np.flatnonzero(source == number)
        options = messaging()[country.messaging] if name == "inbox" else mix.channels[name]
        codes = [CHANNELS.index(option) if option else -1 for option in options]
        channel[rows] = np.asarray(codes)[choose(rng, list(options.values()), len(rows))]
    anonymous = (source == SOURCES.index("web chat")) & (rng.random(size) < ANONYMOUS_WEB_SHARE)
    # A message from WhatsApp or SMS comes with a number; an email comes with an address.
    by_phone = np.isin(channel, [CHANNELS.index("WhatsApp"), CHANNELS.index("SMS")])
    by_email = channel == CHANNELS.index("email")
    has_email = ~anonymous & ((rng.random(size) < np.asarray(mix.known["email"])[source]) | by_email)
    has_phone = ~anonymous & ((rng.random(size) < np.asarray(mix.known["phone"])[source]) | by_phone)
    return pl.DataFrame(
        {
            "source": pick(SOURCES, source),
            "channel": keep(pick(CHANNELS, np.maximum(channel, 0)), channel >= 0),
            "name_generated": anonymous,
            "_source_index": source,
            "_has_email": has_email,
            "_has_phone": has_phone,
        }
    )


def _phones(rng: np.random.Generator, country: Country, size: int) -> pl.DataFrame:
    """Mobile numbers, unique within the country, in E.164 and in two human formats each."""
    space = 10**country.subscriber_digits - country.subscriber_floor
    # An affine map of a permutation is a bijection, so no two people share a number.
    order = rng.permutation(size).astype(np.int64)
    subscriber = country.subscriber_floor + (order * 7_919_113 + int(rng.integers(space))) % space
    prefix = pick(country.mobile_prefixes, rng.integers(len(country.mobile_prefixes), size=size))
    national = prefix + digits(subscriber, country.subscriber_digits)
    formats = len(country.phone_formats)
    style = rng.integers(formats, size=size)
    other = (style + 1 + rng.integers(formats - 1, size=size)) % formats
    layouts = [format_digits(pl.col("national"), layout) for layout in country.phone_formats]
    return pl.DataFrame({"national": national, "style": style, "other": other}).select(
        phone=pl.lit("+" + country.calling_code) + pl.col("national"),
        phone_raw=one_of(pl.col("style"), layouts),
        _phone_raw_other=one_of(pl.col("other"), layouts),
    )


def _places(rng: np.random.Generator, country: Country, size: int) -> pl.DataFrame:
    """City, state, time zone, street address and postal code."""
    cities = country.cities
    city = choose(rng, [entry.weight for entry in cities], size)
    street = pick(country.streets, rng.integers(len(country.streets), size=size))
    house = digits(rng.integers(1, 240, size=size), 1)
    block = digits(rng.integers(1, 30, size=size), 1)
    postal = [pick([entry.postal_prefix for entry in cities], city)]
    for symbol in country.postal_format:
        if symbol == "#":
            postal.append(pick("0123456789", rng.integers(10, size=size)))
        elif symbol == "?":
            postal.append(pick("ABDEFGHJLNPQRSTUWXYZ", rng.integers(20, size=size)))
        else:
            postal.append(pl.Series([symbol]).gather(np.zeros(size, dtype=np.int64)))
    frame = pl.DataFrame({"street": street, "n": house, "m": block})
    return pl.DataFrame(
        {
            "city": pick([entry.city for entry in cities], city),
            "state": pick([entry.state for entry in cities], city),
            "time_zone": pick([entry.time_zone for entry in cities], city),
            "address": frame.select(
                fill_template(country.address_format, {k: pl.col(k) for k in frame.columns})
            ).to_series(),
            "postal_code": pl.DataFrame({str(n): part for n, part in enumerate(postal)})
            .select(pl.concat_str(pl.all()))
            .to_series(),
        }
    )


def _work(rng: np.random.Generator, country: Country, size: int) -> pl.DataFrame:
    """Company (from a pool, so colleagues share one), its web domain, and a job title."""
    names, domains, sizes = _company_pool(country.code)
    company = rng.choice(len(names), size=size, p=sizes)
    titles = job_titles()
    return pl.DataFrame(
        {
            "company": pick(names, company),
            "_company_domain": pick(domains, company),
            "job_title": pick(titles, rng.integers(len(titles), size=size)),
        }
    )


def _emails(rng: np.random.Generator, country: Country, people: pl.DataFrame) -> pl.DataFrame:
    """A personal email from the name, or a work one at the company's domain; plus a second address."""
    size = people.height
    patterns = email_patterns()
    pattern = choose(rng, [weight for _, weight in patterns], size)
    other = (pattern + 1 + rng.integers(len(patterns) - 1, size=size)) % len(patterns)
    domains = country.email_domains
    frame = people.select(
        f="_first_slug",
        l="_last_slug",
        f0=pl.col("_first_slug").str.head(1),
        l0=pl.col("_last_slug").str.head(1),
        yyyy=pl.col("_birth_year").cast(pl.String),
        domain=sample(rng, domains, size),
        other_domain=sample(rng, domains, size),
        work=pl.col("_company_domain"),
        at_work=pl.col("company").is_not_null() & lit(rng.random(size) < 0.4),
        dd=digits(rng.integers(10, 100, size=size), 2),
        pattern=pl.Series(pattern),
        other=pl.Series(other),
    )
    locals_ = [
        fill_template(local, {k: pl.col(k) for k in ("f", "l", "f0", "l0", "dd", "yyyy")}) for local, _ in patterns
    ]
    work_local = pl.when(pl.col("pattern") % 2 == 0).then(locals_[0]).otherwise(locals_[2])
    return frame.select(
        email=pl.when("at_work")
        .then(work_local + "@" + pl.col("work"))
        .otherwise(one_of(pl.col("pattern"), locals_) + "@" + pl.col("domain")),
        _email_other=one_of(pl.col("other"), locals_) + "@" + pl.col("other_domain"),
    )


def _country_people(rng: np.random.Generator, country: Country, size: int) -> pl.DataFrame:
    """Everyone from one country: identity, origin and profile, with nulls where it is unknown."""
    origin = _origins(rng, country, size)
    birthday = pl.Series(rng.integers(-7_300, 13_150, size=size), dtype=pl.Int32).cast(pl.Date)  # 1950 to 2005
    # Whether the company is known decides between a work and a personal email, so it comes first.
    employed = ~origin["name_generated"].to_numpy()
    employed &= rng.random(size) < np.asarray(source_mix().known["company"])[origin["_source_index"].to_numpy()]
    people = pl.concat(
        [
            _names(rng, country, size),
            origin,
            _phones(rng, country, size),
            _places(rng, country, size),
            _work(rng, country, size),
        ],
        how="horizontal",
    ).with_columns(
        birthday=birthday,
        _birth_year=birthday.dt.year(),
        company=pl.when(lit(employed)).then("company"),
        country=pl.lit(country.name),
        language=pick([country.language, "en-US"], (rng.random(size) < 0.08).astype(np.int64)),
    )
    people = pl.concat([people, _emails(rng, country, people)], how="horizontal")
    return people.with_columns(**_unknowns(rng, people))


def _unknowns(rng: np.random.Generator, people: pl.DataFrame) -> dict[str, pl.Series | pl.Expr]:
    """Blank out what a contact from this source would not have told us (anonymous visitors: only geo-IP)."""
    size = people.height
    source = people["_source_index"].to_numpy()
    named = ~people["name_generated"].to_numpy()
    known_shares = source_mix().known

    def known(field: str) -> np.ndarray:
        return named & (rng.random(size) < np.asarray(known_shares[field])[source])

    address, city = known("address"), known("city")
    company = pl.col("company").is_not_null()
    kept = {
        "birthday": known("birthday"),
        "gender": known("gender"),
        "address": address,
        "postal_code": address,
        "city": address | ~named | city,
        "state": address | ~named | city,
        "time_zone": ~named | known("time_zone"),
        "language": ~named | known("language"),
    }
    return {name: keep(people[name], mask) for name, mask in kept.items()} | {
        "job_title": pl.when(company & lit(rng.random(size) < 0.8)).then("job_title"),
        "website": pl.when(company & lit(rng.random(size) < 0.5)).then("https://www." + pl.col("_company_domain")),
        "email": pl.when("_has_email").then("email"),
        "phone": pl.when("_has_phone").then("phone"),
        "phone_raw": pl.when("_has_phone").then("phone_raw"),
        # Instagram and Telegram profiles often carry a first name only.
        "last_name": pl.when(pl.col("channel").is_in(["Instagram", "Telegram"]) & lit(rng.random(size) < 0.3))
        .then(None)
        .otherwise("last_name"),
    }


def distinct_people(rng: np.random.Generator, size: int, first_person: int) -> pl.DataFrame:
    """Distinct people from every country, each with a person_id and unique email and phone."""
    everywhere = countries()
    country = choose(rng, [entry.weight for entry in everywhere], size)
    sizes = np.bincount(country, minlength=len(everywhere))
    blocks = [_country_people(rng, entry, int(sizes[n])) for n, entry in enumerate(everywhere) if sizes[n]]
    people = pl.concat(blocks, how="vertical_relaxed").rechunk()
    customer = rng.random(people.height) < np.where(people["source"].is_in(["import", "API"]).to_numpy(), 0.3, 0.18)
    numbers = (rng.permutation(people.height).astype(np.int64) * 7_919 + 1_000_003) % 90_000_000 + 10_000_000
    people = people.with_columns(
        person_id=pl.int_range(pl.len(), dtype=pl.Int64) + first_person,
        customer_number=keep("CUS-" + digits(numbers, 8), customer & ~people["name_generated"].to_numpy()),
        _kind=pl.lit(None, pl.String),
    )
    return _unique_emails(people)


def _unique_emails(people: pl.DataFrame) -> pl.DataFrame:
    """Make sure two different people never share an address (Gmail dots ignored), by suffixing the later one."""
    stacked = pl.concat(
        [
            people.select("person_id", email="email", suffix=pl.lit("_")),
            people.select("person_id", email="_email_other", suffix=pl.lit("_2_")),
        ]
    )
    # Generated addresses are lower case; dropping every dot is stricter than Gmail, and cheap.
    key = pl.col("email").str.replace_all(".", "", literal=True)
    suffix = pl.col("suffix") + pl.col("person_id").cast(pl.String) + "@"
    fixed = stacked.select(
        pl.when(pl.col("email").is_not_null() & ~key.is_first_distinct())
        .then(pl.col("email").str.replace("@", suffix, literal=True))
        .otherwise("email")
    ).to_series()
    return people.with_columns(email=fixed[: people.height], _email_other=fixed[people.height :])
