"""IPv4 and IPv6 headers: parsing, building, checksums, extension-header walking, selectors.

The packet engine needs four things from an IP packet: where the header chain ends (to insert or
find ESP/AH, RFC 4303 §3.1.1 / RFC 4302 §3.1.1), the upper-layer protocol and ports (the SPD
selectors, RFC 4301 §4.4.1.1), the addresses, and a way to rebuild the header with a new
protocol and length. ``parse_ip`` does all of it in one pass and raises ``MalformedPacket`` on
anything truncated or inconsistent; callers turn that into a counted drop.

Ports are reported for TCP, UDP, UDP-Lite, SCTP and DCCP, and only in the first fragment:
non-initial fragments carry no ports (RFC 4301 §7, OPAQUE), so their ports are ``None``.
"""

from __future__ import annotations

import enum
import ipaddress
import struct
from typing import NamedTuple

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class MalformedPacket(ValueError):
    """The bytes are not a well-formed IP packet (the message never contains packet data)."""


class IpProtocol(enum.IntEnum):
    """IANA "Assigned Internet Protocol Numbers" (the ones the engine handles by name)."""

    HOPOPT = 0
    ICMP = 1
    IPV4 = 4
    TCP = 6
    UDP = 17
    DCCP = 33
    IPV6 = 41
    IPV6_ROUTE = 43
    IPV6_FRAG = 44
    ESP = 50
    AH = 51
    IPV6_ICMP = 58
    IPV6_NONXT = 59
    IPV6_OPTS = 60
    SCTP = 132
    UDPLITE = 136


# Protocols whose first 4 bytes are source and destination port.
PORT_PROTOCOLS = frozenset({6, 17, 33, 132, 136})

# IPv6 extension headers that are walked with the generic (next header, length in 8-octet units
# not counting the first 8) layout (RFC 8200 §4). The fragment header is fixed at 8 bytes.
_IPV6_GENERIC_EXT = frozenset({IpProtocol.HOPOPT, IpProtocol.IPV6_ROUTE, IpProtocol.IPV6_OPTS})

IPV4_HEADER = struct.Struct("!BBHHHBBH4s4s")
IPV6_HEADER = struct.Struct("!IHBB16s16s")


class IpPacket(NamedTuple):
    """What the engine needs to know about one IP packet (offsets into the original bytes).

    A NamedTuple rather than a frozen dataclass: one is built per packet, and constructing a
    frozen dataclass of this size costs about 10x more on CPython 3.11 (measured, see
    bench/bench_esp.py). It is immutable all the same.
    """

    version: int  # 4 or 6
    src: IPAddress
    dst: IPAddress
    protocol: int  # upper-layer protocol after all IPv6 extension headers
    header_len: int  # IPv4: IHL*4; IPv6: 40 + all extension headers = offset of the upper layer
    insert_at: int  # where ESP/AH goes in transport mode (RFC 4303 §3.1.1, RFC 4302 §3.1.1)
    nh_offset: int  # offset of the next-header/protocol byte that names what is at insert_at
    proto_offset: int  # offset of the next-header/protocol byte that names ``protocol``
    total_len: int  # length according to the header (trailing bytes beyond it are ignored)
    src_port: int | None
    dst_port: int | None
    fragment: bool  # a non-initial fragment or one with more fragments to come


def internet_checksum(data: bytes | bytearray | memoryview) -> int:
    """The 16-bit one's complement of the one's complement sum (RFC 1071).

    Computed on the whole buffer as one big integer: since 2^16 = 1 (mod 2^16 - 1), the one's
    complement sum of the 16-bit words equals the number modulo 0xFFFF, with a non-zero multiple
    of 0xFFFF summing to 0xFFFF (RFC 1071 §2 "end-around carry").
    """
    if len(data) % 2:
        data = bytes(data) + b"\x00"
    x = int.from_bytes(data, "big")
    total = x % 0xFFFF
    if total == 0 and x:
        total = 0xFFFF
    return ~total & 0xFFFF


# Address objects are interned: the same few addresses appear in every packet, and building an
# ipaddress object costs more than the rest of the header parsing.
_ADDR_CACHE: dict[bytes, IPAddress] = {}
_ADDR_CACHE_MAX = 4096


def _address(raw: bytes) -> IPAddress:
    addr = _ADDR_CACHE.get(raw)
    if addr is None:
        if len(_ADDR_CACHE) >= _ADDR_CACHE_MAX:
            _ADDR_CACHE.clear()
        addr = ipaddress.IPv4Address(raw) if len(raw) == 4 else ipaddress.IPv6Address(raw)
        _ADDR_CACHE[raw] = addr
    return addr


