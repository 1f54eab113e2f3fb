"""IKEv1 proposal building and selection (core/ikev1/proposals.py).

Offers are pushed through the wire codec and parsed back before the other side sees them, so
every round trip also checks the bytes (RFC 2408 §3.4-§3.6, RFC 2409 App. A, RFC 2407 §4.5).
"""

from __future__ import annotations

import dataclasses
import ipaddress

import pytest

from pyipsec.core.ikev1 import proposals as pr
from pyipsec.core.ikev1.errors import (
    AttributesNotSupported,
    BadProposalSyntax,
    LocalProtocolError,
    NoProposalChosen,
)
from pyipsec.core.profiles import AuthMethod, PeerProfile, ProposalCheck
from pyipsec.crypto import groups, registry
from pyipsec.wire.ikev1.attributes import Attribute
from pyipsec.wire.ikev1.constants import (
    KEY_IKE,
    IkeAttributeType,
    NotifyMessageType,
    PayloadType,
    ProtocolId,
)
from pyipsec.wire.ikev1.payloads import (
    CODECS,
    Proposal,
    SaPayload,
    Transform,
    push_payload_body,
)

IKE = IkeAttributeType


def wire(sa: SaPayload) -> SaPayload:
    """``sa`` as the other side decodes it."""
    out = CODECS[PayloadType.SA][0](push_payload_body(sa), PayloadType.SA)
    assert isinstance(out, SaPayload)
    return out


def peer(**kw: object) -> PeerProfile:
    base: dict[str, object] = {"id": 1, "address": ipaddress.ip_network("192.0.2.0/24")}
    base.update(kw)
    return PeerProfile(**base)  # type: ignore[arg-type]


def attrs_of(t: Transform) -> dict[int, int]:
    return {
        a.type: a.as_int() for a in t.attributes if a.type not in (IKE.LIFE_TYPE, IKE.LIFE_DURATION)
    }


def lives_of(t: Transform) -> list[tuple[int, int]]:
    a = t.attributes
    return [
        (a[i].as_int(), a[i + 1].as_int())
        for i in range(len(a) - 1)
        if a[i].type == IKE.LIFE_TYPE and a[i + 1].type == IKE.LIFE_DURATION
    ]


# --- phase 1: offer --------------------------------------------------------------------------


def test_phase1_offer_layout_and_attribute_values() -> None:
    p = peer(
        enc_algorithms=("aes-256", "3des"),
        dh_groups=("modp2048", "ec2n155"),
        hash_algorithm="sha256",
        lifetime=86400,
        lifebytes=1_000_000,
    )
    sa = wire(pr.phase1_offer(p))
    assert len(sa.proposals) == 1
    prop = sa.proposals[0]
    assert prop.protocol_id == ProtocolId.ISAKMP and prop.number == 1
    # enc outer, group inner, numbered from 1.
    assert [t.number for t in prop.transforms] == [1, 2, 3, 4]
    assert all(t.transform_id == KEY_IKE for t in prop.transforms)
    got = [attrs_of(t) for t in prop.transforms]
    # RFC 2409 App. A: AES-CBC 7 with Key Length 256, 3DES-CBC 5 without; SHA2-256 4; PSK 1;
    # MODP 2048 is group 14, EC2N 155 is group 3 by description only.
    assert got[0] == {
        IKE.ENCRYPTION_ALGORITHM: 7,
        IKE.KEY_LENGTH: 256,
        IKE.HASH_ALGORITHM: 4,
        IKE.AUTHENTICATION_METHOD: 1,
        IKE.GROUP_DESCRIPTION: 14,
    }
    assert got[1][IKE.GROUP_DESCRIPTION] == 3 and IKE.GROUP_TYPE not in got[1]
    assert got[2] == {
        IKE.ENCRYPTION_ALGORITHM: 5,
        IKE.HASH_ALGORITHM: 4,
        IKE.AUTHENTICATION_METHOD: 1,
        IKE.GROUP_DESCRIPTION: 14,
    }
    # seconds, then kilobytes (1_000_000 bytes = 976 KiB).
    assert lives_of(prop.transforms[0]) == [(1, 86400), (2, 976)]
    # 86400 > 0xFFFF: a 4-byte TLV duration (racoon decodes only 2 or 4 bytes).
    dur = next(a for a in prop.transforms[0].attributes if a.type == IKE.LIFE_DURATION)
    assert dur.value == (86400).to_bytes(4, "big")


