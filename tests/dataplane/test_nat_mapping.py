"""A NAT in front of the peer rebinds: ESP-in-UDP arrives from a new source port (RFC 3948 §5).

Only a packet that passed the ICV and the replay check, and is the newest so far, moves the
SAs (RFC 7296 §2.23): anyone can send a datagram from a new port with the peer's address.
"""

from __future__ import annotations

import pytest

from pyipsec.dataplane.policy import Direction
from pyipsec.dataplane.processor import NatMappingChanged, Verdict
from pyipsec.dataplane.stats import XfrmStat
from pyipsec.wire.ip import build_ip, rewrite_header
from pyipsec.wire.udpencap import decapsulate

from .engine_helpers import SITES, Pair, make_pair

S = SITES[4]
NEW = 34567


def esp_from_a(pair: Pair) -> bytes:
    """A's next packet to B as the UDP socket gives it to B: IP header (protocol 50) + ESP."""
    out = pair.a.outbound(pair.packet(), 1.0)
    assert out.verdict is Verdict.PROTECTED and out.udp_ports == (4500, 4500)
    stripped, _ports, _kind = decapsulate(out.packet)
    return stripped


def receive(pair: Pair, packet: bytes, port: int, *, fast: bool) -> Verdict:
    if fast:  # the UDP socket entry point (fast path)
        return pair.b.inbound_udp(packet[:20], packet[20:], 1.0, (port, 4500)).verdict
    return pair.b.inbound(packet, 1.0, udp_encap=(port, 4500)).verdict


def b_sends_to(pair: Pair) -> tuple[int, int] | None:
    return pair.b.outbound(pair.packet(reverse=True), 1.0).udp_ports


def ports_of(pair: Pair) -> dict[Direction, tuple[int, int] | None]:
    return {sa.params.direction: sa.params.udp_encap for sa in pair.b.sad}


def nat_events(pair: Pair) -> list[NatMappingChanged]:
    return [e for e in pair.b.pop_events() if isinstance(e, NatMappingChanged)]


@pytest.mark.parametrize("fast", [False, True])
def test_an_authenticated_packet_from_a_new_port_moves_the_peers_sas(fast: bool) -> None:
    pair = make_pair("aes-128-gcm", None, udp=True)
    assert receive(pair, esp_from_a(pair), 4500, fast=fast) is Verdict.DELIVER
    assert receive(pair, esp_from_a(pair), NEW, fast=fast) is Verdict.DELIVER
    assert nat_events(pair) == [
        NatMappingChanged(
            spi=0x101,
            dst=S["gw_b"],
            peer=S["gw_a"],
            old_ports=(4500, 4500),
            new_ports=(NEW, 4500),
            moved=2,
        )
    ]
    assert ports_of(pair) == {Direction.IN: (NEW, 4500), Direction.OUT: (4500, NEW)}
    assert b_sends_to(pair) == (4500, NEW)
    # the next packets from there are ordinary; nothing is reported again
    for _ in range(3):
        assert receive(pair, esp_from_a(pair), NEW, fast=fast) is Verdict.DELIVER
    assert nat_events(pair) == []
    assert pair.b.stats.total() == 0


@pytest.mark.parametrize("fast", [False, True])
def test_unauthenticated_packets_from_a_new_port_change_nothing(fast: bool) -> None:
    """The attack: datagrams with the peer's address from the attacker's port, to pull B's
    ESP towards it. Forged (bad ICV) and replayed packets are dropped and move nothing."""
    pair = make_pair("aes-128-gcm", None, udp=True)
    first = esp_from_a(pair)
    assert receive(pair, first, 4500, fast=fast) is Verdict.DELIVER
    forged = bytearray(esp_from_a(pair))
    forged[-1] ^= 1  # the ICV
    assert receive(pair, bytes(forged), NEW, fast=fast) is Verdict.DROPPED
    assert receive(pair, first, NEW, fast=fast) is Verdict.DROPPED  # a replay
    # a valid SPI and a fresh sequence number, then nothing that authenticates
    garbage = build_ip(S["gw_a"], S["gw_b"], 50, first[20:24] + (99).to_bytes(4, "big") + bytes(40))
    assert receive(pair, garbage, NEW, fast=fast) is Verdict.DROPPED
    assert pair.b.stats.counts[XfrmStat.IN_STATE_PROTOCOL_ERRORS] == 2
    assert pair.b.stats.counts[XfrmStat.IN_STATE_SEQUENCE_ERRORS] == 1
    assert nat_events(pair) == []
    assert ports_of(pair) == {Direction.IN: (4500, 4500), Direction.OUT: (4500, 4500)}
    assert b_sends_to(pair) == (4500, 4500)


