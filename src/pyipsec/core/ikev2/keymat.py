"""IKEv2 key material: prf+, SKEYSEED and SK_*, IKE SA rekeying, Child SA KEYMAT.

Pure functions over the algorithm records of ``pyipsec.crypto.registry``. Notation as in
RFC 7296: ``|`` is concatenation, ``g^ir`` the key exchange's shared secret, Ni/Nr the nonce
payload data (no generic header), SPIi/SPIr the 8-byte IKE SA SPIs.

IKE SA (RFC 7296 §2.14)::

    SKEYSEED = prf(Ni | Nr, g^ir)
    {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)

IKE SA rekeyed by CREATE_CHILD_SA (§2.18; the old SA's PRF for SKEYSEED, the new one's for prf+;
nonces and SPIs of the new SA)::

    SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)

Child SA (§2.17; g^ir only with a KE payload in CREATE_CHILD_SA)::

    KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr)

Key sizes: SK_d, SK_pi and SK_pr take the PRF's preferred key size (§2.13: the output size of
an HMAC, 16 bytes for AES-XCBC-PRF-128 per RFC 4434 §3 / RFC 7296 §2.14); SK_a* the integrity
transform's key size and none at all with an AEAD cipher (RFC 5282 §7.1: no integrity transform
is negotiated); SK_e* the cipher's key plus its salt (RFC 5282 §7.1 and RFC 4106 §8.1: AES-GCM
4 bytes; RFC 7634 §2.2 / RFC 7539 ChaCha20-Poly1305 4 bytes; RFC 5930 §2 AES-CTR 4 bytes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pyipsec.crypto import registry
from pyipsec.crypto.base import EncryptionAlgorithm, IntegrityAlgorithm, PrfAlgorithm
from pyipsec.crypto.prf import HMAC_BLOCK_SIZES, hmac_keyed
from pyipsec.fastinit import fast_init

__all__ = [
    "ChildKeys",
    "IkeKeys",
    "KeymatError",
    "child_keymat",
    "child_keymat_size",
    "derive_child_keys",
    "derive_ike_keys",
    "derive_rekeyed_ike_keys",
    "ike_keymat_size",
    "prf_plus",
    "skeyseed",
    "skeyseed_rekey",
    "split_child_keymat",
]

# RFC 7296 §2.13: the octet counter of prf+ runs from 0x01 to 0xff.
PRF_PLUS_MAX_ITERATIONS = 255

# RFC 7296 §2.14: PRFs whose SKEYSEED key is only the first 64 bits of each nonce.
_NONCE_TRUNCATING_PRFS = frozenset({4, 8})  # PRF_AES128_XCBC (RFC 4434), PRF_AES128_CMAC (4615)


class KeymatError(ValueError):
    """An impossible derivation request (too much key material, a short input)."""


# prf+ calls the PRF with one key up to 255 times: for the registry's HMAC PRFs the key's
# pads are hashed once (crypto/prf.py hmac_keyed). By the identity of the registry's prf
# function (kept in the value), with its digest's name; five entries, fixed.
_HMAC_DIGESTS: dict[int, tuple[Callable[[bytes, bytes], bytes], str]] = {
    id(registry.prf(name).prf): (registry.prf(name).prf, name) for name in HMAC_BLOCK_SIZES
}
_COUNTER = [bytes((n,)) for n in range(PRF_PLUS_MAX_ITERATIONS + 1)]  # prf+'s octet n


def _keyed(prf: PrfAlgorithm, key: bytes) -> Callable[[bytes], bytes]:
    """``lambda data: prf.prf(key, data)``, with an HMAC's key hashed in once (above)."""
    found = _HMAC_DIGESTS.get(id(prf.prf))
    if found is None or found[0] is not prf.prf:
        return lambda data: prf.prf(key, data)
    return hmac_keyed(found[1], key)


