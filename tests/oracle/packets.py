"""Cleartext test packets built by hand (independently of pyipsec.wire), and a pcap writer.

The oracle tests feed these to our engine and to the oracles, so they deliberately share no code
with the implementation under test.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable
from pathlib import Path

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

UDP = 17
ICMP = 1
ICMPV6 = 58

# pcap file format ("libpcap", https://www.tcpdump.org/manpages/pcap-savefile.5.html; also
# draft-ietf-opsawg-pcap §4, §5): magic 0xa1b2c3d4 (microsecond timestamps), version 2.4.
PCAP_MAGIC = 0xA1B2C3D4
PCAP_VERSION = (2, 4)
LINKTYPE_RAW = 101  # raw IPv4/IPv6, no link-layer header (tcpdump.org linktypes list)
PCAP_SNAPLEN = 65535


def _checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b"\x00"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _pseudo_header(src: IPAddress, dst: IPAddress, proto: int, length: int) -> bytes:
    if src.version == 4:
        # RFC 768: src, dst, zero, protocol, UDP length.
        return src.packed + dst.packed + struct.pack("!BBH", 0, proto, length)
    # RFC 8200 §8.1: src, dst, upper-layer length (32 bits), 3 zero bytes, next header.
    return src.packed + dst.packed + struct.pack("!I3xB", length, proto)


# IPv6 extension headers for the ``ext=True`` packets (RFC 8200 §4.2-4.6): a Hop-by-Hop header
# with a Router Alert option (type 5, RFC 2711; change bit clear: immutable) padded by PadN,
# then a Destination Options header with an experimental option (type 0x3E, RFC 4727; change
# bit 0x20 set: its data may change en route, so AH zeroes it, RFC 4302 §3.3.3.1.2.2).
HOP_BY_HOP = 0
DEST_OPTS = 60
ROUTER_ALERT = bytes([0x05, 0x02, 0x00, 0x00])
PADN_2 = bytes([0x01, 0x00])
MUTABLE_OPTION = bytes([0x3E, 0x04, 0xDE, 0xAD, 0xBE, 0xEF])


# IPv4 options for ``ext=True`` packets (RFC 791 §3.1): Router Alert (type 148, RFC 2113;
# immutable, RFC 4302 App. A) and Record Route with room for one address (type 7; mutable, so
# AH zeroes it), then End of Options List padding to a 4-byte boundary: 12 bytes, IHL 8.
IPV4_OPTIONS = bytes([0x94, 0x04, 0x00, 0x00]) + bytes([0x07, 0x07, 0x04, 0, 0, 0, 0]) + b"\x00"


def _ipv6_ext_chain(proto: int) -> tuple[int, bytes]:
    """(first next header, Hop-by-Hop + Destination Options headers ending in ``proto``)."""
    hbh = bytes([DEST_OPTS, 0]) + ROUTER_ALERT + PADN_2
    dest = bytes([proto, 0]) + MUTABLE_OPTION
    return HOP_BY_HOP, hbh + dest


def ip_packet(
    src: IPAddress, dst: IPAddress, proto: int, payload: bytes, ttl: int = 64, ext: bool = False
) -> bytes:
    """An IPv4 (RFC 791, with header checksum) or IPv6 (RFC 8200) packet around ``payload``.

    ``ext``: IPv4 with the options above; IPv6 with the extension headers above.
    """
    if src.version == 4:
        options = IPV4_OPTIONS if ext else b""
        hlen = 20 + len(options)
        header = struct.pack(
            "!BBHHHBBH4s4s",
            0x40 | hlen // 4,
            0,
            hlen + len(payload),
            0x1234,
            0,
            ttl,
            proto,
            0,
            src.packed,
            dst.packed,
        )
        header += options
        header = header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
        return header + payload
    if ext:
        proto, chain = _ipv6_ext_chain(proto)
        payload = chain + payload
    first = (6 << 28) | 0x12345  # version 6, traffic class 0, a flow label
    return struct.pack("!IHBB", first, len(payload), proto, ttl) + src.packed + dst.packed + payload


def udp_packet(
    src: IPAddress,
    dst: IPAddress,
    sport: int,
    dport: int,
    data: bytes,
    ttl: int = 64,
    ext: bool = False,
) -> bytes:
    """An IP/UDP packet with a correct UDP checksum (RFC 768; mandatory over IPv6)."""
    length = 8 + len(data)
    udp = struct.pack("!HHHH", sport, dport, length, 0) + data
    csum = _checksum(_pseudo_header(src, dst, UDP, length) + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
    return ip_packet(src, dst, UDP, udp, ttl, ext)


def echo_request(
    src: IPAddress, dst: IPAddress, ident: int, seq: int, data: bytes, ext: bool = False
) -> bytes:
    """An ICMP (RFC 792) or ICMPv6 (RFC 4443 §4.1) echo request."""
    if src.version == 4:
        msg = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + data
        msg = msg[:2] + struct.pack("!H", _checksum(msg)) + msg[4:]
        return ip_packet(src, dst, ICMP, msg, ext=ext)
    msg = struct.pack("!BBHHH", 128, 0, 0, ident, seq) + data
    csum = _checksum(_pseudo_header(src, dst, ICMPV6, len(msg)) + msg)
    msg = msg[:2] + struct.pack("!H", csum) + msg[4:]
    return ip_packet(src, dst, ICMPV6, msg, ext=ext)


def write_pcap(path: Path, packets: Iterable[bytes], linktype: int = LINKTYPE_RAW) -> None:
    """Write ``packets`` (whole IP packets) as a classic pcap file, one second apart."""
    with path.open("wb") as f:
        # Global header: magic, version major/minor, thiszone, sigfigs, snaplen, network.
        f.write(struct.pack("<IHHiIII", PCAP_MAGIC, *PCAP_VERSION, 0, 0, PCAP_SNAPLEN, linktype))
        for i, pkt in enumerate(packets):
            # Record header: ts_sec, ts_usec, incl_len, orig_len.
            f.write(struct.pack("<IIII", 1_700_000_000 + i, 0, len(pkt), len(pkt)))
            f.write(pkt)
