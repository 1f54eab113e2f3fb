"""Routes and policy-routing rules that steer protected traffic into the TUN device.

For each ``encrypt`` policy the userspace backend routes the policy's destination prefix into
the TUN device in a table of its own, and one rule sends everything that does not carry
pyipsec's fwmark through that table. Packets pyipsec sends itself (protected packets, and
cleartext that the SPD lets pass) carry the mark and take the main table. Where a local address
lies inside the policy's source prefix the route names it as the preferred source, so traffic
the gateway originates itself picks an address the policy covers.

Everything installed is recorded and removed by ``clear()``.
"""

from __future__ import annotations

import ipaddress
import socket
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from pyipsec.dataplane.policy import IPAddress, IPNetwork

ROUTE_TABLE = 2207
RULE_PRIORITY = 2207
IP_MTU = 14  # linux/in.h: getsockopt on a connected socket gives the path MTU
IPV6_MTU = 24  # linux/in6.h
SO_MARK = 36


class RoutingError(RuntimeError):
    """An ``ip`` command failed."""


def ip(*args: str, check: bool = True) -> str:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)
    if check and proc.returncode != 0:
        raise RoutingError(f"ip {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout


def local_addresses() -> list[IPAddress]:
    out = ip("-o", "addr", "show")
    found: list[IPAddress] = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) > 3 and parts[2] in ("inet", "inet6"):
            found.append(ipaddress.ip_interface(parts[3]).ip)
    return found


def path_mtu(dst: IPAddress, mark: int) -> int:
    """The MTU toward ``dst`` for packets carrying ``mark``: the route's MTU (its device's, a
    ``mtu`` set on the route, or what path-MTU discovery learnt), as the kernel reports it for a
    connected UDP socket. Raises ``OSError`` when there is no route."""
    family = socket.AF_INET if dst.version == 4 else socket.AF_INET6
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, SO_MARK, mark)
        sock.connect((str(dst), 9))
        if family == socket.AF_INET:
            return sock.getsockopt(socket.IPPROTO_IP, IP_MTU)
        return sock.getsockopt(socket.IPPROTO_IPV6, IPV6_MTU)


TXQUEUELEN = 2000  # packets queued in the TUN device for the daemon to read


@dataclass
class TunRouting:
    """The routes/rules of one TUN device, kept in step with the set of steered prefixes."""

    device: str
    mark: int
    table: int = ROUTE_TABLE
    priority: int = RULE_PRIORITY
    routes: dict[IPNetwork, IPAddress | None] = field(default_factory=dict)
    rules: set[int] = field(default_factory=set)  # address families with a rule installed
    address_ttl: float = 2.0  # seconds a read of the local addresses is reused
    _pairs: frozenset[tuple[IPNetwork, IPNetwork]] = frozenset()
    _locals: list[IPAddress] = field(default_factory=list)
    _locals_read: float = float("-inf")
    _preferred: dict[IPNetwork, IPAddress | None] = field(default_factory=dict)

    def setup_device(self, mtu: int) -> None:
        # The TUN device is a tunnel end, not a LAN: no IPv6 router solicitations or router
        # advertisements on it (they would reach the SPD as traffic to ff02::2), and no
        # reverse-path filter (decapsulated packets arrive on it from remote prefixes).
        settings = [f"net.ipv4.conf.{conf}.rp_filter=0" for conf in ("all", self.device)]
        settings += [
            f"net.ipv6.conf.{self.device}.router_solicitations=0",
            f"net.ipv6.conf.{self.device}.accept_ra=0",
        ]
        for setting in settings:
            subprocess.run(["sysctl", "-qw", setting], capture_output=True, check=False)
        # A deeper queue than TUN's default 500 packets: a burst a TCP sender makes while the
        # gateway is busy waits instead of being dropped (measured: ~3 % of a bulk transfer's
        # segments lost and retransmitted at 500, none at 2000; docs/userspace-offload.md).
        ip("link", "set", self.device, "mtu", str(mtu), "txqueuelen", str(TXQUEUELEN), "up")

    def _preferred_source(self, src: IPNetwork) -> IPAddress | None:
        """A local address inside ``src`` (memoised; the address list is re-read at most every
        ``address_ttl`` seconds, so a burst of policy changes runs `ip addr` once)."""
        if src in self._preferred:
            return self._preferred[src]
        now = time.monotonic()
        if now - self._locals_read > self.address_ttl:
            self._locals = local_addresses()
            self._locals_read = now
            self._preferred.clear()
        pref = next((a for a in self._locals if a.version == src.version and a in src), None)
        self._preferred[src] = pref
        return pref

    def sync(self, prefixes: Iterable[tuple[IPNetwork, IPNetwork]]) -> None:
        """Make the installed routes exactly the destinations of ``(src, dst)`` prefixes.

        Only the differences to the installed routes cost an ``ip`` command; an unchanged set
        of prefixes costs nothing (IKE calls this for every generated policy)."""
        pairs = frozenset(prefixes)
        if pairs == self._pairs and self.routes:
            return
        self._pairs = pairs
        wanted: dict[IPNetwork, IPAddress | None] = {}
        for src, dst in pairs:
            pref = self._preferred_source(src)
            if dst not in wanted or wanted[dst] is None:
                wanted[dst] = pref
        for dst in list(self.routes):
            if dst not in wanted or wanted[dst] != self.routes[dst]:
                self._del_route(dst)
        for dst, pref in wanted.items():
            if dst not in self.routes:
                self._add_route(dst, pref)

    def _family(self, net: IPNetwork) -> str:
        return "-6" if net.version == 6 else "-4"

    def _add_route(self, dst: IPNetwork, pref: IPAddress | None) -> None:
        if dst.version not in self.rules:
            ip(self._family(dst), "rule", "add", "not", "fwmark", hex(self.mark),
               "lookup", str(self.table), "priority", str(self.priority))  # fmt: skip
            self.rules.add(dst.version)
        extra = ["src", str(pref)] if pref is not None else []
        ip(self._family(dst), "route", "replace", str(dst), "dev", self.device,
           "table", str(self.table), *extra)  # fmt: skip
        self.routes[dst] = pref

    def _del_route(self, dst: IPNetwork) -> None:
        ip(self._family(dst), "route", "del", str(dst), "table", str(self.table), check=False)
        del self.routes[dst]

    def clear(self) -> None:
        """Remove every route and rule this object installed."""
        for dst in list(self.routes):
            self._del_route(dst)
        for version in sorted(self.rules):
            fam = "-6" if version == 6 else "-4"
            ip(fam, "rule", "del", "not", "fwmark", hex(self.mark), "lookup", str(self.table),
               "priority", str(self.priority), check=False)  # fmt: skip
        self.rules.clear()
