"""RouterOS value codecs: text as typed on the console <-> canonical text as printed/exported.

Every configured value is kept as its canonical RouterOS text (``30m``, ``yes``,
``10.0.0.0/24``, ``aes-128,3des``); a codec's :meth:`ValueType.parse` turns whatever a user
may type into that canonical form or raises :class:`ValueProblem`, whose RouterOS error text
names the property. Canonical text makes storage, printing and export trivial, and
``decode`` helpers give typed values to the code that needs them (verify, compile).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


class ValueProblem(ValueError):
    """A value a codec rejects; ``message(prop)`` is RouterOS's error text for it."""

    template = "invalid value for argument {prop}"

    def message(self, prop: str) -> str:
        return self.template.format(prop=prop)


class NoMatch(ValueProblem):
    """The value is not one of the menu's choices."""

    template = "input does not match any value of {prop}"


class OutOfRange(ValueProblem):
    """An integer outside the allowed range."""

    def __init__(self, lo: int, hi: int) -> None:
        super().__init__(f"{lo}..{hi}")
        self.lo = lo
        self.hi = hi

    def message(self, prop: str) -> str:
        return f"value of {prop} out of range ({self.lo}..{self.hi})"


class ValueType(Protocol):
    """A RouterOS value codec."""

    @property
    def kind(self) -> str:
        """Short type name: text, bool, enum, multi, int, time, address, prefix, ..."""
        ...

    def parse(self, text: str) -> str:
        """Canonical text for ``text``, or raise :class:`ValueProblem`."""
        ...

    def choices(self) -> tuple[str, ...]:
        """Values offered by completion and ``?`` help (empty for free-form types)."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Text:
    """Free text (names, comments, secrets); any string is canonical as typed."""

    max_length: int = 4096
    kind: str = "text"

    def parse(self, text: str) -> str:
        if len(text) > self.max_length:
            raise ValueProblem(text)
        return text

    def choices(self) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Enum:
    """One of a fixed list; ``aliases`` map legacy spellings to a canonical value."""

    values: tuple[str, ...]
    aliases: Mapping[str, str] = field(default_factory=dict)
    kind: str = "enum"

    def parse(self, text: str) -> str:
        if text in self.values:
            return text
        if text in self.aliases:
            return self.aliases[text]
        raise NoMatch(text)

    def choices(self) -> tuple[str, ...]:
        return self.values


@dataclass(frozen=True, slots=True, kw_only=True)
class Bool:
    """``yes`` | ``no`` (``true``/``false`` accepted, as the API sends them)."""

    kind: str = "bool"

    def parse(self, text: str) -> str:
        value = {"yes": "yes", "no": "no", "true": "yes", "false": "no"}.get(text)
        if value is None:
            raise NoMatch(text)
        return value

    def choices(self) -> tuple[str, ...]:
        return ("yes", "no")


@dataclass(frozen=True, slots=True, kw_only=True)
class MultiEnum:
    """A comma-separated multiple choice (``aes-128,3des``); order kept, duplicates dropped."""

    values: tuple[str, ...]
    allow_empty: bool = False
    aliases: Mapping[str, str] = field(default_factory=dict)
    kind: str = "multi"

    def parse(self, text: str) -> str:
        if text == "":
            if self.allow_empty:
                return ""
            raise NoMatch(text)
        out: list[str] = []
        for part in text.split(","):
            value = self.aliases.get(part, part)
            if value not in self.values:
                raise NoMatch(text)
            if value not in out:
                out.append(value)
        return ",".join(out)

    def choices(self) -> tuple[str, ...]:
        return self.values


def _parse_int(text: str) -> int:
    try:
        if text.lower().startswith("0x"):
            return int(text[2:], 16)
        if not re.fullmatch(r"-?\d+", text):
            raise ValueProblem(text)
        return int(text)
    except ValueError as exc:
        raise ValueProblem(text) from exc


@dataclass(frozen=True, slots=True, kw_only=True)
class Int:
    """A decimal integer in ``lo..hi`` (``0x`` hex accepted); ``keywords`` such as ``any``."""

    lo: int
    hi: int
    keywords: tuple[str, ...] = ()
    kind: str = "int"

    def parse(self, text: str) -> str:
        if text in self.keywords:
            return text
        value = _parse_int(text)
        if not self.lo <= value <= self.hi:
            raise OutOfRange(self.lo, self.hi)
        return str(value)

    def choices(self) -> tuple[str, ...]:
        return self.keywords


_TIME_UNITS = (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
_TIME_RE = re.compile(r"(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_CLOCK_RE = re.compile(r"(?:(\d+)d)?\s*(\d+):(\d{1,2}):(\d{1,2})")


def parse_seconds(text: str) -> int:
    """Seconds in a RouterOS time (``1d2h3m4s``, ``1w``, ``90``, ``01:30:00``, ``2d 01:00:00``)."""
    if re.fullmatch(r"\d+", text):
        return int(text)
    m = _CLOCK_RE.fullmatch(text)
    if m:
        days, h, mi, s = (int(g) if g else 0 for g in m.groups())
        return days * 86400 + h * 3600 + mi * 60 + s
    m = _TIME_RE.fullmatch(text)
    if not text or not m:
        raise ValueProblem(text)
    return sum(int(g) * unit for g, (_, unit) in zip(m.groups(), _TIME_UNITS, strict=True) if g)


def format_seconds(seconds: int) -> str:
    """RouterOS time text: ``1w2d``, ``30m``, ``7h17m10s``, ``0s``."""
    if seconds == 0:
        return "0s"
    parts: list[str] = []
    for suffix, unit in _TIME_UNITS:
        n, seconds = divmod(seconds, unit)
        if n:
            parts.append(f"{n}{suffix}")
    return "".join(parts)


@dataclass(frozen=True, slots=True, kw_only=True)
class Time:
    """A duration in ``lo..hi`` seconds, optionally with keywords (``disable-dpd``)."""

    lo: int = 0
    hi: int = 4294967295
    keywords: tuple[str, ...] = ()
    kind: str = "time"

    def parse(self, text: str) -> str:
        if text in self.keywords:
            return text
        seconds = parse_seconds(text)
        if not self.lo <= seconds <= self.hi:
            raise ValueProblem(text)
        return format_seconds(seconds)

    def choices(self) -> tuple[str, ...]:
        return self.keywords


@dataclass(frozen=True, slots=True, kw_only=True)
class Address:
    """A single IPv4 or IPv6 address."""

    kind: str = "address"

    def parse(self, text: str) -> str:
        try:
            return str(ipaddress.ip_address(text))
        except ValueError as exc:
            raise ValueProblem(text) from exc

    def choices(self) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Prefix:
    """An IPv4/IPv6 prefix; a bare address means /32 (/128); host bits are cleared."""

    kind: str = "prefix"

    def parse(self, text: str) -> str:
        try:
            return str(ipaddress.ip_network(text, strict=False))
        except ValueError as exc:
            raise ValueProblem(text) from exc

    def choices(self) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ListOf:
    """A comma-separated list of values of another codec (``split-include``, ``static-dns``)."""

    item: Address | Prefix | Text
    kind: str = "list"

    def parse(self, text: str) -> str:
        if text == "":
            return ""
        return ",".join(self.item.parse(part) for part in text.split(","))

    def choices(self) -> tuple[str, ...]:
        return ()


# IP protocol names RouterOS accepts (firewall/ipsec `protocol=`), with their numbers.
PROTOCOLS: dict[str, int] = {
    "all": 255, "dccp": 33, "ddp": 37, "egp": 8, "encap": 98, "etherip": 97, "ggp": 3,
    "gre": 47, "hmp": 20, "icmp": 1, "icmpv6": 58, "idpr-cmtp": 38, "igmp": 2, "ipencap": 4,
    "ipip": 94, "ipsec-ah": 51, "ipsec-esp": 50, "ipv6-encap": 41,
    "ipv6-frag": 44, "ipv6-nonxt": 59, "ipv6-opts": 60, "ipv6-route": 43, "iso-tp4": 29,
    "l2tp": 115, "ospf": 89, "pim": 103, "pup": 12, "rdp": 27, "rspf": 73, "rsvp": 46,
    "sctp": 132, "st": 5, "tcp": 6, "udp": 17, "udp-lite": 136, "vmtp": 81, "vrrp": 112,
    "xns-idp": 22, "xtp": 36,
}  # fmt: skip
_PROTOCOL_NAMES = {n: name for name, n in reversed(PROTOCOLS.items()) if name != "all"}


@dataclass(frozen=True, slots=True, kw_only=True)
class IpProtocol:
    """``all``, an IP protocol name, or a number 0..255 (shown by name when it has one)."""

    kind: str = "protocol"

    def parse(self, text: str) -> str:
        if text in PROTOCOLS:
            return text
        if re.fullmatch(r"\d+", text):
            n = int(text)
            if n > 255:
                raise OutOfRange(0, 255)
            return _PROTOCOL_NAMES.get(n, str(n))
        raise NoMatch(text)

    def choices(self) -> tuple[str, ...]:
        return tuple(PROTOCOLS)


@dataclass(frozen=True, slots=True, kw_only=True)
class TaggedId:
    """``auto`` or ``<kind>:<value>`` identities (``my-id=user-fqdn:a@b``, ``address:1.2.3.4``)."""

    keywords: tuple[str, ...] = ("auto",)
    tags: tuple[str, ...] = ("address", "fqdn", "user-fqdn", "key-id")
    kind: str = "id"

    def parse(self, text: str) -> str:
        if text in self.keywords:
            return text
        tag, sep, value = text.partition(":")
        if not sep or tag not in self.tags or not value:
            raise NoMatch(text)
        if tag == "address":
            value = Address().parse(value)
        return f"{tag}:{value}"

    def choices(self) -> tuple[str, ...]:
        return self.keywords + tuple(t + ":" for t in self.tags)


@dataclass(frozen=True, slots=True, kw_only=True)
class Hex:
    """Hexadecimal key material (``0x`` prefix optional), canonically lower case, no prefix;
    ``pair`` accepts ``in/out`` (manual-sa keys and SPIs)."""

    pair: bool = False
    kind: str = "hex"

    def parse(self, text: str) -> str:
        parts = text.split("/") if self.pair else [text]
        if len(parts) > 2:
            raise ValueProblem(text)
        out = []
        for part in parts:
            digits = part[2:] if part.lower().startswith("0x") else part
            if not re.fullmatch(r"[0-9a-fA-F]*", digits) or len(digits) % 2:
                raise ValueProblem(text)
            out.append(digits.lower())
        return "/".join(out)

    def choices(self) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True, slots=True, kw_only=True)
class SpiPair:
    """A manual SA SPI, or ``in/out`` pair, each 0x100..0xFFFFFFFF, shown as ``0x...`` hex."""

    kind: str = "spi"

    def parse(self, text: str) -> str:
        parts = text.split("/")
        if len(parts) > 2:
            raise ValueProblem(text)
        out = []
        for part in parts:
            value = _parse_int(part)
            if not 0x100 <= value <= 0xFFFFFFFF:
                raise OutOfRange(0x100, 0xFFFFFFFF)
            out.append(f"0x{value:X}")
        return "/".join(out)

    def choices(self) -> tuple[str, ...]:
        return ()


# Typed views of canonical text for verify/compile.


def as_bool(text: str) -> bool:
    return text == "yes"


def as_list(text: str) -> list[str]:
    return [p for p in text.split(",") if p] if text else []


def as_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(text, strict=False)
