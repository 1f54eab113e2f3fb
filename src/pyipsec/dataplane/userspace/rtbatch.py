"""Route changes in batches on one rtnetlink socket: many requests per ``send``, one ack each.

The routes that steer encrypt policies into the TUN device are one per policy destination, so
a hub with thousands of policies installs thousands at start-up. The kernel takes a route add
in a few microseconds; encoding a request through pyroute2's generic message classes costs
150-600 µs here (measured on the 2-core development machine), which made 10,000 routes take
seconds. The two messages needed are fixed by the rtnetlink ABI and tiny, so they are packed
here (``tests/dataplane/test_rtbatch.py`` checks the bytes against pyroute2's encoder) and sent
up to ``CHUNK`` per ``send``; each carries ``NLM_F_ACK``, and the acks (``NLMSG_ERROR`` with 0
or ``-errno``) are read back before the next chunk, so the receive buffer never overflows and
every request's outcome is known. The address dump the preferred sources come from is read
here too (``dump_local_addresses``): pyroute2 spent 20-40 ms of CPU parsing one with ~450
addresses, in the netlink thread, holding the GIL the event loop needs. Rules, links and the
other dumps stay with pyroute2 (routing.py).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from pyipsec.dataplane.policy import IPAddress, IPNetwork

# linux/netlink.h, linux/rtnetlink.h
NETLINK_ROUTE = 0
NLMSG_ERROR = 2
NLM_F_REQUEST, NLM_F_ACK = 0x1, 0x4
NLM_F_REPLACE, NLM_F_CREATE = 0x100, 0x400
RTM_NEWROUTE, RTM_DELROUTE = 24, 25
RTM_NEWADDR, RTM_GETADDR = 20, 22
NLMSG_DONE = 3
NLM_F_DUMP = 0x300  # NLM_F_ROOT | NLM_F_MATCH
IFA_ADDRESS, IFA_LOCAL = 1, 2  # linux/if_addr.h
RTA_DST, RTA_OIF, RTA_PREFSRC, RTA_TABLE = 1, 4, 7, 15
RTPROT_BOOT = 3  # what `ip route` writes
RT_SCOPE_LINK, RT_SCOPE_NOWHERE = 253, 255
RTN_UNICAST = 1
RT_TABLE_UNSPEC = 0  # tables above 255 are named by RTA_TABLE only
CHUNK = 256  # requests per send: their acks (36 bytes each) fit any receive buffer
ETIMEDOUT = 110

_NLMSGHDR = struct.Struct("=IHHII")  # len, type, flags, seq, pid
_RTMSG = struct.Struct("=BBBBBBBBI")  # family, dst_len, src_len, tos, table, proto, scope,
#                                       type, flags
_RTATTR = struct.Struct("=HH")
_ERR = struct.Struct("=i")
_IFADDRMSG = struct.Struct("=BBBBI")  # family, prefixlen, flags, scope, index


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteOp:
    """One route change: ``replace`` (create or replace) or delete ``dst`` in ``table``."""

    replace: bool
    dst: IPNetwork
    oif: int
    table: int
    prefsrc: IPAddress | None = None


def _attr(kind: int, payload: bytes) -> bytes:
    data = _RTATTR.pack(4 + len(payload), kind) + payload
    return data + b"\0" * (-len(data) % 4)


def route_message(op: RouteOp, seq: int) -> bytes:
    """The RTM_NEWROUTE (replace) or RTM_DELROUTE request for ``op``, as `ip route` sends it:
    a device route of scope link, protocol boot; a delete matches any scope and protocol."""
    family = socket.AF_INET6 if op.dst.version == 6 else socket.AF_INET
    if op.replace:
        kind = RTM_NEWROUTE
        flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE
        head = (RTPROT_BOOT, RT_SCOPE_LINK, RTN_UNICAST)
    else:
        kind, flags = RTM_DELROUTE, NLM_F_REQUEST | NLM_F_ACK
        head = (0, RT_SCOPE_NOWHERE, 0)
    table = op.table if op.table < 256 else RT_TABLE_UNSPEC
    body = _RTMSG.pack(family, op.dst.prefixlen, 0, 0, table, *head, 0)
    body += _attr(RTA_TABLE, struct.pack("=I", op.table))
    body += _attr(RTA_DST, op.dst.network_address.packed)
    body += _attr(RTA_OIF, struct.pack("=i", op.oif))
    if op.prefsrc is not None and op.replace:
        body += _attr(RTA_PREFSRC, op.prefsrc.packed)
    return _NLMSGHDR.pack(_NLMSGHDR.size + len(body), kind, flags, seq, 0) + body


def parse_acks(data: bytes) -> list[tuple[int, int]]:
    """``(seq, errno)`` of every NLMSG_ERROR in ``data`` (errno 0: done)."""
    out: list[tuple[int, int]] = []
    offset = 0
    while offset + _NLMSGHDR.size <= len(data):
        length, kind, _, seq, _ = _NLMSGHDR.unpack_from(data, offset)
        if length < _NLMSGHDR.size or offset + length > len(data):
            break  # a malformed or cut message ends the parse
        if kind == NLMSG_ERROR and length >= _NLMSGHDR.size + _ERR.size:
            (error,) = _ERR.unpack_from(data, offset + _NLMSGHDR.size)
            out.append((seq, -error))
        offset += (length + 3) & ~3
    return out


def parse_addresses(data: bytes, seq: int) -> tuple[list[IPAddress], bool]:
    """The addresses in the RTM_NEWADDR messages of one dump reply chunk (IFA_ADDRESS, else
    IFA_LOCAL, as pyroute2's ``address``/``local``), and whether NLMSG_DONE (or an error)
    ended the dump. Messages of other requests are skipped."""
    found: list[IPAddress] = []
    offset = 0
    while offset + _NLMSGHDR.size <= len(data):
        length, kind, _, mseq, _ = _NLMSGHDR.unpack_from(data, offset)
        if length < _NLMSGHDR.size or offset + length > len(data):
            return found, True  # malformed: stop rather than loop
        end = offset + length
        if mseq == seq:
            if kind in (NLMSG_DONE, NLMSG_ERROR):
                return found, True
            body = offset + _NLMSGHDR.size
            if kind == RTM_NEWADDR and body + _IFADDRMSG.size <= end:
                family = data[body]
                size = 4 if family == socket.AF_INET else 16 if family == socket.AF_INET6 else 0
                attrs: dict[int, bytes] = {}
                pos = body + _IFADDRMSG.size
                while pos + _RTATTR.size <= end:
                    alen, atype = _RTATTR.unpack_from(data, pos)
                    if alen < _RTATTR.size or pos + alen > end:
                        break
                    attrs.setdefault(atype, data[pos + _RTATTR.size : pos + alen])
                    pos += (alen + 3) & ~3
                raw = attrs.get(IFA_ADDRESS) or attrs.get(IFA_LOCAL)
                if size and raw is not None and len(raw) == size:
                    found.append(ipaddress.ip_address(raw))
        offset += (length + 3) & ~3
    return found, False


def dump_local_addresses(timeout: float = 10.0) -> list[IPAddress]:
    """Every address configured on an interface of this namespace, in the kernel's dump order
    (one RTM_GETADDR dump on a fresh rtnetlink socket; blocking)."""
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE) as sock:
        sock.bind((0, 0))
        sock.settimeout(timeout)
        seq = int.from_bytes(os.urandom(4), "big") | 1
        request = _IFADDRMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
        header = _NLMSGHDR.pack(
            _NLMSGHDR.size + len(request), RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, seq, 0
        )
        sock.send(header + request)
        found: list[IPAddress] = []
        done = False
        while not done:
            chunk, done = parse_addresses(sock.recv(1 << 16), seq)
            found += chunk
        return found


class RouteBatcher:
    """An rtnetlink socket that applies lists of :class:`RouteOp` (blocking; one thread)."""

    def __init__(self, timeout: float = 10.0) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.bind((0, 0))
        self.sock.settimeout(timeout)
        self._seq = int.from_bytes(os.urandom(2), "big") << 8

    def apply(self, ops: Sequence[RouteOp]) -> list[int]:
        """Apply ``ops`` in order; returns one errno per op (0: done; ETIMEDOUT: no ack)."""
        results: list[int] = []
        for start in range(0, len(ops), CHUNK):
            chunk = ops[start : start + CHUNK]
            first = self._seq + 1
            self._seq += len(chunk)
            self.sock.send(b"".join(route_message(op, first + i) for i, op in enumerate(chunk)))
            errors: dict[int, int] = {}
            try:
                while len(errors) < len(chunk):
                    for seq, error in parse_acks(self.sock.recv(1 << 16)):
                        if first <= seq < first + len(chunk):
                            errors[seq] = error
            except TimeoutError:
                pass
            results += [errors.get(first + i, ETIMEDOUT) for i in range(len(chunk))]
        return results

    def close(self) -> None:
        self.sock.close()
