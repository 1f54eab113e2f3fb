"""IKEv2 key derivation (RFC 7296 §2.13, §2.14, §2.17, §2.18).

prf+ is checked against an independent implementation: ``cryptography``'s HKDF-Expand
(RFC 5869 §2.3), whose T(n) = HMAC(PRK, T(n-1) | info | n) is prf+ with PRK = K and info = S.
The IKE SA and Child SA derivations are checked against strongSwan's own output in
tests/core/ikev2/test_strongswan_vectors.py; here their structure (order, sizes, which inputs
enter where) is checked against the RFC formulas spelled out with plain hmac.
"""

from __future__ import annotations

import hmac

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from pyipsec.core.ikev2.keymat import (
    IkeKeys,
    KeymatError,
    child_keymat,
    derive_child_keys,
    derive_ike_keys,
    derive_rekeyed_ike_keys,
    ike_keymat_size,
    prf_plus,
    skeyseed,
    split_child_keymat,
)
from pyipsec.crypto import registry
from pyipsec.crypto.base import EncryptionAlgorithm
from pyipsec.crypto.prf import aes_xcbc_prf_128

H = bytes.fromhex
SHA1 = registry.prf("sha1")
SHA256 = registry.prf("sha256")
SHA512 = registry.prf("sha512")
XCBC = registry.prf("aes-xcbc")
AES128 = registry.encryption("aes-128-cbc")
AES256 = registry.encryption("aes-256-cbc")
GCM128 = registry.encryption("aes-128-gcm")
GCM256 = registry.encryption("aes-256-gcm")
CHACHA = registry.encryption("chacha20poly1305")
HMAC256 = registry.integrity("sha256")
HMAC1 = registry.integrity("sha1")

NI = bytes(range(32))
NR = bytes(range(100, 132))
SPI_I = H("0011223344556677")
SPI_R = H("8899aabbccddeeff")
GIR = bytes(range(200, 256)) * 2

_HKDF_HASH: dict[str, hashes.HashAlgorithm] = {
    "sha1": hashes.SHA1(),
    "sha256": hashes.SHA256(),
    "sha512": hashes.SHA512(),
}


@pytest.mark.parametrize("name", ["sha1", "sha256", "sha512"])
@pytest.mark.parametrize("size", [0, 1, 20, 31, 32, 33, 200, 1000])
def test_prf_plus_matches_hkdf_expand(name: str, size: int) -> None:
    prf = registry.prf(name)
    key, seed = b"k" * prf.output_size, b"seed material"
    if size > 255 * prf.output_size:
        pytest.skip("beyond prf+")
    expected = HKDFExpand(_HKDF_HASH[name], size, seed).derive(key) if size else b""
    assert prf_plus(prf, key, seed, size) == expected


def test_prf_plus_refuses_more_than_255_iterations() -> None:
    assert len(prf_plus(SHA1, b"k", b"s", 255 * 20)) == 255 * 20
    with pytest.raises(KeymatError):
        prf_plus(SHA1, b"k", b"s", 255 * 20 + 1)
    with pytest.raises(KeymatError):
        prf_plus(SHA1, b"k", b"s", -1)


def test_prf_plus_xcbc_structure() -> None:
    # T1 = prf(K, S | 0x01), T2 = prf(K, T1 | S | 0x02) with AES-XCBC-PRF-128 (RFC 4434).
    key, seed = bytes(16), b"abc"
    t1 = aes_xcbc_prf_128(key, seed + b"\x01")
    t2 = aes_xcbc_prf_128(key, t1 + seed + b"\x02")
    assert prf_plus(XCBC, key, seed, 20) == (t1 + t2)[:20]


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.digest(key, data, "sha256")


def _prf_plus_256(key: bytes, seed: bytes, size: int) -> bytes:
    out, t, n = b"", b"", 1
    while len(out) < size:
        t = _hmac(key, t + seed + bytes((n,)))
        out += t
        n += 1
    return out[:size]


def _parts(keys: IkeKeys) -> list[bytes]:
    return [keys.sk_d, keys.sk_ai, keys.sk_ar, keys.sk_ei, keys.sk_er, keys.sk_pi, keys.sk_pr]


def test_ike_keys_cbc_hmac_layout() -> None:
    keys = derive_ike_keys(SHA256, AES128, HMAC256, NI, NR, GIR, SPI_I, SPI_R)
    seed_key = _hmac(NI + NR, GIR)
    assert keys.skeyseed == seed_key
    km = _prf_plus_256(seed_key, NI + NR + SPI_I + SPI_R, 3 * 32 + 2 * 32 + 2 * 16)
    sizes = [32, 32, 32, 16, 16, 32, 32]
    assert [len(p) for p in _parts(keys)] == sizes
    assert b"".join(_parts(keys)) == km
    assert ike_keymat_size(SHA256, AES128, HMAC256) == len(km)


