"""The group table: names, IANA ids, sizes, lookups, and an exchange for every group."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable

import pytest

from pyipsec.crypto.base import KeyExchangeGroup, UnknownAlgorithm
from pyipsec.crypto.groups import GROUPS, KeyExchangeMethod, group, group_by_id


def seeded_rng(seed: int) -> Callable[[int], bytes]:
    """A deterministic byte source: SHA-256 in counter mode over the seed."""
    counter = itertools.count()
    buf = bytearray()

    def rng(n: int) -> bytes:
        while len(buf) < n:
            buf.extend(hashlib.sha256(f"{seed}:{next(counter)}".encode()).digest())
        out = bytes(buf[:n])
        del buf[:n]
        return out

    return rng


# (RouterOS name, IANA Transform Type 4 id, KE payload bytes): RFC 2409 §6, RFC 3526,
# RFC 5903 §7 (2 x field size), RFC 8031 (32), RFC 2409 §6.3/6.4 (x only).
EXPECTED = [
    ("modp768", 1, 96),
    ("modp1024", 2, 128),
    ("ec2n155", 3, 20),
    ("ec2n185", 4, 24),
    ("modp1536", 5, 192),
    ("modp2048", 14, 256),
    ("modp3072", 15, 384),
    ("modp4096", 16, 512),
    ("modp6144", 17, 768),
    ("modp8192", 18, 1024),
    ("ecp256", 19, 64),
    ("ecp384", 20, 96),
    ("ecp521", 21, 132),
    ("x25519", 31, 32),
]


def test_table_in_iana_order() -> None:
    assert [(g.name, g.id, g.public_size) for g in GROUPS] == EXPECTED
    assert [g.id for g in GROUPS] == sorted(g.id for g in GROUPS)
    assert [int(m) for m in KeyExchangeMethod] == [g.id for g in GROUPS]


@pytest.mark.parametrize("g", GROUPS, ids=lambda g: g.name)
def test_lookups(g: KeyExchangeGroup) -> None:
    assert group(g.name) is g
    assert group_by_id(g.id) is g
    assert group_by_id(KeyExchangeMethod(g.id)) is g


@pytest.mark.parametrize("bad", ["", "modp", "MODP1024", "ecp224", "x448", "none"])
def test_unknown_name(bad: str) -> None:
    with pytest.raises(UnknownAlgorithm):
        group(bad)
    with pytest.raises(KeyError):  # UnknownAlgorithm is also a KeyError
        group(bad)


@pytest.mark.parametrize("bad", [0, 6, 13, 22, 25, 32, 1024, -1])
def test_unknown_id(bad: int) -> None:
    with pytest.raises(UnknownAlgorithm):
        group_by_id(bad)


@pytest.mark.parametrize("g", GROUPS, ids=lambda g: g.name)
def test_every_group_exchanges(g: KeyExchangeGroup) -> None:
    a, b = g.new(seeded_rng(1)), g.new(seeded_rng(2))
    assert a.group == b.group == g.id
    assert len(a.public_value) == len(b.public_value) == g.public_size
    assert a.public_value != b.public_value
    secret = a.shared_secret(b.public_value)
    assert secret == b.shared_secret(a.public_value)
    assert secret != bytes(len(secret))
    # same rng seed, same key: exchanges are reproducible in tests
    assert g.new(seeded_rng(1)).public_value == a.public_value
