"""IKEv2 payloads (RFC 7296 §3.2-§3.15, RFC 7383 §2.5) as frozen dataclasses.

Every payload starts with the generic payload header (RFC 7296 §3.2)::

    Next Payload (1) | C (1 bit) RESERVED (7 bits) | Payload Length (2, header included)

The dataclasses hold the decoded *body*; chaining and lengths are computed when a message is
encoded. ``CODECS`` maps each payload type to its pull and push functions (tables over chains).

Unknown payload types (RFC 7296 §2.5): with the critical bit set the whole message is rejected
with ``UnsupportedCriticalPayload`` (UNSUPPORTED_CRITICAL_PAYLOAD); without it the payload is
kept as an ``UnknownPayload`` and otherwise ignored. The critical bit of known types is ignored.

Every structural problem (lengths, counts, sizes) raises ``MalformedMessage`` with
INVALID_SYNTAX (RFC 7296 §3.10.1); nothing else escapes ``pull_payload_chain``.

The Encrypted (SK, §3.14) and Encrypted Fragment (SKF, RFC 7383 §2.5) payloads are decoded here
only as opaque ``SkPayload`` / ``SkfPayload`` (their Next Payload field names the first inner
payload); ``message.decode_protected`` and ``fragment`` open them.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, get_args

from .constants import (
    NotifyType,
    PayloadType,
    ProtocolId,
    TransformAttributeType,
    TsType,
)
from .errors import MalformedMessage, UnsupportedCriticalPayload

__all__ = [
    "CODECS",
    "CRITICAL",
    "GENERIC",
    "AuthPayload",
    "CertPayload",
    "CertReqPayload",
    "ConfigAttribute",
    "CpPayload",
    "DeletePayload",
    "EapPayload",
    "IPAddress",
    "IdPayload",
    "KePayload",
    "NoncePayload",
    "NotifyPayload",
    "Payload",
    "Proposal",
    "SaPayload",
    "SkPayload",
    "SkfPayload",
    "TrafficSelector",
    "Transform",
    "TsPayload",
    "UnknownPayload",
    "VendorPayload",
    "payload_type",
    "pull_payload_chain",
    "push_payload_body",
    "push_payloads",
]

GENERIC = struct.Struct("!BBH")
CRITICAL = 0x80  # RFC 7296 §3.2: the C bit, high bit of the octet after Next Payload

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_SYNTAX = NotifyType.INVALID_SYNTAX


def _bad(detail: str) -> MalformedMessage:
    return MalformedMessage(_SYNTAX, detail)


def _need(body: bytes, n: int, what: str) -> None:
    if len(body) < n:
        raise _bad(f"{what} payload too short ({len(body)} < {n} bytes)")


# --- SA, Proposal, Transform (RFC 7296 §3.3) --------------------------------------------------

_AF = 0x8000  # Attribute Format bit: 1 = TV (2-byte value in the header), 0 = TLV
_KEY_LENGTH_TV = _AF | TransformAttributeType.KEY_LENGTH
_SUBSTRUC_LAST = 0
_SUBSTRUC_PROPOSAL = 2  # RFC 7296 §3.3.1: "more proposals follow"
_SUBSTRUC_TRANSFORM = 3  # RFC 7296 §3.3.2: "more transforms follow"
# RFC 7296 §3.3.1: SPI sizes by protocol (IKE: 0 in IKE_SA_INIT, 8 when rekeying).
_SPI_SIZES: dict[int, tuple[int, ...]] = {
    ProtocolId.IKE: (0, 8),
    ProtocolId.AH: (4,),
    ProtocolId.ESP: (4,),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Transform:
    """A Transform substructure (RFC 7296 §3.3.2).

    ``type`` is a ``TransformType``, ``id`` the transform id in that type's registry,
    ``key_length`` the Key Length attribute in bits (§3.3.5, TV format) or None when absent.
    ``other_attributes`` keeps any other attribute as (type field with the AF bit, value);
    RFC 7296 §3.3.6 says a proposal with an attribute we do not understand is not chosen.
    """

    type: int
    id: int
    key_length: int | None = None
    other_attributes: tuple[tuple[int, bytes], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Proposal:
    """A Proposal substructure (RFC 7296 §3.3.1): number, protocol, SPI and transforms."""

    number: int
    protocol: int
    spi: bytes = b""
    transforms: tuple[Transform, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SaPayload:
    """Security Association payload (RFC 7296 §3.3): one or more proposals."""

    TYPE: ClassVar[int] = PayloadType.SA
    proposals: tuple[Proposal, ...]


_SUBSTRUC = struct.Struct("!BBH")
_PROP = struct.Struct("!BBBB")
_XFORM = struct.Struct("!BBH")
_ATTR = struct.Struct("!HH")


def _push_transform(t: Transform, last: bool) -> bytes:
    attrs = b""
    if t.key_length is not None:
        attrs += _ATTR.pack(_KEY_LENGTH_TV, t.key_length)
    for atype, value in t.other_attributes:
        if atype & _AF:
            if len(value) != 2:
                raise ValueError("a TV attribute value is 2 bytes")
            attrs += struct.pack("!H", atype) + value
        else:
            attrs += _ATTR.pack(atype, len(value)) + value
    body = _XFORM.pack(t.type, 0, t.id) + attrs
    return _SUBSTRUC.pack(_SUBSTRUC_LAST if last else _SUBSTRUC_TRANSFORM, 0, 4 + len(body)) + body


# A peer's offers and our own repeat from one exchange to the next: the same transforms in
# the same order, only the SPI differs. Encoding and decoding a run of transforms is a pure
# function of an immutable input, so its result is kept (decoding: 20-30 us for a proposal of
# a few transforms, most of an SA payload's cost; a lookup 0.1-2 us). Bounded: full means
# emptied, so a peer sending ever new transforms costs what it cost without the cache.
_TRANSFORMS_CACHE_SIZE = 64
_pushed_transforms: dict[tuple[Transform, ...], bytes] = {}
_pulled_transforms: dict[bytes, tuple[Transform, ...]] = {}


def _push_transforms(transforms: tuple[Transform, ...]) -> bytes:
    data = _pushed_transforms.get(transforms)
    if data is None:
        n = len(transforms)
        data = b"".join(_push_transform(t, i == n - 1) for i, t in enumerate(transforms))
        if len(_pushed_transforms) >= _TRANSFORMS_CACHE_SIZE:
            _pushed_transforms.clear()
        _pushed_transforms[transforms] = data
    return data


def _push_proposal(p: Proposal, last: bool) -> bytes:
    if len(p.spi) > 255 or len(p.transforms) > 255:
        raise ValueError("proposal SPI or transform count too large")
    n = len(p.transforms)
    body = _PROP.pack(p.number, p.protocol, len(p.spi), n) + p.spi
    body += _push_transforms(tuple(p.transforms))
    return _SUBSTRUC.pack(_SUBSTRUC_LAST if last else _SUBSTRUC_PROPOSAL, 0, 4 + len(body)) + body


def _push_sa(p: SaPayload) -> bytes:
    n = len(p.proposals)
    return b"".join(_push_proposal(prop, i == n - 1) for i, prop in enumerate(p.proposals))


def _pull_substructures(data: bytes, more: int, what: str) -> list[bytes]:
    """Bodies of a run of Proposal (or Transform) substructures filling ``data`` exactly.

    Each but the last must say ``more`` in its Last Substruc octet, the last 0 (§3.3.1-§3.3.2).
    """
    bodies: list[bytes] = []
    pos = 0
    while True:
        if len(data) - pos < 4:
            raise _bad(f"{what} header truncated")
        flag, _reserved, length = _SUBSTRUC.unpack_from(data, pos)
        if length < 8 or pos + length > len(data):
            raise _bad(f"{what} length {length} out of bounds")
        bodies.append(data[pos + 4 : pos + length])
        pos += length
        if flag == _SUBSTRUC_LAST:
            break
        if flag != more:
            raise _bad(f"{what} Last Substruc {flag}")
        if pos == len(data):
            raise _bad(f"{what} says more follow, none does")
    if pos != len(data):
        raise _bad(f"{len(data) - pos} bytes after the last {what}")
    return bodies


def _pull_transform(body: bytes) -> Transform:
    ttype, _reserved, tid = _XFORM.unpack_from(body, 0)  # length >= 8 checked by the caller
    key_length: int | None = None
    other: list[tuple[int, bytes]] = []
    pos = 4
    while pos < len(body):
        if len(body) - pos < 4:
            raise _bad("transform attribute truncated")
        atype, lv = _ATTR.unpack_from(body, pos)
        if atype & _AF:
            value = body[pos + 2 : pos + 4]
            pos += 4
        else:
            if pos + 4 + lv > len(body):
                raise _bad("transform attribute runs past the transform")
            value = body[pos + 4 : pos + 4 + lv]
            pos += 4 + lv
        if atype & ~_AF == TransformAttributeType.KEY_LENGTH:
            # RFC 7296 §3.3.5: Key Length is TV only, and appears at most once.
            if not atype & _AF or key_length is not None:
                raise _bad("Key Length attribute not in TV format or repeated")
            key_length = lv
        else:
            other.append((atype, value))
    return Transform(type=ttype, id=tid, key_length=key_length, other_attributes=tuple(other))


def _pull_transforms(data: bytes) -> tuple[Transform, ...]:
    """The run of Transform substructures that fills ``data`` (cached: see
    ``_push_transforms``; only what decoded without error is kept)."""
    transforms = _pulled_transforms.get(data)
    if transforms is None:
        transforms = tuple(
            _pull_transform(b) for b in _pull_substructures(data, _SUBSTRUC_TRANSFORM, "transform")
        )
        if len(_pulled_transforms) >= _TRANSFORMS_CACHE_SIZE:
            _pulled_transforms.clear()
        _pulled_transforms[bytes(data)] = transforms
    return transforms


def _pull_proposal(body: bytes) -> Proposal:
    number, proto, spi_size, count = _PROP.unpack_from(body, 0)  # length >= 8 checked
    if len(body) < 4 + spi_size:
        raise _bad("proposal SPI runs past the proposal")
    if spi_size not in _SPI_SIZES.get(proto, (spi_size,)):
        raise _bad(f"proposal SPI size {spi_size} for protocol {proto}")
    spi = body[4 : 4 + spi_size]
    rest = body[4 + spi_size :]
    transforms: tuple[Transform, ...] = ()
    if rest:
        transforms = _pull_transforms(rest)
    if len(transforms) != count:
        raise _bad(f"proposal says {count} transforms, has {len(transforms)}")
    return Proposal(number=number, protocol=proto, spi=spi, transforms=transforms)


def _pull_sa(body: bytes, _t: int) -> SaPayload:
    if not body:
        raise _bad("SA payload without proposals")
    proposals = tuple(
        _pull_proposal(b) for b in _pull_substructures(body, _SUBSTRUC_PROPOSAL, "proposal")
    )
    return SaPayload(proposals=proposals)


# --- Simple payloads (RFC 7296 §3.4-§3.12) ---------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class KePayload:
    """Key Exchange payload (RFC 7296 §3.4): Diffie-Hellman group number and public value."""

    TYPE: ClassVar[int] = PayloadType.KE
    group: int
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class IdPayload:
    """Identification payload (RFC 7296 §3.5): IDi when ``initiator``, else IDr."""

    id_type: int
    data: bytes
    initiator: bool = True

    @property
    def TYPE(self) -> int:
        return PayloadType.IDi if self.initiator else PayloadType.IDr

    def body(self) -> bytes:
        """The payload body: ID Type, 3 reserved octets, data (what AUTH covers, §2.15)."""
        return bytes((self.id_type, 0, 0, 0)) + self.data


@dataclass(frozen=True, slots=True, kw_only=True)
class CertPayload:
    """Certificate payload (RFC 7296 §3.6)."""

    TYPE: ClassVar[int] = PayloadType.CERT
    encoding: int
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class CertReqPayload:
    """Certificate Request payload (RFC 7296 §3.7); ``data`` is the concatenated CA key hashes."""

    TYPE: ClassVar[int] = PayloadType.CERTREQ
    encoding: int
    data: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthPayload:
    """Authentication payload (RFC 7296 §3.8)."""

    TYPE: ClassVar[int] = PayloadType.AUTH
    method: int
    data: bytes


# RFC 7296 §3.9: "The size of the Nonce Data MUST be between 16 and 256 octets, inclusive."
NONCE_MIN = 16
NONCE_MAX = 256


@dataclass(frozen=True, slots=True, kw_only=True)
class NoncePayload:
    """Nonce payload (RFC 7296 §3.9), 16 to 256 bytes."""

    TYPE: ClassVar[int] = PayloadType.NONCE
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class NotifyPayload:
    """Notify payload (RFC 7296 §3.10). ``protocol`` is 0 when there is no SPI."""

    TYPE: ClassVar[int] = PayloadType.N
    protocol: int = ProtocolId.NONE
    spi: bytes = b""
    type: int
    data: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeletePayload:
    """Delete payload (RFC 7296 §3.11): IKE (no SPIs) or the inbound SPIs of ESP/AH SAs."""

    TYPE: ClassVar[int] = PayloadType.D
    protocol: int
    spis: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class VendorPayload:
    """Vendor ID payload (RFC 7296 §3.12)."""

    TYPE: ClassVar[int] = PayloadType.V
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class EapPayload:
    """EAP payload (RFC 7296 §3.16), kept as the raw EAP message."""

    TYPE: ClassVar[int] = PayloadType.EAP
    data: bytes


# --- Traffic selectors (RFC 7296 §3.13) ------------------------------------------------------

_TS_HEADER = struct.Struct("!BBHHH")  # TS Type, IP Protocol ID, Selector Length, ports
_TS_LENGTH: dict[int, int] = {TsType.TS_IPV4_ADDR_RANGE: 16, TsType.TS_IPV6_ADDR_RANGE: 40}


@dataclass(frozen=True, slots=True, kw_only=True)
class TrafficSelector:
    """One traffic selector (RFC 7296 §3.13.1): an address range, a protocol, a port range.

    ``protocol`` 0 is any protocol; ports 0-65535 any port; start_port 65535 with end_port 0
    is OPAQUE. ``start`` and ``end`` are of the family ``ts_type`` says.
    """

    ts_type: int
    protocol: int = 0
    start_port: int = 0
    end_port: int = 65535
    start: IPAddress
    end: IPAddress


@dataclass(frozen=True, slots=True, kw_only=True)
class TsPayload:
    """Traffic Selector payload (RFC 7296 §3.13): TSi when ``initiator``, else TSr.

    ``other`` keeps selectors of types we do not know (TS_FC_ADDR_RANGE, TS_SECLABEL, ...)
    whole, as received (the first octet is the TS Type); they are encoded after ``selectors``.
    """

    initiator: bool
    selectors: tuple[TrafficSelector, ...]
    other: tuple[bytes, ...] = ()

    @property
    def TYPE(self) -> int:
        return PayloadType.TSi if self.initiator else PayloadType.TSr


def _push_ts(p: TsPayload) -> bytes:
    count = len(p.selectors) + len(p.other)
    if count > 255:
        raise ValueError("more than 255 traffic selectors")
    out = bytes((count, 0, 0, 0))
    for ts in p.selectors:
        length = _TS_LENGTH.get(ts.ts_type)
        size = 4 if ts.ts_type == TsType.TS_IPV4_ADDR_RANGE else 16
        if length is None or len(ts.start.packed) != size or len(ts.end.packed) != size:
            raise ValueError(f"traffic selector type {ts.ts_type} with {ts.start}-{ts.end}")
        out += _TS_HEADER.pack(ts.ts_type, ts.protocol, length, ts.start_port, ts.end_port)
        out += ts.start.packed + ts.end.packed
    for raw in p.other:
        if len(raw) < 4 or struct.unpack_from("!H", raw, 2)[0] != len(raw):
            raise ValueError("a raw traffic selector carries its own length")
        out += raw
    return out


def _pull_ts(body: bytes, t: int) -> TsPayload:
    _need(body, 4, "TS")
    count = body[0]
    selectors: list[TrafficSelector] = []
    other: list[bytes] = []
    pos = 4
    for _ in range(count):
        if len(body) - pos < 4:
            raise _bad("traffic selector header truncated")
        ts_type, proto, length = GENERIC.unpack_from(body, pos)  # the same !BBH layout
        if length < 4 or pos + length > len(body):
            raise _bad(f"traffic selector length {length} out of bounds")
        expected = _TS_LENGTH.get(ts_type)
        if expected is None:
            other.append(body[pos : pos + length])
        else:
            if length != expected:
                raise _bad(f"traffic selector type {ts_type} with length {length}")
            _t, _p, _l, sport, eport = _TS_HEADER.unpack_from(body, pos)
            half = (length - 8) // 2
            a = body[pos + 8 : pos + 8 + half]
            b = body[pos + 8 + half : pos + length]
            address = ipaddress.IPv4Address if half == 4 else ipaddress.IPv6Address
            selectors.append(
                TrafficSelector(
                    ts_type=ts_type,
                    protocol=proto,
                    start_port=sport,
                    end_port=eport,
                    start=address(a),
                    end=address(b),
                )
            )
        pos += length
    if pos != len(body):
        raise _bad(f"{len(body) - pos} bytes after the last traffic selector")
    return TsPayload(initiator=t == PayloadType.TSi, selectors=tuple(selectors), other=tuple(other))


# --- Configuration (RFC 7296 §3.15) ----------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigAttribute:
    """A configuration attribute (RFC 7296 §3.15.1): ``type`` is a ConfigAttributeType."""

    type: int
    value: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class CpPayload:
    """Configuration payload (RFC 7296 §3.15): CFG type and attributes."""

    TYPE: ClassVar[int] = PayloadType.CP
    cfg_type: int
    attributes: tuple[ConfigAttribute, ...] = ()


def _push_cp(p: CpPayload) -> bytes:
    out = bytes((p.cfg_type, 0, 0, 0))
    for a in p.attributes:
        if not 0 <= a.type < 0x8000:
            raise ValueError("configuration attribute types are 15 bits")
        out += struct.pack("!HH", a.type, len(a.value)) + a.value
    return out


def _pull_cp(body: bytes, _t: int) -> CpPayload:
    _need(body, 4, "CP")
    attrs: list[ConfigAttribute] = []
    pos = 4
    while pos < len(body):
        if len(body) - pos < 4:
            raise _bad("configuration attribute truncated")
        atype, length = struct.unpack_from("!HH", body, pos)
        if pos + 4 + length > len(body):
            raise _bad("configuration attribute runs past the payload")
        # RFC 7296 §3.15.1: the R bit is reserved and ignored on receipt.
        attrs.append(ConfigAttribute(type=atype & 0x7FFF, value=body[pos + 4 : pos + 4 + length]))
        pos += 4 + length
    return CpPayload(cfg_type=body[0], attributes=tuple(attrs))


# --- Encrypted payloads and unknown payloads -------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SkPayload:
    """Encrypted payload (RFC 7296 §3.14) as received: IV || ciphertext || ICV, unopened.

    ``first_inner`` is its Next Payload field: the type of the first payload inside.
    """

    TYPE: ClassVar[int] = PayloadType.SK
    first_inner: int
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class SkfPayload:
    """Encrypted Fragment payload (RFC 7383 §2.5), unopened.

    ``first_inner`` is the first inner payload's type in fragment 1 and 0 in the others.
    """

    TYPE: ClassVar[int] = PayloadType.SKF
    first_inner: int
    fragment_number: int
    total_fragments: int
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownPayload:
    """A payload of a type we do not implement, without the critical bit (RFC 7296 §2.5)."""

    payload_type: int
    critical: bool = False
    data: bytes = field(repr=False, default=b"")

    @property
    def TYPE(self) -> int:
        return self.payload_type


Payload = (
    SaPayload
    | KePayload
    | IdPayload
    | CertPayload
    | CertReqPayload
    | AuthPayload
    | NoncePayload
    | NotifyPayload
    | DeletePayload
    | VendorPayload
    | TsPayload
    | CpPayload
    | EapPayload
    | SkPayload
    | SkfPayload
    | UnknownPayload
)


def payload_type(p: Payload) -> int:
    """The Next Payload value that announces ``p``."""
    return int(p.TYPE)


# --- Codecs ----------------------------------------------------------------------------------

_FOUR = struct.Struct("!BBH")  # Notify / Delete: protocol, SPI size, type or count
_KE = struct.Struct("!HH")
_SKF = struct.Struct("!HH")


def _pull_ke(body: bytes, _t: int) -> KePayload:
    _need(body, 4, "KE")
    group, _reserved = _KE.unpack_from(body, 0)
    return KePayload(group=group, data=body[4:])


def _pull_id(body: bytes, t: int) -> IdPayload:
    _need(body, 4, "ID")
    return IdPayload(id_type=body[0], data=body[4:], initiator=t == PayloadType.IDi)


def _pull_cert(body: bytes, _t: int) -> CertPayload:
    _need(body, 1, "CERT")
    return CertPayload(encoding=body[0], data=body[1:])


def _pull_certreq(body: bytes, _t: int) -> CertReqPayload:
    _need(body, 1, "CERTREQ")
    return CertReqPayload(encoding=body[0], data=body[1:])


def _pull_auth(body: bytes, _t: int) -> AuthPayload:
    _need(body, 4, "AUTH")
    return AuthPayload(method=body[0], data=body[4:])


def _pull_nonce(body: bytes, _t: int) -> NoncePayload:
    if not NONCE_MIN <= len(body) <= NONCE_MAX:
        raise _bad(f"nonce of {len(body)} bytes")
    return NoncePayload(data=body)


def _pull_notify(body: bytes, _t: int) -> NotifyPayload:
    _need(body, 4, "notify")
    proto, spi_size, ntype = _FOUR.unpack_from(body, 0)
    if len(body) < 4 + spi_size:
        raise _bad("notify SPI runs past the payload")
    return NotifyPayload(
        protocol=proto, spi=body[4 : 4 + spi_size], type=ntype, data=body[4 + spi_size :]
    )


def _push_notify(p: NotifyPayload) -> bytes:
    if len(p.spi) > 255:
        raise ValueError("notify SPI too long")
    return _FOUR.pack(p.protocol, len(p.spi), p.type) + p.spi + p.data


def _pull_delete(body: bytes, _t: int) -> DeletePayload:
    _need(body, 4, "delete")
    proto, spi_size, count = _FOUR.unpack_from(body, 0)
    # RFC 7296 §3.11: an IKE SA delete has SPI size 0 and no SPIs; ESP and AH SPIs are 4 bytes.
    if proto == ProtocolId.IKE and (spi_size, count) != (0, 0):
        raise _bad(f"IKE delete with {count} SPIs of {spi_size} bytes")
    if proto in (ProtocolId.AH, ProtocolId.ESP) and spi_size != 4:
        raise _bad(f"delete with SPI size {spi_size} for protocol {proto}")
    if len(body) - 4 != spi_size * count:
        raise _bad(f"delete: {count} SPIs of {spi_size} bytes in {len(body) - 4}")
    spis = tuple(body[4 + i * spi_size : 4 + (i + 1) * spi_size] for i in range(count))
    return DeletePayload(protocol=proto, spis=spis)


def _push_delete(p: DeletePayload) -> bytes:
    size = len(p.spis[0]) if p.spis else _SPI_SIZES.get(p.protocol, (0,))[-1]
    if p.protocol == ProtocolId.IKE:
        size = 0
    if any(len(s) != size for s in p.spis) or size > 255 or len(p.spis) > 0xFFFF:
        raise ValueError("delete SPIs must all have the same size")
    return _FOUR.pack(p.protocol, size, len(p.spis)) + b"".join(p.spis)


_Pull = Callable[[bytes, int], Any]
_Push = Callable[[Any], bytes]

# Payload type -> (pull(body, type), push(payload) -> body). SK and SKF are not here: their
# Next Payload field is not a chain link (pull_payload_chain and push_payload_body handle them).
CODECS: dict[int, tuple[_Pull, _Push]] = {
    PayloadType.SA: (_pull_sa, _push_sa),
    PayloadType.KE: (_pull_ke, lambda p: _KE.pack(p.group, 0) + p.data),
    PayloadType.IDi: (_pull_id, lambda p: p.body()),
    PayloadType.IDr: (_pull_id, lambda p: p.body()),
    PayloadType.CERT: (_pull_cert, lambda p: bytes((p.encoding,)) + p.data),
    PayloadType.CERTREQ: (_pull_certreq, lambda p: bytes((p.encoding,)) + p.data),
    PayloadType.AUTH: (_pull_auth, lambda p: bytes((p.method, 0, 0, 0)) + p.data),
    PayloadType.NONCE: (_pull_nonce, lambda p: p.data),
    PayloadType.N: (_pull_notify, _push_notify),
    PayloadType.D: (_pull_delete, _push_delete),
    PayloadType.V: (lambda b, _t: VendorPayload(data=b), lambda p: p.data),
    PayloadType.TSi: (_pull_ts, _push_ts),
    PayloadType.TSr: (_pull_ts, _push_ts),
    PayloadType.CP: (_pull_cp, _push_cp),
    PayloadType.EAP: (lambda b, _t: EapPayload(data=b), lambda p: p.data),
}


# plain ints and tuples for the per-payload loops below (an IntEnum member lookup costs about
# 150 ns, an isinstance against a ``X | Y`` union builds the union first)
_NONE, _SK_T, _SKF_T = int(PayloadType.NONE), int(PayloadType.SK), int(PayloadType.SKF)
_SK_TYPES = (SkPayload, SkfPayload)
_RAW_TYPES = (UnknownPayload, SkPayload)


def push_payload_body(p: Payload) -> bytes:
    """The body of ``p`` without the generic header."""
    if isinstance(p, _RAW_TYPES):
        return p.data
    if isinstance(p, SkfPayload):
        return _SKF.pack(p.fragment_number, p.total_fragments) + p.data
    return CODECS[payload_type(p)][1](p)


# For push_payloads, by class: the Next Payload value where the class fixes it (not IDi/IDr,
# TSi/TSr, unknown) and the body encoder (not SK/SKF/unknown): ~1 us less per payload.
_CLASS_TYPES: dict[type, int] = {
    c: int(t) for c in get_args(Payload) if isinstance(t := c.__dict__.get("TYPE"), int)
}
_ENCODERS: dict[type, _Push] = {
    **{c: CODECS[t][1] for c, t in _CLASS_TYPES.items() if t in CODECS},
    IdPayload: CODECS[PayloadType.IDi][1],
    TsPayload: _push_ts,
}


def push_payloads(payloads: Sequence[Payload]) -> tuple[int, bytes]:
    """Chain ``payloads``: (first payload type, bytes with generic headers and lengths).

    An ``SkPayload``/``SkfPayload`` must be last; its Next Payload is its ``first_inner``.
    """
    types = [t if (t := _CLASS_TYPES.get(type(p))) is not None else int(p.TYPE) for p in payloads]
    parts: list[bytes] = []
    last = len(payloads) - 1
    for i, p in enumerate(payloads):
        encode = _ENCODERS.get(type(p))
        body = encode(p) if encode is not None else push_payload_body(p)
        if len(body) + 4 > 0xFFFF:
            raise ValueError("payload longer than 65535 bytes")
        if isinstance(p, _SK_TYPES):
            if i != last:
                raise ValueError("the Encrypted payload must be the last payload")
            np = p.first_inner
        else:
            np = types[i + 1] if i < last else _NONE
        flags = CRITICAL if isinstance(p, UnknownPayload) and p.critical else 0
        parts += (GENERIC.pack(np, flags, 4 + len(body)), body)
    return (types[0] if types else _NONE), b"".join(parts)


def pull_payload_chain(first: int, data: bytes) -> list[tuple[Payload, bytes]]:
    """Walk the payload chain starting with type ``first`` that fills ``data`` exactly.

    Returns (payload, body bytes as received) pairs; the bodies are what the AUTH payload and
    the key derivation need (RFC 7296 §2.15). An SK or SKF payload ends the chain and must end
    ``data``. Raises ``MalformedMessage`` (INVALID_SYNTAX, or UNSUPPORTED_CRITICAL_PAYLOAD)
    only.
    """
    out: list[tuple[Payload, bytes]] = []
    pos = 0
    np = first
    end = len(data)
    while np != _NONE:
        if end - pos < 4:
            raise _bad(f"payload {np} header runs past the message")
        nxt, flags, length = GENERIC.unpack_from(data, pos)
        if length < 4 or pos + length > end:
            raise _bad(f"payload {np} length {length} out of bounds")
        body = bytes(data[pos + 4 : pos + length])
        pos += length
        payload: Payload
        if np == _SK_T:
            payload = SkPayload(first_inner=nxt, data=body)
            nxt = _NONE
        elif np == _SKF_T:
            if len(body) < 4:
                raise _bad("SKF payload too short")
            number, total = _SKF.unpack_from(body, 0)
            # RFC 7383 §2.5: fragments are numbered from 1; the number cannot exceed the total.
            if number < 1 or number > total:
                raise _bad(f"fragment {number} of {total}")
            payload = SkfPayload(
                first_inner=nxt, fragment_number=number, total_fragments=total, data=body[4:]
            )
            nxt = _NONE
        elif (codec := CODECS.get(np)) is not None:
            payload = codec[0](body, np)
        elif flags & CRITICAL:
            raise UnsupportedCriticalPayload(np)
        else:
            payload = UnknownPayload(payload_type=np, data=body)
        out.append((payload, body))
        np = nxt
        if isinstance(payload, _SK_TYPES) and pos != end:
            raise _bad("the Encrypted payload is not the last payload")
    if pos != end:
        raise _bad(f"{end - pos} bytes after the last payload")
    return out
