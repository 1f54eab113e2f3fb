"""IKEv2 IKE SA proposals: the initiator's offer, the responder's choice, the check of the reply.

Pure functions from a ``core.profiles.PeerProfile`` (RouterOS 6.x: the peer carries phase 1,
``exchange-mode=ike2``) and the SA payloads of ``wire.ikev2.payloads`` to an ``IkeChoice``. The
child SAs (ESP/AH) are in ``child_proposals.py``; ``docs/ikev2.md`` states the rules for users.

How a peer entry becomes IKEv2 transforms (RouterOS 6.x has no prf-algorithm; 6.43's profile
added one, "auto" meaning this same rule)
-----------------------------------------------------------------------------------------------
=================  ============================================================================
enc-algorithm      ENCR, one transform each in configured order; AES/Camellia/Blowfish carry
                   the Key Length attribute (aes-128 = ENCR_AES_CBC with 128, RFC 7296 §3.3.5)
hash-algorithm     PRF: the HMAC of that hash (md5 PRF_HMAC_MD5, sha1 PRF_HMAC_SHA1, sha256
                   PRF_HMAC_SHA2_256, ...), and INTEG: the same hash (sha1 AUTH_HMAC_SHA1_96,
                   sha256 AUTH_HMAC_SHA2_256_128, ...) for the non-AEAD ciphers
dh-group           KE, one transform each in configured order; ec2n155/ec2n185 have no IKEv2
                   id (IANA reserves 3 and 4) and are left out
=================  ============================================================================

AEAD ciphers (aes-*-gcm = ENCR_AES_GCM_16, RFC 5282; chacha20poly1305, RFC 7634) protect
integrity themselves: they take no INTEG transform and go in a proposal of their own (RFC 5282
§8: a proposal holds AEAD or non-AEAD ciphers, not both). RouterOS 6.x's peer menu offers no
AEAD IKE cipher, but a profile that names one (the core accepts any registry name) gets it. The
proposals come in the order their first cipher appears in enc-algorithm. ENCR_NULL is never an
IKE cipher (RFC 8247 §2.1).

The responder (RFC 7296 §2.7, §3.3.6) takes the FIRST acceptable proposal in the initiator's
order. A proposal with a transform type it does not know, with a type the protocol does not
take (ESN for IKE), or without a mandatory type (ENCR, PRF, KE; INTEG unless the cipher is
AEAD) is unacceptable; a transform it does not know (an unknown id, a key length the cipher
does not have) is skipped. Inside the proposal, one transform per type: the first in the
initiator's order that the peer entry allows, except the KE group: the group of the KE payload
that came with the SA wins when the proposal offers it and we allow it (saves the initiator a
round trip). If the chosen group is not the KE payload's, ``InvalidKePayload(group=...)``
carries the one we want (§1.2). The reply is the chosen proposal (its number) with one
transform of each type, as received.

Errors raise ``core.ikev2.errors``: ``NoProposalChosen`` (its detail lists, in plain words,
what they offered and what we accept), ``InvalidKePayload``, ``InvalidSyntax`` for a reply
that is not one proposal with one transform per type; ``LocalProtocolError`` when our own
configuration has nothing IKEv2 can carry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TypeVar

from pyipsec.core import proposals as shared
from pyipsec.core.ikev2.errors import (
    InvalidKePayload,
    InvalidSyntax,
    LocalProtocolError,
    NoProposalChosen,
)
from pyipsec.core.profiles import PeerProfile
from pyipsec.crypto import groups as _groups
from pyipsec.crypto import registry
from pyipsec.crypto.base import (
    EncryptionAlgorithm,
    IntegrityAlgorithm,
    KeyExchangeGroup,
    PrfAlgorithm,
    UnknownAlgorithm,
)
from pyipsec.fastinit import fast_init
from pyipsec.memo import IdentityMemo
from pyipsec.wire.ikev2.constants import ProtocolId, TransformType
from pyipsec.wire.ikev2.payloads import Proposal, SaPayload, Transform

__all__ = [
    "IKEV2_GROUP_IDS",
    "IkeChoice",
    "accept_ike_reply",
    "describe_sa",
    "ike_offer",
    "initial_group",
    "is_none",
    "requested_group",
    "select_ike",
]

# IANA Transform Type 4 ids IKEv2 may carry: every implemented group but EC2N 155/185 (ids 3
# and 4 are "Reserved" in the IKEv2 registry; they were IKEv1 Oakley groups only).
IKEV2_GROUP_IDS = frozenset(g.id for g in _groups.GROUPS) - {3, 4}

INTEG_NONE = 0  # Transform Type 3 "NONE" (RFC 7296 §3.3.2)
KE_NONE = 0  # Transform Type 4 "NONE": no key exchange (optional PFS, §3.3.2)

# Transform types each protocol takes, and the ones it must have (RFC 7296 §3.3.3). INTEG is
# also required for IKE with a non-AEAD cipher and for AH; ESP's INTEG depends on the cipher.
ALLOWED_TYPES: Mapping[ProtocolId, frozenset[int]] = MappingProxyType(
    {
        ProtocolId.IKE: frozenset(
            {TransformType.ENCR, TransformType.PRF, TransformType.INTEG, TransformType.KE}
        ),
        ProtocolId.ESP: frozenset(
            {TransformType.ENCR, TransformType.INTEG, TransformType.KE, TransformType.ESN}
        ),
        ProtocolId.AH: frozenset({TransformType.INTEG, TransformType.KE, TransformType.ESN}),
    }
)
MANDATORY_TYPES: Mapping[ProtocolId, frozenset[int]] = MappingProxyType(
    {
        ProtocolId.IKE: frozenset({TransformType.ENCR, TransformType.PRF, TransformType.KE}),
        ProtocolId.ESP: frozenset({TransformType.ENCR, TransformType.ESN}),
        ProtocolId.AH: frozenset({TransformType.INTEG, TransformType.ESN}),
    }
)

_T = TypeVar("_T")
# plain ints for the per-transform lookups (an IntEnum member is a class attribute lookup)
_ENCR, _PRF, _INTEG, _KE = (int(TransformType[n]) for n in ("ENCR", "PRF", "INTEG", "KE"))
_IKE = int(ProtocolId.IKE)


@fast_init  # keyword construction ~50 ns less per field (pyipsec.fastinit)
@dataclass(frozen=True, slots=True, kw_only=True)
class IkeChoice:
    """The negotiated IKE SA transforms (RFC 7296 §2.7)."""

    encryption: EncryptionAlgorithm
    integrity: IntegrityAlgorithm | None  # None for an AEAD cipher
    prf: PrfAlgorithm
    group: KeyExchangeGroup
    proposal: Proposal  # the responder's single proposal (number, one transform per type)
    peer_spi: bytes = b""  # the other side's SPI in its proposal (IKE SA rekey: 8 bytes)


class Unacceptable(Exception):
    """One proposal we cannot accept, and why (collected for NO_PROPOSAL_CHOSEN's detail)."""


# --- our configuration ----------------------------------------------------------------------


def _ike_cipher(a: EncryptionAlgorithm) -> bool:
    return a.ikev2_id is not None and a.name != "null"  # RFC 8247 §2.1: no ENCR_NULL for IKE


def _lookup_encryptions(peer: PeerProfile) -> list[EncryptionAlgorithm]:
    return shared.peer_encryptions(
        peer, _ike_cipher, "IKEv2 encryption algorithm", LocalProtocolError
    )


def _lookup_groups(peer: PeerProfile) -> list[KeyExchangeGroup]:
    return shared.peer_groups(
        peer, lambda g: g.id in IKEV2_GROUP_IDS, "IKEv2 group", LocalProtocolError
    )


def _lookup_prf(peer: PeerProfile) -> PrfAlgorithm:
    prf = shared.peer_prf(peer, LocalProtocolError)
    if prf.ikev2_id is None:  # pragma: no cover - every registry PRF has an IKEv2 id
        raise LocalProtocolError(f"peer {peer.id}: {prf.name} is no IKEv2 PRF")
    return prf


def _lookup_integrity(peer: PeerProfile) -> IntegrityAlgorithm:
    """INTEG for the non-AEAD ciphers: the HMAC of hash-algorithm (module docstring)."""
    try:
        integ = registry.integrity(peer.hash_algorithm)
    except UnknownAlgorithm as exc:
        raise LocalProtocolError(f"peer {peer.id}: {exc}") from None
    if not integ.ikev2_id:
        raise LocalProtocolError(f"peer {peer.id}: {integ.name} is no IKEv2 integrity")
    return integ


@dataclass(frozen=True, slots=True, kw_only=True)
class _PeerTables:
    """What the IKE SA proposals of one peer entry need, made once per (immutable) entry:
    the registry's algorithms for its enc-algorithm, hash-algorithm and dh-group, and its
    IKE_SA_INIT offer. Every setup asks for them (the responder's choice looked them up once
    per ENCR transform; about 5 us a setup on each side)."""

    encryptions: tuple[EncryptionAlgorithm, ...]
    integrity: IntegrityAlgorithm
    prf: PrfAlgorithm
    groups: tuple[KeyExchangeGroup, ...]
    offer: SaPayload


# By the identity of the entry (pyipsec/memo.py).
_TABLES_MAX = 256
_tables: IdentityMemo[PeerProfile, _PeerTables | None] = IdentityMemo(_TABLES_MAX)


def _tables_of(peer: PeerProfile) -> _PeerTables | None:
    """``peer``'s tables; None when the entry names something IKEv2 cannot carry: then the
    plain lookups run each time and raise their LocalProtocolError where they always did."""
    return _tables.get(peer, _make_tables)


def _make_tables(peer: PeerProfile) -> _PeerTables | None:
    try:
        return _PeerTables(
            encryptions=tuple(_lookup_encryptions(peer)),
            integrity=_lookup_integrity(peer),
            prf=_lookup_prf(peer),
            groups=tuple(_lookup_groups(peer)),
            offer=_ike_offer(peer, b""),
        )
    except LocalProtocolError:
        return None


def _encryptions(peer: PeerProfile) -> Sequence[EncryptionAlgorithm]:
    tables = _tables_of(peer)
    return _lookup_encryptions(peer) if tables is None else tables.encryptions


def _groups_of(peer: PeerProfile) -> Sequence[KeyExchangeGroup]:
    tables = _tables_of(peer)
    return _lookup_groups(peer) if tables is None else tables.groups


def _prf(peer: PeerProfile) -> PrfAlgorithm:
    tables = _tables_of(peer)
    return _lookup_prf(peer) if tables is None else tables.prf


def _integrity(peer: PeerProfile) -> IntegrityAlgorithm:
    tables = _tables_of(peer)
    return _lookup_integrity(peer) if tables is None else tables.integrity


def initial_group(peer: PeerProfile) -> KeyExchangeGroup:
    """The group of the initiator's first KE payload: the first configured IKEv2 group."""
    return _groups_of(peer)[0]


def requested_group(peer: PeerProfile, group: int) -> KeyExchangeGroup:
    """The group an INVALID_KE_PAYLOAD asks for, if we offered it (RFC 7296 §1.2).

    The initiator retries IKE_SA_INIT with a KE payload of that group (the SA payload stays as
    it was); a group we did not offer is the responder's error: NoProposalChosen.
    """
    for g in _groups_of(peer):
        if g.id == group:
            return g
    offered = ", ".join(g.name for g in _groups_of(peer))
    raise NoProposalChosen(
        f"the responder asked for group {_group_name(group)}, we offered {offered}"
    )


# --- transforms ------------------------------------------------------------------------------


def encryption_transform(enc: EncryptionAlgorithm) -> Transform:
    """ENCR with its Key Length attribute for variable-key ciphers (RFC 7296 §3.3.5)."""
    return Transform(type=TransformType.ENCR, id=enc.ikev2_id or 0, key_length=enc.key_length_attr)


def integrity_transform(integ: IntegrityAlgorithm | None) -> Transform:
    return Transform(
        type=TransformType.INTEG, id=INTEG_NONE if integ is None else integ.ikev2_id or 0
    )


def group_transform(group: KeyExchangeGroup | None) -> Transform:
    return Transform(type=TransformType.KE, id=KE_NONE if group is None else group.id)


def is_none(t: Transform) -> bool:
    """An INTEG or KE transform of id NONE (0) without attributes."""
    return t.id == 0 and t.key_length is None and not t.other_attributes


def decode_encryption(t: Transform) -> EncryptionAlgorithm | None:
    """The registry cipher of an ENCR transform, None when we do not know it.

    Any attribute but Key Length makes a transform unknown (RFC 7296 §3.3.6), for every type.
    """
    if t.other_attributes:
        return None
    try:
        return registry.encryption_by_ikev2_id(t.id, t.key_length)
    except UnknownAlgorithm:
        return None


def decode_integrity(t: Transform) -> IntegrityAlgorithm | None:
    """The registry integrity of an INTEG transform ("null" for NONE), None when unknown."""
    if t.key_length is not None or t.other_attributes:
        return None
    try:
        return registry.integrity_by_ikev2_id(t.id)
    except UnknownAlgorithm:
        return None


def decode_prf(t: Transform) -> PrfAlgorithm | None:
    if t.key_length is not None or t.other_attributes:
        return None
    try:
        return registry.prf_by_ikev2_id(t.id)
    except UnknownAlgorithm:
        return None


def decode_group(t: Transform) -> KeyExchangeGroup | None:
    """The group of a KE transform, None when unknown or not an IKEv2 group (NONE too)."""
    if t.key_length is not None or t.other_attributes or t.id not in IKEV2_GROUP_IDS:
        return None
    return _groups.group_by_id(t.id)


def by_type(p: Proposal, protocol: ProtocolId) -> dict[int, list[Transform]]:
    """The proposal's transforms grouped by type, in order; ``Unacceptable`` when it has a
    type we do not know or ``protocol`` does not take, or lacks a mandatory one (§3.3.6)."""
    out: dict[int, list[Transform]] = {}
    for t in p.transforms:
        kind = int(t.type)
        same = out.get(kind)
        if same is None:
            out[kind] = [t]
        else:
            same.append(t)
    extra = out.keys() - ALLOWED_TYPES[protocol]
    if extra:
        raise Unacceptable(
            f"transform types {sorted(extra)} in {protocol.name} proposal {p.number}"
        )
    missing = MANDATORY_TYPES[protocol].difference(out)
    if missing:
        names = ", ".join(TransformType(m).name for m in sorted(missing))
        raise Unacceptable(f"{protocol.name} proposal {p.number} without {names}")
    return out


def first(
    transforms: Iterable[Transform],
    decode: Callable[[Transform], _T | None],
    ours: Sequence[_T],
) -> tuple[Transform, _T] | None:
    """The first transform, in the initiator's order, whose algorithm is one of ``ours``."""
    for t in transforms:
        alg = decode(t)
        if alg is not None and alg in ours:
            return t, alg
    return None


# --- plain words -----------------------------------------------------------------------------


def _group_name(group_id: int) -> str:
    if group_id == KE_NONE:
        return "none"
    try:
        return _groups.group_by_id(group_id).name
    except UnknownAlgorithm:
        return f"group {group_id}"


def _transform_name(t: Transform) -> str:
    name: str | None = None
    if t.type == TransformType.ENCR:
        enc = decode_encryption(t)
        name = enc.name if enc else None
    elif t.type == TransformType.INTEG:
        integ = decode_integrity(t)
        name = integ.name if integ else None
    elif t.type == TransformType.PRF:
        prf = decode_prf(t)
        name = f"prf-{prf.name}" if prf else None
    elif t.type == TransformType.KE:
        return _group_name(t.id)
    elif t.type == TransformType.ESN:
        name = {0: "no-esn", 1: "esn"}.get(t.id)
    if name is not None:
        return name
    try:
        kind = TransformType(t.type).name
    except ValueError:
        kind = f"type {t.type}"
    suffix = "" if t.key_length is None else f"/{t.key_length}"
    return f"{kind} {t.id}{suffix}"


def describe_sa(sa: SaPayload) -> str:
    """An SA payload in plain words: ``ESP #1: aes-128-cbc,aes-256-gcm sha1 no-esn``."""
    parts = []
    for p in sa.proposals:
        try:
            proto = ProtocolId(p.protocol).name
        except ValueError:
            proto = f"protocol {p.protocol}"
        names: dict[int, list[str]] = {}
        for t in p.transforms:
            names.setdefault(int(t.type), []).append(_transform_name(t))
        words = " ".join(",".join(n) for n in names.values())
        parts.append(f"{proto} #{p.number}: {words}" if words else f"{proto} #{p.number}")
    return "; ".join(parts) or "nothing"


def no_choice(offer: SaPayload, ours: SaPayload, reasons: list[Unacceptable]) -> NoProposalChosen:
    """NO_PROPOSAL_CHOSEN saying what they offered, what we accept, and the first reasons."""
    why = "; ".join(str(r) for r in reasons[:3])
    return NoProposalChosen(
        f"they offered {describe_sa(offer)}; we accept {describe_sa(ours)}"
        + (f" ({why})" if why else "")
    )


# --- the offer -------------------------------------------------------------------------------


def ike_offer(peer: PeerProfile, *, spi: bytes = b"") -> SaPayload:
    """The initiator's IKE SA payload: a non-AEAD and/or an AEAD proposal (module docstring).

    ``spi`` is empty in IKE_SA_INIT (the offer made once per peer entry, ``_PeerTables``)
    and our new 8-byte SPI when rekeying the IKE SA (§1.3.2).
    """
    tables = None if spi else _tables_of(peer)
    return _ike_offer(peer, spi) if tables is None else tables.offer


def _ike_offer(peer: PeerProfile, spi: bytes) -> SaPayload:
    prf = _lookup_prf(peer)
    integ = _lookup_integrity(peer)
    kes = tuple(group_transform(g) for g in _lookup_groups(peer))
    kinds: dict[bool, list[EncryptionAlgorithm]] = {}
    for enc in _lookup_encryptions(peer):
        kinds.setdefault(enc.aead, []).append(enc)
    proposals: list[Proposal] = []
    for aead, encs in kinds.items():
        transforms = [encryption_transform(e) for e in encs]
        if not aead:
            transforms.append(integrity_transform(integ))
        transforms.append(Transform(type=TransformType.PRF, id=prf.ikev2_id or 0))
        proposals.append(
            Proposal(
                number=len(proposals) + 1,
                protocol=ProtocolId.IKE,
                spi=spi,
                transforms=(*transforms, *kes),
            )
        )
    return SaPayload(proposals=tuple(proposals))


# --- the responder ---------------------------------------------------------------------------


def _pick_ike(peer: PeerProfile, p: Proposal, ke_group: int | None, spi: bytes) -> IkeChoice:
    """The choice from the acceptable proposal ``p``; its ``proposal`` is our reply (number,
    our ``spi``, one transform of each type as received); ``Unacceptable`` otherwise."""
    types = by_type(p, ProtocolId.IKE)
    integ_ts = types.get(_INTEG, [])
    ours_integ = _integrity(peer)
    chosen: tuple[Transform, EncryptionAlgorithm, Transform | None, IntegrityAlgorithm | None]
    for t in types[_ENCR]:
        enc = decode_encryption(t)
        if enc is None or enc not in _encryptions(peer):
            continue
        if enc.aead:
            # RFC 5282 §8: an AEAD cipher with INTEG absent or NONE only.
            none = next((i for i in integ_ts if is_none(i)), None)
            if integ_ts and none is None:
                continue
            chosen = (t, enc, none, None)
            break
        found = first(integ_ts, decode_integrity, [ours_integ])
        if found is not None:
            chosen = (t, enc, found[0], found[1])
            break
    else:
        raise Unacceptable(f"IKE proposal {p.number}: no cipher/integrity pair of ours")
    prf = first(types[_PRF], decode_prf, (_prf(peer),))
    if prf is None:
        raise Unacceptable(f"IKE proposal {p.number}: PRF is not prf-{peer.hash_algorithm}")
    ours_groups = _groups_of(peer)
    kes = types[_KE]
    preferred = [g for g in ours_groups if g.id == ke_group]
    ke = first(kes, decode_group, preferred) or first(kes, decode_group, ours_groups)
    if ke is None:
        raise Unacceptable(f"IKE proposal {p.number}: no group of ours")
    enc_t, enc, integ_t, integ = chosen
    reply = (enc_t, prf[0], ke[0]) if integ_t is None else (enc_t, integ_t, prf[0], ke[0])
    return IkeChoice(
        encryption=enc,
        integrity=integ,
        prf=prf[1],
        group=ke[1],
        proposal=Proposal(number=p.number, protocol=ProtocolId.IKE, spi=spi, transforms=reply),
        peer_spi=p.spi,
    )


def select_ike(
    peer: PeerProfile, offer: SaPayload, *, ke_group: int | None, spi: bytes = b""
) -> tuple[IkeChoice, SaPayload]:
    """The responder's choice from the initiator's SA payload, and the reply SA (one proposal).

    ``ke_group`` is the group of the KE payload that came with the SA (None: none came, which
    IKE_SA_INIT never allows, so any group is then wrong); ``spi`` our SPI for the reply
    (empty in IKE_SA_INIT, 8 bytes when the peer rekeys the IKE SA; proposals whose SPI size
    differs are unacceptable). Raises NoProposalChosen or InvalidKePayload (module docstring).
    """
    reasons: list[Unacceptable] = []
    for p in offer.proposals:
        try:
            if p.protocol != _IKE:
                raise Unacceptable(f"proposal {p.number} for protocol {p.protocol}, not IKE")
            if len(p.spi) != len(spi):
                raise Unacceptable(f"IKE proposal {p.number} with a {len(p.spi)}-byte SPI")
            choice = _pick_ike(peer, p, ke_group, spi)
        except Unacceptable as exc:
            reasons.append(exc)
            continue
        if choice.group.id != ke_group:
            raise InvalidKePayload(
                f"they sent a KE payload of {_group_name(ke_group or KE_NONE)}, "
                f"we chose {choice.group.name}",
                group=choice.group.id,
            )
        return choice, SaPayload(proposals=(choice.proposal,))
    raise no_choice(offer, ike_offer(peer), reasons)


# --- the initiator's check of the reply -------------------------------------------------------


def check_reply(offer: SaPayload, reply: SaPayload) -> tuple[Proposal, dict[int, Transform]]:
    """The responder's proposal and its one transform per type, each one we offered in the
    proposal of that number (RFC 7296 §2.7, §3.3.6).

    InvalidSyntax when the reply is not exactly one proposal with at most one transform per
    type; NoProposalChosen when it answers a proposal we did not make or picks a transform
    we did not offer in it.
    """
    if len(reply.proposals) != 1:
        raise InvalidSyntax(f"the reply SA holds {len(reply.proposals)} proposals, not one")
    answer = reply.proposals[0]
    ours = next((p for p in offer.proposals if p.number == answer.number), None)
    if ours is None or ours.protocol != answer.protocol:
        raise NoProposalChosen(f"they chose {describe_sa(reply)}, we offered {describe_sa(offer)}")
    offered, offered_types = _offered(ours.transforms)
    picked: dict[int, Transform] = {}
    for t in answer.transforms:
        kind = int(t.type)
        if kind in picked:
            raise InvalidSyntax(f"the reply proposal holds two transforms of type {t.type}")
        if (t.type, t.id, t.key_length, t.other_attributes) not in offered:  # t in ours
            raise NoProposalChosen(
                f"they chose {_transform_name(t)}, which we did not offer in "
                f"{describe_sa(SaPayload(proposals=(ours,)))}"
            )
        picked[kind] = t
    missing = offered_types - picked.keys()
    if missing:
        names = ", ".join(TransformType(m).name for m in sorted(missing))
        raise NoProposalChosen(f"the reply proposal {answer.number} has no {names}")
    return answer, picked


# Our offered transforms as the tuples of their fields (what Transform.__eq__ compares) and
# their types, by the identity of the offer's transforms tuple (the tuple kept beside them):
# ``t in transforms`` called Transform.__eq__ in Python up to once per offered transform
# (check_reply: 4.0 -> 2.4 us for an IKE_SA_INIT reply). Our offers are made once per
# configuration (``_PeerTables``, child_proposals), so this holds what our configuration
# offers (pyipsec/memo.py).
_OFFERED_MAX = 512
_offered_cache: IdentityMemo[
    tuple[Transform, ...], tuple[frozenset[tuple[object, ...]], frozenset[int]]
] = IdentityMemo(_OFFERED_MAX)


def _offered(
    transforms: tuple[Transform, ...],
) -> tuple[frozenset[tuple[object, ...]], frozenset[int]]:
    return _offered_cache.get(transforms, _offered_sets)


def _offered_sets(
    transforms: tuple[Transform, ...],
) -> tuple[frozenset[tuple[object, ...]], frozenset[int]]:
    fields = frozenset((t.type, t.id, t.key_length, t.other_attributes) for t in transforms)
    return fields, frozenset(int(t.type) for t in transforms)


def accept_ike_reply(
    peer: PeerProfile, offer: SaPayload, reply: SaPayload, *, ke_group: int | None = None
) -> IkeChoice:
    """The initiator's check of the responder's SA and the choice it names.

    ``ke_group`` is the group of our KE payload: the responder must have chosen it (else it
    should have answered INVALID_KE_PAYLOAD, §1.2). Raises InvalidSyntax or NoProposalChosen.
    """
    answer, picked = check_reply(offer, reply)
    enc = decode_encryption(picked[_ENCR])
    prf = decode_prf(picked[_PRF])
    group = decode_group(picked[_KE])
    integ_t = picked.get(_INTEG)
    integ = None if integ_t is None else decode_integrity(integ_t)
    if enc is None or prf is None or group is None:  # pragma: no cover - we offered them
        raise NoProposalChosen("the reply names a transform we cannot use")
    if integ is not None and integ.ikev2_id == INTEG_NONE:
        integ = None
    if (integ is None) != enc.aead:
        raise NoProposalChosen(f"the reply pairs {enc.name} with integrity {_name(integ)}")
    if ke_group is not None and group.id != ke_group:
        raise NoProposalChosen(
            f"they chose {group.name} but our KE payload is {_group_name(ke_group)}"
        )
    return IkeChoice(
        encryption=enc,
        integrity=integ,
        prf=prf,
        group=group,
        proposal=answer,
        peer_spi=answer.spi,
    )


def _name(integ: IntegrityAlgorithm | None) -> str:
    return "none" if integ is None else integ.name
