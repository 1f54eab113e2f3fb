"""The IKEv2 task manager: message IDs, window 1, retransmission with backoff, the response
cache (RFC 7296 §2.1-§2.3)."""

from __future__ import annotations

import itertools

import pytest

from pyipsec.core.ikev2.task_manager import (
    ANSWER_LIMIT,
    RETRANSMIT_TIMEOUTS,
    PeerDead,
    RequestVerdict,
    TaskManager,
)


def test_one_request_at_a_time_and_ids_advance_on_the_response() -> None:
    tm: TaskManager[str] = TaskManager()
    assert tm.next_request_id() == 0 and tm.idle
    tm.sent("init", (b"req0",), now=10.0)
    assert not tm.idle
    with pytest.raises(RuntimeError):
        tm.sent("other", (b"x",), now=10.0)
    tm.peer_window = 4  # the peer allows more: we still keep one outstanding
    assert not tm.idle
    assert tm.response_received(1) is None  # not the outstanding ID: not ours
    assert not tm.idle and tm.next_request_id() == 0
    assert tm.response_received(0) == "init"
    assert tm.idle and tm.next_request_id() == 1
    assert tm.response_received(0) is None  # a duplicate of the response


def test_backoff_doubles_then_the_peer_is_dead() -> None:
    tm: TaskManager[str] = TaskManager()
    tm.sent("t", (b"r",), now=0.0)
    sends = [0.0]
    now = 0.0
    with pytest.raises(PeerDead):
        for _ in range(20):
            deadline = tm.next_deadline()
            assert deadline is not None
            assert tm.due(deadline - 0.001) is None
            now = deadline
            assert tm.due(now) == (b"r",)
            sends.append(now)
    gaps = [b - a for a, b in itertools.pairwise(sends)]
    assert gaps == list(RETRANSMIT_TIMEOUTS[:-1])  # 2, 4, 8, 16 between the five sends
    assert len(sends) == len(RETRANSMIT_TIMEOUTS)
    assert now == sends[-1] + RETRANSMIT_TIMEOUTS[-1] == 62.0  # dead 32 s after the last


def test_request_processed_once_retransmission_answered_from_cache() -> None:
    tm: TaskManager[str] = TaskManager()
    assert tm.classify_request(0, b"req0") is RequestVerdict.NEW
    tm.responded(0, b"req0", (b"resp0",))
    assert tm.classify_request(0, b"req0") is RequestVerdict.RETRANSMITTED
    assert tm.cached_response() == (b"resp0",)
    # same ID, other bytes: never processed, never answered
    assert tm.classify_request(0, b"forged") is RequestVerdict.DUPLICATE
    assert tm.classify_request(1, b"req1") is RequestVerdict.NEW
    assert tm.classify_request(5, b"req5") is RequestVerdict.OUT_OF_WINDOW
    tm.responded(1, b"req1", (b"resp1",))
    assert tm.classify_request(0, b"req0") is RequestVerdict.DUPLICATE  # old ID: dropped
    assert tm.classify_request(1, b"req1") is RequestVerdict.RETRANSMITTED


def test_cached_answers_are_limited() -> None:
    tm: TaskManager[str] = TaskManager()
    tm.responded(0, b"req0", (b"resp0",))
    for _ in range(ANSWER_LIMIT):
        assert tm.classify_request(0, b"req0") is RequestVerdict.RETRANSMITTED
        tm.cached_response()
    assert tm.classify_request(0, b"req0") is RequestVerdict.DUPLICATE


def test_message_ids_wrap_safely() -> None:
    tm: TaskManager[str] = TaskManager()
    tm.responded(0xFFFF_FFFF, b"r", (b"a",))
    assert tm.peer_mid == 0
    assert tm.classify_request(0, b"n") is RequestVerdict.NEW
    assert tm.classify_request(0xFFFF_FFFE, b"o") is RequestVerdict.DUPLICATE


def test_peer_window_noted_from_set_window_size_data() -> None:
    """§3.10.1 SET_WINDOW_SIZE: 4 octets, at least 1; anything else is not noted. We keep
    one request outstanding whatever the peer allows, and its requests get our window (1)."""
    tm: TaskManager[str] = TaskManager()
    assert tm.note_window((16).to_bytes(4, "big")) and tm.peer_window == 16
    assert not tm.note_window(b"\x00\x00\x00\x00") and tm.peer_window == 16
    assert not tm.note_window(b"\x00\x10") and tm.peer_window == 16
    tm.sent("a", (b"r0",), now=0.0)
    assert not tm.idle
    assert tm.classify_request(0, b"q0") is RequestVerdict.NEW
    assert tm.classify_request(1, b"q1") is RequestVerdict.OUT_OF_WINDOW  # 0 unanswered
