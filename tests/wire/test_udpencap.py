"""ESP-in-UDP framing and UDP-4500 classification (wire/udpencap.py, RFC 3948)."""

from __future__ import annotations

import ipaddress
import struct

import pytest

from pyipsec.wire.ip import internet_checksum, parse_ip, pseudo_header
from pyipsec.wire.udpencap import (
    NAT_KEEPALIVE,
    UdpPayloadKind,
    classify,
    decapsulate,
    encapsulate,
    frame_ike,
    unframe_ike,
)

IKE_HDR = bytes(28)


@pytest.mark.parametrize(
    "payload,kind",
    [
        (NAT_KEEPALIVE, UdpPayloadKind.KEEPALIVE),  # RFC 3948 §2.3
        (frame_ike(IKE_HDR), UdpPayloadKind.IKE),  # RFC 3948 §2.2
        (b"\x00\x00\x00\x00" + b"\x00" * 10, UdpPayloadKind.INVALID),  # marker, short IKE
        (b"\x00\x00\x10\x01" + b"\x00\x00\x00\x01", UdpPayloadKind.ESP),  # RFC 3948 §2.1
        (b"\x00\x00\x10\x01\x00", UdpPayloadKind.INVALID),  # too short for ESP
        (b"", UdpPayloadKind.INVALID),
        (b"\xfe", UdpPayloadKind.INVALID),
        (b"\xff\xff", UdpPayloadKind.INVALID),
    ],
)
def test_classify(payload: bytes, kind: UdpPayloadKind) -> None:
    assert classify(payload) is kind


def test_ike_framing() -> None:
    assert unframe_ike(frame_ike(b"msg")) == b"msg"


@pytest.mark.parametrize("a,b", [("198.51.100.1", "203.0.113.5"), ("2001:db8::1", "2001:db8::2")])
def test_encapsulate_decapsulate(a: str, b: str) -> None:
    src, dst = ipaddress.ip_address(a), ipaddress.ip_address(b)
    esp = b"\x00\x00\x01\x00" + b"\x00\x00\x00\x01" + b"ciphertext"
    pkt = encapsulate(src, dst, 4500, 4501, esp)
    info = parse_ip(pkt)
    off = info.header_len
    sport, dport, length, csum = struct.unpack("!HHHH", pkt[off : off + 8])
    assert (sport, dport, length) == (4500, 4501, 8 + len(esp))
    if src.version == 4:
        assert csum == 0  # RFC 3948 §2.1
    else:
        assert internet_checksum(pseudo_header(src, dst, 17, length) + pkt[off:]) == 0
    stripped, ports, kind = decapsulate(pkt)
    assert ports == (4500, 4501) and kind is UdpPayloadKind.ESP
    sinfo = parse_ip(stripped)
    assert sinfo.protocol == 50 and stripped[sinfo.header_len :] == esp
