"""Learning m and u from the data: EM finds known m from patterns drawn with known m and u, learned weights
replace the priors in the scoring and its evidence, and nicknames read as their usual form."""

import itertools
import math
from dataclasses import replace

import duckdb
import numpy as np
import pytest
from conftest import AddContact

from core.duplicates.comparisons import (
    COMPARISONS,
    BestReading,
    Comparison,
    FrequencyLevel,
    Level,
    Reading,
    blank,
    unknown,
)
from core.duplicates.learning import (
    PRIOR_PAIRS,
    Patterns,
    anchored,
    estimate_u,
    expectation_maximisation,
    fixed_weights,
    learned_comparisons,
    lifted,
    pattern_weights,
    prior_m,
    relearned,
    spoken,
)
from core.duplicates.likely import NAME_LIFT_SQL, likely_pairs, place_lift
from core.duplicates.names import usual_name

M = np.array([0.8, 0.15, 0.05])
U = np.array([0.01, 0.04, 0.95])


def three_level(field: str) -> Comparison:
    """exact / close / different, with priors some way off the truth."""
    return Comparison(
        field,
        (Level("exact", "x = 0", 4.0), Level("close", "x = 1", 1.0), Level("different", "x = 2", -1.0)),
    )


def drawn_patterns(comparisons: int, matches: float, strangers: float) -> Patterns:
    """The expected count of every pattern when matches follow M and strangers U, level by level."""
    patterns = list(itertools.product(range(3), repeat=comparisons))
    counts = [matches * np.prod(M[list(p)]) + strangers * np.prod(U[list(p)]) for p in patterns]
    return Patterns(np.array(patterns), np.array(counts), np.zeros(len(patterns)))


def test_em_recovers_known_m_from_pairs_drawn_with_known_m_and_u():
    comparisons = [three_level(f"field {k}") for k in range(4)]
    u = [np.append(U, 1.0) for _ in comparisons]
    learned = expectation_maximisation(tuple(comparisons), comparisons, drawn_patterns(4, 5_000, 50_000), u)
    for m in learned.m:
        assert m[:3] == pytest.approx(M, abs=0.03)
    assert learned.match_share == pytest.approx(5_000 / 55_000, abs=0.01)
    assert learned.iterations < 100


@pytest.mark.parametrize(("m_blank", "u_blank"), [(0.3, 0.1), (0.05, 0.2)])
def test_em_learns_how_much_a_field_left_blank_says(m_blank, u_blank):
    # One person's records leave the field blank more often than strangers' (hasty copies), or less (complete
    # records): EM finds the blank level's m, and its weight says which, from pairs drawn with known m and u.
    with_blank = Comparison("email", (Level("same", "x = 0", 4.0), Level("different", "x = 1", -1.0), blank("x = 2")))
    m_email = np.array([0.5, 0.5 - m_blank, m_blank])
    u_email = np.array([0.001, 0.999 - u_blank, u_blank])
    comparisons = [three_level(f"field {k}") for k in range(3)] + [with_blank]
    patterns = list(itertools.product(range(3), repeat=4))
    counts = [
        5_000 * np.prod(M[list(p[:3])]) * m_email[p[3]] + 50_000 * np.prod(U[list(p[:3])]) * u_email[p[3]]
        for p in patterns
    ]
    drawn = Patterns(np.array(patterns), np.array(counts), np.zeros(len(patterns)))
    u = [np.append(U, 1.0) for _ in range(3)] + [np.append(u_email, 1.0)]
    learned = expectation_maximisation(tuple(comparisons), comparisons, drawn, u)
    assert learned.m[3][:3] == pytest.approx(m_email, abs=0.03)
    [*_, email] = learned_comparisons(relearned(tuple(comparisons), comparisons, learned))
    assert email.levels[2].weight == pytest.approx(math.log2(m_blank / u_blank), abs=0.2)


def test_a_comparison_a_rule_blocks_on_is_left_out():
    comparisons = [three_level(f"field {k}") for k in range(5)]
    u = [np.append(U, 1.0) for _ in comparisons]
    used = [False, True, True, True, True]
    learned = expectation_maximisation(tuple(comparisons), comparisons, drawn_patterns(5, 5_000, 50_000), u, used)
    # The left-out comparison keeps its prior m (u * 2^weight, normalised); the others find the truth.
    prior = U * 2.0 ** np.array([4.0, 1.0, -1.0])
    assert learned.m[0][:3] == pytest.approx(prior / prior.sum())
    for m in learned.m[1:]:
        assert m[:3] == pytest.approx(M, abs=0.05)


