"""Comparisons: how two contacts' fields agree, as levels that each know their SQL, label and m/u probabilities.

Shaped like splink's comparison library. A comparison (a field: last name, birthday) holds ordered levels;
the first level whose condition holds fires. Each level carries m (how often one person's two records show
that agreement) and u (how often two strangers do); its weight is log2(m / u). The numbers written below
are priors: `core.duplicates.learning` replaces them with m and u estimated from the database at hand, and
the evidence names the level with its learned weight: "last name: one typo, +4.7".

A level with a `term` weighs an exact match by how rare the shared value is (term-frequency adjustment, as
splink does): log2(m / u) + log2(u / share of contacts holding the value), so a shared rare surname counts
for more than "Smith".

Conditions read the per-pair similarity columns of SIMILARITIES (a = one contact's profile, b = the other,
with b's names read the other way round when the names were typed swapped). A comparison's level index is
computed once per pair into its `column`; weight and evidence are then CASEs over that index.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace


def quote(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def edit_similarity(a: str, b: str) -> str:
    """1 - edits / length, a swap of neighbours being one edit; NULL when either is blank."""
    return f"1.0 - damerau_levenshtein({a}, {b}) / greatest(length({a}), length({b}))"


# b's names as they line up with a's: first against first, unless the pair reads better swapped.
B_FN = "CASE WHEN swapped THEN b.ln ELSE b.fn END"
B_LN = "CASE WHEN swapped THEN b.fn ELSE b.ln END"
B_FC = "CASE WHEN swapped THEN NULL ELSE b.fc END"
# First and last name typed the wrong way round: the crossed reading is clearly the better one.
SWAPPED_SQL = """coalesce(jaro_winkler_similarity(a.fn, b.ln) + jaro_winkler_similarity(a.ln, b.fn) >= 1.8
    AND jaro_winkler_similarity(a.fn, b.ln) + jaro_winkler_similarity(a.ln, b.fn)
        > jaro_winkler_similarity(a.fn, b.fn) + jaro_winkler_similarity(a.ln, b.ln) + 0.3, FALSE)"""


def _shortened(a: str, b: str) -> str:
    """One name is the start of the other (Kat, Katherine), at least two letters long."""
    return f"(least(length({a}), length({b})) >= 2 AND (starts_with({a}, {b}) OR starts_with({b}, {a})))"


# Every similarity once per pair; NULL when either side is blank, which weighs nothing.
SIMILARITIES = {
    "s_fn": f"jaro_winkler_similarity(a.fn, {B_FN})",
    "s_ln": f"jaro_winkler_similarity(a.ln, {B_LN})",
    "same_fc": f"a.fc = {B_FC}",
    "short_fn": _shortened("a.fn", B_FN),
    "short_ln": _shortened("a.ln", B_LN),
    # Day and month swapped (04/09 against 09/04) counts as a typo.
    "s_dob": f"""CASE WHEN left(a.dob, 4) = left(b.dob, 4) AND a.dob[5:6] = b.dob[7:8] AND a.dob[7:8] = b.dob[5:6]
                 THEN 0.9 ELSE {edit_similarity("a.dob", "b.dob")} END""",
    # Address words in any order: "51 hurley street lakes estate" is "51 lakes estate hurley street".
    "s_addr": "greatest(jaro_winkler_similarity(a.addr, b.addr),"
    " jaro_winkler_similarity(a.addr_sorted, b.addr_sorted))",
    "s_pc": edit_similarity("a.pc", "b.pc"),
    "s_city": "jaro_winkler_similarity(a.city, b.city)",
    "s_company": "jaro_winkler_similarity(a.company, b.company)",
    "same_st": "a.st = b.st",
    "same_ek": "a.ek = b.ek",
    "same_el": "a.el = b.el",
    "typo_el": "damerau_levenshtein(a.el, b.el) <= 1",
    "same_ph": "a.ph = b.ph",
    "near_ph": "damerau_levenshtein(a.ph, b.ph) <= 1 OR right(a.ph, 7) = right(b.ph, 7)",
}

# Profile columns whose value frequency weighs an exact match (their `{term}_share` is carried per pair).
TERMS = ("fn", "ln", "dob", "pc", "city", "addr", "ek", "el", "ph")
# How far a value's rarity may move an exact match's weight, in bits.
TERM_CAP = 12.0


# --- Levels -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    """One level of agreement: `condition` is SQL over the pair's similarities; m and u give its weight.

    A silent level (a side blank) weighs nothing and says nothing. A level not `shown` weighs but stays out
    of the evidence. `term` adjusts an exact match by the shared value's rarity; `u_from_counts` says u is
    best computed exactly from the term's value counts (the chance two contacts hold the same value);
    `floor` keeps a very common value from counting against the pair.
    """

    label: str
    condition: str
    m: float = 1.0
    u: float = 1.0
    term: str | None = None
    floor: float | None = None
    silent: bool = False
    shown: bool = True
    u_from_counts: bool = False

    @property
    def weight(self) -> float:
        """log2(m / u): the level's weight before any term-frequency adjustment."""
        return 0.0 if self.silent else math.log2(self.m / self.u)

    def weight_sql(self) -> str:
        """The weight as SQL: a number, or with a term, that number adjusted by this pair's shared value."""
        if self.silent:
            return "0.0"
        if self.term is None:
            return _number(self.weight)
        adjust = f"least(greatest(log2({self.u!r} / {self.term}_share), -{TERM_CAP}), {TERM_CAP})"
        weight = f"{_number(self.weight)} + {adjust}"
        return weight if self.floor is None else f"greatest({weight}, {self.floor!r})"

    def evidence_sql(self) -> str:
        """'one typo, +4.7' as SQL, or NULL for a silent or unshown level."""
        if self.silent or not self.shown:
            return "NULL"
        if self.term is None:
            return quote(f"{self.label}, {self.weight:+.1f}")
        return f"{quote(self.label + ', ')} || printf('%+.1f', {self.weight_sql()})"


