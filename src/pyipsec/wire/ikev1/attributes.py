"""ISAKMP Data Attributes (RFC 2408 §3.3): the TV and TLV forms.

Wire layout::

    AF(1 bit) | Attribute Type (15 bits) | Attribute Length or Value (16 bits) | [Value]

AF=1 is the TV ("basic") form: the 16-bit field is the value. AF=0 is the TLV ("variable") form:
the 16-bit field is the length of the value that follows.

An ``Attribute`` keeps the form it arrived in so that re-encoding gives the received bytes back:
a TV attribute decodes to an ``int`` value, a TLV attribute to ``bytes``. When building, an
``int`` that fits in 16 bits is sent in TV form and a larger one in the shortest TLV form, and
``bytes`` always in TLV form (``Attribute.variable(type, n, size=4)`` gives a fixed-width TLV,
as some peers send SA Life Duration).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass

from .constants import NotifyMessageType
from .errors import MalformedMessage

__all__ = [
    "Attribute",
    "attribute_value",
    "find_attribute",
    "pull_attributes",
    "push_attributes",
]

_HDR = struct.Struct("!HH")
_AF_TV = 0x8000


@dataclass(frozen=True, slots=True, kw_only=True)
class Attribute:
    """One data attribute: ``type`` (15 bits) and a TV ``int`` or a TLV ``bytes`` value."""

    type: int
    value: int | bytes

    @classmethod
    def variable(cls, type: int, value: int, *, size: int | None = None) -> Attribute:
        """A TLV attribute holding ``value`` big-endian in ``size`` bytes (shortest if None)."""
        if value < 0:
            raise ValueError("attribute values are unsigned")
        n = size if size is not None else max(1, (value.bit_length() + 7) // 8)
        return cls(type=type, value=value.to_bytes(n, "big"))

    @property
    def is_tv(self) -> bool:
        """True when the attribute is (or will be sent) in the TV form."""
        return isinstance(self.value, int) and self.value <= 0xFFFF

    def as_int(self) -> int:
        """The value as an unsigned integer (TLV values are big-endian)."""
        if isinstance(self.value, int):
            return self.value
        return int.from_bytes(self.value, "big")

    def as_bytes(self) -> bytes:
        """The value as bytes (a TV value as its 2 bytes)."""
        if isinstance(self.value, bytes):
            return self.value
        n = max(2, (self.value.bit_length() + 7) // 8)
        return self.value.to_bytes(n, "big")


def push_attribute(attr: Attribute) -> bytes:
    """Encode one attribute (RFC 2408 §3.3)."""
    if not 0 <= attr.type <= 0x7FFF:
        raise ValueError(f"attribute type {attr.type} does not fit in 15 bits")
    value = attr.value
    if isinstance(value, int):
        if value < 0:
            raise ValueError("attribute values are unsigned")
        if value <= 0xFFFF:
            return _HDR.pack(_AF_TV | attr.type, value)
        value = value.to_bytes((value.bit_length() + 7) // 8, "big")
    if len(value) > 0xFFFF:
        raise ValueError("attribute value longer than 65535 bytes")
    return _HDR.pack(attr.type, len(value)) + value


def push_attributes(attrs: Iterable[Attribute]) -> bytes:
    """Encode a sequence of attributes back to back."""
    return b"".join(push_attribute(a) for a in attrs)


def pull_attributes(
    data: bytes,
    notify: NotifyMessageType = NotifyMessageType.PAYLOAD_MALFORMED,
) -> tuple[Attribute, ...]:
    """Decode attributes filling ``data`` exactly; raise ``MalformedMessage(notify)`` otherwise."""
    out: list[Attribute] = []
    pos = 0
    end = len(data)
    while pos < end:
        if end - pos < 4:
            raise MalformedMessage(notify, "truncated data attribute header")
        word, field = _HDR.unpack_from(data, pos)
        pos += 4
        if word & _AF_TV:
            out.append(Attribute(type=word & 0x7FFF, value=field))
            continue
        if end - pos < field:
            raise MalformedMessage(notify, "data attribute value runs past its payload")
        out.append(Attribute(type=word, value=bytes(data[pos : pos + field])))
        pos += field
    return tuple(out)


def find_attribute(attrs: Iterable[Attribute], type: int) -> Attribute | None:
    """The first attribute of ``type``, or None."""
    for a in attrs:
        if a.type == type:
            return a
    return None


def attribute_value(attrs: Iterable[Attribute], type: int) -> int | None:
    """The integer value of the first attribute of ``type``, or None when absent."""
    a = find_attribute(attrs, type)
    return None if a is None else a.as_int()
