"""Anti-replay window and ESN inference (dataplane/replay.py, RFC 4303 §3.4.3, Appendix A)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyipsec.dataplane.replay import MAX_WINDOW, ReplayWindow

M32 = 1 << 32


def accept(w: ReplayWindow, seq_low: int) -> int | None:
    seq = w.check(seq_low)
    if seq is not None:
        w.update(seq)
    return seq


@pytest.mark.parametrize("size", [32, 128, 1024])
def test_window_edges(size: int) -> None:
    w = ReplayWindow(size)
    assert w.check(0) is None  # sequence number 0 is never valid
    assert accept(w, 1) == 1
    assert w.check(1) is None  # duplicate
    assert accept(w, size + 10) == size + 10
    top = size + 10
    assert w.check(top - size) is None  # just outside the window (left edge + 1)
    assert accept(w, top - size + 1) == top - size + 1  # the oldest number still inside
    assert w.check(top - size + 1) is None
    assert accept(w, top - 1) == top - 1
    assert w.check(top) is None
    assert w.seen(top) and w.seen(top - 1) and not w.seen(top - 2)


def test_window_slide_keeps_bits() -> None:
    w = ReplayWindow(64)
    for s in (1, 2, 3, 10):
        accept(w, s)
    accept(w, 20)
    assert all(w.check(s) is None for s in (3, 10, 20))
    assert w.check(4) == 4
    accept(w, 20 + 64)  # slide by a whole window: everything old falls out
    assert w.check(20) is None and w.check(84) is None
    assert w.check(21) == 21 and w.check(83) == 83


def test_window_zero_disables_replay_check() -> None:
    w = ReplayWindow(0)
    assert accept(w, 5) == 5
    assert accept(w, 5) == 5  # replays are accepted
    assert accept(w, 1) == 1
    assert w.check(0) is None


def test_window_size_limits() -> None:
    ReplayWindow(MAX_WINDOW)
    with pytest.raises(ValueError):
        ReplayWindow(-1)
    with pytest.raises(ValueError):
        ReplayWindow(MAX_WINDOW + 1)


def test_check_does_not_change_state() -> None:
    w = ReplayWindow(32)
    w.check(100)
    assert w.top == 0 and w.check(1) == 1


# -- ESN (RFC 4303 Appendix A2.1) -----------------------------------------------------------


def esn_window(size: int, top: int) -> ReplayWindow:
    w = ReplayWindow(size, esn=True)
    w.update(top)
    return w


def test_esn_case_a_same_subspace() -> None:
    # Tl >= W - 1: window inside one subspace. Th = 5.
    w = esn_window(32, (5 << 32) | 1000)
    assert w.infer(1000 - 31) == (5 << 32) | 969  # inside the window: Th
    assert w.infer(2000) == (5 << 32) | 2000  # ahead: Th
    assert w.infer(10) == (6 << 32) | 10  # below the window: the next subspace (Th + 1)


def test_esn_case_b_window_spans_subspaces() -> None:
    # Tl < W - 1: the window reaches back into subspace Th - 1.
    w = esn_window(32, (5 << 32) | 10)
    assert w.infer(M32 - 5) == (4 << 32) | (M32 - 5)  # in the window, previous subspace
    assert w.infer(5) == (5 << 32) | 5
    assert w.infer(100) == (5 << 32) | 100


def test_esn_wrap_round_trip() -> None:
    w = ReplayWindow(128, esn=True)
    start = M32 - 3
    w.update(start)
    got = [accept(w, s & 0xFFFFFFFF) for s in range(start + 1, start + 8)]
    assert got == list(range(start + 1, start + 8))
    assert w.top == start + 7 and w.top >> 32 == 1
    # The last numbers of the old subspace are still in the window: replays are caught.
    assert w.check((M32 - 1) & 0xFFFFFFFF) is None
    assert w.check((M32 - 200) & 0xFFFFFFFF) is not None  # inferred as next-next: not a replay


def test_esn_no_negative_subspace() -> None:
    w = ReplayWindow(128, esn=True)
    assert w.check(M32 - 10) is None  # would be in subspace -1


def test_non_esn_has_no_high_bits() -> None:
    w = ReplayWindow(32)
    w.update(M32 - 1)
    assert w.check(1) is None  # old, outside window: no wrap without ESN


@settings(max_examples=200, deadline=None)
@given(
    size=st.sampled_from([0, 1, 32, 128, 1024]),
    seqs=st.lists(st.integers(min_value=1, max_value=3000), max_size=200),
)
def test_against_a_set_model(size: int, seqs: list[int]) -> None:
    """The bitmap behaves like the obvious model: a set and a highest value."""
    w = ReplayWindow(size)
    seen: set[int] = set()
    top = 0
    for s in seqs:
        expect_ok = size == 0 or s > top or (top - s < size and s not in seen)
        assert (w.check(s) is not None) == expect_ok
        if expect_ok:
            w.update(s)
            seen.add(s)
            top = max(top, s)