def test_u_comes_from_random_pairs_and_a_frequency_level_from_the_value_counts():
    comparison = Comparison(
        "name",
        (unknown("s"), FrequencyLevel("exact", "s = 1", 0.9, "t.total", "n"), Level("different", "TRUE", -3.0)),
    )
    random_levels = np.array([[0]] * 10 + [[1]] * 2 + [[2]] * 88)
    [u] = estimate_u([comparison], random_levels, [{1: 0.004}])
    assert u[1] == 0.004  # from the value counts, not the sample's 2 in 90
    assert u[2] == pytest.approx(88 / 93)  # the rare level counts as seen MIN_U_COUNT (5) times
    assert list(spoken(comparison)) == [False, True, True, False]


def test_relearned_levels_carry_learned_weights_and_unseen_levels_keep_their_prior():
    comparison = three_level("field")
    learned = expectation_maximisation((comparison,), [comparison], drawn_patterns(1, 100, 100), [np.append(U, 1.0)])
    learned.seen[0][1] = 0.0  # as if no true pair had been seen at 'close'
    [again] = learned_comparisons(relearned((comparison,), [comparison], learned))
    assert again.levels[1].weight == 1.0
    assert again.levels[0].weight == pytest.approx(float(np.log2(learned.m[0][0] / U[0])), abs=0.01)


@pytest.mark.parametrize(("name", "usual"), [("bob", "robert"), ("kate", "catherine"), ("katherine", "catherine")])
def test_nicknames_read_as_their_usual_form(name, usual):
    assert usual_name(name) == usual
    assert usual_name("ottoline") == "ottoline"


def test_a_small_database_keeps_the_priors(fresh_db: duckdb.DuckDBPyConnection, add_contact: AddContact):
    add_contact(fresh_db, "bg", stored=True, first_name="Quentin", last_name="Abernathy", city="Bath")
    add_contact(fresh_db, "a", stored=True, first_name="Ada", last_name="Quennell", city="Leeds")
    add_contact(fresh_db, "b", stored=True, first_name="Ada", last_name="Quenell", city="Leeds")
    fixed = likely_pairs(fresh_db, learn=False)
    assert likely_pairs(fresh_db).equals(fixed)


def test_two_contacts_that_are_one_person_fit_a_prior(fresh_db: duckdb.DuckDBPyConnection, add_contact: AddContact):
    # One possible pair, and it is likely: the fitted rate must stay below one pair in one (was a division by zero).
    for contact_id in ("a", "b"):
        add_contact(
            fresh_db,
            contact_id,
            stored=True,
            first_name="Ada",
            last_name="Quennell",
            city="Leeds",
            birthday="1980-02-03",
            postal_code="LS1 4AB",
            address="3 Park Row",
            email="ada@example.com",
            phone="+14155550101",
        )
    pairs = likely_pairs(fresh_db)
    assert pairs.select("contact_a", "contact_b").rows() == [("a", "b")]
    assert 0.5 <= pairs["score"][0] <= 1.0


def test_an_anchored_comparison_takes_m_from_the_pairs_a_shared_number_links():
    place, other = replace(three_level("place"), learned=False, anchored=True), three_level("other")
    u = [np.append(U, 1.0), np.append(U, 1.0)]
    anchors = Patterns(np.array([[0, 2], [1, 2], [2, 2]]), np.array([700.0, 200.0, 100.0]), np.zeros(3))
    new_place, new_other = anchored((place, other), [place, other], anchors, u)
    m = (np.array([700.0, 200.0, 100.0]) + PRIOR_PAIRS * prior_m(place, u[0])[:3]) / (1000 + PRIOR_PAIRS)
    assert [level.weight for level in new_place.levels] == pytest.approx(np.log2(m / U).round(2))
    assert new_other == other  # not anchored: left to EM


