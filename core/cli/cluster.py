"""`make run-cluster` (`python -m core.cli.cluster`): several app processes on one PostgreSQL, behind nginx on one port.

    PostgreSQL   $CONTACTS_DB when it is a postgresql:// URL (migrated, its data left as it is); else a throwaway
                 cluster (core/db/pg_cluster.py: initdb/pg_ctl in a temp folder, a unix socket only) holding the
                 demo (built in a DuckDB file, then `migrate-store`d: the demo generator is DuckDB SQL) or the
                 workspace file given with --from.
    app          N processes (3 unless --processes) of `streamlit run server.py`, each on its own port of
                 127.0.0.1: the pages and /api/ingest, /api/login ... (server.py), all on the one database.
    nginx        Debian's, as a foreground process of this user (a non-root user when run as root), its config
                 and logs in a temp folder, listening on --port (8500) for every address.

Sticky sessions: a browser's websocket (/_stcore/stream) must stay on the process that holds its session
state. nginx picks the process by `hash $route consistent`, where $route is the browser's `contacts_route`
cookie; a request without one (a new browser, or an ingest client) takes its own random $request_id as the
route, and nginx sets the cookie to it, so each new browser lands on a random process and stays there.
(`ip_hash` would send every browser on one machine, or behind one proxy, to the same process.) Every answer
names its process in an `X-Contacts-Upstream` header. Streamlit's websocket gets the Upgrade headers and a long
read timeout.

What the processes share lives in PostgreSQL: the data, sign-in sessions (core/accounts/sessions.py) and the
write stamps that key the caches (core/stamps.py, migration 026). They share a cookie secret (Streamlit's XSRF
cookie) and the ingest token: $CONTACTS_INGEST_TOKEN, else the one kept in data/ for the database (created once
here before the processes start). They take a browser's address from nginx's X-Real-IP header
(CONTACTS_CLIENT_HEADER): every connection they see comes from nginx.

An app process that stops is started again; meanwhile nginx sends its browsers to another process (a refused
connection counts as a failure for 10 s), where they are still signed in. Ctrl-C (or SIGTERM) stops nginx, the
apps, and the throwaway PostgreSQL. If the launcher is killed outright (kill -9), its reaper (core/cli/reaper.py)
stops them instead.
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from core.cli import reaper
from core.config import ingest_token
from core.db import open_database
from core.db.connection import is_postgres_url
from core.db.pg_cluster import Cluster, find_bin_dir, start_cluster

ROOT = Path(__file__).resolve().parents[2]
READY = "Contacts cluster ready"  # the line printed once everything answers (tests wait for it)
ROUTE_COOKIE = "contacts_route"
UPSTREAM_HEADER = "X-Contacts-Upstream"
NGINX_USER = "nobody"  # who nginx runs as when this runs as root


def nginx_config(folder: Path, port: int, app_ports: list[int], listen: str = "") -> str:
    """nginx's whole configuration: one server on `port` in front of the app processes, sticky by cookie."""
    upstreams = "\n".join(f"        server 127.0.0.1:{app_port};" for app_port in app_ports)
    temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    return f"""
worker_processes 1;
daemon off;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{ worker_connections 1024; }}
http {{
    access_log {folder / "access.log"};
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};

    # The route: the browser's cookie, else this request's random id (then handed to the browser as its cookie).
    map $cookie_{ROUTE_COOKIE} $route {{
        "" $request_id;
        default $cookie_{ROUTE_COOKIE};
    }}
    map $cookie_{ROUTE_COOKIE} $route_cookie {{
        "" "{ROUTE_COOKIE}=$request_id; Path=/; HttpOnly; SameSite=Lax";
        default "";
    }}
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        "" close;
    }}
    upstream contacts_apps {{
        hash $route consistent;
{upstreams}
    }}
    server {{
        listen {listen + ":" if listen else ""}{port};
        client_max_body_size 64m;  # server.py's limit for an ingest request
        location / {{
            proxy_pass http://contacts_apps;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;  # with its port: Streamlit compares the Origin
            proxy_set_header X-Real-IP $remote_addr;  # the apps' CONTACTS_CLIENT_HEADER
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_read_timeout 1d;  # Streamlit's websocket stays open for the whole visit
            proxy_send_timeout 1d;
            proxy_buffering off;
            proxy_request_buffering off;
            add_header Set-Cookie $route_cookie always;
            add_header {UPSTREAM_HEADER} $upstream_addr always;
        }}
    }}
}}
"""


