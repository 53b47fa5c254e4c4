"""The dashboard's figures: SQL aggregates over the contacts that are not blocked (the "All contacts" segment).

Every function returns counts, never contacts, so a chart holds a few hundred numbers at most whatever the
size of the database. Each figure counts what its drill-down filter (core.dashboard.drill) selects, so a
click on a bar opens a list with the same number of contacts.
"""

from datetime import date, datetime, timedelta
from typing import Literal

import duckdb
import polars as pl
from pydantic import BaseModel

from core.contacts.activity import now
from core.contacts.channels import KINDS
from core.contacts.custom_values import value_column
from core.dashboard.countries import calling_code_countries
from core.dashboard.periods import GRAINS, Grain, week_start
from core.db import frame, rows, scalar
from core.db.dialect import dialect
from core.duplicates.store import duplicate_groups, last_run
from core.views.filters import FilterField, filter_fields

Breakdown = Literal["source", "channel"]
BREAKDOWNS: dict[Breakdown, str] = {"source": "Source", "channel": "Channel"}
IN_VIEW = "NOT c.blocked"  # the dashboard counts the All contacts segment; blocked contacts have their own figure
NONE_LABEL = "(none)"


class Kpis(BaseModel):
    """The headline numbers: contacts, blocked, new this week against last week, reachable by email or phone."""

    total: int
    blocked: int
    new_this_week: int
    new_last_week: int
    with_email: int
    with_phone: int

    @property
    def email_share(self) -> float:
        return self.with_email / self.total if self.total else 0.0

    @property
    def phone_share(self) -> float:
        return self.with_phone / self.total if self.total else 0.0


def kpis(con: duckdb.DuckDBPyConnection, today: date | None = None) -> Kpis:
    """Totals, new contacts this week (from Monday) and last week, and how many have an email or a phone (any of
    theirs: the same test as the completeness bars and their list filters)."""
    return kpis_and_completeness(con, today)[0]


def kpis_and_completeness(con: duckdb.DuckDBPyConnection, today: date | None = None) -> tuple[Kpis, pl.DataFrame]:
    """The headline numbers and the field completeness (field_completeness) from one scan of the contacts and one
    of the custom values: what the page shows, without scanning the contacts once for each."""
    counts = _contact_counts(con, week_start(today or now().date()))
    found = Kpis(**{name: counts[name] for name in Kpis.model_fields})
    return found, _completeness(con, counts)


def contacts_over_time(
    con: duckdb.DuckDBPyConnection, start: date, end: date, grain: Grain = "week", by: Breakdown = "source"
) -> pl.DataFrame:
    """Contacts created per day, week or month between two days (inclusive), split by source or channel:
    period (its first day), value ('(none)' for no channel) and contacts."""
    if grain not in GRAINS or by not in BREAKDOWNS:
        raise ValueError(f"grain {grain!r} or breakdown {by!r} unknown")
    return frame(
        con,
        f"""
        SELECT CAST(date_trunc('{grain}', c.created_on) AS DATE) AS period,
               coalesce(nullif(c.{by}, ''), '{NONE_LABEL}') AS value, count(*) AS contacts
        FROM contacts c
        WHERE {IN_VIEW} AND CAST(c.created_on AS DATE) BETWEEN $start AND $end
        GROUP BY period, value ORDER BY period, value
        """,
        {"start": start, "end": end},
    )


def created_range(con: duckdb.DuckDBPyConnection) -> tuple[date, date] | None:
    """The first and last day a contact in view was created on (None with no contacts)."""
    first, last = rows(con, f"SELECT min(c.created_on), max(c.created_on) FROM contacts c WHERE {IN_VIEW}")[0]
    return None if first is None else (first.date(), last.date())


