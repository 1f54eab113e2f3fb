"""IKEv2 child SA proposals (core/ikev2/child_proposals.py): ESP/AH offers from a RouterOS
`/ip ipsec proposal`, the responder's choice with and without a KE payload (RFC 7296 §1.2,
§1.3.1), INVALID_KE_PAYLOAD, and the initiator's check of the reply.

Transform ids are the IANA "IKEv2 Parameters" values (RFC 7296 §3.3.2): ENCR_AES_CBC 12,
ENCR_NULL 11, ENCR_AES_GCM_16 20 (RFC 4106/5282), ENCR_CHACHA20_POLY1305 28 (RFC 7634),
AUTH_HMAC_SHA1_96 2, AUTH_HMAC_SHA2_256_128 12, INTEG NONE 0, KE MODP 1024 = 2, 2048 = 14,
ESN: 0 No Extended Sequence Numbers, 1 Extended Sequence Numbers.
"""

from __future__ import annotations

import dataclasses
import ipaddress

import pytest

from pyipsec.core.ikev2 import child_proposals as cp
from pyipsec.core.ikev2.errors import (
    InvalidKePayload,
    InvalidSpi,
    LocalProtocolError,
    NoProposalChosen,
)
from pyipsec.core.profiles import ProposalProfile
from pyipsec.dataplane.policy import Policy
from pyipsec.dataplane.sad import SaProtocol
from pyipsec.wire.ikev2.constants import ProtocolId, TransformType
from pyipsec.wire.ikev2.payloads import Proposal, SaPayload, Transform

ENCR, INTEG, KE, ESN = TransformType.ENCR, TransformType.INTEG, TransformType.KE, TransformType.ESN
AES_CBC, ENCR_NULL, AES_GCM16, CHACHA = 12, 11, 20, 28
SHA1_96, SHA256_128 = 2, 12
MODP1024, MODP2048 = 2, 14
NO_ESN = (ESN, 0, None)
SPI_I, SPI_R = 0xC0FFEE01, 0xBEEF0002

NET = ipaddress.ip_network
TUNNEL = Policy(id=5, src=NET("10.1.0.0/24"), dst=NET("10.2.0.0/24"), tunnel=True)
AH_POLICY = dataclasses.replace(TUNNEL, ah=True, esp=False)


def T(type_: int, id_: int, key_length: int | None = None) -> Transform:
    return Transform(type=type_, id=id_, key_length=key_length)


def esp(number: int, *transforms: Transform, spi: int = SPI_I) -> Proposal:
    return Proposal(
        number=number, protocol=ProtocolId.ESP, spi=spi.to_bytes(4, "big"), transforms=transforms
    )


def sa(*proposals: Proposal) -> SaPayload:
    return SaPayload(proposals=proposals)


def prop(**kw: object) -> ProposalProfile:
    base: dict[str, object] = {"name": "p"}
    base.update(kw)
    return ProposalProfile(**base)  # type: ignore[arg-type]


def ids(p: Proposal) -> list[tuple[int, int, int | None]]:
    return [(int(t.type), t.id, t.key_length) for t in p.transforms]


# --- the offer -------------------------------------------------------------------------------


def test_default_proposal_first_child_has_no_ke() -> None:
    offer = cp.child_offer(prop(), TUNNEL, SPI_I, pfs=False)
    (p,) = offer.proposals
    assert (p.number, p.protocol, p.spi) == (1, ProtocolId.ESP, SPI_I.to_bytes(4, "big"))
    assert ids(p) == [
        (ENCR, AES_CBC, 256),
        (ENCR, AES_CBC, 192),
        (ENCR, AES_CBC, 128),
        (INTEG, SHA1_96, None),
        NO_ESN,
    ]
    # CREATE_CHILD_SA with the proposal's pfs-group (default modp1024): a KE transform.
    (p,) = cp.child_offer(prop(), TUNNEL, SPI_I, pfs=True).proposals
    assert ids(p)[-2:] == [(KE, MODP1024, None), NO_ESN]
    with pytest.raises(LocalProtocolError, match="pfs-group is none"):
        cp.child_offer(prop(pfs_group="none"), TUNNEL, SPI_I, pfs=True)


