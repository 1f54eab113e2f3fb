"""A small RSA PKI for the certificate interop tests: root CA -> intermediate CA -> strongSwan's
certificates, root CA -> pyipsec's (shared by the IKEv1 and IKEv2 tests; issue 9, issue 10);
``ecdsa_chain_pki`` makes the same chain with ECDSA keys. Generated with pyca/cryptography for
every test module, nothing read from outside."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from pyipsec.io.labnet import WAN_A, WAN_B
from tests.interop.helpers import KEY_USAGE_CA

NOW = datetime.datetime.now(datetime.UTC)
DAY = datetime.timedelta(days=1)


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pyipsec cert lab"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem_key(k: PrivateKey) -> bytes:
    return k.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@dataclass
class Pki:
    """root CA -> intermediate CA -> strongSwan's certificates; root CA -> pyipsec's."""

    ca_key: PrivateKey
    int_key: PrivateKey
    b_key: PrivateKey
    files: dict[str, bytes]

    def issue(
        self,
        cn: str,
        key: PrivateKey,
        *,
        by_intermediate: bool = True,
        san: list[x509.GeneralName] | None = None,
        serial: int | None = None,
    ) -> bytes:
        issuer, issuer_key = (
            ("pyipsec lab intermediate", self.int_key)
            if by_intermediate
            else ("pyipsec lab root", self.ca_key)
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(cn))
            .issuer_name(_name(issuer))
            .public_key(key.public_key())
            .serial_number(serial or x509.random_serial_number())
            .not_valid_before(NOW - DAY)
            .not_valid_after(NOW + 30 * DAY)
            .add_extension(x509.SubjectAlternativeName(san or []), critical=False)
            .sign(issuer_key, _sig_hash(issuer_key))
        )
        return cert.public_bytes(serialization.Encoding.PEM)

    def crl(self, serials: list[int]) -> bytes:
        b = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(_name("pyipsec lab intermediate"))
            .last_update(NOW - DAY)
            .next_update(NOW + 7 * DAY)
        )
        for s in serials:
            b = b.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(s).revocation_date(NOW - DAY).build()
            )
        return b.sign(self.int_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def _sig_hash(issuer_key: PrivateKey) -> hashes.SHA256 | None:
    return None if isinstance(issuer_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


def _ca(cn: str, key: PrivateKey, issuer: str, issuer_key: PrivateKey) -> bytes:
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - DAY)
        .not_valid_after(NOW + 60 * DAY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(**KEY_USAGE_CA), critical=True)
        .sign(issuer_key, _sig_hash(issuer_key))
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def chain_pki() -> Pki:
    """A root CA, an intermediate CA it signs, and pyipsec's certificate for a.lab.example
    (ns a's wan address in its SAN) issued by the root: ``files`` holds ``ca.crt``,
    ``int.crt``, ``a.crt``, ``a.key`` and ``b.key`` as PEM; strongSwan's certificates come
    from ``Pki.issue`` (by the intermediate unless told otherwise) with ``b_key``."""
    return _chain(_key(), _key(), _key(), _key(), a_by_intermediate=False)


def ecdsa_chain_pki(a_key: PrivateKey | None = None) -> Pki:
    """``chain_pki`` with ECDSA: a P-384 root, a P-256 intermediate it signs, pyipsec's
    certificate for a.lab.example (``a_key``, by default P-256; ns a's wan address in its
    SAN) issued by the intermediate, and ``b_key`` P-384 for strongSwan's (``b_good``).
    ``files`` also holds ``a.crt`` and ``a.key``."""
    return _chain(
        ec.generate_private_key(ec.SECP384R1()),
        ec.generate_private_key(ec.SECP256R1()),
        a_key or ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP384R1()),
        a_by_intermediate=True,
    )


def _chain(
    ca_key: PrivateKey,
    int_key: PrivateKey,
    a_key: PrivateKey,
    b_key: PrivateKey,
    *,
    a_by_intermediate: bool,
) -> Pki:
    """The root, the intermediate it signs, pyipsec's a.lab.example certificate (with ns a's
    wan address in its SAN) by either, and the keys, as ``chain_pki`` describes."""
    p = Pki(ca_key=ca_key, int_key=int_key, b_key=b_key, files={})
    p.files = {
        "ca.crt": _ca("pyipsec lab root", ca_key, "pyipsec lab root", ca_key),
        "int.crt": _ca("pyipsec lab intermediate", int_key, "pyipsec lab root", ca_key),
        "a.crt": p.issue(
            "a.lab.example",
            a_key,
            by_intermediate=a_by_intermediate,
            san=[x509.DNSName("a.lab.example"), x509.IPAddress(ipaddress.ip_address(WAN_A))],
        ),
        "a.key": _pem_key(a_key),
        "b.key": _pem_key(b_key),
    }
    return p


def b_good(pki: Pki, **kw: object) -> bytes:
    """strongSwan's certificate for b.lab.example (and ns b's wan address), by default
    issued by the intermediate; ``kw`` go to ``Pki.issue``."""
    san = [x509.DNSName("b.lab.example"), x509.IPAddress(ipaddress.ip_address(WAN_B))]
    return pki.issue("b.lab.example", pki.b_key, san=san, **kw)  # type: ignore[arg-type]
