"""A contact's life in the workspace: ID, times, lead stage, owner, tags, subscriptions, sender ID, web visit."""

from functools import cache
from itertools import product

import numpy as np
import polars as pl
from polars.expr.whenthen import ChainedThen, Then

from core.demo.draw import MICROS_PER_DAY, between, choose, digits, keep, micros, pick, random_text, timestamps
from core.demo.reference import Visit, owners, stage_weights, tags, traffic, web_clients

HISTORY_DAYS = 3 * 365
UNASSIGNED_SHARE = 0.25
TAG_COUNTS = (0.35, 0.35, 0.2, 0.1)  # how many people have zero, one, two or three tags
BRAND_SITE = "https://www.brightwave.io"
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _stage_weights(stages: list[str], column: int) -> list[float]:
    """Weights of the workspace's stages for people without (0) or with (1) a customer number."""
    return [stage_weights().get(stage, (0.05, 0.05))[column] for stage in stages]


def add_lifecycle(rng: np.random.Generator, people: pl.DataFrame, stages: list[str], now: int) -> pl.DataFrame:
    """IDs, times, lead stage, owner, tags, subscriptions and the blocked few; sorted by contact ID."""
    size = people.height
    created = now - (HISTORY_DAYS * MICROS_PER_DAY * rng.random(size) ** 1.6).astype(np.int64)
    updated = np.where(rng.random(size) < 0.65, between(rng, created, np.full(size, now), 2.0), created)
    blocked = rng.random(size) < 0.03
    blocked_on = between(rng, created, np.full(size, now))
    customer = people["customer_number"].is_not_null().to_numpy()
    plain = choose(rng, _stage_weights(stages, 0), size)
    customers = choose(rng, _stage_weights(stages, 1) if sum(_stage_weights(stages, 1)) else [1.0], size)
    anonymous = people["name_generated"].to_numpy()
    stage = np.where(customer, customers, np.where(anonymous & (rng.random(size) < 0.85), 0, plain))
    team = owners()
    owner = choose(rng, [entry.weight for entry in team], size)
    unassigned = rng.random(size) < np.where(anonymous, 0.6, UNASSIGNED_SHARE)
    return (
        people.with_columns(
            contact_id=random_text(rng, size, 16),
            created_on=timestamps(created),
            last_updated=timestamps(np.where(blocked, np.maximum(updated, blocked_on), updated)),
            blocked=pl.Series(blocked),
            blocked_on=keep(timestamps(blocked_on), blocked),
            lead_stage=pick(stages, stage),
            owner_id=keep(pick([entry.owner_id for entry in team], owner), ~unassigned),
            tags=_tags(rng, size),
            email_subscription=_subscriptions(rng, people["email"].is_not_null().to_numpy(), 0.5, 0.12),
            sms_subscription=_subscriptions(rng, people["phone"].is_not_null().to_numpy(), 0.35, 0.1),
            social_id=_social_ids(rng, people),
        )
        .with_columns(**_web_visit(rng, people))
        .sort("contact_id")
    )


@cache
def _tag_lists() -> pl.Series:
    """Every tag list three draws and a count can give, at index ((first * T + second) * T + third) * 4 + count."""
    names = list(tags())
    lists: list[list[str]] = []
    for first, second, third in product(range(len(names)), repeat=3):
        drawn = list(dict.fromkeys(names[index] for index in (first, second, third)))
        lists.extend(drawn[:count] for count in range(len(TAG_COUNTS)))
    return pl.Series(lists, dtype=pl.List(pl.String))


def _tags(rng: np.random.Generator, size: int) -> pl.Series:
    """Zero to three distinct marketing tags each, gathered from a precomputed pool of lists."""
    weights, count = list(tags().values()), len(tags())
    first, second, third = (choose(rng, weights, size) for _ in range(3))
    index = ((first * count + second) * count + third) * len(TAG_COUNTS) + choose(rng, TAG_COUNTS, size)
    return _tag_lists().gather(index)


def _subscriptions(
    rng: np.random.Generator, reachable: np.ndarray, subscribed: float, unsubscribed: float
) -> pl.Series:
    """Subscribed, unsubscribed or not set; 'not set' for people without the address or number."""
    state = choose(rng, [subscribed, unsubscribed, 1 - subscribed - unsubscribed], len(reachable))
    return pick(("subscribed", "unsubscribed", "not set"), np.where(reachable, state, 2))


