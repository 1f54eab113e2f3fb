"""IKEv1 proposal building and selection (core/ikev1/proposals.py).

Offers are pushed through the wire codec and parsed back before the other side sees them, so
every round trip also checks the bytes (RFC 2408 §3.4-§3.6, RFC 2409 App. A, RFC 2407 §4.5).
"""

from __future__ import annotations

import dataclasses
import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyipsec.core.ikev1 import proposals as pr
from pyipsec.core.ikev1.errors import (
    AttributesNotSupported,
    BadProposalSyntax,
    InvalidSpi,
    LocalProtocolError,
    NoProposalChosen,
    ProtocolError,
)
from pyipsec.core.profiles import AuthMethod, PeerProfile, ProposalCheck, ProposalProfile
from pyipsec.crypto import groups, registry
from pyipsec.dataplane.policy import Mode, Policy
from pyipsec.dataplane.sad import SaProtocol
from pyipsec.wire.ikev1.attributes import Attribute, push_attributes
from pyipsec.wire.ikev1.constants import (
    KEY_IKE,
    IkeAttributeType,
    IpsecAttributeType,
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


# --- phase 2 ---------------------------------------------------------------------------------

IPSEC = IpsecAttributeType
NET = ipaddress.ip_network
ADDR = ipaddress.ip_address
TUNNEL = Policy(
    id=1,
    src=NET("10.1.0.0/24"),
    dst=NET("10.2.0.0/24"),
    tunnel=True,
    sa_src=ADDR("192.0.2.1"),
    sa_dst=ADDR("198.51.100.1"),
)
TRANSPORT = Policy(id=2, src=NET("192.0.2.1/32"), dst=NET("198.51.100.1/32"))
SPIS_I = {SaProtocol.ESP: 0x11111111, SaProtocol.AH: 0x22222222}
SPIS_R = {SaProtocol.ESP: 0x33333333, SaProtocol.AH: 0x44444444}


def prop(**kw: object) -> ProposalProfile:
    base: dict[str, object] = {"name": "default"}
    base.update(kw)
    return ProposalProfile(**base)  # type: ignore[arg-type]


def p2_attrs(t: Transform) -> dict[int, int]:
    return {
        a.type: a.as_int()
        for a in t.attributes
        if a.type not in (IPSEC.SA_LIFE_TYPE, IPSEC.SA_LIFE_DURATION)
    }


def p2_lives(t: Transform) -> list[tuple[int, int]]:
    a = t.attributes
    return [
        (a[i].as_int(), a[i + 1].as_int())
        for i in range(len(a) - 1)
        if a[i].type == IPSEC.SA_LIFE_TYPE and a[i + 1].type == IPSEC.SA_LIFE_DURATION
    ]


def round_trip(
    offer_profile: ProposalProfile,
    select_profile: ProposalProfile,
    policy: Policy,
    *,
    check: ProposalCheck = ProposalCheck.OBEY,
    udp_encap: bool = False,
    natt_draft: bool = False,
) -> tuple[pr.Phase2Choice, pr.Phase2Choice]:
    offer = pr.phase2_offer(
        offer_profile, policy, SPIS_I, udp_encap=udp_encap, natt_draft=natt_draft
    )
    choice_r, answer = pr.select_phase2(
        select_profile, policy, wire(offer), check, udp_encap=udp_encap
    )
    reply = wire(pr.answer_with_spis(answer, SPIS_R))
    choice_i = pr.accept_phase2_reply(offer, reply, udp_encap=udp_encap)
    return choice_r, choice_i


def same_but_spis(a: pr.Phase2Choice, b: pr.Phase2Choice) -> bool:
    def strip(c: pr.Phase2Choice) -> pr.Phase2Choice:
        return dataclasses.replace(
            c,
            items=tuple(dataclasses.replace(i, peer_spi=0) for i in c.items),
            responder_lifetime=None,
        )

    return strip(a) == strip(b)


def test_phase2_esp_offer_layout() -> None:
    p = prop(
        enc_algorithms=("aes-256-cbc", "aes-128-gcm", "3des"),
        auth_algorithms=("sha1", "sha256"),
        pfs_group="modp2048",
        lifetime=1800,
    )
    sa = wire(pr.phase2_offer(p, TUNNEL, SPIS_I, udp_encap=False))
    assert len(sa.proposals) == 1
    esp = sa.proposals[0]
    assert esp.protocol_id == ProtocolId.IPSEC_ESP and esp.number == 1
    assert esp.spi == bytes.fromhex("11111111")
    # RFC 2407 §4.4.4 / RFC 3602 / RFC 4106: ESP_AES 12, ESP_AES-GCM-16 20, ESP_3DES 3.
    assert [t.transform_id for t in esp.transforms] == [12, 12, 20, 3, 3]
    assert [t.number for t in esp.transforms] == [1, 2, 3, 4, 5]
    common = {IPSEC.GROUP_DESCRIPTION: 14, IPSEC.ENCAPSULATION_MODE: 1}
    got = [p2_attrs(t) for t in esp.transforms]
    assert got[0] == {**common, IPSEC.AUTHENTICATION_ALGORITHM: 2, IPSEC.KEY_LENGTH: 256}
    assert got[1] == {**common, IPSEC.AUTHENTICATION_ALGORITHM: 5, IPSEC.KEY_LENGTH: 256}
    assert got[2] == {**common, IPSEC.KEY_LENGTH: 128}  # AEAD: no Authentication Algorithm
    assert got[3] == {**common, IPSEC.AUTHENTICATION_ALGORITHM: 2}  # 3DES: no Key Length
    assert all(p2_lives(t) == [(1, 1800)] for t in esp.transforms)


def test_phase2_ah_esp_offer_shares_the_proposal_number() -> None:
    p = prop(enc_algorithms=("aes-128-cbc",), auth_algorithms=("sha1", "sha512"), pfs_group=None)
    policy = dataclasses.replace(TRANSPORT, ah=True, esp=True)
    sa = wire(pr.phase2_offer(p, policy, SPIS_I, udp_encap=False))
    assert [(q.number, q.protocol_id) for q in sa.proposals] == [
        (1, ProtocolId.IPSEC_ESP),
        (1, ProtocolId.IPSEC_AH),
    ]
    ah = sa.proposals[1]
    assert ah.spi == bytes.fromhex("22222222")
    # RFC 2407 §4.4.3 AH_SHA 3 with HMAC-SHA 2; RFC 4868 AH_SHA2_512 7 with 7.
    assert [
        (t.transform_id, p2_attrs(t)[IPSEC.AUTHENTICATION_ALGORITHM]) for t in ah.transforms
    ] == [
        (3, 2),
        (7, 7),
    ]
    assert all(IPSEC.GROUP_DESCRIPTION not in p2_attrs(t) for t in ah.transforms)
    assert {p2_attrs(t)[IPSEC.ENCAPSULATION_MODE] for t in ah.transforms} == {2}


@pytest.mark.parametrize(
    ("policy", "udp", "draft", "value"),
    [
        (TUNNEL, False, False, 1),
        (TRANSPORT, False, False, 2),
        (TUNNEL, True, False, 3),
        (TRANSPORT, True, False, 4),
        (TUNNEL, True, True, 61443),
        (TRANSPORT, True, True, 61444),
        (TUNNEL, False, True, 1),
    ],
)
def test_phase2_encapsulation_mode(policy: Policy, udp: bool, draft: bool, value: int) -> None:
    sa = wire(pr.phase2_offer(prop(), policy, SPIS_I, udp_encap=udp, natt_draft=draft))
    assert {p2_attrs(t)[IPSEC.ENCAPSULATION_MODE] for t in sa.proposals[0].transforms} == {value}
    choice_r, choice_i = round_trip(prop(), prop(), policy, udp_encap=udp, natt_draft=draft)
    assert choice_r.mode is choice_i.mode is policy.mode
    assert choice_r.udp_encap is choice_i.udp_encap is udp
    assert choice_r.encapsulation_mode == choice_i.encapsulation_mode == value


@pytest.mark.parametrize("auth", [("null",), ("",), ()])
def test_phase2_null_auth(auth: tuple[str, ...]) -> None:
    p = prop(enc_algorithms=("aes-128-cbc", "null"), auth_algorithms=auth)
    sa = wire(pr.phase2_offer(p, TUNNEL, SPIS_I, udp_encap=False))
    transforms = sa.proposals[0].transforms
    # NULL encryption with null integrity is never offered (RFC 4303 §3.2).
    assert [t.transform_id for t in transforms] == [12]
    assert IPSEC.AUTHENTICATION_ALGORITHM not in p2_attrs(transforms[0])
    choice_r, choice_i = round_trip(p, p, TUNNEL)
    assert choice_i.items[0].integrity is None and same_but_spis(choice_r, choice_i)


def test_phase2_offer_refusals() -> None:
    with pytest.raises(LocalProtocolError):
        pr.phase2_offer(prop(enc_algorithms=("chacha20poly1305",)), TUNNEL, SPIS_I, udp_encap=False)
    with pytest.raises(LocalProtocolError):  # AH with null auth only
        pr.phase2_offer(
            prop(auth_algorithms=("null",)),
            dataclasses.replace(TUNNEL, ah=True, esp=False),
            SPIS_I,
            udp_encap=False,
        )
    with pytest.raises(LocalProtocolError):  # no SPI for AH
        pr.phase2_offer(
            prop(), dataclasses.replace(TUNNEL, ah=True), {SaProtocol.ESP: 0x1000}, udp_encap=False
        )


# Every ESP cipher with an IKEv1 id, by its canonical name (aliases such as aes-128 skipped).
ESP_CIPHERS = sorted({a.name for a in registry.ENCRYPTION.values() if a.ikev1_esp_id is not None})
AUTHS = ["md5", "sha1", "sha256", "sha384", "sha512", "null"]


@pytest.mark.parametrize("enc", ESP_CIPHERS)
def test_phase2_round_trip_every_esp_cipher(enc: str) -> None:
    for auth in AUTHS:
        p = prop(enc_algorithms=(enc,), auth_algorithms=(auth,))
        if enc == "null" and auth == "null":
            continue
        choice_r, choice_i = round_trip(p, p, TUNNEL)
        assert same_but_spis(choice_r, choice_i)
        item = choice_i.items[0]
        assert item.encryption is registry.encryption(enc)
        aead = registry.encryption(enc).aead
        assert item.integrity is (None if aead or auth == "null" else registry.integrity(auth))
        assert choice_r.items[0].peer_spi == SPIS_I[SaProtocol.ESP]
        assert choice_i.peer_spis == {SaProtocol.ESP: SPIS_R[SaProtocol.ESP]}
        assert choice_i.pfs_group is groups.group("modp1024") and choice_i.lifetime == 1800


@pytest.mark.parametrize("protocols", [(True, False), (False, True), (True, True)])
@pytest.mark.parametrize("policy", [TUNNEL, TRANSPORT])
@pytest.mark.parametrize("udp", [False, True])
def test_phase2_round_trip_bundles(protocols: tuple[bool, bool], policy: Policy, udp: bool) -> None:
    esp, ah = protocols
    pol = dataclasses.replace(policy, esp=esp, ah=ah)
    p = prop(auth_algorithms=("sha256", "sha1"))
    choice_r, choice_i = round_trip(p, p, pol, udp_encap=udp)
    assert same_but_spis(choice_r, choice_i)
    want = {SaProtocol.ESP} if esp else set()
    want |= {SaProtocol.AH} if ah else set()
    assert set(choice_i.peer_spis) == want
    assert choice_i.peer_spis == {k: SPIS_R[k] for k in want}
    assert choice_r.peer_spis == {k: SPIS_I[k] for k in want}
    if ah:
        item = choice_i.item(SaProtocol.AH)
        assert item is not None and item.integrity is registry.integrity("sha256")
        assert item.encryption is None and item.transform_id == 5


def test_phase2_responder_picks_in_the_initiators_order() -> None:
    initiator = prop(enc_algorithms=("3des", "aes-128-cbc"), auth_algorithms=("md5", "sha1"))
    responder = prop(enc_algorithms=("aes-128-cbc", "3des"), auth_algorithms=("sha1",))
    choice_r, choice_i = round_trip(initiator, responder, TUNNEL)
    assert choice_r.items[0].encryption is registry.encryption("3des")
    assert choice_r.items[0].integrity is registry.integrity("sha1")
    assert choice_r.items[0].transform_number == 2
    assert same_but_spis(choice_r, choice_i)


def _refused(
    offer_profile: ProposalProfile,
    select_profile: ProposalProfile,
    policy: Policy = TUNNEL,
    *,
    check: ProposalCheck = ProposalCheck.OBEY,
    udp_encap: bool = False,
    offer_policy: Policy | None = None,
    offer_udp: bool | None = None,
) -> NoProposalChosen:
    offer = pr.phase2_offer(
        offer_profile,
        offer_policy or policy,
        SPIS_I,
        udp_encap=udp_encap if offer_udp is None else offer_udp,
    )
    with pytest.raises(NoProposalChosen) as info:
        pr.select_phase2(select_profile, policy, wire(offer), check, udp_encap=udp_encap)
    assert info.value.notify == NotifyMessageType.NO_PROPOSAL_CHOSEN
    return info.value


def test_phase2_refusals() -> None:
    # no common cipher / auth
    _refused(prop(enc_algorithms=("3des",)), prop(enc_algorithms=("aes-128-cbc",)))
    _refused(prop(auth_algorithms=("md5",)), prop(auth_algorithms=("sha1",)))
    # key length differs
    _refused(prop(enc_algorithms=("aes-256-cbc",)), prop(enc_algorithms=("aes-128-cbc",)))
    # ESP without integrity to a responder that wants integrity
    _refused(prop(auth_algorithms=("null",)), prop(auth_algorithms=("sha1",)))
    # transport offered to a tunnel policy and the reverse
    err = _refused(prop(), prop(), TUNNEL, offer_policy=TRANSPORT)
    assert "transport mode offered for a tunnel policy" in str(err)
    _refused(prop(), prop(), TRANSPORT, offer_policy=TUNNEL)
    # UDP encapsulation offered when we saw no NAT
    _refused(prop(), prop(), TUNNEL, udp_encap=False, offer_udp=True)
    # ESP offered for an AH+ESP policy, AH+ESP for an ESP policy
    _refused(prop(), prop(), dataclasses.replace(TUNNEL, ah=True), offer_policy=TUNNEL)
    _refused(prop(), prop(), TUNNEL, offer_policy=dataclasses.replace(TUNNEL, ah=True))


def test_phase2_plain_mode_accepted_under_nat() -> None:
    offer = pr.phase2_offer(prop(), TUNNEL, SPIS_I, udp_encap=False)
    choice, _ = pr.select_phase2(prop(), TUNNEL, wire(offer), ProposalCheck.OBEY, udp_encap=True)
    assert choice.udp_encap and choice.encapsulation_mode == 1


# (check, initiator pfs, responder pfs) -> chosen pfs or None for refused ("-" = no PFS).
PFS_TABLE = [
    (ProposalCheck.OBEY, None, "modp1024", "-"),
    (ProposalCheck.OBEY, "modp2048", "modp1024", "modp2048"),
    (ProposalCheck.OBEY, "modp1024", None, "modp1024"),
    (ProposalCheck.STRICT, None, "modp1024", None),
    (ProposalCheck.STRICT, "modp2048", "modp1024", None),
    (ProposalCheck.STRICT, "modp1024", None, "modp1024"),
    (ProposalCheck.STRICT, "modp1024", "modp1024", "modp1024"),
    (ProposalCheck.CLAIM, None, "modp1024", None),
    (ProposalCheck.CLAIM, "modp2048", "modp1024", None),
    (ProposalCheck.CLAIM, "modp1024", None, "modp1024"),
    (ProposalCheck.EXACT, "modp1024", None, None),
    (ProposalCheck.EXACT, None, "modp1024", None),
    (ProposalCheck.EXACT, None, None, "-"),
    (ProposalCheck.EXACT, "ecp256", "ecp256", "ecp256"),
]


@pytest.mark.parametrize(("check", "theirs", "ours", "result"), PFS_TABLE)
def test_phase2_pfs_proposal_check(
    check: ProposalCheck, theirs: str | None, ours: str | None, result: str | None
) -> None:
    initiator, responder = prop(pfs_group=theirs), prop(pfs_group=ours)
    if result is None:
        _refused(initiator, responder, check=check)
        return
    choice_r, choice_i = round_trip(initiator, responder, TUNNEL, check=check)
    want = None if result == "-" else groups.group(result)
    assert choice_r.pfs_group is want and choice_i.pfs_group is want


# (check, initiator lifetime, responder lifetime) -> (lifetime, responder_lifetime) or None.
LIFE_TABLE = [
    (ProposalCheck.OBEY, 3600, 1800, (3600, None)),
    (ProposalCheck.STRICT, 3600, 1800, None),
    (ProposalCheck.STRICT, 900, 1800, (900, None)),
    (ProposalCheck.STRICT, 3600, 0, (3600, None)),
    (ProposalCheck.CLAIM, 3600, 1800, (1800, 1800)),
    (ProposalCheck.CLAIM, 900, 1800, (900, None)),
    (ProposalCheck.EXACT, 1800, 1800, (1800, None)),
    (ProposalCheck.EXACT, 1801, 1800, None),
]


@pytest.mark.parametrize(("check", "theirs", "ours", "result"), LIFE_TABLE)
def test_phase2_lifetime_proposal_check(
    check: ProposalCheck, theirs: int, ours: int, result: tuple[int, int | None] | None
) -> None:
    initiator, responder = prop(lifetime=theirs), prop(lifetime=ours)
    if result is None:
        _refused(initiator, responder, check=check)
        return
    choice_r, choice_i = round_trip(initiator, responder, TUNNEL, check=check)
    assert (choice_r.lifetime, choice_r.responder_lifetime) == result
    assert choice_i.lifetime == theirs  # until the RESPONDER-LIFETIME arrives


def test_phase2_responder_lifetime_under_claim() -> None:
    choice_r, choice_i = round_trip(
        prop(lifetime=3600), prop(lifetime=600), TUNNEL, check=ProposalCheck.CLAIM
    )
    assert choice_r.responder_lifetime == 600
    notify = pr.responder_lifetime_notify(choice_r, protocol=SaProtocol.ESP, spi=0x33333333)
    assert notify.notify_type == 24576  # RESPONDER-LIFETIME
    assert notify.protocol_id == ProtocolId.IPSEC_ESP and notify.spi == bytes.fromhex("33333333")
    # RFC 2407 §4.6.3.1: the data is SA Life Type (seconds) + SA Life Duration.
    assert notify.data == bytes.fromhex("8001000180020258")
    updated = pr.apply_responder_lifetime(choice_i, notify.data)
    assert updated.lifetime == 600 and same_but_spis(updated, choice_r)
    # A longer value does not lengthen the SA; kilobytes are applied too.
    longer = push_attributes(
        (
            Attribute(type=IPSEC.SA_LIFE_TYPE, value=1),
            Attribute(type=IPSEC.SA_LIFE_DURATION, value=7200),
            Attribute(type=IPSEC.SA_LIFE_TYPE, value=2),
            Attribute(type=IPSEC.SA_LIFE_DURATION, value=500),
        )
    )
    again = pr.apply_responder_lifetime(updated, longer)
    assert (again.lifetime, again.lifebytes) == (600, 500)
    with pytest.raises(ProtocolError):
        pr.apply_responder_lifetime(updated, b"\x80\x01")
    with pytest.raises(ValueError):
        pr.responder_lifetime_notify(choice_i, protocol=SaProtocol.ESP, spi=1)


def test_phase2_lifebytes_offer_and_strict() -> None:
    offer = pr.phase2_offer(prop(), TUNNEL, SPIS_I, udp_encap=False, lifebytes=2048 * 1024)
    assert p2_lives(offer.proposals[0].transforms[0]) == [(1, 1800), (2, 2048)]
    choice, _ = pr.select_phase2(prop(), TUNNEL, wire(offer), ProposalCheck.STRICT, udp_encap=False)
    assert choice.lifebytes == 2048  # our proposal has no byte limit: unlimited


def test_esp_keymat_layout() -> None:
    gcm, _ = round_trip(
        prop(enc_algorithms=("aes-128-gcm",)), prop(enc_algorithms=("aes-128-gcm",)), TUNNEL
    )
    assert pr.esp_keymat_layout(gcm.items[0]) == (20, 0)  # 16-byte key + 4-byte salt
    cbc, _ = round_trip(
        prop(enc_algorithms=("aes-256-cbc",), auth_algorithms=("sha256",)),
        prop(enc_algorithms=("aes-256-cbc",), auth_algorithms=("sha256",)),
        TUNNEL,
    )
    assert pr.esp_keymat_layout(cbc.items[0]) == (32, 32)
    pol = dataclasses.replace(TUNNEL, esp=False, ah=True)
    ah, _ = round_trip(prop(auth_algorithms=("sha1",)), prop(auth_algorithms=("sha1",)), pol)
    assert pr.esp_keymat_layout(ah.items[0]) == (0, 20)


def _esp_sa(*transforms: Transform, spi: bytes = b"\x00\x00\x10\x00") -> SaPayload:
    return SaPayload(
        proposals=(
            Proposal(number=1, protocol_id=ProtocolId.IPSEC_ESP, spi=spi, transforms=transforms),
        )
    )


GOOD_ESP = Transform(
    number=1,
    transform_id=12,
    attributes=(
        Attribute(type=IPSEC.SA_LIFE_TYPE, value=1),
        Attribute(type=IPSEC.SA_LIFE_DURATION, value=1800),
        Attribute(type=IPSEC.GROUP_DESCRIPTION, value=2),
        Attribute(type=IPSEC.ENCAPSULATION_MODE, value=1),
        Attribute(type=IPSEC.AUTHENTICATION_ALGORITHM, value=2),
        Attribute(type=IPSEC.KEY_LENGTH, value=128),
    ),
)


def test_phase2_hand_built_and_malformed() -> None:
    choice, answer = pr.select_phase2(
        prop(), TUNNEL, _esp_sa(GOOD_ESP), ProposalCheck.OBEY, udp_encap=False
    )
    assert choice.items[0].encryption is registry.encryption("aes-128-cbc")
    assert choice.items[0].peer_spi == 0x1000
    assert pr.answer_with_spis(answer, SPIS_R).proposals[0].spi == bytes.fromhex("33333333")
    with pytest.raises(InvalidSpi):
        pr.select_phase2(
            prop(), TUNNEL, _esp_sa(GOOD_ESP, spi=b"\x01\x02"), ProposalCheck.OBEY, udp_encap=False
        )
    with pytest.raises(InvalidSpi):
        pr.select_phase2(
            prop(), TUNNEL, _esp_sa(GOOD_ESP, spi=bytes(4)), ProposalCheck.OBEY, udp_encap=False
        )
    dup = dataclasses.replace(
        GOOD_ESP, attributes=(*GOOD_ESP.attributes, Attribute(type=IPSEC.KEY_LENGTH, value=128))
    )
    with pytest.raises(BadProposalSyntax):
        pr.select_phase2(prop(), TUNNEL, _esp_sa(dup), ProposalCheck.OBEY, udp_encap=False)
    rounds = dataclasses.replace(
        GOOD_ESP, attributes=(*GOOD_ESP.attributes, Attribute(type=IPSEC.KEY_ROUNDS, value=1))
    )
    with pytest.raises(AttributesNotSupported):
        pr.select_phase2(prop(), TUNNEL, _esp_sa(rounds), ProposalCheck.OBEY, udp_encap=False)
    # GCM with an Authentication Algorithm, AH whose auth attribute disagrees with its id
    gcm = dataclasses.replace(GOOD_ESP, transform_id=20)
    with pytest.raises(NoProposalChosen):
        pr.select_phase2(
            prop(enc_algorithms=("aes-128-gcm",)),
            TUNNEL,
            _esp_sa(gcm),
            ProposalCheck.OBEY,
            udp_encap=False,
        )
    ah = Transform(
        number=1,
        transform_id=3,
        attributes=(
            Attribute(type=IPSEC.AUTHENTICATION_ALGORITHM, value=1),
            Attribute(type=IPSEC.ENCAPSULATION_MODE, value=1),
        ),
    )
    ah_sa = SaPayload(
        proposals=(
            Proposal(
                number=1, protocol_id=ProtocolId.IPSEC_AH, spi=b"\x00\x00\x10\x00", transforms=(ah,)
            ),
        )
    )
    with pytest.raises(NoProposalChosen):
        pr.select_phase2(
            prop(auth_algorithms=("md5", "sha1")),
            dataclasses.replace(TUNNEL, ah=True, esp=False),
            ah_sa,
            ProposalCheck.OBEY,
            udp_encap=False,
        )
    # No Encapsulation Mode = transport (racoon)
    no_mode = dataclasses.replace(
        GOOD_ESP,
        attributes=tuple(a for a in GOOD_ESP.attributes if a.type != IPSEC.ENCAPSULATION_MODE),
    )
    choice, _ = pr.select_phase2(
        prop(), TRANSPORT, _esp_sa(no_mode), ProposalCheck.OBEY, udp_encap=False
    )
    assert choice.mode is Mode.TRANSPORT and choice.lifetime == 1800
    # ESN (RFC 4304) is understood
    esn = dataclasses.replace(
        GOOD_ESP,
        attributes=(*GOOD_ESP.attributes, Attribute(type=IPSEC.EXTENDED_SEQUENCE_NUMBER, value=1)),
    )
    choice, _ = pr.select_phase2(prop(), TUNNEL, _esp_sa(esn), ProposalCheck.OBEY, udp_encap=False)
    assert choice.esn


def test_phase2_one_proposal_per_combination_is_understood() -> None:
    # strongSwan-style: alternatives as separate proposal numbers, AH+ESP pairs sharing one.
    esp = Proposal(
        number=1, protocol_id=ProtocolId.IPSEC_ESP, spi=b"\x00\x00\x10\x00", transforms=(GOOD_ESP,)
    )
    ah_t = Transform(
        number=1,
        transform_id=3,
        attributes=(
            Attribute(type=IPSEC.ENCAPSULATION_MODE, value=1),
            Attribute(type=IPSEC.AUTHENTICATION_ALGORITHM, value=2),
            Attribute(type=IPSEC.GROUP_DESCRIPTION, value=2),
        ),
    )
    ah = Proposal(
        number=2, protocol_id=ProtocolId.IPSEC_AH, spi=b"\x00\x00\x20\x00", transforms=(ah_t,)
    )
    esp2 = dataclasses.replace(esp, number=2)
    sa = wire(SaPayload(proposals=(esp, esp2, ah)))
    pol = dataclasses.replace(TUNNEL, ah=True)
    choice, answer = pr.select_phase2(prop(), pol, sa, ProposalCheck.OBEY, udp_encap=False)
    assert choice.proposal_number == 2
    assert choice.peer_spis == {SaProtocol.ESP: 0x1000, SaProtocol.AH: 0x2000}
    assert [q.number for q in answer.proposals] == [2, 2]
    # ESP alone takes proposal 1
    choice, _ = pr.select_phase2(prop(), TUNNEL, sa, ProposalCheck.OBEY, udp_encap=False)
    assert choice.proposal_number == 1


def test_phase2_accept_reply_checks() -> None:
    p = prop(enc_algorithms=("aes-128-cbc", "3des"))
    offer = pr.phase2_offer(p, TUNNEL, SPIS_I, udp_encap=False)
    _, answer = pr.select_phase2(p, TUNNEL, wire(offer), ProposalCheck.OBEY, udp_encap=False)
    reply = pr.answer_with_spis(answer, SPIS_R)
    with pytest.raises(BadProposalSyntax):  # the whole offer back
        pr.accept_phase2_reply(offer, offer, udp_encap=False)
    foreign = pr.answer_with_spis(
        pr.select_phase2(
            prop(enc_algorithms=("des",)),
            TUNNEL,
            wire(pr.phase2_offer(prop(enc_algorithms=("des",)), TUNNEL, SPIS_I, udp_encap=False)),
            ProposalCheck.OBEY,
            udp_encap=False,
        )[1],
        SPIS_R,
    )
    with pytest.raises(NoProposalChosen):
        pr.accept_phase2_reply(offer, foreign, udp_encap=False)
    renumbered = dataclasses.replace(
        reply, proposals=(dataclasses.replace(reply.proposals[0], number=9),)
    )
    with pytest.raises(NoProposalChosen):
        pr.accept_phase2_reply(offer, renumbered, udp_encap=False)
    bad_spi = dataclasses.replace(
        reply, proposals=(dataclasses.replace(reply.proposals[0], spi=b"\x00\x01"),)
    )
    with pytest.raises(InvalidSpi):
        pr.accept_phase2_reply(offer, bad_spi, udp_encap=False)


# --- properties ------------------------------------------------------------------------------

CHECKS = list(ProposalCheck)
P1_AUTH = [m for m in AuthMethod if m is not AuthMethod.EAP_RADIUS]


def _subset(items: list[str]) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(items), min_size=1, max_size=4, unique=True).map(tuple)


