"""Bounded memos of values computed from our own configuration, for the IKE setup path.

Several per-setup computations depend only on configuration (a peer entry's algorithm tables,
the PSK pad key, our address ID payload, a template's selectors): computed once, they are
looked up afterwards. Two shapes:

* ``Memo``: by a hashable key.
* ``IdentityMemo``: by an object's identity, for configuration records that are costly to
  hash (frozen dataclasses hash every field). The object is kept beside its value, so its id
  cannot be reused by another object while the entry lives, and a hit is checked with ``is``.

Both hold at most ``limit`` entries; full means emptied. A configuration larger than the limit
costs recomputation, never memory. Keys must come from our configuration, never from what a
peer sends (a peer could otherwise churn the memo)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["IdentityMemo", "Memo"]

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")
V = TypeVar("V")


class Memo(Generic[K, V]):
    __slots__ = ("_entries", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._entries: dict[K, V] = {}

    def get(self, key: K, make: Callable[[], V]) -> V:
        """The value for ``key``, made by ``make()`` on a miss."""
        try:
            return self._entries[key]
        except KeyError:
            pass
        value = make()
        if len(self._entries) >= self.limit:
            self._entries.clear()
        self._entries[key] = value
        return value

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()


class IdentityMemo(Generic[T, V]):
    __slots__ = ("_entries", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._entries: dict[int, tuple[T, V]] = {}

    def get(self, obj: T, make: Callable[[T], V]) -> V:
        """The value for ``obj`` (this very object), made by ``make(obj)`` on a miss."""
        hit = self._entries.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        value = make(obj)
        if len(self._entries) >= self.limit:
            self._entries.clear()
        self._entries[id(obj)] = (obj, value)
        return value

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()
