"""IKEv2 child SA proposals (ESP/AH): the initiator's offer, the responder's choice, the check
of the reply. The IKE SA's proposals and the shared transform helpers are in ``proposals.py``.

The offer for a `/ip ipsec proposal` and a policy (RFC 7296 §3.3)
-----------------------------------------------------------------
IKEv2 negotiates one protocol per child SA: a policy with ipsec-protocols=esp gets ESP
proposals, ah gets an AH proposal; ah,esp (an IKEv1 bundle) cannot be carried and is a local
error (RFC 7296 dropped SA bundles). Every proposal names our inbound SPI (4 bytes), ESN "No
ESN" (RFC 7296 §3.3.2, type 5, id 0), and a KE transform with the proposal's pfs-group only
when the exchange carries a KE payload: CREATE_CHILD_SA with pfs-group set. The first child SA,
created inside IKE_AUTH, never has one (§1.2: IKE_AUTH carries no KE payload; its keys come from
the IKE SA's key exchange), so its proposals carry no KE transform.

ESP: the pairs of ``core.proposals.esp_combinations`` (enc-algorithms x auth-algorithms, AEAD
once, never NULL with NULL) go in up to three proposals, in the order their first cipher appears
in enc-algorithms: the non-AEAD ciphers with every auth-algorithm (INTEG NONE listed too when
auth-algorithms holds "null" next to a real one; no INTEG at all when "null" is the only one);
ENCR_NULL with the real auth-algorithms only; the AEAD ciphers (aes-*-gcm = ENCR_AES_GCM_16,
chacha20poly1305 = ENCR_CHACHA20_POLY1305, RFC 7634) without INTEG (RFC 5282 §8, RFC 4106).
AH: one proposal with every real auth-algorithm (AUTH_HMAC_*).

The responder takes the first acceptable proposal in the initiator's order (§2.7) for the
policy's protocol, one transform per type as for the IKE SA (``proposals.py``), and:

* KE with a KE payload (CREATE_CHILD_SA with PFS): the proposal must have a KE transform; our
  pfs-group when it offers it, else (pfs-group none) the first group we implement; the KE
  payload's group must be that one, else ``InvalidKePayload(group=...)`` (§1.3.1).
* KE without a KE payload: a proposal whose KE transforms are all groups (no NONE) needs a KE
  payload and is unacceptable; with pfs-group set, an exchange without a KE payload is refused
  (we require PFS on CREATE_CHILD_SA). In IKE_AUTH (``first_child``) KE transforms are ignored
  (§1.2 allows only NONE there; peers that still send their PFS group are not punished).
* ESN: No ESN or ESN (the packet engine does 64-bit sequence numbers, RFC 4304).

Lifetimes are not negotiated in IKEv2: each side rekeys by its own lifetime (§2.8).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeVar, cast

from pyipsec.core import proposals as shared
from pyipsec.core.ikev2.errors import (
    InvalidKePayload,
    InvalidSpi,
    LocalProtocolError,
    NoProposalChosen,
)
from pyipsec.core.ikev2.proposals import (
    IKEV2_GROUP_IDS,
    INTEG_NONE,
    KE_NONE,
    Unacceptable,
    by_type,
    check_reply,
    decode_encryption,
    decode_group,
    decode_integrity,
    encryption_transform,
    first,
    group_transform,
    integrity_transform,
    is_none,
    no_choice,
)
from pyipsec.core.profiles import ProposalProfile
from pyipsec.crypto import groups as _groups
from pyipsec.crypto.base import EncryptionAlgorithm, IntegrityAlgorithm, KeyExchangeGroup
from pyipsec.dataplane.policy import Policy
from pyipsec.dataplane.sad import SaProtocol
from pyipsec.fastinit import fast_init
from pyipsec.memo import IdentityMemo
from pyipsec.wire.ikev2.constants import ProtocolId, TransformType
from pyipsec.wire.ikev2.payloads import Proposal, SaPayload, Transform

__all__ = [
    "PROTOCOL_IDS",
    "ChildChoice",
    "accept_child_reply",
    "child_offer",
    "child_pfs_group",
    "select_child",
]

PROTOCOL_IDS: Mapping[SaProtocol, ProtocolId] = MappingProxyType(
    {SaProtocol.ESP: ProtocolId.ESP, SaProtocol.AH: ProtocolId.AH}
)
_SA_PROTOCOLS: Mapping[int, SaProtocol] = MappingProxyType({v: k for k, v in PROTOCOL_IDS.items()})
ESN_NO, ESN_YES = 0, 1  # Transform Type 5 (RFC 7296 §3.3.2)
_ESN_NAMES = {ESN_NO: False, ESN_YES: True}
_T = TypeVar("_T")


# (ENCR transform, cipher, INTEG transform, integrity) as chosen; None where absent.
_Cipher = tuple[
    Transform | None, EncryptionAlgorithm | None, Transform | None, IntegrityAlgorithm | None
]


@fast_init  # keyword construction ~50 ns less per field (pyipsec.fastinit)
@dataclass(frozen=True, slots=True, kw_only=True)
class ChildChoice:
    """The negotiated child SA (RFC 7296 §2.7, §3.3)."""

    protocol: SaProtocol
    encryption: EncryptionAlgorithm | None  # None for AH
    integrity: IntegrityAlgorithm | None  # None for AEAD ciphers and ESP without integrity
    group: KeyExchangeGroup | None  # the PFS group of the exchange's KE payloads, None without
    esn: bool
    peer_spi: int  # the other side's SPI (its inbound SA)
    proposal: Proposal  # the responder's single proposal


# --- our configuration ----------------------------------------------------------------------


# The algorithms of a proposal profile, by profile identity, then by what: pure functions of
# the immutable profile, asked for at every child the responder chooses (3 us of registry
# lookups). Only answers are kept (a profile naming an unknown algorithm fails every time).
_ALGORITHMS_MAX = 256
_algorithms: IdentityMemo[ProposalProfile, dict[str, Any]] = IdentityMemo(_ALGORITHMS_MAX)


def _per_profile(
    profile: ProposalProfile, what: str, compute: Callable[[ProposalProfile], _T]
) -> _T:
    answers = _algorithms.get(profile, lambda _: {})
    if what in answers:
        return cast(_T, answers[what])
    got = answers[what] = compute(profile)
    return got


def _encryptions(profile: ProposalProfile) -> tuple[EncryptionAlgorithm, ...]:
    return _per_profile(profile, "enc", _plain_encryptions)


def _plain_encryptions(profile: ProposalProfile) -> tuple[EncryptionAlgorithm, ...]:
    return tuple(
        e for e in shared.profile_encryptions(profile, LocalProtocolError) if e.ikev2_id is not None
    )


def _integrities(profile: ProposalProfile) -> tuple[IntegrityAlgorithm | None, ...]:
    return _per_profile(profile, "integ", _plain_integrities)


def _plain_integrities(profile: ProposalProfile) -> tuple[IntegrityAlgorithm | None, ...]:
    return tuple(
        shared.profile_integrities(profile, lambda i: bool(i.ikev2_id), LocalProtocolError)
    )


def _real_integrities(profile: ProposalProfile) -> tuple[IntegrityAlgorithm, ...]:
    """auth-algorithms without "null"."""
    return _per_profile(profile, "real", _plain_real_integrities)


def _plain_real_integrities(profile: ProposalProfile) -> tuple[IntegrityAlgorithm, ...]:
    return tuple(i for i in _integrities(profile) if i is not None)


def child_pfs_group(profile: ProposalProfile) -> KeyExchangeGroup | None:
    """The proposal's pfs-group (None for none): the KE group of CREATE_CHILD_SA."""
    return _per_profile(profile, "pfs", _plain_pfs_group)