# The breakdowns of the contacts in view by lead stage, owner, each subscription and country (field, else the phone's
# calling-code prefix): one scan with grouping sets. Each was a scan of its own: at 1,000,000 on PostgreSQL the four
# took 2.1 s, the one 1.2 s. The few hundred counts are joined to stage and owner names in Polars.
_COUNTRY = "nullif(c.country, '')"
_PREFIX = f"CASE WHEN {_COUNTRY} IS NULL AND starts_with(c.phone, '+') THEN substr(c.phone, 2, 3) END"
_BY = {"lead_stage": "c.lead_stage", "owner_id": "c.owner_id"} | {
    field: f"c.{field}" for field in ("email_subscription", "sms_subscription")
}


def _counted(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Contacts in view per value of each breakdown: a row per (breakdown, value); `by` names the breakdown
    ('country': the country as written and the calling-code prefix of the contacts without one)."""
    sets = ", ".join(f"({column})" for column in _BY.values())
    joined, prefix = dialect(con).few_groups_key(_PREFIX, "prefix")
    found = frame(
        con,
        f"""
        SELECT {", ".join(f"grouping({column}) AS g_{name}" for name, column in _BY.items())},
               {", ".join(f"{column} AS {name}" for name, column in _BY.items())},
               {_COUNTRY} AS country, {prefix} AS prefix, count(*) AS contacts
        FROM contacts c{joined} WHERE {IN_VIEW}
        GROUP BY GROUPING SETS ({sets}, ({_COUNTRY}, {prefix}))
        """,
    )
    which = pl.lit("country")
    for name in reversed(_BY):
        which = pl.when(pl.col(f"g_{name}") == 0).then(pl.lit(name)).otherwise(which)
    texts = [*_BY, "country", "prefix"]
    return found.select(
        which.alias("by"), *(pl.col(name).cast(pl.String) for name in texts), pl.col("contacts").cast(pl.Int64)
    )


def _by(counted: pl.DataFrame, name: str) -> pl.DataFrame:
    return counted.filter(pl.col("by") == name).select(pl.col(name).alias("value"), "contacts")


def _funnel(con: duckdb.DuckDBPyConnection, counted: pl.DataFrame) -> pl.DataFrame:
    stages = frame(con, "SELECT name, position FROM lead_stages").cast({"name": pl.String})
    joined = stages.join(_by(counted, "lead_stage"), left_on="name", right_on="value", how="full")
    return (
        joined.select(
            pl.coalesce("name", "value").alias("stage"),
            pl.col("contacts").fill_null(0),
            "position",
        )
        .sort(["position", "stage"], nulls_last=True)
        .drop("position")
    )


def _owners(con: duckdb.DuckDBPyConnection, counted: pl.DataFrame) -> pl.DataFrame:
    names = frame(con, "SELECT owner_id, name FROM owners").cast({"owner_id": pl.String, "name": pl.String})
    joined = _by(counted, "owner_id").join(names, left_on="value", right_on="owner_id", how="left")
    return joined.select(
        pl.col("value").alias("owner_id"),
        pl.coalesce("name", "value", pl.lit("Unassigned")).alias("owner"),
        "contacts",
    ).sort(["contacts", "owner"], descending=[True, False])


def _subscriptions(counted: pl.DataFrame) -> pl.DataFrame:
    parts = [
        _by(counted, field).select(
            pl.lit(channel).alias("channel"), pl.lit(field).alias("field"), pl.col("value").alias("status"), "contacts"
        )
        for channel, field in (("Email", "email_subscription"), ("SMS", "sms_subscription"))
    ]
    return pl.concat(parts).sort(["channel", "status"], nulls_last=True)


def breakdowns(con: duckdb.DuckDBPyConnection, top: int = 15) -> dict[str, pl.DataFrame]:
    """The lead-stage funnel, contacts by owner, the subscriptions and the `top` countries (as the functions of
    those names answer them) from one scan: what the page shows."""
    counted = _counted(con)
    return {
        "stages": _funnel(con, counted),
        "owners": _owners(con, counted),
        "subscriptions": _subscriptions(counted),
        "countries": _countries(counted, top),
    }


def lead_stage_funnel(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Contacts at each lead stage, in pipeline order (stages without contacts count 0): stage, contacts."""
    return _funnel(con, _counted(con))


def contacts_by_owner(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Contacts per owner, largest first: owner_id (null: unassigned), owner (the name) and contacts."""
    return _owners(con, _counted(con))


def _country_by_phone(codes: pl.Series) -> pl.Series:
    """The country name of each phone's first three digits after '+' (null when they start no known code)."""
    names = calling_code_countries()
    found = [
        next((names[prefix[:size]] for size in (1, 2, 3) if prefix[:size] in names), None) if prefix else None
        for prefix in codes.to_list()
    ]
    return pl.Series(found, dtype=pl.String)


def contacts_by_country(con: duckdb.DuckDBPyConnection, top: int = 15) -> pl.DataFrame:
    """Contacts per country, largest first (the top `top`): the country field, else the phone's calling code.

    Columns: country, contacts, from_phone (how many of them are placed by their phone). Contacts placed
    nowhere are left out. Countries compare without case, as the filter's 'is' does.
    """
    return _countries(_counted(con), top)


def _countries(counted: pl.DataFrame, top: int) -> pl.DataFrame:
    # Counted per (country as written, calling-code prefix), hashed (a mode() per country sorted every contact: 2 s
    # at 1,000,000 on PostgreSQL); a country is shown by its most written spelling (ties: the first in order, as
    # PostgreSQL's mode() picks).
    spelled = (
        counted.filter((pl.col("by") == "country") & pl.any_horizontal(pl.col("country", "prefix").is_not_null()))
        .select("country", "prefix", "contacts")
        .with_columns(key=pl.col("country").str.to_lowercase())
    )
    pairs = spelled.group_by("key", "prefix").agg(
        pl.col("country").sort_by(["contacts", "country"], descending=[True, False]).first(),
        pl.col("contacts").sum(),
    )
    by_phone = _country_by_phone(pairs["prefix"])
    placed = pairs.with_columns(
        country=pl.coalesce(pl.col("country"), by_phone),
        key=pl.coalesce(pl.col("key"), by_phone.str.to_lowercase()),
        from_phone=pl.when(pl.col("prefix").is_not_null()).then(pl.col("contacts")).otherwise(0),
    ).drop_nulls("key")
    ranked = placed.group_by("key").agg(
        pl.col("country").sort_by(["contacts", "country"], descending=[True, False]).first(),
        pl.col("contacts").sum(),
        pl.col("from_phone").sum(),
    )
    return ranked.sort(["contacts", "country"], descending=[True, False]).head(top).drop("key")


def subscriptions(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Email and SMS subscription status counts: channel ('Email' or 'SMS'), field, status, contacts."""
    return _subscriptions(_counted(con))


def top_tags(con: duckdb.DuckDBPyConnection, top: int = 15) -> pl.DataFrame:
    """The `top` most used tags: tag, contacts (a tag a contact holds twice counted once: Dialect.items_once)."""
    held = dialect(con).items_once("contacts c", "c.tags", IN_VIEW)
    return frame(
        con,
        f"SELECT held.item AS tag, count(*) AS contacts FROM {held} held "
        "GROUP BY held.item ORDER BY contacts DESC, tag LIMIT $top",
        {"top": top},
    )


def completeness_fields(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The fields whose completeness the dashboard shows: key to label ('name' is first or last name)."""
    custom = {key: field.label for key, field in filter_fields(con).items() if field.custom_key is not None}
    return {"email": "Email", "phone": "Phone", "name": "Name", "company": "Company"} | custom


# A custom value counts as filled when it reads as its type, as the filter's "is not empty" reads it.
_CUSTOM_FILLED = {  # on a field's column {v} of custom_values
    "text": "{v} <> ''",
    "choice": "{v} IS NOT NULL",
    "checkbox": "{v} IS NOT NULL",
    "number": "{as_double} IS NOT NULL",  # TRY_CAST, through the dialect
    "datetime": "{as_timestamp} IS NOT NULL",
}


# The "is not empty" test of each system field the completeness bars show, as its list filter reads it
# (core.dashboard.drill.filled_filter compiled by core.views.filters: an email or a phone is any of the contact's,
# its extra channels included), spelled to be counted in one scan: the contacts holding extra channels of a kind
# are joined once (a hash join, which spills and runs in parallel), where the compiled filter's correlated EXISTS
# ran once per contact without an email of its own (8.9 million times at 10,000,000 on PostgreSQL, on one core).
# An IN in the counts' FILTER would be hashed by PostgreSQL only while it fits in hash_mem, and past it test every
# contact against the whole set (core.db.dialect.Dialect.held_by). Tests compare each count with its filter's
# (tests/test_dashboard.py, and on PostgreSQL tests/postgres/test_dashboard_on_postgres.py).
def _held(column: str) -> str:
    return f"(c.{column} IS NOT NULL AND c.{column} <> '')"


def _extra_join(kind: str) -> str:
    holders = f"SELECT DISTINCT contact_id FROM contact_channels WHERE kind = '{kind}' AND value <> ''"
    return f"LEFT JOIN ({holders}) extra_{kind} ON extra_{kind}.contact_id = c.contact_id"


_SYSTEM_FILLED = {
    "email": f"({_held('email')} OR extra_email.contact_id IS NOT NULL)",
    "phone": f"({_held('phone')} OR extra_phone.contact_id IS NOT NULL)",
    "name": f"({_held('first_name')} OR {_held('last_name')})",
    "company": _held("company"),
}


def _contact_counts(con: duckdb.DuckDBPyConnection, monday: date) -> dict[str, int]:
    """Every count of the headline and the system fields' completeness, in one scan of the contacts."""
    created = "CAST(c.created_on AS DATE)"
    counted = {
        "total": IN_VIEW,
        "blocked": "c.blocked",
        "new_this_week": f"{IN_VIEW} AND {created} >= $monday",
        "new_last_week": f"{IN_VIEW} AND {created} >= $monday - INTERVAL '7 days' AND {created} < $monday",
    } | {key: f"{IN_VIEW} AND {test}" for key, test in _SYSTEM_FILLED.items()}
    counts = ", ".join(f"count(*) FILTER (WHERE {where})" for where in counted.values())
    joins = " ".join(_extra_join(kind) for kind in KINDS)
    found = rows(con, f"SELECT {counts} FROM contacts c {joins}", {"monday": monday})[0]
    named = dict(zip(counted, found, strict=True))
    return named | {"with_email": named["email"], "with_phone": named["phone"]}


def _custom_filled(con: duckdb.DuckDBPyConnection, fields: dict[str, FilterField]) -> dict[str, int]:
    # One pass over the custom values (a row per contact, a column per field) beats an EXISTS per field.
    keys = [field.custom_key for field in fields.values() if field.custom_key is not None]
    if not keys:
        return {}
    store = dialect(con)

    def filled(key: str) -> str:
        v = value_column(key, "v")
        test = _CUSTOM_FILLED[fields[f"custom.{key}"].kind]
        return test.format(v=v, as_double=store.try_cast(v, "DOUBLE"), as_timestamp=store.try_cast(v, "TIMESTAMP"))

    counts = ", ".join(f"count(*) FILTER (WHERE {filled(key)})" for key in keys)
    found = rows(
        con,
        f"SELECT {counts} FROM custom_values v "
        "WHERE v.contact_id NOT IN (SELECT contact_id FROM contacts WHERE blocked)",
    )[0]
    return {f"custom.{key}": count for key, count in zip(keys, found, strict=True)}


def field_completeness(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The share of contacts with each field filled: field (key), label, filled, share.

    A field is filled where its "is not empty" filter (core.dashboard.drill) holds ('name': a first or last
    name); a checkbox is filled when it has a value at all.
    """
    return kpis_and_completeness(con)[1]


def _completeness(con: duckdb.DuckDBPyConnection, counts: dict[str, int]) -> pl.DataFrame:
    fields, labels = filter_fields(con), completeness_fields(con)
    total = counts["total"]
    filled = {key: counts[key] for key in _SYSTEM_FILLED} | _custom_filled(con, fields)
    found = [filled.get(key, 0) for key in labels]
    return pl.DataFrame(
        {
            "field": list(labels),
            "label": list(labels.values()),
            "filled": found,
            "share": [count / total if total else 0.0 for count in found],
        },
        schema={"field": pl.String, "label": pl.String, "filled": pl.Int64, "share": pl.Float64},
    )


class DuplicateRate(BaseModel):
    """What the last detection run found among today's contacts."""

    run_at: datetime
    contacts: int  # every contact today, blocked ones too (detection looks at all of them)
    in_exact_groups: int
    in_likely_groups: int
    groups: int
    removable: int  # contacts merging every group would remove (all but each group's primary)

    @property
    def rate(self) -> float:
        """The share of contacts that sit in some group."""
        grouped = self.in_exact_groups + self.in_likely_groups
        return grouped / self.contacts if self.contacts else 0.0


def _groups(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """One row per group as the Duplicates page shows them (split at conflicts and at their size cap): size
    and whether it is exact."""
    members = duplicate_groups(con)
    return members.group_by("group_id").agg(size=pl.len(), exact=(pl.col("kind") == "exact").all())


def duplicate_rate(con: duckdb.DuckDBPyConnection) -> DuplicateRate | None:
    """Contacts in exact and likely groups of the last detection run, and how many a merge would remove;
    None when duplicates were never looked for."""
    run = last_run(con)
    if run is None:
        return None
    groups = _groups(con)
    exact_contacts = int(groups.filter("exact")["size"].sum())
    grouped = int(groups["size"].sum())
    return DuplicateRate(
        run_at=run.finished_at,
        contacts=scalar(con, "SELECT count(*) FROM contacts"),
        in_exact_groups=exact_contacts,
        in_likely_groups=grouped - exact_contacts,
        groups=groups.height,
        removable=grouped - groups.height,
    )


def recent_activity(con: duckdb.DuckDBPyConnection, days: int = 30, today: date | None = None) -> pl.DataFrame:
    """Imports and ingest runs per day over the last `days` days: day, kind ('Import' or 'Ingest'), runs,
    created, updated (contacts)."""
    since = (today or now().date()) - timedelta(days=days - 1)
    return frame(
        con,
        """
        SELECT CAST(imported_at AS DATE) AS day, 'Import' AS kind, count(*) AS runs,
               sum(created)::BIGINT AS created, sum(updated)::BIGINT AS updated
        FROM import_history WHERE CAST(imported_at AS DATE) >= $since GROUP BY CAST(imported_at AS DATE)
        UNION ALL
        SELECT CAST(started_at AS DATE), 'Ingest', count(*), sum(created)::BIGINT, sum(updated)::BIGINT
        FROM ingest_runs WHERE CAST(started_at AS DATE) >= $since GROUP BY CAST(started_at AS DATE)
        ORDER BY day, kind
        """,
        {"since": since},
    )


def data_stamp(con: duckdb.DuckDBPyConnection) -> tuple:
    """A cheap fingerprint of everything the figures read: it changes after any write that could move them
    (each contact change bumps its version; deletes and merges change the count)."""
    return rows(
        con,
        """
        SELECT (SELECT count(*) FROM contacts), (SELECT sum(version) FROM contacts),
               (SELECT max(last_updated) FROM contacts), (SELECT count(*) FROM custom_values),
               (SELECT count(*) FROM custom_fields), (SELECT max(run_id) FROM duplicate_runs),
               (SELECT count(*) FROM not_duplicates), (SELECT count(*) FROM import_history),
               (SELECT count(*) FROM ingest_runs), (SELECT count(*) FROM owners), (SELECT count(*) FROM lead_stages)
        """,
    )[0]
