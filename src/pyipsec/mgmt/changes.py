"""The change feed: what changed in the configuration and the live tables, per menu.

One :class:`ChangeFeed` per daemon serves every front-end that shows live data: the RouterOS
API's ``listen`` and ``print =follow=``, and later the REST API and the web page. It is plain
Python (no event loop): a front-end subscribes a callback for a menu path and gets
:class:`Change` records (``added``, ``changed``, ``removed`` with the item's ``.id``); whoever
owns the loop calls :meth:`ChangeFeed.check` after every command it ran (so a change is seen
at once) and on a timer (changes another process wrote to the database, live rows).

Configuration changes are found by the store's ``generation`` counter (one query when nothing
changed) and then by comparing the previous and the current configuration item by item: the
store shares unchanged :class:`~pyipsec.config.table.Item` objects between versions, so an
identity test per item finds what a command touched, whichever process ran it. Runtime menus
(installed-sa, remote-peers, ...) have no generation: their rows are compared by ``.id`` and
values, and only for menus someone is subscribed to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pyipsec.config.store import Store
from pyipsec.config.table import Config, Table
from pyipsec.mgmt.base import RuntimeProvider

ADDED = "added"
CHANGED = "changed"
REMOVED = "removed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """One item of one menu changed (``kind``: added, changed or removed)."""

    path: tuple[str, ...]
    id: int
    kind: str
    generation: int = 0  # the store's generation after the change (0 for runtime rows)


Callback = Callable[[Change], None]


class Subscription:
    """A callback for the changes of one menu; :meth:`close` ends it."""

    __slots__ = ("callback", "feed", "path")

    def __init__(self, feed: ChangeFeed, path: tuple[str, ...], callback: Callback) -> None:
        self.feed = feed
        self.path = path
        self.callback = callback

    def close(self) -> None:
        self.feed.unsubscribe(self)


def _table_changes(old: Table | None, new: Table | None) -> Iterable[tuple[int, str]]:
    if old is new:
        return
    before = {it.id: it for it in old} if old is not None else {}
    after = list(new) if new is not None else []
    for item in after:
        prev = before.pop(item.id, None)
        if prev is None:
            yield item.id, ADDED
        elif prev is not item and prev != item:
            yield item.id, CHANGED
    for item_id in before:
        yield item_id, REMOVED


def _same(a: Table, b: Table) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a.items, b.items, strict=True))


def diff(old: Config, new: Config) -> list[tuple[tuple[str, ...], int, str]]:
    """``(menu path, id, kind)`` for every item that differs between two configurations."""
    out = []
    for path in dict.fromkeys([*old.tables, *new.tables]):
        a, b = old.tables.get(path), new.tables.get(path)
        if a is not None and b is not None and _same(a, b):
            continue
        out += [(path, i, kind) for i, kind in _table_changes(a, b)]
    return out


class ChangeFeed:
    """Changes of the configuration in ``store`` and of the runtime's live rows."""

    def __init__(self, store: Store, runtime: RuntimeProvider | None = None) -> None:
        self.store = store
        self.runtime = runtime
        self.generation = store.generation()
        self._config = store.snapshot()
        self._subs: dict[tuple[str, ...], list[Subscription]] = {}
        self._rows: dict[tuple[str, ...], dict[int, object]] = {}

    def subscribe(self, path: tuple[str, ...], callback: Callback) -> Subscription:
        sub = Subscription(self, path, callback)
        self._subs.setdefault(path, []).append(sub)
        if self.runtime is not None and path not in self._rows and self._is_runtime(path):
            self._rows[path] = self._runtime_rows(path)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.path, [])
        if sub in subs:
            subs.remove(sub)
        if not subs:
            self._subs.pop(sub.path, None)
            self._rows.pop(sub.path, None)

    @property
    def subscribers(self) -> int:
        return sum(len(s) for s in self._subs.values())

    def _is_runtime(self, path: tuple[str, ...]) -> bool:
        return path not in self._config.tables

    def _runtime_rows(self, path: tuple[str, ...]) -> dict[int, object]:
        assert self.runtime is not None
        return {r.id: (dict(r.values), r.flags) for r in self.runtime.rows(path)}

    def _emit(self, changes: list[Change]) -> None:
        for change in changes:
            for sub in list(self._subs.get(change.path, ())):
                sub.callback(change)

    def check(self) -> list[Change]:
        """Find and deliver the configuration's changes since the last check (and the live
        rows' of subscribed runtime menus). Returns what it delivered."""
        changes: list[Change] = []
        generation = self.store.generation()
        if generation != self.generation:
            config = self.store.snapshot()
            changes = [
                Change(path=p, id=i, kind=k, generation=generation)
                for p, i, k in diff(self._config, config)
            ]
            self._config, self.generation = config, generation
        changes += self._check_runtime()
        self._emit(changes)
        return changes

    def _check_runtime(self) -> list[Change]:
        out: list[Change] = []
        for path, before in list(self._rows.items()):
            after = self._runtime_rows(path)
            for row_id, row in after.items():
                prev = before.get(row_id)
                if prev is None:
                    out.append(Change(path=path, id=row_id, kind=ADDED))
                elif prev != row:
                    out.append(Change(path=path, id=row_id, kind=CHANGED))
            out += [Change(path=path, id=i, kind=REMOVED) for i in before if i not in after]
            self._rows[path] = after
        return out
