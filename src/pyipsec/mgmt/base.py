"""What every front-end and the command layer share: errors, results, the session, and the
runtime-data interface a daemon plugs in.

Kept apart from mgmt/commands.py so that the menu-specific commands, the console, the RouterOS
API, REST and the web page import these without importing the command layer (and it them).
``mgmt.commands`` re-exports every name here, so ``from pyipsec.mgmt.commands import Session``
keeps working.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from pyipsec.config.menus.runtime import STATISTICS_COUNTERS
from pyipsec.config.schema import Menu, MenuKind
from pyipsec.config.store import Store
from pyipsec.config.table import Config, Item, parse_id

# Policies (RouterOS `/user group` policy names) a session may hold. None: every policy (the
# console of root on this machine, the control socket, tests).
FULL_POLICIES: frozenset[str] | None = None


class CommandError(Exception):
    """A command failed; ``message`` is RouterOS's text, ``arg`` the argument it concerns."""

    def __init__(self, message: str, *, arg: str | None = None, category: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.arg = arg
        self.category = category


class UnknownArgument(CommandError):
    """An argument the command does not take (console: ``expected end of command``)."""

    def __init__(self, arg: str) -> None:
        super().__init__("unknown parameter", arg=arg, category=0)


def no_such_item() -> CommandError:
    return CommandError("no such item", category=0)


# -- runtime data (a daemon supplies it; until then everything is empty)


@dataclass(frozen=True, slots=True, kw_only=True)
class RuntimeRow:
    """One row of a read-only runtime menu (installed-sa, remote-peers)."""

    id: int
    values: Mapping[str, str]
    flags: frozenset[str] = frozenset()


class RuntimeProvider(Protocol):
    """Live state a running daemon exposes to the command layer."""

    def rows(self, path: tuple[str, ...]) -> Sequence[RuntimeRow]:
        """Rows of a runtime list menu."""
        ...

    def counters(self, path: tuple[str, ...]) -> Mapping[str, int]:
        """Counters of a runtime single menu (statistics)."""
        ...

    def item_state(self, path: tuple[str, ...], item_id: int) -> Mapping[str, str]:
        """Read-only properties and flags of a configured item (``ph2-state``, ``active``)."""
        ...

    def dynamic_items(self, path: tuple[str, ...]) -> Sequence[Item]:
        """Dynamic items (``D``) of a configured menu, created at run time."""
        ...

    def flush_installed_sa(self, sa_type: str) -> None: ...

    def kill_connections(self) -> None: ...


class NullRuntime:
    """No daemon: no SAs, no peers, zero counters."""

    def rows(self, path: tuple[str, ...]) -> Sequence[RuntimeRow]:
        return ()

    def counters(self, path: tuple[str, ...]) -> Mapping[str, int]:
        return (
            dict.fromkeys(STATISTICS_COUNTERS, 0) if path == ("ip", "ipsec", "statistics") else {}
        )

    def item_state(self, path: tuple[str, ...], item_id: int) -> Mapping[str, str]:
        return {}

    def dynamic_items(self, path: tuple[str, ...]) -> Sequence[Item]:
        return ()

    def flush_installed_sa(self, sa_type: str) -> None:
        return None

    def kill_connections(self) -> None:
        return None


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True, kw_only=True)
class Session:
    """One console/API/REST/web session: the store, live data, the last print's numbering,
    and who is on the other end.

    ``user`` is the account name; ``policies`` the policies of its group (``None``: all of
    them, for the local console of root and the control socket). ``client`` names the
    front-end (``console``, ``api``, ``api-ssl``, ``rest``, ``web``) and ``address`` the
    remote address, as ``/user active print`` shows them. Authorisation is checked in one
    place, :func:`pyipsec.mgmt.auth.authorize`, called by ``dispatch``."""

    store: Store
    runtime: RuntimeProvider = field(default_factory=NullRuntime)
    files_dir: Path = field(default_factory=Path.cwd)
    now: Callable[[], datetime] = _utc_now
    user: str = "admin"
    policies: frozenset[str] | None = FULL_POLICIES
    client: str = "console"
    address: str = ""
    numbering: dict[tuple[str, ...], list[int]] = field(default_factory=dict)

    def may(self, policy: str) -> bool:
        """Whether the session's group has ``policy``."""
        return self.policies is None or policy in self.policies


# -- items and files, shared by the generic and the menu-specific commands


def listing(session: Session, config: Config, menu: Menu) -> list[Item]:
    """The items of a menu in print order (configured, then dynamic; runtime rows)."""
    if menu.kind is MenuKind.RUNTIME_LIST:
        return [Item(id=r.id, values=r.values) for r in session.runtime.rows(menu.path)]
    return list(config.table(menu.path)) + list(session.runtime.dynamic_items(menu.path))


