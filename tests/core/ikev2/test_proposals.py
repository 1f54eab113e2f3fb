"""IKEv2 IKE SA proposals (core/ikev2/proposals.py): RouterOS peer -> transforms, the responder's
choice (RFC 7296 §2.7, §3.3.6), INVALID_KE_PAYLOAD (§1.2) and the initiator's reply check.

Transform ids are the IANA "IKEv2 Parameters" values RFC 7296 §3.3.2 lists (ENCR_AES_CBC 12,
ENCR_3DES 3, ENCR_AES_GCM_16 20 from RFC 5282, AUTH_HMAC_SHA1_96 2, AUTH_HMAC_SHA2_256_128 12
from RFC 4868, PRF_HMAC_SHA1 2, PRF_HMAC_SHA2_256 5, MODP 1024 = 2, 2048 = 14, ECP 256 = 19);
strongSwan's ``aes128-sha256-modp2048`` proposal is the same four transforms.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest

from pyipsec.core import errors
from pyipsec.core.ikev2 import proposals as pr
from pyipsec.core.ikev2.errors import (
    InvalidKePayload,
    InvalidSyntax,
    LocalProtocolError,
    NoProposalChosen,
)
from pyipsec.core.profiles import PeerProfile
from pyipsec.wire.ikev2 import decode
from pyipsec.wire.ikev2.constants import NotifyType, ProtocolId, TransformType
from pyipsec.wire.ikev2.payloads import KePayload, Proposal, SaPayload, Transform

ENCR, PRF, INTEG, KE, ESN = (
    TransformType.ENCR,
    TransformType.PRF,
    TransformType.INTEG,
    TransformType.KE,
    TransformType.ESN,
)
AES_CBC, DES3, AES_GCM16 = 12, 3, 20
SHA1_96, SHA256_128, SHA512_256 = 2, 12, 14
PRF_SHA1, PRF_SHA256, PRF_SHA512 = 2, 5, 7
MODP1024, MODP2048, ECP256 = 2, 14, 19


def T(type_: int, id_: int, key_length: int | None = None) -> Transform:
    return Transform(type=type_, id=id_, key_length=key_length)


def ike(number: int, *transforms: Transform, spi: bytes = b"") -> Proposal:
    return Proposal(number=number, protocol=ProtocolId.IKE, spi=spi, transforms=transforms)


def sa(*proposals: Proposal) -> SaPayload:
    return SaPayload(proposals=proposals)


def peer(**kw: object) -> PeerProfile:
    base: dict[str, object] = {"id": 1, "address": ipaddress.ip_network("198.51.100.0/24")}
    base.update(kw)
    return PeerProfile(**base)  # type: ignore[arg-type]


def ids(p: Proposal) -> list[tuple[int, int, int | None]]:
    return [(int(t.type), t.id, t.key_length) for t in p.transforms]


# --- the offer -------------------------------------------------------------------------------


def test_default_peer_offer_one_proposal_prf_and_integ_from_hash() -> None:
    offer = pr.ike_offer(peer())  # aes-128,3des sha1 modp2048,modp1024
    assert len(offer.proposals) == 1
    p = offer.proposals[0]
    assert (p.number, p.protocol, p.spi) == (1, ProtocolId.IKE, b"")
    assert ids(p) == [
        (ENCR, AES_CBC, 128),
        (ENCR, DES3, None),
        (INTEG, SHA1_96, None),
        (PRF, PRF_SHA1, None),
        (KE, MODP2048, None),
        (KE, MODP1024, None),
    ]


@pytest.mark.parametrize(
    ("hash_", "integ", "prf"),
    [("md5", 1, 1), ("sha1", 2, 2), ("sha256", 12, 5), ("sha512", 14, 7)],
)
def test_hash_algorithm_gives_integ_and_prf(hash_: str, integ: int, prf: int) -> None:
    p = pr.ike_offer(peer(hash_algorithm=hash_)).proposals[0]
    assert [t.id for t in p.transforms if t.type == INTEG] == [integ]
    assert [t.id for t in p.transforms if t.type == PRF] == [prf]


def test_aead_ciphers_get_their_own_proposal_without_integ() -> None:
    offer = pr.ike_offer(
        peer(enc_algorithms=("aes-256-gcm", "aes-128", "aes-128-gcm"), hash_algorithm="sha256")
    )
    first, second = offer.proposals
    assert ids(first) == [
        (ENCR, AES_GCM16, 256),
        (ENCR, AES_GCM16, 128),
        (PRF, PRF_SHA256, None),
        (KE, MODP2048, None),
        (KE, MODP1024, None),
    ]
    assert (second.number, ids(second)[:2]) == (
        2,
        [(ENCR, AES_CBC, 128), (INTEG, SHA256_128, None)],
    )


def test_offer_leaves_out_ec2n_and_refuses_what_ikev2_cannot_carry() -> None:
    p = pr.ike_offer(peer(dh_groups=("ec2n155", "ecp256"))).proposals[0]
    assert [t.id for t in p.transforms if t.type == KE] == [ECP256]
    with pytest.raises(LocalProtocolError, match="no IKEv2 group"):
        pr.ike_offer(peer(dh_groups=("ec2n185",)))
    with pytest.raises(LocalProtocolError, match="rot13"):
        pr.ike_offer(peer(enc_algorithms=("rot13",)))
    with pytest.raises(LocalProtocolError, match="no IKEv2 encryption"):
        pr.ike_offer(peer(enc_algorithms=("null",)))  # RFC 8247 §2.1
    assert pr.initial_group(peer(dh_groups=("ec2n155", "ecp256", "modp2048"))).id == ECP256


def test_rekey_offer_carries_our_spi() -> None:
    spi = bytes.fromhex("0102030405060708")
    assert pr.ike_offer(peer(), spi=spi).proposals[0].spi == spi


# --- the responder ---------------------------------------------------------------------------


def test_round_trip_default_peer() -> None:
    offer = pr.ike_offer(peer())
    choice, reply = pr.select_ike(peer(), offer, ke_group=MODP2048)
    assert (choice.encryption.name, choice.prf.name, choice.group.name) == (
        "aes-128-cbc",
        "sha1",
        "modp2048",
    )
    assert choice.integrity is not None and choice.integrity.name == "sha1"
    assert len(reply.proposals) == 1
    assert ids(reply.proposals[0]) == [
        (ENCR, AES_CBC, 128),
        (INTEG, SHA1_96, None),
        (PRF, PRF_SHA1, None),
        (KE, MODP2048, None),
    ]
    mine = pr.accept_ike_reply(peer(), offer, reply, ke_group=MODP2048)
    assert mine == choice


def test_aead_round_trip_has_no_integrity() -> None:
    p = peer(enc_algorithms=("aes-128-gcm",), hash_algorithm="sha256", dh_groups=("ecp256",))
    offer = pr.ike_offer(p)
    choice, reply = pr.select_ike(p, offer, ke_group=ECP256)
    assert choice.encryption.name == "aes-128-gcm" and choice.integrity is None
    assert choice.prf.name == "sha256"
    assert [t.type for t in reply.proposals[0].transforms] == [ENCR, PRF, KE]
    assert pr.accept_ike_reply(p, offer, reply, ke_group=ECP256) == choice


def test_initiator_order_wins_within_and_across_proposals() -> None:
    ours = peer(enc_algorithms=("aes-256", "aes-128", "3des"), dh_groups=("modp1024", "modp2048"))
    offer = sa(
        ike(1, T(ENCR, DES3), T(INTEG, SHA256_128), T(PRF, PRF_SHA1), T(KE, MODP2048)),
        ike(
            2,
            T(ENCR, DES3),
            T(ENCR, AES_CBC, 256),
            T(INTEG, SHA1_96),
            T(PRF, PRF_SHA1),
            T(KE, MODP2048),
        ),
        ike(3, T(ENCR, AES_CBC, 256), T(INTEG, SHA1_96), T(PRF, PRF_SHA1), T(KE, MODP2048)),
    )
    choice, reply = pr.select_ike(ours, offer, ke_group=MODP2048)
    # proposal 1 has sha256 integrity (we take sha1 only); in 2 the initiator put 3des first.
    assert reply.proposals[0].number == 2 and choice.encryption.name == "3des"


def test_the_ke_payload_group_is_preferred_when_offered() -> None:
    offer = pr.ike_offer(peer())  # KE modp2048, modp1024
    choice, reply = pr.select_ike(peer(), offer, ke_group=MODP1024)
    assert choice.group.id == MODP1024
    assert reply.proposals[0].transforms[-1] == T(KE, MODP1024)


def test_invalid_ke_payload_names_the_group_we_want() -> None:
    initiator = peer(dh_groups=("modp1024", "modp2048"))
    responder = peer(dh_groups=("modp2048",))
    with pytest.raises(InvalidKePayload) as info:
        pr.select_ike(responder, pr.ike_offer(initiator), ke_group=MODP1024)
    err = info.value
    assert err.group == MODP2048 and err.notify is NotifyType.INVALID_KE_PAYLOAD
    assert err.notify_data == b"\x00\x0e"  # RFC 7296 §3.10.1: the 2-byte group number
    assert "modp1024" in err.detail and "modp2048" in err.detail
    # The initiator retries with that group: it offered it, so the retry is allowed ...
    assert pr.requested_group(initiator, err.group).name == "modp2048"
    # ... and the same offer with the right KE payload then goes through.
    choice, _ = pr.select_ike(responder, pr.ike_offer(initiator), ke_group=MODP2048)
    assert choice.group.id == MODP2048
    with pytest.raises(NoProposalChosen, match="asked for group ecp256"):
        pr.requested_group(initiator, ECP256)


def test_unknown_transforms_skipped_unknown_types_reject_the_proposal() -> None:
    offer = sa(
        # an unknown transform type makes proposal 1 unacceptable (§3.3.6) ...
        ike(1, T(ENCR, DES3), T(INTEG, SHA1_96), T(PRF, PRF_SHA1), T(KE, MODP2048), T(200, 1)),
        # ... ESN is no IKE transform type ...
        ike(2, T(ENCR, DES3), T(INTEG, SHA1_96), T(PRF, PRF_SHA1), T(KE, MODP2048), T(ESN, 0)),
        # ... an unknown id, AES without its Key Length and 3DES with one are skipped.
        ike(
            3,
            T(ENCR, 1024),
            T(ENCR, AES_CBC),
            T(ENCR, DES3, 192),
            T(ENCR, AES_CBC, 128),
            T(INTEG, 999),
            T(INTEG, SHA1_96),
            T(PRF, 99),
            T(PRF, PRF_SHA1),
            T(KE, 4242),
            T(KE, MODP2048),
        ),
    )
    _, reply = pr.select_ike(peer(), offer, ke_group=MODP2048)
    assert reply.proposals[0].number == 3
    assert ids(reply.proposals[0]) == [
        (ENCR, AES_CBC, 128),
        (INTEG, SHA1_96, None),
        (PRF, PRF_SHA1, None),
        (KE, MODP2048, None),
    ]


def test_missing_mandatory_types_and_aead_with_integrity() -> None:
    no_prf = ike(1, T(ENCR, AES_CBC, 128), T(INTEG, SHA1_96), T(KE, MODP2048))
    no_integ = ike(2, T(ENCR, AES_CBC, 128), T(PRF, PRF_SHA1), T(KE, MODP2048))
    p = peer(enc_algorithms=("aes-128", "aes-128-gcm"))
    gcm_with_integ = ike(
        3, T(ENCR, AES_GCM16, 128), T(INTEG, SHA1_96), T(PRF, PRF_SHA1), T(KE, MODP2048)
    )
    with pytest.raises(NoProposalChosen) as info:
        pr.select_ike(p, sa(no_prf, no_integ, gcm_with_integ), ke_group=MODP2048)
    assert "without PRF" in info.value.detail
    gcm_none = ike(4, T(ENCR, AES_GCM16, 128), T(INTEG, 0), T(PRF, PRF_SHA1), T(KE, MODP2048))
    choice, reply = pr.select_ike(p, sa(gcm_with_integ, gcm_none), ke_group=MODP2048)
    assert choice.integrity is None and reply.proposals[0].number == 4
    assert T(INTEG, 0) in reply.proposals[0].transforms


def test_no_proposal_chosen_says_what_they_offered_and_what_we_accept() -> None:
    theirs = peer(enc_algorithms=("3des",), dh_groups=("modp1024",))
    ours = peer(enc_algorithms=("aes-256",), hash_algorithm="sha256", dh_groups=("modp2048",))
    with pytest.raises(NoProposalChosen) as info:
        pr.select_ike(ours, pr.ike_offer(theirs), ke_group=MODP1024)
    assert info.value.notify is NotifyType.NO_PROPOSAL_CHOSEN
    assert info.value.detail.startswith(
        "they offered IKE #1: 3des sha1 prf-sha1 modp1024; "
        "we accept IKE #1: aes-256-cbc sha256 prf-sha256 modp2048"
    )


def test_protocol_and_spi_size_checks() -> None:
    good = pr.ike_offer(peer()).proposals[0]
    esp = Proposal(number=1, protocol=ProtocolId.ESP, spi=b"\0\0\1\0", transforms=good.transforms)
    with pytest.raises(NoProposalChosen, match="not IKE"):
        pr.select_ike(peer(), sa(esp), ke_group=MODP2048)
    with pytest.raises(NoProposalChosen, match="8-byte SPI"):
        pr.select_ike(peer(), pr.ike_offer(peer(), spi=b"\1" * 8), ke_group=MODP2048)
    # IKE SA rekey (CREATE_CHILD_SA, §1.3.2): 8-byte SPIs both ways.
    theirs, mine = b"\1" * 8, b"\2" * 8
    choice, reply = pr.select_ike(
        peer(), pr.ike_offer(peer(), spi=theirs), ke_group=MODP2048, spi=mine
    )
    assert choice.peer_spi == theirs and reply.proposals[0].spi == mine
    assert pr.accept_ike_reply(peer(), pr.ike_offer(peer(), spi=theirs), reply).peer_spi == mine


# --- the initiator's check -------------------------------------------------------------------


def test_reply_checks() -> None:
    offer = pr.ike_offer(peer())
    _, reply = pr.select_ike(peer(), offer, ke_group=MODP2048)
    answer = reply.proposals[0]
    with pytest.raises(InvalidSyntax, match="2 proposals"):
        pr.accept_ike_reply(peer(), offer, sa(answer, answer))
    two_encs = ike(1, T(ENCR, DES3), *answer.transforms)
    with pytest.raises(InvalidSyntax, match="two transforms"):
        pr.accept_ike_reply(peer(), offer, sa(two_encs))
    unoffered = ike(1, T(ENCR, AES_CBC, 256), *answer.transforms[1:])
    with pytest.raises(NoProposalChosen, match="aes-256-cbc, which we did not offer"):
        pr.accept_ike_reply(peer(), offer, sa(unoffered))
    no_prf = ike(1, *(t for t in answer.transforms if t.type != PRF))
    with pytest.raises(NoProposalChosen, match="has no PRF"):
        pr.accept_ike_reply(peer(), offer, sa(no_prf))
    wrong_number = ike(2, *answer.transforms)
    with pytest.raises(NoProposalChosen, match="we offered"):
        pr.accept_ike_reply(peer(), offer, sa(wrong_number))
    with pytest.raises(NoProposalChosen, match="our KE payload is modp1024"):
        pr.accept_ike_reply(peer(), offer, reply, ke_group=MODP1024)


def test_describe_sa_names_unknown_transforms() -> None:
    text = pr.describe_sa(sa(ike(1, T(ENCR, 1024, 64), T(77, 3), T(KE, 0))))
    assert text == "IKE #1: ENCR 1024/64 type 77 3 none"


# --- strongSwan 5.9.8 as the independent implementation ---------------------------------------
#
# tests/vectors/ikev2_strongswan.json holds real IKE_SA_INIT requests and responses between two
# strongSwan charons (provenance in tests/vectors/README.md). For the same suite, the offer we
# build must be the request's SA payload, and our responder's reply the response's.

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "ikev2_strongswan.json"
STRONGSWAN_SUITES = {
    # set name: the RouterOS peer entry naming the same suite (hash-algorithm gives PRF+INTEG)
    "cbc-sha384-modp2048": peer(
        enc_algorithms=("aes-256",), hash_algorithm="sha384", dh_groups=("modp2048",)
    ),
    "aead-gcm-ecp256": peer(
        enc_algorithms=("aes-128-gcm",), hash_algorithm="sha256", dh_groups=("ecp256",)
    ),
    "chacha20poly1305-prfsha512-curve25519": peer(
        enc_algorithms=("chacha20poly1305",), hash_algorithm="sha512", dh_groups=("x25519",)
    ),
}


def strongswan_init(name: str) -> tuple[SaPayload, int, SaPayload]:
    """(request SA, request KE group, response SA) of one stored IKE_SA_INIT exchange."""
    sets = json.loads(VECTORS.read_text())["sets"]
    out = [decode(bytes.fromhex(sets[name]["ike_sa_init"][m])) for m in ("message1", "message2")]
    req_sa = next(p for p in out[0].payloads if isinstance(p, SaPayload))
    ke = next(p for p in out[0].payloads if isinstance(p, KePayload))
    resp_sa = next(p for p in out[1].payloads if isinstance(p, SaPayload))
    return req_sa, ke.group, resp_sa


@pytest.mark.parametrize("name", sorted(STRONGSWAN_SUITES))
def test_offer_and_reply_equal_strongswans(name: str) -> None:
    request, ke_group, response = strongswan_init(name)
    ours = STRONGSWAN_SUITES[name]
    assert pr.ike_offer(ours) == request
    choice, reply = pr.select_ike(ours, request, ke_group=ke_group)
    assert reply == response
    assert pr.accept_ike_reply(ours, request, response, ke_group=ke_group) == choice


def test_prf_other_than_the_hash_is_refused() -> None:
    # strongSwan's aes128-sha1-prfaesxcbc-ecp256: RouterOS derives the PRF from hash-algorithm,
    # so a sha1 peer entry takes PRF_HMAC_SHA1 only.
    request, ke_group, _ = strongswan_init("cbc-prfaesxcbc-ecp256")
    ours = peer(enc_algorithms=("aes-128",), hash_algorithm="sha1", dh_groups=("ecp256",))
    with pytest.raises(NoProposalChosen) as info:
        pr.select_ike(ours, request, ke_group=ke_group)
    assert info.value.detail == (
        "they offered IKE #1: aes-128-cbc sha1 prf-aes-xcbc ecp256; "
        "we accept IKE #1: aes-128-cbc sha1 prf-sha1 ecp256 (IKE proposal 1: PRF is not prf-sha1)"
    )


def test_transforms_with_unknown_attributes_are_skipped() -> None:
    odd = Transform(type=ENCR, id=DES3, other_attributes=((0x8FFF, b"\0\1"),))
    offer = sa(ike(1, odd, T(ENCR, DES3), T(INTEG, SHA1_96), T(PRF, PRF_SHA1), T(KE, MODP2048)))
    _, reply = pr.select_ike(peer(), offer, ke_group=MODP2048)
    assert reply.proposals[0].transforms[0] == T(ENCR, DES3)


def test_ikev2_errors_are_the_shared_core_errors() -> None:
    err = NoProposalChosen("x")
    assert (
        isinstance(err, errors.RemoteProtocolError) and err.notify is NotifyType.NO_PROPOSAL_CHOSEN
    )
    assert issubclass(LocalProtocolError, errors.LocalProtocolError)
    assert InvalidKePayload("y", group=19).notify_data == b"\x00\x13"


def test_the_ike_offer_of_a_peer_entry_is_made_once_and_follows_a_changed_entry() -> None:
    """IKE_SA_INIT offers are kept by peer entry (identity); a rekey's offer (with an SPI) is
    made each time; an edited peer entry (a new object) gets its own offer."""
    p = peer(enc_algorithms=("aes-128",), dh_groups=("ecp256",))
    first = pr.ike_offer(p)
    assert pr.ike_offer(p) is first
    rekey = pr.ike_offer(p, spi=b"\x01" * 8)
    assert rekey.proposals[0].spi == b"\x01" * 8 and first.proposals[0].spi == b""
    edited = pr.ike_offer(peer(enc_algorithms=("aes-256",), dh_groups=("ecp256",)))
    assert edited != first
    assert [t.key_length for t in edited.proposals[0].transforms if t.type == ENCR] == [256]