def test_aead_and_null_layout() -> None:
    offer = cp.child_offer(
        prop(
            enc_algorithms=("aes-128-gcm", "chacha20poly1305", "aes-128-cbc", "null"),
            auth_algorithms=("sha256", "null"),
        ),
        TUNNEL,
        SPI_I,
        pfs=False,
    )
    aead, plain, null = offer.proposals
    assert ids(aead) == [(ENCR, AES_GCM16, 128), (ENCR, CHACHA, None), NO_ESN]
    assert ids(plain) == [(ENCR, AES_CBC, 128), (INTEG, SHA256_128, None), (INTEG, 0, None), NO_ESN]
    assert ids(null) == [(ENCR, ENCR_NULL, None), (INTEG, SHA256_128, None), NO_ESN]
    assert [p.number for p in offer.proposals] == [1, 2, 3]
    # auth-algorithms="" (RouterOS's GCM setting): the non-AEAD cipher goes without INTEG.
    (only,) = cp.child_offer(
        prop(enc_algorithms=("aes-256-cbc",), auth_algorithms=()), TUNNEL, SPI_I, pfs=False
    ).proposals
    assert ids(only) == [(ENCR, AES_CBC, 256), NO_ESN]


def test_ah_offer_and_the_bundle_ikev2_cannot_carry() -> None:
    (p,) = cp.child_offer(
        prop(auth_algorithms=("sha256", "null", "sha1")), AH_POLICY, SPI_I, pfs=False
    ).proposals
    assert p.protocol == ProtocolId.AH
    assert ids(p) == [(INTEG, SHA256_128, None), (INTEG, SHA1_96, None), NO_ESN]
    with pytest.raises(LocalProtocolError, match="AH or ESP, not both"):
        cp.child_offer(prop(), dataclasses.replace(TUNNEL, ah=True), SPI_I, pfs=False)
    with pytest.raises(LocalProtocolError, match="nothing to offer for AH"):
        cp.child_offer(prop(auth_algorithms=("null",)), AH_POLICY, SPI_I, pfs=False)
    with pytest.raises(LocalProtocolError, match="reserved"):
        cp.child_offer(prop(), TUNNEL, 255, pfs=False)


# --- the responder ---------------------------------------------------------------------------


def test_first_child_round_trip_ignores_ke_transforms() -> None:
    # An initiator that (against §1.2) puts its PFS group into IKE_AUTH's proposals.
    offer = cp.child_offer(prop(), TUNNEL, SPI_I, pfs=True)
    choice, reply = cp.select_child(
        prop(), TUNNEL, offer, spi=SPI_R, ke_group=None, first_child=True
    )
    assert choice.protocol is SaProtocol.ESP and choice.group is None and not choice.esn
    assert choice.encryption is not None and choice.encryption.name == "aes-256-cbc"
    assert choice.integrity is not None and choice.integrity.name == "sha1"
    assert choice.peer_spi == SPI_I
    (answer,) = reply.proposals
    assert answer.spi == SPI_R.to_bytes(4, "big")
    assert ids(answer) == [(ENCR, AES_CBC, 256), (INTEG, SHA1_96, None), NO_ESN]
    # A well-behaved initiator's first child (no KE transform) and its reply check.
    offer = cp.child_offer(prop(), TUNNEL, SPI_I, pfs=False)
    choice, reply = cp.select_child(
        prop(), TUNNEL, offer, spi=SPI_R, ke_group=None, first_child=True
    )
    mine = cp.accept_child_reply(offer, reply, ke_group=None)
    assert mine.peer_spi == SPI_R
    assert (mine.encryption, mine.integrity, mine.group, mine.esn) == (
        choice.encryption,
        choice.integrity,
        None,
        False,
    )