@pytest.mark.parametrize(
    ("method", "wire_id"),
    [
        (AuthMethod.PRE_SHARED_KEY, 1),
        (AuthMethod.RSA_SIGNATURE, 3),
        (AuthMethod.RSA_KEY, 3),
        (AuthMethod.PRE_SHARED_KEY_XAUTH, 65001),
        (AuthMethod.RSA_SIGNATURE_HYBRID, 64221),
    ],
)
def test_phase1_auth_method_on_the_wire(method: AuthMethod, wire_id: int) -> None:
    sa = wire(pr.phase1_offer(peer(auth_method=method)))
    assert {attrs_of(t)[IKE.AUTHENTICATION_METHOD] for t in sa.proposals[0].transforms} == {wire_id}
    choice, _ = pr.select_phase1(peer(auth_method=method), sa)
    assert choice.auth is method and choice.auth_method_id == wire_id


def test_phase1_offer_refuses_what_ikev1_cannot_carry() -> None:
    with pytest.raises(LocalProtocolError):
        pr.phase1_offer(peer(auth_method=AuthMethod.EAP_RADIUS))
    with pytest.raises(LocalProtocolError):
        pr.phase1_offer(peer(dh_groups=("x25519",)))
    with pytest.raises(LocalProtocolError):
        pr.phase1_offer(peer(enc_algorithms=("aes-128-gcm",)))
    with pytest.raises(LocalProtocolError):
        pr.phase1_offer(peer(enc_algorithms=("rot13",)))


def test_phase1_lifetime_zero_is_not_sent_and_means_the_rfc_default() -> None:
    sa = wire(pr.phase1_offer(peer(lifetime=0)))
    assert lives_of(sa.proposals[0].transforms[0]) == []
    choice, _ = pr.select_phase1(peer(lifetime=0), sa)
    assert choice.lifetime == pr.DEFAULT_LIFETIME == 28800


# --- phase 1: round trips --------------------------------------------------------------------

PHASE1_ENC = [
    "des",
    "3des",
    "aes-128",
    "aes-192",
    "aes-256",
    "blowfish",
    "twofish",
    "camellia-128",
    "camellia-192",
    "camellia-256",
]
PHASE1_HASH = ["md5", "sha1", "sha256", "sha384", "sha512"]
PHASE1_GROUPS = [
    "modp768",
    "modp1024",
    "ec2n155",
    "ec2n185",
    "modp1536",
    "modp2048",
    "modp3072",
    "modp4096",
    "modp6144",
    "modp8192",
    "ecp256",
    "ecp384",
    "ecp521",
]


@pytest.mark.parametrize("enc", PHASE1_ENC)
@pytest.mark.parametrize("hash_name", PHASE1_HASH)
def test_phase1_round_trip_every_cipher_and_hash(enc: str, hash_name: str) -> None:
    for group in PHASE1_GROUPS:
        cfg = peer(enc_algorithms=(enc,), dh_groups=(group,), hash_algorithm=hash_name)
        offer = pr.phase1_offer(cfg)
        choice_r, reply = pr.select_phase1(cfg, wire(offer))
        choice_i = pr.accept_phase1_reply(cfg, offer, wire(reply))
        assert choice_r == choice_i
        assert choice_i.encryption is registry.encryption(enc)
        assert choice_i.prf is registry.prf(hash_name) and choice_i.hash_name == hash_name
        assert choice_i.group is groups.group(group)
        assert choice_i.lifetime == 86400 and choice_i.lifebytes == 0


def test_phase1_responder_takes_the_initiators_first_acceptable_transform() -> None:
    initiator = peer(enc_algorithms=("des", "aes-256", "3des"), dh_groups=("modp1024", "modp2048"))
    responder = peer(enc_algorithms=("3des", "aes-256"), dh_groups=("modp2048",))
    offer = wire(pr.phase1_offer(initiator))
    choice, reply = pr.select_phase1(responder, offer)
    # transforms: des/1024, des/2048, aes256/1024, aes256/2048 <- first acceptable.
    assert choice.transform_number == 4
    assert choice.encryption.name == "aes-256-cbc" and choice.group.name == "modp2048"
    assert len(reply.proposals) == 1 and len(reply.proposals[0].transforms) == 1
    assert reply.proposals[0].transforms[0] == offer.proposals[0].transforms[3]


