"""The userspace data plane at run time: moves packets between the TUN device, the raw
ESP/AH sockets, the UDP-4500 socket and the sans-IO packet engine, on an asyncio loop.

Outbound: the kernel routes traffic of ``encrypt`` policies into the TUN device (see
``routing.py``); each packet read from it goes through ``Processor.outbound`` and leaves on a
raw socket (ESP/AH) or the UDP-4500 socket (ESP-in-UDP), or in clear on the raw socket when the
SPD lets it pass. Inbound: ESP/AH from the raw sockets and ESP-in-UDP from port 4500 go through
``Processor.inbound``; what it delivers is written into the TUN device, so the kernel hands it
to the local stack or forwards it. Datagrams on port 4500 that carry IKE (non-ESP marker) go to
the ``on_ike`` callback; NAT keepalives are ignored.

MTU (RFC 4301 §8, as Linux xfrm does it): the outer path MTU is the route's MTU toward the
peer (``routing.path_mtu``, refreshed every few seconds) or the configured ``outer_mtu``. A
protected packet that exceeds it is not sent as is: an IPv4 packet with DF set is dropped and an
ICMP "fragmentation needed" carrying what fits before encapsulation (``Processor.inner_mtu``)
is written into the TUN device towards its source, so the sender's path-MTU discovery adapts;
an IPv6 packet gets an ICMPv6 "packet too big" likewise (unless what fits is below the IPv6
minimum of 1280, then it is fragmented); any other packet is sent as outer fragments (IPv4:
RFC 791, IPv6: a fragment header), which the peer's kernel reassembles.

With ``offload`` (the default) the TUN device carries virtio-net headers: packets received
from the tunnel are coalesced into TCP super-packets (GRO) before they are written, and with
``tso`` the kernel may hand over TCP super-segments, cut into segments here. See
docs/userspace-offload.md.

All sockets carry pyipsec's fwmark, so their packets bypass the TUN steering rule: the
daemon's own IKE and encapsulated traffic never meets the SPD.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import logging
import os
import socket
import time
from collections.abc import Callable, Iterable

from pyipsec.dataplane.policy import Action, Policy
from pyipsec.dataplane.processor import InboundResult, OutboundResult, Processor, Verdict
from pyipsec.dataplane.userspace.offload import (
    EMPTY_VNET_HDR,
    VNET_HDR_LEN,
    Coalescer,
    OffloadError,
    from_tun,
)
from pyipsec.dataplane.userspace.rawsock import (
    IP_PKTINFO,
    IPPROTO_AH,
    IPPROTO_ESP,
    PYIPSEC_FWMARK,
    SO_MARK,
    RawReceiver,
    RawSender,
    big_receive_buffer,
)
from pyipsec.dataplane.userspace.routing import ROUTE_COALESCE, TunRouting, path_mtu
from pyipsec.dataplane.userspace.tun import OFFLOAD_TSO, open_tun
from pyipsec.dataplane.userspace.udpgso import (
    GSO_SIZE,
    SOL_UDP,
    UDP_GRO,
    UDP_SEGMENT,
    batches,
    gro_size,
    split,
)
from pyipsec.wire.fragment import CannotFragment, fragment_ipv4, fragment_ipv6
from pyipsec.wire.icmp import IPV6_MIN_MTU, frag_needed, packet_too_big
from pyipsec.wire.ip import IPAddress, build_ip
from pyipsec.wire.udpencap import NAT_T_PORT, UdpPayloadKind, classify

log = logging.getLogger("pyipsec.dataplane")

BATCH = 64  # packets handled per readiness callback before yielding to the loop
MTU_REFRESH = 5.0  # seconds a looked-up path MTU is trusted
ICMP_PER_SECOND = 100  # at most this many "too big" errors a second (RFC 1812 §4.3.2.8)
IP_MTU_DISCOVER, IP_PMTUDISC_DONT = 10, 0  # linux/in.h
IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DONT = 23, 0  # linux/in6.h
IkeHandler = Callable[[bytes, tuple[str, int], tuple[str, int]], None]


def open_udp(port: int, family: int, mark: int, gro: bool = False) -> socket.socket:
    """A UDP socket of pyipsec (fwmark, big receive buffer, local address per datagram via
    PKTINFO, fragmentation instead of PMTU drops), bound to ``port`` on all addresses."""
    sock = socket.socket(family, socket.SOCK_DGRAM)
    if gro:
        try:
            sock.setsockopt(SOL_UDP, UDP_GRO, 1)
        except OSError:
            log.info("UDP_GRO not supported here: receiving datagrams one by one")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, SO_MARK, mark)
    big_receive_buffer(sock)
    # ESP-in-UDP bigger than the path MTU is fragmented by the kernel (see the module docstring)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DONT)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
        sock.bind(("::", port))
    else:
        sock.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT)
        sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
        sock.bind(("0.0.0.0", port))
    sock.setblocking(False)
    return sock


def pktinfo_dst(ancdata: list[tuple[int, int, bytes]], family: int) -> str:
    """The local address a datagram arrived at (IP_PKTINFO / IPV6_PKTINFO), else unspecified."""
    for level, kind, value in ancdata:
        if family == socket.AF_INET and level == socket.IPPROTO_IP and kind == IP_PKTINFO:
            return socket.inet_ntop(socket.AF_INET, value[8:12])  # ipi_addr
        if level == socket.IPPROTO_IPV6 and kind == socket.IPV6_PKTINFO:
            return socket.inet_ntop(socket.AF_INET6, value[:16])
    return "0.0.0.0" if family == socket.AF_INET else "::"


class UserspaceDataplane:
    """One TUN device and its sockets, driven by a ``Processor``."""

    def __init__(
        self,
        processor: Processor,
        *,
        tun_name: str = "pyipsec0",
        mtu: int = 1400,
        mark: int = PYIPSEC_FWMARK,
        nat_t_port: int = NAT_T_PORT,
        on_ike: IkeHandler | None = None,
        clock: Callable[[], float] = time.monotonic,
        offload: bool = True,
        tso: bool = False,
        outer_mtu: int | None = None,
        after_batch: Callable[[], None] | None = None,
    ) -> None:
        self.processor = processor
        # called after each batch of outbound packets: lets the owner hand the engine's events
        # (an acquire for IKE) on without waiting for a timer
        self.after_batch = after_batch
        self.tun_name = tun_name
        self.mtu = mtu
        self.mark = mark
        self.nat_t_port = nat_t_port
        self.on_ike = on_ike
        self.clock = clock
        self.offload = offload
        self.tso = tso
        self.outer_mtu = outer_mtu  # None: the route's MTU toward each peer
        self._mtus: dict[IPAddress, tuple[int, float]] = {}
        self._last_mtu: tuple[IPAddress | None, int, float] = (None, 0, 0.0)
        self._icmp_budget = (0.0, 0)  # (second, errors sent in it)
        self._frag_id = int.from_bytes(os.urandom(4), "big")
        self.too_big = 0  # packets answered with ICMP fragmentation needed / packet too big
        self.fragmented = 0  # protected packets sent as fragments
        self.tun_fd = -1
        self.routing: TunRouting | None = None
        self.found: list[str] = []  # what start() adopted or removed of a previous run
        self.sender: RawSender | None = None
        self.receivers: list[RawReceiver] = []
        self.udp: dict[int, socket.socket] = {}  # by address family
        self._loop: asyncio.AbstractEventLoop | None = None
        self._readers: list[int] = []
        self._coalescer: Coalescer | None = None
        # ESP-in-UDP datagrams queued during one TUN batch, sent with UDP GSO (offload only)
        self._udp_queue: dict[int, list[tuple[tuple[str, int], bytes]]] | None = None
        self._udp_gso = True
        self._addr_str: dict[IPAddress, str] = {}
        self._ip_cache: dict[str, IPAddress] = {}
        # (remote, local) address text -> an outer IP header for ESP-in-UDP from that peer
        self._udp_headers: dict[tuple[str, str], bytes] = {}

    # -- life cycle ----------------------------------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Open the device and sockets and start reading. On failure nothing stays behind."""
        self._loop = loop
        # ESP-in-UDP leaves on our UDP sockets: the engine need not build its IP/UDP headers
        self.processor.udp_payload_only = True
        # a persistent device of that name (one a killed instance or an administrator left)
        # is attached to by open_tun, with the routes through it: say so
        existed = os.path.exists(f"/sys/class/net/{self.tun_name}")
        try:
            self.tun_fd, self.tun_name = open_tun(
                self.tun_name,
                vnet_hdr=self.offload,
                offload=OFFLOAD_TSO if self.offload and self.tso else 0,
            )
            if self.offload:
                self._coalescer = Coalescer(self._write_tun)
            if existed:
                self.found.append(f"adopted the existing TUN device {self.tun_name}")
            # route changes wake the worker once per loop iteration, at most once every
            # ROUTE_COALESCE seconds (sync_policies and change_policies run on the loop's
            # thread)
            self.routing = TunRouting(
                self.tun_name, self.mark, defer=loop.call_later, coalesce=ROUTE_COALESCE
            )
            self.routing.setup_device(self.mtu)
            self.found += self.routing.found
            self.sender = RawSender(self.mark)
            self.receivers = [
                RawReceiver(IPPROTO_ESP, self.mark),
                RawReceiver(IPPROTO_AH, self.mark),
            ]
            for family in (socket.AF_INET, socket.AF_INET6):
                self.udp[int(family)] = open_udp(
                    self.nat_t_port, family, self.mark, gro=self.offload
                )
        except Exception:
            self.stop()
            raise
        self._add_reader(self.tun_fd, self._on_tun)
        for rx in self.receivers:
            self._add_reader(rx.v4.fileno(), self._on_raw, rx.recv_v4)
            self._add_reader(rx.v6.fileno(), self._on_raw, rx.recv_v6)
        for fam, sock in self.udp.items():
            self._add_reader(sock.fileno(), self._on_udp, sock, fam)

    def _add_reader(self, fd: int, callback: Callable[..., None], *args: object) -> None:
        assert self._loop is not None
        self._loop.add_reader(fd, callback, *args)
        self._readers.append(fd)

    def stop(self) -> None:
        """Remove routes and rules, close every socket and the TUN device (which goes away)."""
        if self._loop is not None:
            for fd in self._readers:
                self._loop.remove_reader(fd)
        self._readers.clear()
        if self.routing is not None:
            self.routing.clear()
            self.routing = None
        if self.sender is not None:
            self.sender.close()
            self.sender = None
        for rx in self.receivers:
            rx.close()
        self.receivers = []
        for sock in self.udp.values():
            sock.close()
        self.udp.clear()
        if self.tun_fd >= 0:
            os.close(self.tun_fd)
            self.tun_fd = -1

    def sync_policies(self, policies: Iterable[Policy]) -> None:
        """Steer the destinations of the encrypt policies into the TUN device (applied by the
        routing worker thread, so this returns at once; ``wait_routes`` waits for it)."""
        if self.routing is not None:
            self.routing.sync((p.src, p.dst) for p in policies if p.action is not Action.NONE)

    def change_policies(self, added: Iterable[Policy], removed: Iterable[Policy]) -> None:
        """Steer the destinations of ``added`` encrypt policies into the TUN device and stop
        steering those of ``removed`` ones: the difference only (``sync_policies`` takes the
        whole set)."""
        if self.routing is not None:
            self.routing.change(
                [(p.src, p.dst) for p in added if p.action is not Action.NONE],
                [(p.src, p.dst) for p in removed if p.action is not Action.NONE],
            )

    def wait_routes(self, timeout: float = 30) -> None:
        """Block until the routes of every ``sync_policies`` so far are installed."""
        if self.routing is not None:
            self.routing.wait(timeout)

    # -- packet paths --------------------------------------------------------------------

    def _on_tun(self) -> None:
        now = self.clock()
        fd = self.tun_fd
        offload = self.offload
        send = self.send_outbound
        if offload:
            self._udp_queue = {}
        sender = self.sender
        if sender is not None:
            sender.begin()
        try:
            self._read_tun_batch(fd, offload, send, now)
        finally:
            if sender is not None:
                sender.flush()
            queue, self._udp_queue = self._udp_queue, None
            if queue:
                self._flush_udp(queue)
            if self.after_batch is not None:
                self.after_batch()

    def _read_tun_batch(
        self, fd: int, offload: bool, send: Callable[[bytes, float], None], now: float
    ) -> None:
        for _ in range(BATCH):
            try:
                packet = os.read(fd, 65535 + VNET_HDR_LEN)
            except BlockingIOError:
                break
            except OSError as exc:
                log.warning("reading %s failed: %s", self.tun_name, exc.strerror)
                break
            if not offload:
                send(packet, now)
                continue
            if not packet[0] and not packet[1]:  # no checksum to complete, no GSO: the common case
                send(packet[VNET_HDR_LEN:], now)
                continue
            try:
                packets = from_tun(packet)
            except OffloadError as exc:
                log.debug("dropped a packet from %s: %s", self.tun_name, exc)
                continue
            for p in packets:
                send(p, now)

    def _write_tun(self, data: bytes) -> None:
        try:
            os.write(self.tun_fd, data)
        except OSError as exc:
            log.warning("writing to %s failed: %s", self.tun_name, exc.strerror)

    def write_tun(self, packet: bytes) -> None:
        """Write one IP packet into the TUN device (behind an empty virtio header if needed)."""
        self._write_tun(EMPTY_VNET_HDR + packet if self.offload else packet)

    @property
    def coalesced_segments(self) -> int:
        """Segments received from the tunnel that were written inside a super-packet."""
        return self._coalescer.merged if self._coalescer is not None else 0

    def path_mtu(self, dst: IPAddress, now: float) -> int:
        """The outer MTU toward ``dst``: configured, or the route's (cached for a while)."""
        if self.outer_mtu:
            return self.outer_mtu
        last, mtu, until = self._last_mtu
        if last is dst and now < until:
            return mtu
        cached = self._mtus.get(dst)
        if cached is None or now >= cached[1]:
            try:
                mtu = path_mtu(dst, self.mark)
            except OSError:
                mtu = 65535  # no route: sending fails anyway, with its own error
            if len(self._mtus) >= 4096:
                self._mtus.clear()
            cached = self._mtus[dst] = (mtu, now + MTU_REFRESH)
        self._last_mtu = (dst, cached[0], cached[1])
        return cached[0]

    def send_outbound(self, packet: bytes, now: float) -> None:
        result = self.processor.outbound(packet, now)
        try:
            if result.verdict is Verdict.PROTECTED:
                dst = result.dst
                assert dst is not None
                mtu = self.path_mtu(dst, now)
                size = len(result.packet)
                if result.udp_ports is not None and not result.payload_offset:
                    size += 28 if dst.version == 4 else 48  # the headers the kernel adds
                if size > mtu:
                    self._too_big(packet, result, size, mtu, now)
                elif result.udp_ports is not None:
                    host = self._addr_str.get(dst)
                    if host is None:
                        host = self._addr_str[dst] = str(dst)
                    family = socket.AF_INET if dst.version == 4 else socket.AF_INET6
                    addr = (host, result.udp_ports[1])
                    queue = self._udp_queue
                    if queue is not None:
                        queue.setdefault(family, []).append((addr, result.payload))
                    else:
                        self.udp[family].sendto(result.payload, addr)
                else:
                    assert self.sender is not None
                    self.sender.send(result.packet)
            elif result.verdict is Verdict.CLEAR:
                assert self.sender is not None
                self.sender.send(result.packet)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ENOBUFS):
                log.warning("sending to %s failed: %s", result.dst, exc.strerror)

    def _flush_udp(self, queue: dict[int, list[tuple[tuple[str, int], bytes]]]) -> None:
        """Send queued ESP-in-UDP datagrams, equal-sized runs with one ``sendmsg`` each."""
        for family, items in queue.items():
            sock = self.udp[family]
            for addr, group in batches(items):
                try:
                    if len(group) == 1 or not self._udp_gso:
                        for payload in group:
                            sock.sendto(payload, addr)
                        continue
                    try:
                        cmsg = [(SOL_UDP, UDP_SEGMENT, GSO_SIZE.pack(len(group[0])))]
                        sock.sendmsg([b"".join(group)], cmsg, 0, addr)
                    except OSError as exc:
                        if exc.errno not in (errno.EINVAL, errno.EIO, errno.ENOPROTOOPT):
                            raise
                        log.info("UDP GSO unavailable (%s): sending one by one", exc.strerror)
                        self._udp_gso = False
                        for payload in group:
                            sock.sendto(payload, addr)
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.ENOBUFS):
                        log.warning("sending to %s failed: %s", addr[0], exc.strerror)

    def _too_big(
        self, inner: bytes, result: OutboundResult, size: int, mtu: int, now: float
    ) -> None:
        """A protected packet (``size`` bytes on the wire) exceeds the path MTU: ICMP back
        to the sender, or fragments."""
        version = inner[0] >> 4
        limit = self.processor.inner_mtu(inner, mtu)
        if limit is None:  # the SA went away in between: estimate from this packet
            limit = mtu - (size - len(inner))
        if version == 4 and inner[6] & 0x40:
            self._icmp(frag_needed(inner, max(limit, 68)), now)
            return
        if version == 6 and limit >= IPV6_MIN_MTU:
            self._icmp(packet_too_big(inner, limit), now)
            return
        self.fragmented += 1
        dst = result.dst
        assert dst is not None
        if result.udp_ports is not None:
            # the kernel fragments ESP-in-UDP (IP_PMTUDISC_DONT on our UDP sockets)
            sock = self.udp[socket.AF_INET if dst.version == 4 else socket.AF_INET6]
            sock.sendto(result.payload, (str(dst), result.udp_ports[1]))
            return
        outer = result.packet
        try:
            if outer[0] >> 4 == 4:
                fragments = fragment_ipv4(outer, mtu)
            else:
                self._frag_id = (self._frag_id + 1) & 0xFFFFFFFF
                fragments = fragment_ipv6(outer, mtu, self._frag_id)
        except CannotFragment as exc:
            log.debug("cannot fragment a protected packet: %s", exc)
            return
        assert self.sender is not None
        for fragment in fragments:
            self.sender.send(fragment)

    def _icmp(self, error: bytes, now: float) -> None:
        second, sent = self._icmp_budget
        if int(now) != second:
            second, sent = int(now), 0
        if sent >= ICMP_PER_SECOND:
            return
        self._icmp_budget = (second, sent + 1)
        self.too_big += 1
        self.write_tun(error)

    def _deliver(self, result: InboundResult) -> None:
        """Hand what the engine delivers to the TUN device (through the coalescer)."""
        if result.verdict is Verdict.DELIVER:
            if self._coalescer is not None:
                self._coalescer.add(result.packet)
            else:
                self._write_tun(result.packet)

    def _on_raw(self, recv: Callable[[], bytes]) -> None:
        now = self.clock()
        for _ in range(BATCH):
            try:
                packet = recv()
            except BlockingIOError:
                break
            except OSError as exc:
                log.warning("raw socket receive failed: %s", exc.strerror)
                break
            self._deliver(self.processor.inbound(packet, now))
        if self._coalescer is not None:
            self._coalescer.flush()

    def _ip(self, text: str) -> IPAddress:
        """``ip_address(text)`` (scope id dropped), remembered: peers are few."""
        found = self._ip_cache.get(text)
        if found is None:
            if len(self._ip_cache) >= 4096:
                self._ip_cache.clear()
            found = self._ip_cache[text] = ipaddress.ip_address(text.split("%")[0])
        return found

    def _udp_header(self, remote: str, local: str) -> bytes:
        """The outer IP header (length unset) of ESP-in-UDP from ``remote`` to ``local``."""
        if len(self._udp_headers) >= 4096:
            self._udp_headers.clear()
        src, dst = self._ip(remote), self._ip(local)
        header = build_ip(src, dst, IPPROTO_ESP, b"")
        self._udp_headers[(remote, local)] = header
        return header

    def _on_datagram(self, data: bytes, addr: tuple[str, int], local: str, now: float) -> None:
        kind = classify(data)
        if kind is UdpPayloadKind.ESP:
            header = self._udp_headers.get((addr[0], local))
            if header is None:
                header = self._udp_header(addr[0], local)
            self._deliver(self.processor.inbound_udp(header, data, now, (addr[1], self.nat_t_port)))
        elif kind is not UdpPayloadKind.KEEPALIVE and self.on_ike is not None:
            # IKE, or too short to be either (as Linux hands those to the IKE daemon's
            # socket): the IKE engine counts what it cannot use
            self.on_ike(data, (addr[0], addr[1]), (local, self.nat_t_port))

    def _on_udp(self, sock: socket.socket, family: int) -> None:
        now = self.clock()
        for _ in range(BATCH):
            try:
                data, anc, _flags, addr = sock.recvmsg(65535, 256)
            except BlockingIOError:
                break
            except OSError as exc:
                log.warning("UDP %d receive failed: %s", self.nat_t_port, exc.strerror)
                break
            local = pktinfo_dst(anc, family)
            size = gro_size(anc) if self.offload else 0
            for datagram in split(data, size) if size else (data,):
                self._on_datagram(datagram, addr, local, now)
        if self._coalescer is not None:
            self._coalescer.flush()
