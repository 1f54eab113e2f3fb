"""pyipsec.crypto.certcheck's own parts: DN comparison as names, DN text, the identity match."""

from __future__ import annotations

import datetime
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pyipsec.crypto import certcheck
from pyipsec.crypto.certcheck import IdKind

KEY = ec.generate_private_key(ec.SECP256R1())
T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def name(cn: str, *, printable: bool = False, org: str = "pyipsec lab") -> x509.Name:
    kind = x509.name._ASN1Type.PrintableString if printable else x509.name._ASN1Type.UTF8String
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org, kind),
            x509.NameAttribute(NameOID.COMMON_NAME, cn, kind),
        ]
    )


def cert(subject: x509.Name, san: list[x509.GeneralName] | None = None) -> bytes:
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(KEY.public_key())
        .serial_number(1)
        .not_valid_before(T0)
        .not_valid_after(T0 + datetime.timedelta(days=1))
    )
    if san:
        b = b.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return b.sign(KEY, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


GW = cert(name("gw.example.net"))


def test_dn_id_in_another_string_type_matches() -> None:
    # strongSwan encodes a configured DN with PrintableString where the CA used UTF8String
    other_encoding = name("gw.example.net", printable=True).public_bytes()
    assert other_encoding != name("gw.example.net").public_bytes()
    assert certcheck.identity_matches(GW, IdKind.DN, other_encoding)
    assert certcheck.identity_matches(GW, IdKind.DN, name("GW.Example.NET ").public_bytes())


def test_dn_id_naming_someone_else_does_not_match() -> None:
    assert not certcheck.identity_matches(GW, IdKind.DN, name("gx.example.net").public_bytes())
    assert not certcheck.identity_matches(
        GW, IdKind.DN, name("gw.example.net", org="other").public_bytes()
    )
    reordered = x509.Name(list(reversed(list(name("gw.example.net"))))).public_bytes()
    assert not certcheck.identity_matches(GW, IdKind.DN, reordered)
    assert not certcheck.identity_matches(GW, IdKind.DN, b"\x30\x05garbage")
    assert not certcheck.identity_matches(GW, IdKind.DN, b"")


def test_dn_text() -> None:
    assert certcheck.dn_text(name("gw").public_bytes()) == "O=pyipsec lab, CN=gw"
    assert certcheck.dn_text(b"\x01\x02").startswith("0x")


def test_subject_alt_names() -> None:
    v4, v6 = ipaddress.ip_address("198.51.100.7"), ipaddress.ip_address("2001:db8::7")
    c = cert(
        name("gw"),
        [
            x509.DNSName("gw.example.net"),
            x509.RFC822Name("admin@example.net"),
            x509.IPAddress(v4),
            x509.IPAddress(v6),
        ],
    )
    assert certcheck.identity_matches(c, IdKind.FQDN, b"GW.example.net.")
    assert not certcheck.identity_matches(c, IdKind.FQDN, b"example.net")
    assert not certcheck.identity_matches(c, IdKind.FQDN, b"*.example.net")
    assert certcheck.identity_matches(c, IdKind.USER_FQDN, b"Admin@Example.net")
    assert not certcheck.identity_matches(c, IdKind.USER_FQDN, b"root@example.net")
    assert certcheck.identity_matches(c, IdKind.IPV4, v4.packed)
    assert certcheck.identity_matches(c, IdKind.IPV6, v6.packed)
    assert not certcheck.identity_matches(c, IdKind.IPV4, bytes(4))
    assert not certcheck.identity_matches(c, IdKind.FQDN, b"\xff\xfe")
    # no subjectAltName at all: only the DN can match
    assert not certcheck.identity_matches(GW, IdKind.FQDN, b"gw.example.net")
