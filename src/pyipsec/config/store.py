"""SQLite persistence of the configuration (the only config module that does I/O).

Every command runs as one :meth:`Store.transaction`: ``BEGIN IMMEDIATE``, read the current
configuration, let the command change a copy, write the tables it changed, ``COMMIT``. A
command that raises changes nothing (rollback), and SQLite's journal guarantees that a process
killed in the middle of a write leaves the previous configuration. The database file is
created with mode 0600 (it holds secrets). A ``generation`` counter in ``meta`` lets a store
reuse its cached configuration when no other process wrote since.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pyipsec.config.menus import MENUS
from pyipsec.config.table import Config, Item, Table

T = TypeVar("T")

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


def _menu_key(path: tuple[str, ...]) -> str:
    return "/".join(path)


class Store:
    """A configuration database file (or ``:memory:``)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            parent = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(parent, mode=0o700, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            os.close(fd)
            os.chmod(self.path, 0o600)
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        self._db.execute("PRAGMA synchronous=FULL")
        self._cache: Config | None = None
        self._generation = -1
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
                self._write(Config.initial(), None)
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

    def _read(self) -> Config:
        generation = self._current_generation()
        if self._cache is not None and generation == self._generation:
            return self._cache
        config = Config.initial()
        counters = dict(self._db.execute("SELECT menu, next_id FROM counters").fetchall())
        rows = self._db.execute(
            "SELECT menu, id, is_default, props FROM items ORDER BY menu, position"
        ).fetchall()
        tables: dict[tuple[str, ...], Table] = {}
        for path, table in config.tables.items():
            key = _menu_key(path)
            tables[path] = Table(menu=table.menu, next_id=counters.get(key, table.next_id))
        for menu_key, item_id, is_default, props in rows:
            path = tuple(menu_key.split("/"))
            if path not in tables or path not in MENUS:
                continue  # a menu this version does not know
            tables[path].items.append(
                Item(id=item_id, values=json.loads(props), default=bool(is_default))
            )
        for path, table in tables.items():
            if not table.items and config.tables[path].items and _menu_key(path) not in counters:
                tables[path] = config.tables[path]  # menu new to this database: seed defaults
        self._cache = Config(tables=tables)
        self._generation = generation
        return self._cache

    def load(self) -> Config:
        """A copy of the current configuration."""
        self._db.execute("BEGIN")
        try:
            return self._read().copy()
        finally:
            self._db.execute("COMMIT")

    # -- writing

    def _write(self, new: Config, old: Config | None) -> None:
        db = self._db
        for path, table in new.tables.items():
            before = old.tables.get(path) if old else None
            if (
                before is not None
                and before.items == table.items
                and before.next_id == table.next_id
            ):
                continue
            key = _menu_key(path)
            db.execute("DELETE FROM items WHERE menu=?", (key,))
            db.executemany(
                "INSERT INTO items (menu, id, position, is_default, props) VALUES (?, ?, ?, ?, ?)",
                [
                    (key, it.id, pos, int(it.default), json.dumps(dict(it.values), sort_keys=True))
                    for pos, it in enumerate(table.items)
                    if not it.dynamic
                ],
            )
            db.execute("INSERT OR REPLACE INTO counters VALUES (?, ?)", (key, table.next_id))

    def transaction(self, change: Callable[[Config], T]) -> T:
        """Run ``change`` on a copy of the configuration and commit what it changed, atomically.

        If ``change`` raises, nothing is written and the exception propagates.
        """
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            old = self._read()
            new = old.copy()
            result = change(new)
            changed = any(
                old.tables[p].items != t.items or old.tables[p].next_id != t.next_id
                for p, t in new.tables.items()
            )
            generation = self._generation
            if changed:
                self._write(new, old)
                db.execute(
                    "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='generation'"
                )
                generation = self._current_generation()  # still inside our write lock
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            self._cache = None
            raise
        if changed:
            self._cache = new
            self._generation = generation
        return result
