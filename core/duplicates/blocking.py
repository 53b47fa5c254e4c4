"""Blocking rules: which contacts are compared at all, each rule a key that two contacts must share.

Contacts become a candidate pair when they share any one of several keys (names, names with a city, the
sound of the names, the email's local part, the phone's last digits, birthday and postal code, an identity
field's value), so a duplicate whose email, phone and city all changed still meets its twin on its names.
Keys are expressions over the profile table `dup_profile` (or `dup_identity` for identity fields) that
`core.duplicates.likely` builds; a NULL key blocks nothing. A key shared by more than `max_block`
contacts is skipped, which bounds every rule's pairs by contacts x max_block / 2.

Each rule names the comparisons it biases (`fields`): the pairs it finds agree on those by construction, so
learning m from them would learn nothing about those fields (`core.duplicates.learning` leaves them out,
as splink does when it trains on one blocking rule at a time).
"""

from dataclasses import dataclass

# A key shared by more contacts than this says little: skip it, the other keys still meet.
MAX_BLOCK = 60

NAMES = ("g_fn", "g_ln", "g_order")


@dataclass(frozen=True)
class BlockingRule:
    """Contacts whose `key` (SQL over dup_profile) is equal become a candidate pair."""

    key: str
    label: str
    fields: tuple[str, ...] = ()

    def pairs_sql(self, max_block: int = MAX_BLOCK) -> str:
        """SELECT id_a, id_b (id_a < id_b) of contacts sharing this key, skipping keys held by over `max_block`."""
        key = self.key
        return f"""SELECT k1.id AS id_a, k2.id AS id_b FROM
            (SELECT id, {key} AS k, count(*) OVER (PARTITION BY {key}) AS n FROM dup_profile WHERE {key} IS NOT NULL) k1
            JOIN (SELECT id, {key} AS k FROM dup_profile WHERE {key} IS NOT NULL) k2 ON k1.k = k2.k AND k1.id < k2.id
            WHERE k1.n <= {max_block}"""


@dataclass(frozen=True)
class IdentityBlockingRule:
    """Contacts whose identity field agrees on `column` of dup_identity become a candidate pair."""

    column: str
    label: str
    fields: tuple[str, ...] = ("g_identity",)

    def pairs_sql(self, max_block: int = MAX_BLOCK) -> str:
        """SELECT id_a, id_b (id_a < id_b) of contacts agreeing on this column of one identity field."""
        column = self.column
        return f"""SELECT i1.id AS id_a, i2.id AS id_b FROM
            (SELECT *, count(*) OVER (PARTITION BY field, {column}) AS k_n FROM dup_identity) i1
            JOIN dup_identity i2 ON i1.field = i2.field AND i1.{column} = i2.{column} AND i1.id < i2.id
            WHERE i1.k_n <= {max_block}"""


Rule = BlockingRule | IdentityBlockingRule

BLOCKING_RULES: tuple[Rule, ...] = (
    # The usual form of the first name (Bob and Robert block together) with the last name.
    BlockingRule("fc || '|' || ln", "first and last name", NAMES),
    BlockingRule("least(fn, ln) || '|' || greatest(fn, ln)", "names either way round", NAMES),
    BlockingRule("fs || '|' || ls", "sound of the names", NAMES),
    BlockingRule("left(fn, 1) || '|' || ln", "first initial and last name", NAMES),
    # A rare name on its own (a common one exceeds max_block and is skipped): typos in the other name.
    BlockingRule("ln", "last name", NAMES),
    BlockingRule("fn", "first name", NAMES),
    BlockingRule("ls || '|' || left(fn, 1)", "sound of the last name and first initial", NAMES),
    BlockingRule("ln || '|' || city", "last name and city", ("g_ln", "g_place")),
    BlockingRule("fc || '|' || city", "first name and city", ("g_fn", "g_place")),
    BlockingRule("el", "email's local part", ("g_email",)),
    BlockingRule("right(ph, 7)", "last digits of the phone", ("g_phone",)),
    BlockingRule("ln || '|' || dob", "last name and birthday", ("g_ln", "g_dob")),
    BlockingRule("fn || '|' || dob", "first name and birthday", ("g_fn", "g_dob")),
    BlockingRule("dob || '|' || pc", "birthday and postal code", ("g_dob", "g_place")),
    BlockingRule("dob || '|' || st", "birthday and state", ("g_dob", "g_state")),
    BlockingRule("ln || '|' || pc", "last name and postal code", ("g_ln", "g_place")),
    BlockingRule("fn || '|' || pc", "first name and postal code", ("g_fn", "g_place")),
    BlockingRule("addr || '|' || pc", "address and postal code", ("g_place",)),
    BlockingRule("pc || '|' || left(addr, 6)", "postal code and start of address", ("g_place",)),
    BlockingRule("left(fn, 3) || '|' || left(ln, 3) || '|' || left(pc, 2)", "starts of names and postal code", NAMES),
    # The same value, and the same characters in another order (two neighbours swapped when typed).
    IdentityBlockingRule("value", "identity value"),
    IdentityBlockingRule("sorted", "identity value's characters"),
)


def candidates_sql(rules: tuple[Rule, ...], max_block: int = MAX_BLOCK) -> str:
    """Distinct pairs (id_a < id_b) found by any of the rules, with `rules`: a bit per rule that found it."""
    tagged = "\nUNION ALL\n".join(
        f"SELECT id_a, id_b, {1 << i}::BIGINT AS rule FROM ({rule.pairs_sql(max_block)})"
        for i, rule in enumerate(rules)
    )
    return f"SELECT id_a, id_b, bit_or(rule) AS rules FROM ({tagged}) GROUP BY id_a, id_b"


def rule_counts_sql(rules: tuple[Rule, ...], table: str = "dup_candidates") -> str:
    """One row: how many pairs of `table` each rule found (a column per rule, in order)."""
    return (
        "SELECT " + ", ".join(f"count(*) FILTER ((rules >> {i}) & 1 = 1)" for i in range(len(rules))) + f" FROM {table}"
    )
