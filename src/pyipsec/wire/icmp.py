"""ICMP errors a tunnel gateway sends back when a packet will not fit after encapsulation.

- IPv4: Destination Unreachable, code 4 "fragmentation needed and DF set" (RFC 792) with the
  next-hop MTU in the second half of the unused word (RFC 1191 §4);
- IPv6: Packet Too Big (RFC 4443 §3.2) with the 32-bit MTU.

Both quote the offending packet: IPv4 as much as keeps the error within 576 bytes (RFC 1812
§4.3.2.3), IPv6 as much as keeps it within the minimum MTU of 1280 (RFC 4443 §2.4 (c)). The
error is addressed to the offending packet's source and sent *from its destination* by
default: the userspace data plane writes it into its TUN device as if the path beyond the
tunnel had answered, and a packet arriving with one of the host's own addresses as its source
would be dropped as a martian.
"""

from __future__ import annotations

import struct

from pyipsec.wire.ip import IpProtocol, internet_checksum, ipv4_header, ipv6_header

ICMP_DEST_UNREACH = 3
ICMP_FRAG_NEEDED = 4
ICMPV6_PACKET_TOO_BIG = 2
IPV4_ERROR_MAX = 576  # RFC 1812 §4.3.2.3
IPV6_MIN_MTU = 1280  # RFC 8200 §5

_ICMP_HDR = struct.Struct("!BBHHH")  # type, code, checksum, unused, next-hop MTU
_ICMPV6_HDR = struct.Struct("!BBHI")  # type, code, checksum, MTU


class NotAnIpPacket(ValueError):
    """The packet to quote is not a well-formed IPv4 or IPv6 packet."""


def frag_needed(
    original: bytes, mtu: int, *, source: bytes | None = None, ttl: int = 64, ident: int = 0
) -> bytes:
    """An IPv4 packet carrying ICMP "fragmentation needed" for ``original`` (RFC 1191 §4).

    ``mtu`` is the next-hop MTU to announce (0..65535); ``source`` (4 bytes) defaults to the
    original destination.
    """
    if len(original) < 20 or original[0] >> 4 != 4:
        raise NotAnIpPacket("not an IPv4 packet")
    if not 0 <= mtu <= 0xFFFF:
        raise ValueError("next-hop MTU out of range")
    quote = original[: IPV4_ERROR_MAX - 20 - 8]
    body = _ICMP_HDR.pack(ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 0, 0, mtu) + quote
    csum = internet_checksum(body)
    body = body[:2] + csum.to_bytes(2, "big") + body[4:]
    src = original[16:20] if source is None else source
    header = ipv4_header(src, original[12:16], IpProtocol.ICMP, len(body), ttl=ttl, ident=ident)
    return header + body


def packet_too_big(
    original: bytes, mtu: int, *, source: bytes | None = None, hop_limit: int = 64
) -> bytes:
    """An IPv6 packet carrying ICMPv6 Packet Too Big for ``original`` (RFC 4443 §3.2)."""
    if len(original) < 40 or original[0] >> 4 != 6:
        raise NotAnIpPacket("not an IPv6 packet")
    if not 0 <= mtu <= 0xFFFFFFFF:
        raise ValueError("MTU out of range")
    quote = original[: IPV6_MIN_MTU - 40 - 8]
    src = original[24:40] if source is None else source
    dst = original[8:24]
    body = _ICMPV6_HDR.pack(ICMPV6_PACKET_TOO_BIG, 0, 0, mtu) + quote
    pseudo = src + dst + len(body).to_bytes(4, "big") + b"\0\0\0" + bytes((IpProtocol.IPV6_ICMP,))
    csum = internet_checksum(pseudo + body)
    body = body[:2] + csum.to_bytes(2, "big") + body[4:]
    return ipv6_header(src, dst, IpProtocol.IPV6_ICMP, len(body), hop_limit=hop_limit) + body
