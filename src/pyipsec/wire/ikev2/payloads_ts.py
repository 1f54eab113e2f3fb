"""The Traffic Selector (RFC 7296 §3.13) and Configuration (§3.15) payloads: dataclasses and
codecs, split from ``payloads`` (which re-exports them and holds them in ``CODECS``).

Every structural problem raises ``MalformedMessage`` with INVALID_SYNTAX (§3.10.1).
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
from typing import ClassVar

from pyipsec.fastinit import fast_init, positional

from .constants import PayloadType, TsType
from .errors import invalid_syntax, need

__all__ = [
    "ConfigAttribute",
    "CpPayload",
    "IPAddress",
    "TrafficSelector",
    "TsPayload",
    "pull_cp",
    "pull_ts",
    "push_cp",
    "push_ts",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# --- Traffic selectors (RFC 7296 §3.13) ------------------------------------------------------

_TS_HEAD = struct.Struct("!BBH")  # TS Type, IP Protocol ID, Selector Length
_TS_HEADER = struct.Struct("!BBHHH")  # ... and the start and end ports
_IPV4, _IPV6 = int(TsType.TS_IPV4_ADDR_RANGE), int(TsType.TS_IPV6_ADDR_RANGE)
_TS_LENGTH: dict[int, int] = {_IPV4: 16, _IPV6: 40}
# TS Type -> (Selector Length, the whole selector's layout, address class): one unpack reads
# a selector, the IPv4 addresses as the integers IPv4Address takes (~0.5 us less per
# selector than slicing the addresses out and converting them)
_TS_FORMS: dict[int, tuple[int, struct.Struct, type[IPAddress]]] = {
    _IPV4: (16, struct.Struct("!BBHHHII"), ipaddress.IPv4Address),
    _IPV6: (40, struct.Struct("!BBHHH16s16s"), ipaddress.IPv6Address),
}
_TSI = int(PayloadType.TSi)


@fast_init
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


@fast_init
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


# the decoder's constructors (fastinit.positional: ~0.15 us less a record than keywords)
_new_selector = positional(TrafficSelector)
_new_ts_payload = positional(TsPayload)


def push_ts(p: TsPayload) -> bytes:
    count = len(p.selectors) + len(p.other)
    if count > 255:
        raise ValueError("more than 255 traffic selectors")
    parts = [bytes((count, 0, 0, 0))]
    for ts in p.selectors:
        length = _TS_LENGTH.get(ts.ts_type)
        if length is None:
            raise ValueError(f"traffic selector type {ts.ts_type} with {ts.start}-{ts.end}")
        start, end = ts.start.packed, ts.end.packed  # once each: ``.packed`` is 2 Python calls
        size = 4 if ts.ts_type == _IPV4 else 16
        if len(start) != size or len(end) != size:
            raise ValueError(f"traffic selector type {ts.ts_type} with {ts.start}-{ts.end}")
        parts += (
            _TS_HEADER.pack(ts.ts_type, ts.protocol, length, ts.start_port, ts.end_port),
            start,
            end,
        )
    for raw in p.other:
        if len(raw) < 4 or struct.unpack_from("!H", raw, 2)[0] != len(raw):
            raise ValueError("a raw traffic selector carries its own length")
        parts.append(raw)
    return b"".join(parts)


def pull_ts(body: bytes, t: int) -> TsPayload:
    need(body, 4, "TS")
    end_of_body = len(body)
    count = body[0]
    selectors: list[TrafficSelector] = []
    other: list[bytes] = []
    pos = 4
    for _ in range(count):
        if end_of_body - pos < 4:
            raise invalid_syntax("traffic selector header truncated")
        ts_type, proto, length = _TS_HEAD.unpack_from(body, pos)
        if length < 4 or pos + length > end_of_body:
            raise invalid_syntax(f"traffic selector length {length} out of bounds")
        form = _TS_FORMS.get(ts_type)
        if form is None:
            other.append(body[pos : pos + length])
        else:
            expected, layout, address = form
            if length != expected:
                raise invalid_syntax(f"traffic selector type {ts_type} with length {length}")
            _t, _p, _l, sport, eport, start, end = layout.unpack_from(body, pos)
            selectors.append(
                _new_selector(ts_type, proto, sport, eport, address(start), address(end))
            )
        pos += length
    if pos != end_of_body:
        raise invalid_syntax(f"{end_of_body - pos} bytes after the last traffic selector")
    return _new_ts_payload(t == _TSI, tuple(selectors), tuple(other))


# --- Configuration (RFC 7296 §3.15) ----------------------------------------------------------


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigAttribute:
    """A configuration attribute (RFC 7296 §3.15.1): ``type`` is a ConfigAttributeType."""

    type: int
    value: bytes = b""


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class CpPayload:
    """Configuration payload (RFC 7296 §3.15): CFG type and attributes."""

    TYPE: ClassVar[int] = PayloadType.CP
    cfg_type: int
    attributes: tuple[ConfigAttribute, ...] = ()


def push_cp(p: CpPayload) -> bytes:
    out = bytes((p.cfg_type, 0, 0, 0))
    for a in p.attributes:
        if not 0 <= a.type < 0x8000:
            raise ValueError("configuration attribute types are 15 bits")
        out += struct.pack("!HH", a.type, len(a.value)) + a.value
    return out


def pull_cp(body: bytes, _t: int) -> CpPayload:
    need(body, 4, "CP")
    attrs: list[ConfigAttribute] = []
    pos = 4
    while pos < len(body):
        if len(body) - pos < 4:
            raise invalid_syntax("configuration attribute truncated")
        atype, length = struct.unpack_from("!HH", body, pos)
        if pos + 4 + length > len(body):
            raise invalid_syntax("configuration attribute runs past the payload")
        # RFC 7296 §3.15.1: the R bit is reserved and ignored on receipt.
        attrs.append(ConfigAttribute(type=atype & 0x7FFF, value=body[pos + 4 : pos + 4 + length]))
        pos += 4 + length
    return CpPayload(cfg_type=body[0], attributes=tuple(attrs))
