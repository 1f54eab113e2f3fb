"""Inbound SAs are bound to the traffic they were negotiated for (RFC 4301 §5.2 step 4).

The attacker in these tests is a legitimate peer: it holds the keys of its own SA and uses
them to send packets the SA was not negotiated for (a spoofed source in transport mode, a
source outside the SA's networks in tunnel mode). Such packets authenticate, so only the
selector check stops them; they are counted in in-state-mismatches, as Linux does.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from pyipsec.dataplane.policy import Direction, Policy
from pyipsec.dataplane.processor import Verdict
from pyipsec.dataplane.sad import SaParams, SaSelector, SecurityAssociation
from pyipsec.dataplane.spd import Spd
from pyipsec.dataplane.stats import XfrmStat
from pyipsec.dataplane.transforms import esp_protect
from pyipsec.wire.ip import IpProtocol, build_ip

from .engine_helpers import SITES, Pair, make_pair, tcp_packet, udp_packet

ip = ipaddress.ip_address
net = ipaddress.ip_network
S = SITES[4]
OTHER_NET = net("203.0.113.64/26")  # a second network behind A, with its own policy at B


def only(pair: Pair, stat: XfrmStat, n: int = 1) -> None:
    expected = [0] * 25
    expected[stat] = n
    assert pair.b.stats.counts == expected, pair.b.stats.as_dict()


def inbound_sa(pair: Pair, spi: int = 0x101) -> SecurityAssociation:
    return next(sa for sa in pair.b.sad if sa.spi == spi and sa.params.direction is Direction.IN)


def outbound_sa(pair: Pair, spi: int = 0x101) -> SecurityAssociation:
    return next(sa for sa in pair.a.sad if sa.spi == spi and sa.params.direction is Direction.OUT)


def mirror(policy_a: Policy) -> Policy:
    """B's policy for the traffic of A's ``policy_a``."""
    return replace(
        policy_a, src=policy_a.dst, dst=policy_a.src,
        src_port=policy_a.dst_port, dst_port=policy_a.src_port,
    )  # fmt: skip


def rebind(pair: Pair, policy_a: Policy) -> None:
    """Install both SAs of A -> B again, bound as IKE binds them: A's outbound SA to A's
    policy, B's inbound SA to B's (mirrored) policy."""
    for proc, direction, policy in (
        (pair.a, Direction.OUT, policy_a),
        (pair.b, Direction.IN, mirror(policy_a)),
    ):
        sa = next(s for s in proc.sad if s.spi == 0x101 and s.params.direction is direction)
        proc.sad.remove(sa)
        proc.sad.add(replace(sa.params, selector=SaSelector.of_policy(policy, direction)), 0.0)


def iv(sa: SecurityAssociation) -> bytes:
    enc = sa.params.encryption
    assert enc is not None
    return bytes(enc.iv_size)


def forged_esp(sa: SecurityAssociation, seq: int, src: ipaddress.IPv4Address, inner: bytes,
               nh: int, dst: ipaddress.IPv4Address | None = None) -> bytes:  # fmt: skip
    """What the holder of ``sa``'s keys can send: a valid ESP packet with any outer header."""
    esp = esp_protect(sa, inner, nh, seq, iv(sa))
    return build_ip(src, dst or sa.params.dst, IpProtocol.ESP, esp)


# -- transport mode ---------------------------------------------------------------------------


def test_transport_sa_drops_a_spoofed_source_and_counts_it() -> None:
    """A holds a transport SA A->B (an L2TP road warrior); it sends, with that SA's keys, a
    packet whose source is C. Before the binding it was delivered as coming from C."""
    pair = make_pair("aes-128-cbc", "sha1", tunnel=False)
    sa = outbound_sa(pair)
    victim = ip("203.0.113.99")  # C: someone B trusts
    segment = udp_packet(victim, S["gw_b"], 53, 53, b"spoofed")[20:]
    got = pair.b.inbound(forged_esp(sa, 1, victim, segment, IpProtocol.UDP), 1.0)
    assert got.verdict is Verdict.DROPPED, got
    assert got.reason == "packet outside the SA's selectors"
    only(pair, XfrmStat.IN_STATE_MISMATCHES)
    # the same SA from its real source is fine
    real = udp_packet(S["gw_a"], S["gw_b"], 53, 53, b"real")[20:]
    got = pair.b.inbound(forged_esp(sa, 2, S["gw_a"], real, IpProtocol.UDP), 1.0)
    assert got.verdict is Verdict.DELIVER, got.reason
    only(pair, XfrmStat.IN_STATE_MISMATCHES)


