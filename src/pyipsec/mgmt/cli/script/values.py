"""Script values: the RouterOS data types, their ``:typeof`` names and their text forms.

=============  =====================================  ==========================================
``:typeof``    Python value                           text (``:put``, ``:tostr``)
=============  =====================================  ==========================================
str            ``str``                                itself
num            ``int`` (64-bit signed)                decimal
bool           ``bool``                               ``true`` / ``false``
time           :class:`Duration` (nanoseconds)        ``01:30:00``, ``1d02:00:00``, ``1w00:00:00``
ip / ip6       ``IPv4Address`` / ``IPv6Address``      ``10.0.0.1``
ip-prefix /    ``IPv4Network`` / ``IPv6Network``      ``10.0.0.0/8``
ip6-prefix
id             :class:`ItemId`                        ``*1A``
array          :class:`Array`                         elements joined by ``;`` (``a=1;b=2``)
code           :class:`Code`                          its source
nil            ``NIL`` (declared, no value)           empty
nothing        ``NOTHING`` (undefined, no result)     empty
=============  =====================================  ==========================================

An unquoted literal takes the type it looks like (:func:`infer`); a quoted one is a string.
Values given to menu commands become argument text (:func:`arg_text`): booleans ``yes``/``no``,
times in RouterOS's short form (``1h30m``), arrays joined by ``;`` (``set [find] ...``).
"""

from __future__ import annotations

import enum
import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Union

from pyipsec.config.types import format_seconds

if TYPE_CHECKING:
    from pyipsec.mgmt.cli.script.ast import Command

NS = 1_000_000_000
INT_MIN, INT_MAX = -(1 << 63), (1 << 63) - 1


