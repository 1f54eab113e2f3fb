"""ISAKMP payloads (RFC 2408 §3.2-§3.16, RFC 2407 §4.6, RFC 3947 §3.2/§5.2) as frozen dataclasses.

Every payload starts with the generic header (RFC 2408 §3.2)::

    Next Payload (1) | RESERVED (1) | Payload Length (2, header included)

The dataclasses hold the payload *body* (what follows the generic header); chaining and
lengths are computed when a message is built. ``pull_payload_chain`` walks a chain and returns
each payload with the exact body bytes received, which the key exchange hashes need (SAi_b,
IDii_b, RFC 2409 §5). The codec table ``CODECS`` maps each payload type to its pull and push
functions.

Unknown payload types: ISAKMP has no "critical" bit. A type in the reserved range that we do not
implement is answered with INVALID-PAYLOAD-TYPE (RFC 2408 §5.1); a type in the private-use range
(128-255, vendor extensions such as IKE fragmentation) is skipped and recorded as an
``UnknownPayload`` marker so that the state machine can see it was there.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .attributes import Attribute, pull_attributes, push_attributes
from .constants import IPSEC_DOI, IpsecSituation, NotifyMessageType, PayloadType
from .errors import MalformedMessage

__all__ = [
    "CODECS",
    "GENERIC",
    "PRIVATE_USE_MIN",
    "AttributePayload",
    "CertPayload",
    "CertRequestPayload",
    "DeletePayload",
    "HashPayload",
    "IdPayload",
    "KePayload",
    "NatDPayload",
    "NatOaPayload",
    "NoncePayload",
    "NotifyPayload",
    "Payload",
    "Proposal",
    "SaPayload",
    "SignaturePayload",
    "Transform",
    "UnknownPayload",
    "VendorIdPayload",
    "payload_type",
    "proposal_groups",
    "pull_payload_chain",
    "push_payload_body",
    "push_payloads",
]

GENERIC = struct.Struct("!BBH")
PRIVATE_USE_MIN = 128  # RFC 2408 §3.1: Next Payload values 128-255 are private use

_MALFORMED = NotifyMessageType.PAYLOAD_MALFORMED
_BAD_PROPOSAL = NotifyMessageType.BAD_PROPOSAL_SYNTAX
_UNEQUAL = NotifyMessageType.UNEQUAL_PAYLOAD_LENGTHS


# --- SA, Proposal, Transform (RFC 2408 §3.4-§3.6, RFC 2407 §4.6.1) ---------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Transform:
    """A Transform payload (RFC 2408 §3.6): number, transform id and SA attributes."""

    number: int
    transform_id: int
    attributes: tuple[Attribute, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Proposal:
    """A Proposal payload (RFC 2408 §3.5). Proposals sharing a number are ANDed (§4.2)."""

    number: int
    protocol_id: int
    spi: bytes = b""
    transforms: tuple[Transform, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SaPayload:
    """A Security Association payload in the IPsec DOI (RFC 2408 §3.4, RFC 2407 §4.6.1)."""

    TYPE: ClassVar[int] = PayloadType.SA
    doi: int = IPSEC_DOI
    situation: int = IpsecSituation.SIT_IDENTITY_ONLY
    proposals: tuple[Proposal, ...]


_PROP = struct.Struct("!BBBB")
_XFORM = struct.Struct("!BBH")
_DOI_SIT = struct.Struct("!II")


def _push_transform(t: Transform, last: bool) -> bytes:
    body = _XFORM.pack(t.number, t.transform_id, 0) + push_attributes(t.attributes)
    np = PayloadType.NONE if last else PayloadType.T
    return GENERIC.pack(np, 0, 4 + len(body)) + body


def _push_proposal(p: Proposal, last: bool) -> bytes:
    if len(p.spi) > 255 or len(p.transforms) > 255:
        raise ValueError("proposal SPI or transform count too large")
    body = _PROP.pack(p.number, p.protocol_id, len(p.spi), len(p.transforms)) + p.spi
    n = len(p.transforms)
    body += b"".join(_push_transform(t, i == n - 1) for i, t in enumerate(p.transforms))
    np = PayloadType.NONE if last else PayloadType.P
    return GENERIC.pack(np, 0, 4 + len(body)) + body


def _push_sa(p: SaPayload) -> bytes:
    n = len(p.proposals)
    return _DOI_SIT.pack(p.doi, p.situation) + b"".join(
        _push_proposal(prop, i == n - 1) for i, prop in enumerate(p.proposals)
    )


def _pull_inner_chain(data: bytes, expected: int, what: str) -> list[bytes]:
    """Bodies of a chain of Proposal (or Transform) payloads filling ``data`` exactly."""
    bodies: list[bytes] = []
    pos = 0
    np = expected
    while np != PayloadType.NONE:
        if np != expected:
            raise MalformedMessage(_BAD_PROPOSAL, f"{what} chain has next payload {np}")
        if len(data) - pos < 4:
            raise MalformedMessage(_MALFORMED, f"{what} header truncated")
        np, _reserved, length = GENERIC.unpack_from(data, pos)
        if length < 4 or pos + length > len(data):
            raise MalformedMessage(_MALFORMED, f"{what} length {length} out of bounds")
        bodies.append(data[pos + 4 : pos + length])
        pos += length
    if pos != len(data):
        raise MalformedMessage(_MALFORMED, f"{len(data) - pos} bytes after the last {what}")
    return bodies


def _pull_transform(body: bytes) -> Transform:
    if len(body) < 4:
        raise MalformedMessage(_MALFORMED, "transform too short")
    number, tid, _reserved = _XFORM.unpack_from(body, 0)
    return Transform(number=number, transform_id=tid, attributes=pull_attributes(body[4:]))


def _pull_proposal(body: bytes) -> Proposal:
    if len(body) < 4:
        raise MalformedMessage(_MALFORMED, "proposal too short")
    number, proto, spi_size, count = _PROP.unpack_from(body, 0)
    if len(body) < 4 + spi_size:
        raise MalformedMessage(_MALFORMED, "proposal SPI runs past the payload")
    spi = body[4 : 4 + spi_size]
    transforms = tuple(
        _pull_transform(b) for b in _pull_inner_chain(body[4 + spi_size :], PayloadType.T, "T")
    )
    if len(transforms) != count or count == 0:
        raise MalformedMessage(_BAD_PROPOSAL, f"proposal says {count} transforms")
    return Proposal(number=number, protocol_id=proto, spi=spi, transforms=transforms)


def _pull_sa(body: bytes) -> SaPayload:
    if len(body) < 8:
        raise MalformedMessage(_MALFORMED, "SA payload too short")
    doi, situation = _DOI_SIT.unpack_from(body, 0)
    if doi != IPSEC_DOI:
        raise MalformedMessage(NotifyMessageType.DOI_NOT_SUPPORTED, f"DOI {doi}")
    if situation != IpsecSituation.SIT_IDENTITY_ONLY:
        # RFC 2407 §4.6.1: secrecy/integrity situations carry labelled domains we do not do.
        raise MalformedMessage(NotifyMessageType.SITUATION_NOT_SUPPORTED, f"{situation:#x}")
    if len(body) == 8:
        raise MalformedMessage(_BAD_PROPOSAL, "SA payload without proposals")
    proposals = tuple(_pull_proposal(b) for b in _pull_inner_chain(body[8:], PayloadType.P, "P"))
    return SaPayload(doi=doi, situation=situation, proposals=proposals)


def proposal_groups(sa: SaPayload) -> list[tuple[Proposal, ...]]:
    """The SA's proposals grouped by proposal number, in order (RFC 2408 §4.2).

    Proposals with the same number form one choice to be accepted together (e.g. AH and ESP);
    different numbers are alternatives.
    """
    groups: list[list[Proposal]] = []
    for p in sa.proposals:
        if groups and groups[-1][0].number == p.number:
            groups[-1].append(p)
        else:
            groups.append([p])
    return [tuple(g) for g in groups]


# --- Simple payloads -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class KePayload:
    """Key Exchange payload (RFC 2408 §3.7): the public DH value."""

    TYPE: ClassVar[int] = PayloadType.KE
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class IdPayload:
    """Identification payload in the IPsec DOI (RFC 2407 §4.6.2).

    ``protocol_id`` and ``port`` are the IP protocol and port of phase-2 identities (0 = any);
    phase-1 identities use 0/0 or UDP/500 (RFC 2407 §4.6.2).
    """

    TYPE: ClassVar[int] = PayloadType.ID
    id_type: int
    protocol_id: int = 0
    port: int = 0
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class CertPayload:
    """Certificate payload (RFC 2408 §3.9)."""

    TYPE: ClassVar[int] = PayloadType.CERT
    encoding: int
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class CertRequestPayload:
    """Certificate Request payload (RFC 2408 §3.10); ``authority`` may be empty."""

    TYPE: ClassVar[int] = PayloadType.CR
    encoding: int
    authority: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class HashPayload:
    """Hash payload (RFC 2408 §3.11)."""

    TYPE: ClassVar[int] = PayloadType.HASH
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class SignaturePayload:
    """Signature payload (RFC 2408 §3.12)."""

    TYPE: ClassVar[int] = PayloadType.SIG
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class NoncePayload:
    """Nonce payload (RFC 2408 §3.13); RFC 2409 §5 wants 8 to 256 bytes (checked by callers)."""

    TYPE: ClassVar[int] = PayloadType.NONCE
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class NotifyPayload:
    """Notification payload (RFC 2408 §3.14)."""

    TYPE: ClassVar[int] = PayloadType.N
    doi: int = IPSEC_DOI
    protocol_id: int
    notify_type: int
    spi: bytes = b""
    data: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeletePayload:
    """Delete payload (RFC 2408 §3.15): one or more SPIs of one protocol, all the same size.

    For ISAKMP SAs each "SPI" is the 16-byte cookie pair (RFC 2408 §3.15).
    """

    TYPE: ClassVar[int] = PayloadType.D
    doi: int = IPSEC_DOI
    protocol_id: int
    spis: tuple[bytes, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class VendorIdPayload:
    """Vendor ID payload (RFC 2408 §3.16)."""

    TYPE: ClassVar[int] = PayloadType.VID
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class AttributePayload:
    """Mode-Config Attribute payload (draft-dukes-ike-mode-cfg §3.2): type, id, attributes."""

    TYPE: ClassVar[int] = PayloadType.ATTR
    cfg_type: int
    identifier: int = 0
    attributes: tuple[Attribute, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class NatDPayload:
    """NAT-D payload (RFC 3947 §3.2): HASH(CKY-I | CKY-R | IP | Port).

    ``draft`` selects the pre-RFC payload type 130 (draft-ietf-ipsec-nat-t-ike-02/03).
    """

    data: bytes
    draft: bool = False

    @property
    def TYPE(self) -> int:
        return PayloadType.NAT_D_DRAFT if self.draft else PayloadType.NAT_D


@dataclass(frozen=True, slots=True, kw_only=True)
class NatOaPayload:
    """NAT-OA payload (RFC 3947 §5.2): ID type (IPv4/IPv6 address) and the original address."""

    id_type: int
    address: bytes
    draft: bool = False  # payload type 131 instead of 21

    @property
    def TYPE(self) -> int:
        return PayloadType.NAT_OA_DRAFT if self.draft else PayloadType.NAT_OA


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownPayload:
    """A private-use payload type we skipped (RFC 2408 §3.1: 128-255), kept as a marker."""

    payload_type: int
    data: bytes = field(repr=False)

    @property
    def TYPE(self) -> int:
        return self.payload_type


Payload = (
    SaPayload
    | KePayload
    | IdPayload
    | CertPayload
    | CertRequestPayload
    | HashPayload
    | SignaturePayload
    | NoncePayload
    | NotifyPayload
    | DeletePayload
    | VendorIdPayload
    | AttributePayload
    | NatDPayload
    | NatOaPayload
    | UnknownPayload
)


def payload_type(p: Payload) -> int:
    """The Next Payload value that announces ``p``."""
    return int(p.TYPE)


# --- Codecs --------------------------------------------------------------------------------

_ID = struct.Struct("!BBH")
_NOTIFY = struct.Struct("!IBBH")
_DELETE = struct.Struct("!IBBH")
_ATTR = struct.Struct("!BBH")
_NATOA = struct.Struct("!B3x")


def _need(body: bytes, n: int, what: str) -> None:
    if len(body) < n:
        raise MalformedMessage(_MALFORMED, f"{what} payload too short")


def _pull_id(body: bytes, _t: int) -> IdPayload:
    _need(body, 4, "ID")
    id_type, proto, port = _ID.unpack_from(body, 0)
    return IdPayload(id_type=id_type, protocol_id=proto, port=port, data=body[4:])


def _pull_cert(body: bytes, _t: int) -> CertPayload:
    _need(body, 1, "CERT")
    return CertPayload(encoding=body[0], data=body[1:])


def _pull_cr(body: bytes, _t: int) -> CertRequestPayload:
    _need(body, 1, "CR")
    return CertRequestPayload(encoding=body[0], authority=body[1:])


def _pull_notify(body: bytes, _t: int) -> NotifyPayload:
    _need(body, 8, "notify")
    doi, proto, spi_size, ntype = _NOTIFY.unpack_from(body, 0)
    if len(body) < 8 + spi_size:
        raise MalformedMessage(_MALFORMED, "notify SPI runs past the payload")
    return NotifyPayload(
        doi=doi,
        protocol_id=proto,
        notify_type=ntype,
        spi=body[8 : 8 + spi_size],
        data=body[8 + spi_size :],
    )


def _push_notify(p: NotifyPayload) -> bytes:
    if len(p.spi) > 255:
        raise ValueError("notify SPI too long")
    return _NOTIFY.pack(p.doi, p.protocol_id, len(p.spi), p.notify_type) + p.spi + p.data


def _pull_delete(body: bytes, _t: int) -> DeletePayload:
    _need(body, 8, "delete")
    doi, proto, spi_size, count = _DELETE.unpack_from(body, 0)
    if len(body) - 8 != spi_size * count:
        raise MalformedMessage(_MALFORMED, f"delete: {count} SPIs of {spi_size} bytes expected")
    spis = tuple(body[8 + i * spi_size : 8 + (i + 1) * spi_size] for i in range(count))
    return DeletePayload(doi=doi, protocol_id=proto, spis=spis)


def _push_delete(p: DeletePayload) -> bytes:
    size = len(p.spis[0]) if p.spis else 0
    if any(len(s) != size for s in p.spis) or size > 255 or len(p.spis) > 0xFFFF:
        raise ValueError("delete SPIs must all have the same size")
    return _DELETE.pack(p.doi, p.protocol_id, size, len(p.spis)) + b"".join(p.spis)


def _pull_attr(body: bytes, _t: int) -> AttributePayload:
    _need(body, 4, "attribute")
    cfg_type, _reserved, ident = _ATTR.unpack_from(body, 0)
    return AttributePayload(
        cfg_type=cfg_type, identifier=ident, attributes=pull_attributes(body[4:])
    )


def _pull_natoa(body: bytes, t: int) -> NatOaPayload:
    _need(body, 4, "NAT-OA")
    (id_type,) = _NATOA.unpack_from(body, 0)
    return NatOaPayload(id_type=id_type, address=body[4:], draft=t == PayloadType.NAT_OA_DRAFT)


_Pull = Callable[[bytes, int], Any]
_Push = Callable[[Any], bytes]

# Payload type -> (pull(body, type), push(payload) -> body).
CODECS: dict[int, tuple[_Pull, _Push]] = {
    PayloadType.SA: (lambda b, _t: _pull_sa(b), _push_sa),
    PayloadType.KE: (lambda b, _t: KePayload(data=b), lambda p: p.data),
    PayloadType.ID: (_pull_id, lambda p: _ID.pack(p.id_type, p.protocol_id, p.port) + p.data),
    PayloadType.CERT: (_pull_cert, lambda p: bytes((p.encoding,)) + p.data),
    PayloadType.CR: (_pull_cr, lambda p: bytes((p.encoding,)) + p.authority),
    PayloadType.HASH: (lambda b, _t: HashPayload(data=b), lambda p: p.data),
    PayloadType.SIG: (lambda b, _t: SignaturePayload(data=b), lambda p: p.data),
    PayloadType.NONCE: (lambda b, _t: NoncePayload(data=b), lambda p: p.data),
    PayloadType.N: (_pull_notify, _push_notify),
    PayloadType.D: (_pull_delete, _push_delete),
    PayloadType.VID: (lambda b, _t: VendorIdPayload(data=b), lambda p: p.data),
    PayloadType.ATTR: (
        _pull_attr,
        lambda p: _ATTR.pack(p.cfg_type, 0, p.identifier) + push_attributes(p.attributes),
    ),
    PayloadType.NAT_D: (lambda b, _t: NatDPayload(data=b), lambda p: p.data),
    PayloadType.NAT_D_DRAFT: (lambda b, _t: NatDPayload(data=b, draft=True), lambda p: p.data),
    PayloadType.NAT_OA: (_pull_natoa, lambda p: _NATOA.pack(p.id_type) + p.address),
    PayloadType.NAT_OA_DRAFT: (_pull_natoa, lambda p: _NATOA.pack(p.id_type) + p.address),
}


def push_payload_body(p: Payload) -> bytes:
    """The body of ``p`` (without the generic header): what RFC 2409 calls e.g. SAi_b."""
    if isinstance(p, UnknownPayload):
        return p.data
    return CODECS[payload_type(p)][1](p)


def push_payloads(payloads: Sequence[Payload]) -> tuple[int, bytes]:
    """Chain ``payloads``: (first payload type, bytes with generic headers and lengths)."""
    parts: list[bytes] = []
    for i, p in enumerate(payloads):
        body = push_payload_body(p)
        if len(body) + 4 > 0xFFFF:
            raise ValueError("payload longer than 65535 bytes")
        np = payload_type(payloads[i + 1]) if i + 1 < len(payloads) else PayloadType.NONE
        parts.append(GENERIC.pack(np, 0, 4 + len(body)) + body)
    first = payload_type(payloads[0]) if payloads else PayloadType.NONE
    return first, b"".join(parts)


def pull_payload_chain(
    first: int, data: bytes, *, trailing_ok: bool = False
) -> list[tuple[Payload, bytes]]:
    """Walk the payload chain starting with type ``first`` in ``data``.

    Returns (payload, body bytes as received) pairs. Bytes after the last payload are an error
    (UNEQUAL_PAYLOAD_LENGTHS) unless ``trailing_ok``, which decrypted bodies need for their
    padding. Raises ``MalformedMessage`` only.
    """
    out: list[tuple[Payload, bytes]] = []
    pos = 0
    np = first
    end = len(data)
    while np != PayloadType.NONE:
        if end - pos < 4:
            raise MalformedMessage(_UNEQUAL, f"payload {np} header runs past the message")
        nxt, _reserved, length = GENERIC.unpack_from(data, pos)
        if length < 4:
            raise MalformedMessage(_MALFORMED, f"payload {np} length {length}")
        if pos + length > end:
            raise MalformedMessage(_UNEQUAL, f"payload {np} length {length} runs past the message")
        body = bytes(data[pos + 4 : pos + length])
        codec = CODECS.get(np)
        payload: Payload
        if codec is not None:
            payload = codec[0](body, np)
        elif np >= PRIVATE_USE_MIN:
            payload = UnknownPayload(payload_type=np, data=body)
        else:
            raise MalformedMessage(NotifyMessageType.INVALID_PAYLOAD_TYPE, f"payload type {np}")
        out.append((payload, body))
        pos += length
        np = nxt
    if pos != end and not trailing_ok:
        raise MalformedMessage(_UNEQUAL, f"{end - pos} bytes after the last payload")
    return out


def find_payloads(payloads: Iterable[Payload], cls: type[Any]) -> list[Any]:
    """Every payload of class ``cls`` in order."""
    return [p for p in payloads if isinstance(p, cls)]
