"""TUN segmentation and coalescing offloads (``IFF_VNET_HDR``): pure helpers, no I/O.

With ``IFF_VNET_HDR`` every packet read from or written to the TUN device is preceded by a
``struct virtio_net_hdr`` (10 bytes, host byte order; include/uapi/linux/virtio_net.h). With
``TUNSETOFFLOAD`` (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) the kernel may hand over:

- TCP *super-segments* (``gso_type`` TCPV4/TCPV6): one IP/TCP header and up to 64 KiB of
  payload, to be cut into ``gso_size`` segments (``segment_tcp``, as Linux ``tcp_gso_segment``
  does: consecutive sequence numbers and IPv4 IDs, FIN/PSH on the last segment only, CWR on the
  first only, every checksum computed);
- packets whose transport checksum is left partial (``NEEDS_CSUM``): the field holds the
  pseudo-header sum and ``csum_start``/``csum_offset`` say where to finish it
  (``complete_checksum``).

In the other direction ``Coalescer`` does what GRO does in a NIC driver: consecutive in-order
TCP segments of one flow from one receive batch become one super-packet with a GSO header
(``NEEDS_CSUM``, the TCP checksum field holding the pseudo-header sum), so the local TCP stack
processes one packet instead of many and acknowledges less often. Everything else is written
as it came, behind an empty header. See docs/userspace-offload.md.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from pyipsec.wire.ip import set_ipv4_checksum

VNET_HDR = struct.Struct("<BBHHHH")  # flags, gso_type, hdr_len, gso_size, csum_start, csum_offset
VNET_HDR_LEN = VNET_HDR.size  # 10
EMPTY_VNET_HDR = bytes(VNET_HDR_LEN)

VIRTIO_NET_HDR_F_NEEDS_CSUM = 1
VIRTIO_NET_HDR_GSO_NONE = 0
VIRTIO_NET_HDR_GSO_TCPV4 = 1
VIRTIO_NET_HDR_GSO_UDP = 3
VIRTIO_NET_HDR_GSO_TCPV6 = 4
VIRTIO_NET_HDR_GSO_ECN = 0x80

TCP_FIN = 0x01
TCP_SYN = 0x02
TCP_RST = 0x04
TCP_PSH = 0x08
TCP_ACK = 0x10
TCP_URG = 0x20
TCP_CWR = 0x80

MAX_COALESCED = 65535  # IPv4 total length / IPv6 payload length limit
_PROTO_TCP = 6
_U16 = struct.Struct("!H")
_U32 = struct.Struct("!I")


class OffloadError(ValueError):
    """A packet from the TUN device cannot be segmented (malformed or unsupported)."""


def _sum16(data: bytes | bytearray | memoryview) -> int:
    """One's complement sum of ``data`` as 16-bit big-endian words (RFC 1071), folded, 0..FFFF.

    Computed on little-endian words (RFC 1071 §2(B): the sum is byte-order independent) because
    ``int.from_bytes(.., "little")`` is the cheaper conversion, then byte-swapped.
    """
    x = int.from_bytes(data, "little")
    r = x % 0xFFFF
    if r == 0 and x:
        r = 0xFFFF
    return ((r & 0xFF) << 8) | (r >> 8)


def _fold(total: int) -> int:
    r = total % 0xFFFF
    return 0xFFFF if r == 0 and total else r


def _pseudo_sum(packet: bytes | bytearray, v6: bool, length: int) -> int:
    """Sum of the TCP/UDP pseudo-header (RFC 793 §3.1, RFC 8200 §8.1) for ``length`` bytes."""
    if v6:
        return _sum16(packet[8:40]) + length + _PROTO_TCP
    return _sum16(packet[12:20]) + length + _PROTO_TCP


def complete_checksum(packet: bytearray, csum_start: int, csum_offset: int) -> None:
    """Finish a partial transport checksum in place (``VIRTIO_NET_HDR_F_NEEDS_CSUM``).

    The field holds the folded pseudo-header sum; the one's complement of the sum from
    ``csum_start`` to the end goes into it. A UDP result of zero is sent as 0xFFFF (RFC 768).
    """
    at = csum_start + csum_offset
    if at + 2 > len(packet) or csum_start >= len(packet):
        raise OffloadError("checksum offsets outside the packet")
    csum = ~_sum16(packet[csum_start:]) & 0xFFFF
    if csum == 0 and csum_offset == 6:
        csum = 0xFFFF
    packet[at : at + 2] = _U16.pack(csum)


def _headers(packet: bytes | bytearray) -> tuple[bool, int, int]:
    """(is IPv6, IP header length, TCP header length) of a plain IPv4/IPv6 TCP packet."""
    if len(packet) < 20:
        raise OffloadError("packet too short")
    version = packet[0] >> 4
    if version == 4:
        iphl = (packet[0] & 0x0F) * 4
        if iphl < 20 or packet[9] != _PROTO_TCP:
            raise OffloadError("not IPv4/TCP")
        v6 = False
    elif version == 6:
        iphl = 40
        if packet[6] != _PROTO_TCP:
            raise OffloadError("IPv6 super-segment with extension headers")
        v6 = True
    else:
        raise OffloadError("not IP")
    if len(packet) < iphl + 20:
        raise OffloadError("TCP header truncated")
    thl = (packet[iphl + 12] >> 4) * 4
    if thl < 20 or len(packet) < iphl + thl:
        raise OffloadError("TCP header truncated")
    return v6, iphl, thl


def chunk_sums(packet: bytes, start: int, end: int, size: int) -> list[int]:
    """The one's complement sum of each ``size``-byte chunk of ``packet[start:end]`` (the last
    may be shorter), congruent to ``_sum16`` of the chunk modulo 0xFFFF but not folded.

    The full chunks are summed in one vectorised step when NumPy is available and ``size`` is
    even (every chunk then starts on a 16-bit word boundary of the array); otherwise, and for
    the short last chunk, chunk by chunk.
    """
    count = (end - start) // size
    np = _numpy()
    sums: list[int]
    if np is not None and count > 1 and not size % 2:
        words = np.frombuffer(packet, dtype=">u2", count=count * size // 2, offset=start)
        # big-endian words summed as such: no byte swap; folded by the caller
        sums = words.reshape(count, size // 2).sum(axis=1, dtype=np.uint64).tolist()
    else:
        sums = [_sum16(packet[i : i + size]) for i in range(start, start + count * size, size)]
    if start + count * size < end:
        sums.append(_sum16(packet[start + count * size : end]))
    return sums


_NUMPY: object = None  # the numpy module, False if unavailable, None if not yet tried


def _numpy() -> Any:
    global _NUMPY
    if _NUMPY is None:
        try:
            import numpy

            _NUMPY = numpy
        except ImportError:
            _NUMPY = False
    return _NUMPY or None


_TCP20 = struct.Struct("!4sIIBBHHH")  # ports, seq, ack, data offset, flags, window, csum, urg
_IPV4_20 = struct.Struct("!BBHHHBBH8s")  # up to the checksum, then the addresses


def segment_tcp(packet: bytes, gso_size: int) -> list[bytes]:
    """Cut a TCP super-segment into segments of ``gso_size`` payload bytes, all checksums set.

    Like Linux ``tcp_gso_segment``/``inet_gso_segment``: sequence numbers advance by the
    payload, IPv4 IDs by one per segment, FIN and PSH stay on the last segment only, CWR on
    the first only. The incoming TCP checksum field (partial or not) is ignored.

    Checksums are sums of parts (RFC 1071 §2(A), all parts start at even offsets): the
    addresses and the constant header words are summed once, the payload chunks all at once
    (``chunk_sums``), then per segment only the changing words are added.
    """
    v6, iphl, thl = _headers(packet)
    if gso_size <= 0:
        raise OffloadError("gso_size is zero")
    hl = iphl + thl
    end = (40 + _U16.unpack_from(packet, 4)[0]) if v6 else _U16.unpack_from(packet, 2)[0]
    if end > len(packet) or end < hl:
        end = len(packet)
    packet = bytes(packet)
    ports, seq, ack, off, flags, window, _csum, urg = _TCP20.unpack_from(packet, iphl)
    opts = packet[iphl + 20 : hl]
    # the TCP header without seq, flags and checksum, and the pseudo-header's constant part
    const_sum = (
        _sum16(packet[8:40] if v6 else packet[12:20]) + _PROTO_TCP
        + _sum16(_TCP20.pack(ports, 0, ack, off, 0, window, 0, urg) + opts)
    )  # fmt: skip
    if v6:
        ip_first = packet[:4]
        ip_rest = packet[6:40]
        ident = ip_base = vihl = tos = ttl = proto = frag = 0
        addrs = ip_opts = b""
    else:
        vihl, tos, _tl, ident, frag, ttl, proto, _c, addrs = _IPV4_20.unpack_from(packet)
        ip_opts = packet[20:iphl]
        ip_base = _sum16(packet[:2] + packet[6:10] + packet[12:iphl])
        ip_rest = ip_first = b""
    sums = chunk_sums(packet, hl, end, gso_size) if end > hl else [0]
    mv = memoryview(packet)
    pack_tcp = _TCP20.pack
    pack_ip = _IPV4_20.pack
    pack16 = _U16.pack
    join = b"".join
    out: list[bytes] = []
    pos = hl
    last_index = len(sums) - 1
    for i, payload_sum in enumerate(sums):
        chunk = mv[pos : pos + gso_size] if i != last_index else mv[pos:end]
        pos += gso_size
        f = flags
        if i:
            f &= ~TCP_CWR
        if i != last_index:
            f &= ~(TCP_FIN | TCP_PSH)
        seg_len = thl + len(chunk)
        # const_sum > 0, so a multiple of 0xFFFF folds to 0xFFFF (RFC 1071 end-around carry)
        total = (const_sum + seg_len + (seq >> 16) + (seq & 0xFFFF) + f + payload_sum) % 0xFFFF
        tcp_hdr = pack_tcp(ports, seq, ack, off, f, window, ~(total or 0xFFFF) & 0xFFFF, urg)
        if v6:
            out.append(join((ip_first, pack16(seg_len), ip_rest, tcp_hdr, opts, chunk)))
        else:
            csum = ~((ip_base + iphl + seg_len + ident) % 0xFFFF or 0xFFFF) & 0xFFFF
            ip_hdr = pack_ip(vihl, tos, iphl + seg_len, ident, frag, ttl, proto, csum, addrs)
            out.append(join((ip_hdr, ip_opts, tcp_hdr, opts, chunk)))
            ident = (ident + 1) & 0xFFFF
        seq = (seq + len(chunk)) & 0xFFFFFFFF
    return out


def unpack_vnet(data: bytes) -> tuple[int, int, int, int, int, int]:
    """The six fields of a ``virtio_net_hdr`` at the start of ``data``."""
    if len(data) < VNET_HDR_LEN:
        raise OffloadError("shorter than a virtio_net_hdr")
    return VNET_HDR.unpack_from(data)


def from_tun(data: bytes) -> list[bytes]:
    """The standard IP packets in one read from a ``IFF_VNET_HDR`` TUN device.

    A GSO super-segment becomes its segments; a packet with a partial checksum gets it
    completed; anything else is returned as it is (without the virtio header).
    """
    flags, gso_type, _hdr_len, gso_size, csum_start, csum_offset = unpack_vnet(data)
    gso = gso_type & ~VIRTIO_NET_HDR_GSO_ECN
    if gso == VIRTIO_NET_HDR_GSO_NONE:
        if flags & VIRTIO_NET_HDR_F_NEEDS_CSUM:
            packet = bytearray(data[VNET_HDR_LEN:])
            complete_checksum(packet, csum_start, csum_offset)
            return [bytes(packet)]
        return [data[VNET_HDR_LEN:]]
    if gso in (VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV6):
        return segment_tcp(data[VNET_HDR_LEN:], gso_size)
    raise OffloadError(f"unsupported GSO type {gso_type}")


# -- coalescing (GRO) -------------------------------------------------------------------------


class _Run:
    """Consecutive segments of one flow being merged."""

    __slots__ = ("count", "first", "hl", "ident", "mss", "next_seq", "parts", "psh", "size", "v6")

    def __init__(self, first: bytes, v6: bool, hl: int, seq: int, plen: int) -> None:
        self.first = first
        self.v6 = v6
        self.hl = hl
        self.parts = [first]
        self.mss = plen
        self.size = len(first)
        self.next_seq = (seq + plen) & 0xFFFFFFFF
        self.count = 1
        self.psh = False
        self.ident = 0 if v6 else _U16.unpack_from(first, 4)[0]


def _coalescable(packet: bytes) -> tuple[bool, int, int, int, bytes] | None:
    """(v6, header length, payload length, seq, match key) of a plain data segment, else None.

    Only segments with ACK (and maybe PSH) set, payload, no IPv4 options/fragmentation and no
    IPv6 extension headers qualify. The key holds every header byte that must be equal between
    merged segments: addresses, ports, TOS/traffic class, TTL, DF, ack, window, TCP options.
    """
    n = len(packet)
    if n < 40:
        return None
    b0 = packet[0]
    if b0 == 0x45:
        if packet[9] != _PROTO_TCP or (packet[6] & 0x3F) or packet[7]:
            return None  # MF or a fragment offset: not a whole segment
        total = (packet[2] << 8) | packet[3]
        if total != n:
            return None
        thl = (packet[32] >> 4) * 4
        hl = 20 + thl
        f = packet[33]
        if thl < 20 or hl >= n or (f & ~TCP_PSH) != TCP_ACK:
            return None
        seq = _U32.unpack_from(packet, 24)[0]
        # tos, df-flag, ttl, proto, addresses, ports, ack, data offset, window, options
        key = (
            packet[1:2]
            + packet[6:7]
            + packet[8:10]
            + packet[12:24]
            + packet[28:33]
            + (packet[34:36] + packet[40:hl])
        )
        return False, hl, n - hl, seq, key
    if b0 >> 4 == 6:
        if n < 60 or packet[6] != _PROTO_TCP or 40 + ((packet[4] << 8) | packet[5]) != n:
            return None
        thl = (packet[52] >> 4) * 4
        hl = 40 + thl
        f = packet[53]
        if thl < 20 or hl >= n or (f & ~TCP_PSH) != TCP_ACK:
            return None
        seq = _U32.unpack_from(packet, 44)[0]
        key = packet[0:4] + packet[7:44] + packet[48:53] + packet[54:56] + packet[60:hl]
        return True, hl, n - hl, seq, key
    return None


class Coalescer:
    """Collects the packets of one receive batch and writes them merged where possible.

    ``add(packet)`` buffers a packet; ``flush()`` hands every buffered packet or super-packet
    (with its virtio header in front) to ``write``, in order within each flow.
    """

    def __init__(self, write: Callable[[bytes], None]) -> None:
        self.write = write
        self._runs: dict[bytes, _Run] = {}
        self.merged = 0  # segments that went out inside a super-packet (for tests, statistics)
        self.writes = 0

    def add(self, packet: bytes) -> None:
        info = _coalescable(packet)
        if info is None:
            if self._runs:
                self._flush_flow_of(packet)
            self.writes += 1
            self.write(EMPTY_VNET_HDR + packet)
            return
        v6, hl, plen, seq, key = info
        psh = packet[53 if v6 else 33] & TCP_PSH
        run = self._runs.get(key)
        if run is not None:
            if (
                seq == run.next_seq
                and plen <= run.mss
                and run.size + plen <= MAX_COALESCED
                and (v6 or packet[6] & 0x40 or _U16.unpack_from(packet, 4)[0] == (
                    (run.ident + run.count) & 0xFFFF))
            ):  # fmt: skip
                run.parts.append(packet[hl:])
                run.size += plen
                run.count += 1
                run.next_seq = (seq + plen) & 0xFFFFFFFF
                if psh or plen < run.mss:
                    run.psh = bool(psh)
                    self._emit(key)
                return
            self._emit(key)
        run = self._runs[key] = _Run(packet, v6, hl, seq, plen)
        if psh:
            self._emit(key)

    def _flush_flow_of(self, packet: bytes) -> None:
        """Keep per-flow order: a packet that cannot merge goes after its flow's open run."""
        for key, run in list(self._runs.items()):
            if _same_flow(run.first, packet):
                self._emit(key)

    def flush(self) -> None:
        """Write everything still buffered."""
        for key in list(self._runs):
            self._emit(key)

    def _emit(self, key: bytes) -> None:
        run = self._runs.pop(key)
        first = run.first
        self.writes += 1
        if run.count == 1:
            self.write(EMPTY_VNET_HDR + first)
            return
        self.merged += run.count
        v6 = run.v6
        iphl = 40 if v6 else 20
        hl = run.hl
        hdr = bytearray(first[:hl])
        total = run.size
        tcp_len = total - iphl
        if v6:
            hdr[4:6] = _U16.pack(tcp_len)
            gso_type = VIRTIO_NET_HDR_GSO_TCPV6
        else:
            hdr[2:4] = _U16.pack(total)
            set_ipv4_checksum(hdr)  # 20 bytes: only packets without options are merged
            gso_type = VIRTIO_NET_HDR_GSO_TCPV4
        if run.psh:  # the last segment's PSH travels on the super-packet, as with Linux GRO
            hdr[iphl + 13] |= TCP_PSH
        # CHECKSUM_PARTIAL: the field holds the pseudo-header sum; the kernel finishes it if it
        # ever puts the packet on a wire again (forwarding re-segments it).
        hdr[iphl + 16 : iphl + 18] = _U16.pack(_fold(_pseudo_sum(first, v6, tcp_len)))
        vnet = VNET_HDR.pack(VIRTIO_NET_HDR_F_NEEDS_CSUM, gso_type, hl, run.mss, iphl, 16)
        self.write(b"".join((vnet, hdr, first[hl:], *run.parts[1:])))


def _same_flow(a: bytes, b: bytes) -> bool:
    """Same addresses and ports (the packet ``b`` may be anything)."""
    if a[0] >> 4 != b[0] >> 4:
        return False
    if a[0] >> 4 == 4:
        ihl = (b[0] & 0x0F) * 4
        return (
            len(b) >= ihl + 4
            and a[12:20] == b[12:20]
            and b[9] == _PROTO_TCP
            and a[20:24] == b[ihl : ihl + 4]
        )
    return len(b) >= 44 and a[8:40] == b[8:40] and b[6] == _PROTO_TCP and a[40:44] == b[40:44]
