"""PeerIndex (core/ikev1/peers.py) answers as responder_peer and best_peer (the initiator's
choice) do, without walking every peer."""

from __future__ import annotations

import ipaddress
import random

from pyipsec.core.ikev1.ike_sa import ExchangeKind
from pyipsec.core.ikev1.peers import PeerIndex, responder_peer
from pyipsec.core.profiles import ExchangeMode, PeerProfile, best_peer

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
        out.append(PeerProfile(id=i, address=net, exchange_mode=rand.choice(MODES), secret=b"x"))
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
