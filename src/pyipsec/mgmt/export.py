"""``export``: the configuration as a RouterOS script (reference §3.6).

Compact (default) writes only values that differ from the schema default; ``verbose`` writes
every configured value; ``hide-sensitive`` drops secrets (a RouterOS 7 export drops them unless
``show-sensitive``, as RouterOS 7 does, reference §3.6). Properties are sorted alphabetically,
default items are addressed as ``set [ find default=yes ]`` (``set 0`` for the default
policy), and lines wrap RouterOS-style: at most 78 characters including the trailing ``\\``,
continuation lines indented by four spaces, a break after ``name=`` when the whole pair does not
fit but the name does.
"""

from __future__ import annotations

import re
from datetime import datetime

from pyipsec import __version__
from pyipsec.config.convert import ConversionError, convert
from pyipsec.config.menus import DIALECTS, menus_under
from pyipsec.config.menus.ipsec import (
    MODE_CONFIG,
    MODE_CONFIG_INITIATOR_VERBOSE,
    VERBOSE_HIDDEN_V6,
)
from pyipsec.config.menus.ipsec7 import (
    COMPACT_DEFAULT_BASELINE,
    V7,
    VERBOSE_AS_PRINTED,
    VERBOSE_HIDDEN,
)
from pyipsec.config.schema import Menu, MenuKind
from pyipsec.config.table import INTERNAL_PREFIX, Config, Item


