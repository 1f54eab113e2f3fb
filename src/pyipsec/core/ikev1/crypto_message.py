"""Encrypted ISAKMP messages: padding, CBC chaining and the leading HASH payload.

RFC 2408 §3.1 / RFC 2409 App. B: when the E flag is set, everything after the 28-byte header is
encrypted with the phase-1 cipher in CBC mode. The plaintext is padded to a whole number of
blocks and the header Length counts the padding. We pad with zero bytes (the fewest that fill
the last block); on receipt the payload chain itself says where the payloads end, so whatever
padding a peer used (zeros, a count byte, a full extra block) is ignored.

IV chaining (RFC 2409 App. B): the first phase-1 IV is hash(g^xi | g^xr); the first IV of a
quick mode or informational exchange is hash(last phase-1 block | M-ID); each following message
of the same exchange uses the last ciphertext block of the previous one. ``encrypt_message`` and
``decrypt_message`` return that block as ``next_iv``; the state machine keeps one per exchange.

Quick mode and informational messages start with a HASH payload computed over the payloads that
follow it (RFC 2409 §5.5, §5.7): ``build_encrypted_message(..., hash_rest=...)`` inserts it, and
``split_hash`` gives the received hash and the exact bytes it covers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from pyipsec.crypto.base import CryptoError, EspCipher
from pyipsec.wire.ikev1.constants import IsakmpFlag, NotifyMessageType, PayloadType
from pyipsec.wire.ikev1.errors import MalformedMessage
from pyipsec.wire.ikev1.header import HEADER_LEN, Header, pull_header, push_header
from pyipsec.wire.ikev1.message import Message
from pyipsec.wire.ikev1.payloads import GENERIC, Payload, pull_payload_chain, push_payloads

__all__ = [
    "build_encrypted_message",
    "decrypt_message",
    "encrypt_message",
    "hashed_body",
    "last_cipher_block",
    "parse_encrypted_message",
    "split_hash",
]


def encrypt_message(
    cipher: EspCipher, block_size: int, iv: bytes, header: Header, body: bytes
) -> tuple[bytes, bytes]:
    """Encrypt ``body`` (a payload chain) under ``header``: (datagram, next IV).

    The header's E flag is set and its Length computed (header + ciphertext incl. padding).
    """
    plaintext = body + bytes(-len(body) % block_size)
    if not plaintext:
        raise ValueError("an encrypted ISAKMP message needs at least one payload")
    ciphertext = cipher.encrypt(iv, plaintext)
    header = replace(
        header, flags=header.flags | IsakmpFlag.ENCRYPTION, length=HEADER_LEN + len(ciphertext)
    )
    return push_header(header) + ciphertext, ciphertext[-block_size:]


def decrypt_message(
    cipher: EspCipher, block_size: int, iv: bytes, data: bytes
) -> tuple[Header, bytes, bytes]:
    """Decrypt a datagram with the E flag: (header, plaintext body with padding, next IV).

    Raises ``MalformedMessage`` when the header is bad, the E flag is missing
    (INVALID_FLAGS) or the ciphertext is not whole blocks (PAYLOAD_MALFORMED). A wrong key
    or IV is not detectable here: it shows up as a malformed payload chain or a bad HASH.
    """
    header = pull_header(data)
    if not header.encrypted:
        raise MalformedMessage(NotifyMessageType.INVALID_FLAGS, "expected an encrypted message")
    ciphertext = bytes(data[HEADER_LEN : header.length])
    if not ciphertext or len(ciphertext) % block_size:
        raise MalformedMessage(
            NotifyMessageType.PAYLOAD_MALFORMED,
            f"encrypted body of {len(ciphertext)} bytes is not whole {block_size}-byte blocks",
        )
    try:
        plaintext = cipher.decrypt(iv, ciphertext)
    except CryptoError as e:  # e.g. an IV of the wrong size: the caller's bug, but never crash
        raise MalformedMessage(NotifyMessageType.PAYLOAD_MALFORMED, "decryption failed") from e
    return header, plaintext, ciphertext[-block_size:]


def hashed_body(
    payloads: Sequence[Payload], hash_rest: Callable[[bytes], bytes]
) -> tuple[int, bytes]:
    """A HASH payload over the encoded ``payloads`` followed by them: (HASH type, bytes).

    ``hash_rest(rest)`` gets the payloads after HASH, generic headers included, and returns
    the hash (e.g. ``lambda rest: quick_mode_hash1(prf, skeyid_a, mid, rest)``).
    """
    first, rest = push_payloads(payloads)
    digest = hash_rest(rest)
    return PayloadType.HASH, GENERIC.pack(first, 0, 4 + len(digest)) + digest + rest


def split_hash(first_payload: int, plaintext: bytes) -> tuple[bytes, bytes]:
    """(received hash, bytes it covers) of a message that must start with a HASH payload.

    The covered bytes run from the payload after HASH to the end of the last payload,
    excluding padding (RFC 2409 §5.5, §5.7). Raises ``MalformedMessage`` with
    INVALID_HASH_INFORMATION when the first payload is not HASH.
    """
    if first_payload != PayloadType.HASH:
        raise MalformedMessage(NotifyMessageType.INVALID_HASH_INFORMATION, "HASH is not first")
    pairs = pull_payload_chain(first_payload, plaintext, trailing_ok=True)
    end = sum(4 + len(body) for _, body in pairs)
    hash_body = pairs[0][1]
    return hash_body, plaintext[4 + len(hash_body) : end]


def build_encrypted_message(
    cipher: EspCipher,
    block_size: int,
    iv: bytes,
    *,
    initiator_cookie: bytes,
    responder_cookie: bytes,
    exchange_type: int,
    message_id: int = 0,
    flags: int = 0,
    payloads: Sequence[Payload],
    hash_rest: Callable[[bytes], bytes] | None = None,
) -> tuple[bytes, bytes]:
    """Build and encrypt a message: (datagram, next IV).

    With ``hash_rest`` a HASH payload over the other payloads is put first (quick mode,
    informational, DPD); without it ``payloads`` are sent as given (main mode 5/6).
    """
    if hash_rest is not None:
        first, body = hashed_body(payloads, hash_rest)
    else:
        first, body = push_payloads(payloads)
    header = Header(
        initiator_cookie=initiator_cookie,
        responder_cookie=responder_cookie,
        next_payload=first,
        exchange_type=exchange_type,
        flags=flags,
        message_id=message_id,
    )
    return encrypt_message(cipher, block_size, iv, header, body)


def parse_encrypted_message(
    cipher: EspCipher, block_size: int, iv: bytes, data: bytes
) -> tuple[Message, bytes, bytes]:
    """Decrypt and decode: (message, plaintext body, next IV).

    ``message.bodies`` holds each payload's received body; the plaintext is returned for
    ``split_hash``. Raises ``MalformedMessage`` only.
    """
    header, plaintext, next_iv = decrypt_message(cipher, block_size, iv, data)
    pairs = pull_payload_chain(header.next_payload, plaintext, trailing_ok=True)
    message = Message(
        header=header,
        payloads=tuple(p for p, _ in pairs),
        bodies=tuple(b for _, b in pairs),
    )
    return message, plaintext, next_iv


def last_cipher_block(data: bytes, block_size: int) -> bytes | None:
    """The last ciphertext block of an encrypted datagram (the next IV of its CBC chain), read
    without decrypting; None when the body is not whole blocks."""
    try:
        length = pull_header(data).length
    except MalformedMessage:
        return None
    ciphertext = data[HEADER_LEN:length]
    if not ciphertext or len(ciphertext) % block_size:
        return None
    return bytes(ciphertext[-block_size:])
