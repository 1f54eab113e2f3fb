"""Acquires and soft expiry on the IKEv2 engine: a further child with the same peer goes
through the CREATE_CHILD_SA hook when one is installed, else through a new IKE SA; a stale
acquire (SAs already in) or a repeated one (negotiation under way) starts nothing."""

from __future__ import annotations

import ipaddress

from pyipsec.core.events import ChildSaInstalled, IkeSaEstablished
from pyipsec.dataplane.sad import ExpiryReason, SaProtocol, SaSoftExpired
from tests.core.ikev1.exchanges.harness import B_ADDR, configure, tunnel_policy

from .harness import ike2_pair

NET_C = ipaddress.ip_network("10.3.0.0/24")


def test_repeated_and_stale_acquires_start_nothing() -> None:
    net, pa, _ = ike2_pair()
    net.a.engine.acquire(pa, net.now)
    net.a.engine.acquire(pa, net.now)  # under way
    net.run(10)
    net.a.engine.acquire(pa, net.now)  # already installed
    net.run(10)
    assert len(net.a.of(IkeSaEstablished)) == 1 and len(net.a.of(ChildSaInstalled)) == 1


def second_policy(net, pa):  # type: ignore[no-untyped-def]
    pa2 = tunnel_policy(pa.src, NET_C, net.a.address, B_ADDR, id=2)
    pb2 = tunnel_policy(NET_C, pa.src, B_ADDR, net.a.address, id=2)
    configure(net.a, peers=list(net.a.engine.peers), policies=[pa, pa2])
    configure(net.b, peers=list(net.b.engine.peers), policies=[*net.b.engine.policies, pb2])
    return pa2


def test_second_policy_without_create_child_takes_a_new_ike_sa() -> None:
    net, pa, _ = ike2_pair()
    net.a.engine.create_child = None  # the fallback without the CREATE_CHILD_SA tasks
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    pa2 = second_policy(net, pa)
    net.a.engine.acquire(pa2, net.now)
    net.run(10)
    assert len(net.a.of(IkeSaEstablished)) == 2
    assert sorted(e.policy_id for e in net.a.of(ChildSaInstalled)) == [1, 2]
    assert len(net.b.engine.ike) == 2  # no INITIAL_CONTACT: the first IKE SA stays


def test_second_policy_uses_the_create_child_hook_on_an_established_sa() -> None:
    net, pa, _ = ike2_pair()
    calls = []
    net.a.engine.create_child = lambda sa, policy, now, rekey_of: calls.append(
        (sa.established, policy.id, rekey_of)
    )
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    pa2 = second_policy(net, pa)
    net.a.engine.acquire(pa2, net.now)
    assert calls == [(True, 2, None)]


def test_soft_expiry_without_rekey_hook_negotiates_a_replacement() -> None:
    net, pa, _ = ike2_pair()
    net.a.engine.create_child = net.a.engine.rekey_child = None  # the fallback path
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    (child,) = net.a.engine.children
    event = SaSoftExpired(
        spi=child.spi_out, protocol=SaProtocol.ESP, dst=child.remote, reason=ExpiryReason.TIME
    )
    net.a.engine.sa_expired(event, net.now)
    net.a.engine.sa_expired(event, net.now)  # the other SA of the pair, or a repeat: once
    net.run(10)
    installs = net.a.of(ChildSaInstalled)
    assert len(installs) == 2 and child.rekeyed
    assert len(net.a.sas()) == 4  # the old pair stays until its hard expiry


def test_soft_expiry_uses_the_rekey_hook() -> None:
    net, pa, _ = ike2_pair()
    calls = []
    net.a.engine.rekey_child = lambda child, now: calls.append(child.policy.id)
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    (child,) = net.a.engine.children
    net.a.engine.sa_expired(
        SaSoftExpired(
            spi=child.spi_in, protocol=SaProtocol.ESP, dst=child.local, reason=ExpiryReason.TIME
        ),
        net.now,
    )
    assert calls == [1]


def test_a_passive_peer_initiates_nothing_but_answers() -> None:
    from pyipsec.core.events import NegotiationFailed

    net, pa, pb = ike2_pair(peer_b={"passive": True})
    net.b.engine.acquire(pb, net.now)
    net.run(10)
    assert not net.log and "no peer" in net.b.of(NegotiationFailed)[0].reason
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert len(net.b.of(IkeSaEstablished)) == 1 and len(net.b.sas()) == 2
