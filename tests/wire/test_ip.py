"""IPv4/IPv6 parsing, header building and checksums (wire/ip.py)."""

from __future__ import annotations

import ipaddress
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyipsec.wire.ip import (
    IpProtocol,
    MalformedPacket,
    build_ip,
    fix_transport_checksum,
    internet_checksum,
    ipv4_header,
    parse_ip,
    pseudo_header,
    rewrite_header,
)

A4, B4 = ipaddress.ip_address("198.51.100.1"), ipaddress.ip_address("203.0.113.9")
A6, B6 = ipaddress.ip_address("2001:db8::1"), ipaddress.ip_address("2001:db8::2")

# RFC 1071 §3 numerical example: the one's complement sum of 00 01 f2 03 f4 f5 f6 f7 is ddf2,
# so the checksum (its complement) is 220d.
RFC1071_DATA = bytes.fromhex("0001f203f4f5f6f7")
RFC1071_CHECKSUM = 0x220D

# A classic IPv4 header checksum example (Wikipedia "Internet checksum", also the worked
# example of many textbooks): header 4500 0073 0000 4000 4011 [b861] c0a8 0001 c0a8 00c7.
TEXTBOOK_HEADER = bytes.fromhex("450000730000400040110000c0a80001c0a800c7")
TEXTBOOK_CHECKSUM = 0xB861


def test_rfc1071_example() -> None:
    assert internet_checksum(RFC1071_DATA) == RFC1071_CHECKSUM


def test_textbook_ipv4_checksum() -> None:
    assert internet_checksum(TEXTBOOK_HEADER) == TEXTBOOK_CHECKSUM


def test_odd_length_checksum_pads_with_zero() -> None:
    assert internet_checksum(b"\x01\x02\x03") == internet_checksum(b"\x01\x02\x03\x00")


def test_header_with_checksum_sums_to_zero() -> None:
    hdr = ipv4_header(A4.packed, B4.packed, 17, 100, ttl=3, tos=0x10, ident=7)
    assert internet_checksum(hdr) == 0
    assert struct.unpack("!H", hdr[2:4])[0] == 120


def udp(src, dst, sport, dport, data=b"abcd"):  # type: ignore[no-untyped-def]
    return build_ip(src, dst, 17, struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data)


def test_parse_ipv4_udp() -> None:
    pkt = udp(A4, B4, 1234, 53)
    info = parse_ip(pkt)
    assert (info.version, info.src, info.dst, info.protocol) == (4, A4, B4, 17)
    assert (info.src_port, info.dst_port, info.header_len, info.insert_at) == (1234, 53, 20, 20)
    assert info.total_len == len(pkt) and not info.fragment
    assert info.nh_offset == info.proto_offset == 9


def test_parse_ipv4_ignores_trailing_bytes() -> None:
    pkt = udp(A4, B4, 1, 2) + b"\x00" * 6  # Ethernet padding
    assert parse_ip(pkt).total_len == len(pkt) - 6


def test_parse_ipv4_icmp_has_no_ports() -> None:
    info = parse_ip(build_ip(A4, B4, 1, b"\x08\x00\x00\x00\x00\x01\x00\x01"))
    assert info.src_port is None and info.dst_port is None


def test_non_initial_fragment_has_no_ports() -> None:
    hdr = ipv4_header(A4.packed, B4.packed, 17, 8, flags_frag=100)  # offset 100*8
    info = parse_ip(hdr + b"\x00" * 8)
    assert info.fragment and info.src_port is None


@pytest.mark.parametrize(
    "pkt",
    [
        b"",
        b"\x45",
        b"\x75" + b"\x00" * 30,  # version 7
        bytes.fromhex("4400001400000000401100000000000000000000"),  # IHL 4
        ipv4_header(A4.packed, B4.packed, 17, 50),  # total length beyond the bytes
        ipv4_header(A4.packed, B4.packed, 17, 2) + b"\x00\x01",  # UDP ports truncated
        b"\x60" + b"\x00" * 20,
    ],
)
def test_malformed(pkt: bytes) -> None:
    with pytest.raises(MalformedPacket):
        parse_ip(pkt)


