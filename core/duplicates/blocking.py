"""Blocking rules: which contacts are compared at all, each rule a key that two contacts must share.

Contacts become a candidate pair when they share any one of several compound keys (names with birthday,
postal code and so on; an identity field's value), so a typo in one field still leaves other keys to meet
on. Keys are expressions over the profile table `dup_profile` (or `dup_identity` for identity fields) that
`core.duplicates.likely` builds; a NULL key blocks nothing.
"""

from dataclasses import dataclass

import polars as pl
from pydantic import BaseModel

# A key shared by more contacts than this says little: skip it, the other keys still meet.
MAX_BLOCK = 60
# Each rule's pairs stay within a budget of this many per contact (and at least MIN_RULE_BUDGET): past it,
# the rule's biggest blocks are left out and its smallest, the most telling keys, kept.
PAIRS_PER_CONTACT, MIN_RULE_BUDGET = 3, 50_000
# Keys made of one name and a letter or two block only when at most this many contacts hold them.
LOOSE_BLOCK = 8
FEW_HOLDERS = 4


@dataclass(frozen=True)
class BlockingRule:
    """Contacts whose `key` (SQL over dup_profile) is equal become a candidate pair."""

    key: str
    label: str
    # For learning (core.duplicates.learning): the comparisons this key makes agree by construction, which
    # EM over this rule's pairs leaves out; None: the rule's pairs are not learned from.
    trains: tuple[str, ...] | None = None
    # A looser key blocks only when few contacts hold it (a lone common surname would pair thousands).
    max_block: int = MAX_BLOCK
    # False: a rule for learning only, whose pairs are too many and too weak to score them all.
    predicts: bool = True

    def block_sizes_sql(self) -> str:
        """n, blocks: how many keys of this rule n contacts hold, for n of 2 or more."""
        held = f"SELECT count(*) AS n FROM dup_profile WHERE {self.key} IS NOT NULL GROUP BY {self.key}"
        return f"SELECT n, count(*) AS blocks FROM ({held}) WHERE n >= 2 GROUP BY n"

    def pairs_sql(self, max_block: int | None = None, contact: str = "id") -> str:
        """SELECT id_a, id_b (id_a < id_b) of contacts sharing this key, skipping keys held by over `max_block`
        (the rule's own bound unless given); `contact`: the column naming a contact (id, or the profile's rid)."""
        key, max_block = self.key, max_block or self.max_block
        return f"""SELECT k1.id AS id_a, k2.id AS id_b FROM
            (SELECT {contact} AS id, {key} AS k,
                    count(*) OVER (PARTITION BY {key}) AS n FROM dup_profile WHERE {key} IS NOT NULL) k1
            JOIN (SELECT {contact} AS id, {key} AS k FROM dup_profile WHERE {key} IS NOT NULL) k2
            ON k1.k = k2.k AND k1.id < k2.id
            WHERE k1.n <= {max_block}"""


@dataclass(frozen=True)
class IdentityBlockingRule:
    """Contacts whose identity field agrees on `column` of dup_identity become a candidate pair."""

    column: str
    label: str
    trains: tuple[str, ...] | None = None
    max_block: int = MAX_BLOCK
    predicts: bool = True

    def block_sizes_sql(self) -> str:
        """n, blocks: how many values of this column n contacts share within one field, for n of 2 or more."""
        held = f"SELECT count(*) AS n FROM dup_identity GROUP BY field, {self.column}"
        return f"SELECT n, count(*) AS blocks FROM ({held}) WHERE n >= 2 GROUP BY n"

    def pairs_sql(self, max_block: int | None = None, contact: str = "id") -> str:
        """SELECT id_a, id_b (id_a < id_b) of contacts agreeing on this column of one identity field; `contact`:
        the column naming a contact (id, or the integer rid that scoring joins on)."""
        column, max_block = self.column, max_block or self.max_block
        return f"""SELECT i1.{contact} AS id_a, i2.{contact} AS id_b FROM
            (SELECT *, count(*) OVER (PARTITION BY field, {column}) AS k_n FROM dup_identity) i1
            JOIN dup_identity i2 ON i1.field = i2.field AND i1.{column} = i2.{column} AND i1.{contact} < i2.{contact}
            WHERE i1.k_n <= {max_block}"""


