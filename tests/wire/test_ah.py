"""AH header codec and mutable-field zeroing (wire/ah.py, RFC 4302)."""

from __future__ import annotations

import ipaddress

import pytest

from pyipsec.wire.ah import (
    MalformedAh,
    ah_length,
    pull_ah_header,
    push_ah_header,
    zero_ipv4_mutable,
    zero_ipv6_mutable,
)
from pyipsec.wire.ip import ipv4_header, ipv6_header


@pytest.mark.parametrize(
    "icv,version,length",
    [
        (12, 4, 24),  # HMAC-SHA1-96: 24 bytes, Payload Len 4 (RFC 4302 §2.2 example)
        (12, 6, 24),
        (16, 4, 28),  # HMAC-SHA-256-128 (RFC 4868)
        (16, 6, 32),  # padded to 64 bits for IPv6
        (24, 6, 40),
        (32, 4, 44),
    ],
)
def test_lengths(icv: int, version: int, length: int) -> None:
    assert ah_length(icv, version) == length
    hdr = push_ah_header(6, icv, version, 0x1234, 7)
    assert len(hdr) == length and hdr[1] == length // 4 - 2
    parsed = pull_ah_header(hdr)
    assert (parsed.next_header, parsed.length, parsed.spi, parsed.seq) == (6, length, 0x1234, 7)


def test_truncated() -> None:
    with pytest.raises(MalformedAh):
        pull_ah_header(b"\x06\x04\x00\x00" + b"\x00" * 4)
    hdr = push_ah_header(6, 12, 4, 1, 1)
    with pytest.raises(MalformedAh):
        pull_ah_header(hdr[:-1])


def test_zero_ipv4() -> None:
    src, dst = ipaddress.ip_address("198.51.100.1"), ipaddress.ip_address("203.0.113.1")
    hdr = bytearray(ipv4_header(src.packed, dst.packed, 51, 10, ttl=9, tos=0xB8, flags_frag=0x4000))
    zero_ipv4_mutable(hdr)
    assert hdr[1] == 0 and hdr[6:9] == b"\x00\x00\x00" and hdr[10:12] == b"\x00\x00"
    assert hdr[9] == 51 and hdr[12:20] == src.packed + dst.packed


def test_zero_ipv4_options() -> None:
    base = bytearray(ipv4_header(b"\x01" * 4, b"\x02" * 4, 51, 0))
    # router alert (148, immutable) + record route (7, mutable) + EOL padding
    opts = bytes((148, 4, 0, 0)) + bytes((7, 7, 4, 9, 9, 9, 9)) + b"\x00"
    hdr = bytearray(base[:20] + opts)
    hdr[0] = 0x40 | (len(hdr) // 4)
    zero_ipv4_mutable(hdr)
    assert hdr[20:24] == bytes((148, 4, 0, 0)) and hdr[24:31] == bytes(7)
    bad = bytearray(base[:20] + bytes((7, 9, 0, 0)))
    bad[0] = 0x46
    with pytest.raises(MalformedAh):
        zero_ipv4_mutable(bad)


def test_zero_ipv6_and_options() -> None:
    hdr = bytearray(
        ipv6_header(b"\x01" * 16, b"\x02" * 16, 0, 8, hop_limit=5, traffic_class=0xAB, flow_label=7)
    )
    # hop-by-hop with a mutable option (type 0x3E has bit 0x20) and an immutable one (0x05)
    hdr += bytes((51, 0, 0x3E, 1, 0xAA, 0x05, 1, 0xBB))
    zero_ipv6_mutable(hdr, len(hdr))
    assert hdr[0] == 0x60 and hdr[1:4] == b"\x00\x00\x00" and hdr[7] == 0
    assert hdr[40:] == bytes((51, 0, 0x3E, 1, 0x00, 0x05, 1, 0xBB))


def test_zero_ipv6_routing_with_segments_left_is_refused() -> None:
    hdr = bytearray(ipv6_header(b"\x01" * 16, b"\x02" * 16, 43, 8)) + bytes(
        (51, 0, 0, 1, 0, 0, 0, 0)
    )
    with pytest.raises(MalformedAh):
        zero_ipv6_mutable(hdr, len(hdr))
