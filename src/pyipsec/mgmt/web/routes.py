"""The web page's routes: login and logout, the page itself, its static files, and (from
mgmt/web/config_view.py and mgmt/web/live.py) the configuration view and the live dashboard.

======================  =====================================================================
``GET /``               the page (the dashboard and the configuration view); a visitor without
                        a session is sent to ``/login``
``GET/POST /login``     the form; a login goes through :func:`pyipsec.io.http_server.login`
                        (mgmt/auth.Accounts: the ``web`` policy, the per-source failure limit,
                        the ``system,error,critical`` log line) and ends in a session cookie
``POST /logout``        ends the session (and its ``/user active`` entry)
``GET /static/...``     CSS, JavaScript (shipped in the package, no build step, no CDN)
``GET /web/menus``      the schema of every ``/ip ipsec`` menu (config_view.py)
``GET /web/items``      one menu's rows as ``print`` gives them (config_view.py)
``POST /web/run``       one command through ``commands.dispatch`` (config_view.py)
``GET /web/dashboard``  one dashboard snapshot (live.py)
``GET /events``         the dashboard as server-sent events (live.py)
======================  =====================================================================

Cookies: the session cookie (``pyipsec-session``, a random token kept by
:class:`~pyipsec.io.http_server.WebSessions`) is ``HttpOnly``, ``SameSite=Strict`` and
``Secure`` over ``www-ssl``. Cross-site request forgery is refused twice over: every
state-changing request (``POST``) must carry a token bound to the session (an HMAC of the
session token under a per-process key: header ``X-CSRF-Token`` or form field ``csrf``), and a
request whose ``Origin`` names another site is refused. The login form carries its own token
(a double-submitted cookie), so a foreign page cannot log a browser in either. Every page
answer carries a Content-Security-Policy that allows scripts and styles from this origin only
(no inline script), so text that reaches the page is never run; the page's JavaScript puts
values into the document as text nodes only.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import os
import secrets
import string
from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from pyipsec.mgmt.auth import LOGIN_FAILED
from pyipsec.mgmt.base import Session

if TYPE_CHECKING:
    from pyipsec.io.http_server import HttpContext

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"

LOGIN_COOKIE = "pyipsec-login"  # the login form's double-submitted token
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf"
MAX_FIELD = 4096  # characters of a login field at most
FORGED = "request refused: reload the page and try again"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # not no-referrer: under it browsers send ``Origin: null`` with a form POST, and the
    # same-origin check below could not tell the page's own forms from a sandboxed frame
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

WEB_KEY: web.AppKey[bytes] = web.AppKey("pyipsec-web-key", bytes)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# -- sessions and tokens ----------------------------------------------------------------------


def session_token(request: web.Request) -> str | None:
    from pyipsec.io.http_server import SESSION_COOKIE

    return request.cookies.get(SESSION_COOKIE) or None


def web_session(request: web.Request) -> Session | None:
    """The logged-in session of the request's cookie, or None."""
    from pyipsec.io.http_server import cookie_session

    return cookie_session(request)


def csrf_token(request: web.Request, token: str) -> str:
    """The CSRF token bound to the session ``token``."""
    key = request.app[WEB_KEY]
    return hmac.new(key, b"csrf:" + token.encode(), hashlib.sha256).hexdigest()


def same_origin(request: web.Request) -> bool:
    """False when the request's ``Origin`` (if any) is another origin than this one, or
    the browser says it comes from another site (Fetch Metadata ``Sec-Fetch-Site``)."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return origin == f"{request.scheme}://{request.host}"


def csrf_ok(request: web.Request, sent: str | None) -> bool:
    token = session_token(request)
    if token is None or not sent or not same_origin(request):
        return False
    return hmac.compare_digest(csrf_token(request, token), sent)


def require_session(request: web.Request, *, write: bool = False) -> Session:
    """The request's session; 401 without one, 403 for a write without the CSRF token."""
    session = web_session(request)
    if session is None:
        raise web.HTTPUnauthorized(
            text='{"error": "not logged in"}', content_type="application/json"
        )
    if write and not csrf_ok(request, request.headers.get(CSRF_HEADER)):
        raise web.HTTPForbidden(text=f'{{"error": "{FORGED}"}}', content_type="application/json")
    return session


