"""The IKE daemon's sockets: UDP 500 of its own, UDP 4500 shared with the data plane.

Datagrams from UDP 500, and the non-ESP-marked ones from UDP 4500 (RFC 3948 §2.2, handed over
by the data plane), go to the sans-IO engine (``core.engine.IkeEngines``: IKEv1 and IKEv2,
told apart by the IKE header's version) with their real local address (IP_PKTINFO); what the
engine wants to send leaves from the port it names, with the non-ESP marker on 4500
and the source address set per packet. Every socket carries pyipsec's fwmark, so IKE traffic
never enters the SPD (RouterOS: "IKE traffic is exempt from policies"). The engine's timers
run on the loop: after every interaction the next deadline is scheduled again.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import select
import socket
import time
from collections.abc import Callable

from pyipsec.core.engine import IkeEngine
from pyipsec.core.events import Endpoint
from pyipsec.dataplane.policy import AddressKey, IPAddress, address_key
from pyipsec.dataplane.userspace.rawsock import (
    IP_PKTINFO,
    PYIPSEC_FWMARK,
)
from pyipsec.dataplane.userspace.router import open_udp, pktinfo_dst
from pyipsec.io.logging import flush_suppressed
from pyipsec.wire.ikev1.constants import ExchangeType, IsakmpFlag
from pyipsec.wire.udpencap import NAT_KEEPALIVE, NAT_T_PORT, NON_ESP_MARKER

log = logging.getLogger("pyipsec.ipsec")
IKE_PORT = 500
# The answers to the first datagrams of a read batch leave before the next one is handled, so
# an idle peer works on them while we work on the rest (sending once per batch had two daemons
# take turns); the rest of a long batch is sent at its end: each early send may wake the peer
# (a cross-CPU wake-up), and with every answer sent early a burst of 200 setups cost ~10 % more
# CPU per setup for no measurable gain (bench_ike.py, window all).
EAGER_ANSWERS = 4


def batch_rank(data: bytes) -> int:
    """The order in which the datagrams of one read batch are handled, lowest first: IKEv1
    quick mode and informational (DPD) messages, then encrypted main/aggressive-mode messages,
    then the other phase-1 messages of exchanges under way, and first messages (no responder
    cookie yet) last; IKEv2 and anything else in the middle. Exchanges that are further along
    finish first, instead of every exchange of a burst advancing in lockstep (both daemons
    then wait for each other's whole stage), and a flood of first messages cannot delay
    established peers. Only unrelated exchanges change order (RFC 2408 and RFC 2409 allow
    any order between them: the network may reorder too); ``batch_order`` keeps the datagrams
    of one IKE SA in arrival order."""
    if len(data) < 28 or data[17] >> 4 != 1:  # the IKE header's major version (octet 17)
        return 2
    exchange, flags = data[18], data[19]
    if exchange in (ExchangeType.QUICK_MODE, ExchangeType.INFORMATIONAL):
        return 0
    if flags & IsakmpFlag.ENCRYPTION:
        return 1
    if not any(data[8:16]):  # responder cookie zero: a new exchange's first message
        return 3
    return 2


def batch_order(
    batch: list[tuple[bytes, Endpoint, Endpoint]],
) -> list[tuple[bytes, Endpoint, Endpoint]]:
    """The batch sorted by ``batch_rank``, except that the datagrams of one IKE SA (the same
    initiator cookie / SPIi) keep their arrival order: they all take the rank of the SA's
    first datagram in the batch. An IKEv1 initiator may send several messages back to back:
    aggressive mode's message 3 and then its INITIAL-CONTACT notify and first quick mode.
    Handled the other way round, the notify cannot be decrypted (its IV follows from message
    3), and the responder ended that phase 1 as an authentication failure."""
    ranks: dict[bytes, int] = {}
    keys: list[int] = []
    for data, _src, _dst in batch:
        spi = data[:8]
        rank = ranks.get(spi)
        if rank is None:
            rank = ranks[spi] = batch_rank(data)
        keys.append(rank)
    return [batch[i] for i in sorted(range(len(batch)), key=keys.__getitem__)]


# Addresses parsed from the socket API's text, and the send arguments of our own and the
# peers' addresses: a peer's datagrams come from a handful of addresses, and parsing one
# (``ipaddress.ip_address``) costs about 5 us, twice per received datagram, formatting one for
# ``sendmsg`` (or a log line: three per IKE setup) 1.5 us more. Bounded: past ``_CACHE_MAX``
# entries (a flood from many sources) a cache starts again empty, which costs what no cache
# costs.
_CACHE_MAX = 4096
_addresses: dict[str, IPAddress] = {}
# (the latter two by ``address_key``: hashed in C, an address's own hash runs Python)
_send_args: dict[AddressKey, str] = {}
_pktinfos: dict[AddressKey, list[tuple[int, int, bytes]]] = {}


def _address(text: str) -> IPAddress:
    """``ipaddress.ip_address`` of an address as the socket API gives it (an IPv6 scope cut)."""
    address = _addresses.get(text)
    if address is None:
        if len(_addresses) >= _CACHE_MAX:
            _addresses.clear()
        address = _addresses[text] = ipaddress.ip_address(text.split("%")[0])
    return address


def address_text(address: IPAddress) -> str:
    """``str(address)``: what ``sendmsg`` takes, and what the daemon's log lines write."""
    key = address_key(address)
    text = _send_args.get(key)
    if text is None:
        if len(_send_args) >= _CACHE_MAX:
            _send_args.clear()
        text = _send_args[key] = str(address)
    return text


def _pktinfo(src: IPAddress) -> list[tuple[int, int, bytes]]:
    """Ancillary data choosing the source address of one datagram (the list is shared: the
    caller must not change it)."""
    key = address_key(src)
    anc = _pktinfos.get(key)
    if anc is None:
        if len(_pktinfos) >= _CACHE_MAX:
            _pktinfos.clear()
        anc = _pktinfos[key] = _make_pktinfo(src)
    return anc


def _make_pktinfo(src: IPAddress) -> list[tuple[int, int, bytes]]:
    if src.is_unspecified:
        return []
    if src.version == 4:
        return [(socket.IPPROTO_IP, IP_PKTINFO, b"\0" * 4 + src.packed + b"\0" * 4)]
    return [(socket.IPPROTO_IPV6, socket.IPV6_PKTINFO, src.packed + b"\0" * 4)]


class IkeEndpoint:
    def __init__(
        self,
        engine: IkeEngine,
        nat_t_sockets: dict[int, socket.socket],
        *,
        on_activity: Callable[[], None] | None = None,
        mark: int = PYIPSEC_FWMARK,
        port: int = IKE_PORT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.nat_t = nat_t_sockets  # by address family, owned by the data plane
        self.on_activity = on_activity
        self.mark = mark
        self.port = port
        self.clock = clock
        self.sockets: dict[int, socket.socket] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due: float | None = None  # the engine time ``_timer`` was set for
        self._precompute_handle: asyncio.Handle | None = None
        self.errors = 0  # exceptions the engine let out (a bug; the safety nets below count them)

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        for family in (socket.AF_INET, socket.AF_INET6):
            sock = open_udp(self.port, family, self.mark)
            self.sockets[int(family)] = sock
            loop.add_reader(sock.fileno(), self._on_readable, sock, int(family))
        self.reschedule()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._precompute_handle is not None:
            self._precompute_handle.cancel()
            self._precompute_handle = None
        for sock in self.sockets.values():
            if self._loop is not None:
                self._loop.remove_reader(sock.fileno())
            sock.close()
        self.sockets.clear()

    # -- receive -------------------------------------------------------------------------

    def _on_readable(self, sock: socket.socket, family: int) -> None:
        batch: list[tuple[bytes, Endpoint, Endpoint]] = []
        for _ in range(64):
            try:
                data, anc, _flags, addr = sock.recvmsg(65535, 256)
            except BlockingIOError:
                break
            except OSError as exc:
                log.warning("IKE receive failed: %s", exc.strerror)
                break
            src = (_address(addr[0]), addr[1])
            local = _address(pktinfo_dst(anc, family))
            batch.append((data, src, (local, self.port)))
        for i, (data, src, dst) in enumerate(batch_order(batch)):
            self.deliver(data, src, dst)
            if i < EAGER_ANSWERS:
                self.send_pending()
        self.flush()

    def on_nat_t(self, data: bytes, src: tuple[str, int], dst: tuple[str, int]) -> None:
        """The data plane's callback for IKE on UDP 4500 (``data`` still has its marker)."""
        if data.startswith(NON_ESP_MARKER):
            data = data[len(NON_ESP_MARKER) :]
        remote = (_address(src[0]), src[1])
        self.deliver(data, remote, (_address(dst[0]), dst[1]))
        self.flush()

    def deliver(self, data: bytes, src: Endpoint, dst: Endpoint) -> None:
        try:
            self.engine.receive_datagram(data, src, dst, self.clock())
        except Exception:  # the engine must not raise on input; if it does, stay up
            self.errors += 1
            log.exception("IKE engine failed on a datagram from %s", src[0])

    # -- send ----------------------------------------------------------------------------

    def flush(self) -> None:
        self.send_pending()
        self.reschedule()
        self._precompute_soon()

    def send_pending(self) -> None:
        """Send what the engine has queued and let the daemon see its events (no timer)."""
        for d in self.engine.datagrams_to_send():
            self.send(d.data, d.src, d.dst)
        if self.on_activity is not None:
            self.on_activity()

    def send(self, data: bytes, src: Endpoint, dst: Endpoint) -> None:
        family = socket.AF_INET if dst[0].version == 4 else socket.AF_INET6
        if src[1] == NAT_T_PORT:  # floated (RFC 3947 §4): from 4500, with the non-ESP marker
            sock = self.nat_t.get(int(family))
            data = NON_ESP_MARKER + data
        else:
            sock = self.sockets.get(int(family))
        if sock is None:
            return
        try:
            sock.sendmsg([data], _pktinfo(src[0]), 0, (address_text(dst[0]), dst[1]))
        except OSError as exc:
            log.warning("IKE send to %s failed: %s", dst[0], exc.strerror)

    def send_keepalive(self, src: Endpoint, dst: Endpoint) -> None:
        """RFC 3948 §2.3: one 0xFF byte from port 4500, to keep a NAT mapping open."""
        sock = self.nat_t.get(int(socket.AF_INET if dst[0].version == 4 else socket.AF_INET6))
        if sock is not None:
            try:
                sock.sendmsg([NAT_KEEPALIVE], _pktinfo(src[0]), 0, (address_text(dst[0]), dst[1]))
            except OSError as exc:
                log.debug("NAT keepalive to %s failed: %s", dst[0], exc.strerror)

    # -- work ahead of time ------------------------------------------------------------

    def _precompute_soon(self) -> None:
        """After a batch: let the engine make a key pair ahead (``IkeEngines.precompute``) in
        the loop's next iteration, one at a time, while no IKE datagram waits."""
        if self._loop is None or self._precompute_handle is not None:
            return
        if getattr(self.engine, "precompute", None) is not None:
            self._precompute_handle = self._loop.call_soon(self._precompute)

    def _precompute(self) -> None:
        self._precompute_handle = None
        socks = [*self.sockets.values(), *self.nat_t.values()]
        try:
            if socks and select.select(socks, [], [], 0)[0]:
                return  # a datagram first; its batch's flush schedules this again
            more = self.engine.precompute()  # type: ignore[attr-defined]
        except Exception:
            self.errors += 1
            log.exception("IKE engine precompute failed")
            return
        if more and self._loop is not None:
            self._precompute_handle = self._loop.call_soon(self._precompute)

    # -- timers --------------------------------------------------------------------------

    def reschedule(self) -> None:
        if self._loop is None:
            return
        due = self.engine.next_timer()
        if flush_suppressed():  # rate-limited log lines: report their count within a second
            due = min(due, self.clock() + 1.0) if due is not None else self.clock() + 1.0
        if self._timer is not None:
            if due == self._timer_due:
                return  # the timer set is still the right one (most batches: nothing changed)
            self._timer.cancel()
            self._timer = None
        if due is not None:
            delay = max(0.0, due - self.clock())
            self._timer = self._loop.call_later(delay, self._on_timer)
            self._timer_due = due

    def _on_timer(self) -> None:
        self._timer = None
        try:
            self.engine.handle_timer(self.clock())
        except Exception:
            self.errors += 1
            log.exception("IKE engine timer failed")
        self.flush()
