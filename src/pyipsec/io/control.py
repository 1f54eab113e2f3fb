"""The daemon's local control socket: a console connected to a running daemon.

A Unix stream socket next to the database (``<db>.sock``, mode 0600, owner only). Each
connection gets its own console interpreter over the daemon's store and live runtime, so its
`print` numbering and current menu are its own. The protocol is one JSON object per line:
request ``{"text": "<console text>", "cwd": [...]}`` (cwd optional), reply
``{"ok": bool, "output": "<what the console printed>", "cwd": [...]}``. After every request the
daemon re-reads the configuration, so changes apply at once. ``:global`` variables are shared
by all connections and live as long as the daemon. A request runs inside the daemon's event
loop, so its ``:delay``s (``DELAY_BUDGET``) and its number of commands (``STEP_BUDGET``) are
bounded: a script that needs more fails with a ``failure:`` message instead of stalling IKE.

A request ``{"stats": true}`` is answered with ``{"ok": true, "stats": {...}}``: the daemon's
internal counters (the IKE engine's drop reasons, the packet engine's `/ip ipsec statistics`,
the safety nets' error counts), for tests and benchmarks that must account for every datagram.
It changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pyipsec.mgmt.cli.interpreter import ConsoleError, Interpreter
from pyipsec.mgmt.cli.script.scope import Globals
from pyipsec.mgmt.cli.tokenizer import ScriptSyntaxError, tokenize
from pyipsec.mgmt.commands import Session
from pyipsec.mgmt.export import quote

log = logging.getLogger("pyipsec.system")
MAX_REQUEST = 1 << 20
DELAY_BUDGET = 2.0  # seconds of `:delay` one request may spend
STEP_BUDGET = 200_000  # commands one request may run


def socket_path(db: Path) -> Path:
    return db.with_name(db.name + ".sock")


class ControlServer:
    def __init__(
        self,
        path: Path,
        make_session: Callable[[], Session],
        on_change: Callable[[], None],
        stats: Callable[[], Mapping[str, Any]] | None = None,
    ) -> None:
        self.path = path
        self.make_session = make_session
        self.on_change = on_change
        self.stats = stats
        self.globals = Globals()  # `:global` variables live as long as the daemon
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        old = os.umask(0o177)
        try:
            self.server = await asyncio.start_unix_server(
                self._client, path=str(self.path), limit=MAX_REQUEST
            )
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        out: list[str] = []
        interp = Interpreter(self.make_session(), write=out.append, globals=self.globals)
        # a request holds the daemon's event loop: bound its `:delay`s and its commands
        interp.delay_budget = DELAY_BUDGET
        interp.step_budget = STEP_BUDGET
        try:
            while line := await reader.readline():
                try:
                    request = json.loads(line)
                    if isinstance(request, dict) and request.get("stats") is True:
                        stats = self.stats() if self.stats is not None else {}
                        writer.write(json.dumps({"ok": True, "stats": stats}).encode() + b"\n")
                        await writer.drain()
                        continue
                    text = str(request["text"])
                    if "cwd" in request:
                        interp.cwd = tuple(str(p) for p in request["cwd"])
                except (ValueError, KeyError, TypeError):
                    reply = {"ok": False, "output": "bad request\n", "cwd": list(interp.cwd)}
                else:
                    out.clear()
                    ok = interp.run(text)
                    self.on_change()
                    reply = {"ok": ok, "output": "".join(out), "cwd": list(interp.cwd)}
                writer.write(json.dumps(reply).encode() + b"\n")
                await writer.drain()
        except (ConnectionError, asyncio.LimitOverrunError, ValueError) as exc:
            log.debug("control connection closed: %s", exc)
        finally:
            writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


class ControlClient:
    """A console's connection to a daemon (blocking; one request at a time)."""

    def __init__(self, path: Path, timeout: float = 30) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self.file = self.sock.makefile("rwb")
        self.cwd: tuple[str, ...] = ()

    def run(self, text: str) -> tuple[bool, str]:
        request = {"text": text, "cwd": list(self.cwd)}
        self.file.write(json.dumps(request).encode() + b"\n")
        self.file.flush()
        line = self.file.readline()
        if not line:
            raise ConnectionError("the daemon closed the control connection")
        reply = json.loads(line)
        self.cwd = tuple(reply.get("cwd", ()))
        return bool(reply["ok"]), str(reply["output"])

    def stats(self) -> dict[str, Any]:
        """The daemon's internal counters (see the module docstring)."""
        self.file.write(b'{"stats": true}\n')
        self.file.flush()
        line = self.file.readline()
        if not line:
            raise ConnectionError("the daemon closed the control connection")
        return dict(json.loads(line)["stats"])

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def daemon_listening(path: Path) -> bool:
    """Whether a daemon answers on ``path`` (a stale socket file does not count)."""
    if not path.exists():
        return False
    try:
        ControlClient(path, timeout=2).close()
    except OSError:
        return False
    return True


class RemoteInterpreter(Interpreter):
    """A console interpreter whose commands run inside the daemon (live data, live apply).

    Prompt, completion and ``?`` help stay local (they only need the schema and the store);
    every command line goes to the daemon, whose output is written here (``edit`` at an
    interactive console reads and writes the value through the daemon and edits it here).
    """

    def __init__(
        self,
        client: ControlClient,
        session: Session,
        *,
        write: Callable[[str], None],
        width: int = 80,
    ) -> None:
        super().__init__(session, write=write, width=width)
        self.client = client

    def run(self, text: str, *, stop_on_error: bool = True) -> bool:
        if self.editor is not None and (edited := self._edit_here(text)) is not None:
            return edited
        self.client.cwd = self.cwd
        ok, out = self.client.run(text)
        self.write(out)
        self.cwd = self.client.cwd
        return ok

    def _edit_here(self, text: str) -> bool | None:
        """``edit <item> <property>`` at an interactive console: the daemon has no terminal,
        so the value is read from it, edited here and written back with ``set``. None when
        ``text`` is not such a command (the daemon then runs it, errors included)."""
        try:
            cmds = tokenize(text)
            if len(cmds) != 1:
                return None
            self._dialect = self.dialect()
            path, command, rest = self.locate(list(cmds[0].words), self.cwd)
        except (ScriptSyntaxError, ConsoleError):
            return None
        words = [w.plain for w in rest]
        if command != "edit" or not 1 <= len(words) <= 2 or any(w is None for w in words):
            return None
        *numbers, prop = (w or "" for w in words)
        menu = "/" + " ".join(path)
        items = " ".join(numbers)
        ok, current = self.client.run(f":put [{menu} get {items} {prop}]")
        if not ok:
            self.write(current)
            return False
        assert self.editor is not None
        new = self.editor(current.removesuffix("\n"), f"{prop}: ")
        if new is None or new == current.removesuffix("\n"):
            return True
        ok, out = self.client.run(f"{menu} set {items} {prop}={quote(new)}")
        self.write(out)
        return ok
