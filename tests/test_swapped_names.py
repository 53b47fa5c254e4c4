"""Swapped names are weighed by how common the shared names are where they belong (issue 15: at a million
contacts every namesake of a swapped record looked like it)."""

import duckdb
import pytest
from conftest import AddContact

from core.duplicates.likely import drop_profile, profile, scored_sql


def swapped_evidence(con: duckdb.DuckDBPyConnection, add_contact: AddContact, swapped_first: bool) -> dict[str, str]:
    for i, other in enumerate(["Ito", "Oda", "Ueda"]):
        add_contact(con, f"k{i}", stored=True, first_name="Keiko", last_name=other)
        add_contact(con, f"t{i}", stored=True, first_name=other[::-1].title(), last_name="Tanabe")
    keiko, swapped = {"first_name": "Keiko", "last_name": "Tanabe"}, {"first_name": "Tanabe", "last_name": "Keiko"}
    for contact_id, fields in zip("ab", (swapped, keiko) if swapped_first else (keiko, swapped), strict=True):
        add_contact(con, contact_id, stored=True, **fields)
    profile(con)
    try:
        scored = scored_sql("SELECT 'a' AS id_a, 'b' AS id_b", evidence=True)
        [(evidence,)] = con.execute(f"SELECT evidence FROM ({scored})").fetchall()
    finally:
        drop_profile(con)
    return dict(part.split(": ", 1) for part in evidence.split("; "))


@pytest.mark.parametrize("swapped_first", [True, False])
def test_a_swapped_name_weighs_as_common_as_it_is_in_either_field(fresh_db, add_contact, swapped_first):
    """'Tanabe Keiko' holds a rare first name and a rare last name only because it is swapped: Tanabe is a
    common last name and Keiko a common first name here, so the swapped match counts as little as theirs,
    whichever of the two contacts holds the swapped reading."""
    evidence = swapped_evidence(fresh_db, add_contact, swapped_first)
    # 8 contacts with names; 4 hold Keiko as a first name, 4 Tanabe as a last name, so 3 other than the contact
    # weighed hold each: log2(0.88 * 8 / 3).
    assert evidence["first name as last name"] == evidence["last name as first name"] == "exact, +1.2"
    assert evidence["names"] == "swapped, -1.0"