@dataclass(frozen=True)
class CrossBlockingRule(BlockingRule):
    """Contacts whose `key` equals one of another contact's `others` keys (SQL over dup_profile) become a
    candidate pair: one contact's mailbox letters against the other's names. Contacts holding only `key`s, or
    only `others` keys, do not pair with each other by this rule (the rules on names and on mailboxes do).

    Each key is tagged with a side: 1 for `key`, 2 for `others`; holders of one key pair when their sides
    differ. A `key` equal to one of its own contact's `others` (john.smith@ held by John Smith) is left out:
    whoever it meets, the rules on the names and on the mailbox's letters meet too."""

    others: tuple[str, ...] = ()

    def keys(self) -> list[tuple[str, str]]:
        """(side, key) SQL pairs, a contact's keys distinct (an `others` key equal to an earlier one is NULL)."""
        own = ", ".join(self.others)
        keyed = [("1", f"CASE WHEN NOT coalesce({self.key} IN ({own}), FALSE) THEN {self.key} END")]
        for i, other in enumerate(self.others):
            seen = " OR ".join(f"{other} = {earlier}" for earlier in self.others[:i])
            keyed.append(("2", f"CASE WHEN NOT coalesce({seen}, FALSE) THEN {other} END" if seen else other))
        return keyed

    def _holders(self, contact: str = "id") -> str:
        """id, side, k: the holders of the keys that some contact holds as its `key` (side 1), on either side. The
        `others` keys (every contact's names) are first matched against those, a hash probe, so only keys that
        can pair are counted and joined."""
        (_, one), *rest = self.keys()
        others = ", ".join(key for _, key in rest)
        return f"""SELECT * FROM (
                WITH ones AS (SELECT * FROM (SELECT {contact} AS id, 1 AS side, {one} AS k FROM dup_profile)
                              WHERE k IS NOT NULL)
                SELECT * FROM ones
                UNION ALL
                SELECT * FROM (SELECT {contact} AS id, 2 AS side, unnest([{others}]) AS k FROM dup_profile)
                WHERE k IN (SELECT k FROM ones)
            )"""

    def block_sizes_sql(self) -> str:
        """n, blocks, pairs: per block size n of 2 or more, how many keys n contacts hold and the pairs they make
        (holders of `key` times holders of `others`, blocks making none left out). A pair meeting on two keys
        (each one's mailbox spelling the other's names) counts twice."""
        held = f"""SELECT count(*) AS n, count(*) FILTER (side = 1) * count(*) FILTER (side = 2) AS pairs
            FROM ({self._holders()}) GROUP BY k"""
        return f"SELECT n, count(*) AS blocks, sum(pairs)::BIGINT AS pairs FROM ({held}) WHERE pairs > 0 GROUP BY n"

    def pairs_sql(self, max_block: int | None = None, contact: str = "id") -> str:
        """SELECT id_a, id_b (id_a < id_b) of contacts one of whose `key` is one of the other's `others` keys,
        skipping keys held by over `max_block` (the rule's own bound unless given)."""
        max_block = max_block or self.max_block
        return f"""SELECT DISTINCT least(k1.id, k2.id) AS id_a, greatest(k1.id, k2.id) AS id_b FROM
            (SELECT * FROM ({self._holders(contact)}) QUALIFY count(*) OVER (PARTITION BY k) <= {max_block}) k1
            JOIN ({self._holders(contact)}) k2 ON k1.k = k2.k AND k1.side = 1 AND k2.side = 2"""


Rule = BlockingRule | IdentityBlockingRule


# The mailbox name's letters, when there are four or more (j82@ says nothing).
_LETTERS = "regexp_replace(el, '[0-9]+', '', 'g')"
MAILBOX_LETTERS = f"CASE WHEN length({_LETTERS}) >= 4 THEN {_LETTERS} END"
# The first letters of the first and last name (of the usual first name: Bob is robert).
INITIALS = "left(fu, 1) || left(ln, 1)"
# A number's two parts, for numbers of 8 characters or more: all but its last four digits, and those four.
NUMBER_HEAD = "CASE WHEN length(ph) >= 8 THEN left(ph, length(ph) - 4) END"
NUMBER_TAIL = "CASE WHEN length(ph) >= 8 THEN right(ph, 4) END"

