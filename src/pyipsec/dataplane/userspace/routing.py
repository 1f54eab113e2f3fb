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


@dataclass
class TunRouting:
    """The routes/rules of one TUN device, kept in step with the set of steered prefixes."""

    device: str
    mark: int
    table: int = ROUTE_TABLE
    priority: int = RULE_PRIORITY
    routes: dict[IPNetwork, IPAddress | None] = field(default_factory=dict)
    rules: set[int] = field(default_factory=set)  # address families with a rule installed

    def setup_device(self, mtu: int) -> None:
        ip("link", "set", self.device, "mtu", str(mtu), "up")
        for conf in ("all", self.device):
            subprocess.run(
                ["sysctl", "-qw", f"net.ipv4.conf.{conf}.rp_filter=0"],
                capture_output=True,
                check=False,
            )

    def sync(self, prefixes: Iterable[tuple[IPNetwork, IPNetwork]]) -> None:
        """Make the installed routes exactly the destinations of ``(src, dst)`` prefixes."""
        locals_ = local_addresses()
        wanted: dict[IPNetwork, IPAddress | None] = {}
        for src, dst in prefixes:
            pref = next((a for a in locals_ if a.version == src.version and a in src), None)
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
