"""The menu tree: every :class:`~pyipsec.config.schema.Menu`, by path."""

from __future__ import annotations

from pyipsec.config.menus import ipsec, runtime, system
from pyipsec.config.schema import Menu

ALL_MENUS: tuple[Menu, ...] = ipsec.MENUS + runtime.MENUS + system.MENUS
MENUS: dict[tuple[str, ...], Menu] = {m.path: m for m in ALL_MENUS}


def _directories() -> frozenset[tuple[str, ...]]:
    dirs: set[tuple[str, ...]] = {()}
    for path in MENUS:
        for i in range(1, len(path)):
            dirs.add(path[:i])
    return frozenset(dirs)


# Every path a console can stand in (menus and their parent directories).
PATHS: frozenset[tuple[str, ...]] = _directories() | frozenset(MENUS)


def children(path: tuple[str, ...]) -> tuple[str, ...]:
    """Names of the sub-menus/directories directly under ``path``, sorted."""
    return tuple(
        sorted({p[len(path)] for p in PATHS if len(p) > len(path) and p[: len(path)] == path})
    )


def menus_under(path: tuple[str, ...]) -> tuple[Menu, ...]:
    """Menus at or below ``path`` in export order (only exported ones)."""
    found = [m for m in ALL_MENUS if m.path[: len(path)] == path and m.export_rank]
    return tuple(sorted(found, key=lambda m: m.export_rank))
