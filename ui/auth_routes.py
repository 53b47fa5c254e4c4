"""Sign-in and sign-out over plain HTTP (server.py serves these routes beside the app).

    GET  /api/login    a small sign-in form (no Streamlit: it works before any session exists)
    POST /api/login    checks the password (core.accounts.sessions.sign_in: slow-down, wrong-password message);
                       on success sets the session cookie and sends the browser to the app
    GET  /api/logout   ends the session and clears the cookie

The cookie holds the session token (the database keeps only its SHA-256). It is HttpOnly (page scripts cannot
read it), SameSite=Strict (another site's page cannot make the browser send it) and Secure over HTTPS, also behind
a trusted proxy that ends TLS (served_over_https). The app's login gate (ui/login.py) reads it from
`st.context.cookies`, so a signed-in user stays signed in across reloads and new tabs until they sign out or the
session is idle too long.
"""

import html

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from core.accounts.sessions import sign_in, sign_out
from core.config import client_address_header
from core.errors import ContactsError
from ui.session import db

SESSION_COOKIE = "contacts_session"
LOGIN_PATH = "/api/login"
MAX_FIELD = 500

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · Contacts</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; background: #f6f7f9; display: flex; justify-content: center; }}
main {{ background: white; margin-top: 10vh; padding: 2rem 2.5rem; border-radius: 8px; width: 22rem;
        box-shadow: 0 1px 4px rgba(0,0,0,.1); }}
label {{ display: block; margin-top: 1rem; font-size: .9rem; }}
input {{ width: 100%; padding: .5rem; margin-top: .25rem; box-sizing: border-box; font-size: 1rem; }}
button {{ margin-top: 1.5rem; width: 100%; padding: .6rem; font-size: 1rem; background: #ff4b4b; color: white;
         border: 0; border-radius: 6px; cursor: pointer; }}
.error {{ color: #b00020; margin-top: 1rem; }}
</style></head>
<body><main><h1>Sign in to Contacts</h1>{message}
<form method="post" action="{action}">
<label>User name <input name="user" autocomplete="username" value="{user}" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form></main></body></html>"""


def login_page(message: str = "", user: str = "", status: int = 200) -> HTMLResponse:
    """The sign-in form, with a one-line message (escaped) when there is one."""
    shown = f'<p class="error" role="alert">{html.escape(message)}</p>' if message else ""
    body = _PAGE.format(message=shown, action=LOGIN_PATH, user=html.escape(user, quote=True))
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def client_address(request: Request) -> str:
    """The browser's address: the one the proxy in front states ($CONTACTS_CLIENT_HEADER, e.g. X-Real-IP), else
    the connection's peer. Behind a proxy every peer is the proxy: the sign-in slow-down would count every
    browser's failures as one client's, and the backup route would take every browser for this machine."""
    header = client_address_header()
    if header is not None:
        return request.headers.get(header, "")[:MAX_FIELD]
    return request.client.host if request.client else ""


def served_over_https(request: Request) -> bool:
    """Whether the browser reached us over HTTPS: the request's own scheme, or behind a proxy the app trusts (one
    $CONTACTS_CLIENT_HEADER names) the scheme it states in X-Forwarded-Proto. A proxy ending TLS talks plain HTTP
    to the app, which would otherwise send the session cookie without Secure."""
    if request.url.scheme == "https":
        return True
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return client_address_header() is not None and forwarded == "https"


async def login_form(request: Request) -> Response:
    """GET /api/login."""
    return login_page()


async def login_submit(request: Request) -> Response:
    """POST /api/login: sign in, set the cookie, go to the app; or the form again with the reason."""
    form = await request.form()
    user = str(form.get("user") or "")[:MAX_FIELD]
    password = str(form.get("password") or "")[:MAX_FIELD]
    client = client_address(request) or "browser"

    def check() -> str:
        con = db()
        try:
            return sign_in(con, user, password, client)
        finally:
            con.close()

    try:
        token = await run_in_threadpool(check)
    except ContactsError as error:
        return login_page(error.message, user, status=401)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=served_over_https(request),
        path="/",
    )
    return response


async def logout(request: Request) -> Response:
    """GET /api/logout: end the session this browser holds and clear its cookie."""
    token = request.cookies.get(SESSION_COOKIE)

    def end() -> None:
        con = db()
        try:
            sign_out(con, token)
        finally:
            con.close()

    await run_in_threadpool(end)
    response = RedirectResponse(LOGIN_PATH, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


ROUTES = [
    Route(LOGIN_PATH, login_form, methods=["GET"]),
    Route(LOGIN_PATH, login_submit, methods=["POST"]),
    Route("/api/logout", logout, methods=["GET"]),
]
