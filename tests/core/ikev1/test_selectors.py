"""Quick-mode identities and policy lookup (core/ikev1/selectors.py, RFC 2407 §4.6.2,
RFC 2409 §5.5, RouterOS generate-policy)."""

from __future__ import annotations

import dataclasses
import ipaddress

import pytest

from pyipsec.core.ikev1 import selectors as sel
from pyipsec.core.ikev1.errors import InvalidIdInformation
from pyipsec.core.profiles import GeneratePolicy, PeerProfile, TemplatePolicy
from pyipsec.dataplane.policy import Action, Level, Policy
from pyipsec.wire.ikev1.constants import IdentificationType, NotifyMessageType, PayloadType
from pyipsec.wire.ikev1.ids import id_from_address, id_from_network, id_from_range
from pyipsec.wire.ikev1.payloads import CODECS, IdPayload, push_payload_body

NET = ipaddress.ip_network
ADDR = ipaddress.ip_address
LOCAL = ADDR("192.0.2.1")
REMOTE = ADDR("198.51.100.7")
TCP, UDP = 6, 17


def wire(p: IdPayload) -> IdPayload:
    out = CODECS[PayloadType.ID][0](push_payload_body(p), PayloadType.ID)
    assert isinstance(out, IdPayload)
    return out


def peer(**kw: object) -> PeerProfile:
    base: dict[str, object] = {"id": 1, "address": NET("0.0.0.0/0")}
    base.update(kw)
    return PeerProfile(**base)  # type: ignore[arg-type]


# --- policy_ids / needs_ids ------------------------------------------------------------------


def test_policy_ids_subnets_hosts_protocol_ports() -> None:
    pol = Policy(id=1, src=NET("10.1.0.0/24"), dst=NET("10.9.8.7/32"), protocol=TCP, dst_port=443)
    idci, idcr = (wire(i) for i in sel.policy_ids(pol))
    assert idci.id_type == IdentificationType.ID_IPV4_ADDR_SUBNET
    assert idci.data == bytes([10, 1, 0, 0, 255, 255, 255, 0])
    assert (idci.protocol_id, idci.port) == (TCP, 0)
    assert idcr.id_type == IdentificationType.ID_IPV4_ADDR
    assert idcr.data == bytes([10, 9, 8, 7]) and (idcr.protocol_id, idcr.port) == (TCP, 443)
    v6 = Policy(id=2, src=NET("2001:db8::/64"), dst=NET("2001:db8:1::1/128"))
    a, b = sel.policy_ids(v6)
    assert a.id_type == IdentificationType.ID_IPV6_ADDR_SUBNET and len(a.data) == 32
    assert b.id_type == IdentificationType.ID_IPV6_ADDR and (b.protocol_id, b.port) == (0, 0)


@pytest.mark.parametrize(
    ("policy", "needed"),
    [
        (Policy(id=1, src=NET("10.0.0.0/24"), dst=NET("10.1.0.0/24"), tunnel=True), True),
        (Policy(id=1, src=NET("192.0.2.1/32"), dst=NET("198.51.100.7/32")), False),
        (
            Policy(
                id=1,
                src=NET("192.0.2.1/32"),
                dst=NET("198.51.100.7/32"),
                sa_src=LOCAL,
                sa_dst=REMOTE,
            ),
            False,
        ),
        (Policy(id=1, src=NET("192.0.2.1/32"), dst=NET("198.51.100.7/32"), tunnel=True), True),
        (Policy(id=1, src=NET("192.0.2.1/32"), dst=NET("198.51.100.7/32"), protocol=UDP), True),
        (Policy(id=1, src=NET("192.0.2.1/32"), dst=NET("198.51.100.7/32"), dst_port=1701), True),
        (
            Policy(
                id=1,
                src=NET("192.0.2.1/32"),
                dst=NET("198.51.100.7/32"),
                sa_dst=ADDR("203.0.113.1"),
            ),
            True,
        ),
    ],
)
def test_needs_ids(policy: Policy, needed: bool) -> None:
    assert sel.needs_ids(policy) is needed


# --- ids_to_selector -------------------------------------------------------------------------


