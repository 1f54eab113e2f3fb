"""After a restart the peer's traffic comes first: the restarted engine answers its ESP for
unknown SPIs with a phase 1 (INITIAL-CONTACT, INVALID-SPI) and, once that is up, negotiates the
missing SAs of its configured policies toward that peer itself (``invalid_spi.bring_up``), since
a peer such as strongSwan with kernel-libipsec re-negotiates neither on INVALID-SPI nor on its
trap policy. Traffic is modelled by the SA databases, as in test_renewal.py.
"""

from __future__ import annotations

import ipaddress

from pyipsec.core.events import IkeSaEstablished
from pyipsec.dataplane.policy import Direction, Level, Policy
from pyipsec.dataplane.sad import SaProtocol

from .harness import (
    A_ADDR,
    B_ADDR,
    Net,
    Side,
    assert_pairs_match,
    configure,
    make_side,
    peer,
    site_to_site,
    tunnel_policy,
)

C_ADDR = ipaddress.ip_address("203.0.113.30")


def net4(text: str) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(text)


def newest_out(side: Side) -> tuple[int, SaProtocol, object] | None:
    outs = [k for k, s in side.backend.sas.items() if s.direction is Direction.OUT]
    return outs[-1] if outs else None


def flows(x: Side, y: Side) -> bool:
    key = newest_out(x)
    return key is not None and key in y.backend.sas


def restart_a(net: Net, **config: object) -> Side:
    """A loses all its state: a new engine with the same configuration (or ``config``)."""
    fresh = make_side(b"A-restarted", net.a.address)
    configure(
        fresh,
        peers=config.get("peers", list(net.a.engine.peers)),  # type: ignore[arg-type]
        policies=config.get("policies", list(net.a.engine.policies)),  # type: ignore[arg-type]
    )
    net.a = fresh
    return fresh


def b_keeps_sending(net: Net, seconds: int) -> None:
    """B sends on its newest outbound SA every second; A's data plane reports the SPIs it has
    no SA for. A itself sends nothing (no acquire)."""
    for _ in range(seconds):
        key = newest_out(net.b)
        if key is not None and key not in net.a.backend.sas:
            net.a.engine.unknown_spi(key[0], SaProtocol.ESP, B_ADDR, A_ADDR, net.now)
        net.run(1)


def test_peer_traffic_first_after_a_restart_brings_the_tunnel_back() -> None:
    net, pa, _ = site_to_site()
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert flows(net.a, net.b) and flows(net.b, net.a)
    stale_b = set(net.b.backend.sas)
    fresh = restart_a(net)
    b_keeps_sending(net, 10)
    assert [e.side for e in fresh.of(IkeSaEstablished)] == ["initiator"]
    assert fresh.engine.stats()["restart-bring-up"] == 1
    # A has SAs for its policy without a packet of its own; B's stale SAs were replaced.
    assert assert_pairs_match(net.a, net.b) == 1 and assert_pairs_match(net.b, net.a) == 1
    assert not stale_b & set(net.b.backend.sas)
    assert flows(net.a, net.b) and flows(net.b, net.a)


def more_policies(pa: Policy, pb: Policy) -> tuple[list[Policy], list[Policy]]:
    """A's and B's policies for the bring-up tests (IKEv2's too): besides ``pa``/``pb``, a
    unique pair and a level=use pair between A and B, and one of A's toward C."""
    pa2 = tunnel_policy(
        net4("10.1.1.0/24"), net4("10.2.1.0/24"), A_ADDR, B_ADDR, id=2, level=Level.UNIQUE
    )
    pa_use = tunnel_policy(
        net4("10.1.2.0/24"), net4("10.2.2.0/24"), A_ADDR, B_ADDR, id=3, level=Level.USE
    )
    pa_c = tunnel_policy(net4("10.1.3.0/24"), net4("10.3.0.0/24"), A_ADDR, C_ADDR, id=4)
    pb2 = tunnel_policy(
        net4("10.2.1.0/24"), net4("10.1.1.0/24"), B_ADDR, A_ADDR, id=2, level=Level.UNIQUE
    )
    pb_use = tunnel_policy(net4("10.2.2.0/24"), net4("10.1.2.0/24"), B_ADDR, A_ADDR, id=3)
    return [pa, pa2, pa_use, pa_c], [pb, pb2, pb_use]


def test_bring_up_covers_the_peers_policies_only_and_once() -> None:
    """Two require policies and a level=use one toward B, one toward another peer C: quick
    modes for the two, nothing for the others; a second burst of reports changes nothing."""
    net, pa, pb = site_to_site()
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    a_policies, b_policies = more_policies(pa, pb)
    configure(net.b, peers=list(net.b.engine.peers), policies=b_policies, now=net.now)
    peers = [*net.a.engine.peers, peer(f"{C_ADDR}/32", id=2)]
    fresh = restart_a(net, peers=peers, policies=a_policies)
    b_keeps_sending(net, 10)
    assert fresh.engine.stats()["restart-bring-up"] == 2
    assert {c.policy.id for c in fresh.engine.children} == {1, 2}
    assert not any(d.dst[0] == C_ADDR for _, d in net.log)
    assert assert_pairs_match(net.a, net.b) == 2 and assert_pairs_match(net.b, net.a) == 2
    b_keeps_sending(net, 5)  # B's traffic now arrives: nothing more happens
    assert fresh.engine.stats()["restart-bring-up"] == 2
    assert len(fresh.of(IkeSaEstablished)) == 1


def test_an_acquired_phase1_brings_up_only_its_own_policy() -> None:
    """The bound: a phase 1 started for outbound traffic negotiates what was acquired, not
    every policy toward the peer (that is for the unknown-SPI phase 1 only)."""
    pa2 = tunnel_policy(net4("10.1.1.0/24"), net4("10.2.1.0/24"), A_ADDR, B_ADDR, id=2)
    net, pa, _ = site_to_site()
    configure(net.a, peers=list(net.a.engine.peers), policies=[pa, pa2])
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert {c.policy.id for c in net.a.engine.children} == {1}
    assert "restart-bring-up" not in net.a.engine.stats()


def test_a_passive_peer_is_not_initiated_to() -> None:
    net, pa, _ = site_to_site()
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    fresh = restart_a(net, peers=[peer(f"{B_ADDR}/32", passive=True)])
    b_keeps_sending(net, 5)
    assert not fresh.of(IkeSaEstablished) and not fresh.engine.children
    assert fresh.engine.stats()["unknown-spi-passive-peer"] >= 1
