"""DNS names in RouterOS 7 peer addresses (``/ip ipsec peer add address=gw.example.net``).

RouterOS 6.44+ accepts a DNS name as a peer's address and re-resolves it, so a peer on a
dynamic address (DDNS) is followed without scripts (reference §2.4, §5 item 5). The
configuration layer is pure: ``compile_config(config, resolved=...)`` takes the addresses, and
leaves a peer whose name is not resolved yet out. This shell resolves the names the daemon's
configuration uses in the background (``loop.getaddrinfo``, never blocking the event loop),
every ``interval`` seconds and at once when a new name appears, and calls ``on_change`` when
an address changed so the daemon applies the configuration again. An IPv4 address is preferred
(what RouterOS uses for a name with both); a name that does not resolve keeps its last address.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable, Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolve = Callable[[str], Awaitable[list[IPAddress]]]

log = logging.getLogger("pyipsec.ipsec")


async def system_resolve(name: str) -> list[IPAddress]:
    """The addresses of ``name`` from the system resolver (off the event loop's thread)."""
    infos = await asyncio.get_running_loop().getaddrinfo(name, None, type=socket.SOCK_DGRAM)
    return [ipaddress.ip_address(info[4][0]) for info in infos]


def pick(addresses: Iterable[IPAddress]) -> IPAddress | None:
    """The address a peer name stands for: the first IPv4 one, else the first."""
    found = list(addresses)
    return next((a for a in found if a.version == 4), found[0] if found else None)


class PeerResolver:
    """Keeps ``resolved`` (name -> address) for the names :meth:`want` was last given."""

    def __init__(
        self,
        on_change: Callable[[], None],
        *,
        interval: float = 60.0,
        timeout: float = 10.0,
        resolve: Resolve = system_resolve,
    ) -> None:
        self.on_change = on_change
        self.interval = interval
        self.timeout = timeout
        self.resolve = resolve
        self.names: frozenset[str] = frozenset()
        self.resolved: dict[str, IPAddress] = {}
        self._wake = asyncio.Event()

    def want(self, names: Iterable[str]) -> None:
        """The names the configuration uses now; a new one is resolved at once."""
        names = frozenset(names)
        if names - self.names:
            self._wake.set()
        self.names = names

    async def refresh(self) -> bool:
        """Resolve every wanted name once; True when some address changed."""
        changed = False
        for name in sorted(self.names):
            try:
                found = await asyncio.wait_for(self.resolve(name), self.timeout)
            except (OSError, TimeoutError, ValueError) as exc:
                log.warning("peer address %s does not resolve: %s", name, exc)
                continue
            address = pick(found)
            if address is not None and self.resolved.get(name) != address:
                log.info("peer address %s resolves to %s", name, address)
                self.resolved[name] = address
                changed = True
        for gone in set(self.resolved) - self.names:
            del self.resolved[gone]
        return changed

    async def run(self) -> None:
        """Resolve now, then every ``interval`` seconds or when a new name is wanted."""
        while True:
            self._wake.clear()
            if await self.refresh():
                self.on_change()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
