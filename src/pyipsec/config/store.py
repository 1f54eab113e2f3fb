"""SQLite persistence of the configuration (the only config module that does I/O).

Every command runs as one :meth:`Store.transaction`: ``BEGIN IMMEDIATE``, read the current
configuration, let the command change a copy, write the rows of the items it touched,
``COMMIT``. A command that raises changes nothing (rollback), and SQLite's write-ahead log
guarantees that a process killed in the middle of a write leaves the previous configuration.
The database file is created with mode 0600 (it holds secrets). A ``generation`` counter in
``meta`` lets a store reuse its cached configuration when no other process wrote since.

A command costs the rows it changes, not the size of its table: items are stored with sparse
``position`` values (``POSITION_GAP`` apart), so an item added, moved or placed before another
gets a position between its neighbours' and no other row is rewritten; only when a gap is used
up is the table renumbered. See docs/config-at-scale.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from pyipsec.config.menus import DIALECTS, V6, menus_for
from pyipsec.config.table import SEALED, Config, Item, Table

T = TypeVar("T")

# Items are stored with positions this far apart, so an item placed between two others gets a
# position of its own without renumbering the table (until some gap is used up).
POSITION_GAP = 1 << 20

SCHEMA_VERSION = "1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (menu TEXT PRIMARY KEY, next_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    menu TEXT NOT NULL,
    id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    is_default INTEGER NOT NULL,
    props TEXT NOT NULL,
    PRIMARY KEY (menu, id)
);
"""


def default_db_path() -> Path:
    """``$PYIPSEC_DB``, else ``$XDG_STATE_HOME/pyipsec/config.db`` (~/.local/state/...)."""
    env = os.environ.get("PYIPSEC_DB")
    if env:
        return Path(env)
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(Path.home(), ".local", "state")
    return Path(state) / "pyipsec" / "config.db"


def _props(item: Item) -> str:
    return json.dumps(dict(item.values), sort_keys=True)


def _menu_key(path: tuple[str, ...]) -> str:
    return "/".join(path)


