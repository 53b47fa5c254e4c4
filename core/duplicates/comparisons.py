"""Comparisons: how two contacts' fields agree, as levels that each know their SQL, label and weight.

Shaped like splink's comparison library. A comparison (a field: last name, birthday) holds ordered levels;
the first level whose condition holds fires, adds its weight (log2 m / u, how often the same person shows
that agreement against how often two strangers do) and names itself in the evidence:
"last name: one typo, +4.7". The scoring and evidence SQL are generated from these objects.

Conditions read the per-pair similarity columns of SIMILARITIES (a = one contact's profile, b = the other),
each computed once per pair; the profile columns they start from are built in `core.duplicates.likely`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Protocol


def quote(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def edit_similarity(a: str, b: str) -> str:
    """1 - edits / length, a swap of neighbours being one edit; NULL when either is blank."""
    return f"1.0 - damerau_levenshtein({a}, {b}) / greatest(length({a}), length({b}))"


def same_or(a: str, b: str, similarity: str) -> str:
    """`similarity` of `a` and `b`, skipped (1.0, what it gives) when they are equal: most candidate pairs share
    their names, and the comparison is the costliest part of scoring."""
    return f"CASE WHEN {a} = {b} THEN 1.0::DOUBLE ELSE {similarity} END"


def one_edit(a: str, b: str) -> str:
    """Whether `a` and `b` are one edit apart (a swap of neighbours being one edit); NULL when either is blank.
    The edit distance is computed only where one edit could do it: lengths at most one apart, and the first half
    or the end past the middle the same (an edit at or after the middle leaves the first half, one before it the
    end); of equal length, by the places that differ (one, or two neighbours swapped). Without that, the distance of
    every two numbers was a fifth of the 1M demo's scoring."""
    shorter = f"least(length({a}), length({b}))"
    head, tail = f"{shorter} // 2", f"{shorter} - {shorter} // 2 - 1"
    possible = (
        f"{a} <> {b} AND abs(length({a}) - length({b})) <= 1"
        f" AND (left({a}, {head}) = left({b}, {head}) OR right({a}, {tail}) = right({b}, {tail}))"
    )
    # Of equal length (in bytes, one a character: hamming counts bytes): one place differing, or two neighbours swapped.
    same_length = f"length({a}) = length({b}) AND strlen({a}) = length({a}) AND strlen({b}) = length({b})"
    differing = f"CASE hamming({a}, {b}) WHEN 1 THEN TRUE WHEN 2 THEN damerau_levenshtein({a}, {b}) = 1 ELSE FALSE END"
    return (
        f"CASE WHEN {a} IS NULL OR {b} IS NULL THEN NULL WHEN NOT ({possible}) THEN FALSE"
        f" WHEN {same_length} THEN {differing} ELSE damerau_levenshtein({a}, {b}) = 1 END"
    )


def spells(mailbox: str, side: str) -> str:
    """Whether `mailbox` (the hash of a contact's mailbox name, its letters) is exactly the first and last name
    of contact `side`, either way round (john.smith, smith_john, johnsmith77): the profile's hashes nh and mh
    (core.duplicates.likely.SPELLINGS), NULL when a name is shorter than 3 letters. A mailbox that only starts
    with the names (markhunter beside Mark Hunt) is another name."""
    return f"coalesce({mailbox} IN ({side}.nh, {side}.mh), FALSE)"


