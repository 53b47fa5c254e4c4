"""A throwaway PostgreSQL cluster: initdb into a temp folder, pg_ctl start on a unix socket, stop. The tests
(tests/postgres/conftest.py) start one per xdist worker; `make run-cluster` (core/cli/cluster.py) one for the app.

Run as root, the server runs as the `postgres` user (PostgreSQL refuses root): the folder is handed to it and
initdb/pg_ctl run through `runuser -u postgres --`. Each pytest(-xdist) worker starts its own cluster in its own
folder, listening only on a socket in that folder, so workers never meet (no port, no lock).
"""

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg

SERVER_SETTINGS = [
    "listen_addresses=''",  # the socket only: nothing on the network
    "fsync=off",  # a throwaway cluster: speed over durability
    "full_page_writes=off",
    "synchronous_commit=off",
    "max_connections=100",
    "shared_buffers=32MB",
]


def find_bin_dir() -> Path | None:
    """The folder holding initdb and pg_ctl: on PATH, else Debian's /usr/lib/postgresql/<version>/bin."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(os.path.realpath(on_path)).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def _as_server_user() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@dataclass
class Cluster:
    """A running cluster: its folder, and a URL per database made with `new_database`."""

    folder: Path
    bin_dir: Path

    @property
    def socket_dir(self) -> Path:
        return self.folder

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}"

    def new_database(self, prefix: str = "t", name: str | None = None) -> str:
        """A new empty database (named `name`, else `prefix` and a random suffix); returns its URL."""
        name = name or f"{prefix}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as con:
            con.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
        return self.url(name)

    def stop(self) -> None:
        subprocess.run(
            [
                *_as_server_user(),
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.folder / "data"),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


def start_cluster(bin_dir: Path, prefix: str = "contacts-pg-") -> Cluster:
    """initdb and start a cluster in a new temp folder (owned by postgres when run as root)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    folder.chmod(0o700)
    data = folder / "data"
    run = _as_server_user()
    subprocess.run(
        [
            *run,
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ],
        capture_output=True,
        check=True,
    )
    options = " ".join(f"-c {setting}" for setting in SERVER_SETTINGS) + f" -k {folder}"
    subprocess.run(
        [
            *run,
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(folder / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        ],
        capture_output=True,
        check=True,
    )
    return Cluster(folder, bin_dir)
