"""RSA keys, X.509 certificates and CRLs for ``/ip ipsec key`` and ``/certificate``.

The only place outside the cipher modules that touches ``cryptography`` for keys and
certificates: parse PEM/DER, generate RSA key pairs, and describe what was found as plain
records the configuration stores (PEM text plus the facts ``print`` shows).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----.+?-----END \1-----", re.S)


class PkiError(ValueError):
    """Input that is not a usable key or certificate."""


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyInfo:
    """A parsed key: PEM of the private part (if any) and of the public part."""

    private_pem: str | None
    public_pem: str
    key_type: str
    size: int
    public_der: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class CertInfo:
    """A parsed certificate and the facts ``/certificate print`` shows."""

    pem: str
    common_name: str
    subject: str
    issuer: str
    serial_number: str
    fingerprint: str  # SHA-256, lower-case hex
    key_type: str
    key_size: int
    not_before: datetime
    not_after: datetime
    authority: bool
    public_der: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class CrlInfo:
    """A parsed certificate revocation list and the facts ``/certificate crl print`` shows."""

    pem: str
    issuer: str
    fingerprint: str  # SHA-256 of the DER, lower-case hex
    this_update: datetime
    next_update: datetime | None
    revoked: tuple[str, ...]  # serial numbers, upper-case hex as /certificate shows them


def _describe_public(key: object) -> tuple[str, int]:
    if isinstance(key, rsa.RSAPublicKey):
        return "rsa", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ec", key.curve.key_size
    if isinstance(key, dsa.DSAPublicKey):
        return "dsa", key.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ed25519", 256
    return "unknown", 0


def _public_der(key: object) -> bytes:
    return key.public_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _key_info(private: object | None, public: object) -> KeyInfo:
    key_type, size = _describe_public(public)
    private_pem = None
    if private is not None:
        private_pem = private.private_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
    public_pem = public.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return KeyInfo(
        private_pem=private_pem,
        public_pem=public_pem,
        key_type=key_type,
        size=size,
        public_der=_public_der(public),
    )


def generate_rsa(bits: int) -> KeyInfo:
    """A new RSA key pair of ``bits`` bits (public exponent 65537)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return _key_info(key, key.public_key())


def _blocks(data: bytes) -> list[bytes]:
    found = [m.group(0) for m in _PEM_BLOCK.finditer(data)]
    return found if found else [data]


def _load_key_block(block: bytes, passphrase: bytes | None) -> KeyInfo | None:
    pem = block.startswith(b"-----")
    if pem and b"PRIVATE KEY" not in block and b"PUBLIC KEY" not in block:
        return None
    loaders_private = (
        serialization.load_pem_private_key if pem else serialization.load_der_private_key
    )
    try:
        private = loaders_private(block, password=passphrase or None)
        return _key_info(private, private.public_key())
    except (ValueError, TypeError):
        pass
    loaders_public = serialization.load_pem_public_key if pem else serialization.load_der_public_key
    try:
        public = loaders_public(block)
    except (ValueError, TypeError):
        return None
    return _key_info(None, public)


def load_keys(data: bytes, passphrase: str = "") -> list[KeyInfo]:
    """Every private or public key in a PEM bundle or a DER blob."""
    pw = passphrase.encode() if passphrase else None
    return [k for k in (_load_key_block(b, pw) for b in _blocks(data)) if k is not None]


def undecryptable_keys(data: bytes, passphrase: str = "") -> int:
    """How many private-key blocks of a PEM bundle could not be read (wrong passphrase...)."""
    pw = passphrase.encode() if passphrase else None
    return sum(
        1
        for b in _blocks(data)
        if b.startswith(b"-----BEGIN")
        and b"PRIVATE KEY" in b.split(b"\n", 1)[0]
        and _load_key_block(b, pw) is None
    )


def _cert_info(cert: x509.Certificate) -> CertInfo:
    cns = cert.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)
    cn = cns[0].value if cns else ""
    try:
        basic = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        authority = basic.ca
    except x509.ExtensionNotFound:
        authority = False
    public = cert.public_key()
    key_type, size = _describe_public(public)
    return CertInfo(
        pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
        common_name=str(cn),
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        serial_number=f"{cert.serial_number:X}",
        fingerprint=cert.fingerprint(hashes.SHA256()).hex(),
        key_type=key_type,
        key_size=size,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        authority=bool(authority),
        public_der=_public_der(public),
    )


_X = TypeVar("_X")


def _load_all(
    data: bytes, pem_label: bytes, load_pem: Callable[[bytes], _X], load_der: Callable[[bytes], _X]
) -> list[_X]:
    """Every object of one kind in a PEM bundle (blocks whose BEGIN line names ``pem_label``) or
    a DER blob; blocks of other kinds and ones that do not parse are skipped."""
    found = []
    for block in _blocks(data):
        try:
            if block.startswith(b"-----"):
                if pem_label not in block.split(b"\n", 1)[0]:
                    continue
                found.append(load_pem(block))
            else:
                found.append(load_der(block))
        except ValueError:
            continue
    return found


def load_certificates(data: bytes) -> list[CertInfo]:
    """Every certificate in a PEM bundle or a DER blob."""
    loaded = _load_all(
        data, b"CERTIFICATE", x509.load_pem_x509_certificate, x509.load_der_x509_certificate
    )
    return [_cert_info(cert) for cert in loaded]


def _crl_info(crl: x509.CertificateRevocationList) -> CrlInfo:
    return CrlInfo(
        pem=crl.public_bytes(serialization.Encoding.PEM).decode(),
        issuer=crl.issuer.rfc4514_string(),
        fingerprint=crl.fingerprint(hashes.SHA256()).hex(),
        this_update=crl.last_update_utc,
        next_update=crl.next_update_utc,
        revoked=tuple(f"{r.serial_number:X}" for r in crl),
    )


def load_crls(data: bytes) -> list[CrlInfo]:
    """Every CRL (RFC 5280 §5) in a PEM bundle or a DER blob."""
    loaded = _load_all(data, b"X509 CRL", x509.load_pem_x509_crl, x509.load_der_x509_crl)
    return [_crl_info(crl) for crl in loaded]


def self_signed(
    common_name: str, *, now: datetime, days: int, serial: int
) -> tuple[CertInfo, KeyInfo]:
    """A new P-256 key and a self-signed certificate for it, valid from ``now`` for ``days``
    days (the management services' TLS certificate when none is configured)."""
    from datetime import timedelta

    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(common_name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return _cert_info(cert), _key_info(key, key.public_key())
