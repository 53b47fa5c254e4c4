"""The nginx configuration `make run-cluster` writes (core/cli/cluster.py) passes `nginx -t` and holds what the
cluster relies on: the cookie route, the websocket upgrade, the browser's address for the apps."""

import shutil
import subprocess
from pathlib import Path

from core.cli.cluster import nginx_config
from tests.cluster.launcher import require_cluster_tools


def test_the_written_configuration_passes_nginx_test(tmp_path: Path):
    require_cluster_tools()
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    config = tmp_path / "nginx.conf"
    config.write_text(nginx_config(tmp_path, 18_080, [18_091, 18_092, 18_093]))
    checked = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


def test_the_configuration_routes_by_cookie_and_passes_websockets(tmp_path: Path):
    written = nginx_config(tmp_path, 8500, [8511, 8512, 8513])
    assert "hash $route consistent;" in written  # not ip_hash: every browser behind one address would share a process
    assert '"" $request_id;' in written  # a new browser's route: its first request's random id
    assert "contacts_route=$request_id; Path=/; HttpOnly" in written
    assert "proxy_set_header Upgrade $http_upgrade;" in written
    assert "proxy_set_header Connection $connection_upgrade;" in written
    assert "proxy_set_header X-Real-IP $remote_addr;" in written
    assert all(f"server 127.0.0.1:{port};" in written for port in (8511, 8512, 8513))
    assert "listen 8500;" in written
    assert "listen 127.0.0.1:8500;" in nginx_config(tmp_path, 8500, [8511], listen="127.0.0.1")