def test_a_delayed_packet_from_the_old_mapping_does_not_move_back() -> None:
    pair = make_pair("aes-128-gcm", None, udp=True)
    late = esp_from_a(pair)  # sent before the rebinding, arrives after
    assert receive(pair, esp_from_a(pair), NEW, fast=False) is Verdict.DELIVER
    assert receive(pair, late, 4500, fast=False) is Verdict.DELIVER  # in the window, new
    assert [e.new_ports for e in nat_events(pair)] == [(NEW, 4500)]
    assert b_sends_to(pair) == (4500, NEW)


def test_without_anti_replay_nothing_moves() -> None:
    """A recorded packet could be sent again from any port: with the replay window off,
    the port is never taken from ESP (IKE still follows authenticated IKE messages)."""
    pair = make_pair("aes-128-gcm", None, udp=True, replay=0)
    assert receive(pair, esp_from_a(pair), NEW, fast=False) is Verdict.DELIVER
    assert nat_events(pair) == []
    assert b_sends_to(pair) == (4500, 4500)


def test_only_the_peers_sas_on_that_port_move() -> None:
    from dataclasses import replace

    pair = make_pair("aes-128-gcm", None, udp=True)
    other = replace(pair.params["ESP-ba"], spi=0x555, dst=S["host_a"])  # another peer
    pair.b.sad.add(other, 0.0)
    assert receive(pair, esp_from_a(pair), NEW, fast=False) is Verdict.DELIVER
    (event,) = nat_events(pair)
    assert event.moved == 2
    assert next(sa for sa in pair.b.sad if sa.spi == 0x555).params.udp_encap == (4500, 4500)


def test_a_peer_flipping_ports_moves_things_at_most_once_a_second() -> None:
    """Each move visits every SA: an authenticated peer that changes its port on every packet
    must not make each packet cost that."""
    pair = make_pair("aes-128-gcm", None, udp=True)
    for i in range(5):
        got = pair.b.inbound(esp_from_a(pair), 1.0 + i / 10, udp_encap=(NEW + i, 4500))
        assert got.verdict is Verdict.DELIVER
    assert [e.new_ports[0] for e in nat_events(pair)] == [NEW]
    assert pair.b.inbound(esp_from_a(pair), 2.5, udp_encap=(NEW + 9, 4500)).verdict is (
        Verdict.DELIVER
    )
    assert [e.new_ports[0] for e in nat_events(pair)] == [NEW + 9]
    assert b_sends_to(pair) == (4500, NEW + 9)


@pytest.mark.parametrize("fast", [False, True])
def test_a_packet_from_another_address_moves_nothing(fast: bool) -> None:
    """Tunnel mode accepts ESP whatever its outer source (the inner packet is what is
    checked), but only the SA's own peer address can move the SAs' port."""
    pair = make_pair("aes-128-gcm", None, udp=True)
    packet = esp_from_a(pair)
    elsewhere = packet[:12] + bytes([203, 0, 113, 77]) + packet[16:]
    assert receive(pair, rewrite_header(elsewhere, 4, 9, 50, len(elsewhere)), NEW, fast=fast) is (
        Verdict.DELIVER
    )
    assert nat_events(pair) == []
    assert b_sends_to(pair) == (4500, 4500)
