"""Stable ``.id``s for rows that live at run time (installed SAs, remote/active peers).

RouterOS gives every item an internal id (``*1F``) that stays the item's for its life and is
never reused (reference §6); an API client that printed ``*3`` may ``get``, query or ``listen``
for ``*3`` later. Configured items get theirs from the store (config/table.py); runtime rows
are made afresh on every print, so the runtime keeps a :class:`StableIds` per menu: rows are
recognised by a key of their identity (an SA by protocol, SPI and destination; a peer by its
addresses, side and exchange mode), a key seen before keeps its id, a new key gets the next
number, and a key that disappeared is forgotten (its id is never handed out again).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable


class StableIds:
    """Ids by row key; ``assign`` is called with the keys of one complete listing."""

    __slots__ = ("_ids", "_next")

    def __init__(self) -> None:
        self._ids: dict[tuple[Hashable, int], int] = {}
        self._next = 1

    def assign(self, keys: Iterable[Hashable]) -> list[int]:
        """The id of each key, in order. Keys equal to each other (two IKE SAs with the same
        peer during a rekey) are told apart by their rank among equals; keys absent from this
        listing are forgotten."""
        seen: Counter[Hashable] = Counter()
        ranked = []
        for key in keys:
            ranked.append((key, seen[key]))
            seen[key] += 1
        out = []
        for rk in ranked:
            item_id = self._ids.get(rk)
            if item_id is None:
                item_id = self._ids[rk] = self._next
                self._next += 1
            out.append(item_id)
        if len(self._ids) > len(ranked):
            wanted = set(ranked)
            for rk in [k for k in self._ids if k not in wanted]:
                del self._ids[rk]
        return out
