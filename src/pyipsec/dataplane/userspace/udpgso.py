"""UDP segmentation (GSO) and receive coalescing (GRO) for ESP-in-UDP (RFC 3948) sockets.

Linux can send many equally sized UDP datagrams with one ``sendmsg`` (``UDP_SEGMENT``, kernel
4.18) and hand many received ones over in one ``recvmsg`` (``UDP_GRO``, kernel 5.0); on the
wire they stay ordinary, separate datagrams. Through a veth pair the batch even crosses as one
buffer. WireGuard-go and quic-go use the same pair of options.

``batches(items)`` groups queued (destination, payload) pairs into such sends: consecutive
datagrams to one destination where every payload has the size of the first (the last may be
shorter), at most ``MAX_SEGMENTS`` and 64 KiB together. ``split(data, size)`` undoes a
coalesced receive.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

SOL_UDP = 17
UDP_SEGMENT = 103  # linux/udp.h
UDP_GRO = 104
MAX_SEGMENTS = 64  # UDP_MAX_SEGMENTS in linux/udp.h
MAX_BYTES = 65000  # an IPv4 datagram's payload, with room for headers
GSO_SIZE = struct.Struct("=H")
GRO_SIZE = struct.Struct("=i")

Address = tuple[str, int]


def batches(items: list[tuple[Address, bytes]]) -> Iterator[tuple[Address, list[bytes]]]:
    """(destination, payloads) groups that one ``sendmsg`` with ``UDP_SEGMENT`` can carry."""
    i, n = 0, len(items)
    while i < n:
        addr, first = items[i]
        size = len(first)
        group = [first]
        total = size
        i += 1
        while i < n and len(group) < MAX_SEGMENTS:
            a, p = items[i]
            if a != addr or len(p) > size or total + len(p) > MAX_BYTES:
                break
            group.append(p)
            total += len(p)
            i += 1
            if len(p) < size:  # a shorter one can only be the last of a batch
                break
        yield addr, group


def gro_size(ancdata: list[tuple[int, int, bytes]]) -> int:
    """The segment size from a ``UDP_GRO`` control message, 0 if the receive was not merged."""
    for level, kind, value in ancdata:
        if level == SOL_UDP and kind == UDP_GRO and len(value) >= GRO_SIZE.size:
            return int(GRO_SIZE.unpack_from(value)[0])
    return 0


def split(data: bytes, size: int) -> list[bytes]:
    """The datagrams of a coalesced receive (all ``size`` bytes but maybe the last)."""
    if size <= 0 or len(data) <= size:
        return [data]
    return [data[i : i + size] for i in range(0, len(data), size)]
