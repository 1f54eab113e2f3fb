"""pyipsec.crypto.certcheck: the extension policy it gives the verifier, DN comparison as
names, DN text, the identity match."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
from collections.abc import Callable

import pytest
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


def _ca(
    *, path_length: int | None = None, cert_sign: bool = True
) -> tuple[bytes, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    usage = x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=cert_sign, crl_sign=True,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip
    b = (
        x509.CertificateBuilder()
        .subject_name(name("root"))
        .issuer_name(name("root"))
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(T0)
        .not_valid_after(T0 + datetime.timedelta(days=9))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(usage, critical=True)
    )
    return b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER), key


def _issue(
    cn: str, issuer: str, key: ec.EllipticCurvePrivateKey, *, ca: bool = False
) -> tuple[bytes, ec.EllipticCurvePrivateKey]:
    own = ec.generate_private_key(ec.SECP256R1())
    b = (
        x509.CertificateBuilder()
        .subject_name(name(cn))
        .issuer_name(name(issuer))
        .public_key(own.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(T0)
        .not_valid_after(T0 + datetime.timedelta(days=9))
    )
    if ca:
        b = b.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    return b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER), own


AT = T0 + datetime.timedelta(days=1)


def test_path_is_returned_leaf_first() -> None:
    root, root_key = _ca()
    inter, inter_key = _issue("inter", "root", root_key, ca=True)
    leaf, _ = _issue("leaf", "inter", inter_key)
    chain = certcheck.verify_path(leaf, anchors=[root], intermediates=[inter], at=AT)
    assert [c.subject.rfc4514_string() for c in chain] == [
        "CN=leaf,O=pyipsec lab", "CN=inter,O=pyipsec lab", "CN=root,O=pyipsec lab",
    ]  # fmt: skip


def test_ca_key_usage_without_cert_sign_breaks_the_path() -> None:
    root, root_key = _ca(cert_sign=False)
    leaf, _ = _issue("leaf", "root", root_key)
    with pytest.raises(certcheck.CertificateRejected, match="keyCertSign"):
        certcheck.verify_path(leaf, anchors=[root], at=AT)


def test_path_length_constraint_holds() -> None:
    root, root_key = _ca(path_length=0)
    inter, inter_key = _issue("inter", "root", root_key, ca=True)
    leaf, _ = _issue("leaf", "inter", inter_key)
    with pytest.raises(certcheck.CertificateRejected, match="path length"):
        certcheck.verify_path(leaf, anchors=[root], intermediates=[inter], at=AT)


def test_garbage_is_not_a_certificate_and_no_anchor_is_no_path() -> None:
    root, root_key = _ca()
    leaf, _ = _issue("leaf", "root", root_key)
    with pytest.raises(certcheck.SignatureError):
        certcheck.verify_path(b"\x30\x00", anchors=[root], at=AT)
    with pytest.raises(certcheck.CertificateRejected, match="no trusted CA"):
        certcheck.verify_path(leaf, anchors=[b"junk"], at=AT)


# --- what an IKEv2 sender puts in CERT and CERTREQ payloads (RFC 7296 §3.6, §3.7) --------------


def test_key_hash_is_sha1_of_the_subject_public_key_info_as_openssl_computes_it() -> None:
    """Known answer from an independent implementation: ``openssl x509 -pubkey`` extracts the
    SubjectPublicKeyInfo, ``openssl pkey -pubin -outform DER`` encodes it, ``openssl dgst
    -sha1`` hashes it."""
    import shutil
    import subprocess

    from tests.conftest import require

    require([] if shutil.which("openssl") else ["openssl"])
    root, _ = _ca()
    pem = x509.load_der_x509_certificate(root).public_bytes(serialization.Encoding.PEM)
    pub = subprocess.run(
        ["openssl", "x509", "-pubkey", "-noout"], input=pem, capture_output=True, check=True
    ).stdout
    spki = subprocess.run(
        ["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub, capture_output=True, check=True
    ).stdout
    digest = subprocess.run(
        ["openssl", "dgst", "-sha1", "-binary"], input=spki, capture_output=True, check=True
    ).stdout
    assert certcheck.key_hash(root) == digest
    assert len(digest) == 20


def test_issuer_chain_walks_up_to_below_the_root() -> None:
    root, root_key = _ca()
    inter, inter_key = _issue("inter", "root", root_key, ca=True)
    sub, sub_key = _issue("sub", "inter", inter_key, ca=True)
    leaf, _ = _issue("leaf", "sub", sub_key)
    other, _ = _issue("unrelated", "root", root_key, ca=True)
    # pool order does not matter; the root and unrelated certificates are not sent
    assert certcheck.issuer_chain(leaf, [root, other, inter, sub, b"junk"]) == [sub, inter]
    assert certcheck.issuer_chain(leaf, [root, inter]) == []  # the gap ends the walk
    assert certcheck.issuer_chain(leaf, []) == []
    assert certcheck.issuer_chain(root, [root, inter]) == []  # a root has nothing above
    assert certcheck.issuer_chain(leaf, [root, inter, sub], include_root=True) == [sub, inter, root]
    assert certcheck.issuer_chain(leaf, [inter, sub], include_root=True) == [sub, inter]


def test_issuer_chain_needs_the_issuers_signature_not_only_its_name() -> None:
    _, root_key = _ca()
    inter, inter_key = _issue("inter", "root", root_key, ca=True)
    impostor, _ = _issue("inter", "root", root_key, ca=True)  # same name, another key
    leaf, _ = _issue("leaf", "inter", inter_key)
    assert certcheck.issuer_chain(leaf, [impostor]) == []
    assert certcheck.issuer_chain(leaf, [impostor, inter]) == [inter]


def test_a_certificate_with_any_byte_flipped_fails_only_as_signature_error() -> None:
    """cryptography parses fields lazily: a certificate whose subject, issuer, validity or key
    is malformed loads and then raises ValueError (or InvalidVersion, UnsupportedAlgorithm)
    where the field is read. Flipping each byte of a real certificate in turn, every function
    a peer's certificate reaches either works or raises SignatureError (CertificateRejected is
    one): never anything else (found by the IKEv2 junk-CERT fuzz test, where a flipped byte in
    the subject escaped ``describe`` as ValueError)."""
    from pyipsec.crypto import signatures

    root, root_key = _ca()
    leaf, _ = _issue("leaf", "root", root_key)
    for i in range(len(leaf)):
        bad = leaf[:i] + bytes([leaf[i] ^ 0x01]) + leaf[i + 1 :]
        calls: list[tuple[Callable[..., object], tuple[object, ...], dict[str, object]]] = [
            (certcheck.verify_path, (bad,), {"anchors": [root], "intermediates": [bad], "at": AT}),
            (certcheck.check_dates, (bad, AT), {}),
            (certcheck.identity_matches, (bad, IdKind.FQDN, b"leaf"), {}),
            (certcheck.identity_matches, (bad, IdKind.DN, b"\x30\x00"), {}),
            (certcheck.subject_text, (bad,), {}),
            (certcheck.key_hash, (bad,), {}),
            (certcheck.issuer_chain, (bad, [root, bad]), {}),
            (certcheck.check_not_revoked, (bad,), {"issuers": [root, bad], "crls": []}),
            (signatures.certificate_public_key, (bad,), {}),
            (signatures.certificate_subject, (bad,), {}),
        ]
        for fn, args, kwargs in calls:
            with contextlib.suppress(certcheck.SignatureError):
                fn(*args, **kwargs)
    # a malformed store entry is skipped, never fatal to the path of a good certificate
    broken_root = root[:20] + bytes([root[20] ^ 0x01]) + root[21:]
    chain = certcheck.verify_path(leaf, anchors=[broken_root, root], at=AT)
    assert len(chain) == 2
