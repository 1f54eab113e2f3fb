"""Message IDs, the window, retransmission and the response cache of one IKE SA (RFC 7296
§2.1-§2.3), in strongSwan's manner: one manager per IKE SA, two independent directions.

Our requests
    ``my_mid`` is the message ID of our next request. We keep at most one request outstanding
    (window size 1, §2.3): a peer that announces a larger window with SET_WINDOW_SIZE (in any
    message it sends, ``note_window``) is noted (``peer_window``) but we still send
    one at a time, which every peer must accept. Further
    requests wait in ``queue`` (the engine's exchanges, as opaque tasks) until the outstanding
    one is answered. A request is retransmitted, the same bytes, after 2 s, then doubling
    (``RETRANSMIT_TIMEOUTS``); when the last timeout passes without a response the IKE SA is
    dead (§2.4: "the IKE SA is deleted"). A response is ours only if it carries the outstanding
    request's message ID (§2.1: "match responses to requests"); any other is dropped.

Peer's requests
    ``peer_mid`` is the message ID we expect on the peer's next request. A request with exactly
    that ID is new: it is processed once, and the response we send is cached with the request's
    fingerprint (a hash of its bytes; for a fragmented request, of its first fragment). A
    request with the previous ID is a retransmission: if its bytes are those of the request we
    answered, it gets the cached response again, never a second processing (§2.1: "the
    responder MUST ... retransmit the response" without acting again); otherwise it is dropped.
    Older IDs, and IDs beyond our window (we announce none: 1), are dropped: the window the
    peer may use towards us is the one WE announce, whatever it announced to us, so its request
    ``peer_mid + 1`` before we answered ``peer_mid`` is out of window even from a peer that
    announced 10.

Sans-IO: the manager holds bytes and times; the engine sends and receives.
"""

from __future__ import annotations

import enum
import hashlib
from collections import deque
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pyipsec.core.retransmit import RFC7296_TIMEOUTS

__all__ = [
    "ANSWER_LIMIT",
    "RETRANSMIT_TIMEOUTS",
    "Outstanding",
    "RequestVerdict",
    "TaskManager",
    "fingerprint",
]

# Seconds to wait after each send of a request: 2 s doubling, five sends in all; after the last
# wait (62 s from the first send) the peer is considered dead. The schedule is the shared
# retransmission layer's (core/retransmit.py), which IKEv1 takes its own from.
RETRANSMIT_TIMEOUTS = RFC7296_TIMEOUTS
# How often one cached response is sent again for copies of its request: enough for any honest
# initiator's retransmissions, not a reflector for a flood of captured copies.
ANSWER_LIMIT = 2 * len(RETRANSMIT_TIMEOUTS)
MAX_MESSAGE_ID = 0xFFFF_FFFF

T = TypeVar("T")


def fingerprint(data: bytes) -> bytes:
    """What identifies a request's bytes in the response cache (not a secret)."""
    return hashlib.sha256(data).digest()


class RequestVerdict(enum.Enum):
    NEW = "new"  # process it, then ``responded``
    RETRANSMITTED = "retransmitted"  # send ``cached_response()`` again
    DUPLICATE = "duplicate"  # a copy we may not answer again (limit), or an old ID: drop
    OUT_OF_WINDOW = "out-of-window"  # an ID ahead of what we expect: drop


@dataclass(slots=True, kw_only=True)
class Outstanding(Generic[T]):
    """Our request in flight: its message ID, the datagram(s) to resend and the task that
    waits for the response."""

    message_id: int
    packets: tuple[bytes, ...] = field(repr=False)
    task: T
    sent_at: float
    tries: int = 1  # sends so far
    next_at: float = 0.0
    timeouts: tuple[float, ...] = RETRANSMIT_TIMEOUTS  # waits after each send


@dataclass(slots=True, kw_only=True)
class _Cached:
    message_id: int
    request: bytes  # fingerprint of the request it answers
    packets: tuple[bytes, ...] = field(repr=False)
    answered: int = 0