# Every similarity once per pair; NULL when either side is blank, which weighs nothing.
SIMILARITIES = {
    "s_fn": same_or("a.fn", "b.fn", "jaro_winkler_similarity(a.fn, b.fn)"),
    "s_ln": same_or("a.ln", "b.ln", "jaro_winkler_similarity(a.ln, b.ln)"),
    "x_fn": "jaro_winkler_similarity(a.fn, b.ln)",
    "x_ln": "jaro_winkler_similarity(a.ln, b.fn)",
    # Day and month swapped (04/09 against 09/04) counts as a typo.
    # (The same birthday is 1.0 without its edit distance, unless day and month are equal and read as swapped.)
    "s_dob": f"""CASE WHEN left(a.dob, 4) = left(b.dob, 4) AND a.dob[5:6] = b.dob[7:8] AND a.dob[7:8] = b.dob[5:6]
                 THEN 0.9 WHEN a.dob = b.dob THEN 1.0 ELSE {edit_similarity("a.dob", "b.dob")} END""",
    # Address words in any order: "51 hurley street lakes estate" is "51 lakes estate hurley street".
    "s_addr": same_or(
        "a.addr",
        "b.addr",
        "greatest(jaro_winkler_similarity(a.addr, b.addr), jaro_winkler_similarity(a.addr_sorted, b.addr_sorted))",
    ),
    "s_pc": same_or("a.pc", "b.pc", edit_similarity("a.pc", "b.pc")),
    "s_city": same_or("a.city", "b.city", "jaro_winkler_similarity(a.city, b.city)"),
    # Bob and Robert, Kate and Katherine: the same usual form of a first name (core.duplicates.names).
    "nick_fn": "a.fu = b.fu",
    # A name cut short (Sar, Sarah) or to its initial: one is the start of the other.
    "short_fn": "starts_with(a.fn, b.fn) OR starts_with(b.fn, a.fn)",
    "s_company": same_or("a.company", "b.company", "jaro_winkler_similarity(a.company, b.company)"),
    "same_st": "a.st = b.st",
    "same_ek": "a.ek = b.ek",
    "same_ph": "a.ph = b.ph",
    # A number with one digit mistyped (or two neighbours swapped).
    "near_ph": one_edit("a.ph", "b.ph"),
    "same_city": "a.city = b.city",
    # One contact's mailbox is made of the other's names (john.smith@ beside John Smith, however the first
    # contact's own names were typed).
    "mail_names": f"{spells('a.eh', 'b')} OR {spells('b.eh', 'a')}",
}


# --- Levels -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    """One level of agreement with a fixed weight: `condition` is SQL over the pair's similarities."""

    label: str
    condition: str
    weight: float
    # A silent level (one side blank) weighs nothing and says nothing: there is no evidence either way.
    silent: bool = False
    # A level that says nothing in the evidence while it weighs under a tenth of a bit either way (a field left
    # blank, where the data shows blanks as common among one person's records as among strangers').
    quiet: bool = False

    def weight_sql(self) -> str:
        """The weight as SQL: a number known beforehand."""
        return repr(self.weight)

    def evidence_sql(self) -> str:
        """'one typo, +4.7' as SQL, or NULL for a silent level (and a quiet one weighing about nothing)."""
        if self.silent or (self.quiet and abs(self.weight) < 0.1):
            return "NULL"
        return quote(f"{self.label}, {self.weight:+.1f}")


@dataclass(frozen=True)
class FrequencyLevel:
    """An exact match weighed by how rare the shared value is: u is the share of contacts that hold it.

    The weight is log2(m * total / count), `total` and `count` being SQL for how many contacts have the
    field and how many hold this value (None: one contact, as with a mailbox). A shared rare name thus
    counts for more than a shared common one; `floor`, when set, keeps a very common value from counting
    against the pair.
    """

    label: str
    condition: str
    m: float
    total: str
    count: str | None = None
    floor: float | None = None
    silent: ClassVar[bool] = False

    def weight_sql(self) -> str:
        """log2(m / u) as SQL, computed per pair from the value's frequency."""
        share = f"{self.total}" if self.count is None else f"{self.total} / {self.count}"
        weight = f"log2({self.m} * {share})"
        return weight if self.floor is None else f"greatest({weight}, {self.floor!r})"

    def evidence_sql(self) -> str:
        """'exact, +6.2' as SQL, the weight printed as this pair's."""
        return f"{quote(self.label + ', ')} || printf('%+.1f', {self.weight_sql()})"


def unknown(*similarities: str) -> Level:
    """The silent first level: a side is blank, so the field says nothing."""
    return Level("unknown", " OR ".join(f"{s} IS NULL" for s in similarities), 0.0, silent=True)


