"""POST /api/backup: a consistent backup taken by the running app, for `python -m core backup --url`.

DuckDB lets one process hold the database file, so while the app runs only the app can read it whole. The
route answers loopback clients only (the backup lands on this machine's disk, in the app's backups folder,
never at a path the caller names), after checking an admin's user name and password (HTTP Basic, with the
sign-in's slow-down after failures). It answers the backup's manifest as JSON.
"""

import base64
import binascii
from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.accounts.permissions import require
from core.accounts.sessions import sign_in, sign_out
from core.db.backup import backup
from core.errors import ContactsError
from ui.auth_routes import client_address
from ui.backup import backups_folder
from ui.session import db

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def _credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, separator, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if separator else None


def _take_backup(user: str, password: str, client: str) -> dict:
    con = db()
    try:
        sign_out(con, sign_in(con, user, password, client))  # the password checked; no session kept
        require(con, user, "settings.manage")
        folder = backups_folder() / datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
        return backup(con, folder).model_dump()
    finally:
        con.close()


async def backup_endpoint(request: Request) -> JSONResponse:
    """POST /api/backup with `Authorization: Basic` (an admin): the new backup's manifest."""
    client = client_address(request)
    if client not in LOOPBACK:
        return JSONResponse({"error": "Backups over HTTP are taken for this machine only."}, status_code=403)
    credentials = _credentials(request)
    if credentials is None:
        return JSONResponse(
            {"error": "Send an admin's user name and password (HTTP Basic)."},
            status_code=401,
            headers={"WWW-Authenticate": 'Basic realm="contacts"'},
        )
    try:
        return JSONResponse(await run_in_threadpool(_take_backup, *credentials, client))
    except ContactsError as error:
        return JSONResponse({"error": error.message}, status_code=403)


BACKUP_ROUTES = [Route("/api/backup", backup_endpoint, methods=["POST"])]
