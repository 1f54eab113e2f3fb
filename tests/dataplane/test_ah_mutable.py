"""AH protects the immutable fields and ignores the mutable ones (RFC 4302 §3.3.3.1)."""

from __future__ import annotations

import struct

import pytest

from pyipsec.dataplane.processor import Verdict
from pyipsec.dataplane.stats import XfrmStat
from pyipsec.wire.ip import IpProtocol, internet_checksum, ipv6_header, parse_ip

from .engine_helpers import SITES, make_pair


def v4_change(pkt: bytes, offset: int, value: int) -> bytes:
    """Set one byte of the IPv4 header and fix the header checksum, as a router would."""
    buf = bytearray(pkt)
    buf[offset] = value
    buf[10:12] = b"\x00\x00"
    buf[10:12] = internet_checksum(bytes(buf[:20])).to_bytes(2, "big")
    return bytes(buf)


@pytest.mark.parametrize(
    "offset,value,ok",
    [
        (1, 0x28, True),  # TOS/DSCP: mutable
        (8, 7, True),  # TTL: mutable
        (6, 0x40, True),  # flags (DF set on the way): mutable
        (4, 0x99, False),  # identification: immutable
        (12, 9, False),  # source address: immutable
    ],
)
def test_ipv4_fields(offset: int, value: int, ok: bool) -> None:
    pair = make_pair(None, "sha256", esp=False, ah=True, tunnel=False, outer=4)
    out = pair.a.outbound(pair.packet(b"data"), 1.0)
    got = pair.b.inbound(v4_change(out.packet, offset, value), 1.0)
    if ok:
        assert got.verdict is Verdict.DELIVER, got.reason
    else:
        assert got.verdict is Verdict.DROPPED
        assert pair.b.stats[XfrmStat.IN_STATE_PROTOCOL_ERRORS] == 1


def v6_packet_with_hbh(mutable_data: int, immutable_data: int) -> bytes:
    s = SITES[6]
    udp = struct.pack("!HHHH", 1000, 2000, 12, 0) + b"abcd"
    # Hop-by-hop: option 0x3E (bit 0x20 set: may change en route), option 0x1E (immutable).
    hbh = bytes((IpProtocol.UDP, 0, 0x3E, 1, mutable_data, 0x1E, 1, immutable_data))
    return ipv6_header(s["gw_a"].packed, s["gw_b"].packed, IpProtocol.HOPOPT, 8 + len(udp)) + (
        hbh + udp
    )


@pytest.mark.parametrize(
    "where,value,ok",
    [
        (44, 0x55, True),  # data of the mutable hop-by-hop option
        (1, 0x0F, True),  # traffic class / flow label bits
        (7, 1, True),  # hop limit
        (47, 0x55, False),  # data of the immutable option
        (23, 0x09, False),  # source address
    ],
)
def test_ipv6_fields_and_extension_options(where: int, value: int, ok: bool) -> None:
    pair = make_pair(None, "sha1", esp=False, ah=True, tunnel=False, outer=6)
    pkt = v6_packet_with_hbh(0x11, 0x22)
    out = pair.a.outbound(pkt, 1.0)
    assert out.verdict is Verdict.PROTECTED
    info = parse_ip(out.packet)
    # AH sits after the hop-by-hop header (RFC 4302 §3.1.1) and the hop-by-hop names it.
    assert info.protocol == IpProtocol.AH and info.header_len == 48 and out.packet[40] == 51
    buf = bytearray(out.packet)
    buf[where] = value
    got = pair.b.inbound(bytes(buf), 1.0)
    if ok:
        assert got.verdict is Verdict.DELIVER, got.reason
        if where != 44:
            return
        # The receiver gets the packet as it arrived (mutable data included), AH removed.
        assert got.packet[:44] == pkt[:44] and got.packet[45:] == pkt[45:]
    else:
        assert got.verdict is Verdict.DROPPED
        assert pair.b.stats[XfrmStat.IN_STATE_PROTOCOL_ERRORS] == 1


def test_esp_transport_ipv6_keeps_hop_by_hop_in_clear() -> None:
    pair = make_pair("aes-128-gcm", None, tunnel=False, outer=6)
    pkt = v6_packet_with_hbh(0x11, 0x22)
    out = pair.a.outbound(pkt, 1.0)
    info = parse_ip(out.packet)
    assert info.protocol == IpProtocol.ESP and out.packet[41:48] == pkt[41:48]
    assert out.packet[40] == IpProtocol.ESP  # the hop-by-hop header now names ESP
    got = pair.b.inbound(out.packet, 1.0)
    assert got.verdict is Verdict.DELIVER and got.packet == pkt
