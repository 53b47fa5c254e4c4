"""Several app processes on one PostgreSQL behind nginx (`make run-cluster`, core/cli/cluster.py; issue 16
point 3): requests spread over the processes and a browser sticks to one; channel events posted to every process
at once are all kept, none twice; two processes editing one contact never lose an update; sign-in works
whichever process a request lands on. The launcher runs here on an existing PostgreSQL (CONTACTS_DB=URL, a
throwaway cluster of this module); tests/browser/test_cluster_browser.py runs it on its own throwaway one."""

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from websockets.sync.client import connect

from core.accounts.sessions import resume
from core.accounts.users import create_first_admin
from core.cli.cluster import ROUTE_COOKIE, UPSTREAM_HEADER
from core.contacts.models import ContactInput
from core.contacts.records import create_contact
from core.db import open_database, rows, scalar
from core.db.pg_cluster import Cluster, find_bin_dir, start_cluster
from tests.cluster.launcher import ROOT, ClusterRun, require_cluster_tools

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
TOKEN = "cluster-test-token"
PASSWORD = "cluster-admin-password"


@dataclass
class Running:
    run: ClusterRun
    database: str  # the URL every process uses


@pytest.fixture(scope="module")
def cluster() -> Iterator[Running]:
    require_cluster_tools()
    bin_dir = find_bin_dir()
    assert bin_dir is not None
    postgres: Cluster = start_cluster(bin_dir)
    try:
        url = postgres.new_database("cluster")
        con = open_database(url)
        create_first_admin(con, "admin", "Admin", PASSWORD)
        create_contact(con, ContactInput(contact_id="ada", first_name="Ada", last_name="Lovelace"), "admin")
        con.close()
        env = {**os.environ, "CONTACTS_DB": url, "CONTACTS_INGEST_TOKEN": TOKEN}
        run = ClusterRun(env=env)
        try:
            yield Running(run, url)
        finally:
            assert run.stop() == 0, "\n".join(run.output[-40:])
            assert not any(line.startswith("Traceback") for line in run.output), "\n".join(run.output)
    finally:
        postgres.stop()


@pytest.fixture
def con(cluster: Running):
    opened = open_database(cluster.database)
    yield opened
    opened.close()


def test_new_browsers_spread_over_the_processes_and_each_sticks_to_its_own(cluster: Running):
    seen = Counter()
    for _ in range(12):
        answer = requests.get(cluster.run.url + "/", timeout=30)
        assert answer.status_code == 200
        assert ROUTE_COOKIE in answer.cookies  # nginx hands a new browser its route
        seen[answer.headers[UPSTREAM_HEADER]] += 1
    assert len(seen) >= 2, seen  # 12 new browsers all on one of 3 processes: 1 in 177,147

    browser = requests.Session()
    first = browser.get(cluster.run.url + "/", timeout=30).headers[UPSTREAM_HEADER]
    for path in ("/", "/_stcore/health", "/contacts", "/_stcore/host-config"):
        answer = browser.get(cluster.run.url + path, timeout=30)
        assert answer.headers[UPSTREAM_HEADER] == first, path
        assert ROUTE_COOKIE not in answer.cookies  # kept, not handed again
    # Streamlit's websocket goes through nginx (Upgrade headers) to the same process.
    cookie = f"{ROUTE_COOKIE}={browser.cookies[ROUTE_COOKIE]}"
    address = cluster.run.url.replace("http://", "ws://") + "/_stcore/stream"
    with connect(address, subprotocols=["streamlit"], additional_headers={"Cookie": cookie}) as socket:
        assert socket.response.headers[UPSTREAM_HEADER] == first


def _events(batch: int, count: int) -> str:
    return "".join(
        json.dumps(
            {
                "type": "inbox",
                "channel": "WhatsApp",
                "social_id": f"+3460{batch:02d}{number:05d}",
                "name": f"Batch{batch} Person{number}",
                "at": f"2026-11-25T09:{number % 60:02d}:00Z",
                "text": f"batch {batch} message {number}",
            }
        )
        + "\n"
        for number in range(count)
    )


