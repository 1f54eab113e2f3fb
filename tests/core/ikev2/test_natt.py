"""RFC 7296 §2.23 NAT-T decisions on an IKE SA record: floating to 4500, keepalives, and when
an authenticated message moves the IKE SA's endpoints."""

from __future__ import annotations

import ipaddress

import pytest

from pyipsec.core.ikev2.ike_sa import IkeSa, IkeState
from pyipsec.core.ikev2.natt import (
    KEEPALIVE_INTERVAL,
    first_keepalive,
    float_endpoints,
    follow,
    keepalive_due,
)
from pyipsec.core.profiles import PeerProfile

HERE = ipaddress.ip_address("203.0.113.2")
PEER = ipaddress.ip_address("198.51.100.200")


def ike_sa(**kw: object) -> IkeSa:
    args: dict[str, object] = {
        "spi_i": b"\x01" * 8,
        "initiator": False,
        "peer": PeerProfile(id=1, address=ipaddress.ip_network("198.51.100.0/24")),
        "local": (HERE, 4500),
        "remote": (PEER, 20011),
        "created": 0.0,
        "state": IkeState.ESTABLISHED,
        "floated": True,
    }
    args.update(kw)
    return IkeSa(**args)  # type: ignore[arg-type]


def test_float_moves_port_500_only() -> None:
    assert float_endpoints((HERE, 500), (PEER, 500)) == ((HERE, 4500), (PEER, 4500))
    # A NAT-chosen or configured port stays what it is.
    assert float_endpoints((HERE, 4500), (PEER, 20011)) == ((HERE, 4500), (PEER, 20011))
    assert float_endpoints((HERE, 500), (PEER, 1500)) == ((HERE, 4500), (PEER, 1500))


def test_keepalives_only_behind_a_nat() -> None:
    outside = ike_sa(nat_remote=True)
    outside.keepalive_next = first_keepalive(outside, 100.0)
    assert outside.keepalive_next is None and not keepalive_due(outside, 1e9)
    inside = ike_sa(nat_local=True)
    inside.keepalive_next = first_keepalive(inside, 100.0)
    assert inside.keepalive_next == 100.0 + KEEPALIVE_INTERVAL
    assert not keepalive_due(inside, 119.9)
    assert keepalive_due(inside, 120.0)
    assert inside.keepalive_next == 140.0
    assert not keepalive_due(inside, 120.5)
    inside.dead = True
    assert not keepalive_due(inside, 1e9)


def test_first_message_on_4500_is_followed_whoever_is_behind_the_nat() -> None:
    for nat in ({"nat_local": True}, {"nat_remote": True}, {}):
        sa = ike_sa(local=(HERE, 500), remote=(PEER, 500), floated=False, **nat)
        assert follow(sa, (PEER, 4500), (HERE, 4500)) == ((HERE, 4500), (PEER, 4500))
        assert sa.floated


def test_rebinding_followed_only_with_a_nat_in_front_of_the_peer_alone() -> None:
    moved = (PEER, 31337)
    assert follow(ike_sa(nat_remote=True), moved, (HERE, 4500)) == ((HERE, 4500), moved)


@pytest.mark.parametrize(
    ("nat", "src", "dst"),
    [
        ({}, (PEER, 31337), (HERE, 4500)),  # no NAT in front of the peer
        ({"nat_remote": True, "nat_local": True}, (PEER, 31337), (HERE, 4500)),  # we are too
        ({"nat_local": True}, (PEER, 31337), (HERE, 4500)),
        ({"nat_remote": True}, (PEER, 20011), (HERE, 4500)),  # not moved at all
        ({"nat_remote": True}, (ipaddress.ip_address("198.51.100.201"), 20011), (HERE, 4500)),
        ({"nat_remote": True}, (PEER, 31337), (HERE, 500)),  # not to port 4500
    ],
    ids=["no-nat", "both-behind-nat", "we-are-behind-nat", "same", "other-address", "port-500"],
)
def test_no_move(nat: dict[str, bool], src: tuple, dst: tuple) -> None:  # type: ignore[type-arg]
    sa = ike_sa(**nat)
    before = (sa.local, sa.remote)
    assert follow(sa, src, dst) is None
    assert (sa.local, sa.remote) == before
