"""The process `make run` serves: the Streamlit app (app.py) plus the channels' HTTP endpoints.

DuckDB lets one process write the database, so the running app takes channel events itself:

    POST /api/ingest      JSON lines of events (core.channels.events), `Authorization: Bearer <token>`;
                          answers with the ingest report (core.channels.ingest.IngestReport), or a 4xx and a reason.
    GET  /api/chat-button?contact_id=ID
                          {"show": false} when the browser's cookie contact ID is a blocked contact.
    GET/POST /api/login, GET /api/logout
                          signing in and out with a session cookie (ui/auth_routes.py).
    POST /api/backup      a consistent backup into the app's backups folder, for an admin on this machine
                          (`python -m core backup --url`; ui/backup_route.py).

All use the same connection as the pages (ui.session), a cursor per request.
"""

import hmac

import duckdb
import streamlit as st
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.channels.events import parse_lines
from core.channels.ingest import ingest_events
from core.channels.reading import chat_button_visible
from core.config import ingest_token
from core.contacts.validation import default_country
from core.db.connection import is_write_conflict
from ui.auth_routes import ROUTES as SIGN_IN_ROUTES
from ui.backup_route import BACKUP_ROUTES
from ui.session import db
from ui.shell import pin_navigation

MAX_BODY_BYTES = 64 * 1024 * 1024
# Lines a request may hold: each becomes an event or a malformed entry of the answer, so this bounds the memory
# a request costs and the answer's size (`python -m core ingest --url` sends 20,000 lines a request).
MAX_LINES = 50_000
MAX_ORIGIN_LENGTH = 200


def _refusal(status: int, reason: str, **extra: object) -> JSONResponse:
    return JSONResponse({"error": reason, **extra}, status_code=status)


def _authorised(request: Request) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    # compare_digest: the time taken must not reveal how much of the token was right.
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), ingest_token().encode())


def _ingest(lines: list[str], origin: str) -> JSONResponse:
    """Check every line, then apply the valid ones as one run; a body with no valid event changes nothing."""
    con = db()
    try:
        events, malformed = parse_lines(lines, default_country(con))
        if not events:
            bad = [{"line": item.line, "reason": item.reason} for item in malformed]
            return _refusal(400, "The body holds no valid event." if bad else "The body holds no event.", malformed=bad)
        report = ingest_events(con, events, malformed, actor="channels", origin=origin)
        return JSONResponse(report.model_dump())
    except Exception as error:
        # PostgreSQL (several app processes): a key another process's run inserted meanwhile is a conflict too:
        # sent again, the events find what that run wrote.
        if not isinstance(error, duckdb.TransactionException) and not is_write_conflict(error, key_taken=True):
            raise
        return _refusal(409, f"Another change touched the same contacts; send the events again. ({error})")
    finally:
        con.close()


TOO_LARGE = (
    f"A request holds at most {MAX_BODY_BYTES // 1024 // 1024} MB and {MAX_LINES:,} lines; send the file in parts."
)


async def _bounded_body(request: Request) -> bytes | None:
    """The body, read as it arrives (a chunked body states no length); None once it passes a limit.

    Past the line limit the rest is read and dropped (up to the byte limit), so that the client, still
    sending, gets the 413 rather than a reset connection."""
    chunks: list[bytes] | None = []
    size, lines = 0, 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        lines += chunk.count(b"\n")
        if lines > MAX_LINES:
            chunks = None
        if chunks is not None:
            chunks.append(chunk)
    return None if chunks is None else b"".join(chunks)


async def ingest_endpoint(request: Request) -> JSONResponse:
    """POST /api/ingest: JSON lines in, the ingest report out."""
    if not _authorised(request):
        return JSONResponse(
            {"error": "Send the ingest token as 'Authorization: Bearer <token>'."},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    if int(request.headers.get("content-length") or 0) > MAX_BODY_BYTES:
        return _refusal(413, TOO_LARGE)
    body = await _bounded_body(request)
    if body is None:
        return _refusal(413, TOO_LARGE)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return _refusal(400, f"The body is not UTF-8 text: {error.reason} at byte {error.start}.")
    name = request.query_params.get("file", "")[:MAX_ORIGIN_LENGTH]
    return await run_in_threadpool(_ingest, text.splitlines(), f"http: {name}" if name else "http")


async def chat_button_endpoint(request: Request) -> JSONResponse:
    """GET /api/chat-button?contact_id=ID: whether the widget shows its chat button to this browser."""
    contact_id = request.query_params.get("contact_id") or None

    def check() -> bool:
        con = db()
        try:
            return chat_button_visible(con, contact_id)
        finally:
            con.close()

    return JSONResponse({"show": await run_in_threadpool(check)})


pin_navigation()  # before any session: pages/ never means the old file-based navigation (ui/shell.py)
ingest_token()  # kept from the start, so that `python -m core ingest --url` on this machine finds it

app = st.App(
    "app.py",
    routes=[
        Route("/api/ingest", ingest_endpoint, methods=["POST"]),
        Route("/api/chat-button", chat_button_endpoint, methods=["GET"]),
        *BACKUP_ROUTES,  # POST /api/backup: `python -m core backup --url` while the app runs (ui/backup_route.py)
        *SIGN_IN_ROUTES,  # GET/POST /api/login, GET /api/logout: the session cookie (ui/auth_routes.py)
    ],
)