def resolve(session: Session, config: Config, menu: Menu, spec: str) -> list[int]:
    """Item ids for a ``numbers`` spec: console numbers, ``*ids`` and names, separated by
    commas (or semicolons, as ``find`` returns lists)."""
    items = listing(session, config, menu)
    ids = {it.id for it in items}
    out: list[int] = []
    for part in (p.strip() for p in spec.replace(";", ",").split(",")):
        if not part:
            continue
        item_id = parse_id(part)
        if item_id is None and part.isdigit():
            numbers = session.numbering.get(menu.path)
            if numbers is None:
                numbers = [it.id for it in items]
            n = int(part)
            if n >= len(numbers):
                raise no_such_item()
            item_id = numbers[n]
        elif item_id is None:
            named = config.table(menu.path).by_name(part) if menu.key else None
            if named is None:
                raise no_such_item()
            item_id = named.id
        if item_id not in ids:
            raise no_such_item()
        if item_id not in out:
            out.append(item_id)
    return out


def first(ids: list[int]) -> int:
    """The first of resolved ids (``no such item`` if there is none)."""
    if not ids:
        raise no_such_item()
    return ids[0]


def _file_path(session: Session, name: str, *, write: bool = False) -> Path:
    """``name`` under the session's files directory; a name that leads out of it (``..``, an
    absolute path) is refused (``failure: bad file name``) for every write (``export file=``,
    ``print file=``, ``export-pub-key``: RouterOS keeps files in its own store, and a pasted
    script is untrusted input) and for reads by sessions with a login (API, REST, web). Root's
    console may still READ any path (``/import file-name=/path/x.rsc``)."""
    path = session.files_dir / name
    if write or session.policies is not None:
        base = session.files_dir.resolve()
        if not path.resolve().is_relative_to(base):
            raise CommandError("failure: bad file name", arg="file-name", category=4)
    return path


def write_file(session: Session, name: str, data: bytes, mode: int = 0o600) -> Path:
    """Write ``data`` to ``name`` under the session's files directory, with ``mode``."""
    path = _file_path(session, name, write=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    return path


def read_file(session: Session, name: str) -> bytes:
    path = _file_path(session, name)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CommandError("failure: no such file", arg="file-name", category=4) from exc


# -- results


@dataclass(frozen=True, slots=True, kw_only=True)
class PrintRow:
    """One printed item: console number, id, flags, and its values: every property that has
    a value (set or default) in print order, then the others (machine callers want them all;
    the console printer keeps what RouterOS's console shows, see ``console_values``)."""

    number: int
    id: int
    flags: frozenset[str]
    values: tuple[tuple[str, str], ...]
    comment: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PrintResult:
    """What ``print`` shows; ``mode`` is plain, detail, terse, brief, value-list, settings or
    count-only. ``proplist`` is the ``.proplist`` asked for (rows then hold those only)."""

    menu: Menu
    mode: str
    rows: tuple[PrintRow, ...] = ()
    count: int = 0
    proplist: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    """A command's outcome: ``ret`` (new id, get value, find ids), a print, or text.
    ``values``: named results (``/certificate import``'s counts): the console shows ``text``,
    the API sends them as words of ``!done``, REST as one JSON object in an array."""

    ret: str | None = None
    table: PrintResult | None = None
    text: str | None = None
    values: tuple[tuple[str, str], ...] | None = None


def console_values(menu: Menu, row: PrintRow) -> tuple[tuple[str, str], ...]:
    """The values RouterOS's console shows of a full row: the print order for the row's flags,
    unset ones as ``print_unset`` says, defaults hidden where the schema hides them."""
    have = dict(row.values)
    out = []
    for name in menu.order_for(row.flags):
        value = have.get(name)
        prop = menu.prop(name) if menu.has(name) else None
        if value is None and prop is not None:
            value = prop.print_unset
        if value is None:
            continue
        if prop is not None and prop.hide_default and value == prop.default:
            continue
        out.append((name, value))
    return tuple(out)


class WithRows:
    """A runtime provider that serves some runtime list menus from ``sources`` (``/user
    active`` from the accounts) and asks ``base`` for everything else."""

    def __init__(
        self,
        base: RuntimeProvider,
        sources: Mapping[tuple[str, ...], Callable[[], Sequence[RuntimeRow]]],
    ) -> None:
        self.base = base
        self.sources = dict(sources)

    def rows(self, path: tuple[str, ...]) -> Sequence[RuntimeRow]:
        source = self.sources.get(path)
        return source() if source is not None else self.base.rows(path)

    def counters(self, path: tuple[str, ...]) -> Mapping[str, int]:
        return self.base.counters(path)

    def item_state(self, path: tuple[str, ...], item_id: int) -> Mapping[str, str]:
        return self.base.item_state(path, item_id)

    def dynamic_items(self, path: tuple[str, ...]) -> Sequence[Item]:
        return self.base.dynamic_items(path)

    def flush_installed_sa(self, sa_type: str) -> None:
        self.base.flush_installed_sa(sa_type)

    def kill_connections(self) -> None:
        self.base.kill_connections()