def _number(value: float) -> str:
    return repr(round(value, 4))


def unknown(*similarities: str) -> Level:
    """The silent first level: a side is blank, so the field says nothing."""
    return Level("unknown", " OR ".join(f"{s} IS NULL" for s in similarities), silent=True)


# --- Comparisons --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """A field compared level by level: the first level whose condition holds fires; none firing weighs 0.

    `column` names the pair's level index (0 for the first level; len(levels) when none fires).
    `learned` comparisons get m and u from the data; the others keep their priors.
    """

    field: str
    column: str
    levels: tuple[Level, ...]
    # SQL naming the field per pair, for comparisons over fields an admin defines (identity fields).
    field_sql: str | None = None
    learned: bool = True

    def index_sql(self) -> str:
        """CASE over the levels' conditions giving the index of the one that fires."""
        whens = " ".join(f"WHEN {level.condition} THEN {i}" for i, level in enumerate(self.levels))
        return f"CASE {whens} ELSE {len(self.levels)} END"

    def weight_sql(self) -> str:
        """CASE over the level index giving the weight of the level that fired."""
        whens = " ".join(
            f"WHEN {i} THEN {level.weight_sql()}" for i, level in enumerate(self.levels) if not level.silent
        )
        return f"CASE {self.column} {whens} ELSE 0.0 END" if whens else "0.0"

    def evidence_sql(self) -> str:
        """CASE over the level index giving 'field: level, weight' of the level that fired (NULL when silent)."""
        name = quote(f"{self.field}: ") if self.field_sql is None else f"{self.field_sql} || ': '"
        whens = " ".join(
            f"WHEN {i} THEN {name} || {level.evidence_sql()}"
            for i, level in enumerate(self.levels)
            if level.evidence_sql() != "NULL"
        )
        return f"CASE {self.column} {whens} ELSE NULL END" if whens else "NULL"

    def silent_indexes(self) -> list[int]:
        """Level indexes that carry no evidence: silent levels and 'none fired'."""
        return [i for i, level in enumerate(self.levels) if level.silent] + [len(self.levels)]

    def level(self, label: str) -> Level:
        """The level called `label`."""
        return next(level for level in self.levels if level.label == label)

    def with_probabilities(self, m: Sequence[float], u: Sequence[float]) -> "Comparison":
        """This comparison with each non-silent level's m and u replaced (indexes as in `levels`)."""
        levels = tuple(
            level if level.silent else replace(level, m=float(m[i]), u=float(u[i]))
            for i, level in enumerate(self.levels)
        )
        return replace(self, levels=levels)


def joined_evidence(parts: list[str]) -> str:
    """The parts' texts joined by '; ', skipping NULLs; NULL when there are none."""
    return f"nullif(concat_ws('; ', {', '.join(parts)}), '')"


def weight_sql(comparisons: Sequence[Comparison]) -> str:
    """The pair's weight of evidence (log2 odds before the prior): every comparison's weight summed."""
    return "\n + ".join(comparison.weight_sql() for comparison in comparisons)


def evidence_sql(comparisons: Sequence[Comparison]) -> str:
    """'first name: exact, +6.2; last name: one typo, +4.7; ...': what each comparison found."""
    return joined_evidence([comparison.evidence_sql() for comparison in comparisons])


# --- The project's comparisons ------------------------------------------------------------------------------


def name_comparison(field: str, column: str, similarity: str, term: str, short: str, usual: str | None) -> Comparison:
    """A name: equal (weighed by how rare it is), the same usual form (Bob, Robert), one typo away,
    one the start of the other (Kat, Katherine), similar, different."""
    nickname = (Level("nickname", f"{usual}", 0.03, 0.002),) if usual else ()
    return Comparison(
        field,
        column,
        (
            unknown(similarity),
            Level("exact", f"{similarity} >= 0.999", 0.82, 0.01, term=term, u_from_counts=True),
            *nickname,
            Level("one typo", f"{similarity} >= 0.92", 0.08, 0.003),
            Level("shortened", short, 0.03, 0.002),
            Level("similar", f"{similarity} >= 0.85", 0.02, 0.02),
            Level("different", "TRUE", 0.02, 0.96),
        ),
    )


