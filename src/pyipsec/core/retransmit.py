"""Retransmission of our last message of an exchange, and answering a peer's repeats, for both
IKE versions (RFC 2408 §5 as racoon does it; RFC 7296 §2.1).

Sans-IO: a ``Retransmit`` holds the bytes, where they go and when; the engine sends them and
calls ``arm`` when the message first goes out, ``backoff`` after each resend, and asks
``exhausted`` before one (then the exchange has failed). The waits after each send are a
version's ``timeouts``: IKEv1 3 s doubling over five sends (racoon and RouterOS wait 10 s five
times; we double from 3 s: sends at 0, 3, 9, 21, 45 s, failure at 93 s), IKEv2 2 s doubling
(``RFC7296_TIMEOUTS``).

A message that answers the peer's (``reply_to``: the fingerprint of the one it answers) is sent
again when that message is repeated (our answer was lost), but at most ``answer_limit`` times
and once per ``answer_interval``: duplicated datagrams cannot make two peers resend to each
other forever, nor a captured copy make us a reflector.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyipsec.core.events import Endpoint

__all__ = ["IKEV1_TIMEOUTS", "RFC7296_TIMEOUTS", "Retransmit", "doubling"]


def doubling(first: float, sends: int) -> tuple[float, ...]:
    """The waits after each of ``sends`` sends: ``first``, then doubling."""
    return tuple(first * 2**i for i in range(sends))


IKEV1_TIMEOUTS = doubling(3.0, 5)  # 3, 6, 12, 24, 48 s
RFC7296_TIMEOUTS = doubling(2.0, 5)  # 2, 4, 8, 16, 32 s
ANSWER_LIMIT = 5  # resends of one answer for repeats of the message it answers
ANSWER_INTERVAL = 1.0  # seconds between two such resends


@dataclass(slots=True)
class Retransmit:
    """The last message we sent in one exchange, and when to send it again (module
    docstring)."""

    data: bytes = field(repr=False)
    src: Endpoint
    dst: Endpoint
    reply_to: bytes | None = None
    awaiting: bool = True  # we wait for an answer: resend on the timer
    tries: int = 0  # resends so far
    next_at: float = 0.0
    answered: int = 0  # times we resent this as the answer to a repeated message
    answered_at: float = -1e9
    timeouts: tuple[float, ...] = IKEV1_TIMEOUTS
    answer_limit: int = ANSWER_LIMIT

    def may_answer(self, now: float) -> bool:
        """Answer a repeat at most ``answer_limit`` times and once per ``ANSWER_INTERVAL``
        (and record it when allowed)."""
        if self.answered >= self.answer_limit or now - self.answered_at < ANSWER_INTERVAL:
            return False
        self.answered += 1
        self.answered_at = now
        return True

    def arm(self, now: float) -> None:
        """The message went out at ``now``: the first resend is due after the first wait."""
        self.tries = 0
        self.next_at = now + self.timeouts[0]

    @property
    def exhausted(self) -> bool:
        """Every send was made and the last wait is over when ``next_at`` comes: fail then."""
        return self.tries + 1 >= len(self.timeouts)

    def backoff(self) -> None:
        """The message was sent again: the next resend waits the next (longer) time."""
        self.tries += 1
        self.next_at += self.timeouts[min(self.tries, len(self.timeouts) - 1)]