def _plain_pfs_group(profile: ProposalProfile) -> KeyExchangeGroup | None:
    return shared.profile_pfs(
        profile, lambda g: g.id in IKEV2_GROUP_IDS, "IKEv2 group", LocalProtocolError
    )


def _protocol(policy: Policy) -> SaProtocol:
    if policy.ah and policy.esp:
        raise LocalProtocolError(
            f"policy {policy.id}: IKEv2 negotiates AH or ESP, not both (RFC 7296 §3.3)"
        )
    if policy.esp:
        return SaProtocol.ESP
    if policy.ah:
        return SaProtocol.AH
    raise LocalProtocolError(f"policy {policy.id} has no IPsec protocol")


def _spi_bytes(spi: int) -> bytes:
    if not 256 <= spi <= 0xFFFFFFFF:
        raise LocalProtocolError(f"SPI {spi:#x} is reserved or too large")
    return spi.to_bytes(4, "big")


# --- the offer -------------------------------------------------------------------------------


def _esp_suites(profile: ProposalProfile) -> list[list[Transform]]:
    """ENCR/INTEG transforms of each ESP proposal, in first-cipher order (module docstring)."""
    integs = _integrities(profile)
    real = [i for i in integs if i is not None]
    suites: dict[str, list[EncryptionAlgorithm]] = {}
    for enc, _integ in shared.esp_combinations(_encryptions(profile), integs):
        kind = "aead" if enc.aead else "null" if enc.name == "null" else "plain"
        if enc not in suites.setdefault(kind, []):
            suites[kind].append(enc)
    out = []
    for kind, encs in suites.items():
        transforms = [encryption_transform(e) for e in encs]
        if kind == "plain":
            with_none = [*real, None] if None in integs and real else real
            transforms += [integrity_transform(i) for i in with_none]
        elif kind == "null":
            transforms += [integrity_transform(i) for i in real]
        out.append(transforms)
    return out