FIRST_NAME = name_comparison("first name", "g_fn", "s_fn", "fn", "short_fn", "same_fc")
LAST_NAME = name_comparison("last name", "g_ln", "s_ln", "ln", "short_ln", None)
# First and last name typed the wrong way round: the names above were then read crossed.
NAME_ORDER = Comparison(
    "names",
    "g_order",
    (
        unknown("a.fn", "a.ln", "b.fn", "b.ln"),
        Level("swapped", "swapped", 0.02, 0.0005),
        Level("as typed", "TRUE", 0.98, 0.9995, shown=False),
    ),
)
BIRTHDAY = Comparison(
    "birthday",
    "g_dob",
    (
        unknown("s_dob"),
        Level("exact", "s_dob >= 1.0", 0.9, 0.0001, term="dob", u_from_counts=True),
        Level("one typo", "s_dob >= 0.87", 0.06, 0.001),
        Level("different", "TRUE", 0.04, 0.999),
    ),
)
# Address, postal code and city describe one place, so they count once, by the best level reached: a
# household shares all of them, and only names and birthdays tell its members apart. Sharing even a common
# city is never worse than not knowing it.
PLACE = Comparison(
    "address",
    "g_place",
    (
        Level("same street and area", "s_addr >= 0.9 AND (s_pc = 1.0 OR s_city >= 0.9)", 0.75, 1e-5, term="addr"),
        Level(
            "same street", "s_addr >= 0.9 AND coalesce(s_pc >= 0.75 OR s_city >= 0.9, TRUE)", 0.05, 5e-5, term="addr"
        ),
        Level("same postal code and city", "s_pc = 1.0 AND s_city >= 0.9", 0.05, 1e-3, term="pc"),
        Level("same postal code", "s_pc = 1.0", 0.02, 1e-3, term="pc"),
        Level("near postal code, same city", "s_pc >= 0.75 AND s_city >= 0.9", 0.02, 2e-3, term="city", floor=0.5),
        Level("same city", "s_city >= 0.9", 0.06, 0.02, term="city", floor=0.0),
        Level("different", "s_addr IS NOT NULL OR s_pc IS NOT NULL OR s_city IS NOT NULL", 0.05, 0.97),
    ),
)
STATE = Comparison(
    "state",
    "g_state",
    (unknown("same_st"), Level("same", "same_st", 0.95, 0.3, shown=False), Level("different", "TRUE", 0.05, 0.7)),
)
# People keep several addresses and numbers, so a different one is only weak evidence against.
EMAIL = Comparison(
    "email",
    "g_email",
    (
        unknown("same_ek"),
        Level("same mailbox", "same_ek", 0.5, 1e-6, term="ek", u_from_counts=True),
        Level("same name elsewhere", "same_el", 0.1, 1e-5, term="el", u_from_counts=True),
        Level("one typo", "typo_el", 0.05, 1e-4),
        Level("different", "TRUE", 0.35, 0.999),
    ),
)
PHONE = Comparison(
    "phone",
    "g_phone",
    (
        unknown("same_ph"),
        Level("same number", "same_ph", 0.5, 1e-6, term="ph", u_from_counts=True),
        Level("one digit off", "near_ph", 0.1, 1e-5),
        Level("different", "TRUE", 0.4, 0.99999),
    ),
)
# Colleagues share a company as households share an address: a little evidence.
COMPANY = Comparison(
    "company",
    "g_company",
    (
        unknown("s_company"),
        Level("same", "s_company >= 0.95", 0.5, 0.1),
        Level("different", "TRUE", 0.5, 0.9),
    ),
)
# An identity value (a customer number), per identity field of the pair (rows a and b of dup_identity); the
# pair's best field counts. It weighs by its rarity, and one typo away is still strong.
IDENTITY_LEVELS = (
    Level("exact", "a.value = b.value", 0.9, 1e-6, term="identity"),
    Level("one typo", f"{edit_similarity('a.value', 'b.value')} >= 0.85", 0.05, 1e-6),
    Level("different", "TRUE", 0.05, 0.999999),
)
IDENTITY = Comparison("identity", "g_identity", IDENTITY_LEVELS, field_sql="identity_label")
# A shared name with nothing else agreeing is how two strangers called Maria Garcia look. With weights learned
# per value (a common name weighs little, a rare one much) the names alone decide; this fixed correction for
# the names' dependence on each other is kept for callers that want it, but is no longer among COMPARISONS.
CORROBORATED = (
    "s_dob >= 0.87 OR s_addr >= 0.9 OR s_pc >= 0.75 OR s_city >= 0.9 OR same_ek OR same_el OR near_ph"
    " OR g_identity <= 1"
)
NAMES_ALONE = Comparison(
    "names alone",
    "g_alone",
    (Level("nothing else agrees", f"NOT coalesce({CORROBORATED}, FALSE)", 1.0, 16.0),),
    learned=False,
)

# Everything that weighs on a candidate pair, in the order its evidence reads.
COMPARISONS: tuple[Comparison, ...] = (
    FIRST_NAME,
    LAST_NAME,
    NAME_ORDER,
    BIRTHDAY,
    PLACE,
    STATE,
    EMAIL,
    PHONE,
    COMPANY,
    IDENTITY,
)
