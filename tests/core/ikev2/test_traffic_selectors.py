"""IKEv2 traffic selectors (core/ikev2/traffic_selectors.py): policy -> TSi/TSr, responder
narrowing to a configured policy or a template (RFC 7296 §2.9, RouterOS generate-policy), NAT
transport substitution (§2.23.1) and the initiator's subset check.

The split-policy case is RFC 7296 §2.9's own example (198.51.100.0/24 on the initiator's side,
the packet 198.51.100.43 first), with its other documentation network 192.0.2.0/24 replaced by
203.0.113.0/24 (the project keeps 192.0.2.0/24 out of tests).
"""

from __future__ import annotations

import dataclasses
import ipaddress

import pytest

from pyipsec.core.ikev2 import traffic_selectors as ts
from pyipsec.core.ikev2.errors import TsUnacceptable
from pyipsec.core.profiles import GeneratePolicy, PeerProfile, TemplatePolicy
from pyipsec.dataplane.policy import Action, Level, Policy, Selector
from pyipsec.wire.ikev2.constants import NotifyType, TsType
from pyipsec.wire.ikev2.payloads import TrafficSelector

NET = ipaddress.ip_network
ADDR = ipaddress.ip_address
US, PEER = ADDR("203.0.113.1"), ADDR("198.51.100.7")
TCP, UDP = 6, 17
V4, V6 = TsType.TS_IPV4_ADDR_RANGE, TsType.TS_IPV6_ADDR_RANGE


def sel(
    first: str, last: str | None = None, proto: int = 0, ports: tuple[int, int] = (0, 65535)
) -> TrafficSelector:
    a = ADDR(first)
    return TrafficSelector(
        ts_type=V4 if a.version == 4 else V6,
        protocol=proto,
        start_port=ports[0],
        end_port=ports[1],
        start=a,
        end=ADDR(last or first),
    )


def net(prefix: str, proto: int = 0, ports: tuple[int, int] = (0, 65535)) -> TrafficSelector:
    n = NET(prefix)
    return sel(str(n.network_address), str(n.broadcast_address), proto, ports)


def peer(**kw: object) -> PeerProfile:
    base: dict[str, object] = {"id": 1, "address": NET("198.51.100.0/24")}
    base.update(kw)
    return PeerProfile(**base)  # type: ignore[arg-type]


def narrow(tsi: list[TrafficSelector], tsr: list[TrafficSelector], **kw: object) -> ts.Narrowed:
    args: dict[str, object] = {
        "policies": (),
        "peer": peer(),
        "templates": (),
        "local": US,
        "remote": PEER,
        "new_id": lambda: 99,
    }
    args.update(kw)
    return ts.narrow(tsi, tsr, **args)  # type: ignore[arg-type]


POLICY = Policy(id=1, src=NET("10.1.0.0/24"), dst=NET("10.2.0.0/24"), tunnel=True)


# --- policy -> TSi/TSr ----------------------------------------------------------------------


def test_policy_selectors_ranges_protocol_ports_families() -> None:
    (tsi,), (tsr,) = ts.policy_selectors(POLICY)
    assert tsi == sel("10.1.0.0", "10.1.0.255") and tsr == sel("10.2.0.0", "10.2.0.255")
    web = dataclasses.replace(POLICY, protocol=TCP, dst_port=443, dst=NET("10.2.0.9/32"))
    (tsi,), (tsr,) = ts.policy_selectors(web)
    assert (tsi.protocol, tsi.start_port, tsi.end_port) == (TCP, 0, 65535)
    assert tsr == sel("10.2.0.9", proto=TCP, ports=(443, 443))
    v6 = Policy(id=2, src=NET("2001:db8:1::/64"), dst=NET("2001:db8:2::1/128"))
    (tsi,), (tsr,) = ts.policy_selectors(v6)
    assert tsi.ts_type == V6 and str(tsi.end) == "2001:db8:1:0:ffff:ffff:ffff:ffff"
    assert tsr == sel("2001:db8:2::1")


def test_policy_selectors_put_the_packet_first() -> None:
    pkt = Selector(
        src=ADDR("10.1.0.5"), dst=ADDR("10.2.0.6"), protocol=UDP, src_port=500, dst_port=53
    )
    tsi, tsr = ts.policy_selectors(POLICY, packet=pkt)
    assert tsi == (sel("10.1.0.5", proto=UDP, ports=(500, 500)), net("10.1.0.0/24"))
    assert tsr == (sel("10.2.0.6", proto=UDP, ports=(53, 53)), net("10.2.0.0/24"))
    icmp = Selector(src=ADDR("10.1.0.5"), dst=ADDR("10.2.0.6"), protocol=1)
    assert ts.policy_selectors(POLICY, packet=icmp)[1][0] == sel("10.2.0.6", proto=1)
    stray = dataclasses.replace(pkt, dst=ADDR("10.3.0.1"))
    assert ts.policy_selectors(POLICY, packet=stray) == (
        (net("10.1.0.0/24"),),
        (net("10.2.0.0/24"),),
    )


