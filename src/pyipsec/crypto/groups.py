"""The key-exchange groups, by RouterOS name and by IANA id.

IANA "Transform Type 4 - Key Exchange Method Transform IDs" (IKEv2) and the IKEv1 "Group
Description" attribute (RFC 2409 Appendix A) share these numbers. ``GROUPS`` lists every group
this suite implements in IANA order:

    1 modp768   2 modp1024   3 ec2n155   4 ec2n185   5 modp1536
    14 modp2048 15 modp3072  16 modp4096 17 modp6144 18 modp8192
    19 ecp256   20 ecp384    21 ecp521   31 x25519
"""

from __future__ import annotations

import enum
from types import MappingProxyType

from .base import KeyExchangeGroup, UnknownAlgorithm
from .ec2n import EC2N_GROUPS
from .ecp import ECP_GROUPS, X25519_GROUP
from .modp import MODP_GROUPS


class KeyExchangeMethod(enum.IntEnum):
    """IANA IKEv2 Transform Type 4 ids of the groups implemented here (RFC 7296 §3.3.2)."""

    MODP_768 = 1
    MODP_1024 = 2
    EC2N_155 = 3
    EC2N_185 = 4
    MODP_1536 = 5
    MODP_2048 = 14
    MODP_3072 = 15
    MODP_4096 = 16
    MODP_6144 = 17
    MODP_8192 = 18
    ECP_256 = 19
    ECP_384 = 20
    ECP_521 = 21
    CURVE25519 = 31


GROUPS: tuple[KeyExchangeGroup, ...] = tuple(
    sorted((*MODP_GROUPS, *EC2N_GROUPS, *ECP_GROUPS, X25519_GROUP), key=lambda g: g.id)
)

_BY_NAME = MappingProxyType({g.name: g for g in GROUPS})
_BY_ID = MappingProxyType({g.id: g for g in GROUPS})


def group(name: str) -> KeyExchangeGroup:
    """The group with this RouterOS name (``"modp2048"``, ``"ecp256"``, ``"x25519"``, ...)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownAlgorithm(f"unknown key exchange group {name!r}") from None


def group_by_id(id: int) -> KeyExchangeGroup:
    """The group with this IANA Transform Type 4 id / IKEv1 Group Description value."""
    try:
        return _BY_ID[id]
    except KeyError:
        raise UnknownAlgorithm(f"unknown key exchange group id {id}") from None
