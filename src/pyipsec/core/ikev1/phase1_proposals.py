"""Phase-1 (ISAKMP SA) proposals: the initiator's offer, the responder's choice, the check
of the reply. See ``proposals.py`` for the theory of operation."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from pyipsec.core import proposals as shared
from pyipsec.core.ikev1.errors import (
    BadProposalSyntax,
    LocalProtocolError,
    NoProposalChosen,
)
from pyipsec.core.ikev1.proposal_common import (
    _GROUP_TYPES,
    AUTH_METHOD_IDS,
    IKEV1_GROUP_IDS,
    _check_lifetime,
    _kilobytes,
    _life_attributes,
    _lifetimes,
    _no_choice,
    _same_transform,
    _split_attributes,
    _Unacceptable,
)
from pyipsec.core.profiles import AuthMethod, PeerProfile
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
    IkeAttributeType,
    ProtocolId,
)
from pyipsec.wire.ikev1.payloads import (
    Proposal,
    SaPayload,
    Transform,
)

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
    return shared.peer_encryptions(
        peer,
        lambda a: a.ikev1_ike_id is not None,
        "IKEv1 phase-1 encryption algorithm",
        LocalProtocolError,
    )


def _peer_groups(peer: PeerProfile) -> list[KeyExchangeGroup]:
    return shared.peer_groups(
        peer, lambda g: g.id in IKEV1_GROUP_IDS, "IKEv1 group", LocalProtocolError
    )


def _peer_prf(peer: PeerProfile) -> PrfAlgorithm:
    prf = shared.peer_prf(peer, LocalProtocolError)
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