# --- responder: configured policies ----------------------------------------------------------


def mirrored(p: Policy) -> tuple[list[TrafficSelector], list[TrafficSelector]]:
    """What the peer of ``p`` (its mirror) sends as TSi/TSr."""
    tsi, tsr = ts.policy_selectors(dataclasses.replace(p, src=p.dst, dst=p.src))
    return list(tsi), list(tsr)


def test_rfc7296_2_9_example_split_policy_packet_first() -> None:
    low = Policy(id=1, src=NET("203.0.113.0/24"), dst=NET("198.51.100.0/25"), tunnel=True)
    high = Policy(id=2, src=NET("203.0.113.0/24"), dst=NET("198.51.100.128/25"), tunnel=True)
    tsi = [sel("198.51.100.143", proto=UDP, ports=(1234, 1234)), net("198.51.100.0/24")]
    tsr = [sel("203.0.113.123", proto=UDP, ports=(53, 53)), net("203.0.113.0/24")]
    got = narrow(tsi, tsr, policies=(low, high))
    # The policy carrying the packet wins, and the reply includes the initiator's first choice.
    assert got.policy is high and not got.generated
    assert got.tsi == (net("198.51.100.128/25"),)
    assert got.tsr == (net("203.0.113.0/24"),)
    # Without the packet selector the first policy that overlaps is taken.
    got = narrow(tsi[1:], tsr[1:], policies=(low, high))
    assert got.policy is low and got.tsi == (net("198.51.100.0/25"),)


def test_exact_wider_narrower_and_partial_offers() -> None:
    tsi, tsr = mirrored(POLICY)
    got = narrow(tsi, tsr, policies=(POLICY,))
    assert (got.policy, list(got.tsi), list(got.tsr)) == (POLICY, tsi, tsr)
    got = narrow([net("0.0.0.0/0")], [net("0.0.0.0/0")], policies=(POLICY,))
    assert (got.tsi, got.tsr) == ((net("10.2.0.0/24"),), (net("10.1.0.0/24"),))
    inside = [sel("10.2.0.77")], [net("10.1.0.0/25")]
    got = narrow(*inside, policies=(POLICY,))
    assert (list(got.tsi), list(got.tsr)) == (inside[0], inside[1])
    partial = [sel("10.2.0.128", "10.2.1.127")], [net("10.1.0.0/24")]
    got = narrow(*partial, policies=(POLICY,))
    assert got.tsi == (sel("10.2.0.128", "10.2.0.255"),)


def test_protocol_and_ports_narrow_and_refuse() -> None:
    web = dataclasses.replace(POLICY, protocol=TCP, src_port=80)
    got = narrow([net("10.2.0.0/24")], [net("10.1.0.0/24")], policies=(web,))
    assert got.tsr == (net("10.1.0.0/24", TCP, (80, 80)),)
    assert got.tsi == (net("10.2.0.0/24", TCP),)
    with pytest.raises(TsUnacceptable):
        narrow([net("10.2.0.0/24", UDP)], [net("10.1.0.0/24", UDP)], policies=(web,))
    with pytest.raises(TsUnacceptable):
        narrow([net("10.2.0.0/24", TCP)], [net("10.1.0.0/24", TCP, (81, 90))], policies=(web,))


def test_several_selectors_per_payload() -> None:
    tsi = [net("172.16.0.0/16"), net("10.2.0.0/25"), net("10.2.0.0/24")]
    tsr = [net("10.1.0.0/24"), net("2001:db8::/32")]
    got = narrow(tsi, tsr, policies=(POLICY,))
    # non-overlapping selectors dropped, one inside another folded into it
    assert got.tsi == (net("10.2.0.0/24"),) and got.tsr == (net("10.1.0.0/24"),)


def test_policies_that_cannot_serve_this_peer_are_passed_over() -> None:
    elsewhere = dataclasses.replace(POLICY, id=7, sa_dst=ADDR("198.51.100.99"))
    discard = dataclasses.replace(POLICY, id=8, action=Action.DISCARD)
    mine = dataclasses.replace(POLICY, id=9, sa_dst=PEER, sa_src=US)
    got = narrow(*mirrored(POLICY), policies=(elsewhere, discard, mine))
    assert got.policy is mine