class TaskManager(Generic[T]):
    """Both message-ID directions of one IKE SA."""

    def __init__(self, *, timeouts: tuple[float, ...] = RETRANSMIT_TIMEOUTS) -> None:
        self.timeouts = timeouts
        self.my_mid = 0  # ID of our next request
        self.peer_mid = 0  # ID we expect on the peer's next request
        self.peer_window = 1  # what the peer announced (SET_WINDOW_SIZE); we still send one
        self.outstanding: Outstanding[T] | None = None
        self.queue: deque[T] = deque()
        self._cache: _Cached | None = None

    # --- our requests -----------------------------------------------------------------------

    @property
    def idle(self) -> bool:
        """No request of ours is in flight: the next one may be sent (window size 1)."""
        return self.outstanding is None

    def next_request_id(self) -> int:
        """The message ID the next request must carry (the engine builds it with this)."""
        return self.my_mid

    def sent(self, task: T, packets: tuple[bytes, ...], now: float) -> Outstanding[T]:
        """We sent a request with ID ``my_mid``: wait for its response, resend on the timer."""
        if self.outstanding is not None:
            raise RuntimeError("a request is already outstanding (window size 1)")
        # a task may bring its own waits (a liveness check: dpd-interval, dpd-maximum-failures)
        timeouts = getattr(task, "timeouts", None) or self.timeouts
        self.outstanding = Outstanding(
            message_id=self.my_mid,
            packets=packets,
            task=task,
            sent_at=now,
            next_at=now + timeouts[0],
            timeouts=timeouts,
        )
        return self.outstanding

    def resent(self, packets: tuple[bytes, ...]) -> None:
        """The outstanding request was rebuilt with the same ID (IKE_SA_INIT with a cookie or
        another KE group restarts the exchange; RFC 7296 §2.6 keeps ID 0)."""
        if self.outstanding is not None:
            self.outstanding.packets = packets

    def in_flight(self, task: T) -> bool:
        """Whether ``task``'s request is the one awaiting its response: how a request of the
        peer is found to cross one of ours (RFC 7296 §2.8.1, §2.8.2; the rekey tasks resolve
        the collision)."""
        return self.outstanding is not None and self.outstanding.task is task

    def note_window(self, data: bytes) -> bool:
        """The Notification Data of the peer's SET_WINDOW_SIZE (§3.10.1: a 4-octet window
        size, at least 1): noted in ``peer_window``. False (nothing noted) when malformed."""
        if len(data) != 4:
            return False
        size = int.from_bytes(data, "big")
        if size < 1:
            return False
        self.peer_window = size
        return True

    def is_response_to_outstanding(self, message_id: int) -> bool:
        """Whether a response with ``message_id`` answers the request we are waiting for."""
        return self.outstanding is not None and self.outstanding.message_id == message_id

    def response_received(self, message_id: int) -> T | None:
        """The response to our outstanding request arrived (and verified): the window moves.
        Returns the waiting task, or None if ``message_id`` is not the outstanding one."""
        if not self.is_response_to_outstanding(message_id):
            return None
        assert self.outstanding is not None  # checked just above; not remote input
        task = self.outstanding.task
        self.outstanding = None
        self.my_mid = (self.my_mid + 1) & MAX_MESSAGE_ID
        return task

    def abandon(self) -> T | None:
        """Give up the outstanding request without moving the window (the exchange restarts
        with the same ID, or the IKE SA goes away)."""
        out, self.outstanding = self.outstanding, None
        return None if out is None else out.task

    def due(self, now: float) -> tuple[bytes, ...] | None:
        """At ``now``: the packets to resend, or None. Raises ``PeerDead`` after the last try."""
        out = self.outstanding
        if out is None or now < out.next_at:
            return None
        if out.tries >= len(out.timeouts):
            raise PeerDead(out.tries)
        out.next_at = now + out.timeouts[out.tries]
        out.tries += 1
        return out.packets

    def next_deadline(self) -> float | None:
        return None if self.outstanding is None else self.outstanding.next_at

    # --- the peer's requests ----------------------------------------------------------------

    def classify_request(self, message_id: int, data: bytes) -> RequestVerdict:
        """What to do with a request of the peer with ``message_id`` whose (first) datagram
        is ``data``; decided before decrypting anything."""
        if message_id == self.peer_mid:
            return RequestVerdict.NEW
        cache = self._cache
        if cache is not None and message_id == cache.message_id:
            if cache.request == fingerprint(data) and cache.answered < ANSWER_LIMIT:
                return RequestVerdict.RETRANSMITTED
            return RequestVerdict.DUPLICATE
        if (message_id - self.peer_mid) & MAX_MESSAGE_ID > MAX_MESSAGE_ID // 2:
            return RequestVerdict.DUPLICATE  # behind us
        return RequestVerdict.OUT_OF_WINDOW

    def responded(self, message_id: int, request: bytes, packets: tuple[bytes, ...]) -> None:
        """We answered the peer's request ``message_id`` (raw first datagram ``request``) with
        ``packets``: cache them for its retransmissions and expect the next ID."""
        self._cache = _Cached(message_id=message_id, request=fingerprint(request), packets=packets)
        self.peer_mid = (message_id + 1) & MAX_MESSAGE_ID

    def cached_response(self) -> tuple[bytes, ...]:
        """The response to send again for a RETRANSMITTED request (counted against the limit)."""
        if self._cache is None:
            return ()
        self._cache.answered += 1
        return self._cache.packets

    @property
    def cached_message_id(self) -> int | None:
        return None if self._cache is None else self._cache.message_id


class PeerDead(Exception):
    """Our request went unanswered through every retransmission (RFC 7296 §2.4)."""

    def __init__(self, tries: int) -> None:
        super().__init__(f"no response after {tries} transmissions")
        self.tries = tries
