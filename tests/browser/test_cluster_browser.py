"""`make run-cluster` in a real browser: two browsers that nginx sent to two different app processes; one edits
a contact, the other sees the edit in the list its process had cached (the write stamps are in PostgreSQL,
core/stamps.py), and a browser signed in through one process is signed in on another (sessions are in the
database). The launcher runs its default path: a throwaway PostgreSQL with a workspace file copied in (--from)."""

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from core.accounts.users import create_first_admin
from core.cli.cluster import UPSTREAM_HEADER
from core.contacts.models import ContactInput
from core.contacts.records import create_contact
from core.db import open_database
from tests.browser.conftest import _require_browser, wait_for_app
from tests.browser.test_contacts_browser import grid_cell
from tests.cluster.launcher import ClusterRun, require_cluster_tools

pytestmark = [pytest.mark.browser, pytest.mark.postgres]
PASSWORD = "cluster-browser-password"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterRun]:
    _require_browser()
    require_cluster_tools()
    workspace = tmp_path_factory.mktemp("cluster") / "workspace.duckdb"
    con = open_database(workspace)
    create_first_admin(con, "admin", "Admin", PASSWORD)
    create_contact(con, ContactInput(contact_id="grace", first_name="Grace", last_name="Hopper"), "admin")
    create_contact(con, ContactInput(contact_id="alan", first_name="Alan", last_name="Turing"), "admin")
    con.close()
    env = {key: value for key, value in os.environ.items() if key != "CONTACTS_DB"}  # not an existing PostgreSQL
    run = ClusterRun("--from", str(workspace), env={**env, "CONTACTS_INGEST_TOKEN": "cluster-browser-token"})
    yield run
    assert run.stop() == 0, "\n".join(run.output[-40:])


def signed_in_context(browser: object, run: ClusterRun) -> tuple[object, object, str]:
    """A new browser context signed in through nginx: (context, page, the app process nginx keeps it on)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    answer = page.goto(run.url + "/api/login")
    upstream = answer.headers[UPSTREAM_HEADER.lower()]
    page.fill("input[name=user]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(run.url + "/", timeout=30_000)
    wait_for_app(page)
    return context, page, upstream


def test_an_edit_on_one_process_shows_on_another(browser, cluster: ClusterRun):
    editor_context, editor, editor_process = signed_in_context(browser, cluster)
    for _ in range(20):  # new browsers land on a random process: take one that is not the editor's
        viewer_context, viewer, viewer_process = signed_in_context(browser, cluster)
        if viewer_process != editor_process:
            break
        viewer_context.close()
    else:
        pytest.fail(f"20 new browsers all landed on {editor_process}")

    viewer.goto(cluster.url + "/contacts?q=hopper")  # this list is now cached in the viewer's process
    wait_for_app(viewer)
    grid_cell(viewer, "Grace").wait_for(state="attached")

    editor.goto(cluster.url + "/contact?id=grace")
    wait_for_app(editor)
    editor.get_by_label("First name").fill("Amazing")
    editor.get_by_role("button", name="Save changes").click()
    wait_for_app(editor)

    viewer.goto(cluster.url + "/contacts?q=hopper")  # the viewer's process, which did not make the edit
    wait_for_app(viewer)
    grid_cell(viewer, "Amazing").wait_for(state="attached")
    assert "contacts_route" not in viewer.evaluate("() => document.cookie")  # nginx's route cookie is HttpOnly

    # The editor's session, made on its process, holds on the viewer's process too (opened directly on its port).
    other = next(port for port in cluster.app_ports if viewer_process.endswith(f":{port}"))
    editor.goto(f"http://localhost:{other}/contact?id=grace")
    wait_for_app(editor)
    expect(editor.get_by_label("First name")).to_have_value("Amazing")
    editor_context.close()
    viewer_context.close()
