"""Backups on PostgreSQL are pg_dump's job: core.db.backup refuses with a message saying so, and the Settings
page shows it instead of its backup buttons (and does not fail)."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.db.backup import POSTGRES_BACKUPS, backup, backups_supported, restore
from core.errors import ContactsError
from tests.pages.conftest import navigation_pinned, sign_in_as  # noqa: F401 - navigation_pinned is autouse
from tests.postgres.test_app_on_postgres import app_on_postgres  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.postgres


def test_backup_and_restore_refuse_a_postgres_database_and_name_pg_dump(pg_db, pg_url, tmp_path):
    assert not backups_supported(pg_db)
    with pytest.raises(ContactsError, match="pg_dump"):
        backup(pg_db, tmp_path / "backup")
    assert not (tmp_path / "backup").exists()
    with pytest.raises(ContactsError, match="pg_restore"):
        restore(tmp_path, pg_url, replace=True)


def test_the_settings_page_on_postgres_says_backups_are_pg_dumps_job(app_on_postgres):  # noqa: F811
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    sign_in_as(app, "admin")
    app.run()
    app.switch_page("pages/settings.py")
    app.run()
    assert not app.exception
    assert any(POSTGRES_BACKUPS in info.value for info in app.info)
    assert not [button for button in app.button if button.key == "backup-now"]
