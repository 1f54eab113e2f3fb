"""crypto/signatures.py: IKEv1's raw PKCS#1 v1.5 signatures and certificate helpers."""

from __future__ import annotations

import datetime
import hashlib
import itertools

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from pyipsec.crypto import signatures as sig

_COUNTER = itertools.count()


def rng(n: int) -> bytes:
    return hashlib.shake_256(next(_COUNTER).to_bytes(8, "big")).digest(n)


KEY = rsa.generate_private_key(public_exponent=65537, key_size=1024)
PEM = KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()


def test_signature_is_textbook_rsa_over_type1_block_without_digestinfo() -> None:
    digest = hashlib.sha1(b"HASH_I").digest()
    signer = sig.load_signer(PEM)
    s = sig.sign_pkcs1_raw(signer, digest, rng)
    numbers = KEY.private_numbers()
    n, e = numbers.public_numbers.n, numbers.public_numbers.e
    block = pow(int.from_bytes(s, "big"), e, n).to_bytes(128, "big")
    assert block == b"\x00\x01" + b"\xff" * (128 - 3 - 20) + b"\x00" + digest
    # Blinding changes nothing in the result: RSA signing is deterministic.
    assert sig.sign_pkcs1_raw(signer, digest, rng) == s
    assert sig.verify_pkcs1_raw(signer.public_der, digest, s)
    assert not sig.verify_pkcs1_raw(signer.public_der, digest[:-1] + b"\0", s)
    assert not sig.verify_pkcs1_raw(signer.public_der, digest, s[:-1] + b"\0")
    assert not sig.verify_pkcs1_raw(b"not a key", digest, s)
    assert "PRIVATE" not in repr(signer) and str(numbers.d) not in repr(signer)


def _cert(
    subject: str, key: rsa.RSAPrivateKey, issuer: str, issuer_key: rsa.RSAPrivateKey
) -> bytes:
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(issuer_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


def test_certificate_helpers() -> None:
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    ca = _cert("ca", ca_key, "ca", ca_key)
    leaf = _cert("leaf", KEY, "ca", ca_key)
    assert sig.issued_by(leaf, ca) and not sig.issued_by(ca, leaf)
    assert sig.certificate_public_key(leaf) == sig.load_signer(PEM).public_der
    subject = sig.certificate_subject(leaf)
    assert subject == x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "leaf")]).public_bytes()
    pem = x509.load_der_x509_certificate(leaf).public_bytes(serialization.Encoding.PEM)
    assert sig.certificate_der(pem) == leaf
    assert sig.public_key_der(PEM) == sig.load_signer(PEM).public_der
