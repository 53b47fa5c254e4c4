"""How much of the noisy generator's truth any detector could find: the evidence each true pair carries.

`python -m bench.noisy_ceiling data/bench/noisy/noisy_100000.duckdb` reads the files bench.noisy writes beside the
database (`*.contacts.parquet`, `*.truth.parquet`) and sorts every true pair of rows into what the two records
share: folded into one contact by the import; a mailbox or a number (or a number one digit off); both names and
the city; both names only; one name and the other close (a typo or a cut); one name only; names only close; no
name. For pairs whose only evidence is the full name, it also counts every pair of contacts with that evidence
(strangers included) by city (same, different, missing), how many contacts hold the name and how big the city is:
where strangers outnumber one person's records, no detector can link such pairs without linking more strangers.
The recall ceiling printed is optimistic: it counts every other pair that shares a channel, or a name and
anything close, as findable.
"""

import argparse
from pathlib import Path
from typing import NamedTuple

import duckdb

CONTACTS = """
CREATE TABLE truth AS SELECT * FROM '{truth}';
CREATE TABLE c AS SELECT x.contact_id, lower(first_name) AS fn, lower(last_name) AS ln, lower(city) AS city,
       lower(email) AS em, right(regexp_replace(phone, '\\D', '', 'g'), 10) AS ph, r.n, r.person_id,
       count(*) OVER (PARTITION BY lower(city)) AS city_n
FROM '{contacts}' x
JOIN (SELECT contact_id, count(*) AS n, mode(person_id) AS person_id FROM truth
      WHERE contact_id IS NOT NULL GROUP BY contact_id) r USING (contact_id);
"""
# What two contacts share. Weighed by rows (a contact folded from three rows is three rows).
PAIR = """a.contact_id AS ca, b.contact_id AS cb, a.n * b.n AS w, a.person_id = b.person_id AS same,
       coalesce(a.em = b.em OR a.ph = b.ph OR levenshtein(a.ph, b.ph) = 1, FALSE) AS channel,
       CASE WHEN a.city IS NULL OR b.city IS NULL THEN 'missing' WHEN a.city = b.city THEN 'same'
            ELSE 'different' END AS city"""


def _level(x: str, y: str) -> str:
    return f"""CASE WHEN {x} IS NULL OR {y} IS NULL THEN 'missing' WHEN {x} = {y} THEN 'exact'
        WHEN starts_with({x}, {y}) OR starts_with({y}, {x}) OR damerau_levenshtein({x}, {y}) = 1 THEN 'close'
        ELSE 'different' END"""


EVIDENCE = f"""
CREATE TABLE true_pairs AS SELECT {PAIR}, {_level("a.fn", "b.fn")} AS f, {_level("a.ln", "b.ln")} AS l,
       a.fn = b.ln AND a.ln = b.fn AS swapped
FROM c a JOIN c b ON a.person_id = b.person_id AND a.contact_id < b.contact_id;
CREATE TABLE kinds AS SELECT *, CASE
    WHEN channel THEN '1 a mailbox or number'
    WHEN (f = 'exact' AND l = 'exact') OR swapped THEN CASE WHEN city = 'same' THEN '2 both names and city'
                                                          ELSE '3 both names, city ' || city END
    WHEN (f = 'exact' AND l = 'close') OR (l = 'exact' AND f = 'close') THEN '4 one name, the other close'
    WHEN f = 'exact' OR l = 'exact' THEN '5 one name only, city ' || city
    WHEN f = 'close' AND l = 'close' THEN '6 both names only close, city ' || city
    ELSE '7 no name agrees, city ' || city END AS kind
FROM true_pairs;
"""
# Every pair sharing the exact full name and no channel, strangers included, by cell: city, holders of the name
# (log2), city size (log2, when shared).
NAMESAKES = f"""
CREATE TABLE namesakes AS SELECT {PAIR},
       CAST(round(log2(count(*) OVER (PARTITION BY a.fn, a.ln))) AS INT) AS holders,
       CASE WHEN a.city = b.city THEN CAST(round(log2(a.city_n)) AS INT) ELSE -1 END AS place
FROM c a JOIN c b ON a.fn = b.fn AND a.ln = b.ln AND a.contact_id < b.contact_id;
CREATE TABLE cells AS SELECT city, holders, place, sum(w) FILTER (same) / sum(w) AS one_person
FROM namesakes WHERE NOT channel GROUP BY ALL;
"""


class Evidence(NamedTuple):
    """What the true pairs of rows share (`kinds`: kind -> pairs), and the recall no detector should pass."""

    total: int
    folded: int
    kinds: dict[str, int]
    namesakes: int
    bare: int
    ceiling: float


def evidence(path: Path) -> Evidence:
    """The evidence of the true pairs of the noisy database at `path` (see the module's doc)."""
    con = duckdb.connect()
    truth, contacts = path.with_suffix(".truth.parquet"), path.with_suffix(".contacts.parquet")
    con.execute(CONTACTS.format(truth=truth, contacts=contacts))
    con.execute(EVIDENCE)
    con.execute(NAMESAKES)
    [(total,)] = con.execute(
        "SELECT count(*) FROM truth a JOIN truth b ON a.person_id = b.person_id AND a.row < b.row"
    ).fetchall()
    [(across,)] = con.execute("SELECT sum(w) FROM kinds").fetchall()
    kinds = dict(con.execute("SELECT kind, sum(w) FROM kinds GROUP BY kind ORDER BY kind").fetchall())
    con.execute(
        """CREATE TABLE judged AS SELECT k.ca, k.cb, k.w, CASE
               WHEN k.kind[1] IN ('5', '6', '7') AND k.city <> 'same' THEN 'bare'
               WHEN coalesce(cells.one_person < 0.5, FALSE) THEN 'namesakes' ELSE 'findable' END AS verdict
           FROM kinds k
           LEFT JOIN namesakes s ON s.ca = k.ca AND s.cb = k.cb AND NOT s.channel
           LEFT JOIN cells ON cells.city = s.city AND cells.holders = s.holders AND cells.place = s.place"""
    )
    verdicts = dict(con.execute("SELECT verdict, sum(w) FROM judged GROUP BY verdict").fetchall())
    hopeless, bare = verdicts.get("namesakes", 0), verdicts.get("bare", 0)
    # Those may still be found through a third record of the person that both are findable with.
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    for a, b in con.execute("SELECT ca, cb FROM judged WHERE verdict = 'findable'").fetchall():
        parent[root(a)] = root(b)
    chained = sum(w for a, b, w in con.execute("SELECT ca, cb, w FROM judged").fetchall() if root(a) == root(b))
    con.close()
    return Evidence(total, total - across, kinds, hopeless, bare, (total - across + chained) / total)


def show(found: Evidence) -> None:
    total = found.total
    print(f"true pairs of rows: {total:,}; folded into one contact by the import: {found.folded:,}")
    for kind, pairs in found.kinds.items():
        print(f"  {kind:<40} {pairs:>9,}  {pairs / total:6.2%}")
    print(
        f"full name only, where strangers outnumber one person's records: {found.namesakes:,} "
        f"({found.namesakes / total:.2%}); one name or none, city different or missing: {found.bare:,} "
        f"({found.bare / total:.2%})"
    )
    print(
        f"recall ceiling (optimistic: every other pair found, and through them every pair they chain): "
        f"{found.ceiling:.4f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", type=Path, help="a noisy database built by bench.noisy (or bench.accuracy)")
    show(evidence(parser.parse_args().database))


if __name__ == "__main__":
    main()