def test_create_child_sa_with_pfs_round_trip() -> None:
    p = prop(pfs_group="modp2048", enc_algorithms=("aes-128-gcm",), auth_algorithms=())
    offer = cp.child_offer(p, TUNNEL, SPI_I, pfs=True)
    choice, reply = cp.select_child(p, TUNNEL, offer, spi=SPI_R, ke_group=MODP2048)
    assert choice.group is not None and choice.group.id == MODP2048
    assert choice.encryption is not None and choice.encryption.aead and choice.integrity is None
    assert ids(reply.proposals[0]) == [(ENCR, AES_GCM16, 128), (KE, MODP2048, None), NO_ESN]
    mine = cp.accept_child_reply(offer, reply, ke_group=MODP2048)
    assert mine.group == choice.group and mine.peer_spi == SPI_R
    with pytest.raises(NoProposalChosen, match="our KE payload is none"):
        cp.accept_child_reply(offer, reply, ke_group=None)


def test_invalid_ke_payload_for_a_child() -> None:
    offer = sa(
        esp(
            1, T(ENCR, AES_CBC, 128), T(INTEG, SHA1_96), T(KE, MODP1024), T(KE, MODP2048), T(ESN, 0)
        )
    )
    ours = prop(enc_algorithms=("aes-128-cbc",), pfs_group="modp2048")
    with pytest.raises(InvalidKePayload) as info:
        cp.select_child(ours, TUNNEL, offer, spi=SPI_R, ke_group=MODP1024)
    assert info.value.group == MODP2048 and info.value.notify_data == b"\x00\x0e"
    choice, _ = cp.select_child(ours, TUNNEL, offer, spi=SPI_R, ke_group=MODP2048)
    assert choice.group is not None and choice.group.name == "modp2048"


def test_pfs_required_and_pfs_tolerated() -> None:
    no_ke = sa(esp(1, T(ENCR, AES_CBC, 128), T(INTEG, SHA1_96), T(ESN, 0)))
    # pfs-group set: a CREATE_CHILD_SA without a KE payload is refused ...
    with pytest.raises(NoProposalChosen) as info:
        cp.select_child(
            prop(enc_algorithms=("aes-128-cbc",)), TUNNEL, no_ke, spi=SPI_R, ke_group=None
        )
    assert info.value.detail == (
        "they offered ESP #1: aes-128-cbc sha1 no-esn; we accept ESP #1: aes-128-cbc sha1 "
        "modp1024 no-esn (no KE payload came, our pfs-group is modp1024)"
    )
    # ... pfs-group none: taken without PFS, and an initiator's PFS is taken as well.
    nopfs = prop(enc_algorithms=("aes-128-cbc",), pfs_group="none")
    choice, _ = cp.select_child(nopfs, TUNNEL, no_ke, spi=SPI_R, ke_group=None)
    assert choice.group is None
    with_ke = sa(esp(1, T(ENCR, AES_CBC, 128), T(INTEG, SHA1_96), T(KE, MODP2048), T(ESN, 0)))
    choice, _ = cp.select_child(nopfs, TUNNEL, with_ke, spi=SPI_R, ke_group=MODP2048)
    assert choice.group is not None and choice.group.id == MODP2048
    # A proposal that requires PFS (no NONE among its KE) needs a KE payload.
    with pytest.raises(NoProposalChosen, match="wants PFS but no KE payload"):
        cp.select_child(nopfs, TUNNEL, with_ke, spi=SPI_R, ke_group=None)
    optional = sa(
        esp(1, T(ENCR, AES_CBC, 128), T(INTEG, SHA1_96), T(KE, MODP2048), T(KE, 0), T(ESN, 0))
    )
    choice, reply = cp.select_child(nopfs, TUNNEL, optional, spi=SPI_R, ke_group=None)
    assert choice.group is None and T(KE, 0) in reply.proposals[0].transforms