def child_offer(profile: ProposalProfile, policy: Policy, spi: int, *, pfs: bool) -> SaPayload:
    """The initiator's child SA payload for ``policy`` (module docstring).

    ``spi`` is our inbound SPI; ``pfs`` whether the exchange carries a KE payload (False in
    IKE_AUTH; in CREATE_CHILD_SA when the profile has a pfs-group, see ``child_pfs_group``).
    """
    protocol = _protocol(policy)
    suites = _offer_suites(profile, protocol, pfs)
    spi_bytes = _spi_bytes(spi)
    protocol_id = PROTOCOL_IDS[protocol]
    return SaPayload(
        proposals=tuple(
            [
                Proposal(number=n, protocol=protocol_id, spi=spi_bytes, transforms=suite)
                for n, suite in enumerate(suites, 1)
            ]
        )
    )


# The transforms of each proposal ``child_offer`` makes, by (profile identity, protocol, pfs):
# a pure function of the immutable profile, asked for at every child; the profile is kept
# beside them (its id is not reused while the entry lives). Bounded: full means emptied.
_SUITES_MAX = 256
_suites: dict[
    tuple[int, SaProtocol, bool], tuple[ProposalProfile, tuple[tuple[Transform, ...], ...]]
] = {}


def _offer_suites(
    profile: ProposalProfile, protocol: SaProtocol, pfs: bool
) -> tuple[tuple[Transform, ...], ...]:
    key = (id(profile), protocol, pfs)
    hit = _suites.get(key)
    if hit is not None and hit[0] is profile:
        return hit[1]
    group = child_pfs_group(profile) if pfs else None
    if pfs and group is None:
        raise LocalProtocolError(f"proposal {profile.name}: PFS asked for, pfs-group is none")
    tail = [
        *([group_transform(group)] if group is not None else []),
        Transform(type=TransformType.ESN, id=ESN_NO),
    ]
    if protocol is SaProtocol.ESP:
        suites = _esp_suites(profile)
    else:
        suites = [[integrity_transform(i) for i in _integrities(profile) if i is not None]]
    suites = [s for s in suites if s]
    if not suites:
        raise LocalProtocolError(f"proposal {profile.name}: nothing to offer for {protocol.name}")
    out = tuple((*suite, *tail) for suite in suites)
    if len(_suites) >= _SUITES_MAX:
        _suites.clear()
    _suites[key] = (profile, out)
    return out


