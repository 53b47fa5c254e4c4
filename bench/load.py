"""`make bench-load`: N concurrent users against a running server, per-interaction latency and server CPU.

The server is `streamlit run server.py` (what `make run` serves) on a private copy of the demo database, on
loopback only. Each simulated user signs in over HTTP (POST /api/login, the session cookie) and then speaks
Streamlit's own websocket protocol (`/_stcore/stream`, BackMsg/ForwardMsg protobufs from streamlit.proto) from
asyncio, as a browser tab would: no browser, so the driver costs little of the two cores it measures (its own
CPU time is printed). An interaction is one script run: the time from sending the rerun to the server's
script-finished message. Opening a page is a run of its address (the list keeps its whole view in the URL, so
a segment is applied that way, as a link or a reload does); the search is typed into the list's search box and
the page turned with its Next button, which rerun the list's fragment alone, as in a browser (`--full-reruns`:
whole page runs of the list's address instead, as before the fragment).

Each user repeats: open the list, search, page forward, apply a saved segment, open a contact, go back; with a
think time between steps. Bounded: `--rounds` sequences per user and `--seconds` per level at most.
`--detect` also starts a duplicate detection (a background job) as the levels begin, to see the list's latency
while it runs. Figures: per interaction kind median, p95 and max; the server's CPU seconds per interaction
(from /proc/PID/stat before and after the level).
"""

import argparse
import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench.common import BENCH_DIR, demo_database

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "load-bench-password-1"
FINISHED = {
    ForwardMsg.FINISHED_SUCCESSFULLY,
    ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Workload:
    """What the simulated users type and open, taken from the database."""

    searches: list[str]
    segment: str
    contact_ids: list[str]


def prepare_database(contacts: int, path: Path | None = None) -> tuple[Path, Workload]:
    """A private copy of the demo database (the shared one stays as it is), with a password and a saved segment.

    The copy is `path` (default data/bench/load_<contacts>.duckdb), made from the demo only when missing."""
    from core.db import open_database
    from core.views.filters import parse_filter
    from core.views.segments import all_segments, save_segment

    path = path or BENCH_DIR / f"load_{contacts}.duckdb"
    if not path.exists():
        shutil.copyfile(demo_database(contacts), path)
    con = open_database(path)
    from core.accounts.users import reset_password

    reset_password(con, "admin", PASSWORD, "admin")
    if not any(segment.name == "Load customers" for segment in all_segments(con)):
        customers = parse_filter({"conditions": [{"field": "lead_stage", "op": "any_of", "value": ["Customer"]}]})
        save_segment(con, "Load customers", customers, "admin")
    segment = next(segment.key for segment in all_segments(con) if segment.name == "Load customers")
    names = [row[0] for row in con.execute("SELECT last_name FROM contacts USING SAMPLE 40 ROWS").fetchall() if row[0]]
    ids = [row[0] for row in con.execute("SELECT contact_id FROM contacts USING SAMPLE 40 ROWS").fetchall()]
    con.execute("CHECKPOINT")
    con.close()
    searches = sorted({name[:5].lower() for name in names if len(name) >= 3})
    return path, Workload(searches=searches, segment=str(segment), contact_ids=ids)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(path: Path, port: int) -> subprocess.Popen[bytes]:
    """`streamlit run server.py` on loopback, on this database; waits until it answers its health check."""
    env = {**os.environ, "CONTACTS_DB": str(path)}
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "streamlit"),
            "run",
            "server.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return server
        except OSError:  # refused, reset or timed out while it starts (a busy machine)
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the server did not start within two minutes")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def sign_in(port: int) -> str:
    """POST /api/login as the demo admin; the session cookie's value."""
    body = urllib.parse.urlencode({"user": "admin", "password": PASSWORD}).encode()
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        answer = opener.open(f"http://127.0.0.1:{port}/api/login", data=body, timeout=30)
        headers = answer.headers
    except urllib.error.HTTPError as redirect:  # 303 to the app: not followed, its cookie is what counts
        headers = redirect.headers
    for cookie in headers.get_all("Set-Cookie") or []:
        name, _, rest = cookie.partition("=")
        if name.strip() == "contacts_session":
            return rest.split(";", 1)[0]
    raise RuntimeError("signing in gave no session cookie")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (all its threads), from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass
