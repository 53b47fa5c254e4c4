"""The sign-in route's session cookie (ui/auth_routes.py): Secure when the browser came over HTTPS, also through
a trusted proxy that ends TLS and says so in X-Forwarded-Proto; never on the word of an untrusted client. The
route is called as an ASGI app, as uvicorn would (there is no HTTP test client installed)."""

import asyncio
from urllib.parse import urlencode

import pytest
from starlette.applications import Starlette

from core.accounts.users import create_first_admin
from core.db import open_database
from ui import session
from ui.auth_routes import ROUTES, SESSION_COOKIE

PASSWORD = "a long enough password"


@pytest.fixture
def app(tmp_path, monkeypatch):
    path = tmp_path / "auth.duckdb"
    con = open_database(str(path))
    create_first_admin(con, "ada", "Ada", PASSWORD)
    con.close()
    monkeypatch.setenv("CONTACTS_DB", str(path))
    session._connection.clear()
    yield Starlette(routes=ROUTES)
    session._connection.clear()


def _sign_in(app: Starlette, headers: dict[str, str], scheme: str = "http") -> str:
    """POST /api/login with the right password; the lower-cased Set-Cookie of the session."""
    body = urlencode({"user": "ada", "password": PASSWORD}).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": scheme,
        "path": "/api/login",
        "raw_path": b"/api/login",
        "query_string": b"",
        "root_path": "",
        "server": ("contacts.internal", 443 if scheme == "https" else 80),
        "client": ("127.0.0.1", 50000),
        "headers": [
            (b"host", b"contacts.internal"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(body)).encode()),
            *((key.lower().encode(), value.encode()) for key, value in headers.items()),
        ],
    }
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(message for message in sent if message["type"] == "http.response.start")
    assert start["status"] == 303, sent
    [cookie] = [value.decode() for key, value in start["headers"] if key == b"set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    return cookie.lower()


def test_plain_http_without_a_proxy_gets_no_secure_flag(app, monkeypatch):
    monkeypatch.delenv("CONTACTS_CLIENT_HEADER", raising=False)
    assert "; secure" not in _sign_in(app, {})


def test_a_client_claiming_https_without_a_trusted_proxy_is_not_believed(app, monkeypatch):
    monkeypatch.delenv("CONTACTS_CLIENT_HEADER", raising=False)
    assert "; secure" not in _sign_in(app, {"X-Forwarded-Proto": "https"})


def test_behind_a_trusted_proxy_ending_tls_the_cookie_is_secure(app, monkeypatch):
    monkeypatch.setenv("CONTACTS_CLIENT_HEADER", "X-Real-IP")
    cookie = _sign_in(app, {"X-Forwarded-Proto": "https", "X-Real-IP": "203.0.113.9"})
    assert "; secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert "; secure" not in _sign_in(app, {"X-Forwarded-Proto": "http", "X-Real-IP": "203.0.113.9"})


def test_https_itself_gives_a_secure_cookie(app, monkeypatch):
    monkeypatch.delenv("CONTACTS_CLIENT_HEADER", raising=False)
    assert "; secure" in _sign_in(app, {}, scheme="https")