def test_transport_sa_negotiated_for_l2tp_carries_only_l2tp() -> None:
    pair = make_pair("aes-128-gcm", None, tunnel=False)
    l2tp = replace(pair.policy_a, protocol=IpProtocol.UDP, src_port=1701, dst_port=1701)
    rebind(pair, l2tp)
    pair.b.spd = Spd([replace(pair.policy_b, protocol=17, src_port=1701, dst_port=1701)])
    sa = outbound_sa(pair)
    ok = udp_packet(S["gw_a"], S["gw_b"], 1701, 1701, b"l2tp")[20:]
    assert pair.b.inbound(forged_esp(sa, 1, S["gw_a"], ok, 17), 1.0).verdict is Verdict.DELIVER
    ssh = tcp_packet(S["gw_a"], S["gw_b"], 40000, 22, b"ssh")[20:]
    got = pair.b.inbound(forged_esp(sa, 2, S["gw_a"], ssh, IpProtocol.TCP), 1.0)
    assert got.verdict is Verdict.DROPPED
    only(pair, XfrmStat.IN_STATE_MISMATCHES)


def test_transport_through_the_processor_still_works() -> None:
    pair = make_pair("aes-128-cbc", "sha256", tunnel=False, ah=True)
    for i in range(3):
        out = pair.a.outbound(udp_packet(S["gw_a"], S["gw_b"], 1000 + i, 2000, b"x"), 1.0)
        assert pair.b.inbound(out.packet, 1.0).verdict is Verdict.DELIVER
    assert pair.b.stats.total() == 0


# -- tunnel mode ------------------------------------------------------------------------------


def tunnel_pair_with_two_networks() -> Pair:
    """B has policies for two networks behind A (same peer); the SA was negotiated for one."""
    pair = make_pair("aes-128-cbc", "sha1")
    rebind(pair, pair.policy_a)
    second = replace(pair.policy_b, id=2, dst=OTHER_NET)
    pair.b.spd = Spd([pair.policy_b, second])
    return pair


def test_tunnel_sa_drops_an_inner_source_outside_its_networks() -> None:
    pair = tunnel_pair_with_two_networks()
    sa = outbound_sa(pair)
    # from A's net X: delivered (twice, so the second goes through the fast path)
    for seq in (1, 2):
        inner = udp_packet(S["host_a"], S["host_b"], 1000, 2000, b"ok")
        got = pair.b.inbound(forged_esp(sa, seq, S["gw_a"], inner, IpProtocol.IPV4), 1.0)
        assert got.verdict is Verdict.DELIVER, got.reason
    # from the other network behind the same peer, through X's SA: the SPD alone accepts it
    # (its policy has the same peer), the SA's selector does not
    for seq, src in ((3, ip("203.0.113.70")), (4, ip("203.0.113.250"))):
        inner = udp_packet(src, S["host_b"], 1000, 2000, b"spoof")
        got = pair.b.inbound(forged_esp(sa, seq, S["gw_a"], inner, IpProtocol.IPV4), 1.0)
        assert got.verdict is Verdict.DROPPED and "selector" in got.reason, got
    only(pair, XfrmStat.IN_STATE_MISMATCHES, 2)
    # and the fast path was not fooled either: a confirmed flow stays confirmed for its SA only
    inner = udp_packet(S["host_a"], S["host_b"], 1000, 2000, b"ok")
    got = pair.b.inbound(forged_esp(sa, 5, S["gw_a"], inner, IpProtocol.IPV4), 1.0)
    assert got.verdict is Verdict.DELIVER


def test_tunnel_sa_drops_a_destination_outside_its_networks() -> None:
    pair = tunnel_pair_with_two_networks()
    sa = outbound_sa(pair)
    inner = udp_packet(S["host_a"], ip("198.51.100.5"), 1000, 2000, b"x")  # not in net_b
    got = pair.b.inbound(forged_esp(sa, 1, S["gw_a"], inner, IpProtocol.IPV4), 1.0)
    assert got.verdict is Verdict.DROPPED
    only(pair, XfrmStat.IN_STATE_MISMATCHES)


def test_a_flow_confirmed_on_one_sa_is_checked_again_on_another() -> None:
    """The fast path remembers (flow, SA): a packet of a confirmed flow that arrives on an SA
    negotiated for other traffic goes through the slow path and its selector check."""
    pair = tunnel_pair_with_two_networks()
    good = outbound_sa(pair)
    inner = udp_packet(S["host_a"], S["host_b"], 1000, 2000, b"ok")
    for seq in (1, 2):
        assert (
            pair.b.inbound(forged_esp(good, seq, S["gw_a"], inner, 4), 1.0).verdict
            is Verdict.DELIVER
        )
    # a second SA from the same peer, negotiated for the other network only
    other_policy = replace(pair.policy_a, id=2, src=OTHER_NET)
    params = replace(pair.params["ESP-ab"], spi=0x333)
    pair.a.sad.add(replace(params, selector=SaSelector.of_policy(other_policy, Direction.OUT)), 0)
    pair.b.sad.add(
        replace(
            params,
            direction=Direction.IN,
            selector=SaSelector.of_policy(mirror(other_policy), Direction.IN),
        ),
        0,
    )
    other = outbound_sa(pair, 0x333)
    got = pair.b.inbound(forged_esp(other, 1, S["gw_a"], inner, 4), 1.0)
    assert got.verdict is Verdict.DROPPED
    only(pair, XfrmStat.IN_STATE_MISMATCHES)