class Tab:
    """One simulated browser tab: a websocket session of the app.

    Like the browser, it keeps the address the app last set and the widgets the last run drew (their IDs and the
    fragment each belongs to), so a widget inside a fragment reruns that fragment alone, as a browser's would.
    """

    port: int
    cookie: str
    samples: list[tuple[str, float]] = field(default_factory=list)
    errors: int = 0
    page: str = ""
    query: str = ""
    widgets: dict[str, tuple[str, str]] = field(default_factory=dict)  # label -> (widget ID, fragment ID)

    async def open(self) -> None:
        self.socket = await websockets.connect(
            f"ws://127.0.0.1:{self.port}/_stcore/stream",
            subprotocols=[websockets.Subprotocol("streamlit")],
            additional_headers={"Cookie": f"contacts_session={self.cookie}", "Origin": f"http://127.0.0.1:{self.port}"},
            max_size=None,
        )

    async def run(self, page: str, query: dict[str, str], trigger: tuple[str, str] | None = None) -> list[ForwardMsg]:
        """One script run of a page with a query string (and a button press): the messages until it finished."""
        message = BackMsg()
        message.rerun_script.page_name = page
        message.rerun_script.query_string = urllib.parse.urlencode(query)
        message.rerun_script.widget_states.SetInParent()
        if trigger is not None:
            widget = message.rerun_script.widget_states.widgets.add()
            widget.id, widget.trigger_value = trigger[0], True
        self.page, self.widgets = page, {}
        return await self._send(message)

    async def use_widget(self, label: str, value: str | None = None) -> list[ForwardMsg] | None:
        """Type `value` into the text box with this label, or press the button with it (value None), as a browser
        does: a widget inside a fragment reruns that fragment alone. None when the last run drew no such widget."""
        if label not in self.widgets:
            return None
        widget_id, fragment_id = self.widgets[label]
        message = BackMsg()
        message.rerun_script.page_name = self.page
        message.rerun_script.query_string = self.query
        message.rerun_script.fragment_id = fragment_id
        widget = message.rerun_script.widget_states.widgets.add()
        widget.id = widget_id
        if value is None:
            widget.trigger_value = True
        else:
            widget.string_value = value
        return await self._send(message)

    async def _send(self, message: BackMsg) -> list[ForwardMsg]:
        await self.socket.send(message.SerializeToString())
        received = []
        while True:
            forward = ForwardMsg()
            forward.ParseFromString(await self.socket.recv())
            received.append(forward)
            kind = forward.WhichOneof("type")
            if kind == "page_info_changed":
                self.query = forward.page_info_changed.query_string
            elif kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                element = forward.delta.new_element
                if element.WhichOneof("type") in ("text_input", "button"):
                    widget = getattr(element, str(element.WhichOneof("type")))
                    self.widgets[widget.label] = (widget.id, forward.delta.fragment_id)
            elif kind == "script_finished" and forward.script_finished in FINISHED:
                return received

    async def timed(self, name: str, step: Callable[[], Awaitable[object]]) -> None:
        started = time.perf_counter()
        try:
            await step()
        except (websockets.ConnectionClosed, OSError):
            self.errors += 1
            await self.open()
            return
        self.samples.append((name, time.perf_counter() - started))


def element_kinds(messages: list[ForwardMsg]) -> set[str]:
    """The kinds of element a run drew (to check that the page, not the sign-in form, was shown)."""
    return {
        message.delta.new_element.WhichOneof("type") or ""
        for message in messages
        if message.WhichOneof("type") == "delta" and message.delta.WhichOneof("type") == "new_element"
    }


def button_id(messages: list[ForwardMsg], label: str) -> str | None:
    """The widget ID of the button with this label among a run's elements."""
    for message in messages:
        if message.WhichOneof("type") == "delta" and message.delta.WhichOneof("type") == "new_element":
            element = message.delta.new_element
            if element.WhichOneof("type") == "button" and element.button.label == label:
                return str(element.button.id)
    return None


async def user_session(tab: Tab, work: Workload, args: argparse.Namespace, deadline: float, seed: int) -> None:
    """Open the list, search, page forward, apply a segment, open a contact, go back; `args.rounds` times.

    The search is typed into the list's search box and the page turned with its Next button, as in a browser
    (each reruns the list's fragment); with `args.full_reruns`, each is a whole page run of the list's address.
    """
    pick = random.Random(seed)
    await tab.open()

    async def search(term: str) -> None:
        if args.full_reruns or await tab.use_widget("Search", term) is None:
            await tab.run("contacts", {"q": term})

    async def next_page(term: str) -> None:
        if args.full_reruns or await tab.use_widget("Next") is None:
            await tab.run("contacts", {"q": term, "page": "2"})

    for _ in range(args.rounds):
        term = pick.choice(work.searches)
        contact = pick.choice(work.contact_ids)
        steps: list[tuple[str, Callable[[], Awaitable[object]]]] = [
            ("open list", partial(tab.run, "contacts", {})),
            ("search", partial(search, term)),
            ("page forward", partial(next_page, term)),
            ("apply segment", partial(tab.run, "contacts", {"segment": work.segment})),
            ("open contact", partial(tab.run, "contact", {"id": contact})),
            ("go back", partial(tab.run, "contacts", {"segment": work.segment})),
        ]
        for name, step in steps:
            if time.monotonic() > deadline:
                return
            await tab.timed(name, step)
            await asyncio.sleep(args.think * pick.uniform(0.5, 1.5))
    await tab.socket.close()


