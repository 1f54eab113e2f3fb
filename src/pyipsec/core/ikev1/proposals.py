"""IKEv1 proposal building and selection: phase 1 (ISAKMP SA) and phase 2 (quick mode).

Pure functions from the configuration records (``core.profiles``) and the SA payloads of
``wire.ikev1`` to the negotiated choices; the state machines send and receive the payloads.

Phase 1 (RFC 2409 §5, App. A; RouterOS 6.x before 6.43: the peer carries phase 1)
---------------------------------------------------------------------------------

The initiator offers ONE ISAKMP proposal (protocol ISAKMP, transforms KEY_IKE, RFC 2407 §4.4.1)
with one transform per ``enc-algorithm`` x ``dh-group`` (configured order, encryption outer).
Every transform carries Encryption Algorithm (+ Key Length for AES/Camellia/Blowfish/Twofish),
Hash Algorithm, Authentication Method, Group Description and the life attributes. Groups go by
their well-known Group Description number only, EC2N groups 3/4 included (RFC 2409 §6.3/§6.4);
no Group Type or curve parameters are sent. The PRF is the HMAC of the hash (RFC 2409 §4); a
PRF attribute makes a transform unacceptable (App. A defines no values).

Authentication methods (RFC 2409 App. A; XAUTH/hybrid: draft-beaulieu-ike-xauth and
draft-ietf-ipsec-isakmp-hybrid-auth private values): pre-shared-key 1; rsa-signature 3;
rsa-key 3 too (RouterOS rsa-key is RSA signatures with keys from ``/ip ipsec key`` instead of
certificates, so on the wire it is the signature method); pre-shared-key-xauth 65001
(XAUTHInitPreShared: the initiator is the XAUTH client); rsa-signature-hybrid 64221
(HybridInitRSA). eap-radius is IKEv2 only and cannot be offered.

Lifetimes: ``lifetime`` seconds go out as Life Type seconds + Life Duration; ``lifebytes`` (RouterOS
counts bytes) go out as Life Type kilobytes + Life Duration in KiB (``max(1, bytes // 1024)``).
A value of 0 (unlimited in RouterOS) is not sent, and an absent duration means the RFC default
of 28800 seconds (RFC 2409 App. A, RFC 2407 §4.5) on both sides. Durations above 0xFFFF are sent
as 4-byte TLV attributes (racoon only decodes 2- or 4-byte durations). In the choices
``lifebytes`` is in kilobytes, the wire unit.

The responder takes the FIRST offered transform its peer entry accepts (racoon order: the
initiator's preference) and answers with that proposal holding only that transform, attributes
as received. The phase-1 lifetime follows racoon's ``proposal_check`` (``get_ph1approvalx``):

============  ==============================================================================
obey          the initiator's lifetime and lifebytes are used
strict        refused if the initiator's value is longer than ours; else the initiator's
claim         the shorter of the two is used (phase 1 sends no RESPONDER-LIFETIME)
exact         both must be equal
============  ==============================================================================

(0 on our side means unlimited, i.e. longer than anything.) Under ``claim`` the two sides may
hold different phase-1 lifetimes; the shorter side simply rekeys first, as with racoon.

Phase 2 (RFC 2407 §4.5, §4.6; RFC 2408 §4.2; RFC 3947 §5.1)
---------------------------------------------------------

See the section comment above ``phase2_offer`` for the layout and ``select_phase2`` for the
proposal-check table.

Errors: what the peer sent wrong raises a ``core.ikev1.errors.RemoteProtocolError`` carrying
the notify to answer with; a configuration that cannot be offered raises
``LocalProtocolError``. Unknown attribute classes or values make one transform unacceptable;
broken attribute syntax (a Life Duration without its Life Type, a repeated attribute) is
BAD_PROPOSAL_SYNTAX for the whole SA payload (RFC 2408 §4.2, §5.4).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from pyipsec.core.ikev1.errors import (
    AttributesNotSupported,
    BadProposalSyntax,
    LocalProtocolError,
    NoProposalChosen,
    RemoteProtocolError,
)
from pyipsec.core.profiles import AuthMethod, PeerProfile, ProposalCheck
from pyipsec.crypto import groups as _groups
from pyipsec.crypto import registry
from pyipsec.crypto.base import (
    EncryptionAlgorithm,
    KeyExchangeGroup,
    PrfAlgorithm,
    UnknownAlgorithm,
)
from pyipsec.wire.ikev1.attributes import Attribute
from pyipsec.wire.ikev1.constants import (
    KEY_IKE,
    AuthenticationMethod,
    GroupType,
    IkeAttributeType,
    ProtocolId,
)
from pyipsec.wire.ikev1.payloads import (
    Proposal,
    SaPayload,
    Transform,
)

__all__ = [
    "AUTH_METHOD_IDS",
    "DEFAULT_LIFETIME",
    "IKEV1_GROUP_IDS",
    "Phase1Choice",
    "accept_phase1_reply",
    "phase1_offer",
    "select_phase1",
]

# RFC 2409 App. A / RFC 2407 §4.5: an SA without a life duration lives 8 hours.
DEFAULT_LIFETIME = 28800

# Well-known groups IKEv1 may name by Group Description (RFC 2409 §6, RFC 3526, RFC 5903);
# Curve25519 (31) has no IKEv1 Group Description.
IKEV1_GROUP_IDS = frozenset({1, 2, 3, 4, 5, 14, 15, 16, 17, 18, 19, 20, 21})

# Group Type of each well-known group, accepted when a peer sends it alongside the description.
_GROUP_TYPES: Mapping[int, int] = MappingProxyType(
    {
        **dict.fromkeys((1, 2, 5, 14, 15, 16, 17, 18), GroupType.MODP),
        **dict.fromkeys((3, 4), GroupType.EC2N),
        **dict.fromkeys((19, 20, 21), GroupType.ECP),
    }
)

# RouterOS auth-method -> phase-1 Authentication Method value (module docstring).
AUTH_METHOD_IDS: Mapping[AuthMethod, int] = MappingProxyType(
    {
        AuthMethod.PRE_SHARED_KEY: AuthenticationMethod.PRE_SHARED_KEY,
        AuthMethod.RSA_SIGNATURE: AuthenticationMethod.RSA_SIGNATURES,
        AuthMethod.RSA_KEY: AuthenticationMethod.RSA_SIGNATURES,
        AuthMethod.PRE_SHARED_KEY_XAUTH: AuthenticationMethod.XAUTH_INIT_PRESHARED,
        AuthMethod.RSA_SIGNATURE_HYBRID: AuthenticationMethod.HYBRID_INIT_RSA,
    }
)

_LIFE_SECONDS = 1  # LifeType.SECONDS == SaLifeType.SECONDS
_LIFE_KILOBYTES = 2


# --- shared helpers -------------------------------------------------------------------------


class _Unacceptable(Exception):
    """One transform we cannot accept; ``unsupported`` when it names an unknown attribute."""

    def __init__(self, reason: str, *, unsupported: bool = False) -> None:
        super().__init__(reason)
        self.unsupported = unsupported


def _limit(value: int) -> float:
    """A lifetime for comparisons: 0 (unlimited) is longer than anything."""
    return math.inf if value == 0 else value


def _shorter(a: int, b: int) -> int:
    """The shorter of two lifetimes where 0 means unlimited."""
    return a if _limit(a) <= _limit(b) else b


def _kilobytes(nbytes: int) -> int:
    """RouterOS lifebytes (bytes) as an SA Life Duration in kilobytes; 0 stays 0 (unlimited)."""
    return 0 if nbytes <= 0 else max(1, nbytes // 1024)


def _duration(type_: int, value: int) -> Attribute:
    # racoon's ipsecdoi_set_ld decodes 2- or 4-byte durations only: use TV, else a 4-byte TLV.
    if value <= 0xFFFF:
        return Attribute(type=type_, value=value)
    return Attribute.variable(type_, value, size=4)


def _life_attributes(life_type: int, life_duration: int, seconds: int, kb: int) -> list[Attribute]:
    out: list[Attribute] = []
    if seconds:
        out += [Attribute(type=life_type, value=_LIFE_SECONDS), _duration(life_duration, seconds)]
    if kb:
        out += [Attribute(type=life_type, value=_LIFE_KILOBYTES), _duration(life_duration, kb)]
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class _Attrs:
    """A transform's attributes: plain classes by type, life durations by life type."""

    values: Mapping[int, int]
    lives: Mapping[int, int]


