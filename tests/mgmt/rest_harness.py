"""A real www/www-ssl server (io/http_server.HttpServer) on 127.0.0.1 in a thread of its own,
and a plain HTTP client (the standard library's http.client) to talk to it.

Users: ``admin`` (group full), ``writer`` (write), ``reader`` (read), each with the password
``<name>-pw``; ``www`` and ``www-ssl`` listen on free ports (www-ssl with the self-signed
certificate of mgmt/first_start.py).
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import socket
import ssl
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyipsec.config.store import Store
from pyipsec.io.http_server import HttpContext, HttpServer
from pyipsec.mgmt import first_start
from pyipsec.mgmt.auth import Accounts
from pyipsec.mgmt.commands import Session, dispatch
from pyipsec.mgmt.first_start import tls_material

USERS = {"admin": "full", "writer": "write", "reader": "read"}
SERVICE = ("ip", "service")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw) if self.raw else None


class RestServer:
    """The server and its store live in a thread with its own event loop (SQLite objects are
    bound to their thread); ``call`` runs a coroutine there."""

    def __init__(self, path: Path, *, store_path: Path | None = None, dialect: str = "v6") -> None:
        self.path = path
        self.dialect = dialect
        self.store_path = store_path or path / "rest.db"
        self.port, self.tls_port = free_port(), free_port()
        self.commands = 0
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.call(self._setup())

    async def _setup(self) -> None:
        self.store = Store(self.store_path, dialect=self.dialect)
        root = Session(store=self.store)
        for name, group in USERS.items():
            if self.store.snapshot().table(("user",)).by_name(name) is None:
                dispatch(
                    root, ("user",), "add", {"name": name, "group": group, "password": f"{name}-pw"}
                )
        dispatch(root, SERVICE, "set", {"numbers": "www", "port": str(self.port)})
        dispatch(
            root,
            SERVICE,
            "set",
            {"numbers": "www-ssl", "port": str(self.tls_port), "disabled": "no"},
        )
        first_start.ensure_certificate(self.store, datetime.now(UTC))
        material = tls_material(self.store.snapshot(), first_start.SELF_SIGNED)
        assert material is not None
        self.cert_pem = material[0]
        self.context = HttpContext(
            store=self.store,
            accounts=Accounts(store=self.store),
            files_dir=self.path,
            after_command=self._after,
        )
        self.server = HttpServer(self.context, host="127.0.0.1")
        await self.server.start()

    def generation(self) -> int:
        return int(self.run(self.store.generation))

    def dispatch(self, path: str, command: str, args: dict[str, str] | None = None) -> Any:
        """A console command as root (in the server's thread)."""
        session = Session(store=self.store)
        return self.run(dispatch, session, tuple(path.strip("/").split("/")), command, args or {})

    def run(self, fn: Any, *args: Any) -> Any:
        """``fn(*args)`` in the server's thread (for store access from a test)."""

        async def go() -> Any:
            return fn(*args)

        return self.call(go())

    def _after(self) -> None:
        self.commands += 1
        self.server.poke()  # as the daemon does: /ip service may have changed

    def call(self, coro: Any, timeout: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def reconfigure(self) -> None:
        self.call(self.server.reconfigure())

    def close(self) -> None:
        self.call(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def tls_client_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cadata=self.cert_pem)
        ctx.check_hostname = False  # the self-signed certificate names "pyipsec"
        return ctx

    def connection(self, *, tls: bool = False) -> http.client.HTTPConnection:
        if tls:
            return http.client.HTTPSConnection(
                "127.0.0.1", self.tls_port, timeout=30, context=self.tls_client_context()
            )
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        user: str | None = "admin",
        password: str | None = None,
        raw: bytes | None = None,
        tls: bool = False,
        headers: dict[str, str] | None = None,
        conn: http.client.HTTPConnection | None = None,
    ) -> Reply:
        hdrs = dict(headers or {})
        if user is not None:
            pw = password if password is not None else f"{user}-pw"
            token = base64.b64encode(f"{user}:{pw}".encode()).decode()  # UTF-8, as curl
            hdrs["Authorization"] = f"Basic {token}"
        data = raw
        if data is None and body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        own = conn is None
        c = conn or self.connection(tls=tls)
        try:
            c.request(method, path, body=data, headers=hdrs)
            r = c.getresponse()
            return Reply(status=r.status, headers=dict(r.getheaders()), raw=r.read())
        finally:
            if own:
                c.close()