async def start_detection(port: int, cookie: str) -> None:
    """Press "Find duplicates" on the Duplicates page: on a large database it starts a background job."""
    tab = Tab(port, cookie)
    await tab.open()
    found = button_id(await tab.run("duplicates", {}), "Find duplicates")
    if found is None:
        print("  (no Find duplicates button: detection not started)")
    else:
        await tab.run("duplicates", {}, trigger=(found, "Find duplicates"))
    await tab.socket.close()


async def level(port: int, cookie: str, users: int, work: Workload, args: argparse.Namespace) -> list[Tab]:
    deadline = time.monotonic() + args.seconds
    tabs = [Tab(port, cookie) for _ in range(users)]
    jobs = [user_session(tab, work, args, deadline, seed) for seed, tab in enumerate(tabs)]
    if args.detect:
        jobs.append(start_detection(port, cookie))
    await asyncio.gather(*jobs)
    return tabs


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def print_level(users: int, tabs: list[Tab], server_cpu: float, driver_cpu: float, wall: float) -> None:
    samples = [sample for tab in tabs for sample in tab.samples]
    count = len(samples)
    errors = sum(tab.errors for tab in tabs)
    print(f"\n{users} user{'s' if users > 1 else ''}: {count} interactions in {wall:.1f} s, {errors} reconnects")
    print(f"  {'interaction':<14} {'n':>4} {'median s':>9} {'p95 s':>7} {'max s':>7}")
    for name in dict.fromkeys(name for name, _ in samples):
        times = [seconds for kind, seconds in samples if kind == name]
        print(
            f"  {name:<14} {len(times):>4} {statistics.median(times):>9.3f} "
            f"{percentile(times, 0.95):>7.3f} {max(times):>7.3f}"
        )
    every = [seconds for _, seconds in samples]
    if every:
        print(
            f"  {'all':<14} {count:>4} {statistics.median(every):>9.3f} "
            f"{percentile(every, 0.95):>7.3f} {max(every):>7.3f}"
        )
        print(f"  server CPU per interaction: {server_cpu / count * 1000:,.0f} ms ({server_cpu:.1f} s in all)")
        print(f"  driver CPU per interaction: {driver_cpu / count * 1000:,.1f} ms ({driver_cpu:.2f} s in all)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000, help="size of the demo database")
    parser.add_argument("--users", default="1,4,8", help="concurrent users per level")
    parser.add_argument("--rounds", type=int, default=3, help="sequences per user and level")
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between a user's steps")
    parser.add_argument("--seconds", type=float, default=180, help="time bound per level")
    parser.add_argument("--detect", action="store_true", help="start a duplicate detection job at each level")
    parser.add_argument(
        "--full-reruns",
        action="store_true",
        help="search and page forward as whole page runs of the list's address (not its search box and Next button)",
    )
    parser.add_argument(
        "--db",
        type=Path,
        help="the private copy to serve (made from the demo when missing; default data/bench/load_<contacts>.duckdb)",
    )
    args = parser.parse_args()

    path, work = prepare_database(args.contacts, args.db)
    port = free_port()
    started = time.perf_counter()
    server = start_server(path, port)
    print(f"server on 127.0.0.1:{port} over {args.contacts:,} contacts, up in {time.perf_counter() - started:.1f} s")
    try:
        cookie = sign_in(port)
        warm = Tab(port, cookie)  # the first run of each page pays for imports and caches: not measured

        async def warm_up() -> None:
            await warm.open()
            if "dataframe" not in element_kinds(await warm.run("contacts", {})):
                raise RuntimeError("the contacts page showed no table: not signed in?")
            await warm.run("contact", {"id": work.contact_ids[0]})
            await warm.socket.close()

        asyncio.run(warm_up())
        for users in (int(n) for n in args.users.split(",")):
            server_before, driver_before, wall_before = cpu_seconds(server.pid), time.process_time(), time.monotonic()
            tabs = asyncio.run(level(port, cookie, users, work, args))
            print_level(
                users,
                tabs,
                cpu_seconds(server.pid) - server_before,
                time.process_time() - driver_before,
                time.monotonic() - wall_before,
            )
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