# --- the responder ---------------------------------------------------------------------------


def _peer_spi(p: Proposal) -> int:
    # RFC 7296 §3.3.1 / RFC 4303 §2.1: a 4-byte SPI, 1-255 reserved, 0 never an SA's.
    if len(p.spi) != 4:
        raise Unacceptable(f"proposal {p.number} with a {len(p.spi)}-byte SPI")
    spi = int.from_bytes(p.spi, "big")
    if spi < 256:
        raise Unacceptable(f"proposal {p.number} with the reserved SPI {spi}")
    return spi


def _pick_cipher(
    profile: ProposalProfile, p: Proposal, types: Mapping[int, list[Transform]]
) -> tuple[
    Transform | None, EncryptionAlgorithm | None, Transform | None, IntegrityAlgorithm | None
]:
    """(ENCR, cipher, INTEG, integrity) for ESP or AH; ``Unacceptable`` when none fits."""
    integ_ts = types.get(TransformType.INTEG, [])
    ours_integ = _integrities(profile)  # first: an unknown auth-algorithm fails every proposal
    if p.protocol == ProtocolId.AH:
        found = first(integ_ts, decode_integrity, _real_integrities(profile))
        if found is None:
            raise Unacceptable(f"AH proposal {p.number}: no auth-algorithm of ours")
        return None, None, found[0], found[1]
    ours_enc = _encryptions(profile)
    none_t = _none_transform(integ_ts)
    for t in types[TransformType.ENCR]:
        enc = decode_encryption(t)
        if enc is None or enc not in ours_enc:
            continue
        if enc.aead:
            if not integ_ts or none_t is not None:
                return t, enc, none_t, None
            continue
        found = first(integ_ts, decode_integrity, _real_integrities(profile))
        if found is not None:
            return t, enc, found[0], found[1]
        # ESP without integrity: "null" among our auth-algorithms, never with ENCR_NULL.
        without = not integ_ts or none_t is not None
        if None in ours_integ and enc.name != "null" and without:
            return t, enc, none_t, None
    raise Unacceptable(f"ESP proposal {p.number}: no cipher/integrity pair of ours")


def _none_transform(transforms: Sequence[Transform]) -> Transform | None:
    """The first NONE transform (a plain loop: a generator under next() costs ~0.4 us more)."""
    for t in transforms:
        if is_none(t):
            return t
    return None


def _pick_group(
    profile: ProposalProfile,
    p: Proposal,
    kes: Sequence[Transform],
    ke_group: int | None,
    first_child: bool,
) -> tuple[Transform | None, KeyExchangeGroup | None]:
    """The KE transform and group (module docstring); ``Unacceptable`` when none fits."""
    if first_child:
        return None, None
    ours = child_pfs_group(profile)
    if ke_group is None:
        if ours is not None:
            raise Unacceptable(f"no KE payload came, our pfs-group is {ours.name}")
        if not kes:
            return None, None
        none = next((t for t in kes if is_none(t)), None)
        if none is None:
            raise Unacceptable(f"proposal {p.number} wants PFS but no KE payload came")
        return none, None
    allowed = (
        [ours] if ours is not None else [_groups.group_by_id(i) for i in sorted(IKEV2_GROUP_IDS)]
    )
    preferred = [g for g in allowed if g.id == ke_group]
    found = first(kes, decode_group, preferred) or first(kes, decode_group, allowed)
    if found is None:
        raise Unacceptable(
            f"proposal {p.number}: PFS group not {shared.group_name(ours)}"
            if ours is not None
            else f"proposal {p.number}: no PFS group we implement"
        )
    return found


def _esn_transform(transforms: Sequence[Transform]) -> Transform | None:
    """The first ESN transform of a value we know."""
    for t in transforms:
        if t.id in _ESN_NAMES:
            return t
    return None


