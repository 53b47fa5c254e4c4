"""The cluster launcher's reaper (`python -m core.cli.reaper FOLDER`): stops what `make run-cluster` started when
the launcher dies without stopping it (kill -9, the OOM killer, a closed terminal that took it down at once).

The launcher starts the reaper first, in a session of its own, holding the write end of the reaper's stdin. The
pipe closes when the launcher ends, however it ends, and the reaper then reads what the launcher recorded in
FOLDER/running.json: the process groups of the app processes and nginx, and the throwaway PostgreSQL. After a
clean stop the launcher has removed FOLDER already and the reaper has nothing to do.
"""

import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

from core.db.pg_cluster import Cluster

STATE = "running.json"
GRACE = 15.0  # seconds a process group has to stop after SIGTERM, as the launcher's own stop gives


def record(folder: Path, groups: list[int], postgres: Cluster | None) -> None:
    """Write what the reaper stops (replaced whole, so a reaper never reads half a file)."""
    cluster = None if postgres is None else {"folder": str(postgres.folder), "bin_dir": str(postgres.bin_dir)}
    state = {"groups": groups, "postgres": cluster}
    written = folder / f"{STATE}.new"
    written.write_text(json.dumps(state))
    written.replace(folder / STATE)


def _alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists (nginx under its own user, when not run as root)
        return True
    return True


def _signal(group: int, signum: int) -> None:
    try:
        os.killpg(group, signum)
    except (ProcessLookupError, PermissionError):
        pass


def reap(folder: Path) -> bool:
    """Stop the process groups and the throwaway PostgreSQL recorded in `folder`, then remove it; whether there
    was anything to stop."""
    try:
        state = json.loads((folder / STATE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return False
    groups = [int(group) for group in state["groups"]]
    for group in groups:
        _signal(group, signal.SIGTERM)
    deadline = time.monotonic() + GRACE
    while any(_alive(group) for group in groups) and time.monotonic() < deadline:
        time.sleep(0.2)
    for group in groups:
        if _alive(group):
            _signal(group, signal.SIGKILL)
    postgres = state.get("postgres")
    if postgres:
        Cluster(Path(postgres["folder"]), Path(postgres["bin_dir"])).stop()
    shutil.rmtree(folder, ignore_errors=True)
    return True


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the launcher's to handle
    while sys.stdin.buffer.read(4096):  # the launcher never writes: this returns when its end closes
        pass
    if reap(folder):
        print(f"The cluster launcher ended without stopping what it started: stopped it, removed {folder}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
