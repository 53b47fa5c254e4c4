"""Match keys: an email as its mailbox (case, spaces, and where the provider ignores them, dots and +tags).

The same rules exist twice, as a Python function for one value and as a DuckDB macro for a whole table;
a test holds them to the same answers.
"""

import duckdb

# Providers that deliver name+anything@ to name@.
PLUS_TAG_DOMAINS = (
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "protonmail.com",
    "proton.me",
    "pm.me",
    "fastmail.com",
    "fastmail.fm",
)
# Providers whose mailbox names ignore dots: j.smith@ and jsmith@ are one mailbox.
DOTLESS_DOMAINS = ("gmail.com", "googlemail.com")
DOMAIN_ALIASES = {"googlemail.com": "gmail.com"}


def email_key(email: str | None) -> str | None:
    """The mailbox an address reaches: 'J.Smith+news@GoogleMail.com ' -> 'jsmith@gmail.com'."""
    if email is None:
        return None
    text = email.strip().lower()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        return text or None
    if domain in PLUS_TAG_DOMAINS:
        local = local.split("+", 1)[0]
    if domain in DOTLESS_DOMAINS:
        local = local.replace(".", "")
    return f"{local}@{DOMAIN_ALIASES.get(domain, domain)}"


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


_ALIASES = " ".join(f"WHEN '{old}' THEN '{new}'" for old, new in DOMAIN_ALIASES.items())
# Local part and domain split at the last '@'; each step mirrors email_key. Only addresses at the listed
# providers need the slow path; the rest are just trimmed and lower-cased.
_PROVIDERS = " OR ".join(f"x LIKE '%@{domain}'" for domain in PLUS_TAG_DOMAINS)
_MACROS = f"""
CREATE OR REPLACE TEMP MACRO dup_local(x) AS left(x, length(x) - position('@' IN reverse(x)));
CREATE OR REPLACE TEMP MACRO dup_domain(x) AS right(x, position('@' IN reverse(x)) - 1);
CREATE OR REPLACE TEMP MACRO dup_mailbox(l, d) AS
    CASE WHEN d IN ({_quoted(DOTLESS_DOMAINS)}) THEN replace(l, '.', '') ELSE l END
    || '@' || CASE d {_ALIASES} ELSE d END;
CREATE OR REPLACE TEMP MACRO dup_provider_key(x, l, d) AS
    CASE WHEN l = '' THEN x ELSE dup_mailbox(split_part(l, '+', 1), d) END;
CREATE OR REPLACE TEMP MACRO dup_key_of(x) AS
    CASE WHEN x = '' THEN NULL
         WHEN {_PROVIDERS} THEN dup_provider_key(x, dup_local(x), dup_domain(x))
         ELSE x
    END;
CREATE OR REPLACE TEMP MACRO dup_email_key(e) AS dup_key_of(lower(trim(e)));
"""


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Define dup_email_key(email) for this connection (temporary macros live per connection)."""
    con.execute(_MACROS)