def blank(condition: str) -> Level:
    """A side left blank, as a level whose weight the data sets (core.duplicates.learning): m, how often one
    person's two records leave a field blank on one side, against u, how often two random contacts do. Where
    duplicates are the hasty copies (a name and a phone typed at a till) a blank speaks for the pair; where
    one person's records are as complete as anyone's (the demo's) it speaks a little against. The prior is
    0, no evidence either way."""
    return Level("blank", condition, 0.0, quiet=True)


# Name columns whose term frequency leaves the contact itself out (see others_holding).
NAME_COLUMNS = OTHERS_HOLDING = ("fn", "ln")


def others_holding(column: str, side: str = "") -> str:
    """SQL for how many contacts other than this one hold its value of the profile's `column` (`side` "_b": the
    second contact's). For a pair that shares a name, the chance that a stranger holds it is the share of the
    name's other holders: counted with the contact itself, a name only this pair holds looked as common as two
    strangers' and weighed a bit less than its rarity says (at 100,000 noisy contacts, pairs of names only
    two or three hold were one person a bit more often than their scores said). Names only (OTHERS_HOLDING):
    for places and birthdays the change was not measured."""
    held = f"{column}_n{side}"
    return f"({held} - ({held} > 1)::INT)" if column in OTHERS_HOLDING else held


def frequency(column: str, label: str, condition: str, m: float, floor: float | None = None) -> FrequencyLevel:
    """An exact-match level weighed by the frequency of the profile's `column` (fn, ln, dob, ...)."""
    return FrequencyLevel(label, condition, m, f"t.{column}_total", others_holding(column), floor)


# --- Comparisons --------------------------------------------------------------------------------------------


class Scored(Protocol):
    """Anything that adds a weight to a pair and says why: a comparison, the better of two readings."""

    def weight_sql(self) -> str: ...

    def evidence_sql(self) -> str: ...


@dataclass(frozen=True)
class Comparison:
    """A field compared level by level: the first level whose condition holds fires; none firing weighs 0."""

    field: str
    levels: tuple[Level | FrequencyLevel, ...]
    # SQL naming the field per row, for comparisons over fields an admin defines (identity fields).
    field_sql: str | None = None
    # Whether the data may re-weigh the levels (core.duplicates.learning); the fixed weights are then priors.
    learned: bool = True
    # When no level fires the comparison still speaks (names corroborated by another field): learned weights
    # are relative to that outcome, which weighs 0. Otherwise no level firing means a side is blank.
    reference: bool = False
    # m is counted over pairs that a shared mailbox or number links (core.duplicates.learning.anchored), not
    # by EM: EM, which takes fields as independent, cannot tell namesakes in one town from one person there.
    anchored: bool = False

    def _case(self, value: Callable[[Level | FrequencyLevel], str], otherwise: str) -> str:
        whens = " ".join(f"WHEN {level.condition} THEN {value(level)}" for level in self.levels)
        return f"CASE {whens} ELSE {otherwise} END"

    def weight_sql(self) -> str:
        """CASE over the levels giving the weight of the one that fires."""
        return self._case(lambda level: level.weight_sql(), "0.0")

    def evidence_sql(self) -> str:
        """CASE over the levels giving 'field: level, weight' of the one that fires (NULL when silent)."""
        name = quote(f"{self.field}: ") if self.field_sql is None else f"{self.field_sql} || ': '"
        return self._case(lambda level: "NULL" if level.silent else f"{name} || {level.evidence_sql()}", "NULL")

    def level(self, label: str) -> Level | FrequencyLevel:
        """The level called `label`."""
        return next(level for level in self.levels if level.label == label)