@pytest.mark.parametrize(("enc", "keylen"), [(GCM128, 20), (GCM256, 36), (CHACHA, 36)])
def test_ike_keys_aead_salt_and_no_integrity(enc: EncryptionAlgorithm, keylen: int) -> None:
    # RFC 5282 §7.1 (GCM: key + 4-byte salt), RFC 7634 §2 (ChaCha20: 32 + 4); no SK_a*.
    for integ in (None, registry.integrity("null")):
        keys = derive_ike_keys(SHA256, enc, integ, NI, NR, GIR, SPI_I, SPI_R)
        assert keys.sk_ai == keys.sk_ar == b""
        assert len(keys.sk_ei) == len(keys.sk_er) == keylen
        km = _prf_plus_256(keys.skeyseed, NI + NR + SPI_I + SPI_R, 96 + 2 * keylen)
        assert b"".join(_parts(keys)) == km


def test_ike_keys_refuse_wrong_integrity() -> None:
    with pytest.raises(KeymatError):
        derive_ike_keys(SHA256, GCM128, HMAC256, NI, NR, GIR, SPI_I, SPI_R)
    with pytest.raises(KeymatError):
        derive_ike_keys(SHA256, AES128, None, NI, NR, GIR, SPI_I, SPI_R)
    with pytest.raises(KeymatError):
        derive_ike_keys(SHA256, AES128, HMAC256, NI, NR, GIR, SPI_I[:4], SPI_R)


def test_skeyseed_xcbc_uses_first_64_bits_of_each_nonce() -> None:
    # RFC 7296 §2.14: AES-XCBC-PRF-128 keys SKEYSEED with Ni[0:8] | Nr[0:8], prf+ sees all.
    assert skeyseed(XCBC, NI, NR, GIR) == aes_xcbc_prf_128(NI[:8] + NR[:8], GIR)
    keys = derive_ike_keys(XCBC, AES128, HMAC1, NI, NR, GIR, SPI_I, SPI_R)
    assert len(keys.sk_d) == len(keys.sk_pi) == 16  # RFC 4434 §3: 128-bit preferred key
    assert b"".join(_parts(keys)) == prf_plus(
        XCBC, keys.skeyseed, NI + NR + SPI_I + SPI_R, 3 * 16 + 2 * 20 + 2 * 16
    )
    # Changing nonce bytes beyond the first 8 changes the keys only through prf+.
    other = NI[:8] + bytes(24)
    assert skeyseed(XCBC, other, NR, GIR) == skeyseed(XCBC, NI, NR, GIR)
    assert skeyseed(SHA256, other, NR, GIR) != skeyseed(SHA256, NI, NR, GIR)


def test_rekeyed_ike_keys() -> None:
    # RFC 7296 §2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr) with the old PRF; prf+
    # with the new PRF over the new nonces and SPIs.
    old = derive_ike_keys(SHA1, AES128, HMAC1, NI, NR, GIR, SPI_I, SPI_R)
    ni2, nr2, gir2 = b"n" * 24, b"m" * 40, b"g" * 64
    spi_i2, spi_r2 = b"I" * 8, b"R" * 8
    new = derive_rekeyed_ike_keys(
        SHA1, old.sk_d, SHA256, GCM256, None, gir2, ni2, nr2, spi_i2, spi_r2
    )
    seed_key = hmac.digest(old.sk_d, gir2 + ni2 + nr2, "sha1")
    assert new.skeyseed == seed_key
    km = _prf_plus_256(seed_key, ni2 + nr2 + spi_i2 + spi_r2, 96 + 72)
    assert b"".join(_parts(new)) == km


def test_child_keymat_and_split() -> None:
    sk_d = bytes(range(32))
    # RFC 7296 §2.17: KEYMAT = prf+(SK_d, Ni | Nr); enc_i | integ_i | enc_r | integ_r.
    keys = derive_child_keys(SHA256, sk_d, AES128, HMAC256, NI, NR)
    km = _prf_plus_256(sk_d, NI + NR, 2 * (16 + 32))
    assert (keys.encr_i, keys.integ_i, keys.encr_r, keys.integ_r) == (
        km[:16],
        km[16:48],
        km[48:64],
        km[64:96],
    )
    # With PFS the new g^ir comes first in the seed.
    pfs = derive_child_keys(SHA256, sk_d, GCM128, None, NI, NR, shared_secret=GIR)
    km = _prf_plus_256(sk_d, GIR + NI + NR, 40)
    assert (pfs.encr_i, pfs.integ_i, pfs.encr_r, pfs.integ_r) == (km[:20], b"", km[20:40], b"")
    # AH: integrity keys only.
    ah = derive_child_keys(SHA256, sk_d, None, HMAC1, NI, NR)
    km = _prf_plus_256(sk_d, NI + NR, 40)
    assert (ah.encr_i, ah.integ_i, ah.encr_r, ah.integ_r) == (b"", km[:20], b"", km[20:40])
    with pytest.raises(KeymatError):
        split_child_keymat(child_keymat(SHA256, sk_d, NI, NR, 10), AES128, HMAC256)


def test_no_secret_in_repr() -> None:
    keys = derive_ike_keys(SHA256, AES128, HMAC256, NI, NR, GIR, SPI_I, SPI_R)
    child = derive_child_keys(SHA256, keys.sk_d, AES128, HMAC256, NI, NR)
    for obj, secrets in ((keys, [*_parts(keys), keys.skeyseed]), (child, [child.encr_i])):
        text = repr(obj)
        for s in secrets:
            if s:
                assert s.hex() not in text
                assert repr(s) not in text
