"""Traffic of a narrowed policy outside its first child asks for a further child (RFC 7296
§2.9; ``core/ikev2/narrowed_traffic.py``), two engines in memory.

A's policy is wide (10.1.0.0/16 <-> 10.2.0.0/16); B has two narrower ones (10.2.0.0/24 <->
10.1.0.0/24 and 10.2.9.0/24 <-> 10.1.9.0/24). A's first child is narrowed to the first; a
packet for 10.2.9.7 then finds no SA, and the acquire that names it brings a CREATE_CHILD_SA
with the packet first in TSi/TSr, which B narrows to its second policy. A packet B has no
policy for gets a child narrowed to the first policy again: A deletes it, says so, and holds
further requests for a while.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from pyipsec.core.events import NegotiationFailed
from pyipsec.core.ikev2 import narrowed_traffic
from pyipsec.dataplane.policy import Direction, Policy, Selector
from pyipsec.dataplane.sad import Sad, SaProtocol, SaSelector
from tests.core.ikev1.exchanges.harness import Net, Side, assert_pairs_match

from .harness import ike2_pair, live_children, soft_expire

WIDE_A = ipaddress.IPv4Network("10.1.0.0/16")
WIDE_B = ipaddress.IPv4Network("10.2.0.0/16")
net_ = ipaddress.ip_network
ip = ipaddress.ip_address


def packet(src: str, dst: str) -> Selector:
    return Selector(src=ip(src), dst=ip(dst), protocol=6, src_port=40000, dst_port=443)


def outbound_spi(side: Side, policy: Policy, pkt: Selector) -> int | None:
    """The SPI ``side``'s SAD sends ``pkt`` (of ``policy``) with, None when no SA carries it."""
    sad = Sad()
    for params in side.sas():
        sad.add(params, 0.0)
    found = sad.find_outbound(policy, SaProtocol.ESP, None, side_peer(side), pkt)
    return None if found is None else found.params.spi


def side_peer(side: Side) -> object:
    (params,) = {p.dst for p in side.sas() if p.direction is Direction.OUT}
    return params


def setup() -> tuple[Net, Policy]:
    """A wide, B with two /24 policy pairs; A's first child is up (narrowed to the first)."""
    net, pa, pb = ike2_pair(policy_a={"src": WIDE_A, "dst": WIDE_B})
    second_b = replace(pb, id=pb.id + 1, src=net_("10.2.9.0/24"), dst=net_("10.1.9.0/24"))
    eng = net.b.engine
    eng.configure(
        peers=list(eng.peers),
        proposals=list(eng.proposals.values()),
        policies=[*eng.policies, second_b],
        templates=list(eng.templates),
        now=net.now,
    )
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert assert_pairs_match(net.a, net.b) == 1
    return net, pa


def test_a_packet_outside_the_narrowed_child_gets_a_child_of_its_own() -> None:
    net, pa = setup()
    inside, outside = packet("10.1.0.5", "10.2.0.7"), packet("10.1.9.5", "10.2.9.7")
    first = outbound_spi(net.a, pa, inside)
    assert first is not None and outbound_spi(net.a, pa, outside) is None
    # an acquire for traffic the first child carries asks for nothing
    net.a.engine.acquire(pa, net.now, inside)
    net.run(5)
    assert len(live_children(net.a)) == 1
    # the data plane's acquire for the packet outside it
    net.a.engine.acquire(pa, net.now, outside)
    net.run(10)
    assert assert_pairs_match(net.a, net.b) == 2 and assert_pairs_match(net.b, net.a) == 2
    second = outbound_spi(net.a, pa, outside)
    assert second is not None and second != first
    assert outbound_spi(net.a, pa, inside) == first  # the first child still carries its own
    agreed = {
        SaSelector(src=p.selector.src, dst=p.selector.dst)
        for p in net.a.sas()
        if p.direction is Direction.OUT and p.selector is not None
    }
    assert agreed == {
        SaSelector(src=net_("10.1.0.0/24"), dst=net_("10.2.0.0/24")),
        SaSelector(src=net_("10.1.9.0/24"), dst=net_("10.2.9.0/24")),
    }
    # both children stay rekeyable: neither superseded the other, on either side
    for side in (net.a, net.b):
        assert [c.rekeyed for c in live_children(side)] == [False, False]
    assert not net.a.of(NegotiationFailed) and not net.b.of(NegotiationFailed)


def test_the_further_child_is_rekeyed_with_the_traffic_it_carries() -> None:
    """A rekey offers the selectors the child agreed (§2.9.2), not the wide policy: B keeps
    the rekeyed child on its second policy, and the first child is untouched."""
    net, pa = setup()
    outside = packet("10.1.9.5", "10.2.9.7")
    net.a.engine.acquire(pa, net.now, outside)
    net.run(10)
    first, further = live_children(net.a)
    soft_expire(net.a, further, net.now)
    net.run(10)
    live = live_children(net.a)
    assert first in live and further not in live and len(live) == 2
    (rekeyed,) = [c for c in live if c is not first]
    assert rekeyed.agreed == further.agreed
    assert outbound_spi(net.a, pa, outside) == rekeyed.spi_out
    assert assert_pairs_match(net.a, net.b) == 2


def test_a_packet_the_peer_will_not_carry_is_not_asked_for_again_at_once() -> None:
    """B has no policy for 10.2.50.0: it narrows the request to its first policy, the traffic
    the first child carries. A deletes that duplicate (B too, by A's Delete), reports it, and
    the acquires of the next RETRY_AFTER seconds ask for nothing."""
    net, pa = setup()
    stray = packet("10.1.50.5", "10.2.50.7")
    net.a.engine.acquire(pa, net.now, stray)
    net.run(10)
    (fail,) = net.a.of(NegotiationFailed)
    assert "does not carry it; the child is deleted" in fail.reason, fail.reason
    assert "10.1.50.5 -> 10.2.50.7" in fail.reason and "10.1.0.0/24" in fail.reason
    assert assert_pairs_match(net.a, net.b) == 1 and assert_pairs_match(net.b, net.a) == 1
    (first,) = live_children(net.a)
    assert not first.rekeyed  # the duplicate did not supersede it
    sent = len(net.log)
    net.advance(1)
    net.a.engine.acquire(pa, net.now, stray)
    net.run(5)
    assert len(net.log) == sent and net.a.engine.stats()["narrowed-acquire-held"] == 1
    net.advance(narrowed_traffic.RETRY_AFTER)
    net.a.engine.acquire(pa, net.now, stray)
    net.run(10)
    assert len(net.a.of(NegotiationFailed)) == 2  # asked again, refused again
    assert len(live_children(net.a)) == 1
