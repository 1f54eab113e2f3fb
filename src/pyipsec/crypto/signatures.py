"""RSA, ECDSA and Ed25519 signatures as IKE uses them, and the certificate facts it needs.

IKEv1 signs HASH_I/HASH_R directly: the hash is the PKCS#1 v1.5 block-type-1 payload with no
DigestInfo around it (what racoon's ``RSA_private_encrypt(..., RSA_PKCS1_PADDING)`` and
strongSwan's ``SIGN_RSA_EMSA_PKCS1_NULL`` do). The ``cryptography`` package only signs with a
DigestInfo, so that signature (``sign_pkcs1_raw``) is computed here from the key's numbers,
blinded with a random factor from the caller's rng so that its timing does not depend on the
private exponent's use on attacker-known input, and checked with the public exponent before
it leaves; verification uses ``recover_data_from_signature`` with no hash, which is exactly
that raw recovery.

IKEv2 (RFC 7296 §3.8 method 1, RFC 7427 method 14, RFC 4754 methods 9-11, RFC 8420) signs
through ``cryptography`` (OpenSSL), which blinds RSA and runs in constant time: RSASSA-PKCS1-v1_5
(RFC 8017 §8.2; deterministic, the same bytes the pure-Python operation above gives with the
DigestInfo in front of the hash, about 0.5 ms instead of 14 ms for RSA-2048), RSASSA-PSS
(RFC 8017 §8.1, MGF1 with the same hash, salt as long as the hash), ECDSA (DER Ecdsa-Sig-Value
for RFC 7427, r | s for RFC 4754) and Ed25519 (RFC 8032). The PSS salt and the ECDSA nonce
come from OpenSSL's CSPRNG, not from the caller's rng: these are the only random draws in the
pure packages that do not go through the injected source. Verification is ``cryptography``'s.
"""

from __future__ import annotations

import functools
import hmac
from dataclasses import dataclass, field
from math import gcd

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from .base import CryptoError, Rng

__all__ = [
    "EC_CURVES",
    "SignatureError",
    "Signer",
    "certificate_der",
    "certificate_public_key",
    "certificate_subject",
    "issued_by",
    "load_certificate",
    "load_signer",
    "public_key_der",
    "public_key_kind",
    "rsa_modulus_bits",
    "sign_ecdsa",
    "sign_ecdsa_raw",
    "sign_ed25519",
    "sign_pkcs1_raw",
    "sign_pkcs1_v15",
    "sign_pss",
    "verify_ecdsa",
    "verify_ecdsa_raw",
    "verify_ed25519",
    "verify_pkcs1_raw",
    "verify_pkcs1_v15",
    "verify_pss",
]


class SignatureError(CryptoError):
    """A key, certificate or signature that cannot be used."""


PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey

# the NIST curves RFC 4754 defines methods for, by OpenSSL name: (hash, AUTH method)
EC_CURVES = {"secp256r1": ("sha256", 9), "secp384r1": ("sha384", 10), "secp521r1": ("sha512", 11)}


@dataclass(frozen=True, slots=True)
class Signer:
    """A private key ready to sign: RSA, ECDSA (any curve OpenSSL knows) or Ed25519 (the key
    stays out of ``repr``)."""

    key: PrivateKey = field(repr=False)

    @property
    def kind(self) -> str:
        """ "rsa", "ecdsa" or "ed25519" (as ``public_key_kind`` names public keys)."""
        if isinstance(self.key, rsa.RSAPrivateKey):
            return "rsa"
        return "ecdsa" if isinstance(self.key, ec.EllipticCurvePrivateKey) else "ed25519"

    @property
    def curve(self) -> str | None:
        """The OpenSSL name of an ECDSA key's curve ("secp256r1", ...), else None."""
        return self.key.curve.name if isinstance(self.key, ec.EllipticCurvePrivateKey) else None

    @property
    def public_der(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def load_signer(private_pem: str | bytes) -> Signer:
    """An RSA, EC or Ed25519 private key from PEM (PKCS#1, SEC 1 or PKCS#8, unencrypted).

    Loading checks the key's consistency (about 75 ms for RSA-2048), so the signers of the
    last few PEMs are kept: every IKE SA signs with the same configured key."""
    return _load_signer(private_pem.encode() if isinstance(private_pem, str) else private_pem)


@functools.lru_cache(maxsize=16)
def _load_signer(data: bytes) -> Signer:
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as e:
        raise SignatureError("not an unencrypted PEM private key") from e
    if not isinstance(
        key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)
    ):
        raise SignatureError("not an RSA, ECDSA or Ed25519 private key")
    return Signer(key)


def _rsa_key(signer: Signer) -> rsa.RSAPrivateKey:
    if not isinstance(signer.key, rsa.RSAPrivateKey):
        raise SignatureError(f"an {signer.kind} key cannot make an RSA signature")
    return signer.key