@dataclass
class Running:
    """What the launcher started, to stop in reverse order."""

    folder: Path
    url: str = ""
    port: int = 0
    app_ports: list[int] = field(default_factory=list)
    apps: list[subprocess.Popen] = field(default_factory=list)
    nginx: subprocess.Popen | None = None
    postgres: Cluster | None = None
    cookie_secret: str = ""  # Streamlit's, the same in every app process

    def print_logs(self, lines: int = 20) -> None:
        """The end of every log (the folder goes when the launcher stops)."""
        for log in sorted(self.folder.rglob("*.log")) + sorted(self.folder.glob("*.out")):
            tail = log.read_text(errors="replace").splitlines()[-lines:]
            if tail:
                print(f"--- {log.name}", *tail, sep="\n", file=sys.stderr)

    def record(self) -> None:
        """Tell the reaper what to stop should this launcher die without stopping it."""
        started = [process.pid for process in [self.nginx, *self.apps] if process is not None]
        reaper.record(self.folder, started, self.postgres)

    def stop(self) -> None:
        """Stop nginx, then the apps, then the throwaway PostgreSQL; remove the temp folder."""
        for process in [self.nginx, *self.apps]:
            if process is not None and process.poll() is None:
                process.terminate()
        for process in [self.nginx, *self.apps]:
            if process is None:
                continue
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.postgres is not None:
            self.postgres.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def _run_core(*args: str) -> dict:
    """`python -m core ARGS` (its JSON answer), failing with its message."""
    done = subprocess.run(
        [sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True, env=_core_env(), check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"python -m core {args[0]} failed: {(done.stderr or done.stdout).strip()[-2000:]}")
    return json.loads(done.stdout) if done.stdout.strip().startswith("{") else {}


def _core_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != "CONTACTS_DB"}


def prepare_database(running: Running, source: str | None, contacts: int) -> str:
    """The URL the apps use: $CONTACTS_DB's when it is PostgreSQL (migrated), else a throwaway cluster's with
    the workspace file `source`, or a demo of `contacts` contacts, copied in. Prints the demo admin's password."""
    configured = os.environ.get("CONTACTS_DB", "")
    if is_postgres_url(configured):
        open_database(configured).close()  # migrates; an empty one asks its first visitor for the first admin
        print(f"PostgreSQL: $CONTACTS_DB ({configured.split('@')[-1]}), migrated; its data left as it is.")
        return configured
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise SystemExit(
            "No PostgreSQL here (pg_ctl not on PATH nor in /usr/lib/postgresql/*/bin): apt-get install postgresql, "
            "or set CONTACTS_DB=postgresql://... to use a server you have."
        )
    running.postgres = start_cluster(bin_dir, prefix="contacts-cluster-pg-")
    running.record()
    url = running.postgres.new_database(name="contacts")
    if source is None:
        source = str(running.folder / "demo.duckdb")
        made = _run_core("demo", "--contacts", str(contacts), "--db", source)
        admin = made.get("demo_admin")
        if admin:
            print(f"Demo admin: sign in as '{admin['user']}' with password {admin['password']} (shown once).")
    _run_core("migrate-store", "--from", source, "--to", url)
    print(f"PostgreSQL: a throwaway cluster in {running.postgres.folder} (a unix socket only), database 'contacts'.")
    return url


def start_apps(running: Running) -> None:
    """`streamlit run server.py` on each app port, every one on the database at running.url."""
    running.apps = [start_app(running, port) for port in running.app_ports]
    running.record()


def start_app(running: Running, port: int) -> subprocess.Popen:
    """One app process on `port` (its output appended to app-PORT.log)."""
    env = {
        **os.environ,
        "CONTACTS_DB": running.url,
        "STREAMLIT_SERVER_COOKIE_SECRET": running.cookie_secret,
        # The browser's address for the sign-in slow-down and the backup route: every peer here is nginx.
        "CONTACTS_CLIENT_HEADER": "X-Real-IP",
    }
    command = [sys.executable, "-m", "streamlit", "run", "server.py", "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=(running.folder / f"app-{port}.log").open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C reaches this launcher only, which stops them in order
    )


def keep_apps_running(running: Running) -> None:
    """Start again an app process that stopped (nginx sends its browsers to the others meanwhile)."""
    for index, process in enumerate(running.apps):
        if process.poll() is not None:
            port = running.app_ports[index]
            print(f"The app process on port {port} stopped (exit {process.returncode}): starting it again.")
            running.apps[index] = start_app(running, port)
            running.record()