def _post(address: str, body: str) -> dict:
    """POST the events, again while another process's run holds the same contacts (409)."""
    for _ in range(40):
        answer = requests.post(
            address + "/api/ingest", data=body.encode(), headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120
        )
        if answer.status_code != 409:
            assert answer.status_code == 200, answer.text
            return answer.json()
    raise AssertionError("still refused as a conflict after 40 tries")


def test_events_posted_to_every_process_at_once_are_all_kept_once(cluster: Running, con):
    batches, per_batch = 6, 25
    bodies = {batch: _events(batch, per_batch) for batch in range(batches)}
    # Each batch goes to one process and, at the same moment, again to another one (or through nginx).
    targets = [cluster.run.app_url(index) for index in range(3)] + [cluster.run.url]
    sends = [(targets[batch % 4], bodies[batch]) for batch in bodies]
    sends += [(targets[(batch + 1) % 4], bodies[batch]) for batch in bodies]
    with ThreadPoolExecutor(len(sends)) as pool:
        reports = list(pool.map(lambda send: _post(*send), sends))
    assert sum(report["events"] for report in reports) == 2 * batches * per_batch
    assert sum(report["created"] for report in reports) == batches * per_batch  # each person created once
    total = batches * per_batch
    assert scalar(con, "SELECT count(*) FROM contacts WHERE first_name LIKE 'Batch%'") == total
    assert scalar(con, "SELECT count(DISTINCT social_id) FROM contacts WHERE first_name LIKE 'Batch%'") == total
    assert scalar(con, "SELECT count(*) FROM channel_identities WHERE social_id LIKE '+3460%'") == total
    assert scalar(con, "SELECT count(*) FROM messages WHERE text LIKE 'batch %'") == total


EDITOR = """
import json, sys, time
from core.contacts.records import update_contact
from core.db import open_database
from core.errors import StaleContactError

url, who, rounds, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
con = open_database(url)
for turn in range(rounds):
    while time.time() < start + turn * 0.5:  # both editors write each round at the same moment
        time.sleep(0.001)
    try:
        update_contact(con, "ada", {"last_name": f"{who}-{turn}"}, turn + 1, "admin")
        print(json.dumps([turn, "saved"]), flush=True)
    except StaleContactError as error:
        print(json.dumps([turn, "stale", error.message]), flush=True)
"""


