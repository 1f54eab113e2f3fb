"""The SAs of a child carry the traffic selectors agreed, not the policy's (RFC 4301 §4.4.2,
§5.1, §5.2; RFC 7296 §2.9): when the responder narrows a wide offer, or accepts an offer
narrower than its policy, each side's SAD holds the narrowed selectors; the SAs the engine
installed, put into a real SAD, carry outbound and admit inbound only that traffic."""

from __future__ import annotations

import ipaddress

from pyipsec.dataplane.policy import Direction, IPAddress, Policy, Selector
from pyipsec.dataplane.sad import Sad, SaParams, SaProtocol, SaSelector
from tests.core.ikev1.exchanges.harness import NET_A, NET_B, Side, assert_pairs_match

from .harness import ike2_pair

WIDE_A = ipaddress.IPv4Network("10.1.0.0/16")
WIDE_B = ipaddress.IPv4Network("10.2.0.0/16")
ip = ipaddress.ip_address


def packet(src: str, dst: str) -> Selector:
    return Selector(src=ip(src), dst=ip(dst), protocol=17, src_port=1000, dst_port=2000)


def sad_of(side: Side) -> Sad:
    sad = Sad()
    for params in side.sas():
        sad.add(params, 0.0)
    return sad


def one(side: Side, direction: Direction) -> SaParams:
    (params,) = [p for p in side.sas() if p.direction is direction]
    return params


def carries(side: Side, policy: Policy, pkt: Selector, peer: IPAddress) -> bool:
    """Whether ``side``'s SAD would send ``pkt`` (matching ``policy``) on the child's SA."""
    return sad_of(side).find_outbound(policy, SaProtocol.ESP, None, peer, pkt) is not None


def admits(side: Side, pkt: Selector) -> bool:
    """Whether ``side``'s inbound SA accepts ``pkt`` decapsulated (RFC 4301 §5.2 step 4)."""
    params = one(side, Direction.IN)
    sa = Sad().add(params, 0.0)
    return sa.admits(pkt.src, pkt.dst, pkt.protocol, pkt.src_port, pkt.dst_port)


def test_initiator_with_a_wide_policy_binds_its_sas_to_what_the_responder_narrowed_to() -> None:
    net, pa, _ = ike2_pair(policy_a={"src": WIDE_A, "dst": WIDE_B})
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert assert_pairs_match(net.a, net.b) == 1 and assert_pairs_match(net.b, net.a) == 1
    out, inb = one(net.a, Direction.OUT), one(net.a, Direction.IN)
    assert out.selector == SaSelector(src=NET_A, dst=NET_B)
    assert out.selectors == (SaSelector(src=NET_A, dst=NET_B),)
    assert inb.selector == SaSelector(src=NET_B, dst=NET_A)
    # B's policy is exactly the agreement: installed as IKEv1 would, without extra selectors
    assert one(net.b, Direction.OUT).selector == SaSelector(src=NET_B, dst=NET_A)
    assert one(net.b, Direction.OUT).selectors == ()
    b_addr = net.b.address
    # A sends only what B agreed to on the SA; the rest of the wide policy finds no SA
    assert carries(net.a, pa, packet("10.1.0.5", "10.2.0.7"), b_addr)
    assert not carries(net.a, pa, packet("10.1.9.5", "10.2.0.7"), b_addr)
    assert not carries(net.a, pa, packet("10.1.0.5", "10.2.9.7"), b_addr)
    # and accepts from B only that traffic
    assert admits(net.a, packet("10.2.0.7", "10.1.0.5"))
    assert not admits(net.a, packet("10.2.9.7", "10.1.0.5"))


def test_responder_binds_an_offer_narrower_than_its_policy_to_the_offer() -> None:
    net, pa, pb = ike2_pair(policy_b={"src": WIDE_B, "dst": WIDE_A})
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert assert_pairs_match(net.a, net.b) == 1 and assert_pairs_match(net.b, net.a) == 1
    out = one(net.b, Direction.OUT)
    assert (out.selector, out.selectors) == (
        SaSelector(src=NET_B, dst=NET_A),
        (SaSelector(src=NET_B, dst=NET_A),),
    )
    a_addr = net.a.address
    assert carries(net.b, pb, packet("10.2.0.7", "10.1.0.5"), a_addr)
    assert not carries(net.b, pb, packet("10.2.0.7", "10.1.9.5"), a_addr)
    assert admits(net.b, packet("10.1.0.5", "10.2.0.7"))
    assert not admits(net.b, packet("10.1.9.5", "10.2.0.7"))
    assert not admits(net.b, packet("10.1.0.5", "10.2.9.7"))


def test_equal_policies_install_the_policy_selector_only() -> None:
    """The common case is what IKEv1 installs: the policy's selector, nothing per packet."""
    net, _, pb = ike2_pair()
    net.b.engine.acquire(pb, net.now)
    net.run(10)
    for side in (net.a, net.b):
        for params in side.sas():
            assert params.selectors == ()
            assert params.selector is not None
