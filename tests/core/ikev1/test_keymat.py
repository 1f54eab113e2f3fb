"""IKEv1 key material (core/ikev1/keymat.py, RFC 2409 §5, §5.5, §5.7, App. B; RFC 3947 §3.2).

Every formula is recomputed here with hashlib/hmac straight from the RFC text, and HASH_R is
checked against a real responder's aggressive-mode reply (tests/wire/ikev1/
aggressive_mode_sample.py).
"""

from __future__ import annotations

import hashlib
import hmac

import pytest

from pyipsec.core.ikev1 import keymat as km
from pyipsec.crypto import registry
from pyipsec.crypto.base import UnknownAlgorithm
from tests.wire.ikev1 import aggressive_mode_sample as sample

SHA1 = registry.prf("sha1")
MD5 = registry.prf("md5")
SHA256 = registry.prf("sha256")

# Arbitrary but fixed inputs for the hand computations.
NI = bytes(range(16))
NR = bytes(range(100, 132))
GXY = bytes.fromhex("5a") * 128
CKY_I = bytes.fromhex("0011223344556677")
CKY_R = bytes.fromhex("8899aabbccddeeff")


def h(name: str, key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, name).digest()


def test_published_aggressive_mode_hash_r() -> None:
    # RFC 2409 §5 with PSK and HMAC-SHA1; the responder's HASH_R from the ike-scan dump.
    skeyid = km.skeyid_psk(SHA1, sample.PSK, sample.NI_B, sample.NR_B)
    got = km.hash_r(
        SHA1,
        skeyid,
        g_xi=sample.G_XI,
        g_xr=sample.G_XR,
        cky_i=sample.CKY_I,
        cky_r=sample.CKY_R,
        sai_b=sample.SAI_B,
        idir_b=sample.IDIR_B,
    )
    assert hmac.compare_digest(got, sample.HASH_R)


def test_wrong_psk_does_not_match() -> None:
    skeyid = km.skeyid_psk(SHA1, b"wrong", sample.NI_B, sample.NR_B)
    got = km.hash_r(
        SHA1,
        skeyid,
        g_xi=sample.G_XI,
        g_xr=sample.G_XR,
        cky_i=sample.CKY_I,
        cky_r=sample.CKY_R,
        sai_b=sample.SAI_B,
        idir_b=sample.IDIR_B,
    )
    assert got != sample.HASH_R


@pytest.mark.parametrize("name", ["md5", "sha1", "sha256", "sha384", "sha512"])
def test_skeyids_by_hand(name: str) -> None:
    prf = registry.prf(name)
    # SKEYID = prf(pre-shared-key, Ni_b | Nr_b); prf(Ni_b | Nr_b, g^xy) for signatures.
    assert km.skeyid_psk(prf, b"secret", NI, NR) == h(name, b"secret", NI + NR)
    assert km.skeyid_sig(prf, NI, NR, GXY) == h(name, NI + NR, GXY)
    # public key encryption: prf(hash(Ni_b | Nr_b), CKY-I | CKY-R).
    assert km.skeyid_pke(prf, NI, NR, CKY_I, CKY_R) == h(
        name, hashlib.new(name, NI + NR).digest(), CKY_I + CKY_R
    )
    skeyid = h(name, b"secret", NI + NR)
    keys = km.derive_phase1(prf, skeyid, GXY, CKY_I, CKY_R, key_size=16)
    d = h(name, skeyid, GXY + CKY_I + CKY_R + b"\x00")
    a = h(name, skeyid, d + GXY + CKY_I + CKY_R + b"\x01")
    e = h(name, skeyid, a + GXY + CKY_I + CKY_R + b"\x02")
    assert (keys.skeyid, keys.skeyid_d, keys.skeyid_a, keys.skeyid_e) == (skeyid, d, a, e)
    assert keys.enc_key == e[:16]  # MD5 gives exactly 16; longer outputs are truncated
    # No key material in the repr (house rule on secrets).
    assert e.hex() not in repr(keys) and d.hex() not in repr(keys)


@pytest.mark.parametrize(
    ("name", "size"), [("sha1", 24), ("md5", 24), ("md5", 32), ("sha1", 32), ("sha256", 32)]
)
def test_appendix_b_key_expansion(name: str, size: int) -> None:
    prf = registry.prf(name)
    e = bytes.fromhex("c3") * prf.output_size
    if size <= prf.output_size:
        expected = e[:size]
    else:
        # RFC 2409 App. B: Ka = K1 | K2 | K3 ..., K1 = prf(SKEYID_e, 0), K2 = prf(SKEYID_e, K1)
        k1 = h(name, e, b"\x00")
        k2 = h(name, e, k1)
        expected = (k1 + k2)[:size]
    assert km.encryption_key(prf, e, size) == expected