def test_esn_reserved_spi_and_protocol() -> None:
    only_esn = sa(esp(1, T(ENCR, AES_CBC, 256), T(INTEG, SHA1_96), T(ESN, 7), T(ESN, 1)))
    choice, _ = cp.select_child(
        prop(), TUNNEL, only_esn, spi=SPI_R, ke_group=None, first_child=True
    )
    assert choice.esn
    reserved = sa(esp(1, T(ENCR, AES_CBC, 256), T(INTEG, SHA1_96), T(ESN, 0), spi=200))
    with pytest.raises(NoProposalChosen, match="reserved SPI 200"):
        cp.select_child(prop(), TUNNEL, reserved, spi=SPI_R, ke_group=None, first_child=True)
    ah = Proposal(
        number=1, protocol=ProtocolId.AH, spi=b"\0\0\1\0", transforms=(T(INTEG, SHA1_96), T(ESN, 0))
    )
    with pytest.raises(NoProposalChosen) as info:
        cp.select_child(prop(), TUNNEL, sa(ah), spi=SPI_R, ke_group=None, first_child=True)
    assert info.value.detail.startswith(
        "they offered AH #1: sha1 no-esn; we accept ESP #1: "
        "aes-256-cbc,aes-192-cbc,aes-128-cbc sha1 no-esn"
    )
    choice, reply = cp.select_child(
        prop(), AH_POLICY, sa(ah), spi=SPI_R, ke_group=None, first_child=True
    )
    assert choice.protocol is SaProtocol.AH and choice.encryption is None
    assert reply.proposals[0].protocol == ProtocolId.AH


def test_esp_integrity_rules() -> None:
    gcm_sha1 = esp(1, T(ENCR, AES_GCM16, 128), T(INTEG, SHA1_96), T(ESN, 0))
    cbc_none = esp(2, T(ENCR, AES_CBC, 128), T(ESN, 0))
    null_none = esp(3, T(ENCR, ENCR_NULL), T(INTEG, 0), T(ESN, 0), spi=SPI_I)
    ours = prop(
        enc_algorithms=("aes-128-gcm", "aes-128-cbc", "null"),
        auth_algorithms=("sha1",),
        pfs_group="none",
    )
    with pytest.raises(NoProposalChosen):  # AEAD with integrity; no integrity without "null"
        cp.select_child(ours, TUNNEL, sa(gcm_sha1, cbc_none, null_none), spi=SPI_R, ke_group=None)
    with_null = dataclasses.replace(ours, auth_algorithms=("sha1", "null"))
    choice, _ = cp.select_child(
        with_null, TUNNEL, sa(gcm_sha1, null_none, cbc_none), spi=SPI_R, ke_group=None
    )
    # never NULL with NULL (RFC 4303 §3.2): proposal 3 is passed over for proposal 2.
    assert choice.proposal.number == 2 and choice.integrity is None
    assert choice.encryption is not None and choice.encryption.name == "aes-128-cbc"


def test_reply_spi_checked() -> None:
    offer = cp.child_offer(prop(), TUNNEL, SPI_I, pfs=False)
    _, reply = cp.select_child(prop(), TUNNEL, offer, spi=SPI_R, ke_group=None, first_child=True)
    bad = dataclasses.replace(reply.proposals[0], spi=b"\0\0\0\1")
    with pytest.raises(InvalidSpi):
        cp.accept_child_reply(offer, sa(bad), ke_group=None)


