"""PRFs for IKE: HMAC (RFC 2202, RFC 4231, RFC 4868 §2.7.1) and AES-XCBC (RFC 3566, RFC 4434)."""

from __future__ import annotations

import hashlib

import pytest

from pyipsec.crypto import registry
from pyipsec.crypto.prf import aes_xcbc_mac, aes_xcbc_mac_96, aes_xcbc_prf_128

H = bytes.fromhex

XCBC_KEY = H("000102030405060708090a0b0c0d0e0f")
_M34 = H("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021")

# RFC 3566 §4.6, test cases #1-#7: (message, AES-XCBC-MAC, AES-XCBC-MAC-96).
RFC3566_CASES = [
    (b"", "75f0251d528ac01c4573dfd584d79f29", "75f0251d528ac01c4573dfd5"),
    (_M34[:3], "5b376580ae2f19afe7219ceef172756f", "5b376580ae2f19afe7219cee"),
    (_M34[:16], "d2a246fa349b68a79998a4394ff7a263", "d2a246fa349b68a79998a439"),
    (_M34[:20], "47f51b4564966215b8985c63055ed308", "47f51b4564966215b8985c63"),
    (_M34[:32], "f54f0ec8d2b9f3d36807734bd5283fd4", "f54f0ec8d2b9f3d36807734b"),
    (_M34, "becbb3bccdb518a30677d5481fb6b4d8", "becbb3bccdb518a30677d548"),
    (bytes(1000), "f0dafee895db30253761103b5d84528f", "f0dafee895db30253761103b"),
]

# RFC 4434 §2.1: the three key lengths, 20-byte message.
RFC4434_CASES = [
    ("000102030405060708090a0b0c0d0e0f", "47f51b4564966215b8985c63055ed308"),
    ("00010203040506070809", "0fa087af7d866e7653434e602fdde835"),
    ("000102030405060708090a0b0c0d0e0fedcb", "8cd3c93ae598a9803006ffb67c40e9e4"),
]


@pytest.mark.parametrize(("message", "mac", "mac96"), RFC3566_CASES)
def test_aes_xcbc_mac_rfc3566(message: bytes, mac: str, mac96: str) -> None:
    assert aes_xcbc_mac(XCBC_KEY, message) == H(mac)
    assert aes_xcbc_mac_96(XCBC_KEY, message) == H(mac96)


@pytest.mark.parametrize(("key", "output"), RFC4434_CASES)
def test_aes_xcbc_prf_128_rfc4434(key: str, output: str) -> None:
    prf = registry.prf("aes-xcbc")
    assert prf.prf(H(key), _M34[:20]) == H(output)
    assert aes_xcbc_prf_128(H(key), _M34[:20]) == H(output)


# Full-length HMAC PRF outputs: RFC 2202 case 1 (MD5, SHA-1), RFC 4231 case 2 and
# RFC 4868 §2.7.1 PRF-HMAC-SHA-256 case 1 (key 0x0b * 32).
PRF_CASES = [
    ("md5", b"\x0b" * 16, b"Hi There", "9294727a3638bb1c13f48ef8158bfc9d"),
    ("sha1", b"\x0b" * 20, b"Hi There", "b617318655057264e28bc0b6fb378c8ef146be00"),
    (
        "sha256",
        b"Jefe",
        b"what do ya want for nothing?",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ),
    (
        "sha384",
        b"Jefe",
        b"what do ya want for nothing?",
        "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
        "8e2240ca5e69e2c78b3239ecfab21649",
    ),
    (
        "sha512",
        b"Jefe",
        b"what do ya want for nothing?",
        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
        "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
    ),
    (
        "sha256",
        b"\x0b" * 32,
        b"Hi There",
        "198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7",
    ),
]


@pytest.mark.parametrize(("name", "key", "data", "out"), PRF_CASES)
def test_hmac_prf_full_output(name: str, key: bytes, data: bytes, out: str) -> None:
    prf = registry.prf(name)
    assert prf.output_size == len(H(out))
    assert prf.prf(key, data) == H(out)


# FIPS 180 "abc" digests, for the bare hash used by IKEv1 HASH and NAT-D.
ABC_DIGESTS = {
    "md5": "900150983cd24fb0d6963f7d28e17f72",
    "sha1": "a9993e364706816aba3e25717850c26c9cd0d89d",
    "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
}


@pytest.mark.parametrize("name", ["md5", "sha1", "sha256", "sha384", "sha512"])
def test_bare_hash(name: str) -> None:
    prf = registry.prf(name)
    assert prf.hash is not None
    assert prf.hash(b"abc") == hashlib.new(name, b"abc").digest()
    if name in ABC_DIGESTS:
        assert prf.hash(b"abc") == H(ABC_DIGESTS[name])


def test_xcbc_has_no_bare_hash_and_prefers_16_byte_keys() -> None:
    prf = registry.prf("aes-xcbc")
    assert prf.hash is None
    assert (prf.key_size, prf.output_size, prf.ikev2_id, prf.ikev1_hash_id) == (16, 16, 4, None)


def test_prf_key_sizes_follow_rfc7296_2_13() -> None:
    # RFC 7296 §2.13: the preferred key size of an HMAC PRF is its output size.
    for name in ("md5", "sha1", "sha256", "sha384", "sha512"):
        prf = registry.prf(name)
        assert prf.key_size == prf.output_size == hashlib.new(name).digest_size


def _hmac_vectors() -> list[tuple[str, bytes, bytes, str]]:
    """Every full-length RFC 2202 (MD5, SHA-1) and RFC 4231 (SHA-2) vector, including the
    keys longer than a block (hashed first, RFC 2104 §2) and data longer than a block."""
    from tests.crypto.test_integrity import (
        RFC2202_MD5,
        RFC2202_SHA1,
        RFC4231_INPUTS,
        RFC4231_OUTPUTS,
    )

    cases = [("md5", k, d, out) for _, k, d, out in RFC2202_MD5]
    cases += [("sha1", k, d, out) for _, k, d, out in RFC2202_SHA1]
    for name, outputs in RFC4231_OUTPUTS.items():
        for case, out in outputs.items():
            if case != 5:  # case 5 publishes only the leftmost 128 bits
                cases.append((name, *RFC4231_INPUTS[case], out))
    return cases


@pytest.mark.parametrize(("name", "key", "data", "out"), _hmac_vectors())
def test_hmac_prf_rfc2202_rfc4231(name: str, key: bytes, data: bytes, out: str) -> None:
    assert registry.prf(name).prf(key, data) == H(out)


@pytest.mark.parametrize("name", ["md5", "sha1", "sha256", "sha384", "sha512"])
def test_hmac_prf_equals_stdlib_hmac_for_random_inputs(name: str) -> None:
    """The PRF's HMAC, written out over hashlib (prf.hmac_prf), gives the bytes of the
    standard library's ``hmac.digest`` for every key length from empty to over two blocks
    (around the block size especially) and data from empty to several blocks."""
    import hmac
    import random

    prf = registry.prf(name).prf
    block = hashlib.new(name).block_size
    rnd = random.Random(f"hmac-prf-{name}")
    key_lengths = [*range(0, 2 * block + 2), 300]
    for n, klen in enumerate(key_lengths):
        key = rnd.randbytes(klen)
        for dlen in (0, 1, n % 200, block - 1, block, block + 1, 3 * block + 7):
            data = rnd.randbytes(dlen)
            assert prf(key, data) == hmac.digest(key, data, name), (klen, dlen)
        # bytes-like inputs, as hmac.digest took them
        assert prf(bytearray(key), memoryview(data)) == hmac.digest(key, data, name)
