"""TunRouting against a fake rtnetlink socket: adoption of what a killed daemon left, the
difference applied off the caller's thread, bursts folded, failures counted and not raised."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from typing import Any

import pytest

from pyipsec.dataplane.userspace.routing import FIB_RULE_INVERT, TunRouting
from pyipsec.dataplane.userspace.rtbatch import RouteOp

MARK = 0x5049
net = ipaddress.ip_network


class NetlinkError(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class FakeIpr:
    """Just enough of pyroute2's IPRoute: a kernel with rules, routes in tables, links."""

    def __init__(self) -> None:
        self.links = {"pyipsec0": 7}
        self.rules: list[dict[str, Any]] = []
        self.routes: dict[tuple[str, int, int], dict[str, Any]] = {}  # (dst, len, table)
        self.addrs = ["198.51.100.1", "198.51.100.129", "::1"]
        self.calls: list[tuple[str, str]] = []
        self.threads: set[str] = set()
        self.fail_routes: set[str] = set()
        self.closed = False
        self.gate: threading.Event | None = None
        self.batches: list[int] = []

    def _note(self, what: str, command: str) -> None:
        self.threads.add(threading.current_thread().name)
        self.calls.append((what, command))

    def link_lookup(self, ifname: str) -> list[int]:
        return [self.links[ifname]] if ifname in self.links else []

    def link(self, command: str, **kw: Any) -> None:
        self._note("link", command)

    def get_addr(self) -> list[dict[str, Any]]:
        self._note("addr", "dump")
        return [{"address": a} for a in self.addrs]

    def get_rules(self, family: int) -> list[dict[str, Any]]:
        return [r for r in self.rules if r["family"] == family]

    def rule(self, command: str, **kw: Any) -> None:
        self._note("rule", command)
        entry = {
            "family": kw["family"],
            "priority": kw["priority"],
            "table": kw["table"],
            "FRA_TABLE": kw["table"],
            "flags": kw.get("flags", 0),
            "fwmark": kw.get("fwmark"),
            "fwmask": kw.get("fwmask"),
            "src_len": 0,
            "dst_len": 0,
        }
        if command == "add":
            if entry in self.rules:
                raise NetlinkError(17)
            self.rules.append(entry)
        elif command == "del":
            if entry not in self.rules:
                raise NetlinkError(2)
            self.rules.remove(entry)

    def get_routes(self, family: int, table: int) -> list[dict[str, Any]]:
        return [dict(r) for (_, _, t), r in self.routes.items() if t == table]

    def apply(self, ops: list[RouteOp]) -> list[int]:
        """The RouteBatcher side: one call per batch."""
        if self.gate is not None:
            self.gate.wait(5)
        self.batches.append(len(ops))
        out = []
        for op in ops:
            self._note("route", "replace" if op.replace else "del")
            key = (str(op.dst.network_address), op.dst.prefixlen, op.table)
            if op.replace:
                if str(op.dst.network_address) in self.fail_routes:
                    out.append(22)
                    continue
                self.routes[key] = {
                    "dst": key[0],
                    "dst_len": key[1],
                    "oif": op.oif,
                    "table": op.table,
                    "prefsrc": str(op.prefsrc) if op.prefsrc else None,
                    "family": socket.AF_INET6 if op.dst.version == 6 else socket.AF_INET,
                }
                out.append(0)
            elif key in self.routes and self.routes[key]["oif"] == op.oif:
                del self.routes[key]
                out.append(0)
            else:
                out.append(3)
        return out

    def close(self) -> None:
        self.closed = True


def make(ipr: FakeIpr) -> TunRouting:
    return TunRouting("pyipsec0", MARK, netlink=lambda: ipr, batcher=lambda: ipr)


def ours(family: int = socket.AF_INET) -> dict[str, Any]:
    return {
        "family": family, "priority": 2207, "table": 2207, "FRA_TABLE": 2207,
        "flags": FIB_RULE_INVERT, "fwmark": MARK, "fwmask": 0xFFFFFFFF, "src_len": 0,
        "dst_len": 0,
    }  # fmt: skip


def test_fresh_start_installs_rule_and_routes_in_the_worker_thread() -> None:
    ipr = FakeIpr()
    r = make(ipr)
    r.setup_device(1400)
    assert r.found == []
    r.sync([(net("198.51.100.0/25"), net("203.0.113.0/25"))])
    r.wait()
    assert ipr.rules == [ours()]
    route = ipr.routes[("203.0.113.0", 25, 2207)]
    assert route["oif"] == 7 and route["prefsrc"] == "198.51.100.1"
    assert ipr.threads == {"pyipsec-netlink_0"}  # never the caller's thread
    r.clear()
    assert ipr.rules == [] and ipr.routes == {} and ipr.closed


def test_a_killed_daemons_rule_is_adopted_not_added_again() -> None:
    """The old code ran `ip rule add` and died on "File exists"."""
    ipr = FakeIpr()
    ipr.rules = [ours()]
    r = make(ipr)
    r.setup_device(1400)
    assert r.found == [
        "adopted IPv4 policy rule 2207 (not fwmark 0x5049 lookup 2207) left by a previous run"
    ]
    r.sync([(net("198.51.100.0/25"), net("203.0.113.0/25"))])
    r.wait()
    assert ("rule", "add") not in ipr.calls and r.failures == 0
    assert ipr.rules == [ours()]
    r.clear()
    assert ipr.rules == []


