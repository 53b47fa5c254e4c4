"""The cluster launcher killed outright (kill -9) leaves nothing running: its reaper (core/cli/reaper.py) stops the
app processes, nginx and the throwaway PostgreSQL, and removes their folders."""

import re
import signal
import time
import urllib.request
from pathlib import Path

import pytest

from tests.cluster.launcher import ClusterRun, require_cluster_tools

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _found(pattern: str, output: list[str]) -> Path:
    for line in output:
        match = re.search(pattern, line)
        if match:
            return Path(match.group(1))
    raise AssertionError(f"no line matches {pattern!r}:\n" + "\n".join(output))


def test_a_launcher_killed_outright_leaves_nothing_running():
    require_cluster_tools()
    run = ClusterRun("--contacts", "200", processes=2)
    try:
        logs = _found(r"Logs in (\S+)\. Ctrl-C", run.output)
        postgres = _found(r"a throwaway cluster in (\S+) \(", run.output)
        assert logs.exists() and postgres.exists()
        assert all(_answers(port) for port in [run.port, *run.app_ports])

        run.process.send_signal(signal.SIGKILL)
        run.process.wait(10)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
            logs.exists() or postgres.exists() or any(_answers(port) for port in [run.port, *run.app_ports])
        ):
            time.sleep(0.5)
    finally:
        run.stop()
    assert not any(_answers(port) for port in [run.port, *run.app_ports])
    assert not logs.exists()
    assert not postgres.exists()