def test_two_processes_editing_one_contact_never_lose_an_update(cluster: Running, con):
    """Each round both processes save the version they read: one saves, the other is told the contact changed."""
    rounds = 8
    start = time.time() + 4  # both processes have started by then (a late one is only told "stale")
    editors = [
        subprocess.Popen(
            [sys.executable, "-c", EDITOR, cluster.database, who, str(rounds), str(start)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in ("first", "second")
    ]
    outcomes: dict[int, list[str]] = {turn: [] for turn in range(rounds)}
    winners: dict[int, str] = {}
    for who, editor in zip(("first", "second"), editors, strict=True):
        out, err = editor.communicate(timeout=120)
        assert editor.returncode == 0, err
        for line in out.splitlines():
            turn, outcome, *_ = json.loads(line)
            outcomes[turn].append(outcome)
            if outcome == "saved":
                winners[turn] = who
    assert all(sorted(found) == ["saved", "stale"] for found in outcomes.values()), outcomes
    version, last_name = rows(con, "SELECT version, last_name FROM contacts WHERE contact_id = 'ada'")[0]
    assert version == rounds + 1
    assert last_name == f"{winners[rounds - 1]}-{rounds - 1}"  # the last saved edit, not lost under another
    logged = scalar(con, "SELECT count(*) FROM activity WHERE contact_id = 'ada' AND action = 'updated'")
    assert logged == rounds  # one entry per saved edit


def test_signing_in_on_one_process_holds_on_the_others(cluster: Running, con):
    signed = requests.post(
        cluster.run.app_url(0) + "/api/login",
        data={"user": "admin", "password": PASSWORD},
        allow_redirects=False,
        timeout=30,
    )
    assert signed.status_code == 303
    token = signed.cookies["contacts_session"]
    assert resume(con, token) == "admin"  # the session is in the database every process reads
    ended = requests.get(
        cluster.run.app_url(2) + "/api/logout", cookies={"contacts_session": token}, allow_redirects=False, timeout=30
    )
    assert ended.status_code == 303
    assert resume(con, token) is None  # another process ended it


def test_failed_sign_ins_count_across_processes_per_browser(cluster: Running, con):
    """Five failures from one browser's address, each on another process, slow that address down on every process;
    another browser (behind nginx every peer is 127.0.0.1: the apps take X-Real-IP, CONTACTS_CLIENT_HEADER) is not."""

    def sign_in(app: int, address: str, password: str, user: str = "admin") -> requests.Response:
        return requests.post(
            cluster.run.app_url(app) + "/api/login",
            data={"user": user, "password": password},
            headers={"X-Real-IP": address},
            allow_redirects=False,
            timeout=30,
        )

    try:
        for attempt in range(5):  # the free tries, spread over the processes
            assert "Wrong user name or password" in sign_in(attempt % 3, "203.0.113.7", "wrong", "mallory").text
        slowed = sign_in(2, "203.0.113.7", PASSWORD)
        assert slowed.status_code == 401
        assert "Too many failed sign-ins" in slowed.text
        assert sign_in(1, "198.51.100.1", PASSWORD).status_code == 303  # another browser signs in

        # Through nginx from another loopback address: the failure is counted against that address.
        connection = http.client.HTTPConnection(
            "127.0.0.1", cluster.run.port, timeout=30, source_address=("127.0.0.2", 0)
        )
        body = "user=eve&password=wrong"  # not mallory, who is slowed down by now
        connection.request("POST", "/api/login", body, {"Content-Type": "application/x-www-form-urlencoded"})
        assert connection.getresponse().status == 401
        connection.close()
        clients = {client for (client,) in rows(con, "SELECT DISTINCT client FROM sign_in_failures")}
        assert clients == {"203.0.113.7", "127.0.0.2"}
    finally:
        con.execute("DELETE FROM sign_in_failures")


def _pid_listening_on(port: int) -> int:
    """The app process serving `port` (its command line names the port)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"streamlit" in b" ".join(words) and str(port).encode() in words:
            return int(entry.name)
    raise AssertionError(f"no app process on port {port}")


def test_a_process_that_dies_is_replaced_and_its_browsers_served_meanwhile(cluster: Running, con):
    """Last in this module: one app process killed; nginx sends its browser to another one at once, still signed
    in (the session is in the database), and the launcher starts the process again."""
    signed = requests.post(
        cluster.run.url + "/api/login", data={"user": "admin", "password": PASSWORD}, allow_redirects=False, timeout=30
    )
    assert signed.status_code == 303
    browser = requests.Session()
    browser.cookies.update(signed.cookies)  # the route nginx gave it and the session
    first = browser.get(cluster.run.url + "/", timeout=30).headers[UPSTREAM_HEADER]
    port = int(first.rsplit(":", 1)[1])
    os.kill(_pid_listening_on(port), signal.SIGKILL)

    answer = browser.get(cluster.run.url + "/", timeout=30)
    assert answer.status_code == 200
    assert not answer.headers[UPSTREAM_HEADER].split(",")[-1].strip().endswith(f":{port}")  # tried, then another
    ended = browser.get(cluster.run.url + "/api/logout", allow_redirects=False, timeout=30)  # on another process
    assert ended.status_code == 303
    assert resume(con, signed.cookies["contacts_session"]) is None  # that process knew the session

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).status_code == 200:
                break
        except requests.RequestException:  # not listening yet, or starting
            pass
        time.sleep(0.5)
    else:
        raise AssertionError("the killed app process was not started again")
    assert any(f"port {port} stopped" in line for line in cluster.run.output)
