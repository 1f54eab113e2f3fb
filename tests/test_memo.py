"""pyipsec/memo.py: bounded memos by key and by identity."""

from __future__ import annotations

from pyipsec.memo import IdentityMemo, Memo


def test_memo_makes_once_and_empties_when_full() -> None:
    made: list[int] = []
    memo: Memo[int, int] = Memo(3)

    def get(k: int) -> int:
        return memo.get(k, lambda: made.append(k) or k * 10)

    assert [get(1), get(1), get(2)] == [10, 10, 20] and made == [1, 2]
    for k in range(3, 10):
        assert get(k) == k * 10
        assert len(memo) <= 3
    assert get(1) == 10 and made[-1] == 1  # forgotten when it was emptied: made again


def test_identity_memo_tells_equal_objects_apart() -> None:
    memo: IdentityMemo[list[int], int] = IdentityMemo(4)
    a, b = [1], [1]  # equal, distinct
    assert memo.get(a, lambda o: id(o)) == id(a)
    assert memo.get(b, lambda o: id(o)) == id(b)
    assert memo.get(a, lambda o: -1) == id(a)  # a hit: not made again
    # an id reused by a new object after the old one died is not a hit: the entry keeps the
    # object alive, so its id cannot be reused while the entry lives
    for _ in range(10):
        memo.get([2], lambda o: len(o))
        assert len(memo) <= 4
    memo.clear()
    assert len(memo) == 0