def _rsa_sign_block(numbers: rsa.RSAPrivateNumbers, block: bytes, rng: Rng) -> bytes:
    """RSASP1 of the encoded block (as long as the modulus), blinded with a factor from rng.

    The private operation uses the Chinese remainder theorem (RFC 8017 §5.1.2, 2.b: two
    half-size exponentiations, about three times faster than one with d), and the result is
    checked against the public exponent before it leaves, so that a faulty computation never
    hands out a signature that would reveal a prime factor."""
    n, e = numbers.public_numbers.n, numbers.public_numbers.e
    k = (n.bit_length() + 7) // 8
    m = int.from_bytes(block, "big")
    if m >= n:
        raise SignatureError("encoded message out of range for the key")
    while True:  # blinding: s = (m * r^e)^d * r^-1 mod n
        r = int.from_bytes(rng(k), "big") % n
        if r > 1 and gcd(r, n) == 1:
            break
    c = m * pow(r, e, n) % n
    p, q = numbers.p, numbers.q
    s1, s2 = pow(c, numbers.dmp1, p), pow(c, numbers.dmq1, q)
    blinded = s2 + q * (numbers.iqmp * (s1 - s2) % p)
    s = blinded * pow(r, -1, n) % n
    if pow(s, e, n) != m:
        raise SignatureError("RSA signing fault: the signature does not verify")
    return s.to_bytes(k, "big")


def sign_pkcs1_raw(signer: Signer, digest: bytes, rng: Rng) -> bytes:
    """EMSA-PKCS1-v1_5 block type 1 over ``digest`` itself (no DigestInfo), RSA-signed
    (IKEv1; the blinded pure-Python operation, module docstring)."""
    k = (_rsa_key(signer).key_size + 7) // 8
    if len(digest) > k - 11:
        raise SignatureError("hash too long for the key")
    block = b"\x00\x01" + b"\xff" * (k - 3 - len(digest)) + b"\x00" + digest
    return _rsa_sign_block(_rsa_key(signer).private_numbers(), block, rng)


_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def _hash_alg(hash_name: str) -> hashes.HashAlgorithm:
    try:
        return _HASHES[hash_name]()
    except KeyError:
        raise SignatureError(f"unsupported signature hash {hash_name!r}") from None


def sign_pkcs1_v15(signer: Signer, hash_name: str, data: bytes) -> bytes:
    """RSASSA-PKCS1-v1_5 (RFC 8017 §8.2.1) of ``data`` with hash ``hash_name`` (sha1/sha2)."""
    alg = _hash_alg(hash_name)
    try:
        return _rsa_key(signer).sign(data, padding.PKCS1v15(), alg)
    except ValueError as e:  # a key too short for the DigestInfo
        raise SignatureError(f"cannot sign: {e}") from e


def sign_pss(signer: Signer, hash_name: str, data: bytes, salt_length: int | None = None) -> bytes:
    """RSASSA-PSS (RFC 8017 §8.1.1): EMSA-PSS with MGF1(``hash_name``), salt from OpenSSL.

    ``salt_length`` defaults to the hash length (what RFC 7427 A.4.3 and strongSwan use).
    """
    alg = _hash_alg(hash_name)
    salt = alg.digest_size if salt_length is None else salt_length
    try:
        return _rsa_key(signer).sign(
            data, padding.PSS(mgf=padding.MGF1(alg), salt_length=salt), alg
        )
    except ValueError as e:
        raise SignatureError("key too short for PSS with this hash and salt") from e


def sign_ecdsa(signer: Signer, hash_name: str, data: bytes) -> bytes:
    """ECDSA (FIPS 186-4) of ``data`` with ``hash_name``: the DER Ecdsa-Sig-Value (RFC 3279),
    as RFC 7427 carries it."""
    return _ec_key(signer).sign(data, ec.ECDSA(_hash_alg(hash_name)))


def _ec_key(signer: Signer) -> ec.EllipticCurvePrivateKey:
    if not isinstance(signer.key, ec.EllipticCurvePrivateKey):
        raise SignatureError(f"an {signer.kind} key cannot make an ECDSA signature")
    return signer.key


def sign_ecdsa_raw(signer: Signer, hash_name: str, data: bytes) -> bytes:
    """ECDSA as r | s, each as long as the curve's order (RFC 4754 §7)."""
    r, s = decode_dss_signature(sign_ecdsa(signer, hash_name, data))
    size = (_ec_key(signer).curve.key_size + 7) // 8
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def sign_ed25519(signer: Signer, data: bytes) -> bytes:
    """Ed25519 (RFC 8032 §5.1.6, deterministic) over ``data`` itself."""
    if not isinstance(signer.key, ed25519.Ed25519PrivateKey):
        raise SignatureError(f"an {signer.kind} key cannot make an Ed25519 signature")
    return signer.key.sign(data)


def _public_key(public_der: bytes) -> object | None:
    try:
        return serialization.load_der_public_key(public_der)
    except (ValueError, TypeError):
        return None


def public_key_kind(public_der: bytes) -> str | None:
    """ "rsa", "ecdsa", "ed25519" or None for a SubjectPublicKeyInfo (DER)."""
    key = _public_key(public_der)
    if isinstance(key, rsa.RSAPublicKey):
        return "rsa"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ecdsa"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ed25519"
    return None


