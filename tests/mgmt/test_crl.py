"""/certificate import of CRLs (PEM and DER) into /certificate crl, and what the daemon's
compiled credentials hold of them."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from pyipsec.config.compile import credentials
from tests.mgmt.helpers import Console

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def crl(
    issuer: str, serials: Sequence[int], when: datetime.datetime
) -> x509.CertificateRevocationList:
    b = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .last_update(when)
        .next_update(when + datetime.timedelta(days=7))
    )
    for s in serials:
        b = b.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(s).revocation_date(when).build()
        )
    return b.sign(KEY, hashes.SHA256())


def der(c: x509.CertificateRevocationList) -> bytes:
    return c.public_bytes(serialization.Encoding.DER)


def test_import_crl_pem_then_newer_der(tmp_path: Path) -> None:
    first = crl("lab ca", [0xA1, 0xB2], T0)
    newer = crl("lab ca", [0xA1, 0xC3], T0 + datetime.timedelta(days=1))
    (tmp_path / "ca.crl").write_bytes(first.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "new.crl").write_bytes(der(newer))
    c = Console(files_dir=tmp_path)
    out = c.ok("/certificate import file-name=ca.crl")
    assert "crls-imported: 1" in out and "files-imported: 1" in out
    assert c.ok("/certificate crl print") == (
        ' 0 url="" issuer="CN=lab ca"\n'
        f'   fingerprint="{_sha256(der(first))}"\n'
        "   last-update=jan/01/2026 00:00:00 next-update=jan/08/2026 00:00:00\n"
        "   revoked=A1,B2\n\n"
    )
    assert credentials(c.store.load()).crls == (der(first),)
    # a newer CRL of the same issuer replaces it; the older one again changes nothing
    assert "crls-imported: 1" in c.ok("/certificate import file-name=new.crl")
    assert "crls-imported: 0" in c.ok("/certificate import file-name=ca.crl")
    assert c.ok("/certificate crl print count-only") == "1\n"
    assert "revoked=A1,C3" in c.ok("/certificate crl print")
    assert credentials(c.store.load()).crls == (der(newer),)
    c.ok("/certificate crl remove 0")
    assert credentials(c.store.load()).crls == ()


def test_crls_of_two_issuers_and_a_certificate_in_one_file(tmp_path: Path) -> None:
    from tests.mgmt.test_keys_certificates import DATA

    bundle = (
        (DATA / "gw1.crt").read_bytes()
        + crl("ca one", [1], T0).public_bytes(serialization.Encoding.PEM)
        + crl("ca two", [2], T0).public_bytes(serialization.Encoding.PEM)
    )
    (tmp_path / "bundle.pem").write_bytes(bundle)
    c = Console(files_dir=tmp_path)
    out = c.ok("/certificate import file-name=bundle.pem")
    assert "certificates-imported: 1" in out and "crls-imported: 2" in out
    assert c.ok("/certificate crl print count-only") == "2\n"
    assert c.ok("/certificate print count-only") == "1\n"


def test_long_revocation_list_prints_shortened(tmp_path: Path) -> None:
    (tmp_path / "big.crl").write_bytes(der(crl("lab ca", range(1, 101), T0)))
    c = Console(files_dir=tmp_path)
    c.ok("/certificate import file-name=big.crl")
    assert ",20,...(+68)" in c.ok("/certificate crl print")


def _sha256(data: bytes) -> str:
    digest = hashes.Hash(hashes.SHA256())
    digest.update(data)
    return digest.finalize().hex()