def test_a_lift_makes_an_agreeing_rare_place_count_less():
    place = Comparison("place", (FrequencyLevel("same", "x = 0", 0.5, "t.n", "n"),), learned=False, anchored=True)
    anchors = Patterns(np.array([[0]]), np.array([1000.0]), np.zeros(1))
    u = [np.array([0.01, 1.0])]
    [plain], [lifted_place] = anchored((place,), [place], anchors, u), anchored((place,), [place], anchors, u, 4.0)
    assert plain.levels[0].m / lifted_place.levels[0].m == pytest.approx(4.0, rel=0.01)


def _names_and_towns(con: duckdb.DuckDBPyConnection, town: str) -> None:
    """1,000 contacts: ten first names, last names all different, ten towns of 100 each given by `town` (SQL
    over i)."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE dup_profile AS
        SELECT i::VARCHAR AS id, 'f' || (i % 10) AS fn, md5(i::VARCHAR) AS ln, 'c' || ({town}) AS city,
               100 AS city_n FROM range(1000) t(i)""")
    con.execute("CREATE OR REPLACE TEMP TABLE dup_totals AS SELECT 1000 AS n, 1000 AS city_total")


@pytest.mark.parametrize(("town", "lift"), [("i % 10", 10.0), ("(i // 10) % 10", 1.0)])
def test_the_place_lift_is_how_much_likelier_namesakes_share_a_town(town, lift):
    con = duckdb.connect()
    _names_and_towns(con, town)
    assert place_lift(con) == pytest.approx(lift, rel=0.05)


def test_names_count_less_together_and_alone_by_the_lift():
    parts = lifted(COMPARISONS, 4.0)
    lifted_levels = [p.levels[0] for p in learned_comparisons(parts) if p.field in ("names together", "names alone")]
    assert [(level.weight, level.silent) for level in lifted_levels] == [(-2.0, False), (-2.0, False)]
    quiet = [p.levels[0] for p in learned_comparisons(lifted(COMPARISONS, 1.02)) if p.field == "names together"]
    assert quiet[0].silent
    assert math.log2(1.02) < 0.1


def _profiled_names(con: duckdb.DuckDBPyConnection, wang_town: str) -> None:
    """2,000 contacts in ten towns of 200: 100 hold the last name Wang, each with another first initial, in the
    towns `wang_town` gives (SQL over i); everyone else has a last name of their own."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE dup_base AS
        SELECT i::VARCHAR AS id, chr((97 + i % 26)::INTEGER) || 'name' AS fn,
               CASE WHEN i < 100 THEN 'wang' ELSE md5(i::VARCHAR) END AS ln,
               'c' || CASE WHEN i < 100 THEN {wang_town} ELSE i % 10 END AS city
        FROM range(2000) t(i)""")
    con.execute("CREATE OR REPLACE TEMP TABLE dup_nicknames AS SELECT 'x' AS name, 'x' AS usual")
    con.execute(NAME_LIFT_SQL)


def test_a_name_whose_holders_share_a_town_has_a_place_lift_and_one_spread_out_has_none():
    con = duckdb.connect()
    _profiled_names(con, "0")  # every Wang in one town: about ten times likelier than two random contacts
    [(lift,)] = con.execute("SELECT lift FROM dup_name_lift WHERE field = 'ln' AND name = 'wang'").fetchall()
    assert 2.5 < lift < math.log2(10.0)  # shrunk a little towards none
    _profiled_names(con, "i % 10")  # spread over the towns like everyone else
    assert con.execute("SELECT * FROM dup_name_lift WHERE name = 'wang'").fetchall() == []


def test_em_leaves_out_a_reading_it_is_not_trained_on():
    x = Comparison("x", (Level("equal", "s = 1", 1.0), Level("different", "TRUE", -1.0)), learned=False)
    y = Comparison("y", (Level("equal", "t = 1", 5.0), Level("no", "TRUE", -99.0)), learned=False)
    names = BestReading((Reading((x,)), Reading((y,), field="names", label="mailbox", trained=False)))
    levels = np.array([[1, 0], [0, 1]])
    u = [np.array([0.5, 0.5, 1.0]), np.array([0.5, 0.5, 1.0])]
    weights = [fixed_weights(c, u[k]) for k, c in enumerate((x, y))]
    assert list(pattern_weights((names,), [x, y], weights, levels)) == [-1.0, 1.0]
    trained = BestReading((Reading((x,)), replace(names.readings[1], trained=True)))
    assert list(pattern_weights((trained,), [x, y], weights, levels)) == [5.0, 1.0]