def test_offers_of_one_profile_reuse_its_transforms_and_follow_a_changed_one() -> None:
    """The transforms of a profile's offer are made once (by profile identity) and every offer
    carries its own SPI; another profile object, even one made from an edited configuration,
    gets its own transforms; ESP and AH, with and without PFS, are told apart."""
    profile = prop(enc_algorithms=("aes-128-gcm",), auth_algorithms=("null",))
    a = cp.child_offer(profile, TUNNEL, SPI_I, pfs=False)
    b = cp.child_offer(profile, TUNNEL, SPI_R, pfs=False)
    assert a.proposals[0].transforms is b.proposals[0].transforms
    assert (a.proposals[0].spi, b.proposals[0].spi) == (
        SPI_I.to_bytes(4, "big"),
        SPI_R.to_bytes(4, "big"),
    )
    assert cp.child_offer(profile, TUNNEL, SPI_I, pfs=True).proposals[0].transforms != (
        a.proposals[0].transforms
    )
    default = prop()
    ah = cp.child_offer(default, AH_POLICY, SPI_I, pfs=False).proposals[0]
    esp_ = cp.child_offer(default, TUNNEL, SPI_I, pfs=False).proposals[0]
    assert (ah.protocol, esp_.protocol) == (ProtocolId.AH, ProtocolId.ESP)
    assert ids(ah) == [(INTEG, SHA1_96, None), NO_ESN] and ids(esp_) != ids(ah)
    edited = dataclasses.replace(profile, enc_algorithms=("aes-256-cbc",))
    (p,) = cp.child_offer(edited, TUNNEL, SPI_I, pfs=False).proposals
    assert (ENCR, AES_CBC, 256) in ids(p) and (ENCR, AES_GCM16, 128) not in ids(p)


# --- the per-profile cache of our algorithms ------------------------------------------------


def test_profile_algorithms_cache_answers_as_the_registry() -> None:
    """The cached enc/auth algorithms and pfs-group of a profile are what the registry gives
    for its names (``_plain_*``), asked again or not; a profile naming an unknown algorithm
    fails every time (nothing is kept for it); the cache is bounded."""
    profiles = [
        prop(),
        prop(enc_algorithms=("aes-128-gcm", "aes-256-cbc"), auth_algorithms=("sha256", "null")),
        prop(enc_algorithms=("null",), auth_algorithms=("null",), pfs_group="none"),
        prop(enc_algorithms=("chacha20poly1305",), pfs_group="modp2048"),
    ]
    for profile in profiles:
        for _ in range(2):
            assert cp._encryptions(profile) == cp._plain_encryptions(profile)
            assert cp._integrities(profile) == cp._plain_integrities(profile)
            assert cp.child_pfs_group(profile) == cp._plain_pfs_group(profile)
            assert cp._real_integrities(profile) == tuple(
                i for i in cp._plain_integrities(profile) if i is not None
            )
    assert cp._encryptions(profiles[1])[0].name == "aes-128-gcm"
    assert cp._integrities(profiles[2]) == (None,)
    bad = prop(enc_algorithms=("rot13",))
    for _ in range(2):
        with pytest.raises(LocalProtocolError):
            cp._encryptions(bad)
    # equal but distinct profiles do not share an entry by accident of id() reuse
    for i in range(cp._ALGORITHMS_MAX + 5):
        p = prop(name=f"p{i}", auth_algorithms=("sha256",) if i % 2 else ("sha1",))
        assert cp._integrities(p) == cp._plain_integrities(p)
    assert 0 < len(cp._algorithms) <= cp._ALGORITHMS_MAX


def test_an_unknown_auth_algorithm_fails_even_an_aead_choice() -> None:
    """A profile naming an auth-algorithm the registry does not know is a local error for
    every proposal, AEAD ones included (checked before the cipher, whatever is cached)."""
    profile = prop(enc_algorithms=("aes-128-gcm",), auth_algorithms=("sha256", "md4"))
    offer = sa(esp(1, T(ENCR, AES_GCM16, 128), T(*NO_ESN)))
    for _ in range(2):
        with pytest.raises(LocalProtocolError):
            cp.select_child(profile, TUNNEL, offer, spi=SPI_R, ke_group=None, first_child=True)
