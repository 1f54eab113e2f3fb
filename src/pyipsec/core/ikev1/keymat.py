"""IKEv1 key material and authentication hashes (RFC 2409 §5, §5.5, §5.7, App. B; RFC 3947).

Pure functions over a ``PrfAlgorithm`` from ``pyipsec.crypto.registry``. Notation as in RFC 2409
§3.2: ``|`` is concatenation, ``x_b`` the body of payload x (no generic header), ``g^xy`` the
DH shared secret, ``CKY-I``/``CKY-R`` the cookies.

The IKEv1 PRF is the HMAC of the negotiated Hash Algorithm unless a PRF attribute was
negotiated (RFC 2409 §4 and App. A); the bare hash (IV derivation, NAT-D) is always the
negotiated Hash Algorithm.

Phase 1 (RFC 2409 §5)::

    SKEYID   = prf(pre-shared-key, Ni_b | Nr_b)             pre-shared keys
             = prf(Ni_b | Nr_b, g^xy)                       signatures
             = prf(hash(Ni_b | Nr_b), CKY-I | CKY-R)        public key encryption
    SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0)
    SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1)
    SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2)
    HASH_I   = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b)
    HASH_R   = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyipsec.crypto.base import EncryptionAlgorithm, IntegrityAlgorithm, PrfAlgorithm
from pyipsec.crypto.registry import prf_by_ikev1_hash_id

__all__ = [
    "KeymatError",
    "Phase1Keys",
    "derive_phase1",
    "encryption_key",
    "expand",
    "hash_i",
    "hash_r",
    "ikev1_prf",
    "informational_hash",
    "ipsec_keymat",
    "keymat_size",
    "natd_hash",
    "phase1_iv",
    "phase2_iv",
    "quick_mode_hash1",
    "quick_mode_hash2",
    "quick_mode_hash3",
    "skeyid_pke",
    "skeyid_psk",
    "skeyid_sig",
    "split_keymat",
]


class KeymatError(ValueError):
    """An impossible derivation request (no bare hash for the PRF, a size out of range)."""


def ikev1_prf(hash_id: int, prf_id: int | None = None) -> PrfAlgorithm:
    """The phase-1 PRF: HMAC of Hash Algorithm ``hash_id`` (RFC 2409 §4, App. A).

    RFC 2409 App. A defines no PRF attribute values, so a negotiated ``prf_id`` is refused.
    """
    if prf_id is not None:
        raise KeymatError(f"IKEv1 PRF attribute {prf_id} has no defined value")
    return prf_by_ikev1_hash_id(hash_id)


def _hash(prf: PrfAlgorithm, data: bytes) -> bytes:
    if prf.hash is None:
        raise KeymatError(f"{prf.name} has no bare hash for IKEv1")
    return prf.hash(data)


def skeyid_psk(prf: PrfAlgorithm, psk: bytes, ni_b: bytes, nr_b: bytes) -> bytes:
    """SKEYID for pre-shared key authentication (RFC 2409 §5)."""
    return prf.prf(psk, ni_b + nr_b)


def skeyid_sig(prf: PrfAlgorithm, ni_b: bytes, nr_b: bytes, g_xy: bytes) -> bytes:
    """SKEYID for signature authentication (RFC 2409 §5)."""
    return prf.prf(ni_b + nr_b, g_xy)


def skeyid_pke(prf: PrfAlgorithm, ni_b: bytes, nr_b: bytes, cky_i: bytes, cky_r: bytes) -> bytes:
    """SKEYID for (revised) public key encryption authentication (RFC 2409 §5)."""
    return prf.prf(_hash(prf, ni_b + nr_b), cky_i + cky_r)


def expand(prf: PrfAlgorithm, key: bytes, seed: bytes, size: int) -> bytes:
    """K1 | K2 | ... truncated to ``size``: K1 = prf(key, seed), Kn = prf(key, Kn-1).

    This is the RFC 2409 App. B expansion when ``seed`` is a single zero octet.
    """
    out = b""
    k = seed
    while len(out) < size:
        k = prf.prf(key, k)
        out += k
    return out[:size]


def encryption_key(prf: PrfAlgorithm, skeyid_e: bytes, key_size: int) -> bytes:
    """The phase-1 cipher key from SKEYID_e (RFC 2409 App. B).

    The first ``key_size`` bytes of SKEYID_e when it is long enough; otherwise
    Ka = K1 | K2 | ... with K1 = prf(SKEYID_e, 0), K2 = prf(SKEYID_e, K1), ...
    """
    if key_size <= len(skeyid_e):
        return skeyid_e[:key_size]
    return expand(prf, skeyid_e, b"\x00", key_size)


@dataclass(frozen=True, slots=True, kw_only=True)
class Phase1Keys:
    """The phase-1 key material of one ISAKMP SA (RFC 2409 §5)."""

    skeyid: bytes = field(repr=False)
    skeyid_d: bytes = field(repr=False)
    skeyid_a: bytes = field(repr=False)
    skeyid_e: bytes = field(repr=False)
    enc_key: bytes = field(repr=False)  # the cipher key from SKEYID_e (App. B)


def derive_phase1(
    prf: PrfAlgorithm,
    skeyid: bytes,
    g_xy: bytes,
    cky_i: bytes,
    cky_r: bytes,
    key_size: int,
) -> Phase1Keys:
    """SKEYID_d, SKEYID_a, SKEYID_e and the cipher key of ``key_size`` bytes (RFC 2409 §5)."""
    base = g_xy + cky_i + cky_r
    d = prf.prf(skeyid, base + b"\x00")
    a = prf.prf(skeyid, d + base + b"\x01")
    e = prf.prf(skeyid, a + base + b"\x02")
    return Phase1Keys(
        skeyid=skeyid,
        skeyid_d=d,
        skeyid_a=a,
        skeyid_e=e,
        enc_key=encryption_key(prf, e, key_size),
    )


def hash_i(
    prf: PrfAlgorithm,
    skeyid: bytes,
    *,
    g_xi: bytes,
    g_xr: bytes,
    cky_i: bytes,
    cky_r: bytes,
    sai_b: bytes,
    idii_b: bytes,
) -> bytes:
    """HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b) (RFC 2409 §5)."""
    return prf.prf(skeyid, g_xi + g_xr + cky_i + cky_r + sai_b + idii_b)


def hash_r(
    prf: PrfAlgorithm,
    skeyid: bytes,
    *,
    g_xi: bytes,
    g_xr: bytes,
    cky_i: bytes,
    cky_r: bytes,
    sai_b: bytes,
    idir_b: bytes,
) -> bytes:
    """HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b) (RFC 2409 §5).

    SAi_b is the initiator's SA payload body in both hashes.
    """
    return prf.prf(skeyid, g_xr + g_xi + cky_r + cky_i + sai_b + idir_b)


def phase1_iv(prf: PrfAlgorithm, g_xi: bytes, g_xr: bytes, block_size: int) -> bytes:
    """The first phase-1 IV: hash(g^xi | g^xr) truncated to the block size (RFC 2409 App. B).

    Later messages of phase 1 chain: each IV is the last ciphertext block of the previous
    message (RFC 2409 App. B), which ``crypto_message`` returns as ``next_iv``.
    """
    return _hash(prf, g_xi + g_xr)[:block_size]


def phase2_iv(
    prf: PrfAlgorithm, last_phase1_block: bytes, message_id: int, block_size: int
) -> bytes:
    """The first IV of a quick mode or informational exchange (RFC 2409 App. B).

    hash(last phase-1 CBC output block | M-ID), truncated to the block size; M-ID in network
    byte order. Within the exchange, IVs chain as in phase 1.
    """
    return _hash(prf, last_phase1_block + message_id.to_bytes(4, "big"))[:block_size]


def _mid(message_id: int) -> bytes:
    return message_id.to_bytes(4, "big")


def quick_mode_hash1(prf: PrfAlgorithm, skeyid_a: bytes, message_id: int, rest: bytes) -> bytes:
    """HASH(1) = prf(SKEYID_a, M-ID | SA | Ni [| KE] [| IDci | IDcr]) (RFC 2409 §5.5).

    ``rest`` is every payload after the HASH payload, generic headers included, as sent.
    """
    return prf.prf(skeyid_a, _mid(message_id) + rest)


def quick_mode_hash2(
    prf: PrfAlgorithm, skeyid_a: bytes, message_id: int, ni_b: bytes, rest: bytes
) -> bytes:
    """HASH(2) = prf(SKEYID_a, M-ID | Ni_b | SA | Nr [| KE] [| IDci | IDcr]) (RFC 2409 §5.5)."""
    return prf.prf(skeyid_a, _mid(message_id) + ni_b + rest)


def quick_mode_hash3(
    prf: PrfAlgorithm, skeyid_a: bytes, message_id: int, ni_b: bytes, nr_b: bytes
) -> bytes:
    """HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b) (RFC 2409 §5.5)."""
    return prf.prf(skeyid_a, b"\x00" + _mid(message_id) + ni_b + nr_b)


def informational_hash(prf: PrfAlgorithm, skeyid_a: bytes, message_id: int, rest: bytes) -> bytes:
    """HASH(1) = prf(SKEYID_a, M-ID | N/D) of an informational exchange (RFC 2409 §5.7).

    ``rest`` is the Notify or Delete payload(s) after the HASH payload, headers included.
    Also used for DPD R-U-THERE / R-U-THERE-ACK (RFC 3706), which are informational exchanges.
    """
    return prf.prf(skeyid_a, _mid(message_id) + rest)


def ipsec_keymat(
    prf: PrfAlgorithm,
    skeyid_d: bytes,
    *,
    protocol: int,
    spi: bytes,
    ni_b: bytes,
    nr_b: bytes,
    size: int,
    g_qm_xy: bytes | None = None,
) -> bytes:
    """KEYMAT for one direction of one IPsec SA (RFC 2409 §5.5).

    KEYMAT = K1 | K2 | ..., K1 = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b),
    Kn = prf(SKEYID_d, Kn-1 | [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b). ``spi`` is the SPI
    of the SA the key protects (the inbound SA's own SPI for inbound keys); ``g_qm_xy`` the
    quick mode PFS shared secret.
    """
    if size < 0:
        raise KeymatError("negative key material size")
    seed = (g_qm_xy or b"") + bytes((protocol,)) + spi + ni_b + nr_b
    out = b""
    k = b""
    while len(out) < size:
        k = prf.prf(skeyid_d, k + seed)
        out += k
    return out[:size]


def keymat_size(enc: EncryptionAlgorithm | None, integ: IntegrityAlgorithm | None) -> int:
    """Bytes of KEYMAT an SA with these transforms takes: cipher key (with salt), then MAC key."""
    return (enc.keymat_size if enc else 0) + (integ.key_size if integ else 0)


def split_keymat(
    keymat: bytes, enc: EncryptionAlgorithm | None, integ: IntegrityAlgorithm | None
) -> tuple[bytes, bytes]:
    """(encryption key, integrity key) from KEYMAT.

    The encryption key is taken from the start of KEYMAT and the integrity key from the bytes
    after it (RFC 2409 §5.5 leaves the split to the protocol; this is the order IKEv1
    implementations use, and the one RFC 7296 §2.17 later wrote down). For AES-GCM/CTR the
    cipher key material ends with its 4-byte salt/nonce (RFC 4106 §8.1, RFC 3686 §5.1), i.e.
    ``enc.keymat_size`` bytes in all.
    """
    ne = enc.keymat_size if enc else 0
    ni = integ.key_size if integ else 0
    if len(keymat) < ne + ni:
        raise KeymatError(f"KEYMAT is {len(keymat)} bytes, {ne + ni} needed")
    return keymat[:ne], keymat[ne : ne + ni]


def natd_hash(prf: PrfAlgorithm, cky_i: bytes, cky_r: bytes, ip: bytes, port: int) -> bytes:
    """NAT-D hash = HASH(CKY-I | CKY-R | IP | Port) (RFC 3947 §3.2).

    ``ip`` is the packed address (4 or 16 bytes), ``port`` the UDP port; the hash is the
    negotiated phase-1 hash algorithm.
    """
    return _hash(prf, cky_i + cky_r + ip + port.to_bytes(2, "big"))