peers = st.builds(
    peer,
    enc_algorithms=_subset(PHASE1_ENC),
    dh_groups=_subset(PHASE1_GROUPS),
    hash_algorithm=st.sampled_from(PHASE1_HASH),
    auth_method=st.sampled_from(P1_AUTH),
    lifetime=st.sampled_from([0, 600, 3600, 86400, 100000]),
    lifebytes=st.sampled_from([0, 1 << 20, 1 << 30]),
    proposal_check=st.sampled_from(CHECKS),
)


@settings(max_examples=300, deadline=None)
@given(initiator=peers, responder=peers)
def test_phase1_property_both_sides_agree(initiator: PeerProfile, responder: PeerProfile) -> None:
    offer = pr.phase1_offer(initiator)
    common = (
        {registry.encryption(e).name for e in initiator.enc_algorithms}
        & {registry.encryption(e).name for e in responder.enc_algorithms}
        and set(initiator.dh_groups) & set(responder.dh_groups)
        and initiator.hash_algorithm == responder.hash_algorithm
        and pr.AUTH_METHOD_IDS[initiator.auth_method] == pr.AUTH_METHOD_IDS[responder.auth_method]
    )
    try:
        choice_r, reply = pr.select_phase1(responder, wire(offer))
    except NoProposalChosen:
        # Under obey only a missing common algorithm can refuse.
        assert not (common and responder.proposal_check is ProposalCheck.OBEY)
        return
    assert common
    choice_i = pr.accept_phase1_reply(initiator, offer, wire(reply))
    assert choice_i.encryption.name in {
        registry.encryption(e).name for e in responder.enc_algorithms
    }
    assert choice_i.group.name in responder.dh_groups
    if responder.proposal_check is ProposalCheck.CLAIM:
        assert choice_r.lifetime <= choice_i.lifetime or choice_i.lifetime == 0
        choice_r = dataclasses.replace(
            choice_r, lifetime=choice_i.lifetime, lifebytes=choice_i.lifebytes
        )
    assert dataclasses.replace(choice_r, auth=choice_i.auth) == choice_i