def test_ipv6_selectors() -> None:
    pair = make_pair("aes-128-gcm", None, inner=6, outer=6)
    rebind(pair, pair.policy_a)
    s6 = SITES[6]
    sa = outbound_sa(pair)
    ok = udp_packet(s6["host_a"], s6["host_b"], 1, 2, b"ok")
    assert (
        pair.b.inbound(
            build_ip(s6["gw_a"], s6["gw_b"], 50, esp_protect(sa, ok, 41, 1, iv(sa))), 1.0
        ).verdict
        is Verdict.DELIVER
    )
    bad = udp_packet(ip("2001:db8:c::1"), s6["host_b"], 1, 2, b"no")
    got = pair.b.inbound(
        build_ip(s6["gw_a"], s6["gw_b"], 50, esp_protect(sa, bad, 41, 2, iv(sa))), 1.0
    )
    assert got.verdict is Verdict.DROPPED
    only(pair, XfrmStat.IN_STATE_MISMATCHES)


# -- outbound: an SA serves only the traffic it was negotiated for ----------------------------


def test_outbound_uses_the_sa_negotiated_for_the_policy() -> None:
    """Two policies to one peer, one SA each (level=require, not bound by id): each policy's
    traffic goes out on its own SA, or the peer (binding its SAs too) would drop it."""
    pair = make_pair("aes-128-cbc", "sha1")
    pol_x = pair.policy_a
    pol_y = replace(pol_x, id=2, src=OTHER_NET)
    pair.a.spd = Spd([pol_x, pol_y])
    rebind(pair, pol_x)
    base = pair.params["ESP-ab"]
    pair.a.sad.add(
        replace(base, spi=0x444, selector=SaSelector.of_policy(pol_y, Direction.OUT)), 1.0
    )  # newer than X's SA
    out_x = pair.a.outbound(udp_packet(S["host_a"], S["host_b"], 1, 2, b"x"), 2.0)
    out_y = pair.a.outbound(udp_packet(ip("203.0.113.70"), S["host_b"], 1, 2, b"y"), 2.0)
    assert out_x.packet[20:24] == (0x101).to_bytes(4, "big")
    assert out_y.packet[20:24] == (0x444).to_bytes(4, "big")


def test_selector_of_policy_mirrors_inbound() -> None:
    pol = Policy(
        id=1, src=net("198.51.100.0/25"), dst=net("198.51.100.128/25"), protocol=17,
        src_port=1701, dst_port=None,
    )  # fmt: skip
    assert SaSelector.of_policy(pol, Direction.OUT) == SaSelector(
        src=pol.src, dst=pol.dst, protocol=17, src_port=1701, dst_port=None
    )
    assert SaSelector.of_policy(pol, Direction.IN) == SaSelector(
        src=pol.dst, dst=pol.src, protocol=17, src_port=None, dst_port=1701
    )


def test_unbound_params_keep_their_meaning() -> None:
    """No selector: a tunnel SA is bound by the SPD check alone; a transport SA still to its
    endpoints."""
    base = make_pair().params["ESP-ab"]
    tunnel = SecurityAssociation(replace(base, direction=Direction.IN), 0.0, 1)
    assert tunnel.admits(ip("203.0.113.250"), ip("198.51.100.1"), 6, 1, 2)
    transport = SecurityAssociation(
        replace(base, direction=Direction.IN, mode=make_pair(tunnel=False).policy_a.mode), 0, 1
    )
    assert transport.admits(S["gw_a"], S["gw_b"], 6, 1, 2)
    assert not transport.admits(ip("203.0.113.250"), S["gw_b"], 6, 1, 2)
    assert isinstance(base, SaParams) and base.selector is None


# -- SAs bound to narrowed selectors (IKEv2 TSi/TSr, several per SA) --------------------------

# A's policy is net_a -> net_b (two /25s); the peer agreed to two parts of it only.
NARROW = (
    SaSelector(src=net("198.51.100.0/28"), dst=net("198.51.100.128/28")),
    SaSelector(
        src=net("198.51.100.16/28"),
        dst=net("198.51.100.200/32"),
        protocol=17,
        dst_port=2000,
        dst_port_end=2010,
    ),
)


