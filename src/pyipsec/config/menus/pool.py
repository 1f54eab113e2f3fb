"""``/ip pool``: named IPv4 address ranges; mode-config ``address-pool=`` hands addresses out of
one (and its ``next-pool`` when it runs dry).

Properties as RouterOS documents them (Manual:IP/Pools, help.mikrotik.com "IP Pools"): ``name``,
``ranges`` (``from1-to1,from2-to2,...``: non-overlapping; a single address is a range of one),
``next-pool`` and ``comment``. ``/ip pool used`` lists the leases (read-only): pyipsec's
mode-config hands none out yet, so it prints nothing.
"""

from __future__ import annotations

import ipaddress
import itertools
from dataclasses import dataclass, replace

from pyipsec.config.menus.ipsec import Name
from pyipsec.config.schema import LIST_COMMANDS, RUNTIME_LIST_COMMANDS, Menu, MenuKind, Property
from pyipsec.config.types import ValueProblem

POOL = ("ip", "pool")
POOL_USED = ("ip", "pool", "used")


def parse_ranges(text: str) -> list[tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]]:
    """``[(first, last)]`` of a ``ranges`` value; ValueProblem when malformed, reversed or
    overlapping."""
    out: list[tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]] = []
    for part in text.split(","):
        first_text, dash, last_text = part.partition("-")
        try:
            if "/" in part and not dash:  # 10.0.0.0/29: every address of the prefix
                net = ipaddress.IPv4Network(part, strict=False)
                first, last = net[0], net[-1]
            else:
                first = ipaddress.IPv4Address(first_text)
                last = ipaddress.IPv4Address(last_text) if dash else first
        except ValueError as exc:
            raise ValueProblem(text) from exc
        if last < first:
            raise ValueProblem(text)
        out.append((first, last))
    for (_, end), (start, _) in itertools.pairwise(sorted(out)):
        if start <= end:
            raise ValueProblem(text)
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Ranges:
    """``ranges=``: IPv4 ranges; canonical ``a-b`` (``a`` for a range of one address)."""

    kind: str = "ranges"

    def parse(self, text: str) -> str:
        if text == "":
            raise ValueProblem(text)
        return ",".join(
            str(first) if first == last else f"{first}-{last}" for first, last in parse_ranges(text)
        )

    def choices(self) -> tuple[str, ...]:
        return ()


POOL_MENU = Menu(
    path=POOL,
    kind=MenuKind.LIST,
    description="IP address pools (mode-config address-pool=)",
    properties=(
        Property(name="name", type=Name(), required=True),
        Property(name="ranges", type=Ranges(), required=True),
        Property(name="next-pool", ref=POOL, ref_keywords=("none",)),
        Property(name="comment", default=""),
    ),
    print_order=("name", "ranges", "next-pool"),
    brief_columns=("name", "ranges"),
    table_print=True,
    key="name",
    auto_name="pool",
    default_thing="pool",
    generic_commands=tuple(c for c in LIST_COMMANDS if c not in ("enable", "disable", "move")),
    export_rank=5,  # before /ip ipsec mode-config, whose address-pool= names a pool
)

POOL_USED_MENU = Menu(
    path=POOL_USED,
    kind=MenuKind.RUNTIME_LIST,
    description="addresses handed out from the pools (read-only)",
    properties=tuple(
        Property(name=n, readonly=True, default="") for n in ("pool", "address", "owner", "info")
    ),
    print_order=("pool", "address", "owner", "info"),
    brief_columns=("pool", "address", "owner", "info"),
    table_print=True,
    generic_commands=RUNTIME_LIST_COMMANDS,
)

MENUS = (POOL_MENU, POOL_USED_MENU)
# RouterOS 7 has the same menus; they print as v7 does (`Columns:` tables).
MENUS_V7 = tuple(replace(m, dialect="v7") for m in MENUS)