def _split_attributes(attrs: Iterable[Attribute], life_type: int, life_duration: int) -> _Attrs:
    """Group the attributes; BAD_PROPOSAL_SYNTAX when the list is not well formed.

    RFC 2407 §4.5 / RFC 2409 App. A: a Life Duration follows its Life Type; each attribute
    class appears once per transform (Life Type/Duration once per life type).
    """
    values: dict[int, int] = {}
    lives: dict[int, int] = {}
    pending: int | None = None
    for a in attrs:
        if a.type == life_type:
            if pending is not None:
                raise BadProposalSyntax("Life Type without a Life Duration")
            pending = a.as_int()
            if pending in lives:
                raise BadProposalSyntax(f"Life Type {pending} given twice")
        elif a.type == life_duration:
            if pending is None:
                raise BadProposalSyntax("Life Duration does not follow a Life Type")
            lives[pending] = a.as_int()
            pending = None
        else:
            if a.type in values:
                raise BadProposalSyntax(f"attribute {a.type} given twice")
            values[a.type] = a.as_int()
    if pending is not None:
        raise BadProposalSyntax("Life Type without a Life Duration")
    return _Attrs(values=MappingProxyType(values), lives=MappingProxyType(lives))


def _lifetimes(attrs: _Attrs) -> tuple[int, int]:
    """(seconds, kilobytes) of a transform; absent seconds = the RFC default, absent KB = 0."""
    for t, d in attrs.lives.items():
        if t not in (_LIFE_SECONDS, _LIFE_KILOBYTES):
            raise _Unacceptable(f"unknown life type {t}")
        if d == 0:
            raise _Unacceptable("zero life duration")
    return attrs.lives.get(_LIFE_SECONDS, DEFAULT_LIFETIME), attrs.lives.get(_LIFE_KILOBYTES, 0)


