"""Whole IKEv2 messages: plain encode/decode and the Encrypted payload (RFC 7296 §3.14).

``encode``/``decode`` handle cleartext messages (IKE_SA_INIT); an Encrypted payload in them is
kept opaque as an ``SkPayload``. ``encode_protected``/``decode_protected`` put every payload of
a ``Message`` inside an SK payload and take it out again, with one direction's ``SkKeys``.

SK payload layout (RFC 7296 §3.14)::

    generic header (Next Payload = first inner payload) | IV | E(inner payloads | Padding |
    Pad Length) | ICV

* CBC ciphers with an integrity transform: the IV is one random block; the plaintext is padded
  to the block size; the ICV is the integrity transform's (truncated) MAC over the whole message
  from the first header octet up to the ICV, checked in constant time before decrypting.
* AEAD ciphers (AES-GCM RFC 5282, ChaCha20-Poly1305 RFC 7634 §3): the IV is 8 explicit bytes
  (random: both directions' requests and responses share one key, so the Message ID is not a
  unique nonce); no padding is needed; the associated data is everything from the first header
  octet to the end of the SK generic header (RFC 5282 §5.1); the ICV is the AEAD tag.

The sender pads with zeros; the receiver accepts any padding contents and length (§3.14: "the
recipient MUST accept any length that results in proper alignment"). An ICV or tag that does
not verify raises ``IntegrityCheckFailed``; anything malformed ``MalformedMessage``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from pyipsec.crypto.base import (
    AuthenticationFailed,
    CryptoError,
    EncryptionAlgorithm,
    EspCipher,
    IntegrityAlgorithm,
    Mac,
    Rng,
)
from pyipsec.fastinit import fast_init, positional

from .constants import IkeFlag, NotifyType, PayloadType
from .errors import IntegrityCheckFailed, MalformedMessage
from .header import HEADER_LEN, Header, pack_header, peek, pull_header
from .payloads import (
    GENERIC,
    NotifyPayload,
    Payload,
    SkfPayload,
    SkPayload,
    pull_payloads,
    push_payloads,
)

__all__ = [
    "Message",
    "SkKeys",
    "decode",
    "decode_protected",
    "encode",
    "encode_protected",
    "peek",
    "sk_overhead",
]

P = TypeVar("P")
_SYNTAX = NotifyType.INVALID_SYNTAX


_SK_TYPES = (SkPayload, SkfPayload)
_INITIATOR = int(IkeFlag.INITIATOR)  # plain ints: no enum member built per message
_RESPONSE = int(IkeFlag.RESPONSE)


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """A decoded IKEv2 message: header fields and payloads (inner payloads when protected).

    ``initiator`` and ``response`` are the I and R header flags (RFC 7296 §3.1).
    """

    spi_i: bytes
    spi_r: bytes = bytes(8)
    exchange: int
    initiator: bool
    response: bool
    message_id: int
    payloads: tuple[Payload, ...] = ()

    @property
    def flags(self) -> int:
        return (_INITIATOR if self.initiator else 0) | (_RESPONSE if self.response else 0)

    def get(self, cls: type[P]) -> P | None:
        """The first payload of class ``cls``, or None."""
        for p in self.payloads:
            if isinstance(p, cls):
                return p
        return None

    def all(self, cls: type[P]) -> list[P]:
        """Every payload of class ``cls``, in order."""
        return [p for p in self.payloads if isinstance(p, cls)]

    def notify(self, notify_type: int) -> NotifyPayload | None:
        """The first Notify payload of type ``notify_type``, or None."""
        for p in self.payloads:
            if isinstance(p, NotifyPayload) and p.type == notify_type:
                return p
        return None


@dataclass(frozen=True, slots=True)
class SkKeys:
    """The keys that protect one direction's messages: SK_ei/SK_ai or SK_er/SK_ar.

    ``integrity`` is None (or the NONE transform) for AEAD ciphers, required otherwise.
    ``enc_key`` includes the 4-byte salt of AEAD ciphers (RFC 5282 §7.1, RFC 7634 §4). The
    keyed cipher and MAC are built once here and reused for every message (DESIGN.md).
    """

    encryption: EncryptionAlgorithm
    integrity: IntegrityAlgorithm | None
    enc_key: bytes = field(repr=False)
    auth_key: bytes = field(repr=False, default=b"")
    cipher: EspCipher = field(init=False, repr=False, compare=False)
    mac: Mac | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        integrity = self.integrity
        if integrity is not None and integrity.icv_size == 0:
            integrity = None  # the NONE integrity transform (RFC 7296 §3.3.2)
        if self.encryption.aead and integrity is not None:
            raise ValueError("an AEAD cipher takes no integrity transform (RFC 5282 §8)")
        if not self.encryption.aead and integrity is None:
            raise ValueError(f"{self.encryption.name} needs an integrity transform")
        object.__setattr__(self, "cipher", self.encryption.keyed(self.enc_key))
        object.__setattr__(
            self, "mac", None if integrity is None else integrity.keyed(self.auth_key)
        )

    @property
    def icv_size(self) -> int:
        return self.mac.icv_size if self.mac is not None else self.encryption.icv_size


def sk_overhead(keys: SkKeys) -> tuple[int, int]:
    """(fixed bytes around the encrypted data, block alignment) of an SK payload's body.

    Fixed = IV + ICV; the encrypted part is inner payloads + padding + 1, a multiple of the
    alignment.
    """
    return keys.encryption.iv_size + keys.icv_size, max(1, keys.encryption.block_size)


# --- plain messages --------------------------------------------------------------------------


def _pack_header(msg: Message, first: int, length: int) -> bytes:
    """The header of ``msg`` with Next Payload ``first`` and Length ``length``."""
    return pack_header(msg.spi_i, msg.spi_r, first, msg.exchange, msg.flags, msg.message_id, length)


def encode(msg: Message) -> bytes:
    """Encode a cleartext message; Next Payload fields and all lengths are computed."""
    first, body = push_payloads(msg.payloads)
    return _pack_header(msg, first, HEADER_LEN + len(body)) + body


# fastinit.positional: ~0.3 us less per decoded message than building it by keywords
_new_message = positional(Message)


def message_from_header(h: Header, payloads: Sequence[Payload]) -> Message:
    """A ``Message`` with the header fields of ``h`` and ``payloads``."""
    flags = h.flags  # h.initiator and h.response, without two property calls
    return _new_message(
        h.spi_i,
        h.spi_r,
        h.exchange,
        bool(flags & _INITIATOR),
        bool(flags & _RESPONSE),
        h.message_id,
        tuple(payloads),
    )


def decode(data: bytes, header: Header | None = None) -> Message:
    """Decode a datagram; raises ``MalformedMessage`` (only), carrying the notify to answer with.

    An Encrypted or Encrypted Fragment payload comes out unopened (``SkPayload``,
    ``SkfPayload``). ``header``: what ``pull_header(data)`` (or ``check_header``) already
    returned for these bytes, not decoded again.
    """
    data = bytes(data)
    header = pull_header(data) if header is None else header
    return message_from_header(header, pull_payloads(header.next_payload, data[HEADER_LEN:]))


# --- the Encrypted payload (RFC 7296 §3.14) --------------------------------------------------


def seal(
    keys: SkKeys,
    rng: Rng,
    msg: Message,
    *,
    sk_type: int,
    first_inner: int,
    sk_fields: bytes,
    inner: bytes,
) -> bytes:
    """One whole protected datagram: header, SK (or SKF) payload holding ``inner`` encrypted.

    ``sk_fields`` are the octets between the generic header and the IV (SKF's Fragment Number
    and Total Fragments, RFC 7383 §2.5); they are covered by the ICV / associated data.
    """
    enc = keys.encryption
    fixed, align = sk_overhead(keys)
    pad = -(len(inner) + 1) % align
    plaintext = inner + bytes(pad) + bytes((pad,))
    sk_len = 4 + len(sk_fields) + fixed + len(plaintext)
    if sk_len > 0xFFFF:
        raise ValueError("Encrypted payload longer than 65535 bytes")
    prefix = (
        _pack_header(msg, sk_type, HEADER_LEN + sk_len)
        + GENERIC.pack(first_inner, 0, sk_len)
        + sk_fields
    )
    iv = rng(enc.iv_size)
    if len(iv) != enc.iv_size:
        raise ValueError("the random source returned a short IV")
    if keys.mac is None:  # AEAD (SkKeys checks the pairing)
        return prefix + iv + keys.cipher.encrypt(iv, plaintext, prefix)
    out = prefix + iv + keys.cipher.encrypt(iv, plaintext)
    return out + keys.mac.compute(out)


def open_sealed(keys: SkKeys, data: bytes, sk_start: int) -> bytes:
    """The inner payload bytes of the SK/SKF payload whose encrypted part starts at
    ``sk_start`` (just after the SKF fields) and runs to the end of ``data``.

    Everything before ``sk_start`` is authenticated. Raises ``IntegrityCheckFailed`` or
    ``MalformedMessage`` only.
    """
    enc = keys.encryption
    fixed, align = sk_overhead(keys)
    icv_size = keys.icv_size
    sealed_len = len(data) - sk_start - fixed  # the encrypted octets, tag and IV excluded
    if sealed_len < 1 or sealed_len % align:
        raise MalformedMessage(_SYNTAX, f"encrypted data of {sealed_len} bytes, alignment {align}")
    iv = data[sk_start : sk_start + enc.iv_size]
    body = data[sk_start + enc.iv_size :]
    try:
        if keys.mac is None:  # AEAD: the tag ends ``body``
            plaintext = keys.cipher.decrypt(iv, body, data[:sk_start])
        else:
            # RFC 7296 §3.14: the ICV covers the message up to the ICV; checked before
            # decrypting, in constant time (Mac.verify uses hmac.compare_digest).
            if not keys.mac.verify(data[:-icv_size], data[-icv_size:]):
                raise IntegrityCheckFailed("ICV mismatch")
            plaintext = keys.cipher.decrypt(iv, body[:-icv_size])
    except AuthenticationFailed:
        raise IntegrityCheckFailed("AEAD tag mismatch") from None
    except CryptoError as e:  # pragma: no cover - lengths are checked above
        raise MalformedMessage(_SYNTAX, f"decryption: {e}") from None
    pad = plaintext[-1]
    if pad + 1 > len(plaintext):
        raise MalformedMessage(
            _SYNTAX, f"pad length {pad} in {len(plaintext)} bytes", authenticated=True
        )
    return plaintext[: len(plaintext) - pad - 1]


def encode_protected(msg: Message, keys: SkKeys, rng: Rng) -> bytes:
    """Encode ``msg`` with all its payloads inside an Encrypted payload (RFC 7296 §3.14).

    ``rng(n)`` supplies the IV. ``keys`` are the sender's direction (SK_ei/SK_ai for the
    original initiator).
    """
    first, inner = push_payloads(msg.payloads)
    return seal(
        keys, rng, msg, sk_type=PayloadType.SK, first_inner=first, sk_fields=b"", inner=inner
    )


def decode_protected(data: bytes, keys: SkKeys, header: Header | None = None) -> Message:
    """Decode a message whose last payload is an Encrypted payload, and open it.

    ``keys`` are the sender's direction. The result holds any cleartext payloads that precede
    the SK payload, then the inner payloads. A message without an SK payload, or with an
    Encrypted Fragment payload (see ``fragment.Reassembler``), is MalformedMessage. A
    ``MalformedMessage`` raised after the ICV verified has ``authenticated`` True (RFC 7296
    §2.21.2: answer INVALID_SYNTAX to such a request; drop the others silently). ``header`` as
    for ``decode``.
    """
    data = bytes(data)
    header = pull_header(data) if header is None else header
    payloads = pull_payloads(header.next_payload, data[HEADER_LEN:])
    sk = payloads[-1] if payloads else None
    if not isinstance(sk, SkPayload):
        if isinstance(sk, SkfPayload):
            raise MalformedMessage(_SYNTAX, "an Encrypted Fragment payload needs reassembly")
        raise MalformedMessage(_SYNTAX, "no Encrypted payload")
    inner = open_sealed(keys, data, len(data) - len(sk.data))  # sk.data: its whole body
    payloads[-1:] = pull_inner(sk.first_inner, inner)
    return message_from_header(header, payloads)


def pull_inner(first: int, inner: bytes) -> list[Payload]:
    """Decode the payloads inside an Encrypted payload; a nested SK/SKF is INVALID_SYNTAX.

    Every ``MalformedMessage`` from here has ``authenticated`` set: the bytes were authentic.
    """
    try:
        payloads = pull_payloads(first, inner)
    except MalformedMessage as e:
        e.authenticated = True
        raise
    # pull_payloads lets an SK or SKF payload only end the chain: the last is the one to test
    if payloads and isinstance(payloads[-1], _SK_TYPES):
        raise MalformedMessage(
            _SYNTAX, "Encrypted payload inside an Encrypted payload", authenticated=True
        )
    return payloads