# -- templates --------------------------------------------------------------------------------


@cache
def template(name: str) -> string.Template:
    return string.Template((TEMPLATES / name).read_text(encoding="utf-8"))


def render(name: str, status: int = 200, **values: str) -> web.Response:
    """``templates/<name>`` with every value HTML-escaped."""
    text = template(name).substitute({k: html.escape(v, quote=True) for k, v in values.items()})
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def _secure(request: web.Request) -> bool:
    return request.secure


def _login_page(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    token = secrets.token_urlsafe(24)
    response = render("login.html", status, csrf=token, error=error)
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=_secure(request),
        path="/login",
    )
    return response


# -- handlers ---------------------------------------------------------------------------------


async def login_form(request: web.Request) -> web.StreamResponse:
    if web_session(request) is not None:
        raise web.HTTPFound("/")
    return _login_page(request)


async def login_submit(request: web.Request) -> web.StreamResponse:
    from pyipsec.io.http_server import SESSION_COOKIE, context_of, login, remote_address

    form = await request.post()
    sent = form.get(CSRF_FIELD)
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if (
        not isinstance(sent, str)
        or not cookie
        or not same_origin(request)
        or not hmac.compare_digest(sent.encode(), cookie.encode())
    ):
        return _login_page(request, FORGED, 403)
    name, password = form.get("name"), form.get("password")
    if not isinstance(name, str) or not isinstance(password, str):
        return _login_page(request, LOGIN_FAILED, 401)
    if len(name) > MAX_FIELD or len(password) > MAX_FIELD:
        return _login_page(request, LOGIN_FAILED, 401)
    context = context_of(request)
    found = await login(context, name, password, remote_address(request), "web", remember=False)
    if found is None:
        return _login_page(request, LOGIN_FAILED, 401)
    session, active_id = found
    token = context.web_sessions.create(session, active_id)
    response = web.HTTPSeeOther("/")
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="Strict", secure=_secure(request), path="/"
    )
    response.del_cookie(LOGIN_COOKIE, path="/login")
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    from pyipsec.io.http_server import SESSION_COOKIE, context_of

    token = session_token(request)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.post()
        field = form.get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    if token is None or web_session(request) is None:
        raise web.HTTPSeeOther("/login")
    if not csrf_ok(request, sent):
        raise web.HTTPForbidden(text=FORGED)
    context = context_of(request)
    context.accounts.logout(context.web_sessions.end(token))
    response = web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


async def page(request: web.Request) -> web.StreamResponse:
    session = web_session(request)
    token = session_token(request)
    if session is None or token is None:
        raise web.HTTPFound("/login")
    dialect = session.store.snapshot().dialect
    return render(
        "app.html",
        user=session.user,
        csrf=csrf_token(request, token),
        dialect=dialect,
        readonly="" if session.may("write") else "1",
    )


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Page answers (everything outside ``/rest``) carry the CSP and friends."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if not request.path.startswith("/rest"):
            exc.headers.update(SECURITY_HEADERS)
        raise
    if not request.path.startswith("/rest") and not response.prepared:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
    return response


def add_routes(app: web.Application, context: HttpContext) -> None:
    """The web page's routes on the daemon's application (io/http_server.build_app)."""
    from pyipsec.mgmt.web import config_view, live

    app[WEB_KEY] = os.urandom(32)
    app.middlewares.append(security_headers)
    app.router.add_get("/", page)
    app.router.add_get("/login", login_form)
    app.router.add_post("/login", login_submit)
    app.router.add_post("/logout", logout)
    app.router.add_static("/static/", STATIC, follow_symlinks=False)
    config_view.add_routes(app)
    live.add_routes(app)
