"""prf+'s keyed HMAC (core/ikev2/keymat.py ``_keyed``: the key's padded blocks hashed once,
every iteration from copies of the two hash states) against the plain PRF it stands for: the
registry's ``prf.prf`` (stdlib ``hmac.digest``) for every HMAC PRF, any key length (below, at
and above the hash's block size, where RFC 2104 §2 hashes the key first) and any data; prf+
against the plain loop of RFC 7296 §2.13 over ``prf.prf``; a PRF that is not the registry's
keeps its own function. test_keymat.py checks prf+ against cryptography's HKDF-Expand."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyipsec.core.ikev2 import keymat
from pyipsec.crypto import registry
from pyipsec.crypto.base import PrfAlgorithm
from pyipsec.crypto.prf import HMAC_BLOCK_SIZES

HMAC_PRFS = ["md5", "sha1", "sha256", "sha384", "sha512"]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(HMAC_PRFS),
    st.binary(max_size=300),
    st.lists(st.binary(max_size=300), min_size=1, max_size=3),
)
def test_keyed_hmac_is_the_registry_prf(name: str, key: bytes, data: list[bytes]) -> None:
    prf = registry.prf(name)
    keyed = keymat._keyed(prf, key)
    for d in data:  # the same keyed function, used again (its states are copied, not used up)
        assert keyed(d) == prf.prf(key, d)


@pytest.mark.parametrize("name", HMAC_PRFS)
@pytest.mark.parametrize("key_size", [0, 1, 63, 64, 65, 127, 128, 129])
def test_keyed_hmac_at_the_block_size_edges(name: str, key_size: int) -> None:
    prf = registry.prf(name)
    key = bytes(range(key_size))
    assert keymat._keyed(prf, key)(b"data") == prf.prf(key, b"data")


def plain_prf_plus(prf: PrfAlgorithm, key: bytes, seed: bytes, size: int) -> bytes:
    out, t = b"", b""
    n = 1
    while len(out) < size:
        t = prf.prf(key, t + seed + bytes((n,)))
        out += t
        n += 1
    return out[:size]


@pytest.mark.parametrize("name", [*HMAC_PRFS, "aes-xcbc"])
def test_prf_plus_is_the_plain_loop(name: str) -> None:
    prf = registry.prf(name)
    key = bytes(range(prf.key_size))
    seed = b"Ni | Nr | SPIi | SPIr" * 3
    for size in [0, 1, prf.output_size - 1, prf.output_size, prf.output_size + 1, 136, 192, 700]:
        assert keymat.prf_plus(prf, key, seed, size) == plain_prf_plus(prf, key, seed, size)


def test_a_prf_not_from_the_registry_keeps_its_function() -> None:
    """Only the registry's HMAC functions are replaced: a PrfAlgorithm with another prf (a
    test double, a future PRF under an HMAC's name) is called as it is."""
    calls: list[tuple[bytes, bytes]] = []

    def fake(key: bytes, data: bytes) -> bytes:
        calls.append((key, data))
        return bytes(32)

    prf = replace(registry.prf("sha256"), prf=fake)
    assert keymat._keyed(prf, b"k")(b"d") == bytes(32)
    assert calls == [(b"k", b"d")]
    assert keymat.prf_plus(prf, b"k", b"s", 64) == bytes(64)
    assert calls[1:] == [(b"k", b"s\x01"), (b"k", bytes(32) + b"s\x02")]


def test_block_sizes_are_the_hashes() -> None:
    """The block sizes (constants, RFC 2104 §2 B, crypto/prf.py) are hashlib's, and prf+'s
    table holds the registry's five HMAC PRFs."""

    for name, block in HMAC_BLOCK_SIZES.items():
        assert getattr(hashlib, name)().block_size == block
    for prf_function, name in keymat._HMAC_DIGESTS.values():
        assert prf_function is registry.prf(name).prf
    assert {name for _, name in keymat._HMAC_DIGESTS.values()} == set(HMAC_PRFS)
