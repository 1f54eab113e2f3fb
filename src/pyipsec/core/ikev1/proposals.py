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
    InvalidSpi,
    LocalProtocolError,
    NoProposalChosen,
    RemoteProtocolError,
    from_malformed,
)
from pyipsec.core.ikev1.keymat import keymat_size
from pyipsec.core.profiles import AuthMethod, PeerProfile, ProposalCheck, ProposalProfile
from pyipsec.crypto import groups as _groups
from pyipsec.crypto import registry
from pyipsec.crypto.base import (
    EncryptionAlgorithm,
    IntegrityAlgorithm,
    KeyExchangeGroup,
    PrfAlgorithm,
    UnknownAlgorithm,
)
from pyipsec.dataplane.policy import Mode, Policy
from pyipsec.dataplane.sad import SaProtocol
from pyipsec.wire.ikev1.attributes import Attribute, pull_attributes, push_attributes
from pyipsec.wire.ikev1.constants import (
    KEY_IKE,
    AuthenticationMethod,
    EncapsulationMode,
    GroupType,
    IkeAttributeType,
    IpsecAttributeType,
    NotifyMessageType,
    ProtocolId,
)
from pyipsec.wire.ikev1.errors import MalformedMessage
from pyipsec.wire.ikev1.payloads import (
    NotifyPayload,
    Proposal,
    SaPayload,
    Transform,
    proposal_groups,
)

