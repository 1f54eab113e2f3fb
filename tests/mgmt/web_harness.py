"""The web page's application (io/http_server.build_app with mgmt/web's routes) under aiohttp's
own test client (aiohttp.test_utils), on a store in a temporary directory, with users
``admin`` (full), ``writer`` (write) and ``reader`` (read), password ``<name>-pw``; a fake
runtime supplies peers, SAs, counters and log lines.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from pyipsec.config.menus.ipsec7 import ACTIVE_PEERS
from pyipsec.config.menus.runtime import INSTALLED_SA, REMOTE_PEERS, STATISTICS, STATISTICS_COUNTERS
from pyipsec.config.menus.system import LOG
from pyipsec.config.store import Store
from pyipsec.config.table import Item
from pyipsec.io.http_server import HttpContext, build_app
from pyipsec.mgmt.auth import Accounts
from pyipsec.mgmt.base import RuntimeRow, Session
from pyipsec.mgmt.changes import ChangeFeed
from pyipsec.mgmt.commands import dispatch

USERS = {"admin": "full", "writer": "write", "reader": "read"}


@dataclass
class FakeRuntime:
    """Live rows a test sets; the shape io/runtime.DaemonRuntime gives them."""

    peers: list[RuntimeRow] = field(default_factory=list)
    sas: list[RuntimeRow] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATISTICS_COUNTERS, 0))
    log: list[RuntimeRow] = field(default_factory=list)

    def rows(self, path: tuple[str, ...]) -> Sequence[RuntimeRow]:
        if path in (REMOTE_PEERS, ACTIVE_PEERS):
            return self.peers
        if path == INSTALLED_SA:
            return self.sas
        if path == LOG:
            return self.log
        return ()

    def counters(self, path: tuple[str, ...]) -> Mapping[str, int]:
        return self.stats if path == STATISTICS else {}

    def item_state(self, path: tuple[str, ...], item_id: int) -> Mapping[str, str]:
        return {}

    def dynamic_items(self, path: tuple[str, ...]) -> Sequence[Item]:
        return ()

    def flush_installed_sa(self, sa_type: str) -> None:
        self.sas.clear()

    def kill_connections(self) -> None:
        self.peers.clear()


@dataclass
class Web:
    client: TestClient  # type: ignore[type-arg]
    store: Store
    context: HttpContext
    runtime: FakeRuntime
    commands: list[int] = field(default_factory=list)

    @property
    def root(self) -> Session:
        return Session(store=self.store, runtime=self.runtime)

    async def login_form(self) -> str:
        r = await self.client.get("/login")
        assert r.status == 200
        text = await r.text()
        found = re.search(r'name="csrf" value="([^"]+)"', text)
        assert found is not None
        return found.group(1)

    async def login(self, user: str = "admin", password: str | None = None) -> str:
        """Log in through the form; the page's CSRF token."""
        token = await self.login_form()
        pw = password if password is not None else f"{user}-pw"
        r = await self.client.post(
            "/login",
            data={"csrf": token, "name": user, "password": pw},
            allow_redirects=False,
        )
        assert r.status == 303, await r.text()
        page = await self.client.get("/")
        assert page.status == 200
        found = re.search(r'name="csrf-token" content="([^"]+)"', await page.text())
        assert found is not None
        return found.group(1)

    async def run(self, csrf: str | None, path: str, command: str, **args: str) -> Any:
        headers = {"X-CSRF-Token": csrf} if csrf is not None else {}
        r = await self.client.post(
            "/web/run", json={"path": path, "command": command, "args": args}, headers=headers
        )
        return r.status, await r.json()


def make_store(path: Path, dialect: str | None = None) -> Store:
    store = Store(path / "web.db", dialect=dialect) if dialect else Store(path / "web.db")
    root = Session(store=store)
    for name, group in USERS.items():
        dispatch(root, ("user",), "add", {"name": name, "group": group, "password": f"{name}-pw"})
    return store


async def start(tmp_path: Path, dialect: str | None = None) -> Web:
    store = make_store(tmp_path, dialect)
    runtime = FakeRuntime()
    calls: list[int] = []
    feed = ChangeFeed(store, runtime)

    def after() -> None:
        calls.append(1)
        feed.check()

    context = HttpContext(
        store=store,
        accounts=Accounts(store=store),
        runtime=runtime,
        changes=feed,
        files_dir=tmp_path,
        after_command=after,
    )
    client = TestClient(TestServer(build_app(context)))
    await client.start_server()
    return Web(client=client, store=store, context=context, runtime=runtime, commands=calls)


def web_test(
    fn: Callable[[Web], Awaitable[None]], dialect: str | None = None
) -> Callable[[Path], None]:
    """A plain pytest test that runs ``fn`` against a started application."""

    def test(tmp_path: Path) -> None:
        async def go() -> None:
            web = await start(tmp_path, dialect)
            try:
                await fn(web)
            finally:
                await web.client.close()
                web.store.close()

        asyncio.run(go())

    test.__name__, test.__doc__ = fn.__name__, fn.__doc__
    return test
