"""The menu trees: every :class:`~pyipsec.config.schema.Menu`, by path, per dialect.

Two dialects share one configuration model (docs/config.md, "Dialects"): ``v6`` (RouterOS 6.x
before 6.43, everything on the peer) and ``v7`` (RouterOS 7: profile + peer + identity).
``MENUS``/``ALL_MENUS`` are the 6.x tree (what a database without a dialect uses); code that
serves either dialect asks :func:`menus_for`.
"""

from __future__ import annotations

from functools import cache

from pyipsec.config.menus import ipsec, ipsec7, ipsec_users, pool, runtime, system, users
from pyipsec.config.schema import Menu

V6 = "v6"
V7 = ipsec7.V7
DIALECTS = (V6, V7)

ALL_MENUS: tuple[Menu, ...] = (
    ipsec.MENUS + ipsec_users.MENUS + pool.MENUS + runtime.MENUS + system.MENUS + users.MENUS
)
MENUS: dict[tuple[str, ...], Menu] = {m.path: m for m in ALL_MENUS}

# v7: its own ipsec menus; /ip pool, /certificate, /system identity and /log are the same.
_V7_ALL: tuple[Menu, ...] = ipsec7.MENUS + pool.MENUS_V7 + system.MENUS + users.MENUS
_TREES: dict[str, tuple[Menu, ...]] = {V6: ALL_MENUS, V7: _V7_ALL}


def all_menus(dialect: str = V6) -> tuple[Menu, ...]:
    """Every menu of ``dialect`` (KeyError for an unknown dialect)."""
    return _TREES[dialect]


@cache
def menus_for(dialect: str = V6) -> dict[tuple[str, ...], Menu]:
    """The menus of ``dialect`` by path (treat as read-only)."""
    return {m.path: m for m in _TREES[dialect]}


@cache
def paths(dialect: str = V6) -> frozenset[tuple[str, ...]]:
    """Every path a console can stand in (menus and their parent directories)."""
    menus = menus_for(dialect)
    dirs: set[tuple[str, ...]] = {()}
    for path in menus:
        for i in range(1, len(path)):
            dirs.add(path[:i])
    return frozenset(dirs) | frozenset(menus)


PATHS: frozenset[tuple[str, ...]] = paths(V6)


@cache
def children(path: tuple[str, ...], dialect: str = V6) -> tuple[str, ...]:
    """Names of the sub-menus/directories directly under ``path``, sorted."""
    n = len(path)
    return tuple(sorted({p[n] for p in paths(dialect) if len(p) > n and p[:n] == path}))


def menus_under(path: tuple[str, ...], dialect: str = V6) -> tuple[Menu, ...]:
    """Menus at or below ``path`` in export order (only exported ones)."""
    found = [m for m in _TREES[dialect] if m.path[: len(path)] == path and m.export_rank]
    return tuple(sorted(found, key=lambda m: m.export_rank))
