"""The daemon's control socket and the scripting language: ``:global`` variables outlive a
console connection (they live as long as the daemon, as on RouterOS until a reboot), and a
request cannot hold the daemon's event loop with long ``:delay``s or endless loops."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from pyipsec.config.store import Store
from pyipsec.io.control import ControlClient, ControlServer, RemoteInterpreter
from pyipsec.mgmt.commands import Session


def test_globals_outlive_a_connection_and_requests_are_bounded(tmp_path: Path) -> None:
    store = Store(tmp_path / "c.db")
    sock = tmp_path / "c.sock"

    def one_request(text: str) -> tuple[bool, str]:
        client = ControlClient(sock)
        try:
            return client.run(text)
        finally:
            client.close()

    async def scenario() -> list[tuple[bool, str]]:
        server = ControlServer(sock, lambda: Session(store=store), on_change=lambda: None)
        await server.start()
        try:
            texts = [
                ':global site "hq"; :local only 1',
                ":put $site; :put [:typeof $only]",
                ":delay 2100ms",
                ":while (true) do={}",
                ":put $site",
            ]
            return [await asyncio.to_thread(one_request, t) for t in texts]
        finally:
            await server.stop()

    try:
        replies = asyncio.run(scenario())
    finally:
        store.close()
    assert replies == [
        (True, ""),
        (True, "hq\nnothing\n"),
        (False, "failure: more than 2s of delay in one request\n"),
        (False, "failure: script stopped after 200000 commands\n"),
        (True, "hq\n"),
    ]


def test_log_lines_reach_log_print_with_script_topics() -> None:
    from pyipsec.io.logging import RingHandler
    from tests.mgmt.helpers import Console

    ring = RingHandler()
    root = logging.getLogger("pyipsec")
    old_level = root.level
    root.addHandler(ring)
    root.setLevel(logging.DEBUG)
    try:
        Console().ok(':log info "tunnel up"; :log warning ("peer " . 203.0.113.9 . " down")')
    finally:
        root.removeHandler(ring)
        root.setLevel(old_level)
    assert [(e.topics, e.message) for e in ring.entries] == [
        ("script", "tunnel up"),
        ("script,warning", "peer 203.0.113.9 down"),
    ]


def test_edit_at_a_console_attached_to_the_daemon(tmp_path: Path) -> None:
    store = Store(tmp_path / "c.db")
    sock = tmp_path / "c.sock"
    seen: list[tuple[str, str]] = []

    def editor(current: str, prompt: str) -> str:
        seen.append((current, prompt))
        return current + "-2"

    def console() -> tuple[bool, str, str]:
        out: list[str] = []
        client = ControlClient(sock)
        local = Store(tmp_path / "c.db")  # the console process's own view of the database
        try:
            interp = RemoteInterpreter(client, Session(store=local), write=out.append)
            interp.editor = editor
            assert interp.run('/ip ipsec peer add address=203.0.113.4 secret="old\\$x"')
            ok = interp.run("/ip ipsec peer edit 0 secret")
            got = client.run(":put [/ip ipsec peer get 0 secret]")[1]
            return ok, "".join(out), got
        finally:
            client.close()
            local.close()

    async def scenario() -> tuple[bool, str, str]:
        server = ControlServer(sock, lambda: Session(store=store), on_change=lambda: None)
        await server.start()
        try:
            return await asyncio.to_thread(console)
        finally:
            await server.stop()

    try:
        ok, out, got = asyncio.run(scenario())
    finally:
        store.close()
    assert seen == [("old$x", "secret: ")]
    assert (ok, out, got) == (True, "", "old$x-2\n")  # written back quoted: \$ stays a $