def start_nginx(running: Running, listen: str) -> None:
    """nginx in the foreground with its config, logs and temp files in a folder of its own."""
    nginx = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if nginx is None:
        raise SystemExit("No nginx here: apt-get install nginx (Debian's package; any of nginx, nginx-light).")
    folder = running.folder / "nginx"
    folder.mkdir()
    config = folder / "nginx.conf"
    config.write_text(nginx_config(folder, running.port, running.app_ports, listen))
    command = [nginx, "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(config)]
    if os.geteuid() == 0:  # not as root: a user who owns nothing else
        shutil.chown(folder, NGINX_USER)
        for made in folder.iterdir():
            shutil.chown(made, NGINX_USER)
        command = ["runuser", "-u", NGINX_USER, "--", *command]
    running.nginx = subprocess.Popen(
        command,
        cwd=folder,
        stdout=(running.folder / "nginx.out").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    running.record()


def wait_until_answering(ports: list[int], processes: list[subprocess.Popen], timeout: float = 120) -> None:
    """Wait until each port answers its health check; fail (the logs follow) if its process exited."""
    deadline = time.monotonic() + timeout
    waiting = {
        f"http://127.0.0.1:{port}/_stcore/health": process for port, process in zip(ports, processes, strict=True)
    }
    while waiting:
        for address, process in list(waiting.items()):
            if process.poll() is not None:
                raise SystemExit(f"A process exited before answering ({address}): see the logs below")
            try:
                with urllib.request.urlopen(address, timeout=2) as response:
                    if response.status == 200:
                        del waiting[address]
            except OSError:
                pass
        if waiting and time.monotonic() > deadline:
            raise SystemExit(f"Not answering after {timeout:.0f} s: {', '.join(waiting)} (logs below)")
        if waiting:
            time.sleep(0.3)


def _stop_on_signal(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.cli.cluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8500, help="nginx's port, the one address users open (8500)")
    parser.add_argument("--listen", default="", help="the address nginx listens on (default: every address)")
    parser.add_argument("--processes", type=int, default=3, help="app processes behind nginx (3)")
    parser.add_argument(
        "--app-ports",
        type=int,
        default=0,
        help="first app port (default --port + 11: 8511, 8512, ...; not make run's 8501)",
    )
    parser.add_argument("--contacts", type=int, default=5000, help="demo contacts for a throwaway PostgreSQL (5000)")
    parser.add_argument("--from", dest="source", help="a DuckDB workspace file to copy into the throwaway PostgreSQL")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    os.umask(0o077)  # logs, configs and the demo file: this user's only
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGINT, _stop_on_signal)  # also when started in the background, where SIGINT is ignored
    running = Running(folder=Path(tempfile.mkdtemp(prefix="contacts-cluster-")), port=args.port)
    running.folder.chmod(0o711)  # nginx's own user passes through to its folder (and reads nothing else)
    # Started first and in a session of its own: it stops what this launcher started if this dies unstopped.
    watchdog = subprocess.Popen(
        [sys.executable, "-m", "core.cli.reaper", str(running.folder)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        start_new_session=True,
    )
    first = args.app_ports or args.port + 11
    running.app_ports = list(range(first, first + args.processes))
    try:
        running.url = prepare_database(running, args.source, args.contacts)
        os.environ["CONTACTS_DB"] = running.url
        ingest_token()  # created (when not configured) before the processes start, so they all read one token
        running.cookie_secret = secrets.token_urlsafe(32)
        start_apps(running)
        wait_until_answering(running.app_ports, running.apps)
        start_nginx(running, args.listen)  # once the apps answer: nginx would count a refused connection a failure
        assert running.nginx is not None
        wait_until_answering([running.port], [running.nginx])
        apps = ", ".join(f"127.0.0.1:{port}" for port in running.app_ports)
        print(f"{READY}: http://localhost:{running.port} (nginx) in front of {args.processes} app processes ({apps}).")
        print(
            f"Channels post to http://localhost:{running.port}/api/ingest with $CONTACTS_INGEST_TOKEN, else the token"
        )
        print(f"kept for this database (python -m core ingest --url finds it with CONTACTS_DB={running.url}).")
        print(f"Logs in {running.folder}. Ctrl-C stops everything.", flush=True)
        while True:
            if running.nginx.poll() is not None:
                raise SystemExit(f"nginx stopped (exit {running.nginx.returncode}); logs below")
            keep_apps_running(running)
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("Stopping nginx, the app processes and the throwaway PostgreSQL.", flush=True)
        return 0
    except SystemExit:
        running.print_logs()
        raise
    finally:
        running.stop()
        assert watchdog.stdin is not None
        watchdog.stdin.close()  # after a clean stop it finds nothing left and exits


if __name__ == "__main__":
    sys.exit(main())