def select_child(
    profile: ProposalProfile,
    policy: Policy,
    offer: SaPayload,
    *,
    spi: int,
    ke_group: int | None,
    first_child: bool = False,
) -> tuple[ChildChoice, SaPayload]:
    """The responder's choice of the initiator's child SA proposals, and the reply SA.

    ``spi`` is our inbound SPI for the reply; ``ke_group`` the group of the request's KE payload
    (None: no KE payload); ``first_child`` for the child SA inside IKE_AUTH. Raises
    NoProposalChosen, InvalidKePayload, LocalProtocolError (module docstring).
    """
    protocol = _protocol(policy)
    wanted = PROTOCOL_IDS[protocol]
    reasons: list[Unacceptable] = []
    for p in offer.proposals:
        try:
            if p.protocol != wanted:
                raise Unacceptable(f"proposal {p.number} for protocol {p.protocol}")
            peer_spi = _peer_spi(p)
            types = by_type(p, wanted)
            enc_t, enc, integ_t, integ = _pick_cipher(profile, p, types)
            ke_t, group = _pick_group(
                profile, p, types.get(TransformType.KE, []), ke_group, first_child
            )
            esn = _esn_transform(types[TransformType.ESN])
            if esn is None:
                raise Unacceptable(f"proposal {p.number}: no ESN value we know")
        except Unacceptable as exc:
            reasons.append(exc)
            continue
        if group is not None and group.id != ke_group:
            raise InvalidKePayload(
                f"they sent a KE payload of group {ke_group}, we want {group.name}",
                group=group.id,
            )
        reply = Proposal(
            number=p.number,
            protocol=wanted,
            spi=_spi_bytes(spi),
            transforms=tuple([t for t in (enc_t, integ_t, ke_t, esn) if t is not None]),
        )
        choice = ChildChoice(
            protocol=protocol,
            encryption=enc,
            integrity=integ,
            group=group,
            esn=_ESN_NAMES[esn.id],
            peer_spi=peer_spi,
            proposal=reply,
        )
        return choice, SaPayload(proposals=(reply,))
    pfs = not first_child and child_pfs_group(profile) is not None
    ours = child_offer(profile, policy, spi, pfs=pfs)
    raise no_choice(offer, ours, reasons)


# --- the initiator's check of the reply -------------------------------------------------------


def accept_child_reply(offer: SaPayload, reply: SaPayload, *, ke_group: int | None) -> ChildChoice:
    """The initiator's check of the responder's child SA, and the choice it names.

    ``ke_group`` is our KE payload's group (None: we sent none). Raises InvalidSyntax,
    NoProposalChosen (``proposals.check_reply``), InvalidSpi for a bad responder SPI.
    """
    answer, picked = check_reply(offer, reply)
    protocol = _SA_PROTOCOLS.get(int(answer.protocol))
    if protocol is None:
        raise NoProposalChosen(f"the reply is for protocol {answer.protocol}")
    try:
        peer_spi = _peer_spi(answer)
    except Unacceptable as exc:
        raise InvalidSpi(str(exc)) from None
    enc_t = picked.get(TransformType.ENCR)
    enc = None if enc_t is None else decode_encryption(enc_t)
    integ_t = picked.get(TransformType.INTEG)
    integ = None if integ_t is None else decode_integrity(integ_t)
    if integ is not None and integ.ikev2_id == INTEG_NONE:
        integ = None
    ke_t = picked.get(TransformType.KE)
    group = None if ke_t is None or ke_t.id == KE_NONE else decode_group(ke_t)
    if (group.id if group is not None else None) != ke_group:
        raise NoProposalChosen(
            f"the reply's PFS group is {shared.group_name(group)} but our KE payload is "
            f"{'none' if ke_group is None else ke_group}"
        )
    if protocol is SaProtocol.ESP and enc is None:  # pragma: no cover - ENCR was offered
        raise NoProposalChosen("the reply has no cipher")
    return ChildChoice(
        protocol=protocol,
        encryption=enc,
        integrity=integ,
        group=group,
        esn=picked[TransformType.ESN].id == ESN_YES,
        peer_spi=peer_spi,
        proposal=answer,
    )
