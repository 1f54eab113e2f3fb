"""AH header (RFC 4302 §2): format and the mutable-field rules of the ICV computation.

Wire layout (RFC 4302 §2, Figure 1)::

    Next Header (1) | Payload Len (1) | RESERVED (2) | SPI (4) | Sequence Number (4) | ICV

Payload Len is the AH length in 32-bit words minus 2. The ICV is padded so the header is a
multiple of 32 bits (IPv4) or 64 bits (IPv6) (RFC 4302 §2.6, §3.3.3.2.1).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

AH_FIXED = struct.Struct("!BBHII")
AH_FIXED_LEN = 12


class MalformedAh(ValueError):
    """An AH header too short or inconsistent to be processed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AhHeader:
    next_header: int
    length: int  # whole AH header in bytes, ICV and its padding included
    spi: int
    seq: int  # low-order 32 bits as sent


def ah_length(icv_size: int, ip_version: int) -> int:
    """Bytes of AH header for an ICV of ``icv_size`` (RFC 4302 §3.3.3.2.1 padding)."""
    align = 4 if ip_version == 4 else 8
    return AH_FIXED_LEN + icv_size + (-(AH_FIXED_LEN + icv_size) % align)


def pull_ah_header(data: bytes | bytearray | memoryview, offset: int = 0) -> AhHeader:
    """The AH header at ``offset``; raises ``MalformedAh`` if truncated or its length is bad."""
    if len(data) < offset + AH_FIXED_LEN:
        raise MalformedAh("AH header truncated")
    nh, plen, _reserved, spi, seq = AH_FIXED.unpack_from(data, offset)
    length = (plen + 2) * 4
    if length < AH_FIXED_LEN or len(data) < offset + length:
        raise MalformedAh("AH payload length inconsistent")
    return AhHeader(next_header=nh, length=length, spi=spi, seq=seq)


def push_ah_header(next_header: int, icv_size: int, ip_version: int, spi: int, seq: int) -> bytes:
    """An AH header with a zeroed ICV field (filled in once the ICV is known)."""
    length = ah_length(icv_size, ip_version)
    return AH_FIXED.pack(next_header, length // 4 - 2, 0, spi, seq & 0xFFFFFFFF) + bytes(
        length - AH_FIXED_LEN
    )


# RFC 4302 §3.3.3.1.1.2 / Appendix A1: IPv4 options that are immutable (included in the ICV).
# Every other option is mutable and zeroed; loose and strict source routes (131, 137), which
# are "mutable but predictable", are zeroed as well (we neither send nor predict them).
IMMUTABLE_IPV4_OPTIONS = frozenset({0, 1, 130, 133, 134, 148, 149})


def zero_ipv4_mutable(header: bytearray) -> None:
    """Zero the mutable IPv4 fields of ``header`` in place (RFC 4302 §3.3.3.1.1.1).

    TOS, flags and fragment offset, TTL and header checksum are zeroed, and the mutable options.
    Raises ``MalformedAh`` for malformed options.
    """
    header[1] = 0
    header[6:8] = b"\x00\x00"
    header[8] = 0
    header[10:12] = b"\x00\x00"
    ihl = (header[0] & 0x0F) * 4
    i = 20
    while i < ihl:
        kind = header[i]
        if kind == 0:  # end of options: the rest is padding
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= ihl or header[i + 1] < 2 or i + header[i + 1] > ihl:
            raise MalformedAh("IPv4 option malformed")
        length = header[i + 1]
        if kind not in IMMUTABLE_IPV4_OPTIONS:
            header[i : i + length] = bytes(length)
        i += length


def zero_ipv6_mutable(header: bytearray, end: int) -> None:
    """Zero the mutable IPv6 fields of ``header[:end]`` in place (RFC 4302 §3.3.3.1.2).

    Traffic class, flow label and hop limit in the base header; in hop-by-hop and destination
    options headers, the data of every option whose type has the "may change en route" bit
    (0x20, RFC 8200 §4.2) set. Routing headers must have Segments Left = 0 (the final
    destination is then already in the header); others raise ``MalformedAh``.
    """
    header[0] &= 0xF0
    header[1] = 0
    header[2] = 0
    header[3] = 0
    header[7] = 0
    nh = header[6]
    off = 40
    while off < end:
        length = (header[off + 1] + 1) * 8 if nh != 44 else 8
        if nh in (0, 60):
            i = off + 2
            stop = off + length
            while i < stop:
                opt = header[i]
                if opt == 0:  # Pad1
                    i += 1
                    continue
                if i + 1 >= stop or i + 2 + header[i + 1] > stop:
                    raise MalformedAh("IPv6 option malformed")
                olen = header[i + 1]
                if opt & 0x20:
                    header[i + 2 : i + 2 + olen] = bytes(olen)
                i += 2 + olen
        elif nh == 43:
            if header[off + 3] != 0:
                raise MalformedAh("routing header with segments left is not supported")
        elif nh != 44:
            break
        nh = header[off]
        off += length