def parse_ip(packet: bytes | bytearray | memoryview) -> IpPacket:
    """Parse the IP header chain of ``packet``; raise ``MalformedPacket`` if it is not sound."""
    if not packet:
        raise MalformedPacket("empty packet")
    version = packet[0] >> 4
    if version == 4:
        return _parse_ipv4(packet)
    if version == 6:
        return _parse_ipv6(packet)
    raise MalformedPacket("IP version is neither 4 nor 6")


def _ports(
    packet: bytes | bytearray | memoryview, proto: int, off: int, end: int, fragment: bool
) -> tuple[int | None, int | None]:
    if proto in PORT_PROTOCOLS and not fragment:
        if off + 4 > end:
            raise MalformedPacket("upper-layer header too short for ports")
        return (packet[off] << 8) | packet[off + 1], (packet[off + 2] << 8) | packet[off + 3]
    return None, None


_V4_FIELDS = struct.Struct("!BxHxxHxB2x4s4s")  # ver/IHL, total length, flags/frag, proto, src, dst
_PORTS = struct.Struct("!HH")
_ADDR_GET = _ADDR_CACHE.get


def _parse_ipv4(packet: bytes | bytearray | memoryview) -> IpPacket:
    # RFC 791 §3.1
    if len(packet) < 20:
        raise MalformedPacket("IPv4 header truncated")
    vihl, total, frag, proto, rsrc, rdst = _V4_FIELDS.unpack_from(packet)
    ihl = (vihl & 0x0F) * 4
    if ihl < 20 or total < ihl or len(packet) < total:
        raise MalformedPacket("IPv4 header or total length inconsistent")
    offset = frag & 0x1FFF
    if proto in PORT_PROTOCOLS and not offset:
        if ihl + 4 > total:
            raise MalformedPacket("upper-layer header too short for ports")
        sp, dp = _PORTS.unpack_from(packet, ihl)
    else:
        sp = dp = None
    return IpPacket(
        4,
        _ADDR_GET(rsrc) or _address(rsrc),
        _ADDR_GET(rdst) or _address(rdst),
        proto,
        ihl,
        ihl,
        9,
        9,
        total,
        sp,
        dp,
        bool(frag & 0x3FFF),  # a non-initial fragment or more fragments to come
    )


def _parse_ipv6(packet: bytes | bytearray | memoryview) -> IpPacket:
    # RFC 8200 §3, §4
    if len(packet) < 40:
        raise MalformedPacket("IPv6 header truncated")
    total = 40 + ((packet[4] << 8) | packet[5])
    if len(packet) < total:
        raise MalformedPacket("IPv6 payload length exceeds the packet")
    nh = packet[6]
    proto_off = 6
    off = 40
    insert_at = 40
    insert_nh = 6
    fragment = False
    nonfirst = False
    while True:
        if nh in _IPV6_GENERIC_EXT:
            if off + 8 > total:
                raise MalformedPacket("IPv6 extension header truncated")
            length = (packet[off + 1] + 1) * 8
            if off + length > total:
                raise MalformedPacket("IPv6 extension header truncated")
        elif nh == IpProtocol.IPV6_FRAG:
            if off + 8 > total:
                raise MalformedPacket("IPv6 fragment header truncated")
            length = 8
            fo = (packet[off + 2] << 8) | packet[off + 3]
            fragment = True
            nonfirst = (fo >> 3) != 0
        else:
            break
        # RFC 4303 §3.1.1: ESP goes after hop-by-hop, routing and fragment headers; destination
        # options may go either side, and we keep them after ESP unless a routing header follows.
        if nh != IpProtocol.IPV6_OPTS or packet[off] == IpProtocol.IPV6_ROUTE:
            insert_at = off + length
            insert_nh = off
        nh = packet[off]
        proto_off = off
        off += length
        if nonfirst:
            break
    sp, dp = _ports(packet, nh, off, total, nonfirst)
    return IpPacket(
        version=6,
        src=_address(bytes(packet[8:24])),
        dst=_address(bytes(packet[24:40])),
        protocol=nh,
        header_len=off,
        insert_at=insert_at,
        nh_offset=insert_nh,
        proto_offset=proto_off,
        total_len=total,
        src_port=sp,
        dst_port=dp,
        fragment=fragment,
    )


def ipv4_header(
    src: bytes,
    dst: bytes,
    protocol: int,
    payload_len: int,
    *,
    ttl: int = 64,
    tos: int = 0,
    ident: int = 0,
    flags_frag: int = 0,
) -> bytes:
    """A 20-byte IPv4 header with a correct checksum (RFC 791 §3.1)."""
    hdr = IPV4_HEADER.pack(
        0x45, tos, 20 + payload_len, ident, flags_frag, ttl, protocol, 0, src, dst
    )
    csum = internet_checksum(hdr)
    return hdr[:10] + csum.to_bytes(2, "big") + hdr[12:]


