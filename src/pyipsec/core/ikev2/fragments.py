"""IKEv2 fragmentation in use (RFC 7383): when the engine fragments, and reassembly per IKE SA.

Theory of operation
-------------------
Both IKE_SA_INIT messages carry IKEV2_FRAGMENTATION_SUPPORTED (``sa_init.py``); the peer's
is recorded as ``IkeSa.peer_fragmentation``. From IKE_AUTH on, a protected message that
would not fit the path in one datagram is sent as Encrypted Fragment (SKF) payloads instead
(RFC 7383 §2.5; IKE_SA_INIT is never fragmented). The path is not measured: its size is
``FragmentLimits`` - 1280 octets for IPv6 (its minimum MTU, RFC 8200 §5) and a conservative
576 for IPv4 (RFC 791's minimum reassembly size, the IPv4 value RFC 7383 §2.5.1 suggests) -
minus the IP and UDP headers and, on port 4500, the non-ESP marker. Each fragment is its own
datagram of at most that size (``wire/ikev2/fragment.encode_fragments``).

The task manager treats a fragmented message as the tuple of its datagrams: a request is
retransmitted whole (every fragment, §2.6 - so a lost fragment comes again with the next
retransmission), and a cached response is sent again whole when fragment 1 of the
retransmitted request arrives (its other fragments are then duplicates and are dropped).

Received fragments (``receive``) go through the IKE SA's ``Reassembler``: one message per
direction, at most ``max_fragments`` fragments and ``max_bytes`` octets (``max_bytes_setup``
until the IKE SA is established), each fragment's ICV checked before it is kept (§2.6.1).
The message is handled once the last fragment arrives, as if it had come in one datagram
whose bytes are fragment 1's (what the response cache recognises a retransmission by).
Fragments from a peer that did not announce support are dropped (§2.5).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pyipsec.wire.ikev2 import message as wm
from pyipsec.wire.ikev2.constants import ExchangeType, PayloadType
from pyipsec.wire.ikev2.fragment import Reassembler, encode_fragments
from pyipsec.wire.ikev2.header import HEADER_LEN, Header

from .ike_sa import Dropped, IkeSa
from .natt import NATT_PORT

if TYPE_CHECKING:
    from .engine import Ikev2Engine

__all__ = ["FragmentLimits", "Fragments", "datagram_limit", "is_fragment", "receive", "seal"]

IP_HEADER = {4: 20, 6: 40}
UDP_HEADER = 8
NON_ESP_MARKER = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class FragmentLimits:
    """Path sizes (whole IP datagrams) we fragment for, and the reassembly bounds."""

    ipv4: int = 576
    ipv6: int = 1280
    max_fragments: int = 64  # a message announcing more is refused
    max_bytes: int = 64 * 1024  # reassembled size
    # ... until IKE_AUTH has authenticated the peer: a half-open IKE SA is cheap to make
    # (thousands may exist, core/admission.py), so what each may hold stays small; an
    # IKE_AUTH with a certificate chain is a few kilobytes.
    max_bytes_setup: int = 16 * 1024


@dataclass(slots=True)
class Fragments:
    """One IKE SA's reassembly state: the Reassembler and fragment 1 of what it holds."""

    reassembler: Reassembler
    first: dict[bool, bytes] = field(default_factory=dict, repr=False)  # by the R flag


def datagram_limit(sa: IkeSa, limits: FragmentLimits) -> int:
    """The largest IKE message (UDP payload without the non-ESP marker) that fits the path
    to ``sa``'s peer in one datagram."""
    version = sa.remote[0].version
    path = limits.ipv4 if version == 4 else limits.ipv6
    marker = NON_ESP_MARKER if sa.local[1] == NATT_PORT else 0
    return path - IP_HEADER[version] - UDP_HEADER - marker


def seal(eng: Ikev2Engine, sa: IkeSa, msg: wm.Message) -> tuple[bytes, ...]:
    """The datagram(s) of ``msg`` on ``sa``: IKE_SA_INIT in the clear; later messages in one
    SK payload, or in SKF fragments when the peer supports them and one datagram would be
    larger than the path (RFC 7383 §2.5)."""
    if msg.exchange == ExchangeType.IKE_SA_INIT:
        return (wm.encode(msg),)
    keys = eng.sk_out(sa)
    whole = wm.encode_protected(msg, keys, eng.rng)
    if not sa.peer_fragmentation:
        return (whole,)
    limit = datagram_limit(sa, eng.fragment_limits)
    if len(whole) <= limit:  # the usual case: encoded once, no second pass to size it
        return (whole,)
    packets = tuple(encode_fragments(msg, keys, eng.rng, limit))
    eng.count("ike-fragmented")
    return packets


def is_fragment(header: Header) -> bool:
    """Whether a message is an Encrypted Fragment (its only payload is SKF, §2.5)."""
    return header.next_payload == PayloadType.SKF


def receive(
    eng: Ikev2Engine, sa: IkeSa, header: Header, data: bytes, keys: wm.SkKeys
) -> tuple[wm.Message, bytes] | None:
    """Take one fragment (the caller judged its message ID as new, or as the response to our
    outstanding request). Returns the reassembled message and fragment 1's bytes once the
    last fragment is in, else None. Raises ``IntegrityCheckFailed`` / ``MalformedMessage``
    (the engine's drops) for a bad fragment; fragments are not accepted before IKE_AUTH
    (§2.5: never in IKE_SA_INIT) nor from a peer that did not announce support."""
    if not sa.peer_fragmentation:
        raise Dropped("fragment-unannounced: the peer did not announce RFC 7383 support")
    limits = eng.fragment_limits
    state = sa.fragments
    if state is None:
        state = sa.fragments = Fragments(Reassembler(max_fragments=limits.max_fragments))
    state.reassembler.max_bytes = limits.max_bytes if sa.established else limits.max_bytes_setup
    fragment_one = data[HEADER_LEN + 4 : HEADER_LEN + 6] == b"\x00\x01"
    msg = state.reassembler.add(data, keys)  # raises for a fragment that does not verify
    if msg is not None:
        eng.count("ike-reassembled")
        return msg, data if fragment_one else state.first.pop(header.response, data)
    held = state.reassembler.pending(header.response)
    if fragment_one and held is not None and held[0] == header.message_id:
        state.first[header.response] = data  # authentic, and of the message being held
    eng.count("ike-fragment-held")
    return None
