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

Connections are bounded (:class:`ConnectionGate`, as the API's ``MAX_CLIENTS``): at most
``MAX_CONNECTIONS`` open per service and ``MAX_PER_SOURCE`` from one address; one more is
answered ``503 Service Unavailable`` with ``Connection: close`` by a bare aiohttp server that
answers nothing else (at most as many refusals in flight as the cap, ``REFUSAL_TIMEOUT``
seconds each; beyond, the connection is closed unanswered). A connection must complete a
request's headers within ``HEADER_TIMEOUT`` seconds of opening or of its previous response
(a slowloris client trickling header bytes is closed; the TLS handshake has the same
bound), which is also how long an idle keep-alive connection stays open.

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
import sys
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
MAX_CONNECTIONS = 64  # open connections per service (as the API's MAX_CLIENTS)
MAX_PER_SOURCE = 16  # open connections per service from one address
HEADER_TIMEOUT = 10.0  # seconds to complete a request's headers (and the TLS handshake)
KEEPALIVE_TIMEOUT = HEADER_TIMEOUT  # seconds an idle keep-alive connection stays open
REFUSAL_TIMEOUT = 2.0  # seconds a refused connection has to send the request it is refused


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


# -- connection limits ---------------------------------------------------------------------


@dataclass(slots=True)
class ConnectionGate:
    """Open connections of one service, in total and per source address."""

    limit: int = MAX_CONNECTIONS
    per_source: int = MAX_PER_SOURCE
    header_timeout: float = HEADER_TIMEOUT
    total: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
    refused: int = 0
    refusing: int = 0  # refused connections still open (being answered 503)

    def admit(self, address: str) -> bool:
        if self.total >= self.limit or self.by_source.get(address, 0) >= self.per_source:
            self.refused += 1
            return False
        self.total += 1
        self.by_source[address] = self.by_source.get(address, 0) + 1
        return True

    def release(self, address: str) -> None:
        self.total -= 1
        left = self.by_source.get(address, 0) - 1
        if left > 0:
            self.by_source[address] = left
        else:
            self.by_source.pop(address, None)


GATES: web.AppKey[dict[asyncio.BaseTransport, _Gated]] = web.AppKey("pyipsec-gates", dict)


class _Gated(asyncio.Protocol):
    """aiohttp's protocol for one connection behind a :class:`ConnectionGate`: refused with
    a 503 over the cap; closed when a request's headers are not complete in time."""

    def __init__(
        self,
        inner: Callable[[], asyncio.Protocol],
        refuse: Callable[[], asyncio.Protocol],
        gate: ConnectionGate,
        open_now: dict[asyncio.BaseTransport, _Gated],
    ) -> None:
        self.make_inner = inner
        self.make_refusal = refuse
        self.inner: asyncio.Protocol | None = None
        self.gate = gate
        self.open_now = open_now
        self.address = ""
        self.transport: asyncio.Transport | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.refusing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        peer = transport.get_extra_info("peername")
        self.address = str(peer[0]) if peer else ""
        if self.gate.admit(self.address):
            self.inner = self.make_inner()
            self.open_now[transport] = self
            timeout = self.gate.header_timeout
        elif self.gate.refusing < self.gate.limit:
            log.debug("www: connection from %s refused (too many)", self.address)
            self.gate.refusing += 1
            self.refusing = True
            self.inner = self.make_refusal()
            timeout = min(self.gate.header_timeout, REFUSAL_TIMEOUT)
        else:
            transport.close()
            return
        self.transport = transport
        self.arm(timeout)
        self.inner.connection_made(transport)

    def arm(self, timeout: float | None = None) -> None:
        """Start the header clock (at open and after each response)."""
        self.disarm()
        if self.transport is not None:
            loop = asyncio.get_running_loop()
            delay = self.gate.header_timeout if timeout is None else timeout
            self.timer = loop.call_later(delay, self._too_slow)

    def disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _too_slow(self) -> None:
        self.timer = None
        if self.transport is not None:
            log.debug("www: %s did not complete a request in time; closed", self.address)
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self.transport is not None and self.inner is not None:
            self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        if self.transport is not None and self.inner is not None:
            return self.inner.eof_received()
        return None

    def pause_writing(self) -> None:
        if self.transport is not None and self.inner is not None:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.transport is not None and self.inner is not None:
            self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        transport, self.transport = self.transport, None
        if transport is None or self.inner is None:
            return
        self.disarm()
        if self.refusing:
            self.gate.refusing -= 1
        else:
            self.open_now.pop(transport, None)
            self.gate.release(self.address)
        self.inner.connection_lost(exc)


@web.middleware
async def _header_clock_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """The headers are in: stop the connection's header clock until the response is done."""
    gated = request.app[GATES].get(request.transport) if request.transport else None
    if gated is not None:
        gated.disarm()
    try:
        return await handler(request)
    finally:
        if gated is not None:
            gated.arm()


async def _refuse(request: web.BaseRequest) -> web.StreamResponse:
    """The one answer of a connection over the cap (aiohttp writes it)."""
    return web.Response(status=503, text="too many connections\n", headers={"Connection": "close"})


class _GatedSite(web.TCPSite):
    """aiohttp's TCP site with each connection behind the service's :class:`ConnectionGate`."""

    def __init__(
        self,
        runner: web.AppRunner,
        gate: ConnectionGate,
        open_now: dict[asyncio.BaseTransport, _Gated],
        **kwargs: Any,
    ) -> None:
        super().__init__(runner, **kwargs)
        self.gate = gate
        self.open_now = open_now

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None
        gate, open_now = self.gate, self.open_now
        refusal = web.Server(_refuse, access_log=None, keepalive_timeout=0)

        def factory() -> asyncio.Protocol:
            return _Gated(server, refusal, gate, open_now)

        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            factory,
            self._host,
            self._port,
            ssl=self._ssl_context,
            ssl_handshake_timeout=gate.header_timeout if self._ssl_context else None,
            reuse_address=self._reuse_address,
        )


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

    app = web.Application(
        client_max_size=context.max_body,
        middlewares=[_header_clock_middleware, _allow_list_middleware],
    )
    app[CONTEXT] = context
    app[GATES] = {}
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


class _AiohttpLog(logging.LoggerAdapter[logging.Logger]):
    """What aiohttp logs with: ``pyipsec.system``'s lines (the ``system`` topic), without the
    traceback aiohttp logs for every malformed request it answers with 400 (a line over
    8 KiB, too many headers, broken framing): a client's mistake, not ours, and a way to fill
    the log. Anything else aiohttp logs stays. An adapter, not a filter on the shared
    ``pyipsec.system`` logger: such a filter sent every system line (the daemon's own, the
    direct ones of io/logging.log_line included) through the slow ``logging`` path."""

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info")
        if exc is True:
            exc = sys.exc_info()[1]
        elif isinstance(exc, tuple):
            exc = exc[1]
        if isinstance(exc, HttpProcessingError):
            return
        super().log(level, msg, *args, **kwargs)


_AIOHTTP_LOG = _AiohttpLog(log, {})


class HttpServer:
    """The www/www-ssl listeners of one daemon, following ``/ip service``."""

    def __init__(self, context: HttpContext, *, host: str | None = None) -> None:
        self.context = context
        self.host = host  # None: every address (as RouterOS); tests pass 127.0.0.1
        self.app = build_app(context)
        self.runner = web.AppRunner(
            self.app,
            access_log=None,
            handle_signals=False,
            logger=_AIOHTTP_LOG,
            keepalive_timeout=KEEPALIVE_TIMEOUT,
        )
        # per service; tests may lower the limits before start()
        self.gates = {name: ConnectionGate() for name in WWW_SERVICES}
        self.sites: dict[str, tuple[Listener, _GatedSite]] = {}
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
                site = _GatedSite(
                    self.runner,
                    self.gates[name],
                    self.app[GATES],
                    host=self.host,
                    port=listener.port,
                    ssl_context=ctx,
                    reuse_address=True,
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
