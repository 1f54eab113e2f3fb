"""Security policy records (RFC 4301 §4.4.1) with RouterOS `/ip ipsec policy` semantics.

One RouterOS policy describes traffic in the outbound direction (``src`` is the local side) and
covers the matching inbound traffic as well, with the selectors mirrored, as an XFRM policy
pair does. These records are what the configuration compiles to and what the SPD indexes.
"""

from __future__ import annotations

import enum
import ipaddress
import itertools
from dataclasses import dataclass

from pyipsec.fastinit import fast_init

# Change counters of the SPD and the SAD (``generation``) come from this one sequence, so a
# value never repeats across objects: a cache keyed by it cannot mistake a new table for an
# old one.
GENERATIONS = itertools.count(1)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
AddressKey = int | tuple[int, str | None]


def address_key(address: IPAddress) -> AddressKey:
    """A dict key for ``address``: two keys are equal exactly when the addresses are (``==``:
    same version, value and, for IPv6, scope id; an IPv4 address is an int, an IPv6 one a
    tuple, so they never meet). Hashing an address runs Python (``hash(hex(int(ip)))``), this
    key hashes in C: a dict lookup costs ~105 ns with the key made instead of ~140 ns, and
    one by (protocol, SPI, address) ~155 ns instead of ~190 ns (measured, Python 3.11)."""
    if isinstance(address, ipaddress.IPv4Address):
        return int(address)
    return (int(address), address.scope_id)


class Action(enum.Enum):
    """`action=`: what to do with matching traffic."""

    ENCRYPT = "encrypt"
    DISCARD = "discard"
    NONE = "none"  # pass in clear


class Level(enum.Enum):
    """`level=`: what to do when no SA exists for an encrypt policy."""

    REQUIRE = "require"  # drop and ask IKE for an SA
    USE = "use"  # pass in clear, don't ask
    UNIQUE = "unique"  # like require, with SAs of this policy's own


class Mode(enum.Enum):
    TUNNEL = "tunnel"
    TRANSPORT = "transport"


class Direction(enum.Enum):
    OUT = "out"
    IN = "in"


@dataclass(frozen=True, slots=True, kw_only=True)
class Selector:
    """The packet fields a policy matches on (RFC 4301 §4.4.1.1), for one direction."""

    src: IPAddress
    dst: IPAddress
    protocol: int  # IP protocol number of the upper layer (after extension headers)
    src_port: int | None = None  # None: not applicable (no ports in this protocol)
    dst_port: int | None = None


@fast_init  # keyword construction ~50 ns less per field (pyipsec.fastinit)
@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """One SPD entry, as written in the outbound direction."""

    id: int  # stable identity (the configuration's .id)
    src: IPNetwork
    dst: IPNetwork
    src_port: int | None = None  # None = any
    dst_port: int | None = None
    protocol: int | None = None  # None = all
    action: Action = Action.ENCRYPT
    level: Level = Level.REQUIRE
    ah: bool = False  # ipsec-protocols contains ah
    esp: bool = True  # ipsec-protocols contains esp
    tunnel: bool = False
    sa_src: IPAddress | None = None  # None = 0.0.0.0 / :: (pick automatically)
    sa_dst: IPAddress | None = None
    priority: int = 0  # v5 ordering: higher priority is evaluated first
    proposal: str = "default"
    manual_sa: str | None = None

    @property
    def mode(self) -> Mode:
        return Mode.TUNNEL if self.tunnel else Mode.TRANSPORT
