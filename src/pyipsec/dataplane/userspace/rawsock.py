"""Raw IP sockets for the userspace data plane: sending whole packets, receiving ESP/AH.

Outbound, the packet engine builds the complete outer IP header, so the packets go out on an
``IPPROTO_RAW`` socket (header included). Every socket of ours carries ``SO_MARK`` so the
policy-routing rules that steer protected traffic into the TUN device skip our own output.

Inbound, an IPv4 raw socket for protocol 50/51 hands over the whole packet with its header.
An IPv6 raw socket hands over only the payload, so the receiver rebuilds a minimal IPv6 header
from the addresses in the ancillary data: the engine always sees a complete IP packet.
"""

from __future__ import annotations

import errno
import logging
import socket

from pyipsec.dataplane.userspace import mmsg
from pyipsec.wire.ip import ipv6_header

log = logging.getLogger("pyipsec.dataplane")

IPPROTO_ESP = 50
IPPROTO_AH = 51
IPV6_HDRINCL = 36  # linux/in6.h
SO_MARK = 36  # asm-generic/socket.h
IP_PKTINFO = 8  # linux/in.h (not exported by Python on every build)

# The fwmark that tells policy routing "this packet was made by pyipsec".
PYIPSEC_FWMARK = 0x5049


def _marked(sock: socket.socket, mark: int) -> socket.socket:
    sock.setsockopt(socket.SOL_SOCKET, SO_MARK, mark)
    sock.setblocking(False)
    return sock


class RawSender:
    """Sends complete IPv4/IPv6 packets, their headers built by the caller.

    Between ``begin()`` and ``flush()`` IPv4 packets are collected and sent with one
    ``sendmmsg`` per up to 64 (see ``mmsg.py``), in order; send errors then show in the log
    at ``flush()`` instead of raising from ``send()``.
    """

    def __init__(self, mark: int = PYIPSEC_FWMARK) -> None:
        self.v4 = _marked(socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW), mark)
        self.v6 = _marked(socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW), mark)
        self.v6.setsockopt(socket.IPPROTO_IPV6, IPV6_HDRINCL, 1)
        self._addr: dict[bytes, tuple[str, int]] = {}  # packed destination -> sockaddr
        self._mmsg = mmsg.MmsgSender(self.v4.fileno()) if mmsg.available() else None
        self._batch: list[bytes] | None = None
        self._dsts: list[bytes] = []
        self.batched = 0  # packets that left in a sendmmsg batch (for tests and tuning)

    def begin(self) -> None:
        """Collect IPv4 packets from now on (if the system can batch them)."""
        if self._mmsg is not None and self._batch is None:
            self._batch, self._dsts = [], []

    def flush(self) -> None:
        """Send what was collected since ``begin()``, and stop collecting."""
        batch, dsts = self._batch, self._dsts
        self._batch, self._dsts = None, []
        if batch:
            self._send_batch(batch, dsts)

    def _send_batch(self, batch: list[bytes], dsts: list[bytes]) -> None:
        assert self._mmsg is not None
        i, n = 0, len(batch)
        while i < n:
            try:
                sent = self._mmsg.send(batch, dsts, i)
            except OSError as exc:  # the first of the rest failed: drop it, as sendto would
                if exc.errno not in (errno.EAGAIN, errno.ENOBUFS):
                    dst = socket.inet_ntop(socket.AF_INET, dsts[i])
                    log.warning("sending to %s failed: %s", dst, exc.strerror)
                sent = 1
            else:
                self.batched += sent
            i += sent

    def send(self, packet: bytes) -> None:
        version = packet[0] >> 4
        if version == 4:
            raw = packet[16:20]
            batch = self._batch
            if batch is not None:
                batch.append(packet)
                self._dsts.append(raw)
                if len(batch) >= mmsg.MAX_BATCH:
                    dsts = self._dsts
                    self._batch, self._dsts = [], []
                    self._send_batch(batch, dsts)
                return
            addr = self._addr.get(raw)
            if addr is None:
                addr = self._remember(raw, socket.AF_INET)
            self.v4.sendto(packet, addr)
        elif version == 6:
            raw = packet[24:40]
            addr = self._addr.get(raw)
            if addr is None:
                addr = self._remember(raw, socket.AF_INET6)
            self.v6.sendto(packet, addr)
        else:
            raise ValueError("not an IP packet")

    def _remember(self, raw: bytes, family: int) -> tuple[str, int]:
        if len(self._addr) >= 4096:
            self._addr.clear()
        addr = self._addr[raw] = (socket.inet_ntop(family, raw), 0)
        return addr

    def close(self) -> None:
        self.v4.close()
        self.v6.close()


class RawReceiver:
    """Receives ESP or AH packets of one protocol for both address families."""

    def __init__(self, protocol: int, mark: int = PYIPSEC_FWMARK) -> None:
        self.protocol = protocol
        self.v4 = _marked(socket.socket(socket.AF_INET, socket.SOCK_RAW, protocol), mark)
        self.v6 = _marked(socket.socket(socket.AF_INET6, socket.SOCK_RAW, protocol), mark)
        self.v6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
        self.v6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
        # A burst from a peer's batch must not overflow the default ~200 KiB: a full raw
        # socket does not just drop, the kernel answers "protocol unreachable" as if no one
        # listened (and the sender's TCP sees loss and halves its rate).
        big_receive_buffer(self.v4)
        big_receive_buffer(self.v6)

    def recv_v4(self) -> bytes:
        return self.v4.recv(65535)

    def recv_v6(self) -> bytes:
        data, ancdata, _flags, addr = self.v6.recvmsg(65535, 256)
        dst = b"\0" * 16
        hop = 64
        for level, kind, value in ancdata:
            if level == socket.IPPROTO_IPV6 and kind == socket.IPV6_PKTINFO:
                dst = value[:16]
            elif level == socket.IPPROTO_IPV6 and kind == socket.IPV6_HOPLIMIT:
                hop = int.from_bytes(value[:4], "little")
        src = socket.inet_pton(socket.AF_INET6, addr[0].partition("%")[0])
        return ipv6_header(src, dst, self.protocol, len(data), hop_limit=hop) + data

    def close(self) -> None:
        self.v4.close()
        self.v6.close()


SO_RCVBUFFORCE = 33  # asm-generic/socket.h (root may exceed net.core.rmem_max)
RECEIVE_BUFFER = 4 << 20


def big_receive_buffer(sock: socket.socket, size: int = RECEIVE_BUFFER) -> None:
    """Room for bursts (hundreds of IKE exchanges at once, or line-rate ESP): as root the
    limit net.core.rmem_max does not apply; otherwise take what the kernel allows."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, size)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
