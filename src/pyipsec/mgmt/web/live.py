"""The live dashboard: peers, installed SAs, throughput per tunnel, the statistics counters
that are not zero and the last log lines, sent to the page as server-sent events.

A snapshot is read through the command layer (``print`` of ``remote-peers`` or, in a RouterOS
7 database, ``active-peers``; ``installed-sa``; ``statistics``; ``/log``), so the session's
``read`` policy is checked and secrets (SA keys) never leave: the page gets the columns listed
here only. Throughput is computed here from the SAs' byte counters between two snapshots
(:class:`Throughput`): a tunnel is the pair of SA endpoint addresses (both directions and every
SA of a rekey count), an SA seen for the first time counts from zero.

``GET /events`` (``text/event-stream``, the HTML standard's server-sent events) sends a
``dashboard`` event at once, then whenever the change feed (mgmt/changes.py, checked by the
daemon after every command and every second) reports a change of the live tables, and at
least every ``INTERVAL`` seconds (uptimes, byte counters); a change of a configured ``/ip ipsec``
menu also sends a ``config`` event naming the menus, so the configuration view reloads. The
stream ends with a ``logout`` event when the session ends, and at once when the server shuts
down (aiohttp's ``on_shutdown``), so a daemon stops without waiting for open pages.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from pyipsec.config.menus.ipsec7 import ACTIVE_PEERS
from pyipsec.config.menus.runtime import INSTALLED_SA, REMOTE_PEERS, STATISTICS
from pyipsec.config.menus.system import LOG
from pyipsec.mgmt import auth, commands
from pyipsec.mgmt.base import CommandError, Session
from pyipsec.mgmt.changes import Change
from pyipsec.mgmt.web.config_view import ipsec_menus
from pyipsec.mgmt.web.routes import require_session, session_token

V7 = "v7"
INTERVAL = 1.0  # seconds between dashboard events at most
MIN_GAP = 0.25  # seconds between two events at least (a burst of changes is one event)
LOG_LINES = 15
PEER_COLUMNS = ("local-address", "remote-address", "state", "side", "uptime", "exchange-mode")
SA_COLUMNS = ("spi", "src-address", "dst-address", "state", "auth-algorithm", "enc-algorithm",
              "current-bytes", "current-packets")  # fmt: skip

CLOSING: web.AppKey[asyncio.Event] = web.AppKey("pyipsec-web-closing", asyncio.Event)


def _host(address: str) -> str:
    """``198.51.100.1:4500`` -> ``198.51.100.1`` (installed-sa shows the UDP port of a
    NAT-traversal SA); IPv6 addresses are left alone."""
    if address.count(":") == 1:
        return address.split(":", 1)[0]
    return address


def tunnel_of(src: str, dst: str) -> str:
    a, b = sorted((_host(src), _host(dst)))
    return f"{a} ⇄ {b}"


@dataclass(slots=True)
class Throughput:
    """Bytes per second per tunnel from the SAs' ``current-bytes`` between two calls."""

    last: dict[str, int] = field(default_factory=dict)  # SA .id -> bytes
    when: float | None = None

    def update(self, sas: Iterable[Mapping[str, str]], now: float) -> dict[str, float]:
        """The rate of each tunnel since the previous call (0.0 on the first)."""
        rates: dict[str, float] = {}
        seen: dict[str, int] = {}
        dt = now - self.when if self.when is not None else 0.0
        for sa in sas:
            name = tunnel_of(sa.get("src-address", ""), sa.get("dst-address", ""))
            try:
                count = int(sa.get("current-bytes", "0"))
            except ValueError:
                count = 0
            sa_id = sa.get(".id", "")
            seen[sa_id] = count
            delta = max(0, count - self.last.get(sa_id, 0))
            rate = delta / dt if dt > 0 else 0.0
            rates[name] = rates.get(name, 0.0) + rate
        self.last, self.when = seen, now
        return rates


def _print(session: Session, path: tuple[str, ...]) -> list[dict[str, str]]:
    try:
        table = commands.dispatch(session, path, "print", {}).table
    except CommandError:
        return []
    if table is None:
        return []
    out = []
    for row in table.rows:
        values = dict(row.values)
        values[".id"] = f"*{row.id:X}"
        values[".flags"] = ",".join(sorted(row.flags))
        out.append(values)
    return out


def _log_tail(session: Session, ring: Any = None) -> list[Mapping[str, str]]:
    """The last ``LOG_LINES`` rows of ``/log``, after the same authorisation as ``print``.
    ``print`` of the whole ring (1,000 lines) cost 7 ms per open page and second, the
    runtime's rows 4 ms: with the daemon's ring (io/logging.RingHandler) only the tail is
    formatted, as io/runtime.py formats the rows."""
    try:
        auth.authorize(session, LOG, "print")
    except CommandError:
        return []
    entries = getattr(ring, "entries", None)
    if entries is None:
        return [row.values for row in session.runtime.rows(LOG)[-LOG_LINES:]]
    return [
        {"time": time.strftime("%H:%M:%S", time.localtime(e.time)), "topics": e.topics,
         "message": e.message}
        for e in list(entries)[-LOG_LINES:]
    ]  # fmt: skip


