"""RFC 7296 §2.23 NAT-T decisions: floating to 4500, ESP-in-UDP ports, keepalives, and when
an authenticated message may move the peer's endpoint."""

from __future__ import annotations

import ipaddress

import pytest

from pyipsec.core.ikev2.natt import (
    KEEPALIVE_INTERVAL,
    NatState,
    float_endpoints,
    peer_update,
    udp_encap,
)

HERE = ipaddress.ip_address("203.0.113.2")
PEER = ipaddress.ip_address("198.51.100.200")
PEER6 = ipaddress.ip_address("2001:db8::200")


def test_float_moves_port_500_only() -> None:
    assert float_endpoints((HERE, 500), (PEER, 500)) == ((HERE, 4500), (PEER, 4500))
    # A NAT-chosen or configured port stays what it is.
    assert float_endpoints((HERE, 4500), (PEER, 20011)) == ((HERE, 4500), (PEER, 20011))
    assert float_endpoints((HERE, 500), (PEER, 1500)) == ((HERE, 4500), (PEER, 1500))


def test_udp_encap_only_with_a_nat() -> None:
    assert udp_encap(NatState(supported=True), (HERE, 500), (PEER, 500)) is None
    nat = NatState(supported=True, remote_behind_nat=True)
    assert udp_encap(nat, (HERE, 4500), (PEER, 20011)) == (4500, 20011)
    assert NatState(local_behind_nat=True).detected


def test_keepalives_only_behind_a_nat() -> None:
    outside = NatState(supported=True, remote_behind_nat=True)
    outside.schedule_keepalive(100.0)
    assert outside.keepalive_next is None and not outside.keepalive_due(1e9)
    inside = NatState(supported=True, local_behind_nat=True)
    inside.schedule_keepalive(100.0)
    assert inside.keepalive_next == 100.0 + KEEPALIVE_INTERVAL
    assert not inside.keepalive_due(119.9)
    assert inside.keepalive_due(120.0)
    assert inside.keepalive_next == 140.0
    assert not inside.keepalive_due(120.5)


NATTED = NatState(supported=True, remote_behind_nat=True, floated=True)
OLD = (PEER, 20011)
MOVED = (PEER, 31337)


def test_authenticated_new_message_moves_the_peer() -> None:
    assert peer_update(NATTED, OLD, MOVED, authenticated=True, new=True) == MOVED
    other_address = (ipaddress.ip_address("198.51.100.201"), 20011)
    assert peer_update(NATTED, OLD, other_address, authenticated=True, new=True) == other_address


@pytest.mark.parametrize(
    ("nat", "authenticated", "new", "src"),
    [
        (NATTED, False, True, MOVED),  # in the clear / failed the integrity check
        (NATTED, True, False, MOVED),  # a retransmission or replay: could revert a move
        (NatState(supported=True), True, True, MOVED),  # no NAT in front of the peer
        (
            NatState(supported=True, remote_behind_nat=True, local_behind_nat=True),
            True,
            True,
            MOVED,
        ),
        (NATTED, True, True, OLD),  # not moved at all
        (NATTED, True, True, (PEER6, 4500)),  # another address family
    ],
    ids=["unauthenticated", "old", "no-nat", "behind-nat-ourselves", "same", "family"],
)
def test_no_move(nat: NatState, authenticated: bool, new: bool, src: tuple) -> None:  # type: ignore[type-arg]
    assert peer_update(nat, OLD, src, authenticated=authenticated, new=new) is None
