"""A sampled count (a search's estimated total) is kept until the next write: the next page reuses it."""

from pathlib import Path

from core.accounts.users import bootstrap_admin
from core.db import open_database
from core.views import queries
from core.views.queries import _sampled_count, forget_searches


def test_a_sampled_count_is_kept_until_the_next_write(tmp_path: Path, add_contact) -> None:
    con = open_database(tmp_path / "contacts.duckdb")
    bootstrap_admin(con)
    forget_searches()
    add_contact(con, "ada", first_name="Ada")
    sql = "SELECT count(*) FROM contacts c WHERE c.first_name = $name"
    assert _sampled_count(con, sql, {"name": "Ada"}) == 1
    assert len(queries._samples) == 1
    assert _sampled_count(con, sql, {"name": "Ada"}) == 1  # kept: no second entry
    assert len(queries._samples) == 1
    add_contact(con, "ada2", first_name="Ada")  # a write moves the stamp: counted again
    assert _sampled_count(con, sql, {"name": "Ada"}) == 2
    forget_searches()
    assert not queries._samples
    con.close()


def test_an_in_memory_database_counts_each_time(fresh_db, add_contact) -> None:
    forget_searches()
    add_contact(fresh_db, "ada", first_name="Ada")
    assert _sampled_count(fresh_db, "SELECT count(*) FROM contacts", {}) == 1
    assert not queries._samples
