"""Messages protected by an established ISAKMP SA: quick mode and informational exchanges.

RFC 2409 §5.5 and §5.7: every message after phase 1 is encrypted with the phase-1 cipher and
starts with a HASH payload keyed with SKEYID_a over the message ID and the payloads that follow.
Each exchange (message ID) has its own CBC chain starting at hash(last phase-1 block | M-ID)
(RFC 2409 App. B). Informational messages before phase 1 completes go in the clear.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence

from pyipsec.wire.ikev1.constants import IPSEC_DOI, ExchangeType, NotifyMessageType, ProtocolId
from pyipsec.wire.ikev1.errors import MalformedMessage
from pyipsec.wire.ikev1.message import Message, build_message
from pyipsec.wire.ikev1.payloads import NotifyPayload, Payload

from . import keymat as km
from .crypto_message import build_encrypted_message, parse_encrypted_message, split_hash
from .ike_sa import IkeSa

__all__ = [
    "BadHash",
    "cleartext_notify",
    "exchange_iv",
    "open_protected",
    "seal",
]


class BadHash(Exception):
    """The leading HASH of a protected message did not verify."""


def exchange_iv(sa: IkeSa, mid: int) -> bytes:
    """The first IV of the exchange with message ID ``mid`` (RFC 2409 App. B)."""
    assert sa.prf is not None and sa.enc is not None
    return km.phase2_iv(sa.prf, sa.iv, mid, sa.enc.block_size)


def seal(
    sa: IkeSa,
    *,
    exchange_type: int,
    mid: int,
    iv: bytes,
    payloads: Sequence[Payload],
    hash_rest: Callable[[bytes], bytes] | None,
) -> tuple[bytes, bytes]:
    """Encrypt a protected message: (datagram, next IV)."""
    assert sa.cipher is not None and sa.enc is not None
    return build_encrypted_message(
        sa.cipher,
        sa.enc.block_size,
        iv,
        initiator_cookie=sa.cky_i,
        responder_cookie=sa.cky_r,
        exchange_type=exchange_type,
        message_id=mid,
        payloads=payloads,
        hash_rest=hash_rest,
    )


def open_protected(
    sa: IkeSa, iv: bytes, data: bytes, expected: Callable[[bytes], bytes] | None
) -> tuple[Message, bytes, bytes]:
    """Decrypt; when ``expected`` is given, check the leading HASH against ``expected(rest)``.

    Returns (message, covered bytes, next IV). Raises MalformedMessage or BadHash.
    """
    assert sa.cipher is not None and sa.enc is not None
    msg, plaintext, next_iv = parse_encrypted_message(sa.cipher, sa.enc.block_size, iv, data)
    received, rest = split_hash(msg.header.next_payload, plaintext)
    if expected is not None and not hmac.compare_digest(received, expected(rest)):
        raise BadHash("HASH mismatch")
    return msg, rest, next_iv


def informational_hash(sa: IkeSa, mid: int) -> Callable[[bytes], bytes]:
    assert sa.prf is not None and sa.keys is not None
    prf, key = sa.prf, sa.keys.skeyid_a
    return lambda rest: km.informational_hash(prf, key, mid, rest)


def seal_informational(sa: IkeSa, mid: int, payloads: Sequence[Payload]) -> bytes:
    """An informational exchange (RFC 2409 §5.7) protected by ``sa``."""
    data, _ = seal(
        sa,
        exchange_type=ExchangeType.INFORMATIONAL,
        mid=mid,
        iv=exchange_iv(sa, mid),
        payloads=payloads,
        hash_rest=informational_hash(sa, mid),
    )
    return data


def open_informational(sa: IkeSa, data: bytes, mid: int) -> Message:
    msg, _, _ = open_protected(sa, exchange_iv(sa, mid), data, informational_hash(sa, mid))
    return msg


def cleartext_notify(cky_i: bytes, cky_r: bytes, notify: NotifyMessageType) -> bytes:
    """An unprotected error notify (RFC 2408 §5: errors before the ISAKMP SA is ready)."""
    return build_message(
        initiator_cookie=cky_i,
        responder_cookie=cky_r,
        exchange_type=ExchangeType.INFORMATIONAL,
        payloads=[
            NotifyPayload(
                doi=IPSEC_DOI,
                protocol_id=ProtocolId.ISAKMP,
                notify_type=notify,
                spi=cky_i + cky_r,
            )
        ],
    )


__all__ += ["MalformedMessage", "informational_hash", "open_informational", "seal_informational"]


def split_hash_of(msg: Message) -> bytes | None:
    """The data of the leading HASH payload of a decrypted message, or None."""
    from pyipsec.wire.ikev1.payloads import HashPayload

    first = msg.payloads[0] if msg.payloads else None
    return first.data if isinstance(first, HashPayload) else None
