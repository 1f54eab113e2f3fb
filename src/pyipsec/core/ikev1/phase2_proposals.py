"""Phase-2 (quick mode) proposals: offer, choice under proposal-check, the check of the reply
and RESPONDER-LIFETIME. See ``proposals.py`` for the theory of operation."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from pyipsec.core import proposals as shared
from pyipsec.core.ikev1.errors import (
    BadProposalSyntax,
    InvalidSpi,
    LocalProtocolError,
    NoProposalChosen,
    from_malformed,
)
from pyipsec.core.ikev1.keymat import keymat_size
from pyipsec.core.ikev1.proposal_common import (
    _LIFE_KILOBYTES,
    _LIFE_SECONDS,
    IKEV1_GROUP_IDS,
    _check_lifetime,
    _kilobytes,
    _life_attributes,
    _lifetimes,
    _no_choice,
    _same_transform,
    _shorter,
    _split_attributes,
    _Unacceptable,
)
from pyipsec.core.profiles import ProposalCheck, ProposalProfile
from pyipsec.crypto import groups as _groups
from pyipsec.crypto import registry
from pyipsec.crypto.base import (
    EncryptionAlgorithm,
    IntegrityAlgorithm,
    KeyExchangeGroup,
    UnknownAlgorithm,
)
from pyipsec.dataplane.policy import Mode, Policy
from pyipsec.dataplane.sad import SaProtocol
from pyipsec.wire.ikev1.attributes import Attribute, pull_attributes, push_attributes
from pyipsec.wire.ikev1.constants import (
    EncapsulationMode,
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

# The one table between the SAD's protocols and IKE's protocol ids (ike_sa re-exports it).
PROTOCOL_IDS: Mapping[SaProtocol, ProtocolId] = MappingProxyType(
    {SaProtocol.ESP: ProtocolId.IPSEC_ESP, SaProtocol.AH: ProtocolId.IPSEC_AH}
)
SA_PROTOCOLS: Mapping[int, SaProtocol] = MappingProxyType({v: k for k, v in PROTOCOL_IDS.items()})

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
    return shared.profile_encryptions(profile, LocalProtocolError)


def _profile_integrities(profile: ProposalProfile) -> list[IntegrityAlgorithm | None]:
    """auth-algorithms in order, None for "null"; an empty list means null only."""
    return shared.profile_integrities(
        profile, lambda i: i.ikev1_auth_id is not None, LocalProtocolError
    )


def proposal_pfs_group(profile: ProposalProfile) -> KeyExchangeGroup | None:
    """The PFS group an initiator offers for ``profile`` (its pfs-group), None for none.

    Raises LocalProtocolError for an unknown group or one IKEv1 cannot name.
    """
    return _profile_pfs(profile)


def _profile_pfs(profile: ProposalProfile) -> KeyExchangeGroup | None:
    return shared.profile_pfs(
        profile, lambda g: g.id in IKEV1_GROUP_IDS, "IKEv1 group", LocalProtocolError
    )


def _esp_combinations(
    profile: ProposalProfile,
) -> list[tuple[EncryptionAlgorithm, IntegrityAlgorithm | None]]:
    usable = [e for e in _profile_encryptions(profile) if e.ikev1_esp_id is not None]
    return shared.esp_combinations(usable, _profile_integrities(profile))


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
            raise _Unacceptable(
                f"PFS group {shared.group_name(theirs)} is not exactly {shared.group_name(ours)}"
            )
        return
    if ours is not None and theirs is not ours:  # strict, claim
        raise _Unacceptable(
            f"PFS group {shared.group_name(theirs)} where we require {shared.group_name(ours)}"
        )


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
        protos = [SA_PROTOCOLS[p.protocol_id] for p in group if p.protocol_id in SA_PROTOCOLS]
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
        proto = SA_PROTOCOLS.get(p.protocol_id)
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
        proto = SA_PROTOCOLS[p.protocol_id]
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
        protocol_id=PROTOCOL_IDS[protocol],
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
