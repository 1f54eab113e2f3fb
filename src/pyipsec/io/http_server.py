"""The HTTP server of the ``www`` and ``www-ssl`` services: REST (mgmt/rest) and the web page
(mgmt/web) in one aiohttp application on the daemon's asyncio loop.

:class:`HttpServer` follows ``/ip service``: each of ``www`` (plain) and ``www-ssl`` (TLS with
the service's ``/certificate``, ``tls-version=only-1.2`` pinning TLS 1.2, the standard ``ssl``
module) listens on its ``port`` while it is not ``disabled``; a change of port, certificate,
TLS version or the enabled state restarts that listener alone (:meth:`HttpServer.poke`, called
by the daemon after every configuration change). A request from an address outside the
service's ``address`` allow-list gets 403 and nothing else.

Authentication is shared by REST and the web page and always goes through
:class:`pyipsec.mgmt.auth.Accounts` (its per-source failure limit and its log lines):

- REST: HTTP basic (RFC 7617) on every request, policy ``rest-api``. The scrypt check runs in
  a worker thread; a successful check is remembered for ``VERIFIED_TTL`` seconds as an HMAC of
  the password under a per-process key, tied to the stored hash (so a new password, a disabled
  user or a changed group takes effect at once: the user is looked up on every request).
- web page: :func:`login` (the form) then a random session cookie (:class:`WebSessions`).

Every accepted request gets a :class:`pyipsec.mgmt.base.Session` with the user's policies; the
command layer (``mgmt.commands.dispatch``) checks them (mgmt/auth.authorize).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import importlib
import logging
import os
import secrets
import ssl
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import BasicAuth, web
from aiohttp.http_exceptions import HttpProcessingError

from pyipsec.config.menus.users import SERVICE, USER
from pyipsec.config.store import Store
from pyipsec.config.table import Config, value_of
from pyipsec.io.api_server import tls_context
from pyipsec.mgmt.auth import Accounts, address_allowed, session_policies
from pyipsec.mgmt.base import NullRuntime, RuntimeProvider, Session
from pyipsec.mgmt.changes import ChangeFeed
from pyipsec.mgmt.first_start import tls_material

log = logging.getLogger("pyipsec.system")

WWW_SERVICES = ("www", "www-ssl")
MAX_BODY = 1 << 20  # bytes of a request body at most (413 beyond)
VERIFIED_TTL = 60.0  # seconds a checked basic-auth password is remembered
VERIFIED_MAX = 256
SESSION_COOKIE = "pyipsec-session"
SESSION_IDLE = 1800.0  # seconds a web session lives without a request
MAX_WEB_SESSIONS = 1024


@dataclass(slots=True)
class WebSessions:
    """Logged-in web sessions by the random token of their cookie: at most ``limit`` (the
    least recently used goes first), each ending after ``idle`` seconds without a request.
    Ended sessions' ``/user active`` ids wait in :meth:`take_ended` for Accounts.logout."""

    clock: Callable[[], float] = time.monotonic
    idle: float = SESSION_IDLE
    limit: int = MAX_WEB_SESSIONS
    by_token: OrderedDict[str, tuple[Session, int | None, float]] = field(
        default_factory=OrderedDict
    )
    ended: list[int] = field(default_factory=list)

    def _drop(self, token: str) -> None:
        entry = self.by_token.pop(token, None)
        if entry is not None and entry[1] is not None:
            self.ended.append(entry[1])

    def create(self, session: Session, active_id: int | None) -> str:
        now = self.clock()
        for token, (_, _, seen) in list(self.by_token.items()):
            if now - seen <= self.idle:
                break  # in order of last use: the rest are newer
            self._drop(token)
        while len(self.by_token) >= self.limit:
            self._drop(next(iter(self.by_token)))
        token = secrets.token_urlsafe(32)
        self.by_token[token] = (session, active_id, now)
        return token

    def get(self, token: str) -> Session | None:
        entry = self.by_token.get(token)
        if entry is None:
            return None
        session, active_id, seen = entry
        now = self.clock()
        if now - seen > self.idle:
            self._drop(token)
            return None
        self.by_token[token] = (session, active_id, now)
        self.by_token.move_to_end(token)
        return session

    def end(self, token: str) -> int | None:
        """Forget ``token``; the ``/user active`` id it held (for Accounts.logout)."""
        entry = self.by_token.pop(token, None)
        return entry[1] if entry is not None else None

    def take_ended(self) -> list[int]:
        """``/user active`` ids of sessions that ended by expiry or the limit."""
        out, self.ended = self.ended, []
        return out


