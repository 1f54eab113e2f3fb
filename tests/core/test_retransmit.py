"""core/retransmit.py: the send schedule of both IKE versions and the limit on answering a
peer's repeats (IKEv1's schedule is also pinned end to end in tests/core/ikev1/test_engine.py:
sends at 0, 3, 9, 21, 45 s)."""

from __future__ import annotations

import ipaddress

from pyipsec.core.retransmit import IKEV1_TIMEOUTS, RFC7296_TIMEOUTS, Retransmit

ENDS = ((ipaddress.ip_address("198.51.100.1"), 500), (ipaddress.ip_address("203.0.113.2"), 500))


def schedule(rt: Retransmit, start: float) -> tuple[list[float], float]:
    """Drive ``rt`` as an engine does: (times of the sends, time it gives up)."""
    rt.arm(start)
    sends = [start]
    while not rt.exhausted:
        sends.append(rt.next_at)
        rt.backoff()
    return sends, rt.next_at


def test_ikev1_schedule_three_seconds_doubling() -> None:
    assert IKEV1_TIMEOUTS == (3.0, 6.0, 12.0, 24.0, 48.0)
    sends, gives_up = schedule(Retransmit(b"m", *ENDS), 100.0)
    assert [t - 100.0 for t in sends] == [0, 3, 9, 21, 45] and gives_up - 100.0 == 93


def test_rfc7296_schedule_two_seconds_doubling() -> None:
    """Five sends, the peer is dead 62 s after the first (as core/ikev2/task_manager.py)."""
    sends, gives_up = schedule(Retransmit(b"m", *ENDS, timeouts=RFC7296_TIMEOUTS), 0.0)
    assert sends == [0, 2, 6, 14, 30] and gives_up == 62


def test_answers_to_repeats_are_limited_in_number_and_rate() -> None:
    rt = Retransmit(b"sealed-reply", *ENDS, reply_to=b"fp", awaiting=False)
    assert rt.may_answer(10.0)
    assert not rt.may_answer(10.5)  # once a second
    assert [rt.may_answer(11.0 + i) for i in range(6)] == [True] * 4 + [False] * 2
    assert "sealed-reply" not in repr(rt)  # the message bytes stay out of reprs
