"""ICMP "fragmentation needed" and ICMPv6 "packet too big" (wire/icmp.py), scapy as oracle."""

from __future__ import annotations

import ipaddress

import pytest
from scapy.layers.inet import ICMP, IP, TCP, IPerror
from scapy.layers.inet6 import ICMPv6PacketTooBig, IPv6

from pyipsec.wire.icmp import (
    IPV4_ERROR_MAX,
    IPV6_MIN_MTU,
    NotAnIpPacket,
    frag_needed,
    packet_too_big,
)
from pyipsec.wire.ip import internet_checksum

SRC, DST = "198.51.100.1", "203.0.113.1"


def big_tcp(size: int = 1400) -> bytes:
    pkt = IP(src=SRC, dst=DST, flags="DF", id=7) / TCP(sport=40000, dport=5201, flags="A")
    return bytes(pkt / (b"x" * (size - 40)))


def test_frag_needed_is_a_valid_icmp_error_quoting_the_packet() -> None:
    original = big_tcp()
    raw = frag_needed(original, 1338)
    assert len(raw) <= IPV4_ERROR_MAX
    pkt = IP(raw)
    assert pkt.src == DST and pkt.dst == SRC and pkt.proto == 1
    icmp = pkt[ICMP]
    assert (icmp.type, icmp.code, icmp.nexthopmtu) == (3, 4, 1338)
    # both checksums verify (a correct one's complement checksum sums to zero)
    assert internet_checksum(raw[:20]) == 0
    assert internet_checksum(raw[20:]) == 0
    quoted = pkt[IPerror]
    assert quoted.src == SRC and quoted.dst == DST and quoted.id == 7
    assert raw[28:] == original[: len(raw) - 28]


def test_frag_needed_from_a_chosen_source() -> None:
    raw = frag_needed(big_tcp(100), 1200, source=ipaddress.ip_address("192.0.2.1").packed)
    assert IP(raw).src == "192.0.2.1"
    assert len(raw) == 20 + 8 + 100  # short packets are quoted whole


def test_packet_too_big_is_a_valid_icmpv6_error() -> None:
    original = bytes(
        IPv6(src="2001:db8:a::1", dst="2001:db8:b::1") / TCP(sport=1, dport=2) / (b"y" * 1400)
    )
    raw = packet_too_big(original, 1300)
    assert len(raw) == IPV6_MIN_MTU
    pkt = IPv6(raw)
    assert pkt.src == "2001:db8:b::1" and pkt.dst == "2001:db8:a::1"
    ptb = pkt[ICMPv6PacketTooBig]
    assert ptb.mtu == 1300
    expected = ptb.cksum
    del ptb.cksum
    assert IPv6(bytes(pkt))[ICMPv6PacketTooBig].cksum == expected
    assert raw[48:] == original[: IPV6_MIN_MTU - 48]


def test_refuses_what_is_not_ip() -> None:
    with pytest.raises(NotAnIpPacket):
        frag_needed(b"\x60" + bytes(39), 1000)
    with pytest.raises(NotAnIpPacket):
        packet_too_big(big_tcp(), 1280)
    with pytest.raises(ValueError):
        frag_needed(big_tcp(), 70000)