NAMES = ("first name", "last name", "first name as last name", "last name as first name")

BLOCKING_RULES = (
    BlockingRule("fn || '|' || ln", "first and last name", trains=NAMES),
    BlockingRule("least(fn, ln) || '|' || greatest(fn, ln)", "names either way round"),
    BlockingRule("ln || '|' || dob", "last name and birthday"),
    BlockingRule("fn || '|' || dob", "first name and birthday"),
    BlockingRule("dob || '|' || pc", "birthday and postal code", trains=("birthday", "address")),
    BlockingRule("dob || '|' || st", "birthday and state"),
    BlockingRule("ln || '|' || pc", "last name and postal code"),
    BlockingRule("fn || '|' || pc", "first name and postal code"),
    BlockingRule("ln || '|' || city || '|' || left(fn, 1)", "last name, city and first initial"),
    BlockingRule("addr || '|' || pc", "address and postal code", trains=("address",)),
    BlockingRule("pc || '|' || left(addr, 6)", "postal code and start of address"),
    BlockingRule("left(fn, 3) || '|' || left(ln, 3) || '|' || left(pc, 2)", "starts of names and postal code"),
    # Keys for contacts that carry little more than names, a mailbox, a phone and a town, any of which may
    # have changed: each still meets on what is left.
    BlockingRule("fu || '|' || ln", "usual first name and last name"),
    BlockingRule("ln || '|' || left(fn, 1)", "last name and first initial", max_block=LOOSE_BLOCK),
    BlockingRule("fn || '|' || left(ln, 3)", "first name and start of last name", max_block=LOOSE_BLOCK),
    # A town and one name: millions of pairs at a million contacts, mostly namesakes and households, so they
    # only teach EM how the other name differs between one person's records and between neighbours.
    BlockingRule(
        "ln || '|' || city", "last name and city", trains=("last name", "address"), max_block=20, predicts=False
    ),
    BlockingRule(
        "fn || '|' || city", "first name and city", trains=("first name", "address"), max_block=20, predicts=False
    ),
    BlockingRule("el", "mailbox name"),
    # The other name missing or changed: a town and one name, only where at most four contacts share them (at
    # eight, the 1M demo's detection peaked past 2 GB for no better F1).
    BlockingRule("ln || '|' || city", "last name and city, few holders", max_block=FEW_HOLDERS),
    BlockingRule("fn || '|' || city", "first name and city, few holders", max_block=FEW_HOLDERS),
    # A mailbox under another number or at another provider (maria.lopez82@, marialopez@).
    BlockingRule(MAILBOX_LETTERS, "mailbox name without digits", max_block=LOOSE_BLOCK),
    # A number one digit off keeps one of its two parts (the last four digits, or all before them) as typed:
    # either part and the initials, whatever else changed.
    BlockingRule(f"{INITIALS} || '|' || {NUMBER_HEAD}", "initials and number but its last four digits"),
    BlockingRule(f"{INITIALS} || '|' || {NUMBER_TAIL}", "initials and last four digits of the number"),
    # One contact's mailbox spells the other's names (maria.lopez82@ beside Maria Lopez), whatever its own names
    # and the other's mailbox: a typo or a cut in one contact's names, a mailbox the other never gave.
    # The profile's hashes (core.duplicates.likely.SPELLINGS): the mailbox's letters, the names either way round.
    CrossBlockingRule(
        "eh::VARCHAR", "mailbox letters against names", max_block=LOOSE_BLOCK, others=("nh::VARCHAR", "mh::VARCHAR")
    ),
    # The same value, and the value with two neighbours swapped when typed (core.duplicates.likely's
    # _swapped_key: one part sorted, the swap in the first half or elsewhere).
    IdentityBlockingRule("value", "identity value"),
    IdentityBlockingRule("swapped_first", "identity value, neighbours swapped in its first half"),
    IdentityBlockingRule("swapped_second", "identity value, neighbours swapped in its second half"),
)


