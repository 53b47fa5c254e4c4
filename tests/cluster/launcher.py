"""`make run-cluster` (core/cli/cluster.py) for the tests: the launcher in a subprocess on free ports, waited for
until it prints that it is ready, stopped with Ctrl-C (SIGINT) as a user would."""

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core.cli.cluster import READY
from core.db.pg_cluster import find_bin_dir

ROOT = Path(__file__).resolve().parents[2]


def require_cluster_tools() -> None:
    """Skip without pg_ctl or nginx on a developer machine; in CI (CONTACTS_REQUIRE_POSTGRES=1) fail."""
    missing = []
    if find_bin_dir() is None:
        missing.append("pg_ctl (apt-get install postgresql)")
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        missing.append("nginx (apt-get install nginx)")
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            missing.append("a postgres user to run the server as (running as root)")
    if not missing:
        return
    message = "the cluster needs " + " and ".join(missing)
    if os.environ.get("CONTACTS_REQUIRE_POSTGRES") == "1" or os.environ.get("CI"):
        pytest.fail(f"required here (CONTACTS_REQUIRE_POSTGRES=1): {message}")
    pytest.skip(message)


def free_ports(count: int) -> int:
    """The first of `count` consecutive TCP ports nobody listens on right now."""
    for _ in range(200):
        first = random.randint(20_000, 45_000)
        try:
            for port in range(first, first + count):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return first
    raise RuntimeError("no free ports")


class ClusterRun:
    """`python -m core.cli.cluster` running: nginx on `port`, the apps on `app_ports`."""

    def __init__(self, *args: str, processes: int = 3, env: dict[str, str] | None = None, timeout: float = 240):
        first = free_ports(processes + 1)
        self.port = first
        self.app_ports = list(range(first + 1, first + 1 + processes))
        self.url = f"http://localhost:{self.port}"
        self.output: list[str] = []
        command = [
            *(sys.executable, "-m", "core.cli.cluster", "--port", str(self.port)),
            *("--app-ports", str(first + 1), "--processes", str(processes), *args),
        ]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not any(line.startswith(READY) for line in self.output):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the cluster did not start:\n" + "\n".join(self.output[-60:]))
            time.sleep(0.2)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line.rstrip("\n"))

    def app_url(self, index: int) -> str:
        return f"http://localhost:{self.app_ports[index]}"

    def stop(self) -> int:
        """Ctrl-C, as a user stops it: everything it started stops; its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode
