"""The RouterOS API services on the daemon's event loop: ``api`` (plain, 8728) and ``api-ssl``
(TLS, 8729), as ``/ip service`` configures them (docs/api.md).

A thin shell over the sans-IO protocol (mgmt/api/connection.py): read what arrived, hand it
over, write the replies, wait for the socket to drain (a client that does not read slows only
its own connection; one that leaves more than 16 MiB unread is dropped). The password check of
a login (scrypt, ~50 ms of CPU) runs in the loop's default thread pool, so IKE and the data
plane never wait for it. At most ``MAX_CLIENTS`` connections per service; a connection that
has not logged in within ``LOGIN_TIMEOUT`` seconds is closed; the service's ``address``
allow-list is checked before a single octet is read. TLS comes from the standard ``ssl``
module with the service's certificate (TLS 1.2 at least; ``tls-version=only-1.2`` also caps
it at 1.2).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import ssl
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pyipsec.config.menus.users import SERVICE
from pyipsec.config.store import Store
from pyipsec.config.table import Config, value_of
from pyipsec.mgmt.api.connection import MAX_BACKLOG, ApiConnection, LoginRequested
from pyipsec.mgmt.auth import Accounts, address_allowed
from pyipsec.mgmt.base import RuntimeProvider
from pyipsec.mgmt.changes import ChangeFeed
from pyipsec.mgmt.first_start import tls_material

log = logging.getLogger("pyipsec.system")

MAX_CLIENTS = 64
LOGIN_TIMEOUT = 30.0
READ_SIZE = 65536


def tls_context(cert_pem: str, key_pem: str, tls_version: str = "any") -> ssl.SSLContext:
    """A server context for a certificate and key given as PEM text."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if tls_version == "only-1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with tempfile.TemporaryDirectory() as tmp:  # load_cert_chain reads files; 0700 directory
        cert, key = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
        cert.write_text(cert_pem)
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key_pem)
        ctx.load_cert_chain(cert, key)
    return ctx


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceSettings:
    """What one running API service was started with (a change restarts it)."""

    name: str
    port: int
    address: str = ""
    tls: ssl.SSLContext | None = None
    certificate: str = ""
    tls_version: str = "any"


class ApiServer:
    """One listening API service."""

    def __init__(
        self,
        settings: ServiceSettings,
        *,
        store: Store,
        accounts: Accounts,
        runtime: RuntimeProvider | None = None,
        feed: ChangeFeed | None = None,
        files_dir: Path | None = None,
        host: str | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.accounts = accounts
        self.runtime = runtime
        self.feed = feed
        self.files_dir = files_dir
        self.host = host
        self.server: asyncio.Server | None = None
        self.clients: set[asyncio.Task[None]] = set()
        self.port = settings.port

    async def start(self) -> None:
        self.server = await asyncio.start_server(
            self._accept, host=self.host, port=self.settings.port, ssl=self.settings.tls
        )
        self.port = self.server.sockets[0].getsockname()[1]
        log.info("%s service listening on port %d", self.settings.name, self.port)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for task in list(self.clients):
            task.cancel()
        for task in list(self.clients):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        peer = writer.get_extra_info("peername")
        address = str(peer[0]) if peer else ""
        if len(self.clients) >= MAX_CLIENTS or not address_allowed(self.settings.address, address):
            writer.close()
            return
        self.clients.add(task)
        try:
            await self._serve(reader, writer, address)
        except (ConnectionError, ssl.SSLError, TimeoutError, OSError) as exc:
            log.debug("API connection from %s ended: %s", address, exc)
        finally:
            self.clients.discard(task)
            writer.close()

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, address: str
    ) -> None:
        conn = ApiConnection(
            store=self.store,
            accounts=self.accounts,
            address=address,
            via=self.settings.name,
            runtime=self.runtime,
            feed=self.feed,
            files_dir=self.files_dir,
        )
        conn.wake = lambda: _flush(conn, writer)
        loop = asyncio.get_running_loop()
        try:
            while not conn.closed:
                timeout = LOGIN_TIMEOUT if conn.session is None else None
                data = await asyncio.wait_for(reader.read(READ_SIZE), timeout)
                if not data:
                    break
                logins = conn.receive_data(data)
                while logins:
                    _flush(conn, writer)
                    login = logins.pop(0)
                    await loop.run_in_executor(None, _check, login)
                    logins += conn.login_checked(login)
                _flush(conn, writer)
                await writer.drain()
        finally:
            conn.connection_lost()
            _flush(conn, writer)
            with contextlib.suppress(Exception):
                await writer.drain()


def _check(login: LoginRequested) -> None:
    login.attempt.check(login.password)


def _flush(conn: ApiConnection, writer: asyncio.StreamWriter) -> None:
    """Hand the replies to the transport. Streams (listen) write without waiting for the
    socket to drain: a client that stops reading while more than ``MAX_BACKLOG`` octets wait
    for it is cut off, so it cannot make the daemon hold its replies without bound."""
    data = conn.data_to_send()
    if not data or writer.is_closing():
        return
    if writer.transport.get_write_buffer_size() + len(data) > MAX_BACKLOG:
        log.warning("API client %s does not read its replies; connection closed", conn.address)
        conn.connection_lost()
        writer.transport.abort()
        return
    writer.write(data)


API_SERVICES = ("api", "api-ssl")


def wanted_services(
    config: Config, make_tls: Callable[[str, str], ssl.SSLContext | None]
) -> dict[str, ServiceSettings]:
    """The API services ``/ip service`` enables, with their settings."""
    menu = config.menu(SERVICE)
    out: dict[str, ServiceSettings] = {}
    for item in config.table(SERVICE):
        name = item.values.get("name", "")
        if name not in API_SERVICES or value_of(menu, item, "disabled") == "yes":
            continue
        certificate = value_of(menu, item, "certificate") or "none"
        tls_version = value_of(menu, item, "tls-version") or "any"
        tls = None
        if name == "api-ssl":
            tls = make_tls(certificate, tls_version)
            if tls is None:
                continue
        out[name] = ServiceSettings(
            name=name,
            port=int(value_of(menu, item, "port") or 0),
            address=value_of(menu, item, "address") or "",
            tls=tls,
            certificate=certificate,
            tls_version=tls_version,
        )
    return out


class ApiServices:
    """The API services the daemon runs, kept in line with ``/ip service``."""

    def __init__(
        self,
        *,
        store: Store,
        accounts: Accounts,
        runtime: RuntimeProvider,
        feed: ChangeFeed,
        files_dir: Path,
        host: str | None = None,
    ) -> None:
        self.store = store
        self.accounts = accounts
        self.runtime = runtime
        self.feed = feed
        self.files_dir = files_dir
        self.host = host
        self.running: dict[str, ApiServer] = {}
        self._keys: dict[str, tuple[object, ...]] = {}

    def _tls(self, config: Config) -> Callable[[str, str], ssl.SSLContext | None]:
        def make(certificate: str, tls_version: str) -> ssl.SSLContext | None:
            material = tls_material(config, certificate)
            if material is None:
                log.error(
                    "api-ssl: certificate %s has no private key; service not started", certificate
                )
                return None
            return tls_context(*material, tls_version)

        return make

    async def reconcile(self) -> None:
        """Start, stop or restart services so they match the configuration."""
        config = self.store.snapshot()
        menu = config.menu(SERVICE)
        keys = {
            (it.values.get("name", "")): tuple(value_of(menu, it, p.name) for p in menu.properties)
            for it in config.table(SERVICE)
        }
        changed = {n for n in API_SERVICES if keys.get(n) != self._keys.get(n)}
        if not changed and self._keys:
            return
        self._keys = {n: keys[n] for n in API_SERVICES if n in keys}
        wanted = wanted_services(config, self._tls(config))
        for name in changed:
            server = self.running.pop(name, None)
            if server is not None:
                await server.stop()
            settings = wanted.get(name)
            if settings is None:
                continue
            server = ApiServer(
                settings,
                store=self.store,
                accounts=self.accounts,
                runtime=self.runtime,
                feed=self.feed,
                files_dir=self.files_dir,
                host=self.host,
            )
            try:
                await server.start()
            except OSError as exc:
                log.error("%s service: cannot listen on port %d: %s", name, settings.port, exc)
                continue
            self.running[name] = server

    async def stop(self) -> None:
        for server in self.running.values():
            await server.stop()
        self.running.clear()
        self._keys = {}
