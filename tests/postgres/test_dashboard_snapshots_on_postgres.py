"""The dashboard's stored snapshot across app processes on PostgreSQL (issue 16; core/dashboard/snapshots.py): a
second process shows the figures the first one kept without computing them, and a view after a write shows the
stored ones while a thread computes, stores and then shows the new ones."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.contacts.records import set_blocked
from tests.pages.conftest import navigation_pinned, sign_in_as  # noqa: F401 - navigation_pinned is autouse
from tests.postgres.conftest import serve_app_from

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]

# One app process's dashboard figures with every figure counted as slow: (computed here?, contacts, stamp).
PROCESS = """
import sys
import ui.dashboard
from core.db import open_database
ui.dashboard.SLOW_SECONDS = 0.0
computed = []
compute = ui.dashboard._all_figures
ui.dashboard._all_figures = lambda *args: computed.append(1) or compute(*args)
shot = ui.dashboard.figures(open_database(sys.argv[1]))
print(bool(computed), shot.value["kpis"].total, shot.stamp)
"""


@pytest.fixture
def app_on_postgres(pg_url: str, monkeypatch: pytest.MonkeyPatch):
    yield from serve_app_from(
        pg_url,
        monkeypatch,
        [
            ("Grace", "Hopper", "grace@navy.example"),
            ("Alan", "Turing", "alan@bletchley.example"),
            ("Ada", "Lovelace", "ada@engine.example"),
        ],
    )


def _process(url: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROCESS, url], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout.split()


def test_a_second_process_shows_the_figures_the_first_one_kept(app_on_postgres):
    first = _process(app_on_postgres)
    assert first[:2] == ["True", "3"]  # computed, and kept in the database
    second = _process(app_on_postgres)
    assert second == ["False", "3", first[2]]  # read, not computed: same stamp, no write since


def _dashboard() -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    sign_in_as(app, os.environ.get("CONTACTS_USER", "admin"))
    app.run()
    app.switch_page("pages/dashboard.py")
    return app.run()


def _contacts(app: AppTest) -> str:
    return {metric.label: metric.value for metric in app.metric}["Contacts"]


def test_a_new_process_after_a_write_shows_the_stored_figures_and_refreshes_them(app_on_postgres, monkeypatch):
    import ui.dashboard
    from core.dashboard import snapshots
    from core.db import open_database

    assert _process(app_on_postgres)[:2] == ["True", "3"]  # another app process kept its figures
    con = open_database(app_on_postgres)
    alan = [row[0] for row in con.execute("SELECT contact_id FROM contacts WHERE first_name = 'Alan'").fetchall()]
    set_blocked(con, alan, True, "admin")  # a write after them: the stored figures are behind
    con.close()

    monkeypatch.setattr(ui.dashboard, "SLOW_SECONDS", 0.0)
    ui.dashboard._board.clear()  # this process has none of its own
    computed_in: list[str] = []
    compute = ui.dashboard._all_figures

    released = threading.Event()  # the refresh waits until the test has seen the page show the stored figures

    def watched(*args, **kwargs):
        computed_in.append(threading.current_thread().name)
        released.wait(30)
        return compute(*args, **kwargs)

    monkeypatch.setattr(ui.dashboard, "_all_figures", watched)
    app = _dashboard()
    assert not app.exception
    assert _contacts(app) == "3"  # the stored figures at once
    assert any("newer figures are being computed" in caption.value for caption in app.caption)
    released.set()
    for _ in range(100):
        time.sleep(0.1)
        app.run()
        if _contacts(app) == "2":
            break
    assert _contacts(app) == "2"
    assert computed_in and all(name.startswith("dashboard-") for name in computed_in)
    from ui.session import db

    stored = snapshots.load(db(), snapshots.figure_key("figures"))
    assert stored is not None and stored.value["kpis"].total == 2  # kept for the next process
    assert _process(app_on_postgres)[:2] == ["False", "2"]


# As PROCESS, but each computation takes 4 s more (so that processes started together overlap), and a claim not
# renewed lapses after the second argument's seconds.
SLOW_PROCESS = PROCESS.replace(
    "computed = []",
    "import time\n"
    "from datetime import timedelta\n"
    "from core.dashboard import snapshots\n"
    "snapshots.MIN_LEASE = timedelta(seconds=float(sys.argv[2]))\n"
    "computed = []",
).replace("computed.append(1) or compute(*args)", "computed.append(1) or time.sleep(4) or compute(*args)")

# A process that claims the figures' first computation and dies without computing, nor ending its claim.
DYING_PROCESS = """
import os, sys
from datetime import timedelta
from core.dashboard import snapshots
from core.db import open_database
snapshots.MIN_LEASE = timedelta(seconds=float(sys.argv[2]))
assert snapshots.claim(open_database(sys.argv[1]), snapshots.figure_key("figures"), 0.0) is not None
os._exit(0)
"""


def _start(script: str, url: str, lease: float) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", script, url, str(lease)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )


def _outputs(processes: list[subprocess.Popen]) -> list[list[str]]:
    outputs = [process.communicate(timeout=180)[0].split() for process in processes]
    assert [process.returncode for process in processes] == [0] * len(processes)
    return outputs


def test_three_processes_starting_cold_compute_the_figures_once(app_on_postgres):
    """No snapshot stored yet: one process claims the first computation, the other two wait for its snapshot."""
    outputs = _outputs([_start(SLOW_PROCESS, app_on_postgres, 60) for _ in range(3)])
    assert sorted(output[0] for output in outputs) == ["False", "False", "True"]
    assert {tuple(output[1:]) for output in outputs} == {("3", outputs[0][2])}  # the same figures, the same stamp


def test_a_first_computation_whose_process_died_is_taken_over_once_its_claim_lapses(app_on_postgres):
    _outputs([_start(DYING_PROCESS, app_on_postgres, 2)])
    started = time.perf_counter()
    outputs = _outputs([_start(SLOW_PROCESS, app_on_postgres, 2) for _ in range(2)])
    assert sorted(output[0] for output in outputs) == ["False", "True"]  # one took it over, the other waited
    assert time.perf_counter() - started < 60
