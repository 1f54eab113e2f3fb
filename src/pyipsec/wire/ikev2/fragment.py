"""IKEv2 message fragmentation (RFC 7383): Encrypted Fragment (SKF) payloads.

Sending (RFC 7383 §2.5.1): the inner payloads of what would be one Encrypted payload are
encoded, the bytes cut into pieces, and each piece sealed on its own in a message whose only
payload is an SKF payload::

    generic header (Next Payload: first inner payload type in fragment 1, 0 in the others)
    | Fragment Number (2, from 1) | Total Fragments (2) | IV | E(piece | Padding | Pad Length) | ICV

Every fragment carries the original Message ID and exchange; the Fragment Number and Total
Fragments are covered by the ICV (or are AEAD associated data, RFC 7383 §2.5).

Receiving (RFC 7383 §2.6): each fragment's ICV is checked before it is kept. A
``Reassembler`` holds at most one message being reassembled per direction (requests and
responses apart), bounded by ``max_fragments`` and ``max_bytes``. A fragment of a newer
Message ID replaces what was held; an older one is dropped. A larger Total Fragments than
held means the sender re-fragmented (e.g. for a smaller path MTU): start over with it; a
smaller one is dropped. When every fragment has arrived the pieces are joined, decoded and
returned as one ``Message``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from pyipsec.crypto.base import Rng

from .constants import NotifyType, PayloadType
from .errors import MalformedMessage
from .header import HEADER_LEN, pull_header
from .message import (
    Message,
    SkKeys,
    message_from_header,
    open_sealed,
    pull_inner,
    seal,
    sk_overhead,
)
from .payloads import Payload, SkfPayload, pull_payload_chain, push_payloads

__all__ = ["MAX_TOTAL_FRAGMENTS", "SKF_FIELDS_LEN", "Reassembler", "encode_fragments"]

_SKF_FIELDS = struct.Struct("!HH")
SKF_FIELDS_LEN = _SKF_FIELDS.size
MAX_TOTAL_FRAGMENTS = 0xFFFF  # the Total Fragments field is 2 octets
_SYNTAX = NotifyType.INVALID_SYNTAX


def fragment_capacity(keys: SkKeys, max_size: int) -> int:
    """How many inner-payload bytes one fragment of at most ``max_size`` bytes can carry."""
    fixed, align = sk_overhead(keys)
    room = max_size - HEADER_LEN - 4 - SKF_FIELDS_LEN - fixed
    return (room // align) * align - 1  # one octet for Pad Length, no padding needed


def encode_fragments(msg: Message, keys: SkKeys, rng: Rng, max_size: int) -> list[bytes]:
    """``msg`` as a list of SKF-protected datagrams, each at most ``max_size`` bytes.

    ``max_size`` is the IKE message size (the UDP payload without a non-ESP marker). The
    pieces are of equal size but for the last. Raises ValueError when ``max_size`` leaves no
    room or more than 65535 fragments would be needed.
    """
    first, inner = push_payloads(msg.payloads)
    size = fragment_capacity(keys, max_size)
    if size < 1:
        raise ValueError(f"no room for fragment data in {max_size} bytes")
    total = max(1, -(-len(inner) // size))
    if total > MAX_TOTAL_FRAGMENTS:
        raise ValueError(f"{total} fragments needed, at most {MAX_TOTAL_FRAGMENTS} allowed")
    return [
        seal(
            keys,
            rng,
            msg,
            sk_type=PayloadType.SKF,
            # RFC 7383 §2.5: the first inner payload's type in fragment 1, zero in the others.
            first_inner=first if n == 1 else PayloadType.NONE,
            sk_fields=_SKF_FIELDS.pack(n, total),
            inner=inner[(n - 1) * size : n * size],
        )
        for n in range(1, total + 1)
    ]


@dataclass(slots=True, kw_only=True)
class _Pending:
    """One message being reassembled."""

    message_id: int
    exchange: int
    total: int
    pieces: dict[int, bytes] = field(default_factory=dict)
    size: int = 0
    first_inner: int = 0
    cleartext: tuple[Payload, ...] = ()  # payloads before the SKF payload of fragment 1


@dataclass(slots=True, kw_only=True)
class ReassemblyStats:
    """What a ``Reassembler`` did with fragments it did not use (for the engine's counters)."""

    stale: int = 0  # older Message ID, or smaller Total Fragments than held
    duplicate: int = 0
    restarted: int = 0  # held fragments dropped for a newer message or a larger total
    over_limit: int = 0


class Reassembler:
    """Reassembles fragmented messages of one IKE SA (RFC 7383 §2.6); ``add`` one datagram
    at a time.

    ``add`` returns the whole ``Message`` when its last fragment arrives, else None. It raises
    ``IntegrityCheckFailed`` for a fragment whose ICV fails and ``MalformedMessage`` for any
    malformed fragment or one past the limits (which also drops what was held for it).
    """

    def __init__(self, *, max_fragments: int = 64, max_bytes: int = 64 * 1024) -> None:
        self.max_fragments = max_fragments
        self.max_bytes = max_bytes
        self.stats = ReassemblyStats()
        self._pending: dict[bool, _Pending] = {}  # keyed by the R flag

    def pending(self, response: bool) -> tuple[int, int, int] | None:
        """(Message ID, fragments held, Total Fragments) of the message held, or None."""
        p = self._pending.get(response)
        return None if p is None else (p.message_id, len(p.pieces), p.total)

    def clear(self) -> None:
        """Forget everything held (e.g. when the IKE SA goes)."""
        self._pending.clear()

    def add(self, data: bytes, keys: SkKeys) -> Message | None:
        """Take one SKF datagram protected with the sender's ``keys``."""
        data = bytes(data)
        header = pull_header(data)
        pairs = pull_payload_chain(header.next_payload, data[HEADER_LEN:])
        skf = pairs[-1][0] if pairs else None
        if not isinstance(skf, SkfPayload):
            raise MalformedMessage(_SYNTAX, "no Encrypted Fragment payload")
        if skf.total_fragments > self.max_fragments:
            self.stats.over_limit += 1
            raise MalformedMessage(_SYNTAX, f"{skf.total_fragments} fragments announced")
        # RFC 7383 §2.6: check the fragment's integrity before anything else uses it.
        sk_start = len(data) - len(pairs[-1][1]) + SKF_FIELDS_LEN
        piece = open_sealed(keys, data, sk_start)

        slot = header.response
        held = self._pending.get(slot)
        if held is not None:
            if header.message_id < held.message_id:
                self.stats.stale += 1
                return None
            if header.message_id > held.message_id or skf.total_fragments > held.total:
                self.stats.restarted += 1
                held = None
            elif skf.total_fragments < held.total:
                self.stats.stale += 1
                return None
            elif header.exchange != held.exchange:
                raise MalformedMessage(_SYNTAX, "fragments of one message in two exchanges")
        if held is None:
            held = _Pending(
                message_id=header.message_id, exchange=header.exchange, total=skf.total_fragments
            )
            self._pending[slot] = held
        if skf.fragment_number in held.pieces:
            self.stats.duplicate += 1
            return None
        if held.size + len(piece) > self.max_bytes:
            del self._pending[slot]
            self.stats.over_limit += 1
            raise MalformedMessage(_SYNTAX, f"reassembled message over {self.max_bytes} bytes")
        held.pieces[skf.fragment_number] = piece
        held.size += len(piece)
        if skf.fragment_number == 1:
            held.first_inner = skf.first_inner
            held.cleartext = tuple(p for p, _ in pairs[:-1])
        if len(held.pieces) < held.total:
            return None
        del self._pending[slot]
        inner = b"".join(held.pieces[n] for n in range(1, held.total + 1))
        return message_from_header(header, [*held.cleartext, *pull_inner(held.first_inner, inner)])