def ext(nh: int, body: bytes) -> bytes:
    """A generic IPv6 extension header of 8*(len) bytes."""
    raw = bytes((nh, 0)) + body
    raw += b"\x00" * (-len(raw) % 8)
    return bytes((nh, len(raw) // 8 - 1)) + raw[2:]


def test_parse_ipv6_extension_chain() -> None:
    # hop-by-hop -> destination options -> routing -> fragment(first) -> dest opts -> TCP
    tcp = struct.pack("!HH", 4321, 80) + b"\x00" * 16
    chain = (
        ext(IpProtocol.IPV6_OPTS, b"\x01\x04\x00\x00\x00\x00")
        + ext(IpProtocol.IPV6_ROUTE, b"\x01\x04\x00\x00\x00\x00")
        + ext(IpProtocol.IPV6_FRAG, b"\x00\x00\x00\x00\x00\x00")
        + bytes((IpProtocol.IPV6_OPTS, 0, 0, 0, 0, 0, 0, 0))  # fragment header, offset 0
        + ext(IpProtocol.TCP, b"\x01\x04\x00\x00\x00\x00")
    )
    pkt = build_ip(A6, B6, IpProtocol.HOPOPT, chain + tcp)
    info = parse_ip(pkt)
    assert info.protocol == IpProtocol.TCP
    assert info.header_len == 40 + 8 * 5
    assert (info.src_port, info.dst_port) == (4321, 80)
    # ESP goes after hop-by-hop, the dest opts before routing, routing and fragment; the last
    # destination options header stays behind ESP (RFC 4303 §3.1.1).
    assert info.insert_at == 40 + 8 * 4
    assert pkt[info.nh_offset] == IpProtocol.IPV6_OPTS
    assert pkt[info.proto_offset] == IpProtocol.TCP
    assert info.fragment


def test_parse_ipv6_truncated_extension() -> None:
    pkt = build_ip(A6, B6, IpProtocol.HOPOPT, b"\x11\x05" + b"\x00" * 6)
    with pytest.raises(MalformedPacket):
        parse_ip(pkt)


def test_rewrite_header_ipv4_and_ipv6() -> None:
    pkt = udp(A4, B4, 1, 2)
    hdr = rewrite_header(pkt[:20], 4, 9, 50, 300)
    assert hdr[9] == 50 and struct.unpack("!H", hdr[2:4])[0] == 300
    assert internet_checksum(hdr) == 0
    pkt6 = udp(A6, B6, 1, 2)
    hdr6 = rewrite_header(pkt6[:40], 6, 6, 50, 140)
    assert hdr6[6] == 50 and struct.unpack("!H", hdr6[4:6])[0] == 100


@pytest.mark.parametrize("src,dst", [(A4, B4), (A6, B6)])
def test_fix_transport_checksum(src, dst) -> None:  # type: ignore[no-untyped-def]
    data = b"payload!"
    length = 8 + len(data)
    seg = struct.pack("!HHHH", 1000, 2000, length, 0xBEEF) + data  # wrong checksum
    pkt = build_ip(src, dst, 17, seg)
    fixed = fix_transport_checksum(pkt, parse_ip(pkt))
    hl = 20 if src.version == 4 else 40
    assert internet_checksum(pseudo_header(src, dst, 17, length) + fixed[hl:]) == 0
    assert fixed[: hl + 6] == pkt[: hl + 6] and fixed[hl + 8 :] == pkt[hl + 8 :]


def test_fix_transport_checksum_leaves_zero_udp_v4() -> None:
    pkt = udp(A4, B4, 1, 2)
    assert fix_transport_checksum(pkt, parse_ip(pkt)) == pkt


def reference_checksum(data: bytes) -> int:
    """RFC 1071 §4.1 style: add 16-bit words with end-around carry, then complement."""
    if len(data) % 2:
        data += b"\x00"
    total = 0
    for i in range(0, len(data), 2):
        total += (data[i] << 8) | data[i + 1]
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_checksum_matches_reference(data: bytes) -> None:
    assert internet_checksum(data) == reference_checksum(data)


def test_checksum_edge_values() -> None:
    assert internet_checksum(b"") == 0xFFFF
    assert internet_checksum(b"\xff\xff") == 0x0000
    assert internet_checksum(b"\xff\xff\xff\xff") == 0x0000
    assert internet_checksum(b"\x00\x00") == 0xFFFF
