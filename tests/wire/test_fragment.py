"""IPv4 and IPv6 fragmentation of outer packets (wire/fragment.py); scapy reassembles."""

from __future__ import annotations

import os

import pytest
from scapy.layers.inet import IP, defragment
from scapy.layers.inet6 import IPv6, IPv6ExtHdrFragment, defragment6

from pyipsec.wire.fragment import CannotFragment, fragment_ipv4, fragment_ipv6
from pyipsec.wire.ip import internet_checksum, ipv4_header, ipv6_header

ESP = 50
A4, B4 = bytes([198, 51, 100, 129]), bytes([198, 51, 100, 130])
A6 = bytes.fromhex("20010db8000f0000000000000000000" + "1")
B6 = bytes.fromhex("20010db8000f0000000000000000000" + "2")


def esp4(size: int, ident: int = 0x1234, flags: int = 0) -> bytes:
    payload = os.urandom(size - 20)
    return ipv4_header(A4, B4, ESP, len(payload), ident=ident, flags_frag=flags) + payload


@pytest.mark.parametrize(("size", "mtu"), [(1500, 1300), (1457, 576), (9000, 1500), (101, 68)])
def test_ipv4_fragments_fit_and_reassemble(size: int, mtu: int) -> None:
    packet = esp4(size)
    frags = fragment_ipv4(packet, mtu)
    assert len(frags) > 1
    for i, f in enumerate(frags):
        assert len(f) <= mtu
        assert internet_checksum(f[:20]) == 0
        ip = IP(f)
        assert ip.id == 0x1234 and ip.proto == ESP
        assert bool(ip.flags.MF) == (i < len(frags) - 1)
        if i < len(frags) - 1:
            assert (len(f) - 20) % 8 == 0
    whole = defragment([IP(f) for f in frags])
    assert len(whole) == 1
    assert whole[0].build()[20:] == packet[20:]


def test_ipv4_packet_that_fits_is_returned_as_is() -> None:
    packet = esp4(1000)
    assert fragment_ipv4(packet + b"trailing", 1500) == [packet]


def test_ipv4_with_df_or_tiny_mtu_is_refused() -> None:
    with pytest.raises(CannotFragment):
        fragment_ipv4(esp4(1500, flags=0x4000), 1300)
    with pytest.raises(CannotFragment):
        fragment_ipv4(esp4(1500), 27)
    with pytest.raises(CannotFragment):
        fragment_ipv4(b"\x60" + bytes(50), 1300)


def test_ipv4_refragmenting_a_fragment_keeps_offsets_and_mf() -> None:
    packet = esp4(3000)
    first, second = fragment_ipv4(packet, 1500)[:2]
    again = fragment_ipv4(second, 600)
    assert all(IP(f).flags.MF for f in again)  # second was not the last fragment
    assert IP(again[0]).frag == IP(second).frag
    whole = defragment([IP(f) for f in [first, *again, *fragment_ipv4(packet, 1500)[2:]]])
    assert whole[0].build()[20:] == packet[20:]


@pytest.mark.parametrize(("size", "mtu"), [(1500, 1280), (3000, 1300), (60000, 1500)])
def test_ipv6_fragments_fit_and_reassemble(size: int, mtu: int) -> None:
    payload = os.urandom(size - 40)
    packet = ipv6_header(A6, B6, ESP, len(payload)) + payload
    frags = fragment_ipv6(packet, mtu, 0xDEADBEEF)
    assert len(frags) > 1
    for i, f in enumerate(frags):
        assert len(f) <= mtu
        fh = IPv6(f)[IPv6ExtHdrFragment]
        assert fh.id == 0xDEADBEEF and fh.nh == ESP and fh.m == (i < len(frags) - 1)
    whole = defragment6([IPv6(f) for f in frags])
    assert whole.build()[40:] == payload


def test_ipv6_packet_that_fits_is_returned_as_is() -> None:
    packet = ipv6_header(A6, B6, ESP, 100) + bytes(100)
    assert fragment_ipv6(packet, 1280, 1) == [packet]
