"""The 28-byte ISAKMP header (RFC 2408 §3.1).

Wire layout::

    Initiator Cookie (8) | Responder Cookie (8) | Next Payload (1) | MjVer(4 bits) MnVer(4 bits)
    | Exchange Type (1) | Flags (1) | Message ID (4) | Length (4)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .constants import ISAKMP_VERSION, IsakmpFlag, NotifyMessageType
from .errors import MalformedMessage

__all__ = ["HEADER", "HEADER_LEN", "Header", "pull_header", "push_header"]

HEADER = struct.Struct("!8s8sBBBBII")
HEADER_LEN = 28
_KNOWN_FLAGS = int(IsakmpFlag.ENCRYPTION | IsakmpFlag.COMMIT | IsakmpFlag.AUTHENTICATION_ONLY)


@dataclass(frozen=True, slots=True, kw_only=True)
class Header:
    """An ISAKMP header. ``length`` counts the whole message, header and padding included."""

    initiator_cookie: bytes
    responder_cookie: bytes = bytes(8)
    next_payload: int = 0
    version: int = ISAKMP_VERSION  # major in the high nibble, minor in the low
    exchange_type: int
    flags: int = 0
    message_id: int = 0
    length: int = HEADER_LEN

    @property
    def encrypted(self) -> bool:
        """The E flag: everything after the header is encrypted (RFC 2408 §3.1)."""
        return bool(self.flags & IsakmpFlag.ENCRYPTION)

    @property
    def commit(self) -> bool:
        return bool(self.flags & IsakmpFlag.COMMIT)


def push_header(h: Header) -> bytes:
    """Encode ``h`` (28 bytes)."""
    if len(h.initiator_cookie) != 8 or len(h.responder_cookie) != 8:
        raise ValueError("ISAKMP cookies are 8 bytes")
    return HEADER.pack(
        h.initiator_cookie,
        h.responder_cookie,
        h.next_payload,
        h.version,
        h.exchange_type,
        h.flags,
        h.message_id,
        h.length,
    )


def pull_header(data: bytes) -> Header:
    """Decode and check the header at the start of ``data`` (RFC 2408 §5.1).

    The version must be 1.0 (INVALID_MAJOR_VERSION / INVALID_MINOR_VERSION), the flags must be
    known (INVALID_FLAGS), and the Length at least 28 and no more than ``len(data)``
    (UNEQUAL_PAYLOAD_LENGTHS).
    """
    if len(data) < HEADER_LEN:
        raise MalformedMessage(NotifyMessageType.PAYLOAD_MALFORMED, "ISAKMP header truncated")
    icky, rcky, np, version, xchg, flags, mid, length = HEADER.unpack_from(data, 0)
    if version >> 4 != ISAKMP_VERSION >> 4:
        raise MalformedMessage(NotifyMessageType.INVALID_MAJOR_VERSION, f"version {version:#x}")
    if version & 0x0F != ISAKMP_VERSION & 0x0F:
        raise MalformedMessage(NotifyMessageType.INVALID_MINOR_VERSION, f"version {version:#x}")
    if flags & ~_KNOWN_FLAGS:
        raise MalformedMessage(NotifyMessageType.INVALID_FLAGS, f"flags {flags:#x}")
    if length < HEADER_LEN or length > len(data):
        raise MalformedMessage(
            NotifyMessageType.UNEQUAL_PAYLOAD_LENGTHS,
            f"header length {length}, datagram {len(data)}",
        )
    return Header(
        initiator_cookie=icky,
        responder_cookie=rcky,
        next_payload=np,
        version=version,
        exchange_type=xchg,
        flags=flags,
        message_id=mid,
        length=length,
    )