@dataclass(slots=True, kw_only=True)
class HttpContext:
    """What the HTTP handlers (REST and web) reach the daemon through."""

    store: Store
    accounts: Accounts
    runtime: RuntimeProvider = field(default_factory=NullRuntime)
    changes: ChangeFeed | None = None
    log_ring: Any = None  # io.logging.RingHandler: what `/log print` shows
    files_dir: Path = field(default_factory=Path.cwd)
    # called after every command that may have changed something (the daemon applies the
    # configuration and runs the change feed)
    after_command: Callable[[], None] = lambda: None
    max_body: int = MAX_BODY
    web_sessions: WebSessions = field(default_factory=WebSessions)
    _key: bytes = field(default_factory=lambda: os.urandom(32), repr=False)
    _verified: OrderedDict[tuple[str, str], tuple[bytes, float]] = field(
        default_factory=OrderedDict, repr=False
    )

    def session(
        self, user: str, policies: frozenset[str] | None, client: str, address: str
    ) -> Session:
        """A command-layer session for an authenticated user."""
        return Session(
            store=self.store,
            runtime=self.runtime,
            files_dir=self.files_dir,
            user=user,
            policies=policies,
            client=client,
            address=address,
        )


CONTEXT: web.AppKey[HttpContext] = web.AppKey("pyipsec-context", HttpContext)


def context_of(request: web.Request) -> HttpContext:
    return request.app[CONTEXT]


def remote_address(request: web.Request) -> str:
    return request.remote or ""


# -- logins ---------------------------------------------------------------------------------


def _digest(context: HttpContext, password: str) -> bytes:
    return hmac.new(context._key, password.encode(), hashlib.sha256).digest()


async def login(
    context: HttpContext, name: str, password: str, address: str, via: str, *, remember: bool
) -> tuple[Session, int | None] | None:
    """Check a login through Accounts (rate limit, allow-list, group policy for ``via``);
    the session and its ``/user active`` id, or None. ``remember``: a password that passed
    is remembered for ``VERIFIED_TTL`` s (REST checks one on every request)."""
    accounts = context.accounts
    attempt = accounts.begin(name, address, via)
    now = time.monotonic()
    key = (name, attempt.stored or "")
    cached = context._verified.get(key) if attempt.stored and not attempt.refused else None
    if (
        cached is not None
        and now - cached[1] < VERIFIED_TTL
        and hmac.compare_digest(cached[0], _digest(context, password))
        and attempt.policies
    ):
        attempt.ok = True
        return context.session(name, attempt.policies, via, address), None
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, attempt.check, password)
    active_id = accounts.finish(attempt)
    if not attempt.ok:
        return None
    if remember:
        context._verified.pop(key, None)
        context._verified[key] = (_digest(context, password), now)
        while len(context._verified) > VERIFIED_MAX:
            context._verified.popitem(last=False)
    return context.session(name, attempt.policies, via, address), active_id


async def basic_auth(request: web.Request, via: str = "rest") -> Session | None:
    """The session of the request's HTTP basic credentials, or None (no or bad ones)."""
    header = request.headers.get("Authorization")
    if not header:
        return None
    try:
        creds = BasicAuth.decode(header, encoding="utf-8")  # passwords are UTF-8
    except ValueError:
        return None
    context = context_of(request)
    found = await login(
        context, creds.login, creds.password, remote_address(request), via, remember=True
    )
    if found is None:
        return None
    session, active_id = found
    context.accounts.logout(active_id)  # one request, not a standing session
    return session


def cookie_session(request: web.Request) -> Session | None:
    """The web session of the request's cookie, or None. The user is looked up again: a
    removed or disabled user, or a group without ``web`` now, ends the session; a changed
    group's policies apply at once."""
    context = context_of(request)
    sessions = context.web_sessions
    token = request.cookies.get(SESSION_COOKIE)
    session = sessions.get(token) if token else None
    if session is not None and token is not None:
        config = context.store.snapshot()
        user = config.table(USER).by_name(session.user)
        policies = session_policies(config, session.user)
        if (
            user is None
            or value_of(config.menu(USER), user, "disabled") == "yes"
            or policies is None
            or "web" not in policies
        ):
            context.accounts.logout(sessions.end(token))
            session = None
        else:
            session.policies = policies
    for active_id in sessions.take_ended():
        context.accounts.logout(active_id)
    return session


# -- the application ------------------------------------------------------------------------


def _allow_list(config: Config, service: str) -> str:
    item = config.table(SERVICE).by_name(service)
    return item.values.get("address", "") if item is not None else ""


@web.middleware
async def _allow_list_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    service = "www-ssl" if request.secure else "www"
    allow = _allow_list(context_of(request).store.snapshot(), service)
    if allow and not address_allowed(allow, remote_address(request)):
        raise web.HTTPForbidden(text="forbidden\n")
    return await handler(request)


