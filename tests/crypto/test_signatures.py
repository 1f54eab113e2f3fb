"""crypto/signatures.py: raw PKCS#1 v1.5 (IKEv1), PKCS#1 v1.5 and PSS (IKEv2), certificates.

The IKEv2 signatures are checked against ``cryptography`` (OpenSSL) as the independent side.
"""

from __future__ import annotations

import datetime
import hashlib
import itertools

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
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


def test_pkcs1_v15_with_digestinfo_equals_cryptography() -> None:
    # RFC 8017 §8.2: deterministic, so our blinded raw operation must give OpenSSL's bytes.
    signer = sig.load_signer(PEM)
    for name, alg in (("sha1", hashes.SHA1()), ("sha256", hashes.SHA256())):
        ours = sig.sign_pkcs1_v15(signer, name, b"signed octets", rng)
        assert ours == KEY.sign(b"signed octets", padding.PKCS1v15(), alg)
        assert sig.verify_pkcs1_v15(signer.public_der, name, b"signed octets", ours)
        assert not sig.verify_pkcs1_v15(signer.public_der, name, b"signed octetS", ours)
    assert not sig.verify_pkcs1_v15(signer.public_der, "md5", b"x", ours)
    assert not sig.verify_pkcs1_v15(b"junk", "sha256", b"signed octets", ours)


def test_pss_verified_by_cryptography() -> None:
    signer = sig.load_signer(PEM)
    for name, alg, salt in (("sha256", hashes.SHA256(), 32), ("sha384", hashes.SHA384(), 48)):
        s1 = sig.sign_pss(signer, name, b"octets", rng)
        s2 = sig.sign_pss(signer, name, b"octets", rng)
        assert s1 != s2  # salted from the rng
        KEY.public_key().verify(
            s1, b"octets", padding.PSS(mgf=padding.MGF1(alg), salt_length=salt), alg
        )
        assert sig.verify_pss(signer.public_der, name, b"octets", s2, salt)
        assert not sig.verify_pss(signer.public_der, name, b"octets", s2, salt - 1)
        assert not sig.verify_pss(signer.public_der, name, b"octetz", s2, salt)
    assert sig.public_key_kind(signer.public_der) == "rsa"
    assert sig.rsa_modulus_bits(signer.public_der) == 1024
    assert sig.public_key_kind(b"junk") is None


def test_a_faulty_crt_computation_never_leaves_as_a_signature() -> None:
    """RSA with the Chinese remainder theorem: one wrong half (a fault) would give a
    signature from which gcd(s^e - m, n) is a prime factor (the Bellcore attack). The result
    is checked with the public exponent and refused instead."""
    import types

    real = KEY.private_numbers()

    class Faulty:
        key_size = KEY.key_size

        def private_numbers(self) -> object:
            return types.SimpleNamespace(
                public_numbers=real.public_numbers, p=real.p, q=real.q,
                dmp1=real.dmp1 ^ 2, dmq1=real.dmq1, iqmp=real.iqmp,
            )  # fmt: skip

    with pytest.raises(sig.SignatureError, match="fault"):
        sig.sign_pkcs1_v15(sig.RsaSigner(Faulty()), "sha256", b"x", lambda n: b"\x07" * n)  # type: ignore[arg-type]


def test_signers_are_loaded_once_per_key() -> None:
    """Loading validates the key (tens of milliseconds); every IKE SA signs with the same
    configured key, so the same PEM gives the same signer object."""
    assert sig.load_signer(PEM) is sig.load_signer(PEM.encode() if isinstance(PEM, str) else PEM)