def test_a_different_rule_at_our_priority_is_replaced_and_stale_routes_removed() -> None:
    ipr = FakeIpr()
    foreign = ours() | {"flags": 0, "fwmark": None, "fwmask": None}
    ipr.rules = [foreign, ours(socket.AF_INET6)]
    for dst in ("203.0.113.0", "203.0.113.128"):  # left through our (persistent) device
        ipr.routes[(dst, 25, 2207)] = {
            "dst": dst, "dst_len": 25, "oif": 7, "table": 2207, "prefsrc": None,
            "family": socket.AF_INET,
        }  # fmt: skip
    ipr.routes[("10.9.0.0", 16, 2207)] = {
        "dst": "10.9.0.0", "dst_len": 16, "oif": 99, "table": 2207, "prefsrc": None,
        "family": socket.AF_INET,
    }  # fmt: skip
    r = make(ipr)
    r.setup_device(1400)
    assert "removed a stale IPv4 rule at priority 2207" in r.found
    assert any("adopted IPv6 policy rule" in f for f in r.found)
    assert "adopted 2 routes in table 2207 through pyipsec0 left by a previous run" in r.found
    r.sync([(net("198.51.100.0/25"), net("203.0.113.0/25"))])
    r.wait()
    assert ("203.0.113.128", 25, 2207) not in ipr.routes  # stale, removed
    assert ipr.routes[("203.0.113.0", 25, 2207)]["prefsrc"] == "198.51.100.1"  # replaced
    assert ("10.9.0.0", 16, 2207) in ipr.routes  # another device's: not ours to touch
    assert foreign not in ipr.rules and ours() in ipr.rules
    r.clear()
    assert ipr.rules == [] and list(ipr.routes) == [("10.9.0.0", 16, 2207)]


def test_a_burst_of_syncs_is_folded_and_the_caller_never_waits() -> None:
    ipr = FakeIpr()
    r = make(ipr)
    r.setup_device(1400)
    ipr.gate = threading.Event()  # the worker blocks in its first route request
    src = net("198.51.100.0/25")
    dsts = [net(f"10.0.{i}.0/24") for i in range(50)]
    start = time.monotonic()
    for i in range(1, 51):
        r.sync([(src, d) for d in dsts[:i]])  # returns at once though the worker is stuck
    assert time.monotonic() - start < 1.0
    ipr.gate.set()
    r.wait()
    assert {k[0] for k in ipr.routes} == {str(d.network_address) for d in dsts}
    # whatever set the first pass took, the later ones were applied as one more batch
    assert sum(1 for c in ipr.calls if c == ("route", "replace")) == 50
    assert len(ipr.batches) <= 2 and sum(ipr.batches) == 50, ipr.batches
    assert sum(1 for c in ipr.calls if c == ("route", "del")) == 0
    r.sync([(src, dsts[0])])
    r.wait()
    assert list(ipr.routes) == [("10.0.0.0", 24, 2207)]
    r.clear()


def test_a_failed_request_is_counted_and_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ipr = FakeIpr()
    ipr.fail_routes = {"10.1.0.0"}
    r = make(ipr)
    r.setup_device(1400)
    r.sync([(net("198.51.100.0/25"), net("10.1.0.0/16")), (net("0.0.0.0/0"), net("10.2.0.0/16"))])
    r.wait()
    assert r.failures == 1
    assert "netlink route replace 10.1.0.0/16 failed" in caplog.text
    assert ("10.2.0.0", 16, 2207) in ipr.routes
    r.clear()


def test_a_failed_batch_socket_is_replaced_and_the_batch_retried() -> None:
    ipr = FakeIpr()
    made: list[int] = []

    class Broken:
        def apply(self, ops: list[RouteOp]) -> list[int]:
            raise OSError(105, "No buffer space available")

        def close(self) -> None:
            made.append(-1)

    def batcher() -> Any:
        made.append(1)
        return Broken() if len(made) == 1 else ipr

    r = TunRouting("pyipsec0", MARK, netlink=lambda: ipr, batcher=batcher)
    r.setup_device(1400)
    pairs = [(net("198.51.100.0/25"), net("203.0.113.0/25"))]
    r.sync(pairs)
    r.wait()
    assert r.failures == 1 and ipr.routes == {}
    deadline = time.monotonic() + 5
    while not ipr.routes and time.monotonic() < deadline:  # retried by itself a second later
        time.sleep(0.05)
    r.wait()
    assert set(ipr.routes) == {("203.0.113.0", 25, 2207)}
    r.sync([*pairs, (net("198.51.100.0/25"), net("10.0.0.0/8"))])
    r.wait()
    assert set(ipr.routes) == {("203.0.113.0", 25, 2207), ("10.0.0.0", 8, 2207)}
    r.clear()


def test_a_policy_from_everything_never_gets_loopback_or_link_local_as_route_source() -> None:
    """A policy from ``::/0`` (or ``0.0.0.0/0``): the route's preferred source is a global
    address, not ``::1``/``127.0.0.1`` or ``fe80::`` (first in the dump); Linux refuses an
    IPv6 route with ``src ::1`` (EINVAL, seen in the IKEv2 IPv6 interop test)."""
    ipr = FakeIpr()
    ipr.addrs = ["127.0.0.1", "::1", "fe80::1", "2001:db8:ff::1", "198.51.100.129"]
    r = make(ipr)
    r.setup_device(1400)
    r.sync([(net("::/0"), net("::/0")), (net("0.0.0.0/0"), net("203.0.113.0/25"))])
    r.wait()
    assert ipr.routes[("::", 0, 2207)]["prefsrc"] == "2001:db8:ff::1"
    assert ipr.routes[("203.0.113.0", 25, 2207)]["prefsrc"] == "198.51.100.129"
    r.clear()