class BlockingCount(BaseModel):
    """What one blocking rule contributed to a run: its pairs, the pairs its budget or block cap left out,
    and the largest block (contacts sharing one key) it still paired."""

    rule: str
    pairs: int
    left_out: int
    largest_block: int


def rule_budget(contacts: int) -> int:
    """The most pairs one rule may propose over `contacts` contacts."""
    return max(MIN_RULE_BUDGET, PAIRS_PER_CONTACT * contacts)


def bounded(rule: Rule, sizes: pl.DataFrame, budget: int) -> BlockingCount:
    """The rule's count within `budget` given its block sizes (n, blocks, and pairs when a block of n holds
    fewer than n (n - 1) / 2: CrossBlockingRule): blocks are taken smallest first while they fit, up to the
    rule's max_block."""
    if "pairs" not in sizes.columns:
        sizes = sizes.with_columns(pairs=pl.col("blocks") * pl.col("n") * (pl.col("n") - 1) // 2)
    sizes = sizes.sort("n")
    sizes = sizes.with_columns(fits=(pl.col("n") <= rule.max_block) & (pl.col("pairs").cum_sum() <= budget))
    kept = sizes.filter(pl.col("fits"))
    largest = int(kept["n"].max() or 1)  # type: ignore[arg-type]
    pairs = int(kept["pairs"].sum())
    return BlockingCount(
        rule=rule.label, pairs=pairs, left_out=int(sizes["pairs"].sum()) - pairs, largest_block=largest
    )


def candidates_sql(
    rules: tuple[Rule, ...],
    max_block: int | None = None,
    limits: dict[str, int] | None = None,
    key: str = "id",
) -> str:
    """Distinct pairs (id_a < id_b) found by any of the rules that predict; `limits` caps a rule's blocks
    (by label, see BlockingCount.largest_block) below its max_block.

    The profile's rules are read in one pass (keys_sql): each contact's keys, one row per rule, are sized and
    joined together, instead of one scan, window and join of dup_profile per rule. Identity rules read
    dup_identity as before. `key` names the contacts: id, or rid, the integer scoring joins on (see
    core.duplicates.likely.PROFILE_SQL), which keeps millions of pairs as two integers instead of two strings."""
    limits = limits or {}
    predicting = [rule for rule in rules if rule.predicts]
    keyed = [rule for rule in predicting if isinstance(rule, BlockingRule) and not isinstance(rule, CrossBlockingRule)]
    apart = [rule for rule in predicting if isinstance(rule, CrossBlockingRule)]
    by_identity = [rule for rule in predicting if isinstance(rule, IdentityBlockingRule)]
    parts = [rule.pairs_sql(limits.get(rule.label, max_block), key) for rule in apart]
    parts += [rule.pairs_sql(limits.get(rule.label, max_block), key) for rule in by_identity]
    if not keyed:
        return "\nUNION\n".join(parts)
    bounds = ", ".join(str(limits.get(rule.label, max_block) or rule.max_block) for rule in keyed)
    blocked = f"""WITH dup_blocked AS (
            SELECT id, h FROM ({keys_sql(keyed, key)})
            QUALIFY count(*) OVER (PARTITION BY h) BETWEEN 2 AND [{bounds}][rule + 1]
        )
        SELECT DISTINCT k1.id AS id_a, k2.id AS id_b
        FROM dup_blocked k1 JOIN dup_blocked k2 ON k1.h = k2.h AND k1.id < k2.id"""
    return "\nUNION\n".join([blocked, *parts])


def keys_sql(rules: list[BlockingRule], key: str = "id") -> str:
    """id, rule (its index in `rules`), h: every non-NULL key of every rule for each contact of dup_profile, in
    one scan. A key is hashed with its rule's index into one integer, so rules never meet each other's keys and
    the join compares integers (two different keys meeting on one 64-bit hash: about one chance in 10^5 at a
    million contacts, and it would only propose a pair that scoring then judges)."""
    keys = ", ".join(rule.key for rule in rules)
    return f"""SELECT id, rule, hash(rule, k) AS h FROM (
                SELECT {key} AS id, unnest(range({len(rules)}))::SMALLINT AS rule, unnest([{keys}]) AS k
                FROM dup_profile
            ) WHERE k IS NOT NULL"""
