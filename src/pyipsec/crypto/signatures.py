"""RSA signatures as IKEv1 uses them (RFC 2409 §5.1), and the certificate facts it needs.

IKEv1 signs HASH_I/HASH_R directly: the hash is the PKCS#1 v1.5 block-type-1 payload with no
DigestInfo around it (what racoon's ``RSA_private_encrypt(..., RSA_PKCS1_PADDING)`` and
strongSwan's ``SIGN_RSA_EMSA_PKCS1_NULL`` do). The ``cryptography`` package only signs with a
DigestInfo, so the signature is computed here from the key's numbers, blinded with a random
factor from the caller's rng so that its timing does not depend on the private exponent's use
on attacker-known input; verification uses ``recover_data_from_signature`` with no hash, which
is exactly that raw recovery.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from math import gcd

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .base import CryptoError, Rng

__all__ = [
    "RsaSigner",
    "SignatureError",
    "certificate_der",
    "certificate_public_key",
    "certificate_subject",
    "issued_by",
    "load_certificate",
    "load_signer",
    "public_key_der",
    "sign_pkcs1_raw",
    "verify_pkcs1_raw",
]


class SignatureError(CryptoError):
    """A key, certificate or signature that cannot be used."""


@dataclass(frozen=True, slots=True)
class RsaSigner:
    """An RSA private key ready to sign (the key stays out of ``repr``)."""

    key: rsa.RSAPrivateKey = field(repr=False)

    @property
    def public_der(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def load_signer(private_pem: str | bytes) -> RsaSigner:
    """An RSA private key from PEM (PKCS#1 or PKCS#8, unencrypted)."""
    data = private_pem.encode() if isinstance(private_pem, str) else private_pem
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as e:
        raise SignatureError("not an unencrypted PEM private key") from e
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SignatureError("not an RSA private key")
    return RsaSigner(key)


def sign_pkcs1_raw(signer: RsaSigner, digest: bytes, rng: Rng) -> bytes:
    """EMSA-PKCS1-v1_5 block type 1 over ``digest`` itself (no DigestInfo), RSA-signed."""
    numbers = signer.key.private_numbers()
    n, d, e = numbers.public_numbers.n, numbers.d, numbers.public_numbers.e
    k = (n.bit_length() + 7) // 8
    if len(digest) > k - 11:
        raise SignatureError("hash too long for the key")
    block = b"\x00\x01" + b"\xff" * (k - 3 - len(digest)) + b"\x00" + digest
    m = int.from_bytes(block, "big")
    while True:  # blinding: s = (m * r^e)^d * r^-1 mod n
        r = int.from_bytes(rng(k), "big") % n
        if r > 1 and gcd(r, n) == 1:
            break
    s = pow(m * pow(r, e, n) % n, d, n) * pow(r, -1, n) % n
    return s.to_bytes(k, "big")


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


def load_certificate(der: bytes) -> x509.Certificate:
    """A DER certificate, or SignatureError."""
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError as e:
        raise SignatureError("not a DER X.509 certificate") from e


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