def _check_lifetime(
    check: ProposalCheck, theirs: tuple[int, int], ours: tuple[int, int]
) -> tuple[tuple[int, int], bool]:
    """Apply racoon's proposal_check to (seconds, KB): the values to use, and whether ours won.

    ``ours`` may hold 0 (unlimited). Raises ``_Unacceptable`` under strict/exact.
    """
    if check is ProposalCheck.OBEY:
        return theirs, False
    if check is ProposalCheck.EXACT:
        if theirs != ours:
            raise _Unacceptable(f"lifetime {theirs} is not exactly ours {ours}")
        return theirs, False
    if check is ProposalCheck.STRICT:
        for t, o in zip(theirs, ours, strict=True):
            if _limit(t) > _limit(o):
                raise _Unacceptable(f"lifetime {theirs} longer than ours {ours}")
        return theirs, False
    # CLAIM: the shorter of each; ``claimed`` when ours is the shorter one.
    used = (_shorter(theirs[0], ours[0]), _shorter(theirs[1], ours[1]))
    return used, used != theirs


# --- phase 1 --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Phase1Choice:
    """The negotiated ISAKMP SA transform (RFC 2409 §5)."""

    encryption: EncryptionAlgorithm
    key_bits: int | None  # the Key Length attribute as sent, None when absent
    hash_name: str  # RouterOS name: md5, sha1, sha256, sha384, sha512
    prf: PrfAlgorithm  # HMAC of the hash (RFC 2409 §4)
    group: KeyExchangeGroup
    auth: AuthMethod  # our configured method the transform matched
    auth_method_id: int  # the Authentication Method value on the wire
    lifetime: int  # seconds; 0 = none
    lifebytes: int  # kilobytes (the wire unit); 0 = none
    transform_number: int


def _peer_encryptions(peer: PeerProfile) -> list[EncryptionAlgorithm]:
    try:
        algs = [registry.encryption(n) for n in peer.enc_algorithms]
    except UnknownAlgorithm as exc:
        raise LocalProtocolError(f"peer {peer.id}: {exc}") from None
    usable = [a for a in algs if a.ikev1_ike_id is not None]
    if not usable:
        raise LocalProtocolError(f"peer {peer.id}: no IKEv1 phase-1 encryption algorithm")
    return usable


def _peer_groups(peer: PeerProfile) -> list[KeyExchangeGroup]:
    try:
        found = [_groups.group(n) for n in peer.dh_groups]
    except UnknownAlgorithm as exc:
        raise LocalProtocolError(f"peer {peer.id}: {exc}") from None
    usable = [g for g in found if g.id in IKEV1_GROUP_IDS]
    if not usable:
        raise LocalProtocolError(f"peer {peer.id}: no IKEv1 group")
    return usable


def _peer_prf(peer: PeerProfile) -> PrfAlgorithm:
    try:
        prf = registry.prf(peer.hash_algorithm)
    except UnknownAlgorithm as exc:
        raise LocalProtocolError(f"peer {peer.id}: {exc}") from None
    if prf.ikev1_hash_id is None:
        raise LocalProtocolError(f"peer {peer.id}: {prf.name} is no IKEv1 hash")
    return prf