@pytest.mark.parametrize(
    ("responder", "why"),
    [
        ({"enc_algorithms": ("3des",)}, "encryption"),
        ({"hash_algorithm": "md5"}, "hash"),
        ({"dh_groups": ("modp1536",)}, "group"),
        ({"auth_method": AuthMethod.RSA_SIGNATURE}, "authentication"),
    ],
)
def test_phase1_no_common_transform(responder: dict[str, object], why: str) -> None:
    offer = wire(pr.phase1_offer(peer(enc_algorithms=("aes-128",), dh_groups=("modp2048",))))
    with pytest.raises(NoProposalChosen) as info:
        pr.select_phase1(peer(**responder), offer)
    assert info.value.notify == NotifyMessageType.NO_PROPOSAL_CHOSEN
    assert why in str(info.value)


def test_phase1_aes_key_length_must_match() -> None:
    offer = wire(pr.phase1_offer(peer(enc_algorithms=("aes-256",))))
    with pytest.raises(NoProposalChosen):
        pr.select_phase1(peer(enc_algorithms=("aes-128",)), offer)


@pytest.mark.parametrize(
    ("check", "theirs", "ours", "result"),
    [
        (ProposalCheck.OBEY, 3600, 600, 3600),
        (ProposalCheck.OBEY, 600, 3600, 600),
        (ProposalCheck.STRICT, 600, 3600, 600),
        (ProposalCheck.STRICT, 3600, 600, None),
        (ProposalCheck.STRICT, 3600, 0, 3600),  # ours unlimited
        (ProposalCheck.CLAIM, 3600, 600, 600),
        (ProposalCheck.CLAIM, 600, 3600, 600),
        (ProposalCheck.EXACT, 600, 600, 600),
        (ProposalCheck.EXACT, 600, 601, None),
    ],
)
def test_phase1_lifetime_proposal_check(
    check: ProposalCheck, theirs: int, ours: int, result: int | None
) -> None:
    offer = wire(pr.phase1_offer(peer(lifetime=theirs)))
    responder = peer(lifetime=ours, proposal_check=check)
    if result is None:
        with pytest.raises(NoProposalChosen):
            pr.select_phase1(responder, offer)
    else:
        choice, _ = pr.select_phase1(responder, offer)
        assert choice.lifetime == result


def test_phase1_lifebytes_under_strict() -> None:
    offer = wire(pr.phase1_offer(peer(lifebytes=10 * 1024 * 1024)))
    with pytest.raises(NoProposalChosen):
        pr.select_phase1(peer(lifebytes=1024 * 1024, proposal_check=ProposalCheck.STRICT), offer)
    choice, _ = pr.select_phase1(peer(lifebytes=1024 * 1024), offer)
    assert choice.lifebytes == 10 * 1024


def _with_attrs(attributes: tuple[Attribute, ...]) -> SaPayload:
    t = Transform(number=1, transform_id=KEY_IKE, attributes=attributes)
    return SaPayload(
        proposals=(Proposal(number=1, protocol_id=ProtocolId.ISAKMP, transforms=(t,)),)
    )


BASE_ATTRS = (
    Attribute(type=IKE.ENCRYPTION_ALGORITHM, value=7),
    Attribute(type=IKE.KEY_LENGTH, value=128),
    Attribute(type=IKE.HASH_ALGORITHM, value=2),
    Attribute(type=IKE.AUTHENTICATION_METHOD, value=1),
    Attribute(type=IKE.GROUP_DESCRIPTION, value=14),
)


def test_phase1_hand_built_transform_is_accepted() -> None:
    choice, _ = pr.select_phase1(peer(), _with_attrs(BASE_ATTRS))
    assert choice.encryption.name == "aes-128-cbc" and choice.lifetime == 28800


def test_phase1_unknown_attribute_class_is_attributes_not_supported() -> None:
    with pytest.raises(AttributesNotSupported) as info:
        pr.select_phase1(peer(), _with_attrs((*BASE_ATTRS, Attribute(type=16383, value=1))))
    assert info.value.notify == NotifyMessageType.ATTRIBUTES_NOT_SUPPORTED
    # A PRF attribute (no values defined by RFC 2409 App. A) is one more unsupported class.
    with pytest.raises(AttributesNotSupported):
        pr.select_phase1(peer(), _with_attrs((*BASE_ATTRS, Attribute(type=IKE.PRF, value=1))))