class ExportError(Exception):
    """An export that cannot be written (``message`` is the console's text)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


LINE_LIMIT = 78
INDENT = "    "
_SAFE = re.compile(r"[A-Za-z0-9_.:/,*@+\-!%&~^|<>'()]+")
_ESCAPE = {'"': '\\"', "\\": "\\\\", "$": "\\$", "?": "\\?", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote(value: str) -> str:
    """``value`` as a script word: bare when safe, else double-quoted with escapes (a value
    starting with ``(`` too: there the console reads an expression)."""
    if value and _SAFE.fullmatch(value) and value[0] != "(":
        return value
    out = []
    for ch in value:
        if ch in _ESCAPE:
            out.append(_ESCAPE[ch])
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            out.extend(f"\\{b:02X}" for b in ch.encode())
    return '"' + "".join(out) + '"'


def _odd_backslashes(text: str) -> bool:
    return (len(text) - len(text.rstrip("\\"))) % 2 == 1


def wrap(head: str, pairs: list[tuple[str, str]]) -> list[str]:
    """One command as export lines: ``head`` then ``name=value`` words, wrapped."""
    lines: list[str] = []
    cur = head
    for name, value in pairs:
        word = f"{name}={value}"
        if len(cur) + 1 + len(word) + 2 <= LINE_LIMIT:
            cur = f"{cur} {word}"
            continue
        if len(cur) + 1 + len(name) + 2 <= LINE_LIMIT:
            lines.append(f"{cur} {name}=\\")
            rest = value
        else:
            lines.append(f"{cur} \\")
            rest = word
        room = LINE_LIMIT - len(INDENT) - 2
        while len(rest) > room:
            cut = room
            # a continuation line's leading blanks are dropped on import, and an escape
            # sequence's backslash must not end a line
            while cut > 1 and (rest[cut] in " \t" or _odd_backslashes(rest[:cut])):
                cut -= 1
            lines.append(f"{INDENT}{rest[:cut]}\\")
            rest = rest[cut:]
        cur = INDENT + rest
    lines.append(cur)
    return lines


def _default_baseline(menu: Menu, index: int) -> dict[str, str | None]:
    base: dict[str, str | None] = {p.name: p.default for p in menu.writable}
    if index < len(menu.default_items):
        base.update(menu.default_items[index])
    return base


def item_pairs(
    menu: Menu,
    item: Item,
    *,
    verbose: bool,
    hide_sensitive: bool,
    baseline: dict[str, str | None],
    compact_baseline: dict[str, str] | None = None,
) -> list[tuple[str, str]]:
    """The ``name=value`` pairs an export writes for ``item``, sorted by name.

    ``baseline``: the values the item has where it sets none; a compact export leaves out what
    equals ``compact_baseline`` (``baseline`` where it does not say)."""
    compare = {**baseline, **(compact_baseline or {})}
    v7 = menu.dialect == V7
    variants = tuple(f for f, _ in menu.print_variants) if v7 else ("template",)
    flags = frozenset(n for n in variants if item.values.get(n) == "yes")
    relevant = set(menu.order_for(flags)) | {"disabled", "comment"}
    if menu.key:
        relevant.add(menu.key)
    as_printed = v7 and menu.path in VERBOSE_AS_PRINTED
    if not v7 and menu.path == MODE_CONFIG and item.values.get("responder") != "yes":
        as_printed, relevant = True, {"comment", *MODE_CONFIG_INITIATOR_VERBOSE}
    hidden = (VERBOSE_HIDDEN if v7 else VERBOSE_HIDDEN_V6).get(menu.path, frozenset())
    pairs = []
    for prop in sorted(menu.writable, key=lambda p: p.name):
        if prop.name.startswith(INTERNAL_PREFIX) or (hide_sensitive and prop.sensitive):
            continue
        value = item.values.get(prop.name, baseline.get(prop.name))
        if value is None:
            continue
        if verbose:
            unset = prop.name not in item.values
            if (flags or as_printed) and prop.name not in relevant and unset:
                continue
            if prop.name in hidden and unset:
                continue
            if prop.name == "comment" and value == "":
                continue
        elif value == compare.get(prop.name):
            continue
        pairs.append((prop.name, quote(value)))
    return pairs


def _one_line(head: str, pairs: list[tuple[str, str]]) -> list[str]:
    return [" ".join([head, *(f"{n}={v}" for n, v in pairs)])]


def menu_lines(
    config: Config, menu: Menu, *, verbose: bool, hide_sensitive: bool, terse: bool = False
) -> list[str]:
    """Script lines of one menu (without its path header); empty when nothing to say.

    ``terse``: every command on one line, prefixed with the menu path, never wrapped."""
    layout = _one_line if terse else wrap
    prefix = menu.name + " " if terse else ""
    table = config.tables.get(menu.path)
    if table is None:
        return []
    lines: list[str] = []
    default_index = 0
    for item in table:
        if item.dynamic:
            continue
        if item.default:
            base = _default_baseline(menu, default_index) if menu.kind is MenuKind.LIST else {}
            if menu.kind is MenuKind.SINGLE:
                base = {p.name: p.default for p in menu.writable}
            compact = COMPACT_DEFAULT_BASELINE.get(menu.path) if default_index == 0 else None
            default_index += 1
            pairs = item_pairs(
                menu,
                item,
                verbose=verbose,
                hide_sensitive=hide_sensitive,
                baseline=base,
                compact_baseline=compact if menu.dialect == V7 else None,
            )
            if pairs or (verbose and menu.kind is MenuKind.LIST):
                head = "set" if menu.kind is MenuKind.SINGLE else f"set {menu.default_ref}"
                lines += layout(prefix + head, pairs)
            continue
        base = {p.name: p.default for p in menu.writable}
        pairs = item_pairs(
            menu, item, verbose=verbose, hide_sensitive=hide_sensitive, baseline=base
        )
        lines += layout(prefix + "add", pairs)
    return lines


def header(now: datetime, dialect: str = "v6") -> list[str]:
    """The comment lines an export starts with; RouterOS 7.10+ writes ISO dates (§3.6)."""
    if dialect == V7:
        stamp = now.strftime("%Y-%m-%d %H:%M:%S")
    else:
        stamp = now.strftime("%b/%d/%Y %H:%M:%S").lower()
    return [f"# {stamp} by pyipsec {__version__}", "# software id =", "#"]


def export_text(
    config: Config,
    path: tuple[str, ...],
    *,
    now: datetime,
    verbose: bool = False,
    hide_sensitive: bool = False,
    show_sensitive: bool = False,
    terse: bool = False,
    dialect: str | None = None,
) -> str:
    """The export of the subtree at ``path`` (``()`` = everything), with its header.

    ``dialect`` (``v6``/``v7``) writes the configuration converted to that dialect (the
    configuration itself is not changed); what it cannot say is an :class:`ExportError`."""
    if dialect is not None and dialect != config.dialect:
        if dialect not in DIALECTS:
            raise ExportError("input does not match any value of dialect")
        try:
            config = convert(config, dialect)
        except ConversionError as exc:
            raise ExportError(exc.message()) from exc
        if (
            path
            and path not in {m.path for m in menus_under((), dialect)}
            and not any(m.path[: len(path)] == path for m in menus_under((), dialect))
        ):
            raise ExportError(f"bad command name {path[-1]}")
    if config.dialect == V7 and not show_sensitive:
        hide_sensitive = True  # RouterOS 7 hides secrets unless asked (show-sensitive)
    lines = header(now, config.dialect)
    for menu in menus_under(path, config.dialect):
        body = menu_lines(config, menu, verbose=verbose, hide_sensitive=hide_sensitive, terse=terse)
        if body:
            if not terse:
                lines.append(menu.name)
            lines += body
    return "\n".join(lines) + "\n"