def build_app(context: HttpContext) -> web.Application:
    """The application: REST under ``/rest``, and the web page's routes when mgmt.web has
    them."""
    from pyipsec.mgmt.rest import routes as rest_routes

    app = web.Application(client_max_size=context.max_body, middlewares=[_allow_list_middleware])
    app[CONTEXT] = context
    rest_routes.add_routes(app, context)
    try:
        web_routes = importlib.import_module("pyipsec.mgmt.web.routes")
    except ModuleNotFoundError as exc:  # no web page (yet): only a missing mgmt.web is fine
        if not (exc.name or "").startswith("pyipsec.mgmt.web"):
            raise
    else:
        web_routes.add_routes(app, context)
    return app


# -- listeners ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Listener:
    """What one service's socket needs; a change of any field restarts it."""

    service: str
    port: int
    certificate: str = ""  # www-ssl: the /certificate name
    tls_version: str = "any"
    cert_pem: str = field(default="", repr=False)
    key_pem: str = field(default="", repr=False)


def wanted_listeners(config: Config) -> dict[str, Listener]:
    """The www/www-ssl listeners ``/ip service`` asks for (enabled ones; www-ssl only with a
    usable certificate)."""
    out: dict[str, Listener] = {}
    menu = config.menu(SERVICE)
    for item in config.table(SERVICE):
        name = item.values.get("name", "")
        if name not in WWW_SERVICES or value_of(menu, item, "disabled") == "yes":
            continue
        port = int(value_of(menu, item, "port") or "0")
        if name == "www":
            out[name] = Listener(service=name, port=port)
            continue
        cert = value_of(menu, item, "certificate") or "none"
        material = tls_material(config, cert) if cert != "none" else None
        if material is None:
            log.error("www-ssl: certificate %s has no private key; not listening", cert)
            continue
        out[name] = Listener(
            service=name,
            port=port,
            certificate=cert,
            tls_version=value_of(menu, item, "tls-version") or "any",
            cert_pem=material[0],
            key_pem=material[1],
        )
    return out


class _DropMalformed(logging.Filter):
    """aiohttp logs a traceback for every malformed request it answers with 400 (a line over
    8 KiB, too many headers, broken framing): a client's mistake, not ours, and a way to fill
    the log. Those records are dropped; anything else aiohttp logs stays."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, HttpProcessingError)


_DROP_MALFORMED = _DropMalformed()


class HttpServer:
    """The www/www-ssl listeners of one daemon, following ``/ip service``."""

    def __init__(self, context: HttpContext, *, host: str | None = None) -> None:
        self.context = context
        self.host = host  # None: every address (as RouterOS); tests pass 127.0.0.1
        self.app = build_app(context)
        if _DROP_MALFORMED not in log.filters:
            log.addFilter(_DROP_MALFORMED)
        self.runner = web.AppRunner(self.app, access_log=None, handle_signals=False, logger=log)
        self.sites: dict[str, tuple[Listener, web.TCPSite]] = {}
        self._started = False
        self._task: asyncio.Task[None] | None = None
        self._again = False

    @property
    def ports(self) -> dict[str, int]:
        """The port each running listener is bound to (the real one when ``port`` was 0)."""
        out = {}
        for name, (_, site) in self.sites.items():
            server = site._server
            sockets = getattr(server, "sockets", None) or ()
            out[name] = sockets[0].getsockname()[1] if sockets else 0
        return out

    async def start(self) -> None:
        await self.runner.setup()
        self._started = True
        await self.reconfigure()

    async def reconfigure(self) -> None:
        """Start, stop or restart listeners so they match ``/ip service`` now."""
        if not self._started:
            return
        wanted = wanted_listeners(self.context.store.snapshot())
        for name in list(self.sites):
            listener, site = self.sites[name]
            if wanted.get(name) != listener:
                del self.sites[name]
                await site.stop()
                log.info("%s stopped listening on port %d", name, listener.port)
        for name, listener in wanted.items():
            if name in self.sites:
                continue
            try:
                ctx = (
                    tls_context(listener.cert_pem, listener.key_pem, listener.tls_version)
                    if name == "www-ssl"
                    else None
                )
                site = web.TCPSite(
                    self.runner, self.host, listener.port, ssl_context=ctx, reuse_address=True
                )
                await site.start()
            except (OSError, ssl.SSLError, ValueError) as exc:
                log.error("%s cannot listen on port %d: %s", name, listener.port, exc)
                continue
            self.sites[name] = (listener, site)
            log.info("%s listening on port %d", name, listener.port)

    def poke(self) -> None:
        """Reconfigure soon (after a configuration change); cheap when nothing changed."""
        if not self._started:
            return
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.get_running_loop().create_task(self._run_reconfigure())

    async def _run_reconfigure(self) -> None:
        while True:
            self._again = False
            try:
                await self.reconfigure()
            except Exception:
                log.exception("reconfiguring www/www-ssl failed")
            if not self._again:
                return

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.sites.clear()
        if self._started:
            await self.runner.cleanup()
        self._started = False