def test_phase1_unsupported_transform_skipped_when_another_fits() -> None:
    bad = Transform(
        number=1, transform_id=KEY_IKE, attributes=(*BASE_ATTRS, Attribute(type=99, value=1))
    )
    good = Transform(number=2, transform_id=KEY_IKE, attributes=BASE_ATTRS)
    sa = SaPayload(
        proposals=(Proposal(number=1, protocol_id=ProtocolId.ISAKMP, transforms=(bad, good)),)
    )
    choice, reply = pr.select_phase1(peer(), wire(sa))
    assert choice.transform_number == 2 and reply.proposals[0].transforms == (good,)


@pytest.mark.parametrize(
    "attributes",
    [
        (*BASE_ATTRS, Attribute(type=IKE.LIFE_DURATION, value=60)),  # duration without type
        (*BASE_ATTRS, Attribute(type=IKE.LIFE_TYPE, value=1)),  # type without duration
        (*BASE_ATTRS, Attribute(type=IKE.HASH_ALGORITHM, value=2)),  # repeated class
        (
            *BASE_ATTRS,
            Attribute(type=IKE.LIFE_TYPE, value=1),
            Attribute(type=IKE.LIFE_DURATION, value=6),
            Attribute(type=IKE.LIFE_TYPE, value=1),
            Attribute(type=IKE.LIFE_DURATION, value=7),
        ),
    ],
)
def test_phase1_attribute_syntax_errors(attributes: tuple[Attribute, ...]) -> None:
    with pytest.raises(BadProposalSyntax) as info:
        pr.select_phase1(peer(), _with_attrs(attributes))
    assert info.value.notify == NotifyMessageType.BAD_PROPOSAL_SYNTAX


@pytest.mark.parametrize(
    "attributes",
    [
        BASE_ATTRS[:4],  # no group
        (BASE_ATTRS[0], *BASE_ATTRS[2:]),  # AES without Key Length
        (*BASE_ATTRS, Attribute(type=IKE.GROUP_TYPE, value=3)),  # EC2N type for a MODP group
        (
            *BASE_ATTRS,
            Attribute(type=IKE.LIFE_TYPE, value=9),
            Attribute(type=IKE.LIFE_DURATION, value=6),
        ),
        (
            *BASE_ATTRS,
            Attribute(type=IKE.LIFE_TYPE, value=1),
            Attribute(type=IKE.LIFE_DURATION, value=0),
        ),
        (
            BASE_ATTRS[0],
            BASE_ATTRS[1],
            Attribute(type=IKE.HASH_ALGORITHM, value=77),
            *BASE_ATTRS[3:],
        ),
    ],
)
def test_phase1_unacceptable_values(attributes: tuple[Attribute, ...]) -> None:
    with pytest.raises(NoProposalChosen):
        pr.select_phase1(peer(), _with_attrs(attributes))


def test_phase1_group_type_consistent_with_description_is_fine() -> None:
    attrs = (*BASE_ATTRS, Attribute(type=IKE.GROUP_TYPE, value=1))
    choice, _ = pr.select_phase1(peer(), _with_attrs(attrs))
    assert choice.group.id == 14


def test_phase1_non_isakmp_proposal_is_refused() -> None:
    sa = dataclasses.replace(
        pr.phase1_offer(peer()),
        proposals=(dataclasses.replace(pr.phase1_offer(peer()).proposals[0], protocol_id=3),),
    )
    with pytest.raises(NoProposalChosen):
        pr.select_phase1(peer(), sa)


def test_phase1_accept_reply_checks() -> None:
    cfg = peer(enc_algorithms=("aes-128", "3des"))
    offer = pr.phase1_offer(cfg)
    _, reply = pr.select_phase1(cfg, wire(offer))
    # Re-encoded lifetime (2-byte TLV instead of TV) is the same value: accepted.
    t = reply.proposals[0].transforms[0]
    reencoded = tuple(
        Attribute.variable(a.type, a.as_int(), size=4) if a.type == IKE.LIFE_DURATION else a
        for a in t.attributes
    )
    other = dataclasses.replace(
        reply,
        proposals=(
            dataclasses.replace(
                reply.proposals[0], transforms=(dataclasses.replace(t, attributes=reencoded),)
            ),
        ),
    )
    assert pr.accept_phase1_reply(cfg, offer, other).encryption.name == "aes-128-cbc"
    # Something we never offered.
    foreign = pr.phase1_offer(peer(enc_algorithms=("des",), dh_groups=("modp2048",)))
    with pytest.raises(NoProposalChosen):
        pr.accept_phase1_reply(cfg, offer, foreign)
    # Two transforms back.
    with pytest.raises(BadProposalSyntax):
        pr.accept_phase1_reply(cfg, offer, offer)