def test_selector_from_initiator_ids_is_mirrored() -> None:
    # The initiator's policy 10.1.0.0/24 -> 10.2.0.0/24 tcp 1234 -> 443 ...
    pol = Policy(
        id=1,
        src=NET("10.1.0.0/24"),
        dst=NET("10.2.0.0/24"),
        protocol=TCP,
        src_port=1234,
        dst_port=443,
    )
    idci, idcr = (wire(i) for i in sel.policy_ids(pol))
    ts = sel.ids_to_selector(idci, idcr, REMOTE, LOCAL)
    # ... is the responder's 10.2.0.0/24 -> 10.1.0.0/24 tcp 443 -> 1234.
    assert ts == sel.TrafficSelector(
        src=NET("10.2.0.0/24"), dst=NET("10.1.0.0/24"), protocol=TCP, src_port=443, dst_port=1234
    )


def test_absent_ids_mean_the_isakmp_peers() -> None:
    ts = sel.ids_to_selector(None, None, REMOTE, LOCAL)
    assert ts == sel.TrafficSelector(src=NET("192.0.2.1/32"), dst=NET("198.51.100.7/32"))
    with pytest.raises(InvalidIdInformation):
        sel.ids_to_selector(id_from_address(REMOTE), None, REMOTE, LOCAL)


@pytest.mark.parametrize(
    ("first", "last", "net"),
    [
        ("10.0.0.0", "10.0.0.255", "10.0.0.0/24"),
        ("10.0.0.7", "10.0.0.7", "10.0.0.7/32"),
        ("0.0.0.0", "255.255.255.255", "0.0.0.0/0"),
        ("2001:db8::", "2001:db8::ffff", "2001:db8::/112"),
    ],
)
def test_range_ids_that_are_prefixes(first: str, last: str, net: str) -> None:
    idci = id_from_range(ADDR(first), ADDR(last))
    idcr = id_from_network(NET("10.9.0.0/16") if ":" not in first else NET("2001:db8:9::/48"))
    ts = sel.ids_to_selector(wire(idci), wire(idcr), REMOTE, LOCAL)
    assert ts.dst == NET(net)


@pytest.mark.parametrize(
    "idci",
    [
        id_from_range(ADDR("10.0.0.1"), ADDR("10.0.0.255")),  # not aligned
        id_from_range(ADDR("10.0.0.0"), ADDR("10.0.0.2")),  # not a power of two
        IdPayload(id_type=IdentificationType.ID_FQDN, data=b"vpn.example"),
        IdPayload(
            id_type=IdentificationType.ID_IPV4_ADDR_SUBNET,
            data=bytes([10, 0, 0, 0, 255, 0, 255, 0]),
        ),
        IdPayload(id_type=IdentificationType.ID_IPV4_ADDR, data=b"\x0a\x00"),
        id_from_network(NET("2001:db8::/64")),  # family differs from IDcr
        id_from_network(NET("10.0.0.0/8"), protocol=UDP),  # protocol differs from IDcr
        id_from_network(NET("10.0.0.0/8"), port=80),  # port without protocol
    ],
)
def test_unusable_ids_are_invalid_id_information(idci: IdPayload) -> None:
    with pytest.raises(InvalidIdInformation) as info:
        sel.ids_to_selector(idci, id_from_network(NET("172.16.0.0/12")), REMOTE, LOCAL)
    assert info.value.notify == NotifyMessageType.INVALID_ID_INFORMATION


def test_nat_transport_replaces_host_ids_with_the_endpoints() -> None:
    # L2TP client behind a NAT proposes its private address; the policy uses the public one.
    idci = id_from_address(ADDR("192.168.1.10"), protocol=UDP, port=1701)
    idcr = id_from_address(ADDR("10.0.0.1"), protocol=UDP, port=1701)
    ts = sel.ids_to_selector(idci, idcr, REMOTE, LOCAL, nat_transport=True)
    assert (ts.src, ts.dst) == (NET("192.0.2.1/32"), NET("198.51.100.7/32"))
    assert (ts.protocol, ts.src_port, ts.dst_port) == (UDP, 1701, 1701)
    plain = sel.ids_to_selector(idci, idcr, REMOTE, LOCAL)
    assert plain.dst == NET("192.168.1.10/32")