def prf_plus(prf: PrfAlgorithm, key: bytes, seed: bytes, size: int) -> bytes:
    """prf+(K, S) truncated to ``size`` bytes (RFC 7296 §2.13).

    T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n); at most 255 iterations, so more than
    255 * output size bytes is refused with ``KeymatError``.
    """
    if size < 0:
        raise KeymatError("negative key material size")
    iterations = -(-size // prf.output_size)
    if iterations > PRF_PLUS_MAX_ITERATIONS:
        raise KeymatError(
            f"prf+ with {prf.name} yields at most {PRF_PLUS_MAX_ITERATIONS * prf.output_size} "
            f"bytes, {size} requested"
        )
    if iterations == 1:  # nothing to gain from keying once
        return prf.prf(key, seed + b"\x01")[:size]
    keyed = _keyed(prf, key)
    out = bytearray()
    t = b""
    for n in range(1, iterations + 1):
        t = keyed(t + seed + _COUNTER[n])
        out += t
    return bytes(out[:size])


@fast_init  # keyword construction ~50 ns less per field (pyipsec.fastinit)
@dataclass(frozen=True, slots=True, kw_only=True)
class IkeKeys:
    """The keys of one IKE SA (RFC 7296 §2.14). ``i`` = original initiator's direction.

    SK_ai/SK_ei protect messages the original initiator sends, SK_ar/SK_er the responder's;
    SK_pi/SK_pr enter the AUTH payloads (§2.15). ``sk_ai``/``sk_ar`` are empty under AEAD.
    """

    skeyseed: bytes = field(repr=False)
    sk_d: bytes = field(repr=False)
    sk_ai: bytes = field(repr=False)
    sk_ar: bytes = field(repr=False)
    sk_ei: bytes = field(repr=False)
    sk_er: bytes = field(repr=False)
    sk_pi: bytes = field(repr=False)
    sk_pr: bytes = field(repr=False)


def _integ_size(encryption: EncryptionAlgorithm, integrity: IntegrityAlgorithm | None) -> int:
    if encryption.aead:
        if integrity is not None and integrity.key_size:
            raise KeymatError(f"{encryption.name} is AEAD: no integrity transform allowed")
        return 0  # RFC 5282 §7.1
    if integrity is None:
        raise KeymatError(f"{encryption.name} is not AEAD: an integrity transform is needed")
    return integrity.key_size


def ike_keymat_size(
    prf: PrfAlgorithm, encryption: EncryptionAlgorithm, integrity: IntegrityAlgorithm | None
) -> int:
    """Bytes prf+ must produce for SK_d .. SK_pr with these transforms (§2.14)."""
    return 3 * prf.key_size + 2 * _integ_size(encryption, integrity) + 2 * encryption.keymat_size


def skeyseed(prf: PrfAlgorithm, ni: bytes, nr: bytes, shared_secret: bytes) -> bytes:
    """SKEYSEED = prf(Ni | Nr, g^ir) of a new IKE SA (RFC 7296 §2.14).

    With AES-XCBC-PRF-128 or AES-CMAC-PRF-128 only the first 64 bits of each nonce form the key
    (§2.14, for backward compatibility); the whole nonces still enter prf+.
    """
    if prf.ikev2_id in _NONCE_TRUNCATING_PRFS:
        return prf.prf(ni[:8] + nr[:8], shared_secret)
    return prf.prf(ni + nr, shared_secret)


def skeyseed_rekey(
    old_prf: PrfAlgorithm, old_sk_d: bytes, shared_secret: bytes, ni: bytes, nr: bytes
) -> bytes:
    """SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr) of a rekeyed IKE SA (§2.18).

    The PRF is the old IKE SA's; Ni/Nr are the CREATE_CHILD_SA nonces.
    """
    return old_prf.prf(old_sk_d, shared_secret + ni + nr)


def _split_ike(
    prf: PrfAlgorithm,
    encryption: EncryptionAlgorithm,
    integrity: IntegrityAlgorithm | None,
    seed_key: bytes,
    ni: bytes,
    nr: bytes,
    spi_i: bytes,
    spi_r: bytes,
) -> IkeKeys:
    if len(spi_i) != 8 or len(spi_r) != 8:
        raise KeymatError("IKE SA SPIs are 8 bytes")
    np_, na, ne = prf.key_size, _integ_size(encryption, integrity), encryption.keymat_size
    km = prf_plus(prf, seed_key, ni + nr + spi_i + spi_r, 3 * np_ + 2 * na + 2 * ne)
    # §2.14 order: d, ai, ar, ei, er, pi, pr; the offsets where each ends
    d, ai, ar = np_, np_ + na, np_ + 2 * na
    ei, er = ar + ne, ar + 2 * ne
    return IkeKeys(
        skeyseed=seed_key,
        sk_d=km[:d],
        sk_ai=km[d:ai],
        sk_ar=km[ai:ar],
        sk_ei=km[ar:ei],
        sk_er=km[ei:er],
        sk_pi=km[er : er + np_],
        sk_pr=km[er + np_ : er + 2 * np_],
    )


def derive_ike_keys(
    prf: PrfAlgorithm,
    encryption: EncryptionAlgorithm,
    integrity: IntegrityAlgorithm | None,
    ni: bytes,
    nr: bytes,
    shared_secret: bytes,
    spi_i: bytes,
    spi_r: bytes,
) -> IkeKeys:
    """SKEYSEED and SK_d .. SK_pr of an IKE SA from IKE_SA_INIT (RFC 7296 §2.14).

    ``integrity`` is None (or the null transform) with an AEAD ``encryption``.
    """
    return _split_ike(
        prf, encryption, integrity, skeyseed(prf, ni, nr, shared_secret), ni, nr, spi_i, spi_r
    )


def derive_rekeyed_ike_keys(
    old_prf: PrfAlgorithm,
    old_sk_d: bytes,
    prf: PrfAlgorithm,
    encryption: EncryptionAlgorithm,
    integrity: IntegrityAlgorithm | None,
    shared_secret: bytes,
    ni: bytes,
    nr: bytes,
    spi_i: bytes,
    spi_r: bytes,
) -> IkeKeys:
    """The keys of an IKE SA created by rekeying (RFC 7296 §2.18).

    ``old_prf``/``old_sk_d`` are the rekeyed SA's; ``prf``/``encryption``/``integrity`` the new
    SA's transforms; Ni/Nr the CREATE_CHILD_SA nonces; SPIi/SPIr the new SA's SPIs (SPIi from
    the initiator of the rekeying exchange).
    """
    seed_key = skeyseed_rekey(old_prf, old_sk_d, shared_secret, ni, nr)
    return _split_ike(prf, encryption, integrity, seed_key, ni, nr, spi_i, spi_r)


@fast_init  # keyword construction ~50 ns less per field (pyipsec.fastinit)
@dataclass(frozen=True, slots=True, kw_only=True)
class ChildKeys:
    """The keys of one Child SA pair (RFC 7296 §2.17).

    ``i`` keys protect traffic from the initiator to the responder of the exchange that created
    the Child SA (IKE_AUTH or CREATE_CHILD_SA; for a rekey, whoever started it), ``r`` keys
    the other direction. Empty bytes where a transform takes no key (AH, AEAD, ENCR_NULL).
    """

    encr_i: bytes = field(repr=False)
    integ_i: bytes = field(repr=False)
    encr_r: bytes = field(repr=False)
    integ_r: bytes = field(repr=False)


def child_keymat_size(
    encryption: EncryptionAlgorithm | None, integrity: IntegrityAlgorithm | None
) -> int:
    """Bytes of KEYMAT one Child SA pair takes: both directions' cipher and MAC keys."""
    return 2 * (
        (encryption.keymat_size if encryption else 0) + (integrity.key_size if integrity else 0)
    )


def child_keymat(
    prf: PrfAlgorithm,
    sk_d: bytes,
    ni: bytes,
    nr: bytes,
    size: int,
    shared_secret: bytes | None = None,
) -> bytes:
    """KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr) (RFC 7296 §2.17).

    ``shared_secret`` is the CREATE_CHILD_SA key exchange's g^ir (PFS), None without KE.
    """
    return prf_plus(prf, sk_d, (shared_secret or b"") + ni + nr, size)


def split_child_keymat(
    keymat: bytes,
    encryption: EncryptionAlgorithm | None,
    integrity: IntegrityAlgorithm | None,
) -> ChildKeys:
    """The Child SA keys from KEYMAT (RFC 7296 §2.17).

    All keys of the initiator-to-responder SA come first, then the responder-to-initiator SA's;
    within one ESP SA the encryption key (with its salt at the end, RFC 4106 §8.1, RFC 7634 §2)
    precedes the integrity key (RFC 4303 §3.2 via §2.17). For AH pass ``encryption=None``.
    """
    ne = encryption.keymat_size if encryption else 0
    na = integrity.key_size if integrity else 0
    if len(keymat) < 2 * (ne + na):
        raise KeymatError(f"KEYMAT is {len(keymat)} bytes, {2 * (ne + na)} needed")
    return ChildKeys(
        encr_i=keymat[:ne],
        integ_i=keymat[ne : ne + na],
        encr_r=keymat[ne + na : 2 * ne + na],
        integ_r=keymat[2 * ne + na : 2 * (ne + na)],
    )


def derive_child_keys(
    prf: PrfAlgorithm,
    sk_d: bytes,
    encryption: EncryptionAlgorithm | None,
    integrity: IntegrityAlgorithm | None,
    ni: bytes,
    nr: bytes,
    shared_secret: bytes | None = None,
) -> ChildKeys:
    """KEYMAT of one Child SA pair, split into its four keys (RFC 7296 §2.17)."""
    size = child_keymat_size(encryption, integrity)
    return split_child_keymat(
        child_keymat(prf, sk_d, ni, nr, size, shared_secret), encryption, integrity
    )