def _peer_auth_id(peer: PeerProfile) -> int:
    try:
        return AUTH_METHOD_IDS[peer.auth_method]
    except KeyError:
        raise LocalProtocolError(
            f"peer {peer.id}: auth-method {peer.auth_method.value} is not IKEv1"
        ) from None


def phase1_offer(peer: PeerProfile) -> SaPayload:
    """The initiator's SA payload: one ISAKMP proposal, one transform per enc x group.

    Transform order is the configured order with encryption outer (RFC 2409 §5: the
    responder picks one). See the module docstring for the attribute choices.
    """
    prf = _peer_prf(peer)
    auth_id = _peer_auth_id(peer)
    life = _life_attributes(
        IkeAttributeType.LIFE_TYPE,
        IkeAttributeType.LIFE_DURATION,
        peer.lifetime,
        _kilobytes(peer.lifebytes),
    )
    transforms: list[Transform] = []
    for enc in _peer_encryptions(peer):
        ike_id = enc.ikev1_ike_id or 0  # never 0: _peer_encryptions keeps IKEv1 ciphers only
        for group in _peer_groups(peer):
            attrs = [Attribute(type=IkeAttributeType.ENCRYPTION_ALGORITHM, value=ike_id)]
            if enc.key_length_attr is not None:
                attrs.append(Attribute(type=IkeAttributeType.KEY_LENGTH, value=enc.key_length_attr))
            attrs += [
                Attribute(type=IkeAttributeType.HASH_ALGORITHM, value=prf.ikev1_hash_id or 0),
                Attribute(type=IkeAttributeType.AUTHENTICATION_METHOD, value=auth_id),
                Attribute(type=IkeAttributeType.GROUP_DESCRIPTION, value=group.id),
                *life,
            ]
            transforms.append(
                Transform(number=len(transforms) + 1, transform_id=KEY_IKE, attributes=tuple(attrs))
            )
    if len(transforms) > 255:
        raise LocalProtocolError(f"peer {peer.id}: {len(transforms)} transforms (255 at most)")
    return SaPayload(
        proposals=(Proposal(number=1, protocol_id=ProtocolId.ISAKMP, transforms=tuple(transforms)),)
    )


# Phase-1 attribute classes we understand; any other makes the transform unacceptable.
_P1_KNOWN = frozenset(
    {
        IkeAttributeType.ENCRYPTION_ALGORITHM,
        IkeAttributeType.HASH_ALGORITHM,
        IkeAttributeType.AUTHENTICATION_METHOD,
        IkeAttributeType.GROUP_DESCRIPTION,
        IkeAttributeType.GROUP_TYPE,
        IkeAttributeType.KEY_LENGTH,
    }
)


def _require(values: Mapping[int, int], type_: int, what: str) -> int:
    value = values.get(type_)
    if value is None:
        raise _Unacceptable(f"no {what} attribute")
    return value


def _decode_phase1(t: Transform, peer: PeerProfile) -> Phase1Choice:
    """What one ISAKMP transform means, or ``_Unacceptable`` (lifetime not judged here)."""
    if t.transform_id != KEY_IKE:
        raise _Unacceptable(f"transform id {t.transform_id} is not KEY_IKE")
    attrs = _split_attributes(
        t.attributes, IkeAttributeType.LIFE_TYPE, IkeAttributeType.LIFE_DURATION
    )
    v = attrs.values
    unknown = sorted(set(v) - _P1_KNOWN)
    if unknown:
        raise _Unacceptable(f"unsupported attribute classes {unknown}", unsupported=True)
    key_bits = v.get(IkeAttributeType.KEY_LENGTH)
    enc_id = _require(v, IkeAttributeType.ENCRYPTION_ALGORITHM, "Encryption Algorithm")
    try:
        enc = registry.encryption_by_ikev1_ike_id(enc_id, key_bits)
        prf = registry.prf_by_ikev1_hash_id(
            _require(v, IkeAttributeType.HASH_ALGORITHM, "Hash Algorithm")
        )
        group = _groups.group_by_id(
            _require(v, IkeAttributeType.GROUP_DESCRIPTION, "Group Description")
        )
    except UnknownAlgorithm as exc:
        raise _Unacceptable(str(exc)) from None
    if group.id not in IKEV1_GROUP_IDS:
        raise _Unacceptable(f"group {group.id} has no IKEv1 description")
    gtype = v.get(IkeAttributeType.GROUP_TYPE)
    if gtype is not None and gtype != _GROUP_TYPES[group.id]:
        raise _Unacceptable(f"Group Type {gtype} does not match group {group.id}")
    auth_id = _require(v, IkeAttributeType.AUTHENTICATION_METHOD, "Authentication Method")
    if enc not in _peer_encryptions(peer):
        raise _Unacceptable(f"encryption {enc.name} not configured")
    if prf is not _peer_prf(peer):
        raise _Unacceptable(f"hash {prf.name} is not {peer.hash_algorithm}")
    if group not in _peer_groups(peer):
        raise _Unacceptable(f"group {group.name} not configured")
    if auth_id != _peer_auth_id(peer):
        raise _Unacceptable(f"authentication method {auth_id} is not ours")
    seconds, kb = _lifetimes(attrs)
    return Phase1Choice(
        encryption=enc,
        key_bits=key_bits,
        hash_name=prf.name,
        prf=prf,
        group=group,
        auth=peer.auth_method,
        auth_method_id=auth_id,
        lifetime=seconds,
        lifebytes=kb,
        transform_number=t.number,
    )