P2_ENC = [
    "des",
    "3des",
    "aes-128-cbc",
    "aes-256-cbc",
    "aes-192-ctr",
    "aes-128-gcm",
    "aes-256-gcm",
    "blowfish",
    "twofish",
    "camellia-128",
    "null",
]
P2_AUTH = ["md5", "sha1", "sha256", "sha384", "sha512", "null"]
P2_PFS = [None, "modp1024", "modp2048", "ecp256", "ec2n155"]

proposals = st.builds(
    prop,
    enc_algorithms=_subset(P2_ENC),
    auth_algorithms=_subset(P2_AUTH),
    pfs_group=st.sampled_from(P2_PFS),
    lifetime=st.sampled_from([0, 300, 1800, 3600]),
)


def _esp_combos(p: ProposalProfile) -> set[tuple[str, str]]:
    out = set()
    for e in p.enc_algorithms:
        if registry.encryption(e).aead:
            out.add((e, "-"))
            continue
        for a in p.auth_algorithms:
            if not (e == "null" and a == "null"):
                out.add((e, a))
    return out


@settings(max_examples=300, deadline=None)
@given(
    initiator=proposals,
    responder=proposals,
    check=st.sampled_from(CHECKS),
    protocols=st.sampled_from([(True, False), (False, True), (True, True)]),
    tunnel=st.booleans(),
    udp=st.booleans(),
)
def test_phase2_property_both_sides_agree(
    initiator: ProposalProfile,
    responder: ProposalProfile,
    check: ProposalCheck,
    protocols: tuple[bool, bool],
    tunnel: bool,
    udp: bool,
) -> None:
    esp, ah = protocols
    policy = dataclasses.replace(TUNNEL, tunnel=tunnel, esp=esp, ah=ah)
    try:
        offer = pr.phase2_offer(initiator, policy, SPIS_I, udp_encap=udp)
    except LocalProtocolError:
        no_ah = ah and set(initiator.auth_algorithms) <= {"null"}
        assert no_ah or (esp and not _esp_combos(initiator))
        return
    try:
        choice_r, answer = pr.select_phase2(responder, policy, wire(offer), check, udp_encap=udp)
    except NoProposalChosen:
        if check is ProposalCheck.OBEY:
            esp_ok = not esp or bool(_esp_combos(initiator) & _esp_combos(responder))
            ah_auth = {a for a in initiator.auth_algorithms if a != "null"}
            ah_ok = not ah or bool(ah_auth & set(responder.auth_algorithms))
            assert not (esp_ok and ah_ok)
        return
    reply = wire(pr.answer_with_spis(answer, SPIS_R))
    choice_i = pr.accept_phase2_reply(offer, reply, udp_encap=udp)
    if choice_r.responder_lifetime is not None:
        assert check is ProposalCheck.CLAIM
        choice_i = pr.apply_responder_lifetime(
            choice_i,
            pr.responder_lifetime_notify(choice_r, protocol=SaProtocol.ESP, spi=1).data,
        )
    assert same_but_spis(choice_r, choice_i)
    assert choice_r.peer_spis == {k: SPIS_I[k] for k in choice_r.peer_spis}
    assert choice_i.peer_spis == {k: SPIS_R[k] for k in choice_i.peer_spis}
    for item in choice_i.items:
        if item.encryption is not None:
            assert item.encryption in [registry.encryption(e) for e in responder.enc_algorithms]


def test_phase1_aggressive_offer_and_ke_group() -> None:
    cfg = peer(enc_algorithms=("aes-128", "3des"), dh_groups=("modp2048", "modp1024"))
    sa = wire(pr.phase1_offer(cfg, aggressive=True))
    assert {attrs_of(t)[IKE.GROUP_DESCRIPTION] for t in sa.proposals[0].transforms} == {14}
    assert len(sa.proposals[0].transforms) == 2
    full = wire(pr.phase1_offer(cfg))
    choice, _ = pr.select_phase1(cfg, full, ke_group=2)
    assert choice.group.id == 2 and choice.transform_number == 2
    with pytest.raises(NoProposalChosen):
        pr.select_phase1(cfg, full, ke_group=5)


def test_proposal_pfs_group() -> None:
    assert pr.proposal_pfs_group(prop(pfs_group=None)) is None
    assert pr.proposal_pfs_group(prop(pfs_group="none")) is None
    assert pr.proposal_pfs_group(prop(pfs_group="ecp384")) is groups.group("ecp384")
    with pytest.raises(LocalProtocolError):
        pr.proposal_pfs_group(prop(pfs_group="x25519"))
