"""PeerIndex (core/ikev1/peers.py) answers as responder_peer and best_peer (the initiator's
choice) do, without walking every peer."""

from __future__ import annotations

import ipaddress
import random

from pyipsec.core.ikev1.ike_sa import ExchangeKind
from pyipsec.core.ikev1.peers import PeerIndex, initiator_endpoints, responder_peer
from pyipsec.core.profiles import ExchangeMode, PeerProfile, best_peer
from pyipsec.dataplane.policy import IPAddress, Policy

MODES = list(ExchangeMode)
KINDS = list(ExchangeKind)


def random_peers(rand: random.Random, n: int) -> tuple[PeerProfile, ...]:
    out = []
    for i in range(n):
        if rand.random() < 0.2:
            net = ipaddress.ip_network(
                f"2001:db8:{rand.randrange(4)}::/{rand.choice([48, 64, 128])}", strict=False
            )
        else:
            plen = rand.choice([0, 8, 16, 24, 25, 30, 32, 32, 32])
            net = ipaddress.ip_network(
                f"203.0.{rand.randrange(4)}.{rand.randrange(256)}/{plen}", strict=False
            )
        out.append(
            PeerProfile(
                id=i,
                address=net,
                exchange_mode=rand.choice(MODES),
                secret=b"x",
                passive=rand.random() < 0.2,
                local_address=rand.choice([None, ipaddress.ip_address("198.51.100.7")]),
            )
        )
    return tuple(out)


def test_index_agrees_with_the_linear_rule() -> None:
    rand = random.Random(9)
    for _ in range(200):
        peers = random_peers(rand, rand.randrange(0, 30))
        index = PeerIndex(peers)
        for _ in range(30):
            if rand.random() < 0.5 and peers:
                address = rand.choice(peers).address.network_address
            elif rand.random() < 0.2:
                address = ipaddress.ip_address(f"2001:db8:{rand.randrange(4)}::{rand.randrange(9)}")
            else:
                address = ipaddress.ip_address(f"203.0.{rand.randrange(4)}.{rand.randrange(256)}")
            for kind in KINDS:
                assert index.responder_peer(kind, address) is responder_peer(peers, kind, address)
            assert index.best_peer(address) is best_peer(peers, address)


def random_address(rand: random.Random, peers: tuple[PeerProfile, ...]) -> IPAddress:
    if rand.random() < 0.5 and peers:
        net = rand.choice(peers).address
        return net[rand.randrange(min(net.num_addresses, 1 << 16))]
    if rand.random() < 0.2:
        return ipaddress.ip_address(f"2001:db8:{rand.randrange(4)}::{rand.randrange(9)}")
    return ipaddress.ip_address(f"203.0.{rand.randrange(4)}.{rand.randrange(256)}")


def test_the_initiator_lookup_agrees_with_the_linear_rule() -> None:
    """``initiator_endpoints`` through the index (what ``acquire`` uses) gives exactly the
    linear answer: the most specific entry of any exchange mode, the first listed among equal
    ones, refused when it is passive; the same local address and reason otherwise."""
    rand = random.Random(2409)
    locals_ = (ipaddress.ip_address("198.51.100.1"), ipaddress.ip_address("2001:db8::1"))
    for _ in range(150):
        peers = random_peers(rand, rand.choice([0, 1, 5, 30, 300]))
        index = PeerIndex(peers)
        for k in range(40):
            remote = random_address(rand, peers)
            assert index.best_peer(remote) is best_peer(peers, remote)
            host = ipaddress.ip_network(remote)
            policy = Policy(
                id=k,
                src=host if rand.random() < 0.3 else ipaddress.ip_network("0.0.0.0/0"),
                dst=host if rand.random() < 0.5 else ipaddress.ip_network("203.0.113.0/24"),
                tunnel=rand.random() < 0.5,
                sa_dst=remote if rand.random() < 0.7 else None,
            )
            local = locals_ if rand.random() < 0.8 else ()
            linear = initiator_endpoints(peers, local, policy)
            indexed = initiator_endpoints(peers, local, policy, index)
            assert indexed == linear
            if isinstance(linear, tuple) and isinstance(indexed, tuple):
                assert indexed[0] is linear[0]  # the same entry, not an equal one


def test_equally_specific_entries_the_first_listed_wins() -> None:
    net = ipaddress.ip_network("203.0.113.0/24")
    peers = tuple(
        PeerProfile(id=i, address=net, exchange_mode=mode, secret=b"x")
        for i, mode in enumerate([ExchangeMode.AGGRESSIVE, ExchangeMode.MAIN, ExchangeMode.MAIN])
    )
    index = PeerIndex(peers)
    address = ipaddress.ip_address("203.0.113.9")
    assert index.best_peer(address) is peers[0]
    assert index.responder_peer(ExchangeKind.MAIN, address) is peers[1]