def narrowed_pair() -> Pair:
    """A's outbound and B's inbound SA 0x101 bound to ``NARROW``, as the IKEv2 engine installs
    them when TSi/TSr were narrowed (both policies stay the wide /25s)."""
    pair = make_pair("aes-128-gcm", None)
    for proc, direction, sels in (
        (pair.a, Direction.OUT, NARROW),
        (pair.b, Direction.IN, NARROW),  # the same SA, the same direction: the same selectors
    ):
        sa = next(s for s in proc.sad if s.spi == 0x101 and s.params.direction is direction)
        proc.sad.remove(sa)
        proc.sad.add(replace(sa.params, selector=sels[0], selectors=sels), 0.0)
    return pair


def test_outbound_sends_on_a_narrowed_sa_only_the_agreed_traffic() -> None:
    """RFC 4301 §5.1: a packet of the wide policy outside what the peer agreed must not go into
    the SA (the peer would drop it); it finds no SA (out-no-states, an acquire)."""
    pair = narrowed_pair()
    spi = (0x101).to_bytes(4, "big")
    inside = [
        udp_packet(ip("198.51.100.5"), ip("198.51.100.130"), 1, 9, b"a"),  # first selector
        udp_packet(ip("198.51.100.20"), ip("198.51.100.200"), 1, 2005, b"b"),  # second
    ]
    for _ in range(2):  # twice: the second time through the fast path's flow table
        for pkt in inside:
            out = pair.a.outbound(pkt, 1.0)
            assert out.verdict is Verdict.PROTECTED, out.reason
            assert out.packet[20:24] == spi
    outside = [
        udp_packet(ip("198.51.100.100"), ip("198.51.100.130"), 1, 9, b"c"),  # src
        udp_packet(ip("198.51.100.20"), ip("198.51.100.200"), 1, 3000, b"d"),  # port
        tcp_packet(ip("198.51.100.20"), ip("198.51.100.200"), 1, 2005, b"e"),  # protocol
        udp_packet(ip("198.51.100.5"), ip("198.51.100.200"), 1, 9, b"f"),  # dst of 2nd only
    ]
    for pkt in outside:
        out = pair.a.outbound(pkt, 1.0)
        assert out.verdict is Verdict.DROPPED and out.reason == "no SA for the policy", out
    assert pair.a.stats.counts[XfrmStat.OUT_NO_STATES] == len(outside)


def test_inbound_narrowed_sa_admits_each_of_its_selectors_and_nothing_else() -> None:
    pair = narrowed_pair()
    sa = outbound_sa(pair)
    ok = [
        udp_packet(ip("198.51.100.5"), ip("198.51.100.130"), 1, 9, b"a"),
        udp_packet(ip("198.51.100.20"), ip("198.51.100.200"), 7, 2010, b"b"),
    ]
    seq = 0
    for pkt in ok:
        seq += 1
        got = pair.b.inbound(forged_esp(sa, seq, S["gw_a"], pkt, IpProtocol.IPV4), 1.0)
        assert got.verdict is Verdict.DELIVER, got.reason
    bad = [
        udp_packet(ip("198.51.100.100"), ip("198.51.100.130"), 1, 9, b"c"),
        udp_packet(ip("198.51.100.20"), ip("198.51.100.200"), 7, 2011, b"d"),
        tcp_packet(ip("198.51.100.20"), ip("198.51.100.200"), 7, 2005, b"e"),
    ]
    for pkt in bad:
        seq += 1
        got = pair.b.inbound(forged_esp(sa, seq, S["gw_a"], pkt, IpProtocol.IPV4), 1.0)
        assert got.verdict is Verdict.DROPPED and "selector" in got.reason, got
    only(pair, XfrmStat.IN_STATE_MISMATCHES, len(bad))


def test_a_unique_policy_sa_with_narrowed_selectors_carries_only_them() -> None:
    """level=unique binds the SA by policy id; the agreed selectors still hold per packet."""
    pair = narrowed_pair()
    sa = outbound_sa(pair)
    pair.a.sad.remove(sa)
    pair.a.sad.add(replace(sa.params, policy_id=pair.policy_a.id), 0.0)
    assert (
        pair.a.outbound(
            udp_packet(ip("198.51.100.5"), ip("198.51.100.130"), 1, 9, b"a"), 1.0
        ).verdict
        is Verdict.PROTECTED
    )
    out = pair.a.outbound(udp_packet(ip("198.51.100.100"), ip("198.51.100.130"), 1, 9, b"c"), 1.0)
    assert out.verdict is Verdict.DROPPED
