"""The Settings page's backup section (ui/backup.py) under AppTest: back up the running database, restore it
into a new file that passes every invariant."""

from pathlib import Path

from tests.faults.invariants import check
from ui.backup import backups_folder


def _button(app, key: str):
    return next(button for button in app.button if button.key == key)


def test_back_up_then_restore_into_a_new_file(open_page, tmp_path: Path):
    app = open_page("pages/settings.py")
    assert not app.exception
    app = _button(app, "backup-now").click().run()
    assert not app.exception and any("Backed up 3 contacts" in item.value for item in app.success)
    assert len(list(backups_folder().glob("*/contacts.duckdb"))) == 1
    target = tmp_path / "restored.duckdb"
    app.text_input(key="backup-target").set_value(str(target)).run()
    app = _button(app, "backup-restore").click().run()
    assert any("Restored 3 contacts" in item.value for item in app.success), [e.value for e in app.error]
    assert check(target) == []