def test_ts_unacceptable_says_what_and_why() -> None:
    with pytest.raises(TsUnacceptable) as info:
        narrow([net("10.9.0.0/24")], [net("10.8.0.0/24", TCP, (22, 22))], policies=(POLICY,))
    assert info.value.notify is NotifyType.TS_UNACCEPTABLE
    assert info.value.detail == (
        "they proposed 10.9.0.0/24 (theirs) to 10.8.0.0/24 proto 6 port 22 (ours); "
        "our policies for this peer: 10.1.0.0/24<->10.2.0.0/24; generate-policy=no"
    )
    with pytest.raises(TsUnacceptable, match="no address-range selector"):
        narrow([], [net("10.1.0.0/24")], policies=(POLICY,))


# --- responder: generate-policy from templates -----------------------------------------------

DEFAULT_TEMPLATE = TemplatePolicy(
    id=0, group="default", src=NET("::/0"), dst=NET("::/0"), protocol=None, proposal="default"
)


def test_generated_from_the_default_template() -> None:
    p = peer(generate_policy=GeneratePolicy.PORT_OVERRIDE)
    tsi = [net("10.2.0.0/24", UDP, (1701, 1701))]
    tsr = [net("10.1.0.0/24", UDP, (1701, 1701))]
    got = narrow(tsi, tsr, peer=p, templates=(DEFAULT_TEMPLATE,))
    assert got.generated
    pol = got.policy
    assert (pol.id, pol.src, pol.dst, pol.protocol) == (
        99,
        NET("10.1.0.0/24"),
        NET("10.2.0.0/24"),
        UDP,
    )
    assert (pol.src_port, pol.dst_port) == (None, None)  # port-override: any port
    assert (pol.sa_src, pol.sa_dst, pol.tunnel, pol.level) == (US, PEER, True, Level.REQUIRE)
    assert (list(got.tsi), list(got.tsr)) == (tsi, tsr)  # the reply stays inside the offer
    strict = narrow(
        tsi,
        tsr,
        peer=peer(generate_policy=GeneratePolicy.PORT_STRICT),
        templates=(DEFAULT_TEMPLATE,),
    )
    assert (strict.policy.src_port, strict.policy.dst_port) == (1701, 1701)


def test_generated_transport_between_the_endpoints_and_v6() -> None:
    p = peer(generate_policy=GeneratePolicy.PORT_STRICT)
    got = narrow([sel(str(PEER))], [sel(str(US))], peer=p, templates=(DEFAULT_TEMPLATE,))
    assert not got.policy.tunnel and got.policy.src == NET(f"{US}/32")
    got = narrow(
        [net("2001:db8:2::/48")], [net("2001:db8:1::/48")], peer=p, templates=(DEFAULT_TEMPLATE,)
    )
    assert got.policy.dst == NET("2001:db8:2::/48") and got.policy.tunnel


def test_generated_policy_narrowed_to_the_template() -> None:
    p = peer(generate_policy=GeneratePolicy.PORT_OVERRIDE, policy_template_group="rw")
    other_group = dataclasses.replace(DEFAULT_TEMPLATE, group="default")
    rw = TemplatePolicy(
        id=3,
        group="rw",
        src=NET("10.1.0.0/24"),
        dst=NET("10.2.0.0/16"),
        protocol=None,
        proposal="rw",
    )
    # A road warrior asking for everything gets the template's networks.
    got = narrow([net("0.0.0.0/0")], [net("0.0.0.0/0")], peer=p, templates=(other_group, rw))
    assert (got.policy.src, got.policy.dst, got.policy.proposal) == (
        NET("10.1.0.0/24"),
        NET("10.2.0.0/16"),
        "rw",
    )
    assert got.tsi == (net("10.2.0.0/16"),) and got.tsr == (net("10.1.0.0/24"),)
    # A range that is no prefix narrows to its largest prefix (RouterOS policies are prefixes).
    got = narrow([sel("10.2.0.1", "10.2.0.200")], [net("10.1.0.0/24")], peer=p, templates=(rw,))
    assert got.policy.dst == NET("10.2.0.64/26") and got.tsi == (net("10.2.0.64/26"),)
    with pytest.raises(TsUnacceptable, match="no template of group rw overlaps"):
        narrow([net("10.9.0.0/16")], [net("10.1.0.0/24")], peer=p, templates=(other_group, rw))