def peers_path(session: Session) -> tuple[str, ...]:
    return ACTIVE_PEERS if session.store.snapshot().dialect == V7 else REMOTE_PEERS


def snapshot(
    session: Session, throughput: Throughput, now: float, log_ring: Any = None
) -> dict[str, Any]:
    """Everything the dashboard shows, as JSON-ready data (``log_ring``: the daemon's
    RingHandler, read directly for the log's tail)."""
    peers = []
    for row in _print(session, peers_path(session)):
        if "uptime" not in row:  # RouterOS 6 remote-peers call it established
            row["uptime"] = row.get("established", "")
        peers.append({k: row.get(k, "") for k in PEER_COLUMNS} | {".id": row[".id"]})
    sas_full = _print(session, INSTALLED_SA)
    sas = [{k: sa.get(k, "") for k in SA_COLUMNS} | {".id": sa[".id"]} for sa in sas_full]
    for sa, full in zip(sas, sas_full, strict=True):
        sa["protocol"] = "AH" if "AH" in full[".flags"].split(",") else "ESP"
    rates = throughput.update(sas, now)
    stats_rows = _print(session, STATISTICS)
    stats = {
        k: v for k, v in (stats_rows[0] if stats_rows else {}).items()
        if not k.startswith(".") and v not in ("0", "")
    }  # fmt: skip
    log = [
        {"time": r.get("time", ""), "topics": r.get("topics", ""), "message": r.get("message", "")}
        for r in _log_tail(session, log_ring)
    ]
    return {
        "peers": peers,
        "sas": sas,
        "tunnels": [{"tunnel": t, "rate": round(r, 1)} for t, r in sorted(rates.items())],
        "statistics": stats,
        "log": log,
    }


DASHBOARD_THROUGHPUT: web.AppKey[Throughput] = web.AppKey("pyipsec-web-throughput", Throughput)


async def dashboard(request: web.Request) -> web.Response:
    from pyipsec.io.http_server import context_of

    session = require_session(request)
    ring = context_of(request).log_ring
    data = snapshot(session, request.app[DASHBOARD_THROUGHPUT], time.monotonic(), ring)
    return web.json_response(data)


def sse(event: str, data: object) -> bytes:
    """One server-sent event (HTML Living Standard §9.2): JSON has no raw newline."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


class _Watch:
    """Change-feed subscriptions of one event stream."""

    def __init__(self, request: web.Request, session: Session) -> None:
        from pyipsec.io.http_server import context_of

        self.wake = asyncio.Event()
        self.config: set[str] = set()
        self.subs = []
        feed = context_of(request).changes
        dialect = session.store.snapshot().dialect
        self.config_paths = {m.path for m in ipsec_menus(dialect) if not m.is_runtime}
        if feed is not None:
            live = (INSTALLED_SA, peers_path(session))
            for path in [*self.config_paths, *live]:
                self.subs.append(feed.subscribe(path, self.changed))

    def changed(self, change: Change) -> None:
        if change.path in self.config_paths:
            self.config.add("/".join(change.path))
        self.wake.set()

    def close(self) -> None:
        for sub in self.subs:
            sub.close()


async def events(request: web.Request) -> web.StreamResponse:
    from pyipsec.io.http_server import context_of

    session = require_session(request)
    token = session_token(request)
    sessions = context_of(request).web_sessions
    closing = request.app[CLOSING]
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    watch = _Watch(request, session)
    throughput = Throughput()
    clock: Callable[[], float] = time.monotonic
    try:
        while not closing.is_set():
            if token not in sessions.by_token:  # logged out or expired (not refreshed here)
                await response.write(sse("logout", {}))
                break
            watch.wake.clear()
            data = snapshot(session, throughput, clock(), context_of(request).log_ring)
            await response.write(sse("dashboard", data))
            if watch.config:
                await response.write(sse("config", sorted(watch.config)))
                watch.config.clear()
            await asyncio.sleep(MIN_GAP)
            waits = [
                asyncio.ensure_future(watch.wake.wait()),
                asyncio.ensure_future(closing.wait()),
            ]
            _, pending = await asyncio.wait(
                waits, timeout=INTERVAL - MIN_GAP, return_when=asyncio.FIRST_COMPLETED
            )
            for task in pending:
                task.cancel()
    except (ConnectionResetError, ConnectionError):
        pass
    finally:
        watch.close()
    with contextlib.suppress(ConnectionError):
        await response.write_eof()
    return response


async def _on_shutdown(app: web.Application) -> None:
    app[CLOSING].set()


def add_routes(app: web.Application) -> None:
    app[CLOSING] = asyncio.Event()
    app[DASHBOARD_THROUGHPUT] = Throughput()
    app.on_shutdown.append(_on_shutdown)
    app.router.add_get("/web/dashboard", dashboard)
    app.router.add_get("/events", events)