def ipv6_header(
    src: bytes,
    dst: bytes,
    next_header: int,
    payload_len: int,
    *,
    hop_limit: int = 64,
    traffic_class: int = 0,
    flow_label: int = 0,
) -> bytes:
    """A 40-byte IPv6 header (RFC 8200 §3)."""
    first = (6 << 28) | ((traffic_class & 0xFF) << 20) | (flow_label & 0xFFFFF)
    return IPV6_HEADER.pack(first, payload_len, next_header, hop_limit, src, dst)


def build_ip(
    src: IPAddress, dst: IPAddress, protocol: int, payload: bytes, *, ttl: int = 64, ident: int = 0
) -> bytes:
    """A whole IP packet of the family of ``src`` carrying ``payload``."""
    if src.version == 4:
        hdr = ipv4_header(src.packed, dst.packed, protocol, len(payload), ttl=ttl, ident=ident)
        return hdr + payload
    return ipv6_header(src.packed, dst.packed, protocol, len(payload), hop_limit=ttl) + payload


def set_ipv4_checksum(buf: bytearray) -> None:
    """Recompute, in place, the checksum of the IPv4 header at the start of ``buf``."""
    ihl = (buf[0] & 0x0F) * 4
    buf[10:12] = b"\x00\x00"
    buf[10:12] = internet_checksum(buf[:ihl]).to_bytes(2, "big")


def rewrite_header(
    header: bytes | bytearray, version: int, nh_offset: int, protocol: int, total_len: int
) -> bytes:
    """``header`` (the bytes before the upper layer) with a new protocol and packet length.

    IPv4: sets protocol, total length, and recomputes the header checksum. IPv6: sets the
    next-header byte at ``nh_offset`` and the payload length.
    """
    hdr = bytearray(header)
    hdr[nh_offset] = protocol
    if version == 4:
        hdr[2:4] = total_len.to_bytes(2, "big")
        set_ipv4_checksum(hdr)
    else:
        hdr[4:6] = (total_len - 40).to_bytes(2, "big")
    return bytes(hdr)


def pseudo_header(src: IPAddress, dst: IPAddress, protocol: int, length: int) -> bytes:
    """The TCP/UDP checksum pseudo-header (RFC 768, RFC 793 §3.1, RFC 8200 §8.1)."""
    if src.version == 4:
        return src.packed + dst.packed + bytes((0, protocol)) + length.to_bytes(2, "big")
    return (
        src.packed + dst.packed + length.to_bytes(4, "big") + b"\x00\x00\x00" + bytes((protocol,))
    )


# Offset of the checksum field inside the upper-layer header.
_CHECKSUM_OFFSET = {IpProtocol.TCP: 16, IpProtocol.UDP: 6}


def fix_transport_checksum(packet: bytes, info: IpPacket) -> bytes:
    """Recompute the TCP or UDP checksum of ``packet`` for its current addresses.

    Used after transport-mode ESP in UDP (RFC 3948 §3.1.2): the checksum was computed by the
    sender over addresses a NAT may have rewritten. The ESP ICV already vouched for the payload,
    so recomputing is safe. An IPv4 UDP checksum of zero (none) is left alone. Fragments and
    other protocols are returned unchanged.
    """
    off = _CHECKSUM_OFFSET.get(info.protocol)  # type: ignore[call-overload]
    if off is None or info.fragment:
        return packet
    start = info.header_len
    seg = bytearray(packet[start : info.total_len])
    if len(seg) < off + 2:
        return packet
    if info.protocol == IpProtocol.UDP and info.version == 4 and seg[6:8] == b"\x00\x00":
        return packet
    seg[off : off + 2] = b"\x00\x00"
    csum = internet_checksum(pseudo_header(info.src, info.dst, info.protocol, len(seg)) + seg)
    if info.protocol == IpProtocol.UDP and csum == 0:
        csum = 0xFFFF  # RFC 768: a computed zero is sent as all ones
    seg[off : off + 2] = csum.to_bytes(2, "big")
    return bytes(packet[:start]) + bytes(seg) + bytes(packet[info.total_len :])


ECN_CE = 3  # RFC 3168 §5: the two low bits of TOS / traffic class; 3 = Congestion Experienced


def ecn(packet: bytes | bytearray) -> int:
    """The ECN field of an IPv4 or IPv6 header (RFC 3168 §5)."""
    return packet[1] & 3 if packet[0] >> 4 == 4 else (packet[1] >> 4) & 3


def with_ecn_ce(packet: bytes) -> bytes:
    """``packet`` with its ECN field set to CE (IPv4 header checksum updated)."""
    buf = bytearray(packet)
    if buf[0] >> 4 == 4:
        buf[1] |= ECN_CE
        set_ipv4_checksum(buf)
    else:
        buf[1] |= ECN_CE << 4
    return bytes(buf)
