"""Whole ISAKMP messages: parse a datagram, build one from header fields and payloads.

``parse_message`` decodes a cleartext message; when the E flag is set it stops after the header
and returns the still-encrypted body (``pyipsec.core.ikev1.crypto_message`` decrypts it, then
``parse_payloads`` decodes the plaintext). ``build_message`` computes the next-payload chaining
and every length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from .header import HEADER_LEN, Header, pull_header, push_header
from .payloads import Payload, pull_payload_chain, push_payloads

__all__ = ["Message", "build_message", "parse_message", "parse_payloads", "parse_payloads_raw"]

P = TypeVar("P")


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """A decoded ISAKMP message.

    ``payloads`` is empty and ``encrypted_body`` set when the header's E flag is on. ``bodies``
    holds each payload's body exactly as received (for HASH_I/HASH_R over SAi_b, IDii_b).
    """

    header: Header
    payloads: tuple[Payload, ...] = ()
    bodies: tuple[bytes, ...] = field(default=(), repr=False, compare=False)
    encrypted_body: bytes | None = field(default=None, repr=False)

    def get(self, cls: type[P]) -> P | None:
        """The first payload of class ``cls``, or None."""
        for p in self.payloads:
            if isinstance(p, cls):
                return p
        return None

    def all(self, cls: type[P]) -> list[P]:
        """Every payload of class ``cls``, in order."""
        return [p for p in self.payloads if isinstance(p, cls)]

    def body_of(self, cls: type[object]) -> bytes | None:
        """The received body bytes of the first payload of class ``cls`` (e.g. SAi_b)."""
        for p, b in zip(self.payloads, self.bodies, strict=False):
            if isinstance(p, cls):
                return b
        return None


def parse_payloads_raw(
    first_payload: int, body: bytes, *, trailing_ok: bool = True
) -> list[tuple[Payload, bytes]]:
    """Decode a (decrypted) payload chain into (payload, received body) pairs.

    Trailing bytes after the last payload are accepted by default: they are the encryption
    padding, whose form varies between implementations.
    """
    return pull_payload_chain(first_payload, body, trailing_ok=trailing_ok)


def parse_payloads(first_payload: int, body: bytes, *, trailing_ok: bool = True) -> list[Payload]:
    """Decode a (decrypted) payload chain starting with type ``first_payload``."""
    return [p for p, _ in pull_payload_chain(first_payload, body, trailing_ok=trailing_ok)]


def parse_message(data: bytes) -> Message:
    """Decode a datagram; raises ``MalformedMessage`` (only) with the notify to answer with.

    Bytes after the header's Length are ignored; a cleartext message whose payloads do not
    fill the Length exactly is UNEQUAL_PAYLOAD_LENGTHS (RFC 2408 §5.1).
    """
    data = bytes(data)
    header = pull_header(data)
    rest = data[HEADER_LEN : header.length]
    if header.encrypted:
        return Message(header=header, encrypted_body=rest)
    pairs = pull_payload_chain(header.next_payload, rest)
    return Message(
        header=header,
        payloads=tuple(p for p, _ in pairs),
        bodies=tuple(b for _, b in pairs),
    )


def build_message(
    *,
    initiator_cookie: bytes,
    responder_cookie: bytes = bytes(8),
    exchange_type: int,
    flags: int = 0,
    message_id: int = 0,
    payloads: Sequence[Payload],
) -> bytes:
    """Encode a cleartext message; Next Payload fields and all lengths are computed."""
    first, body = push_payloads(payloads)
    header = Header(
        initiator_cookie=initiator_cookie,
        responder_cookie=responder_cookie,
        next_payload=first,
        exchange_type=exchange_type,
        flags=flags,
        message_id=message_id,
        length=HEADER_LEN + len(body),
    )
    return push_header(header) + body