def _no_choice(reasons: list[_Unacceptable], what: str) -> RemoteProtocolError:
    """NO_PROPOSAL_CHOSEN, or ATTRIBUTES_NOT_SUPPORTED when every refusal was an unknown class."""
    detail = f"{what}: " + ("; ".join(str(r) for r in reasons[:8]) or "nothing offered")
    if reasons and all(r.unsupported for r in reasons):
        return AttributesNotSupported(detail)
    return NoProposalChosen(detail)


def select_phase1(peer: PeerProfile, offer: SaPayload) -> tuple[Phase1Choice, SaPayload]:
    """The responder's choice: the first offered transform ``peer`` accepts, and the reply SA.

    The reply holds the chosen transform's proposal with that one transform, attributes as
    received (RFC 2408 §4.2). Raises NoProposalChosen / AttributesNotSupported /
    BadProposalSyntax (module docstring).
    """
    ours = (peer.lifetime, _kilobytes(peer.lifebytes))
    reasons: list[_Unacceptable] = []
    for prop in offer.proposals:
        if prop.protocol_id != ProtocolId.ISAKMP:
            reasons.append(_Unacceptable(f"protocol {prop.protocol_id} in phase 1"))
            continue
        for t in prop.transforms:
            try:
                choice = _decode_phase1(t, peer)
                (seconds, kb), _claimed = _check_lifetime(
                    peer.proposal_check, (choice.lifetime, choice.lifebytes), ours
                )
            except _Unacceptable as exc:
                reasons.append(exc)
                continue
            choice = dataclasses.replace(choice, lifetime=seconds, lifebytes=kb)
            reply = SaPayload(
                doi=offer.doi,
                situation=offer.situation,
                proposals=(dataclasses.replace(prop, transforms=(t,)),),
            )
            return choice, reply
    raise _no_choice(reasons, "phase 1")


def _same_transform(a: Transform, b: Transform, life_type: int, life_duration: int) -> bool:
    """Same id and same attribute values (forms and order may differ: TV/TLV, re-encoding)."""
    if a.transform_id != b.transform_id:
        return False
    return _split_attributes(a.attributes, life_type, life_duration) == _split_attributes(
        b.attributes, life_type, life_duration
    )


def accept_phase1_reply(peer: PeerProfile, offer: SaPayload, reply: SaPayload) -> Phase1Choice:
    """The initiator's check of the responder's SA: one proposal, one transform, one we offered.

    Attributes are compared by value (the TV/TLV form may differ). Raises NoProposalChosen when
    the responder chose something we did not offer, BadProposalSyntax when the reply holds
    more than one proposal or transform.
    """
    if len(reply.proposals) != 1 or len(reply.proposals[0].transforms) != 1:
        raise BadProposalSyntax("phase-1 reply must hold one proposal with one transform")
    prop = reply.proposals[0]
    if prop.protocol_id != ProtocolId.ISAKMP:
        raise NoProposalChosen(f"phase-1 reply for protocol {prop.protocol_id}")
    chosen = prop.transforms[0]
    for offered_prop in offer.proposals:
        for t in offered_prop.transforms:
            if _same_transform(
                t, chosen, IkeAttributeType.LIFE_TYPE, IkeAttributeType.LIFE_DURATION
            ):
                try:
                    return _decode_phase1(chosen, peer)
                except _Unacceptable as exc:  # pragma: no cover - we offered it
                    raise NoProposalChosen(str(exc)) from None
    raise NoProposalChosen("the responder chose a transform we did not offer")
