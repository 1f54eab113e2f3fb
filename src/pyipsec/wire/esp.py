"""ESP header and trailer (RFC 4303 §2): the parts of the format that need no key.

Wire layout (RFC 4303 §2, Figure 1)::

    SPI (4) | Sequence Number (4) | [IV] | payload | padding | Pad Length (1) | Next Header (1)
    | [ICV]

Everything after the sequence number except the ICV is encrypted. The keyed processing lives in
``pyipsec.dataplane.esp``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

ESP_HEADER = struct.Struct("!II")
ESP_HEADER_LEN = 8
ESP_TRAILER_LEN = 2  # Pad Length + Next Header
MAX_PAD = 255

# RFC 4303 §2.4: "the Padding bytes are initialized with a series of (unsigned, 1-byte) integer
# values. The first padding byte appended to the plaintext is numbered 1, with subsequent
# padding bytes making up a monotonically increasing sequence".
_PAD_BYTES = bytes(range(1, MAX_PAD + 1))


class MalformedEsp(ValueError):
    """An ESP packet too short or inconsistent to be processed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EspHeader:
    spi: int
    seq: int  # the low-order 32 bits as sent


def pull_esp_header(data: bytes | bytearray | memoryview) -> EspHeader:
    """The SPI and sequence number at the start of ``data``."""
    if len(data) < ESP_HEADER_LEN:
        raise MalformedEsp("ESP header truncated")
    spi, seq = ESP_HEADER.unpack_from(data, 0)
    return EspHeader(spi=spi, seq=seq)


def push_esp_header(header: EspHeader) -> bytes:
    return ESP_HEADER.pack(header.spi, header.seq & 0xFFFFFFFF)


def pad_length(payload_len: int, block_size: int) -> int:
    """Bytes of padding so that payload + padding + trailer is a multiple of the alignment.

    RFC 4303 §2.4: the ciphertext is a multiple of the cipher block size, and the Pad Length and
    Next Header fields are right-aligned within a 4-byte word, so the alignment is at least 4.
    """
    align = max(block_size, 4)
    return -(payload_len + ESP_TRAILER_LEN) % align


def padding(n: int) -> bytes:
    """The monotonic padding 1, 2, ..., n (RFC 4303 §2.4)."""
    return _PAD_BYTES[:n]


_TRAILERS: dict[tuple[int, int, int], bytes] = {}


def build_trailer(payload_len: int, next_header: int, block_size: int) -> bytes:
    """Padding, Pad Length and Next Header for a payload of ``payload_len`` bytes.

    Trailers depend only on (length modulo alignment, next header, alignment): they are built
    once and cached (at most 256 x 256 x a few alignments, in practice a handful).
    """
    align = max(block_size, 4)
    key = (payload_len % align, next_header, align)
    trailer = _TRAILERS.get(key)
    if trailer is None:
        n = pad_length(payload_len, block_size)
        trailer = _TRAILERS[key] = _PAD_BYTES[:n] + bytes((n, next_header))
    return trailer


def split_trailer(plaintext: bytes) -> tuple[int, int, bool]:
    """(payload length, next header, padding ok) of a decrypted ESP payload.

    Raises ``MalformedEsp`` when the pad length runs past the start. ``padding ok`` is False when
    the padding bytes are not the default 1, 2, 3, ... sequence (RFC 4303 §2.4 lets the receiver
    check this; we do, and drop on mismatch).
    """
    if len(plaintext) < ESP_TRAILER_LEN:
        raise MalformedEsp("ESP trailer truncated")
    n = plaintext[-2]
    nh = plaintext[-1]
    end = len(plaintext) - ESP_TRAILER_LEN - n
    if end < 0:
        raise MalformedEsp("ESP pad length exceeds the payload")
    ok = plaintext[end : end + n] == _PAD_BYTES[:n]
    return end, nh, ok