@dataclass(frozen=True)
class Reading:
    """One way of lining fields up (names as typed, or first and last swapped), with its own weight.

    A reading with a label says so in the evidence when it wins: 'names: swapped, -1.0'.
    """

    comparisons: tuple[Comparison, ...]
    field: str = ""
    label: str | None = None
    weight: float = 0.0
    # False: EM (core.duplicates.learning) leaves this reading out. Its weight is per value (how common the
    # names are), which EM's one u per level would overstate: namesakes would look like one person to it.
    trained: bool = True

    def weight_sql(self) -> str:
        """The comparisons' weights summed, plus this reading's."""
        total = " + ".join(comparison.weight_sql() for comparison in self.comparisons)
        return total if not self.weight else f"{total} {'-' if self.weight < 0 else '+'} {abs(self.weight)!r}"

    def evidence_sql(self) -> str:
        """The comparisons' evidence, then this reading's label and weight when it has one."""
        parts = [comparison.evidence_sql() for comparison in self.comparisons]
        if self.label:
            parts.append(quote(f"{self.field}: {self.label}, {self.weight:+.1f}"))
        return joined_evidence(parts)


@dataclass(frozen=True)
class BestReading:
    """The reading with the highest weight counts; its evidence is the one shown."""

    readings: tuple[Reading, ...]

    def weight_sql(self) -> str:
        """greatest() of the readings' weights."""
        return "greatest(" + ",\n         ".join(reading.weight_sql() for reading in self.readings) + ")"

    def evidence_sql(self) -> str:
        """The evidence of the first reading whose weight is the greatest."""
        best = self.weight_sql()
        whens = " ".join(f"WHEN {r.weight_sql()} = {best} THEN {r.evidence_sql()}" for r in self.readings[:-1])
        return f"CASE {whens} ELSE {self.readings[-1].evidence_sql()} END"


@dataclass(frozen=True)
class Summed:
    """Weight and evidence summed elsewhere (over identity fields) and carried in as columns."""

    weight: str
    evidence: str

    def weight_sql(self) -> str:
        """The carried weight; no row means no evidence, which weighs 0."""
        return f"coalesce({self.weight}, 0.0)"

    def evidence_sql(self) -> str:
        """The carried evidence text."""
        return self.evidence


def joined_evidence(parts: list[str]) -> str:
    """The parts' texts joined by '; ', skipping NULLs; NULL when there are none."""
    return f"nullif(concat_ws('; ', {', '.join(parts)}), '')"


def weight_sql(parts: tuple[Scored, ...]) -> str:
    """The pair's weight of evidence (log2 odds before the prior): every part's weight summed."""
    return "\n + ".join(part.weight_sql() for part in parts)


def evidence_sql(parts: tuple[Scored, ...]) -> str:
    """'first name: exact, +6.2; last name: one typo, +4.7; ...': what each part found."""
    return joined_evidence([part.evidence_sql() for part in parts])


# --- The project's comparisons ------------------------------------------------------------------------------


def name_comparison(
    field: str, similarity: str, column: str, *extra: Level, swapped_from: str | None = None
) -> Comparison:
    """A name: equal (weighed by how rare the name is), one typo away, `extra` levels, similar, different.

    `swapped_from`: the second contact's field this name is compared with (first name against last name). The
    exact match is then weighed by how common the value is in either field, the commoner counting: a swapped
    record's 'Martinez' is a rare first name only because it is swapped, and the other record holds it as a
    common last name. (Weighed by the swapped field alone, every Sarah Martinez at a million contacts looked
    like the one typed 'Martinez Sarah'.)"""
    exact = frequency(column, "exact", f"{similarity} >= 0.999", 0.88)
    if swapped_from is not None:
        share = (
            f"greatest({others_holding(column)}::DOUBLE / t.{column}_total,"
            f" {others_holding(swapped_from, '_b')}::DOUBLE / t.{swapped_from}_total)"
        )
        exact = FrequencyLevel("exact", exact.condition, exact.m, "1.0", share)
    return Comparison(
        field,
        (
            unknown(similarity),
            exact,
            Level("one typo", f"{similarity} >= 0.92", 4.7),
            *extra,
            Level("similar", f"{similarity} >= 0.85", 0.6),
            Level("different", "TRUE", -3.3),
        ),
    )