def test_configured_policy_before_templates() -> None:
    p = peer(generate_policy=GeneratePolicy.PORT_OVERRIDE)
    got = narrow(*mirrored(POLICY), peer=p, policies=(POLICY,), templates=(DEFAULT_TEMPLATE,))
    assert got.policy is POLICY and not got.generated


# --- NAT, transport ---------------------------------------------------------------------------


def test_nat_transport_substitutes_the_endpoints() -> None:
    host_to_host = Policy(
        id=4, src=NET(f"{US}/32"), dst=NET(f"{PEER}/32"), protocol=UDP, src_port=1701
    )
    private = [sel("10.0.0.5", proto=UDP, ports=(1701, 1701))]
    ours = [sel(str(US), proto=UDP)]
    with pytest.raises(TsUnacceptable):
        narrow(private, ours, policies=(host_to_host,))
    got = narrow(private, ours, policies=(host_to_host,), nat_transport=True)
    assert got.policy is host_to_host
    # the reply names the addresses as the peer sent them, narrowed in ports only
    assert got.tsi == (sel("10.0.0.5", proto=UDP, ports=(1701, 1701)),)
    assert got.tsr == (sel(str(US), proto=UDP, ports=(1701, 1701)),)


# --- the initiator's check --------------------------------------------------------------------


def test_accept_narrowed() -> None:
    tsi, tsr = ts.policy_selectors(POLICY)
    assert ts.accept_narrowed(tsi, tsr, [sel("10.1.0.9")], [net("10.2.0.0/25")]) == (
        (sel("10.1.0.9"),),
        (net("10.2.0.0/25"),),
    )
    with pytest.raises(
        TsUnacceptable, match=r"10\.2\.0\.0/23 is not inside what we proposed, 10\.2\.0\.0/24"
    ):
        ts.accept_narrowed(tsi, tsr, list(tsi), [net("10.2.0.0/23")])
    with pytest.raises(TsUnacceptable, match="TSi holds no address-range selector"):
        ts.accept_narrowed(tsi, tsr, [], list(tsr))
    with pytest.raises(TsUnacceptable):  # a protocol we did not limit to is fine, wider is not
        ts.accept_narrowed([net("10.1.0.0/24", TCP)], tsr, [net("10.1.0.0/24")], list(tsr))


def test_opaque_ports_and_describe() -> None:
    opaque = net("10.2.0.0/24", UDP, (65535, 0))
    got = narrow([opaque], [net("10.1.0.0/24", UDP)], policies=(POLICY,))
    assert got.tsi == (opaque,)
    web = dataclasses.replace(POLICY, protocol=UDP, dst_port=53)
    with pytest.raises(TsUnacceptable):
        narrow([opaque], [net("10.1.0.0/24", UDP)], policies=(web,))
    assert ts.describe([opaque, sel("10.0.0.1", "10.0.0.6", TCP, (1, 1024))]) == (
        "10.2.0.0/24 proto 17 port opaque, 10.0.0.1-10.0.0.6 proto 6 port 1-1024"
    )
    assert ts.selector_networks(sel("10.0.0.0", "10.0.0.5")) == [
        NET("10.0.0.0/30"),
        NET("10.0.0.4/31"),
    ]


def test_generated_policy_never_mixes_two_protocols() -> None:
    # Found by test_negotiation_properties: TSi udp with TSr tcp must not become a udp policy
    # whose TSr reply (udp) lies outside the offered TSr (tcp).
    p = peer(generate_policy=GeneratePolicy.PORT_STRICT)
    tsi = [sel("10.2.0.1", proto=UDP)]
    tsr = [net("10.1.0.0/24", TCP)]
    with pytest.raises(TsUnacceptable):
        narrow(tsi, tsr, peer=p, templates=(DEFAULT_TEMPLATE,))
    got = narrow(tsi, [*tsr, net("10.1.0.0/24")], peer=p, templates=(DEFAULT_TEMPLATE,))
    assert got.policy.protocol == UDP and got.tsr == (net("10.1.0.0/24", UDP),)


# --- the SAs' selectors (RFC 4301 §4.4.2) ---------------------------------------------------