def test_hash_i_and_hash_r_by_hand() -> None:
    skeyid, gxi, gxr, sa, idi, idr = b"k" * 20, b"i" * 128, b"r" * 128, b"SA", b"IDi", b"IDr"
    assert km.hash_i(
        SHA1, skeyid, g_xi=gxi, g_xr=gxr, cky_i=CKY_I, cky_r=CKY_R, sai_b=sa, idii_b=idi
    ) == h("sha1", skeyid, gxi + gxr + CKY_I + CKY_R + sa + idi)
    assert km.hash_r(
        SHA1, skeyid, g_xi=gxi, g_xr=gxr, cky_i=CKY_I, cky_r=CKY_R, sai_b=sa, idir_b=idr
    ) == h("sha1", skeyid, gxr + gxi + CKY_R + CKY_I + sa + idr)


def test_ivs_by_hand() -> None:
    gxi, gxr = b"i" * 128, b"r" * 128
    # App. B: IV = hash(g^xi | g^xr), truncated to the cipher block size.
    assert km.phase1_iv(SHA1, gxi, gxr, 16) == hashlib.sha1(gxi + gxr).digest()[:16]
    assert km.phase1_iv(MD5, gxi, gxr, 8) == hashlib.md5(gxi + gxr).digest()[:8]
    last = bytes.fromhex("0f") * 16
    # App. B: phase-2 IV = hash(last phase-1 CBC block | M-ID).
    assert (
        km.phase2_iv(SHA256, last, 0x01020304, 16)
        == hashlib.sha256(last + b"\x01\x02\x03\x04").digest()[:16]
    )


def test_quick_mode_and_informational_hashes_by_hand() -> None:
    a, mid, rest = b"A" * 20, 0xCAFEBABE, b"payloads after HASH"
    m = mid.to_bytes(4, "big")
    assert km.quick_mode_hash1(SHA1, a, mid, rest) == h("sha1", a, m + rest)
    assert km.quick_mode_hash2(SHA1, a, mid, NI, rest) == h("sha1", a, m + NI + rest)
    assert km.quick_mode_hash3(SHA1, a, mid, NI, NR) == h("sha1", a, b"\x00" + m + NI + NR)
    assert km.informational_hash(SHA1, a, mid, rest) == h("sha1", a, m + rest)


@pytest.mark.parametrize("pfs", [None, b"\x77" * 128])
def test_ipsec_keymat_by_hand(pfs: bytes | None) -> None:
    d, spi = b"D" * 20, bytes.fromhex("c0ffee01")
    # RFC 2409 §5.5: K1 = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b),
    # Kn = prf(SKEYID_d, Kn-1 | [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b).
    seed = (pfs or b"") + b"\x03" + spi + NI + NR
    k1 = h("sha1", d, seed)
    k2 = h("sha1", d, k1 + seed)
    k3 = h("sha1", d, k2 + seed)
    got = km.ipsec_keymat(SHA1, d, protocol=3, spi=spi, ni_b=NI, nr_b=NR, size=52, g_qm_xy=pfs)
    assert got == (k1 + k2 + k3)[:52]
    assert (
        km.ipsec_keymat(SHA1, d, protocol=3, spi=spi, ni_b=NI, nr_b=NR, size=7)
        == (h("sha1", d, b"\x03" + spi + NI + NR)[:7])
    )


def test_split_keymat_cipher_first_then_integrity() -> None:
    keymat = bytes(range(100))
    aes = registry.encryption("aes-256-cbc")
    sha = registry.integrity("sha256")
    assert km.keymat_size(aes, sha) == 64
    enc, integ = km.split_keymat(keymat, aes, sha)
    assert (enc, integ) == (keymat[:32], keymat[32:64])
    gcm = registry.encryption("aes-128-gcm")  # 16-byte key then 4-byte salt (RFC 4106 §8.1)
    enc, integ = km.split_keymat(keymat, gcm, None)
    assert (enc, integ) == (keymat[:20], b"")
    gcm.keyed(enc)  # the registry accepts it as key || salt
    with pytest.raises(km.KeymatError):
        km.split_keymat(keymat[:10], aes, sha)


def test_natd_hash_by_hand() -> None:
    # RFC 3947 §3.2: HASH = HASH(CKY-I | CKY-R | IP | Port), the negotiated hash.
    ip = bytes([192, 0, 2, 1])
    assert (
        km.natd_hash(SHA1, CKY_I, CKY_R, ip, 500)
        == hashlib.sha1(CKY_I + CKY_R + ip + b"\x01\xf4").digest()
    )
    ip6 = bytes(15) + b"\x01"
    assert (
        km.natd_hash(MD5, CKY_I, CKY_R, ip6, 4500)
        == hashlib.md5(CKY_I + CKY_R + ip6 + (4500).to_bytes(2, "big")).digest()
    )


def test_ikev1_prf_is_hmac_of_the_hash() -> None:
    assert km.ikev1_prf(2) is SHA1 and km.ikev1_prf(4) is SHA256  # RFC 2409 App. A, RFC 4868
    with pytest.raises(UnknownAlgorithm):
        km.ikev1_prf(3)  # Tiger: not implemented
    with pytest.raises(km.KeymatError):
        km.ikev1_prf(2, prf_id=1)


def test_xcbc_has_no_bare_hash() -> None:
    with pytest.raises(km.KeymatError):
        km.phase1_iv(registry.prf("aes-xcbc"), b"a", b"b", 16)
