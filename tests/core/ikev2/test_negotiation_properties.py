"""Properties of the IKEv2 proposal choice and traffic-selector narrowing under arbitrary peer
input (Hypothesis): nothing but the typed protocol errors escapes, a reply only ever holds what
was offered (RFC 7296 §2.7, §2.9), and what our responder answers our initiator accepts."""

from __future__ import annotations

import contextlib
import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from pyipsec.core.ikev2 import child_proposals as cp
from pyipsec.core.ikev2 import proposals as pr
from pyipsec.core.ikev2 import traffic_selectors as ts
from pyipsec.core.ikev2.errors import RemoteProtocolError, TsUnacceptable
from pyipsec.core.profiles import GeneratePolicy, PeerProfile, ProposalProfile, TemplatePolicy
from pyipsec.dataplane.policy import Policy
from pyipsec.wire.ikev2.constants import TsType
from pyipsec.wire.ikev2.payloads import Proposal, SaPayload, TrafficSelector, Transform

PEER = PeerProfile(
    id=1,
    address=ipaddress.ip_network("198.51.100.0/24"),
    enc_algorithms=("aes-128", "aes-256-gcm", "3des"),
    hash_algorithm="sha256",
    dh_groups=("modp2048", "ecp256"),
    generate_policy=GeneratePolicy.PORT_STRICT,
)
PROFILE = ProposalProfile(
    name="p",
    enc_algorithms=("aes-128-cbc", "aes-128-gcm", "null"),
    auth_algorithms=("sha1", "null"),
    pfs_group="modp2048",
)
POLICY = Policy(
    id=1, src=ipaddress.ip_network("10.1.0.0/24"), dst=ipaddress.ip_network("10.2.0.0/24")
)

transforms = st.builds(
    Transform,
    type=st.sampled_from([1, 2, 3, 4, 5, 6, 200]),
    id=st.sampled_from([0, 1, 2, 3, 5, 12, 14, 19, 20, 28, 31, 1024]),
    key_length=st.sampled_from([None, None, 128, 256, 7]),
)
proposals = st.builds(
    Proposal,
    number=st.integers(1, 4),
    protocol=st.sampled_from([1, 2, 3, 9]),
    spi=st.sampled_from([b"", b"\0\0\1\0", b"\0\0\0\1", b"\1" * 8]),
    transforms=st.lists(transforms, max_size=8).map(tuple),
)
sa_payloads = st.builds(SaPayload, proposals=st.lists(proposals, min_size=1, max_size=4).map(tuple))
groups = st.sampled_from([None, 2, 14, 19, 31, 999])


def _inside(reply: SaPayload, offer: SaPayload) -> None:
    (answer,) = reply.proposals
    offered = next(p for p in offer.proposals if p.number == answer.number)
    assert all(t in offered.transforms for t in answer.transforms)
    types = [t.type for t in answer.transforms]
    assert len(types) == len(set(types))


@settings(max_examples=300, deadline=None)
@given(sa_payloads, groups)
def test_ike_choice_only_from_the_offer(offer: SaPayload, ke_group: int | None) -> None:
    try:
        choice, reply = pr.select_ike(PEER, offer, ke_group=ke_group)
    except RemoteProtocolError:
        return
    _inside(reply, offer)
    assert choice.group.id == ke_group
    assert (
        pr.accept_ike_reply(PEER, offer, reply, ke_group=ke_group).encryption == choice.encryption
    )


@settings(max_examples=300, deadline=None)
@given(sa_payloads, groups, st.booleans())
def test_child_choice_only_from_the_offer(
    offer: SaPayload, ke_group: int | None, first_child: bool
) -> None:
    try:
        choice, reply = cp.select_child(
            PROFILE, POLICY, offer, spi=0x1000, ke_group=ke_group, first_child=first_child
        )
    except RemoteProtocolError:
        return
    _inside(reply, offer)
    # IKE_AUTH's first child never has PFS; otherwise the group is the KE payload's (§1.3.1).
    assert (choice.group.id if choice.group else None) == (None if first_child else ke_group)


@settings(max_examples=200, deadline=None)
@given(sa_payloads)
def test_initiator_reply_check_never_crashes(reply: SaPayload) -> None:
    with contextlib.suppress(RemoteProtocolError):
        pr.accept_ike_reply(PEER, pr.ike_offer(PEER), reply, ke_group=14)
    with contextlib.suppress(RemoteProtocolError):
        cp.accept_child_reply(cp.child_offer(PROFILE, POLICY, 0x1000, pfs=True), reply, ke_group=14)


def _v4(value: int) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(0x0A000000 + value)  # inside 10.0.0.0/8


selectors = st.builds(
    lambda a, b, proto, p1, p2: TrafficSelector(
        ts_type=TsType.TS_IPV4_ADDR_RANGE,
        protocol=proto,
        start_port=p1,
        end_port=p2,
        start=_v4(a),
        end=_v4(b),
    ),
    st.integers(0, 0x30000),
    st.integers(0, 0x30000),
    st.sampled_from([0, 0, 6, 17]),
    st.sampled_from([0, 80, 65535]),
    st.sampled_from([0, 80, 443, 65535]),
)
networks = st.builds(
    lambda value, plen: ipaddress.ip_network((_v4(value), plen), strict=False),
    st.integers(0, 0x30000),
    st.integers(12, 32),
)
policies = st.builds(
    lambda i, src, dst, proto: Policy(id=i, src=src, dst=dst, protocol=proto, tunnel=True),
    st.integers(1, 50),
    networks,
    networks,
    st.sampled_from([None, 6]),
)
TEMPLATE = TemplatePolicy(
    id=0,
    group="default",
    src=ipaddress.ip_network("10.1.0.0/16"),
    dst=ipaddress.ip_network("10.0.0.0/15"),
    protocol=None,
    proposal="p",
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(selectors, max_size=3),
    st.lists(selectors, max_size=3),
    st.lists(policies, max_size=3),
    st.booleans(),
)
def test_narrowing_stays_inside_the_offer_and_our_initiator_accepts_it(
    tsi: list[TrafficSelector], tsr: list[TrafficSelector], pols: list[Policy], templates: bool
) -> None:
    try:
        got = ts.narrow(
            tsi,
            tsr,
            policies=pols,
            peer=PEER,
            templates=(TEMPLATE,) if templates else (),
            local=ipaddress.ip_address("203.0.113.1"),
            remote=ipaddress.ip_address("198.51.100.7"),
            new_id=lambda: 77,
        )
    except TsUnacceptable:
        return
    assert got.tsi and got.tsr
    assert ts.accept_narrowed(tsi, tsr, got.tsi, got.tsr) == (got.tsi, got.tsr)
    if not got.generated:
        assert got.policy in pols
    else:
        assert got.policy.id == 77
        assert got.policy.src.subnet_of(TEMPLATE.src) and got.policy.dst.subnet_of(TEMPLATE.dst)  # type: ignore[arg-type]
