"""The declarative menu schema: one description per RouterOS menu drives everything.

A :class:`Menu` lists its :class:`Property` declarations (codec, default, print/export
behaviour, references to other menus), its print flags, its default items and its extra
commands. Parsing, validation, defaults, ``print``, ``export``, completion and ``?`` help all
read this data; no front-end hard-codes a property.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pyipsec.config.types import Text, ValueType


class MenuKind(enum.Enum):
    """How a menu holds its data."""

    LIST = "list"  # configured items with .id (policy, peer, ...)
    SINGLE = "single"  # one configured item printed settings-style (/system identity)
    RUNTIME_LIST = "runtime-list"  # read-only rows from the runtime provider
    RUNTIME_SINGLE = "runtime-single"  # read-only counters (statistics)


@dataclass(frozen=True, slots=True, kw_only=True)
class Property:
    """One property of a menu.

    ``default`` is canonical text, or None for an optional property that is simply absent
    until set (and can be ``unset``). ``ref`` names the menu whose item names are valid
    values (besides ``ref_keywords`` such as ``none``).
    """

    name: str
    type: ValueType = field(default_factory=Text)
    default: str | None = None
    readonly: bool = False
    sensitive: bool = False
    ref: tuple[str, ...] | None = None
    ref_keywords: tuple[str, ...] = ()
    hide_default: bool = False  # print shows it only when set to a non-default value
    quoted: bool = False  # print always double-quotes it (name="default", secret="...")
    print_unset: str | None = None  # what print shows while unset (local-address=::)
    required: bool = False  # `add` without it fails
    # write-only secret: the command layer stores a salted hash under ``_<name>`` instead
    # (``/user password=``, mgmt/passwords.py); never printed, exported or compared in clear
    hashed: bool = False
    description: str = ""

    @property
    def unsettable(self) -> bool:
        """Whether ``unset`` applies (optional properties without a default)."""
        return self.default is None and not (self.readonly or self.required or self.hashed)


@dataclass(frozen=True, slots=True, kw_only=True)
class Flag:
    """A print flag: ``letter`` shown when the item's ``name`` flag/property is set (or the
    boolean property ``source`` names, when the flag is named otherwise: v7 peers show
    ``R - responder`` for ``passive=yes``)."""

    letter: str
    name: str
    source: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandArg:
    """An argument of a menu-specific command (``generate-key key-size=``)."""

    name: str
    type: ValueType = field(default_factory=Text)
    default: str | None = None
    required: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class MenuCommand:
    """A menu-specific command such as ``flush`` or ``generate-key``."""

    name: str
    args: tuple[CommandArg, ...] = ()
    description: str = ""


# (value) -> replacement property assignments, for legacy property names in old exports.
LegacyRule = Callable[[str], tuple[tuple[str, str], ...]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Menu:
    """A RouterOS menu."""

    path: tuple[str, ...]
    kind: MenuKind
    properties: tuple[Property, ...]
    description: str = ""
    flags: tuple[tuple[Flag, ...], ...] = ()
    print_order: tuple[str, ...] = ()
    # flag name -> print order used for items with that flag (template policies)
    print_variants: tuple[tuple[str, tuple[str, ...]], ...] = ()
    brief_columns: tuple[str, ...] = ()
    key: str | None = None  # the name property of named menus
    auto_name: str = ""  # prefix for names given by `add` without name= (proposal1, ...)
    default_items: tuple[Mapping[str, str], ...] = ()
    default_ref: str = "[ find default=yes ]"  # how exports address a default item
    default_thing: str = ""  # "proposal" in "can not remove default proposal"
    ordered: bool = False  # place-before and move are meaningful
    generic_commands: tuple[str, ...] = ()
    commands: tuple[MenuCommand, ...] = ()
    export_rank: int = 0  # sections are exported in increasing rank; 0 = never exported
    line_format: str = ""  # plain `print` renders each row as this str.format line (`/log`)
    table_print: bool = False  # plain `print` is the brief table (`/ip pool`, as RouterOS)
    legacy: Mapping[str, LegacyRule] = field(default_factory=dict)
    dialect: str = "v6"  # the console dialect whose print/export style the menu follows
    _by_name: Mapping[str, Property] = field(init=False, compare=False, repr=False)
    _flag_names: tuple[str, ...] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {p.name: p for p in self.properties})
        object.__setattr__(self, "_flag_names", tuple(f.name for g in self.flags for f in g))

    @property
    def name(self) -> str:
        return "/" + " ".join(self.path)

    def prop(self, name: str) -> Property:
        """The property called ``name`` (KeyError if none)."""
        return self._by_name[name]

    def has(self, name: str) -> bool:
        return name in self._by_name

    @property
    def flag_names(self) -> tuple[str, ...]:
        return self._flag_names

    def flag_source(self, name: str) -> str:
        """The property that sets flag ``name`` (itself unless the flag says otherwise)."""
        for group in self.flags:
            for f in group:
                if f.name == name and f.source:
                    return f.source
        return name

    @property
    def writable(self) -> tuple[Property, ...]:
        return tuple(p for p in self.properties if not p.readonly)

    def order_for(self, flags: frozenset[str]) -> tuple[str, ...]:
        """Print order for an item with ``flags`` set."""
        for flag, order in self.print_variants:
            if flag in flags:
                return order
        return self.print_order

    @property
    def is_list(self) -> bool:
        return self.kind in (MenuKind.LIST, MenuKind.RUNTIME_LIST)

    @property
    def is_runtime(self) -> bool:
        return self.kind in (MenuKind.RUNTIME_LIST, MenuKind.RUNTIME_SINGLE)

    def all_commands(self) -> tuple[str, ...]:
        return self.generic_commands + tuple(c.name for c in self.commands)

    def command(self, name: str) -> MenuCommand | None:
        for c in self.commands:
            if c.name == name:
                return c
        return None


LIST_COMMANDS = (
    "add", "set", "unset", "remove", "enable", "disable", "comment", "move", "find", "get",
    "print", "export",
)  # fmt: skip
SINGLE_COMMANDS = ("set", "get", "print", "export")
RUNTIME_LIST_COMMANDS = ("find", "get", "print")
RUNTIME_SINGLE_COMMANDS = ("get", "print")
