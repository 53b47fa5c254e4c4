"""`python -m core demo` on PostgreSQL (issue 16 point 1): the same generator writes the same demo on both stores."""

import json
import subprocess
import sys
from datetime import datetime

import duckdb
import polars as pl
import pytest

from core.channels.writing import MESSAGE_KEY_SQL
from core.db import frame, open_database, scalar
from core.demo.generator import demo_message_keys, generate_demo

pytestmark = pytest.mark.postgres

MOMENT = datetime(2026, 6, 1, 12)
# With these equal, what tests/test_demo.py checks of its DuckDB demo holds of PostgreSQL's (owners differ only by
# the fixture: pg_db's admin exists before the demo, so the demo keeps its name).
TABLES = (
    "contacts",
    "demo_truth",
    "custom_values",
    "custom_fields",
    "lead_stages",
    "conversations",
    "messages",
    "tickets",
    "notes",
    "media",
    "activity",
)


def _content(con, table: str) -> list[tuple]:
    # A message key is a 128-bit integer: compared as its digits (Polars has no type for it).
    key = ", CAST(message_key AS VARCHAR) AS key_digits" if table == "messages" else ""
    found = frame(con, f"SELECT *{key} FROM {table}").drop("message_key", strict=False)
    # IDs from sequences and stamps of the write itself differ between two databases; the rest must not.
    kept = [name for name in found.columns if name not in ("row_key", "version", "activity_id")]
    return sorted(tuple(str(value) for value in row) for row in found.select(kept).rows())


def test_the_demo_on_postgresql_is_the_demo_on_duckdb(pg_db):
    on_pg = generate_demo(pg_db, contacts=300, seed=3, now=MOMENT)
    duck = open_database()
    on_duck = generate_demo(duck, contacts=300, seed=3, now=MOMENT)
    assert on_pg.model_dump(exclude={"seconds"}) == on_duck.model_dump(exclude={"seconds"})
    assert on_pg.contacts == 300 and on_pg.messages > 0
    for table in TABLES:
        assert _content(pg_db, table) == _content(duck, table), table
    # The demo's contacts are searchable and its messages keyed as DuckDB's md5_number keys them.
    assert scalar(pg_db, "SELECT count(*) FROM search_postings") == scalar(duck, "SELECT count(*) FROM search_postings")


def test_demo_message_keys_are_duckdbs_md5_number():
    messages = pl.DataFrame({"conversation_id": [1, 22, 333_000], "rank": [0, 5, 17]})
    keyed = pl.concat([messages, demo_message_keys(messages)], how="horizontal")
    work = duckdb.connect()
    work.register("keyed", keyed)
    key = "md5_number(concat_ws(chr(0), 'demo', conversation_id, rank))"
    same = f"SELECT bool_and({key} = {MESSAGE_KEY_SQL}) FROM keyed"
    assert work.sql(same).fetchall() == [(True,)]


def test_the_demo_command_fills_a_postgresql_database(pg_url):
    command = [sys.executable, "-m", "core", "demo", "--db", pg_url, "--contacts", "200"]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    summary = json.loads(done.stdout)
    assert summary["contacts"] == 200 and summary["demo_admin"]["user"] == "admin"
    con = open_database(pg_url)
    assert scalar(con, "SELECT count(*) FROM contacts") == 200
    # A second run on a database holding contacts needs --force, as on an existing DuckDB file.
    again = subprocess.run(command, capture_output=True, text=True)
    assert again.returncode != 0 and "--force" in again.stderr
    subprocess.run([*command, "--force"], capture_output=True, text=True, check=True)
    assert scalar(con, "SELECT count(*) FROM contacts") == 400
    con.close()