# A first name also goes by its nickname, or is cut short.
FIRST_NAME = name_comparison(
    "first name", "s_fn", "fn", Level("nickname", "nick_fn", 3.5), Level("cut short", "short_fn", 2.0)
)
LAST_NAME = name_comparison("last name", "s_ln", "ln")
# The names as a mailbox spells them: people name their mailbox after themselves, so a mailbox made of the
# other contact's names (john.smith@ beside John Smith) says what its holder's names are even when they were
# typed with a typo, cut short or left out. The names count as both exact (weighed by the commoner of the two
# contacts' names); a mailbox spelling no names leaves this reading out of the running. (An initial, jsmith@,
# is left out: it says less than the holder's own first name, which it outweighed for namesakes.)
_SHARE = "greatest({a}, {b})::DOUBLE / t.{column}_total"
MAIL_NAMES = Comparison(
    "names in the mailbox",
    (
        FrequencyLevel(
            "the other's first and last name",
            "mail_names",
            0.77,
            "1.0",
            "("
            + " * ".join(_SHARE.format(a=others_holding(c), b=others_holding(c, "_b"), column=c) for c in NAME_COLUMNS)
            + ")",
        ),
        Level("none", "TRUE", -99.0),
    ),
    learned=False,
)
# The better of both readings of the names: first and last typed the wrong way round happen, and cost a little.
NAMES = BestReading(
    (
        Reading((FIRST_NAME, LAST_NAME)),
        Reading(
            (
                name_comparison("first name as last name", "x_fn", "fn", swapped_from="ln"),
                name_comparison("last name as first name", "x_ln", "ln", swapped_from="fn"),
            ),
            field="names",
            label="swapped",
            weight=-1.0,
        ),
        Reading((MAIL_NAMES,), field="names", label="read from a mailbox", weight=-1.0, trained=False),
    )
)
BIRTHDAY = Comparison(
    "birthday",
    (
        blank("s_dob IS NULL"),
        frequency("dob", "exact", "s_dob >= 1.0", 0.9),
        Level("one typo", "s_dob >= 0.87", 4.5),
        Level("different", "TRUE", -3.5),
    ),
)
# Address, postal code and city describe one place, so they count once, by the best level reached: a
# household shares all of them, and only names and birthdays tell its members apart. Sharing even a common
# city is never worse than not knowing it.
ADDRESS = Comparison(
    "address",
    (
        frequency("addr", "same street and area", "s_addr >= 0.9 AND (s_pc = 1.0 OR s_city >= 0.9)", 0.75),
        frequency("addr", "same street", "s_addr >= 0.9 AND coalesce(s_pc >= 0.75 OR s_city >= 0.9, TRUE)", 0.1),
        frequency("pc", "same postal code and city", "s_pc = 1.0 AND s_city >= 0.9", 0.08),
        frequency("pc", "same postal code", "s_pc = 1.0", 0.03),
        frequency("city", "near postal code, same city", "s_pc >= 0.75 AND s_city >= 0.9", 0.05, floor=0.5),
        frequency("city", "same city", "s_city >= 0.9", 0.02, floor=0.0),
        Level("different", "s_addr IS NOT NULL OR s_pc IS NOT NULL OR s_city IS NOT NULL", -4.2),
        blank("TRUE"),
    ),
    learned=False,
    anchored=True,
)
STATE = Comparison("state", (Level("different", "NOT same_st", -2.0),), learned=False)
# People keep several addresses and numbers, so a different one is only weak evidence against; a shared one
# is as rare as one contact in the whole database.
EMAIL = Comparison(
    "email",
    (
        FrequencyLevel("same mailbox", "same_ek", 0.9, "t.n"),
        Level("different", "NOT same_ek", -1.0),
        blank("same_ek IS NULL"),
    ),
)
PHONE = Comparison(
    "phone",
    (
        FrequencyLevel("same number", "same_ph", 0.9, "t.n"),
        Level("one digit off", "near_ph", 5.0),
        Level("different", "NOT same_ph", -1.0),
        blank("same_ph IS NULL"),
    ),
)
# Colleagues share a company as households share an address: a little evidence, capped.
COMPANY = Comparison(
    "company",
    (Level("same", "s_company >= 0.95", 2.0), Level("different", "s_company IS NOT NULL", -0.5)),
)
# An identity value (a customer number), per identity field of the pair (rows a and b of dup_identity): it
# weighs by its rarity, and one typo away is still strong.
IDENTITY = Comparison(
    "identity",
    (
        FrequencyLevel("exact", "a.value = b.value", 0.9, "a.total", "a.n"),
        Level("one typo", f"{edit_similarity('a.value', 'b.value')} >= 0.85", 7.0),
        Level("different", "TRUE", -3.0),
    ),
    field_sql="a.label",
)
# IDENTITY summed over the pair's identity fields (CTE `identity`, joined as i).
IDENTITIES = Summed("i.weight", "i.evidence")
# A shared name with nothing else agreeing is how two strangers called Maria Garcia look: names are not
# independent of each other (both follow the family's origin), so alone they count for less. "Agreeing" is
# looser than any one level: a postal code a typo away counts even without the city. -4 is the prior; learning
# puts -log2 of the lift measured on the database in its place (see NAMES_TOGETHER): a database whose
# namesakes cluster by origin (the demo: 5x) keeps most of it, one whose names are independent (0.1 bit) none.
CORROBORATED = "s_dob >= 0.87 OR s_addr >= 0.9 OR s_pc >= 0.75 OR s_city >= 0.9 OR same_ek OR same_ph OR i.weight > 0"
NAMES_ALONE = Comparison(
    "names alone",
    (Level("nothing else agrees", f"NOT coalesce({CORROBORATED}, FALSE)", -4.0),),
    learned=False,
    reference=True,
)
# Where a family comes from shapes both its names and its town: two different people sharing a first name
# share the last name (and the town) more often than two random people do. When both names agree, the last
# one counts that much less: the lift measured on this database (core.duplicates.likely.place_lift), 0 as
# the prior.
NAMES_TOGETHER = Comparison(
    "names together",
    (
        Level(
            "both agree",
            "(s_fn >= 0.92 AND s_ln >= 0.92) OR (x_fn >= 0.92 AND x_ln >= 0.92) OR mail_names",
            0.0,
            silent=True,
        ),
    ),
    learned=False,
)