class Store:
    """A configuration database file (or ``:memory:``).

    ``dialect`` is the console dialect a *new* database starts in (``v6`` when not given); an
    existing database keeps the one stored in it (``meta.dialect``, absent = ``v6``). A
    transaction whose change sets ``config.dialect`` (a conversion) rewrites every table.
    """

    def __init__(self, path: str | os.PathLike[str], *, dialect: str | None = None) -> None:
        if dialect is not None and dialect not in DIALECTS:
            raise ValueError(f"unknown dialect {dialect}")
        self._new_dialect = dialect or V6
        self.path = str(path)
        if self.path != ":memory:":
            parent = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(parent, mode=0o700, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            os.close(fd)
            os.chmod(self.path, 0o600)
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        # Write-ahead log: a commit is one append and one fsync of the log (a rollback
        # journal costs three fsyncs), still durable with synchronous=FULL, and readers in
        # other processes never wait for a writer. The -wal/-shm files take the database
        # file's mode (0600). A database another process holds locked keeps its mode.
        mode = None
        with contextlib.suppress(sqlite3.OperationalError):
            mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()
        # bulk() relaxes syncing only with the log: with a rollback journal, NORMAL can lose
        # more than the last commands at a power cut
        self._wal = mode is not None and str(mode[0]).lower() == "wal"
        self._db.execute("PRAGMA synchronous=FULL")
        self._cache: Config | None = None
        self._generation = -1
        # Of the cached configuration: each item's position (by menu), menus whose default
        # items are not in the database yet, menus whose id counter is.
        self._positions: dict[str, dict[int, int]] = {}
        self._unsaved: set[tuple[str, ...]] = set()
        self._counted: set[str] = set()
        self._bulk = False  # inside bulk(): commits are not synced one by one
        self._rewrite = False  # inside replace(): every table is written in full
        self._init()

    def _init(self) -> None:
        db = self._db
        db.executescript(_SCHEMA)  # idempotent DDL (IF NOT EXISTS)
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if row is None:
                db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
                db.execute("INSERT INTO meta VALUES ('generation', '0')")
                db.execute("INSERT INTO meta VALUES ('dialect', ?)", (self._new_dialect,))
                self._write(Config.initial(self._new_dialect), None)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading

    def _current_generation(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        return int(row[0])

    def generation(self) -> int:
        """The database's change counter: it moves with every committed change, by any
        process (a cheap way to learn that nothing changed)."""
        return self._current_generation()

    def _dialect(self) -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key='dialect'").fetchone()
        return str(row[0]) if row is not None and row[0] in DIALECTS else V6

    def _read(self) -> Config:
        generation = self._current_generation()
        if self._cache is not None and generation == self._generation:
            return self._cache
        dialect = self._dialect()
        menus = menus_for(dialect)
        config = Config.initial(dialect)
        counters = dict(self._db.execute("SELECT menu, next_id FROM counters").fetchall())
        rows = self._db.execute(
            "SELECT menu, id, position, is_default, props FROM items ORDER BY menu, position"
        ).fetchall()
        items: dict[tuple[str, ...], list[Item]] = {path: [] for path in config.tables}
        positions: dict[str, dict[int, int]] = {}
        for menu_key, item_id, position, is_default, props in rows:
            path = tuple(menu_key.split("/"))
            if path not in items or path not in menus:
                continue  # a menu this version does not know
            items[path].append(Item(id=item_id, values=json.loads(props), default=bool(is_default)))
            positions.setdefault(menu_key, {})[item_id] = position
        tables: dict[tuple[str, ...], Table] = {}
        self._unsaved = set()
        for path, table in config.tables.items():
            key = _menu_key(path)
            if not items[path] and table.items and key not in counters:
                tables[path] = table  # menu new to this database: seed defaults
                self._unsaved.add(path)  # (written in full with the table's first change)
                continue
            next_id = counters.get(key, table.next_id)
            tables[path] = Table(menu=table.menu, items=items[path], next_id=next_id)
        self._positions = positions
        self._counted = set(counters)
        self._install(Config(tables=tables, dialect=dialect), generation)
        assert self._cache is not None
        return self._cache

    def _install(self, config: Config, generation: int) -> None:
        config.memo.clear()
        config.memo[SEALED] = True  # never changed from here on: derived results may be kept
        self._cache = config
        self._generation = generation

    def load(self) -> Config:
        """A copy of the current configuration (the caller may change it)."""
        return self.snapshot().copy()

    def snapshot(self) -> Config:
        """The current configuration, shared: read it, never change it. Costs one query
        when nothing changed since the last read (no copy of the tables)."""
        self._db.execute("BEGIN")
        try:
            return self._read()
        finally:
            self._db.execute("COMMIT")

    # -- scripts

    @contextlib.contextmanager
    def bulk(self) -> Iterator[None]:
        """The commands of a script. Each stays its own transaction (atomic; a process killed
        in the middle leaves a prefix of the script applied), but the log is synced to disk
        once, at the end, instead of after every command: a power cut during the script may
        lose its last commands, never the database's consistency. Nests."""
        if self._bulk:
            yield
            return
        self._bulk = True
        if self._wal:
            self._db.execute("PRAGMA synchronous=NORMAL")
        try:
            yield
        finally:
            self._bulk = False
            if self._wal:
                self._db.execute("PRAGMA synchronous=FULL")
            # a checkpoint syncs the log, then copies it into the database file and syncs that
            with contextlib.suppress(sqlite3.OperationalError):
                self._db.execute("PRAGMA wal_checkpoint(FULL)")

    # -- writing

    def _write_all(self, key: str, table: Table) -> None:
        db = self._db
        db.execute("DELETE FROM items WHERE menu=?", (key,))
        positions = self._positions[key] = {}
        rows = []
        for n, it in enumerate(table.items, 1):
            if it.dynamic:
                continue
            positions[it.id] = n * POSITION_GAP
            rows.append((key, it.id, n * POSITION_GAP, int(it.default), _props(it)))
        db.executemany(
            "INSERT INTO items (menu, id, position, is_default, props) VALUES (?, ?, ?, ?, ?)",
            rows,
        )

    def _write_changes(self, key: str, table: Table) -> None:
        """Write the rows of ``table.touched`` only. Items nobody touched keep their relative
        order (every table operation marks what it moves), so a touched run of items gets
        positions between its untouched neighbours'; only when the gap there is used up is
        the whole table renumbered."""
        db = self._db
        positions = self._positions.setdefault(key, {})
        present = [i for i in table.touched if table.get(i) is not None]
        for item_id in table.touched:
            if table.get(item_id) is None and item_id in positions:
                db.execute("DELETE FROM items WHERE menu=? AND id=?", (key, item_id))
                del positions[item_id]
        if not present:
            return
        items = table.items
        if len(present) * 8 < len(items):
            at = sorted(table.index(i) for i in present)
        else:
            wanted = set(present)
            at = [n for n, it in enumerate(items) if it.id in wanted]
        rows = []
        run_start = 0
        for n in range(len(at) + 1):
            if n < len(at) and (n == run_start or at[n] == at[n - 1] + 1):
                continue  # the run of consecutive touched items goes on
            first, last = at[run_start], at[n - 1]
            lo = positions.get(items[first - 1].id, -1) if first > 0 else 0
            hi = positions.get(items[last + 1].id, -1) if last + 1 < len(items) else None
            count = last - first + 1
            step = POSITION_GAP if hi is None else (hi - lo) // (count + 1)
            if step < 1 or lo < 0:
                self._write_all(key, table)  # no room left between the neighbours
                return
            for k in range(count):
                it = items[first + k]
                positions[it.id] = lo + step * (k + 1)
                if not it.dynamic:
                    rows.append((key, it.id, positions[it.id], int(it.default), _props(it)))
            run_start = n
        db.executemany(
            "INSERT OR REPLACE INTO items (menu, id, position, is_default, props)"
            " VALUES (?, ?, ?, ?, ?)",
            rows,
        )

    def _write(self, new: Config, old: Config | None) -> None:
        db = self._db
        if old is not None and (new.dialect != old.dialect or self._rewrite):
            # a conversion: the tables mean something else now; rewrite every one of them
            db.execute("DELETE FROM items")
            db.execute("DELETE FROM counters")
            db.execute("INSERT OR REPLACE INTO meta VALUES ('dialect', ?)", (new.dialect,))
            self._positions = {}
            self._counted = set()
            self._unsaved = set()
            old = None
        for path, table in new.tables.items():
            before = old.tables.get(path) if old else None
            key = _menu_key(path)
            if before is None or path in self._unsaved:
                self._write_all(key, table)
                self._unsaved.discard(path)
            elif table.touched:
                self._write_changes(key, table)
            if before is None or before.next_id != table.next_id or key not in self._counted:
                db.execute("INSERT OR REPLACE INTO counters VALUES (?, ?)", (key, table.next_id))
                self._counted.add(key)

    def replace(self, config: Config) -> None:
        """Make ``config`` (tables and dialect) the whole stored configuration, atomically:
        what a dialect conversion and an import in the other dialect commit."""
        new = config.copy()

        def change(current: Config) -> None:
            current.tables = new.tables
            current.dialect = new.dialect
            for table in current.tables.values():  # every row is written again
                table.touched.update(item.id for item in table)

        self._rewrite = True
        try:
            self.transaction(change)
        finally:
            self._rewrite = False

    def transaction(self, change: Callable[[Config], T]) -> T:
        """Run ``change`` on a copy of the configuration and commit what it changed, atomically.

        If ``change`` raises, nothing is written and the exception propagates.
        """
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        wrote = False
        try:
            old = self._read()
            new = old.copy()
            result = change(new)
            changed = (
                self._rewrite
                or new.dialect != old.dialect
                or any(
                    p not in old.tables
                    or old.tables[p].next_id != table.next_id
                    or (bool(table.touched) and old.tables[p].items != table.items)
                    for p, table in new.tables.items()
                )
            )
            generation = self._generation
            if changed:
                wrote = True
                self._write(new, old)
                db.execute(
                    "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='generation'"
                )
                generation = self._current_generation()  # still inside our write lock
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            if wrote:  # the in-memory positions may be ahead of the database: read again
                self._cache = None
            raise
        if changed:
            self._install(new, generation)
        return result