def _social_ids(rng: np.random.Generator, people: pl.DataFrame) -> pl.Series:
    """The sender ID each messaging channel gives inbox contacts (a phone number for WhatsApp and SMS)."""
    rows = np.flatnonzero((people["source"] == "inbox").to_numpy())
    inbox, size = people[rows].select("channel", "phone", "email"), len(rows)
    number = pl.lit(digits(rng.integers(10**15, 10**16, size=size), 16))
    formats = {
        "WhatsApp": pl.col("phone").str.slice(1),
        "SMS": pl.col("phone"),
        "email": pl.col("email"),
        "Facebook": number,
        "Instagram": pl.lit("17") + number.str.slice(0, 15),
        "Telegram": number.str.slice(0, 10),
        "LINE": "U" + pl.lit(random_text(rng, size, 32)),
        "WeChat": "o" + pl.lit(random_text(rng, size, 27, BASE62)),
    }
    chained: Then | ChainedThen = pl.when(pl.lit(False)).then(None)
    for channel, value in formats.items():
        chained = chained.when(pl.col("channel") == channel).then(value)
    found = inbox.select(chained).to_series()
    return pl.repeat(None, people.height, dtype=pl.String, eager=True).scatter(rows, found).alias("social_id")


def _web_visit(rng: np.random.Generator, people: pl.DataFrame) -> dict[str, pl.Series]:
    """Browser, device, IP and first visit with its campaign: for web chat, web channels and a few others."""
    size = people.height
    web = ((people["channel"] == "web").fill_null(False) | (people["source"] == "web chat")).to_numpy()
    web |= rng.random(size) < 0.05
    clients, visits = web_clients(), traffic()
    client = choose(rng, [entry.weight for entry in clients], size)
    visit = choose(rng, [entry.weight for entry in visits], size)
    # Public unicast IPv4: no 10/8, loopback, multicast or reserved ranges.
    octets = [rng.integers(low, high, size=size) for low, high in ((11, 224), (0, 256), (0, 256), (1, 255))]
    octets[0] = np.where(octets[0] == 127, 128, octets[0])
    ip = (
        pl.DataFrame({str(n): digits(o, 1) for n, o in enumerate(octets)})
        .select(pl.concat_str(pl.all(), separator="."))
        .to_series()
    )
    urls = [_landing_url(entry) for entry in visits]
    columns = {
        "device": pick([entry.device for entry in clients], client),
        "os": pick([entry.os for entry in clients], client),
        "browser": pick([entry.browser for entry in clients], client),
        "ip_address": ip,
        "first_visit_url": pick(urls, visit),
        "referrer": pick([entry.referrer for entry in visits], visit),
        "utm_source": pick([entry.utm_source for entry in visits], visit),
        "utm_medium": pick([entry.utm_medium for entry in visits], visit),
        "utm_campaign": pick([entry.utm_campaign for entry in visits], visit),
    }
    return {name: keep(values, web) for name, values in columns.items()}


def _landing_url(visit: Visit) -> str:
    """The first page a visitor saw, its campaign in utm parameters."""
    if not visit.utm_source:
        return BRAND_SITE + visit.landing_page
    campaign = f"utm_source={visit.utm_source}&utm_medium={visit.utm_medium}"
    campaign += f"&utm_campaign={visit.utm_campaign or 'none'}"
    return f"{BRAND_SITE}{visit.landing_page}?{campaign}"


def add_last_contact(
    contacts: pl.DataFrame, conversations: pl.DataFrame, rng: np.random.Generator, now: int
) -> pl.DataFrame:
    """Last contacted is the latest message; last seen adds later visits by web visitors."""
    latest = conversations.group_by("contact_id").agg(last_contacted=pl.col("last_message_at").max())
    joined = contacts.join(latest, on="contact_id", how="left", maintain_order="left")
    visit = timestamps(between(rng, micros(joined["created_on"]), np.full(joined.height, now), 0.7))
    return joined.with_columns(
        last_seen=pl.when(pl.col("browser").is_not_null())
        .then(pl.max_horizontal("last_contacted", pl.lit(visit)))
        .when(pl.col("source") == "inbox")
        .then("last_contacted")
    )