@dataclass(frozen=True)
class CommonInPlace:
    """A name that agrees exactly within one city counts by how common it is there, not in the whole database:
    its weight (log2 m / u, u being the name's share of all contacts) loses the name's place lift, log2 of how
    much likelier its holders share a city than random contacts do (the profile's fn_lift and ln_lift, measured
    per name on the database: core.duplicates.likely.NAME_LIFT_SQL). Two Wangs in Shanghai are namesakes far
    more often than Wang's share of a worldwide list says; where names and towns are independent the lifts are
    0 and nothing changes."""

    field: str = "names in one city"

    def _discount(self) -> str:
        return (
            "CASE WHEN coalesce(same_city, FALSE) THEN"
            " (CASE WHEN s_fn >= 0.999 OR mail_names THEN greatest(fn_lift, fn_lift_b) ELSE 0.0 END)"
            " + (CASE WHEN s_ln >= 0.999 OR mail_names THEN greatest(ln_lift, ln_lift_b) ELSE 0.0 END)"
            " ELSE 0.0 END"
        )

    def weight_sql(self) -> str:
        """Minus the lifts of the names that agree when the city agrees, else 0."""
        return f"(-({self._discount()}))"

    def evidence_sql(self) -> str:
        """'names in one city: common there, -3.1', or NULL when it weighs (almost) nothing."""
        discount = self._discount()
        label = quote(f"{self.field}: common there, ")
        return f"CASE WHEN {discount} >= 0.05 THEN {label} || printf('%+.1f', -({discount})) END"


NAMES_IN_PLACE = CommonInPlace()

# Everything that weighs on a candidate pair, in the order its evidence reads.
COMPARISONS: tuple[Scored, ...] = (
    NAMES,
    NAMES_TOGETHER,
    NAMES_IN_PLACE,
    BIRTHDAY,
    ADDRESS,
    STATE,
    EMAIL,
    PHONE,
    COMPANY,
    IDENTITIES,
    NAMES_ALONE,
)
