"""Throw-away network namespaces for the demo and the end-to-end tests.

Everything a ``Lab`` creates (namespaces, and through them their links) is recorded and
deleted by ``close()``; it never touches a namespace it did not create. Only RFC 5737
addresses are meant to be used inside, and no namespace gets a default route, so no packet
can leave the machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from types import TracebackType


class LabError(RuntimeError):
    """A lab command failed; the message says which and why."""


def lab_prerequisites() -> list[str]:
    """What is missing for namespaces (empty when the lab can run here)."""
    missing: list[str] = []
    if os.geteuid() != 0:
        missing.append("root (network namespaces need CAP_SYS_ADMIN/CAP_NET_ADMIN)")
    if shutil.which("ip") is None:
        missing.append("the 'ip' command (Debian package iproute2)")
    if not os.path.exists("/dev/net/tun"):
        missing.append("/dev/net/tun")
    return missing


def run(cmd: Sequence[str], *, check: bool = True, timeout: float = 30) -> str:
    proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise LabError(f"{' '.join(cmd)}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


class Lab:
    """A set of namespaces named ``<prefix>-<name>``, removed again by ``close()``."""

    def __init__(self, prefix: str | None = None) -> None:
        self.prefix = prefix or f"pyi{os.getpid()}"
        self.namespaces: list[str] = []

    def __enter__(self) -> Lab:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def ns(self, name: str) -> str:
        """Create namespace ``<prefix>-<name>`` with loopback up; returns its full name."""
        full = f"{self.prefix}-{name}"
        if full in run(["ip", "netns", "list"]).split():
            raise LabError(f"namespace {full} already exists and is not ours")
        run(["ip", "netns", "add", full])
        self.namespaces.append(full)
        self.sh(full, "ip", "link", "set", "lo", "up")
        return full

    def sh(self, ns: str, *cmd: str, check: bool = True, timeout: float = 30) -> str:
        """Run a command inside a namespace and return its stdout."""
        return run(["ip", "netns", "exec", ns, *cmd], check=check, timeout=timeout)

    def link(self, ns_a: str, if_a: str, ns_b: str, if_b: str) -> None:
        """A veth pair between two namespaces (or inside one when ``ns_a == ns_b``)."""
        run(
            [
                "ip",
                "link",
                "add",
                if_a,
                "netns",
                ns_a,
                "type",
                "veth",
                "peer",
                "name",
                if_b,
                "netns",
                ns_b,
            ]
        )
        for ns, ifname in ((ns_a, if_a), (ns_b, if_b)):
            self.sh(ns, "ip", "link", "set", ifname, "up")

    def addr(self, ns: str, ifname: str, cidr: str) -> None:
        family = "-6" if ":" in cidr else "-4"
        extra = ["nodad"] if family == "-6" else []
        self.sh(ns, "ip", family, "addr", "add", cidr, "dev", ifname, *extra)

    def sysctl(self, ns: str, key: str, value: str) -> None:
        self.sh(ns, "sysctl", "-qw", f"{key}={value}")

    def close(self) -> None:
        """Delete every namespace this lab created (their links go with them)."""
        errors: list[str] = []
        for ns in reversed(self.namespaces):
            proc = subprocess.run(["ip", "netns", "del", ns], capture_output=True, text=True)
            if proc.returncode != 0 and "No such file" not in proc.stderr:
                errors.append(f"{ns}: {proc.stderr.strip()}")
        self.namespaces.clear()
        if errors:
            raise LabError("could not delete " + "; ".join(errors))


# The two-site topology of the demo, the end-to-end tests and the benchmarks:
#
#   ns a: lan0 198.51.100.1/25   wan0 198.51.100.129/25 <-veth-> ns b: wan0 198.51.100.130/25
#                                                                        lan0 203.0.113.1/25
# Each LAN is one end of a veth pair inside its namespace (the other end, lan0p, is up), so the
# gateway itself owns a LAN address to send from and to answer on.
WAN_A, WAN_B = "198.51.100.129", "198.51.100.130"
LAN_A, LAN_B = "198.51.100.1", "203.0.113.1"
NET_A, NET_B = "198.51.100.0/25", "203.0.113.0/25"


def two_sites(lab: Lab) -> tuple[str, str]:
    """Build the two-site topology in ``lab``; returns the namespaces (a, b)."""
    a, b = lab.ns("a"), lab.ns("b")
    lab.link(a, "wan0", b, "wan0")
    lab.addr(a, "wan0", f"{WAN_A}/25")
    lab.addr(b, "wan0", f"{WAN_B}/25")
    for ns, lan in ((a, LAN_A), (b, LAN_B)):
        lab.link(ns, "lan0", ns, "lan0p")
        lab.addr(ns, "lan0", f"{lan}/25")
    return a, b


# IPv6 on the same two sites (RFC 3849 documentation prefix; the namespaces have no default
# route, so nothing leaves them).
WAN6_A, WAN6_B = "2001:db8:ff::1", "2001:db8:ff::2"
LAN6_A, LAN6_B = "2001:db8:a::1", "2001:db8:b::1"
NET6_A, NET6_B = "2001:db8:a::/64", "2001:db8:b::/64"


def add_ipv6(lab: Lab, a: str, b: str) -> None:
    """Give the two sites of ``two_sites`` IPv6 wan and lan addresses."""
    lab.addr(a, "wan0", f"{WAN6_A}/64")
    lab.addr(b, "wan0", f"{WAN6_B}/64")
    lab.addr(a, "lan0", f"{LAN6_A}/64")
    lab.addr(b, "lan0", f"{LAN6_B}/64")
