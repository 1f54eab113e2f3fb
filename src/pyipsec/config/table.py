"""The configuration as data: ordered tables of items with stable ``.id`` values.

A :class:`Config` holds one :class:`Table` per configured menu. Items keep only the
properties that were set (canonical text); everything else reads as the schema default.
``.id`` values are allocated from a per-table counter that only grows, so an id is stable
for an item's life and never reused (the counter is persisted with the table). Tables are
ordered: list position is the print order, and for ``/ip ipsec policy`` together with
``priority`` also the evaluation order. All operations are pure; config/store.py persists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TypeVar

from pyipsec.config.menus import V6, all_menus, menus_for
from pyipsec.config.schema import Menu, MenuKind

T = TypeVar("T")

# Config.memo key set by the store on the configurations it shares: they are never changed,
# so what is derived from them can be kept with them.
SEALED = "sealed"
INTERNAL_PREFIX = "_"  # values under names starting with this are never printed or exported


def format_id(item_id: int) -> str:
    """RouterOS internal id text: ``*1``, ``*A``, ``*1F``."""
    return f"*{item_id:X}"


def parse_id(text: str) -> int | None:
    """The number in ``*1F``, or None when ``text`` is not an internal id."""
    if len(text) < 2 or text[0] != "*":
        return None
    try:
        return int(text[1:], 16)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    """One configured item: its id, the properties set on it, and its kind flags."""

    id: int
    values: Mapping[str, str] = field(default_factory=dict)
    default: bool = False
    dynamic: bool = False
    # What verify/compile derived from this item alone (its duplicate key, its policy record):
    # items never change, a changed item is a new Item, so this is computed once per item.
    memo: dict[str, object] = field(
        init=False, default_factory=dict, compare=False, repr=False, hash=False
    )

    def with_values(self, values: Mapping[str, str]) -> Item:
        return replace(self, values=dict(values))


def derived(item: Item, key: str, make: Callable[[], T]) -> T:
    """``make()``, computed once per item (it may depend on the item and the schema only)."""
    try:
        return item.memo[key]  # type: ignore[return-value]
    except KeyError:
        value = item.memo[key] = make()
        return value


def value_of(menu: Menu, item: Item, name: str) -> str | None:
    """The effective canonical value of property ``name`` (set value, else schema default)."""
    if name in item.values:
        return item.values[name]
    return menu.prop(name).default if menu.has(name) else None


@dataclass(slots=True, kw_only=True)
class Table:
    """The items of one menu in list order, and the next id to hand out.

    ``touched`` collects the ids of the items added, replaced, moved or removed since the
    table was copied: the store writes only those rows (a command costs what it changes, not
    the size of the table). Change ``items`` only through the methods, which keep ``touched``
    and the id index up to date.
    """

    menu: Menu
    items: list[Item] = field(default_factory=list)
    next_id: int = 1
    touched: set[int] = field(default_factory=set, compare=False, repr=False)
    _by_id: dict[int, Item] = field(default_factory=dict, compare=False, repr=False)
    # name -> id of the first item of that name, built on the first by_name() and kept up to
    # date by the methods (a v7 identity or policy names its peer: a check per command)
    _by_name: dict[str, int] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self._by_id:
            self._by_id = {item.id: item for item in self.items}

    def copy(self) -> Table:
        return Table(
            menu=self.menu,
            items=list(self.items),
            next_id=self.next_id,
            _by_id=dict(self._by_id),
            _by_name=None if self._by_name is None else dict(self._by_name),
        )

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def index(self, item_id: int) -> int:
        item = self._by_id[item_id]
        items = self.items
        if items and items[-1] is item:  # the item just appended
            return len(items) - 1
        for i, it in enumerate(items):  # by identity: no __eq__ call per item
            if it is item:
                return i
        raise KeyError(item_id)  # pragma: no cover - the index and the list agree

    def get(self, item_id: int) -> Item | None:
        return self._by_id.get(item_id)

    def by_name(self, name: str) -> Item | None:
        """The first item (in list order) whose name is ``name``."""
        key = self.menu.key
        if key is None:
            return None
        index = self._by_name
        if index is None:
            index = {}
            for item in self.items:
                found = item.values.get(key)
                if found is not None and found not in index:
                    index[found] = item.id
            self._by_name = index
        item_id = index.get(name)
        return None if item_id is None else self._by_id.get(item_id)

    def _renamed(self, old: Item | None, new: Item | None, *, appended: bool = False) -> None:
        """Keep the name index right after ``old`` became ``new`` (None: added/removed)."""
        index, key = self._by_name, self.menu.key
        if index is None or key is None:
            return
        before = old.values.get(key) if old is not None else None
        after = new.values.get(key) if new is not None else None
        if before == after:
            return
        if before is not None and old is not None and index.get(before) == old.id:
            self._by_name = None  # another item may have that name too: build again
            return
        if after is not None and new is not None:
            if after not in index and appended:
                index[after] = new.id
            else:
                self._by_name = None

    def names(self) -> list[str]:
        key = self.menu.key
        return [item.values[key] for item in self.items if key and key in item.values]

    def add(
        self, values: Mapping[str, str], *, before: int | None = None, default: bool = False
    ) -> Item:
        """Append (or insert before the item with id ``before``) a new item; returns it."""
        item = Item(id=self.next_id, values=dict(values), default=default)
        at = len(self.items) if before is None else self.index(before)
        self.next_id += 1
        self.items.insert(at, item)
        self._by_id[item.id] = item
        self.touched.add(item.id)
        self._renamed(None, item, appended=before is None)
        return item

    def put(self, item: Item) -> None:
        """Replace the item with the same id."""
        old = self._by_id.get(item.id)
        self.items[self.index(item.id)] = item
        self._by_id[item.id] = item
        self.touched.add(item.id)
        self._renamed(old, item)

    def remove(self, item_id: int) -> None:
        old = self._by_id.get(item_id)
        del self.items[self.index(item_id)]
        del self._by_id[item_id]
        self.touched.add(item_id)
        self._renamed(old, None)

    def move(self, item_ids: list[int], before: int | None) -> None:
        """Move items (in the given order) before item ``before``, or to the end."""
        moving = [self.items[self.index(i)] for i in item_ids]
        gone = set(item_ids)
        rest = [it for it in self.items if it.id not in gone]
        at = len(rest)
        if before is not None and before not in gone:
            at = next(i for i, it in enumerate(rest) if it.id == before)
        self.items = rest[:at] + moving + rest[at:]
        self.touched.update(item_ids)
        self._by_name = None  # which of two items of one name comes first may change

    def unique_name(self, prefix: str) -> str:
        """The first ``<prefix>N`` (N = 1, 2, ...) not yet used."""
        taken = set(self.names())
        n = 1
        while f"{prefix}{n}" in taken:
            n += 1
        return f"{prefix}{n}"


@dataclass(slots=True, kw_only=True)
class Config:
    """The whole configuration: one table per configured (non-runtime) menu."""

    tables: dict[tuple[str, ...], Table]
    # The console dialect whose menus describe the tables (v6: 6.x peers; v7: profile + peer +
    # identity; docs/config.md "Dialects").
    dialect: str = V6
    # Results derived from this configuration (verification), computed once per version;
    # a copy starts without them, since it is about to be changed.
    memo: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def initial(cls, dialect: str = V6) -> Config:
        """A fresh router: every menu's default items and nothing else."""
        tables: dict[tuple[str, ...], Table] = {}
        for menu in all_menus(dialect):
            if menu.is_runtime:
                continue
            table = Table(menu=menu)
            if menu.kind is MenuKind.SINGLE:
                table.add({}, default=True)
            for values in menu.default_items:
                table.add(values, default=True)
            tables[menu.path] = table
        return cls(tables=tables, dialect=dialect)

    def copy(self) -> Config:
        return Config(tables={p: t.copy() for p, t in self.tables.items()}, dialect=self.dialect)

    def table(self, path: tuple[str, ...]) -> Table:
        return self.tables[path]

    def menu(self, path: tuple[str, ...]) -> Menu:
        return menus_for(self.dialect)[path]

    def single(self, path: tuple[str, ...]) -> Item:
        """The one item of a settings-style menu."""
        return self.tables[path].items[0]