def test_check_reply_ids() -> None:
    sent = (id_from_network(NET("10.1.0.0/24")), id_from_address(ADDR("10.2.0.1")))
    sel.check_reply_ids(sent, sent)
    sel.check_reply_ids(None, None)
    same = (sent[0], id_from_network(NET("10.2.0.1/32")))  # ADDR vs /32 SUBNET
    sel.check_reply_ids(sent, same)
    with pytest.raises(InvalidIdInformation):
        sel.check_reply_ids(sent, (sent[0], id_from_address(ADDR("10.2.0.2"))))
    with pytest.raises(InvalidIdInformation):
        sel.check_reply_ids(sent, None)


# --- match_policy ----------------------------------------------------------------------------

SITE = Policy(
    id=5,
    src=NET("10.2.0.0/24"),
    dst=NET("10.1.0.0/24"),
    tunnel=True,
    sa_src=LOCAL,
    sa_dst=REMOTE,
)


def test_match_policy_exact() -> None:
    ts = sel.TrafficSelector(src=NET("10.2.0.0/24"), dst=NET("10.1.0.0/24"))
    other = dataclasses.replace(SITE, id=4, dst=NET("10.1.0.0/16"))
    assert sel.match_policy([other, SITE], ts, LOCAL, REMOTE) is SITE
    # narrower or wider proposals do not match a configured policy
    assert (
        sel.match_policy([SITE], dataclasses.replace(ts, dst=NET("10.1.0.0/25")), LOCAL, REMOTE)
        is None
    )
    assert sel.match_policy([SITE], dataclasses.replace(ts, protocol=TCP), LOCAL, REMOTE) is None
    ported = dataclasses.replace(SITE, protocol=TCP, dst_port=22)
    assert sel.match_policy([ported], dataclasses.replace(ts, protocol=TCP), LOCAL, REMOTE) is None
    assert (
        sel.match_policy(
            [ported], dataclasses.replace(ts, protocol=TCP, dst_port=22), LOCAL, REMOTE
        )
        is ported
    )
    # sa-dst must be the peer (or unset); sa-src us (or unset); action encrypt
    assert sel.match_policy([SITE], ts, LOCAL, ADDR("203.0.113.9")) is None
    assert sel.match_policy([SITE], ts, ADDR("192.0.2.99"), REMOTE) is None
    unset = dataclasses.replace(SITE, sa_src=None, sa_dst=None)
    assert sel.match_policy([unset], ts, LOCAL, ADDR("203.0.113.9")) is unset
    assert (
        sel.match_policy([dataclasses.replace(SITE, action=Action.NONE)], ts, LOCAL, REMOTE) is None
    )


# --- generate_policy -------------------------------------------------------------------------

DEFAULT_TEMPLATE = TemplatePolicy(
    id=0, group="default", src=NET("::/0"), dst=NET("::/0"), protocol=None, proposal="default"
)
L2TP_SEL = sel.TrafficSelector(
    src=NET("192.0.2.1/32"), dst=NET("198.51.100.7/32"), protocol=UDP, src_port=1701, dst_port=1701
)


def test_generate_policy_port_strict_keeps_the_proposed_ports() -> None:
    p = sel.generate_policy(
        peer(generate_policy=GeneratePolicy.PORT_STRICT),
        [DEFAULT_TEMPLATE],
        L2TP_SEL,
        LOCAL,
        REMOTE,
        77,
    )
    assert p == Policy(
        id=77,
        src=NET("192.0.2.1/32"),
        dst=NET("198.51.100.7/32"),
        protocol=UDP,
        src_port=1701,
        dst_port=1701,
        tunnel=False,  # both sides are the SA endpoints: transport
        sa_src=LOCAL,
        sa_dst=REMOTE,
        proposal="default",
        level=Level.REQUIRE,
    )