class ScriptError(Exception):
    """A run-time error of a script; ``message`` is what the console prints."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Empty(enum.Enum):
    NIL = "nil"
    NOTHING = "nothing"


NIL = Empty.NIL
NOTHING = Empty.NOTHING


@dataclass(frozen=True, slots=True, order=True)
class Duration:
    ns: int


@dataclass(frozen=True, slots=True, order=True)
class ItemId:
    n: int

    def __str__(self) -> str:
        return f"*{self.n:X}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Code:
    """A function (``do={...}``, ``:parse``): its commands and source text."""

    commands: tuple[Command, ...]
    raw: str


@dataclass(slots=True)
class Array:
    """An array: numbered elements first, then named ones in key order (as RouterOS keeps
    them)."""

    items: list[Value] = field(default_factory=list)
    named: dict[str, Value] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.items) + len(self.named)

    def pairs(self) -> Iterator[tuple[Value, Value]]:
        yield from enumerate(self.items)
        for k in sorted(self.named):
            yield k, self.named[k]

    def values(self) -> list[Value]:
        return [v for _, v in self.pairs()]

    def get(self, key: Value) -> Value:
        if isinstance(key, int) and not isinstance(key, bool):
            return self.items[key] if 0 <= key < len(self.items) else NOTHING
        return self.named.get(to_str(key), NOTHING)

    def put(self, key: Value, value: Value) -> None:
        if isinstance(key, int) and not isinstance(key, bool):
            if 0 <= key < len(self.items):
                self.items[key] = value
            elif key == len(self.items):
                self.items.append(value)
            else:
                self.named[str(key)] = value
            return
        self.named[to_str(key)] = value

    def copy(self) -> Array:
        return Array(list(self.items), dict(self.named))


Ip = ipaddress.IPv4Address | ipaddress.IPv6Address
Prefix = ipaddress.IPv4Network | ipaddress.IPv6Network
Value = Union[str, int, bool, Duration, Ip, Prefix, ItemId, Array, Code, Empty]  # noqa: UP007


def typeof(value: Value) -> str:
    """The ``:typeof`` name of a value."""
    match value:
        case bool():
            return "bool"
        case int():
            return "num"
        case str():
            return "str"
        case Duration():
            return "time"
        case ipaddress.IPv4Address():
            return "ip"
        case ipaddress.IPv6Address():
            return "ip6"
        case ipaddress.IPv4Network():
            return "ip-prefix"
        case ipaddress.IPv6Network():
            return "ip6-prefix"
        case ItemId():
            return "id"
        case Array():
            return "array"
        case Code():
            return "code"
        case Empty():
            return value.value
    raise TypeError(value)  # pragma: no cover


def format_time(ns: int) -> str:
    """``:put`` form of a time: ``01:30:00``, ``1d02:00:00``, ``2w1d00:00:00``, ``00:00:00.5``."""
    sign = "-" if ns < 0 else ""
    seconds, frac = divmod(abs(ns), NS)
    weeks, rest = divmod(seconds, 7 * 86400)
    days, rest = divmod(rest, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    head = (f"{weeks}w" if weeks else "") + (f"{days}d" if days else "")
    tail = f".{frac:09d}".rstrip("0") if frac else ""
    return f"{sign}{head}{hours:02d}:{minutes:02d}:{secs:02d}{tail}"


def to_str(value: Value) -> str:
    """The text ``:put`` and ``:tostr`` give (and string concatenation uses)."""
    match value:
        case bool():
            return "true" if value else "false"
        case str():
            return value
        case Duration():
            return format_time(value.ns)
        case Array():
            return ";".join(
                to_str(v) if isinstance(k, int) else f"{k}={to_str(v)}" for k, v in value.pairs()
            )
        case Code():
            return value.raw
        case Empty():
            return ""
    return str(value)


def arg_text(value: Value) -> str:
    """A value as an argument of a menu command."""
    match value:
        case bool():
            return "yes" if value else "no"
        case Duration():
            if value.ns % NS == 0 and value.ns >= 0:
                return format_seconds(value.ns // NS)
            return format_time(value.ns)
        case Array():
            return ";".join(arg_text(v) for v in value.values())
    return to_str(value)


_UNITS = {"w": 7 * 86400 * NS, "d": 86400 * NS, "h": 3600 * NS, "m": 60 * NS, "s": NS}
_UNITS.update({"ms": 1_000_000, "us": 1000, "ns": 1})
_UNIT_TIME = re.compile(r"(?:\d+(?:ms|us|ns|w|d|h|m|s))+")
_UNIT_PART = re.compile(r"(\d+)(ms|us|ns|w|d|h|m|s)")
_CLOCK = re.compile(r"((?:\d+[wd])*)(\d+):(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?")


def parse_time(text: str) -> int | None:
    """Nanoseconds in a script time literal (``1h30m``, ``500ms``, ``1d01:00:00``), or None."""
    negative = text.startswith("-")
    body = text[1:] if negative else text
    total: int | None = None
    if _UNIT_TIME.fullmatch(body):
        total = sum(int(n) * _UNITS[u] for n, u in _UNIT_PART.findall(body))
    else:
        m = _CLOCK.fullmatch(body)
        if m:
            days = sum(int(n) * _UNITS[u] for n, u in _UNIT_PART.findall(m.group(1)))
            frac = int((m.group(5) or "0").ljust(9, "0"))
            secs = int(m.group(2)) * 3600 + int(m.group(3)) * 60 + int(m.group(4) or 0)
            total = days + secs * NS + frac
    if total is None:
        return None
    return -total if negative else total


_NUM = re.compile(r"-?(?:0x[0-9A-Fa-f]+|\d+)")


def parse_num(text: str) -> int | None:
    if not _NUM.fullmatch(text):
        return None
    n = int(text, 16) if "0x" in text else int(text)
    return n if INT_MIN <= n <= INT_MAX else None


def parse_ip(text: str) -> Ip | Prefix | None:
    """An address or a prefix (host bits cleared), or None."""
    if "/" in text:
        try:
            return ipaddress.ip_network(text, strict=False)
        except ValueError:
            return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def infer(text: str) -> Value:
    """The value of an unquoted literal: the type it looks like, else a string."""
    if text in ("true", "false"):
        return text == "true"
    num = parse_num(text)
    if num is not None:
        return num
    if re.fullmatch(r"\*[0-9A-Fa-f]+", text):
        return ItemId(int(text[1:], 16))
    if re.fullmatch(r"[\d.]+(?:/\d+)?|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(?:/\d+)?", text):
        ip = parse_ip(text)
        if ip is not None:
            return ip
    ns = parse_time(text)
    if ns is not None:
        return Duration(ns)
    return text


def to_bool(value: Value) -> bool | Empty:
    """``:tobool``: booleans, ``true``/``false``/``yes``/``no``, numbers (non-zero)."""
    match value:
        case bool():
            return value
        case int():
            return value != 0
        case str():
            found = {"true": True, "yes": True, "false": False, "no": False}.get(value)
            if found is not None:
                return found
            num = parse_num(value)
            return num != 0 if num is not None else NIL
    return NIL


def to_num(value: Value) -> int | Empty:
    match value:
        case bool():
            return int(value)
        case int():
            return value
        case str():
            num = parse_num(value.strip())
            return num if num is not None else NIL
        case Duration():
            return value.ns // NS
        case ipaddress.IPv4Address() | ipaddress.IPv6Address():
            return int(value)
        case ItemId():
            return value.n
    return NIL


def to_time(value: Value) -> Duration | Empty:
    match value:
        case Duration():
            return value
        case bool():
            return NIL
        case int():
            return Duration(value * NS)
        case str():
            ns = parse_time(value)
            if ns is None:
                num = parse_num(value)
                return Duration(num * NS) if num is not None else NIL
            return Duration(ns)
    return NIL


def to_ip(value: Value, version: int) -> Value:
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return value if value.version == version else NIL
    if isinstance(value, str):
        found = parse_ip(value)
        if isinstance(found, ipaddress.IPv4Address | ipaddress.IPv6Address):
            return found if found.version == version else NIL
    return NIL


def to_id(value: Value) -> ItemId | Empty:
    if isinstance(value, ItemId):
        return value
    if isinstance(value, str) and re.fullmatch(r"\*[0-9A-Fa-f]+", value):
        return ItemId(int(value[1:], 16))
    return NIL


def to_array(value: Value) -> Array:
    """``:toarray``: an array as is, a string split at commas, anything else one element."""
    match value:
        case Array():
            return value
        case Empty():
            return Array()
        case str():
            return Array(list[Value](value.split(",")) if value else [])
    return Array([value])