__all__ = [
    "AUTH_METHOD_IDS",
    "DEFAULT_LIFETIME",
    "IKEV1_GROUP_IDS",
    "Phase1Choice",
    "Phase2Choice",
    "Phase2Item",
    "accept_phase1_reply",
    "accept_phase2_reply",
    "answer_with_spis",
    "apply_responder_lifetime",
    "esp_keymat_layout",
    "phase1_offer",
    "phase2_offer",
    "proposal_pfs_group",
    "responder_lifetime_notify",
    "select_phase1",
    "select_phase2",
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


def phase1_offer(peer: PeerProfile, *, aggressive: bool = False) -> SaPayload:
    """The initiator's SA payload: one ISAKMP proposal, one transform per enc x group.

    Transform order is the configured order with encryption outer (RFC 2409 §5: the
    responder picks one). See the module docstring for the attribute choices. ``aggressive``
    offers the first configured group only: aggressive mode sends its KE payload with the SA
    (RFC 2409 §5.4), so every transform must name that group.
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
        for group in _peer_groups(peer)[: 1 if aggressive else None]:
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


def select_phase1(
    peer: PeerProfile, offer: SaPayload, *, ke_group: int | None = None
) -> tuple[Phase1Choice, SaPayload]:
    """The responder's choice: the first offered transform ``peer`` accepts, and the reply SA.

    The reply holds the chosen transform's proposal with that one transform, attributes as
    received (RFC 2408 §4.2). ``ke_group`` (aggressive mode: the group of the KE payload that
    came with the SA, RFC 2409 §5.4) limits the choice to transforms naming that group.
    Raises NoProposalChosen / AttributesNotSupported / BadProposalSyntax (module docstring).
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
                if ke_group is not None and choice.group.id != ke_group:
                    raise _Unacceptable(f"group {choice.group.id} but KE of group {ke_group}")
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


# --- phase 2 --------------------------------------------------------------------------------
#
# Offer layout (racoon's, which RouterOS IKEv1 descends from): ONE proposal number for the
# whole bundle. ESP gets one Proposal payload whose transforms are every enc-algorithm x
# auth-algorithm (configured order, encryption outer); an AEAD cipher (AES-GCM) appears once
# without Authentication Algorithm, and "null" (or an empty auth-algorithms) means a transform
# without Authentication Algorithm, i.e. ESP without integrity (RFC 2407 §4.5); NULL encryption
# with null integrity is never offered (RFC 4303 §3.2). AH gets a Proposal payload with one
# transform per (non-null) auth-algorithm, transform id and Authentication Algorithm matching
# (RFC 2407 §4.4.3). With ipsec-protocols=ah,esp both payloads carry number 1: the AND of
# RFC 2408 §4.2; transforms inside a payload are the OR. Peers that send one proposal number
# per combination instead are handled the same way by ``select_phase2``.
#
# Each transform carries: SA Life Type/Duration (seconds, and kilobytes when set), Group
# Description when PFS (RFC 2409 §5.5), Encapsulation Mode (tunnel 1 / transport 2; behind a
# NAT UDP-encapsulated tunnel 3 / transport 4, RFC 3947 §5.1, or the draft values 61443/61444),
# Authentication Algorithm, Key Length for variable-key ciphers (RFC 3602 §5.3, RFC 4312).
# ESP transform ids come from the registry (``ikev1_esp_id``); ciphers without one (ChaCha20)
# are skipped.

_PROTOCOL_IDS: Mapping[SaProtocol, int] = MappingProxyType(
    {SaProtocol.ESP: ProtocolId.IPSEC_ESP, SaProtocol.AH: ProtocolId.IPSEC_AH}
)
_SA_PROTOCOLS: Mapping[int, SaProtocol] = MappingProxyType({v: k for k, v in _PROTOCOL_IDS.items()})
_NULL_AUTH = frozenset({"null", ""})

# (mode, UDP-encapsulated, draft) -> Encapsulation Mode value, and back.
_ENCAP: Mapping[tuple[Mode, bool, bool], int] = MappingProxyType(
    {
        (Mode.TUNNEL, False, False): EncapsulationMode.TUNNEL,
        (Mode.TRANSPORT, False, False): EncapsulationMode.TRANSPORT,
        (Mode.TUNNEL, False, True): EncapsulationMode.TUNNEL,
        (Mode.TRANSPORT, False, True): EncapsulationMode.TRANSPORT,
        (Mode.TUNNEL, True, False): EncapsulationMode.UDP_ENCAPSULATED_TUNNEL,
        (Mode.TRANSPORT, True, False): EncapsulationMode.UDP_ENCAPSULATED_TRANSPORT,
        (Mode.TUNNEL, True, True): EncapsulationMode.UDP_ENCAPSULATED_TUNNEL_DRAFT,
        (Mode.TRANSPORT, True, True): EncapsulationMode.UDP_ENCAPSULATED_TRANSPORT_DRAFT,
    }
)
# Encapsulation Mode value -> (mode, UDP-encapsulated).
_ENCAP_MODES: Mapping[int, tuple[Mode, bool]] = MappingProxyType(
    {value: (mode, udp) for (mode, udp, _draft), value in _ENCAP.items()}
)

# Phase-2 attribute classes we understand (RFC 2407 §4.5, RFC 4304 §2).
_P2_KNOWN = frozenset(
    {
        IpsecAttributeType.GROUP_DESCRIPTION,
        IpsecAttributeType.ENCAPSULATION_MODE,
        IpsecAttributeType.AUTHENTICATION_ALGORITHM,
        IpsecAttributeType.KEY_LENGTH,
        IpsecAttributeType.EXTENDED_SEQUENCE_NUMBER,
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Phase2Item:
    """One protocol of the negotiated bundle."""

    protocol: SaProtocol
    encryption: EncryptionAlgorithm | None  # None for AH
    integrity: IntegrityAlgorithm | None  # None for AEAD ciphers and ESP without integrity
    key_bits: int | None  # Key Length attribute, None when absent
    transform_id: int
    transform_number: int
    peer_spi: int  # the other side's SPI from its proposal (its inbound SA)


@dataclass(frozen=True, slots=True, kw_only=True)
class Phase2Choice:
    """The negotiated quick-mode SA bundle (RFC 2409 §5.5, RFC 2407 §4.5)."""

    items: tuple[Phase2Item, ...]  # in proposal order
    mode: Mode
    udp_encap: bool
    encapsulation_mode: int  # the Encapsulation Mode value on the wire
    pfs_group: KeyExchangeGroup | None
    lifetime: int  # seconds
    lifebytes: int  # kilobytes; 0 = none
    esn: bool = False
    responder_lifetime: int | None = None  # claim: send RESPONDER-LIFETIME with this
    proposal_number: int

    @property
    def peer_spis(self) -> dict[SaProtocol, int]:
        """The other side's SPI per protocol."""
        return {i.protocol: i.peer_spi for i in self.items}

    def item(self, protocol: SaProtocol) -> Phase2Item | None:
        """The bundle member of ``protocol``, if any."""
        return next((i for i in self.items if i.protocol is protocol), None)


def esp_keymat_layout(item: Phase2Item) -> tuple[int, int]:
    """(encryption key bytes incl. salt, integrity key bytes) this SA takes from KEYMAT.

    The total is ``keymat.keymat_size``; the order is ``keymat.split_keymat``'s.
    """
    enc = item.encryption.keymat_size if item.encryption else 0
    return enc, keymat_size(item.encryption, item.integrity) - enc


def _profile_encryptions(profile: ProposalProfile) -> list[EncryptionAlgorithm]:
    try:
        return [registry.encryption(n) for n in profile.enc_algorithms]
    except UnknownAlgorithm as exc:
        raise LocalProtocolError(f"proposal {profile.name}: {exc}") from None


def _profile_integrities(profile: ProposalProfile) -> list[IntegrityAlgorithm | None]:
    """auth-algorithms in order, None for "null"; an empty list means null only."""
    try:
        out = [None if n in _NULL_AUTH else registry.integrity(n) for n in profile.auth_algorithms]
    except UnknownAlgorithm as exc:
        raise LocalProtocolError(f"proposal {profile.name}: {exc}") from None
    return [i for i in out if i is None or i.ikev1_auth_id is not None] or [None]


def proposal_pfs_group(profile: ProposalProfile) -> KeyExchangeGroup | None:
    """The PFS group an initiator offers for ``profile`` (its pfs-group), None for none.

    Raises LocalProtocolError for an unknown group or one IKEv1 cannot name.
    """
    return _profile_pfs(profile)


def _profile_pfs(profile: ProposalProfile) -> KeyExchangeGroup | None:
    if profile.pfs_group in (None, "none"):
        return None
    try:
        group = _groups.group(profile.pfs_group)
    except UnknownAlgorithm as exc:
        raise LocalProtocolError(f"proposal {profile.name}: {exc}") from None
    if group.id not in IKEV1_GROUP_IDS:
        raise LocalProtocolError(f"proposal {profile.name}: {group.name} is no IKEv1 group")
    return group


def _esp_combinations(
    profile: ProposalProfile,
) -> list[tuple[EncryptionAlgorithm, IntegrityAlgorithm | None]]:
    combos: list[tuple[EncryptionAlgorithm, IntegrityAlgorithm | None]] = []
    integrities = _profile_integrities(profile)
    for enc in _profile_encryptions(profile):
        if enc.ikev1_esp_id is None:
            continue
        if enc.aead:
            combos.append((enc, None))
            continue
        for integ in integrities:
            if integ is None and enc.name == "null":
                continue  # RFC 4303 §3.2: not both NULL
            combos.append((enc, integ))
    return combos


def _spi_bytes(spis: Mapping[SaProtocol, int], protocol: SaProtocol) -> bytes:
    try:
        return spis[protocol].to_bytes(4, "big")
    except KeyError:
        raise LocalProtocolError(f"no SPI for {protocol.name}") from None


def phase2_offer(
    proposal: ProposalProfile,
    policy: Policy,
    spis: Mapping[SaProtocol, int],
    *,
    udp_encap: bool,
    natt_draft: bool = False,
    lifebytes: int = 0,
) -> SaPayload:
    """The initiator's quick-mode SA payload for ``policy`` (layout in the comment above).

    ``spis`` are our inbound SPIs per protocol of the policy; ``lifebytes`` (bytes, 0 = none)
    adds a kilobytes lifetime, which RouterOS proposals do not have.
    """
    pfs = _profile_pfs(proposal)
    encap = _ENCAP[(policy.mode, udp_encap, natt_draft)]
    common: list[Attribute] = _life_attributes(
        IpsecAttributeType.SA_LIFE_TYPE,
        IpsecAttributeType.SA_LIFE_DURATION,
        proposal.lifetime,
        _kilobytes(lifebytes),
    )
    if pfs is not None:
        common.append(Attribute(type=IpsecAttributeType.GROUP_DESCRIPTION, value=pfs.id))
    common.append(Attribute(type=IpsecAttributeType.ENCAPSULATION_MODE, value=encap))

    proposals: list[Proposal] = []
    if policy.esp:
        transforms: list[Transform] = []
        for enc, integ in _esp_combinations(proposal):
            attrs = list(common)
            if integ is not None:
                attrs.append(
                    Attribute(
                        type=IpsecAttributeType.AUTHENTICATION_ALGORITHM,
                        value=integ.ikev1_auth_id or 0,
                    )
                )
            if enc.key_length_attr is not None:
                attrs.append(
                    Attribute(type=IpsecAttributeType.KEY_LENGTH, value=enc.key_length_attr)
                )
            transforms.append(
                Transform(
                    number=len(transforms) + 1,
                    transform_id=enc.ikev1_esp_id or 0,
                    attributes=tuple(attrs),
                )
            )
        if not transforms:
            raise LocalProtocolError(f"proposal {proposal.name}: nothing to offer for ESP")
        proposals.append(
            Proposal(
                number=1,
                protocol_id=ProtocolId.IPSEC_ESP,
                spi=_spi_bytes(spis, SaProtocol.ESP),
                transforms=tuple(transforms),
            )
        )
    if policy.ah:
        ah_transforms: list[Transform] = []
        for integ in _profile_integrities(proposal):
            if integ is None or integ.ah_transform_id is None:
                continue
            attrs = [
                *common,
                Attribute(
                    type=IpsecAttributeType.AUTHENTICATION_ALGORITHM,
                    value=integ.ikev1_auth_id or 0,
                ),
            ]
            ah_transforms.append(
                Transform(
                    number=len(ah_transforms) + 1,
                    transform_id=integ.ah_transform_id,
                    attributes=tuple(attrs),
                )
            )
        if not ah_transforms:
            raise LocalProtocolError(f"proposal {proposal.name}: nothing to offer for AH")
        proposals.append(
            Proposal(
                number=1,
                protocol_id=ProtocolId.IPSEC_AH,
                spi=_spi_bytes(spis, SaProtocol.AH),
                transforms=tuple(ah_transforms),
            )
        )
    if not proposals:
        raise LocalProtocolError(f"policy {policy.id} has no IPsec protocol")
    for p in proposals:
        if len(p.transforms) > 255:
            raise LocalProtocolError(f"proposal {proposal.name}: more than 255 transforms")
    return SaPayload(proposals=tuple(proposals))


@dataclass(frozen=True, slots=True, kw_only=True)
class _P2Transform:
    """What one phase-2 transform means (before any policy/profile check)."""

    item: Phase2Item
    mode: Mode
    udp: bool
    encap: int
    pfs: KeyExchangeGroup | None
    lifetime: int
    lifebytes: int
    esn: bool


def _peer_spi(p: Proposal) -> int:
    # RFC 2407 §4.6.1 / RFC 4303 §2.1: a 4-byte SPI, 1-255 reserved, 0 never an SA's.
    if len(p.spi) != 4:
        raise InvalidSpi(f"{len(p.spi)}-byte SPI for protocol {p.protocol_id}")
    spi = int.from_bytes(p.spi, "big")
    if spi < 256:
        raise InvalidSpi(f"reserved SPI {spi}")
    return spi


def _decode_phase2(protocol: SaProtocol, spi: int, t: Transform) -> _P2Transform:
    """The meaning of one ESP/AH transform, or ``_Unacceptable``."""
    attrs = _split_attributes(
        t.attributes, IpsecAttributeType.SA_LIFE_TYPE, IpsecAttributeType.SA_LIFE_DURATION
    )
    v = attrs.values
    unknown = sorted(set(v) - _P2_KNOWN)
    if unknown:
        raise _Unacceptable(f"unsupported attribute classes {unknown}", unsupported=True)
    lifetime, lifebytes = _lifetimes(attrs)
    # RFC 2407 §4.5 leaves an absent Encapsulation Mode to the host; racoon takes transport.
    encap = v.get(IpsecAttributeType.ENCAPSULATION_MODE, EncapsulationMode.TRANSPORT)
    if encap not in _ENCAP_MODES:
        raise _Unacceptable(f"unknown encapsulation mode {encap}")
    mode, udp = _ENCAP_MODES[encap]
    group_id = v.get(IpsecAttributeType.GROUP_DESCRIPTION)
    esn_value = v.get(IpsecAttributeType.EXTENDED_SEQUENCE_NUMBER, 0)
    if esn_value not in (0, 1):  # RFC 4304 §2: 1 = 64-bit sequence numbers
        raise _Unacceptable(f"unknown Extended Sequence Number value {esn_value}")
    key_bits = v.get(IpsecAttributeType.KEY_LENGTH)
    auth_id = v.get(IpsecAttributeType.AUTHENTICATION_ALGORITHM)
    try:
        pfs = None if group_id is None else _groups.group_by_id(group_id)
        integ = None if auth_id is None else registry.integrity_by_ikev1_auth_id(auth_id)
        enc: EncryptionAlgorithm | None
        if protocol is SaProtocol.ESP:
            enc = registry.encryption_by_esp_id(t.transform_id, key_bits)
        else:
            enc = None
            ah = registry.integrity_by_ah_id(t.transform_id)
    except UnknownAlgorithm as exc:
        raise _Unacceptable(str(exc)) from None
    if pfs is not None and pfs.id not in IKEV1_GROUP_IDS:
        raise _Unacceptable(f"PFS group {pfs.id} has no IKEv1 description")
    if enc is not None:
        if enc.aead and integ is not None:
            # RFC 4106: the AEAD cipher protects integrity; no Authentication Algorithm.
            raise _Unacceptable(f"{enc.name} with an Authentication Algorithm")
        if enc.name == "null" and integ is None:
            raise _Unacceptable("NULL encryption without integrity (RFC 4303 §3.2)")
    else:
        # RFC 2407 §4.4.3 / §4.5: AH needs the Authentication Algorithm of its transform id.
        if integ is not ah:
            raise _Unacceptable(f"AH transform {t.transform_id} with auth algorithm {auth_id}")
        if key_bits is not None:
            raise _Unacceptable("Key Length on an AH transform")
    item = Phase2Item(
        protocol=protocol,
        encryption=enc,
        integrity=integ,
        key_bits=key_bits,
        transform_id=t.transform_id,
        transform_number=t.number,
        peer_spi=spi,
    )
    return _P2Transform(
        item=item,
        mode=mode,
        udp=udp,
        encap=encap,
        pfs=pfs,
        lifetime=lifetime,
        lifebytes=lifebytes,
        esn=bool(esn_value),
    )


def _check_pfs(
    check: ProposalCheck, theirs: KeyExchangeGroup | None, ours: KeyExchangeGroup | None
) -> None:
    """racoon's PFS rule (``cmpsaprop_alloc``); raises ``_Unacceptable``. See select_phase2."""
    if check is ProposalCheck.OBEY:
        return
    if check is ProposalCheck.EXACT:
        if theirs is not ours:
            raise _Unacceptable(f"PFS group {_gname(theirs)} is not exactly {_gname(ours)}")
        return
    if ours is not None and theirs is not ours:  # strict, claim
        raise _Unacceptable(f"PFS group {_gname(theirs)} where we require {_gname(ours)}")


def _gname(g: KeyExchangeGroup | None) -> str:
    return "none" if g is None else g.name


def _acceptable(d: _P2Transform, profile: ProposalProfile, policy: Policy, udp_encap: bool) -> None:
    """Profile and policy checks for one decoded transform; raises ``_Unacceptable``."""
    if d.mode is not policy.mode:
        raise _Unacceptable(f"{d.mode.value} mode offered for a {policy.mode.value} policy")
    if d.udp and not udp_encap:
        raise _Unacceptable("UDP-encapsulated mode without a NAT")
    item = d.item
    if item.encryption is not None and item.encryption not in _profile_encryptions(profile):
        raise _Unacceptable(f"encryption {item.encryption.name} not in proposal {profile.name}")
    if item.encryption is None or not item.encryption.aead:
        allowed = _profile_integrities(profile)
        if item.integrity not in allowed:
            name = "null" if item.integrity is None else item.integrity.name
            raise _Unacceptable(f"auth {name} not in proposal {profile.name}")


def select_phase2(
    proposal: ProposalProfile,
    policy: Policy,
    offer: SaPayload,
    check: ProposalCheck,
    *,
    udp_encap: bool,
) -> tuple[Phase2Choice, SaPayload]:
    """The responder's choice of the initiator's quick-mode proposals, and the SA to answer.

    Proposal groups (RFC 2408 §4.2: payloads sharing a number are ANDed) are tried in the
    initiator's order; a group fits when its protocols are exactly the policy's
    ipsec-protocols (ESP, AH, or AH+ESP), and in each of its payloads some transform passes:
    the policy's mode (tunnel/transport; the UDP-encapsulated values only when ``udp_encap``,
    i.e. a NAT was detected; under a NAT the plain values are also taken, as racoon does),
    algorithms from ``proposal``, and the lifetime and PFS rules of ``check`` (racoon
    ``cmpsaprop_alloc``, "ours" = the proposal's lifetime and pfs-group, 0 = unlimited):

    ======  =====================================  ============================================
    check   lifetime (seconds and kilobytes)       PFS group
    ======  =====================================  ============================================
    obey    the initiator's                        the initiator's (none or any group)
    strict  refused if longer than ours, else      refused if ours is set and differs; else
            the initiator's                        the initiator's (ours none: theirs taken)
    claim   the shorter one; if ours is shorter,   as strict
            RESPONDER-LIFETIME is sent
            (``responder_lifetime``)
    exact   must equal ours                        must equal ours (none = none)
    ======  =====================================  ============================================

    Sources: racoon.conf(5) for obey/strict/claim, and racoon's proposal.c where the manual
    is silent or looser: the manual says exact refuses a PFS mismatch "if PFS is required by
    both sides", but the code (what a racoon-derived responder does) refuses any difference,
    one-sided PFS included; strict/claim with our pfs-group set refuse an offer without PFS.
    Key lengths always have to match a configured cipher (aes-128-cbc is not aes-256-cbc);
    racoon's obey would take an initiator's longer AES key, RouterOS lists key sizes as
    separate algorithms, so we do not.

    The PFS group, mode and ESN of the transforms chosen in one group must agree. The answer
    holds the group's payloads with the chosen transform each, attributes as received, and
    the initiator's SPIs: put ours in with ``answer_with_spis``.
    """
    wanted = {p for p, on in ((SaProtocol.ESP, policy.esp), (SaProtocol.AH, policy.ah)) if on}
    ours_life = (proposal.lifetime, 0)
    ours_pfs = _profile_pfs(proposal)
    reasons: list[_Unacceptable] = []
    for group in proposal_groups(offer):
        protos = [_SA_PROTOCOLS[p.protocol_id] for p in group if p.protocol_id in _SA_PROTOCOLS]
        if len(protos) != len(group) or len(set(protos)) != len(protos) or set(protos) != wanted:
            ids = [p.protocol_id for p in group]
            reasons.append(_Unacceptable(f"proposal {group[0].number}: protocols {ids}"))
            continue
        chosen: list[tuple[Proposal, Transform, _P2Transform]] = []
        for p, proto in zip(group, protos, strict=True):
            spi = _peer_spi(p)
            found = None
            for t in p.transforms:
                try:
                    d = _decode_phase2(proto, spi, t)
                    _acceptable(d, proposal, policy, udp_encap)
                    _check_pfs(check, d.pfs, ours_pfs)
                    _check_lifetime(check, (d.lifetime, d.lifebytes), ours_life)
                except _Unacceptable as exc:
                    reasons.append(exc)
                    continue
                found = (p, t, d)
                break
            if found is None:
                break
            chosen.append(found)
        if len(chosen) != len(group):
            continue
        decoded = [d for _p, _t, d in chosen]
        first = decoded[0]
        if any(
            (d.pfs, d.mode, d.encap, d.esn) != (first.pfs, first.mode, first.encap, first.esn)
            for d in decoded
        ):
            reasons.append(_Unacceptable(f"proposal {group[0].number}: bundle attributes differ"))
            continue
        theirs = (min(d.lifetime for d in decoded), _min_limit(d.lifebytes for d in decoded))
        (lifetime, lifebytes), claimed = _check_lifetime(check, theirs, ours_life)
        choice = Phase2Choice(
            items=tuple(d.item for d in decoded),
            mode=first.mode,
            udp_encap=udp_encap,
            encapsulation_mode=first.encap,
            pfs_group=first.pfs,
            lifetime=lifetime,
            lifebytes=lifebytes,
            esn=first.esn,
            responder_lifetime=lifetime if claimed else None,
            proposal_number=group[0].number,
        )
        answer = SaPayload(
            doi=offer.doi,
            situation=offer.situation,
            proposals=tuple(dataclasses.replace(p, transforms=(t,)) for p, t, _d in chosen),
        )
        return choice, answer
    raise _no_choice(reasons, "phase 2")


def _min_limit(values: Iterable[int]) -> int:
    out = 0
    for v in values:
        out = _shorter(out, v)
    return out


def answer_with_spis(sa: SaPayload, spis: Mapping[SaProtocol, int]) -> SaPayload:
    """``sa`` with each proposal's SPI replaced by ours for its protocol (4 bytes)."""
    out = []
    for p in sa.proposals:
        proto = _SA_PROTOCOLS.get(p.protocol_id)
        if proto is None:
            raise LocalProtocolError(f"no SPI for protocol {p.protocol_id}")
        out.append(dataclasses.replace(p, spi=_spi_bytes(spis, proto)))
    return dataclasses.replace(sa, proposals=tuple(out))


def accept_phase2_reply(offer: SaPayload, reply: SaPayload, *, udp_encap: bool) -> Phase2Choice:
    """The initiator's check of the responder's quick-mode SA, and the choice it makes.

    The reply must answer ONE of our proposal groups: the same number and protocols, one
    transform per payload, each equal by value to a transform we offered in that payload.
    The peer SPIs are the responder's. Raises NoProposalChosen (something we did not offer),
    BadProposalSyntax (several transforms or groups), InvalidSpi.
    """
    groups = proposal_groups(reply)
    if len(groups) != 1:
        raise BadProposalSyntax(f"quick-mode reply with {len(groups)} proposal numbers")
    answered = groups[0]
    offered = next((g for g in proposal_groups(offer) if g[0].number == answered[0].number), None)
    if offered is None:
        raise NoProposalChosen(f"reply for proposal {answered[0].number} we did not make")
    if sorted(p.protocol_id for p in answered) != sorted(p.protocol_id for p in offered):
        raise NoProposalChosen("reply protocols differ from our proposal")
    decoded: list[_P2Transform] = []
    for p in answered:
        if len(p.transforms) != 1:
            raise BadProposalSyntax(f"{len(p.transforms)} transforms in a reply proposal")
        t = p.transforms[0]
        mine = next(o for o in offered if o.protocol_id == p.protocol_id)
        if not any(
            _same_transform(
                o, t, IpsecAttributeType.SA_LIFE_TYPE, IpsecAttributeType.SA_LIFE_DURATION
            )
            for o in mine.transforms
        ):
            raise NoProposalChosen(f"transform {t.number} of protocol {p.protocol_id} not offered")
        proto = _SA_PROTOCOLS[p.protocol_id]
        try:
            decoded.append(_decode_phase2(proto, _peer_spi(p), t))
        except _Unacceptable as exc:  # pragma: no cover - we offered it
            raise NoProposalChosen(str(exc)) from None
    first = decoded[0]
    if any(
        (d.pfs, d.mode, d.encap, d.esn) != (first.pfs, first.mode, first.encap, first.esn)
        for d in decoded
    ):
        raise NoProposalChosen("bundle attributes differ")
    return Phase2Choice(
        items=tuple(d.item for d in decoded),
        mode=first.mode,
        udp_encap=udp_encap,
        encapsulation_mode=first.encap,
        pfs_group=first.pfs,
        lifetime=min(d.lifetime for d in decoded),
        lifebytes=_min_limit(d.lifebytes for d in decoded),
        esn=first.esn,
        proposal_number=answered[0].number,
    )


def responder_lifetime_notify(
    choice: Phase2Choice, *, protocol: SaProtocol, spi: int
) -> NotifyPayload:
    """RESPONDER-LIFETIME for a ``claim`` choice (RFC 2407 §4.6.3.1).

    The data is an attribute list of SA Life Type/Duration pairs (seconds, and kilobytes when
    set); ``protocol``/``spi`` name the SA it is about. Raises ValueError if nothing was claimed.
    """
    if choice.responder_lifetime is None:
        raise ValueError("no responder lifetime to announce")
    attrs = _life_attributes(
        IpsecAttributeType.SA_LIFE_TYPE,
        IpsecAttributeType.SA_LIFE_DURATION,
        choice.responder_lifetime,
        choice.lifebytes,
    )
    return NotifyPayload(
        protocol_id=_PROTOCOL_IDS[protocol],
        notify_type=NotifyMessageType.RESPONDER_LIFETIME,
        spi=spi.to_bytes(4, "big"),
        data=push_attributes(attrs),
    )


def apply_responder_lifetime(choice: Phase2Choice, notify_data: bytes) -> Phase2Choice:
    """The initiator's choice after a RESPONDER-LIFETIME notify (RFC 2407 §4.6.3.1).

    Each life value the responder announces replaces ours when it is shorter (a longer one is
    ignored: both ends must be gone by the shorter). Unknown life types are ignored; a
    malformed list is PAYLOAD_MALFORMED / BAD_PROPOSAL_SYNTAX.
    """
    try:
        attrs = pull_attributes(notify_data)
    except MalformedMessage as exc:
        raise from_malformed(exc) from None
    lives = _split_attributes(
        attrs, IpsecAttributeType.SA_LIFE_TYPE, IpsecAttributeType.SA_LIFE_DURATION
    ).lives
    seconds = lives.get(_LIFE_SECONDS, 0)
    kb = lives.get(_LIFE_KILOBYTES, 0)
    return dataclasses.replace(
        choice,
        lifetime=_shorter(choice.lifetime, seconds),
        lifebytes=_shorter(choice.lifebytes, kb),
    )