def test_generate_policy_port_override_uses_any_port() -> None:
    p = sel.generate_policy(
        peer(generate_policy=GeneratePolicy.PORT_OVERRIDE),
        [DEFAULT_TEMPLATE],
        L2TP_SEL,
        LOCAL,
        REMOTE,
        1,
    )
    assert p is not None
    assert (p.protocol, p.src_port, p.dst_port) == (UDP, None, None)


def test_generate_policy_tunnel_from_a_matching_template() -> None:
    road = sel.TrafficSelector(src=NET("10.0.0.0/24"), dst=NET("192.168.77.5/32"))
    templates = [
        TemplatePolicy(
            id=1,
            group="other",
            src=NET("0.0.0.0/0"),
            dst=NET("0.0.0.0/0"),
            protocol=None,
            proposal="x",
        ),
        TemplatePolicy(
            id=2,
            group="rw",
            src=NET("10.0.0.0/16"),
            dst=NET("192.168.77.0/24"),
            protocol=TCP,
            proposal="y",
        ),
        TemplatePolicy(
            id=3,
            group="rw",
            src=NET("10.0.0.0/16"),
            dst=NET("192.168.77.0/24"),
            protocol=None,
            proposal="rw",
            level=Level.UNIQUE,
        ),
    ]
    cfg = peer(generate_policy=GeneratePolicy.PORT_OVERRIDE, policy_template_group="rw")
    p = sel.generate_policy(cfg, templates, road, LOCAL, REMOTE, 9)
    assert p is not None
    assert (p.proposal, p.level, p.tunnel, p.sa_src, p.sa_dst) == (
        "rw",
        Level.UNIQUE,
        True,
        LOCAL,
        REMOTE,
    )
    assert (p.src, p.dst, p.protocol) == (road.src, road.dst, None)
    # The TCP template fits a TCP proposal first.
    p = sel.generate_policy(
        cfg, templates, dataclasses.replace(road, protocol=TCP), LOCAL, REMOTE, 9
    )
    assert p is not None and p.proposal == "y"


@pytest.mark.parametrize(
    "selector",
    [
        sel.TrafficSelector(src=NET("10.1.0.0/24"), dst=NET("192.168.77.5/32")),  # local outside
        sel.TrafficSelector(src=NET("10.0.0.0/24"), dst=NET("192.168.78.5/32")),  # remote outside
        sel.TrafficSelector(src=NET("10.0.0.0/8"), dst=NET("192.168.77.5/32")),  # local wider
        sel.TrafficSelector(src=NET("2001:db8::/64"), dst=NET("2001:db8:1::/64")),  # family
        sel.TrafficSelector(src=NET("10.0.0.0/24"), dst=NET("192.168.77.5/32"), protocol=UDP),
    ],
)
def test_generate_policy_template_does_not_match(selector: sel.TrafficSelector) -> None:
    template = TemplatePolicy(
        id=2,
        group="default",
        src=NET("10.0.0.0/16"),
        dst=NET("192.168.77.0/24"),
        protocol=TCP if selector.protocol else None,
        proposal="y",
    )
    cfg = peer(generate_policy=GeneratePolicy.PORT_STRICT)
    assert sel.generate_policy(cfg, [template], selector, LOCAL, REMOTE, 1) is None


def test_generate_policy_off_or_other_group() -> None:
    assert sel.generate_policy(peer(), [DEFAULT_TEMPLATE], L2TP_SEL, LOCAL, REMOTE, 1) is None
    cfg = peer(generate_policy=GeneratePolicy.PORT_STRICT, policy_template_group="none-such")
    assert sel.generate_policy(cfg, [DEFAULT_TEMPLATE], L2TP_SEL, LOCAL, REMOTE, 1) is None


def test_default_template_covers_ipv6_too() -> None:
    v6 = sel.TrafficSelector(src=NET("2001:db8::1/128"), dst=NET("2001:db8:2::/64"))
    local6, remote6 = ADDR("2001:db8::1"), ADDR("2001:db8:2::1")
    p = sel.generate_policy(
        peer(generate_policy=GeneratePolicy.PORT_STRICT), [DEFAULT_TEMPLATE], v6, local6, remote6, 3
    )
    assert p is not None and p.tunnel and p.sa_dst == remote6