def test_sa_selectors_every_tsi_x_tsr_combination_in_each_direction() -> None:
    from pyipsec.dataplane.policy import Direction
    from pyipsec.dataplane.sad import SaSelector

    policy = Policy(id=1, src=NET("198.51.100.0/24"), dst=NET("203.0.113.0/24"))
    tsi = (sel("198.51.100.0", "198.51.100.15"), sel("198.51.100.64", "198.51.100.64", UDP))
    tsr = (sel("203.0.113.0", "203.0.113.11", UDP, (500, 510)),)  # .0/29 + .8/30
    first, out = ts.sa_selectors(policy, tsi, tsr, Direction.OUT, we_initiated=True)
    want = (
        SaSelector(src=NET("198.51.100.0/28"), dst=NET("203.0.113.0/29"), protocol=UDP,
                   dst_port=500, dst_port_end=510),
        SaSelector(src=NET("198.51.100.0/28"), dst=NET("203.0.113.8/30"), protocol=UDP,
                   dst_port=500, dst_port_end=510),
        SaSelector(src=NET("198.51.100.64/32"), dst=NET("203.0.113.0/29"), protocol=UDP,
                   dst_port=500, dst_port_end=510),
        SaSelector(src=NET("198.51.100.64/32"), dst=NET("203.0.113.8/30"), protocol=UDP,
                   dst_port=500, dst_port_end=510),
    )  # fmt: skip
    assert (first, out) == (want[0], want)
    # the responder's inbound SA carries the same traffic (its direction: initiator -> us)
    assert ts.sa_selectors(policy, tsi, tsr, Direction.IN, we_initiated=False)[1] == want
    # a TCP selector against a UDP one carries nothing: that combination is left out
    tcp = (sel("198.51.100.0", "198.51.100.15", TCP), tsi[1])
    assert ts.sa_selectors(policy, tcp, tsr, Direction.OUT, we_initiated=True)[1] == want[2:]


def test_sa_selectors_shortcut_answers_as_the_general_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A single TSi and TSr that name exactly the policy's traffic take a shortcut to the
    policy's own selector; for every case here (hosts, prefixes, ranges, protocols incl. 0,
    ports, opaque ports, IPv6, both directions and roles) its answer is the general loop's."""
    from pyipsec.dataplane.policy import Direction

    policies = [
        Policy(id=1, src=NET("198.51.100.0/24"), dst=NET("203.0.113.0/24")),
        Policy(id=2, src=NET("198.51.100.5/32"), dst=NET("203.0.113.9/32"), protocol=UDP,
               src_port=500, dst_port=4500),
        Policy(id=3, src=NET("198.51.100.0/25"), dst=NET("203.0.113.0/24"), protocol=0),
        Policy(id=4, src=NET("2001:db8::/64"), dst=NET("2001:db8:1::1/128"), protocol=TCP),
    ]  # fmt: skip
    offers = [
        sel("198.51.100.0", "198.51.100.255"), sel("203.0.113.0", "203.0.113.255"),
        sel("198.51.100.5", proto=UDP, ports=(500, 500)), sel("203.0.113.9", proto=UDP,
        ports=(4500, 4500)), sel("198.51.100.5", proto=UDP), sel("203.0.113.9", proto=UDP),
        sel("198.51.100.0", "198.51.100.127"), sel("198.51.100.0", "198.51.100.126"),
        sel("198.51.100.0", "198.51.100.127", proto=0, ports=(65535, 0)),
        sel("2001:db8::", "2001:db8::ffff:ffff:ffff:ffff", TCP),
        sel("2001:db8:1::1", proto=TCP), sel("2001:db8:1::1", proto=TCP, ports=(1, 2)),
    ]  # fmt: skip
    cases = []
    for policy in policies:
        own_i, own_r = ts.policy_selectors(policy)
        for tsi in [own_i, *((o,) for o in offers)]:
            for tsr in [own_r, *((o,) for o in offers)]:
                for direction in (Direction.OUT, Direction.IN):
                    for initiated in (True, False):
                        cases.append((policy, tsi, tsr, direction, initiated))
    fast = [ts.sa_selectors(p, i, r, d, we_initiated=w) for p, i, r, d, w in cases]
    monkeypatch.setattr(ts, "_names_exactly", lambda *a: False)
    slow = [ts.sa_selectors(p, i, r, d, we_initiated=w) for p, i, r, d, w in cases]
    assert fast == slow
    assert sum(f[1] == () for f in fast) >= 8  # the shortcut was taken


def test_sa_selectors_of_exactly_the_policy_are_the_policys_own() -> None:
    from pyipsec.dataplane.policy import Direction
    from pyipsec.dataplane.sad import SaSelector

    policy = Policy(id=1, src=NET("198.51.100.0/24"), dst=NET("203.0.113.0/24"), protocol=TCP,
                    dst_port=443)  # fmt: skip
    tsi, tsr = ts.policy_selectors(policy)
    for direction in (Direction.OUT, Direction.IN):
        got = ts.sa_selectors(policy, tsi, tsr, direction, we_initiated=True)
        assert got == (SaSelector.of_policy(policy, direction), ())
