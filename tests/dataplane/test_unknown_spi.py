"""ESP/AH for an unknown SPI: dropped and counted as before, and reported to IKE as a
rate-limited ``UnknownSpiReceived`` (for INVALID-SPI, core/ikev1/invalid_spi.py)."""

from __future__ import annotations

import pytest

from pyipsec.dataplane.processor import UnknownSpiReceived, Verdict
from pyipsec.dataplane.sad import SaProtocol
from pyipsec.dataplane.stats import XfrmStat
from pyipsec.dataplane.unknown_spi import REPORTS_PER_SECOND
from pyipsec.wire.ip import build_ip

from .engine_helpers import SITES, Pair, make_pair


def with_spi(packet: bytes, offset: int, spi: int) -> bytes:
    return packet[:offset] + spi.to_bytes(4, "big") + packet[offset + 4 :]


def protected(pair: Pair) -> bytes:
    out = pair.a.outbound(pair.packet(), 1.0)
    assert out.verdict is Verdict.PROTECTED
    return out.packet


def unknown(pair: Pair) -> list[UnknownSpiReceived]:
    return [e for e in pair.b.pop_events() if isinstance(e, UnknownSpiReceived)]


@pytest.mark.parametrize("outer", [4, 6])
def test_unknown_esp_spi_is_reported_with_its_sender(outer: int) -> None:
    pair = make_pair(outer=outer)
    pkt = protected(pair)
    off = 20 if outer == 4 else 40
    got = pair.b.inbound(with_spi(pkt, off, 0xDEAD), 1.0)
    assert got.verdict is Verdict.DROPPED
    assert pair.b.stats[XfrmStat.IN_NO_STATES] == 1
    site = SITES[outer]
    assert unknown(pair) == [
        UnknownSpiReceived(spi=0xDEAD, protocol=SaProtocol.ESP, src=site["gw_a"], dst=site["gw_b"])
    ]


def test_known_spi_and_other_drops_are_not_reported() -> None:
    pair = make_pair()
    pkt = protected(pair)
    assert pair.b.inbound(pkt, 1.0).verdict is Verdict.DELIVER
    assert pair.b.inbound(pkt, 1.0).verdict is Verdict.DROPPED  # a replay: not unknown
    assert unknown(pair) == []


def test_unknown_ah_spi_is_reported() -> None:
    pair = make_pair(None, "sha1", esp=False, ah=True)
    pkt = protected(pair)
    pair.b.inbound(with_spi(pkt, 24, 0xBEEF), 1.0)  # AH: next header, length, reserved, SPI
    (event,) = unknown(pair)
    assert event.spi == 0xBEEF and event.protocol is SaProtocol.AH


def test_esp_in_udp_from_a_udp_socket_is_reported() -> None:
    pair = make_pair("aes-128-gcm", None, udp=True)
    pair.a.udp_payload_only = True
    out = pair.a.outbound(pair.packet(), 1.0)
    esp = with_spi(out.payload, 0, 0xCAFE)  # the datagram a UDP socket hands over
    hdr = build_ip(SITES[4]["gw_a"], SITES[4]["gw_b"], 50, b"")
    got = pair.b.inbound_udp(hdr, esp, 1.0, (4500, 4500))
    assert got.verdict is Verdict.DROPPED
    (event,) = unknown(pair)
    assert event.spi == 0xCAFE and event.src == SITES[4]["gw_a"]


def test_a_flood_of_random_spis_costs_a_few_events_a_second() -> None:
    pair = make_pair()
    pkt = protected(pair)
    for spi in range(5000, 15000):
        pair.b.inbound(with_spi(pkt, 20, spi), 1.5)
    assert pair.b.stats[XfrmStat.IN_NO_STATES] == 10000  # every one counted
    assert len(unknown(pair)) == REPORTS_PER_SECOND
    pair.b.inbound(with_spi(pkt, 20, 1), 2.1)  # the next second: reported again
    assert len(unknown(pair)) == 1