def rsa_modulus_bits(public_der: bytes) -> int | None:
    """The modulus size of an RSA SubjectPublicKeyInfo, None for other keys."""
    key = _public_key(public_der)
    return key.key_size if isinstance(key, rsa.RSAPublicKey) else None


def verify_pkcs1_v15(public_der: bytes, hash_name: str, data: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is RSASSA-PKCS1-v1_5 with ``hash_name`` over ``data``."""
    key = _public_key(public_der)
    if not isinstance(key, rsa.RSAPublicKey) or hash_name not in _HASHES:
        return False
    try:
        key.verify(signature, data, padding.PKCS1v15(), _hash_alg(hash_name))
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_pss(
    public_der: bytes, hash_name: str, data: bytes, signature: bytes, salt_length: int
) -> bool:
    """Whether ``signature`` is RSASSA-PSS (MGF1 with the same hash) over ``data``."""
    key = _public_key(public_der)
    if not isinstance(key, rsa.RSAPublicKey) or hash_name not in _HASHES:
        return False
    alg = _hash_alg(hash_name)
    try:
        key.verify(
            signature, data, padding.PSS(mgf=padding.MGF1(alg), salt_length=salt_length), alg
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_ecdsa(public_der: bytes, hash_name: str, data: bytes, der_signature: bytes) -> bool:
    """Whether ``der_signature`` (Ecdsa-Sig-Value, RFC 3279) is ECDSA with that hash."""
    key = _public_key(public_der)
    if not isinstance(key, ec.EllipticCurvePublicKey) or hash_name not in _HASHES:
        return False
    try:
        key.verify(der_signature, data, ec.ECDSA(_hash_alg(hash_name)))
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_ecdsa_raw(
    public_der: bytes, hash_name: str, curve_name: str, data: bytes, signature: bytes
) -> bool:
    """ECDSA with the signature as r | s, each as long as the curve's order (RFC 4754 §7).

    ``curve_name`` ("secp256r1", "secp384r1", "secp521r1") must be the key's curve.
    """
    key = _public_key(public_der)
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != curve_name:
        return False
    size = (key.curve.key_size + 7) // 8
    if len(signature) != 2 * size:
        return False
    r = int.from_bytes(signature[:size], "big")
    s = int.from_bytes(signature[size:], "big")
    return verify_ecdsa(public_der, hash_name, data, encode_dss_signature(r, s))


def verify_pkcs1_raw(public_der: bytes, digest: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is the raw PKCS#1 v1.5 signature of ``digest`` by that key."""
    try:
        key = serialization.load_der_public_key(public_der)
    except (ValueError, TypeError):
        return False
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        recovered = key.recover_data_from_signature(signature, padding.PKCS1v15(), None)
    except (InvalidSignature, ValueError):
        return False
    return hmac.compare_digest(recovered, digest)


def verify_ed25519(public_der: bytes, data: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is Ed25519 (RFC 8032) over ``data`` itself."""
    key = _public_key(public_der)
    if not isinstance(key, ed25519.Ed25519PublicKey):
        return False
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def load_certificate(der: bytes) -> x509.Certificate:
    """A DER certificate, or SignatureError.

    cryptography parses a certificate's fields lazily: a peer's certificate whose subject,
    issuer, validity, key or extensions are malformed loads, then raises ValueError (or
    UnsupportedAlgorithm) where a field is first read. Every field IKE reads is touched here,
    so a malformed one is this SignatureError and nothing later."""
    try:
        cert = x509.load_der_x509_certificate(der)
        _ = (cert.subject, cert.issuer, cert.not_valid_before_utc, cert.not_valid_after_utc)
        _ = (cert.serial_number, cert.extensions, cert.public_key())
    except (ValueError, TypeError, UnsupportedAlgorithm, x509.InvalidVersion) as e:
        raise SignatureError("not a DER X.509 certificate") from e
    return cert


def certificate_der(pem: str | bytes) -> bytes:
    """The DER form of a PEM certificate."""
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        cert = x509.load_pem_x509_certificate(data)
    except ValueError as e:
        raise SignatureError("not a PEM X.509 certificate") from e
    return cert.public_bytes(serialization.Encoding.DER)


def certificate_public_key(der: bytes) -> bytes:
    """The SubjectPublicKeyInfo (DER) of a DER certificate."""
    return (
        load_certificate(der)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def certificate_subject(der: bytes) -> bytes:
    """The DER-encoded subject Name (the ID_DER_ASN1_DN identity, RFC 2407 §4.6.2.9)."""
    return load_certificate(der).subject.public_bytes()


def issued_by(der: bytes, issuer_der: bytes) -> bool:
    """Whether the certificate ``der`` carries a valid signature by ``issuer_der``'s key."""
    try:
        load_certificate(der).verify_directly_issued_by(load_certificate(issuer_der))
    except (SignatureError, ValueError, TypeError, InvalidSignature):
        return False
    return True


def public_key_der(pem: str | bytes) -> bytes:
    """The SubjectPublicKeyInfo DER of a PEM public (or private) key."""
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        return load_signer(data).public_der
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
