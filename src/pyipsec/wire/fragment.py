"""Fragmenting a (protected) IP packet that exceeds the path MTU.

- IPv4 (RFC 791 §3.2, "fragmentation procedure"): every fragment carries a copy of the header
  (options are not copied, they never occur in headers we build), fragment offsets are in
  8-octet units, MF is set on all but the last, the Identification is the packet's own (the
  caller gives fragmentable packets a non-zero ID, RFC 6864 §4.1);
- IPv6 (RFC 8200 §4.5): the unfragmentable part (the IPv6 header; extension headers are not
  expected on packets we build) is followed by a Fragment header with a 32-bit Identification.

The receiving host's kernel reassembles the fragments before handing the packet to a socket.
"""

from __future__ import annotations

import struct

from pyipsec.wire.ip import IpProtocol, set_ipv4_checksum

IPV4_DF = 0x4000
IPV4_MF = 0x2000
IPV6_FRAG_HEADER = struct.Struct("!BBHI")  # next header, reserved, offset|M, identification


class CannotFragment(ValueError):
    """The packet cannot be fragmented to the MTU (DF set, MTU too small, malformed)."""


def fragment_ipv4(packet: bytes, mtu: int) -> list[bytes]:
    """``packet`` as fragments of at most ``mtu`` bytes (the packet itself if it fits)."""
    if len(packet) < 20 or packet[0] >> 4 != 4:
        raise CannotFragment("not an IPv4 packet")
    ihl = (packet[0] & 0x0F) * 4
    total = (packet[2] << 8) | packet[3]
    if total > len(packet) or total < ihl:
        raise CannotFragment("IPv4 total length inconsistent")
    if total <= mtu:
        return [packet[:total]]
    flags_frag = (packet[6] << 8) | packet[7]
    if flags_frag & IPV4_DF:
        raise CannotFragment("DF is set")
    room = (mtu - ihl) // 8 * 8
    if room < 8:
        raise CannotFragment("MTU too small to fragment")
    base_offset = flags_frag & 0x1FFF  # a fragment may be fragmented again
    last_mf = flags_frag & IPV4_MF
    header = bytearray(packet[:ihl])
    data = memoryview(packet)[ihl:total]
    out: list[bytes] = []
    for start in range(0, len(data), room):
        chunk = data[start : start + room]
        more = start + room < len(data)
        header[2:4] = (ihl + len(chunk)).to_bytes(2, "big")
        field = base_offset + start // 8
        if more or last_mf:
            field |= IPV4_MF
        header[6:8] = field.to_bytes(2, "big")
        set_ipv4_checksum(header)
        out.append(bytes(header) + chunk)
    return out


def fragment_ipv6(packet: bytes, mtu: int, ident: int) -> list[bytes]:
    """``packet`` (an IPv6 header followed directly by the payload) as fragments of at most
    ``mtu`` bytes, each with a Fragment header carrying ``ident`` (the packet if it fits)."""
    if len(packet) < 40 or packet[0] >> 4 != 6:
        raise CannotFragment("not an IPv6 packet")
    total = 40 + ((packet[4] << 8) | packet[5])
    if total > len(packet):
        raise CannotFragment("IPv6 payload length inconsistent")
    if total <= mtu:
        return [packet[:total]]
    room = (mtu - 40 - IPV6_FRAG_HEADER.size) // 8 * 8
    if room < 8:
        raise CannotFragment("MTU too small to fragment")
    nh = packet[6]
    header = bytearray(packet[:40])
    header[6] = IpProtocol.IPV6_FRAG
    data = memoryview(packet)[40:total]
    out: list[bytes] = []
    for start in range(0, len(data), room):
        chunk = data[start : start + room]
        more = start + room < len(data)
        header[4:6] = (IPV6_FRAG_HEADER.size + len(chunk)).to_bytes(2, "big")
        frag = IPV6_FRAG_HEADER.pack(nh, 0, start | int(more), ident & 0xFFFFFFFF)
        out.append(bytes(header) + frag + chunk)
    return out
