"""What a peer's certificate must be before rsa-signature believes it (issue 9): valid at the
wall-clock time, on a path to a trusted CA (through intermediates of /certificate), not revoked
by an imported CRL, and naming the ID the peer claims.

A authenticates to B; B's verdict is what is tested. Each refusal must also leave B without
SAs and tell A with the notify RFC 2408 §3.14.1 names for it.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Sequence

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from pyipsec.core.credentials import Credential, Credentials
from pyipsec.core.events import AuthenticationFailed, IkeSaEstablished, NotifyReceived
from pyipsec.core.profiles import AuthMethod, Identity

from .harness import A_ADDR, Net, assert_pairs_match, site_to_site

NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)


def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(k: rsa.RSAPrivateKey) -> str:
    return k.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pyipsec test"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def cert(
    cn: str,
    k: rsa.RSAPrivateKey,
    issuer: str,
    issuer_key: rsa.RSAPrivateKey,
    *,
    ca: bool = False,
    san: Sequence[x509.GeneralName] = (),
    not_before: datetime.datetime = NOW - 30 * DAY,
    not_after: datetime.datetime = NOW + 365 * DAY,
    serial: int | None = None,
) -> bytes:
    b = (
        x509.CertificateBuilder()
        .subject_name(name(cn))
        .issuer_name(name(issuer))
        .public_key(k.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    if ca:
        b = b.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    if san:
        b = b.add_extension(x509.SubjectAlternativeName(list(san)), critical=False)
    return b.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def crl(issuer: str, issuer_key: rsa.RSAPrivateKey, serials: Sequence[int]) -> bytes:
    b = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(name(issuer))
        .last_update(NOW - DAY)
        .next_update(NOW + 7 * DAY)
    )
    for s in serials:
        b = b.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(s).revocation_date(NOW - DAY).build()
        )
    return b.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


CA_KEY, INT_KEY, A_KEY, B_KEY, OTHER_KEY = key(), key(), key(), key(), key()
CA = cert("lab ca", CA_KEY, "lab ca", CA_KEY, ca=True)
INTERMEDIATE = cert("lab intermediate", INT_KEY, "lab ca", CA_KEY, ca=True)
A_SAN = [
    x509.DNSName("a.lab.example"),
    x509.RFC822Name("vpn@a.lab.example"),
    x509.IPAddress(A_ADDR),
]
A_CERT = cert("a.lab.example", A_KEY, "lab ca", CA_KEY, san=A_SAN, serial=0xA1)
B_CERT = cert("b.lab.example", B_KEY, "lab ca", CA_KEY)


def run(
    a_cert: bytes,
    *,
    b_extra: dict[str, Credential] | None = None,
    crls: Sequence[bytes] = (),
    my_id: Identity | None = None,
    pinned: bool = False,
) -> Net:
    """A (holding ``a_cert`` for A_KEY) initiates main mode to B; run to the end."""
    common: dict[str, object] = {
        "auth_method": AuthMethod.RSA_SIGNATURE,
        "certificate": "mine",
        "secret": b"",
    }
    peer_a = {**common, **({"my_id": my_id} if my_id else {})}
    peer_b = {**common, **({"remote_certificate": "peer"} if pinned else {})}
    net, pa, _ = site_to_site(peer_a=peer_a, peer_b=peer_b)
    net.a.engine.credentials = Credentials(
        certificates={
            "ca": Credential(certificate=CA, trusted=True),
            "mine": Credential(certificate=a_cert, private_key=pem(A_KEY)),
        }
    )
    net.b.engine.credentials = Credentials(
        certificates={
            "ca": Credential(certificate=CA, trusted=True),
            "mine": Credential(certificate=B_CERT, private_key=pem(B_KEY)),
            **(b_extra or {}),
        },
        **({"crls": tuple(crls)} if crls else {}),  # type: ignore[arg-type]
    )
    for side in (net.a, net.b):  # the fake clock's now=1000 is NOW on the wall clock
        side.engine.wall_clock_offset = NOW.timestamp() - net.now
    net.a.engine.acquire(pa, net.now)
    net.run(60)
    return net


def established(net: Net) -> None:
    assert net.a.of(IkeSaEstablished) and net.b.of(IkeSaEstablished), net.b.events
    assert assert_pairs_match(net.a, net.b) == 1


def refused(net: Net, reason: str, notify: str = "AUTHENTICATION_FAILED") -> None:
    failed = net.b.of(AuthenticationFailed)
    assert failed, net.b.events
    assert reason in failed[0].reason, failed[0].reason
    assert not net.b.of(IkeSaEstablished) and net.b.backend.sas == {}
    assert any(n.notify == notify for n in net.a.of(NotifyReceived)), net.a.events


# --- validity dates ----------------------------------------------------------------------------


def test_current_certificate_is_accepted() -> None:
    established(run(A_CERT))


def test_expired_certificate_is_refused() -> None:
    old = cert("a.lab.example", A_KEY, "lab ca", CA_KEY, not_after=NOW - DAY)
    refused(run(old), "expired")


def test_not_yet_valid_certificate_is_refused() -> None:
    early = cert("a.lab.example", A_KEY, "lab ca", CA_KEY, not_before=NOW + DAY)
    refused(run(early), "not valid before")


def test_expired_pinned_remote_certificate_is_refused() -> None:
    old = cert("a.lab.example", A_KEY, "lab ca", CA_KEY, not_after=NOW - DAY)
    refused(run(old, b_extra={"peer": Credential(certificate=old)}, pinned=True), "expired")


def test_expired_ca_breaks_the_path() -> None:
    ca_key = key()
    old_ca = cert("old ca", ca_key, "old ca", ca_key, ca=True, not_after=NOW - DAY)
    a_cert = cert("a.lab.example", A_KEY, "old ca", ca_key)
    net = run(a_cert, b_extra={"old": Credential(certificate=old_ca, trusted=True)})
    refused(net, "trusted CA")


# --- paths through intermediates ----------------------------------------------------------------

A_VIA_INTERMEDIATE = cert("a.lab.example", A_KEY, "lab intermediate", INT_KEY)


def test_path_through_an_intermediate_of_the_store() -> None:
    net = run(A_VIA_INTERMEDIATE, b_extra={"int": Credential(certificate=INTERMEDIATE)})
    established(net)


def test_path_without_its_intermediate_is_refused() -> None:
    refused(run(A_VIA_INTERMEDIATE), "not issued by a trusted CA")


def test_end_entity_cannot_act_as_an_intermediate() -> None:
    # B's store holds an end-entity certificate named like the issuer: not a CA, no path.
    not_ca = cert("lab intermediate", INT_KEY, "lab ca", CA_KEY)
    net = run(A_VIA_INTERMEDIATE, b_extra={"int": Credential(certificate=not_ca)})
    refused(net, "not issued by a trusted CA")


def test_certificate_from_an_untrusted_ca_is_refused() -> None:
    evil_key = key()
    evil = cert("a.lab.example", A_KEY, "lab ca", evil_key, san=A_SAN)  # same issuer name
    refused(run(evil), "not issued by a trusted CA")


# --- revocation ------------------------------------------------------------------------------


def test_revoked_certificate_is_refused() -> None:
    refused(run(A_CERT, crls=[crl("lab ca", CA_KEY, [0xA1])]), "revoked")


def test_crl_not_listing_the_certificate_lets_it_pass() -> None:
    established(run(A_CERT, crls=[crl("lab ca", CA_KEY, [0xA2, 0xA3])]))


def test_crl_signed_by_another_key_is_ignored() -> None:
    # A CRL only counts when the certificate's issuer signed it.
    established(run(A_CERT, crls=[crl("lab ca", OTHER_KEY, [0xA1])]))


def test_revoked_pinned_remote_certificate_is_refused() -> None:
    net = run(
        A_CERT,
        b_extra={"peer": Credential(certificate=A_CERT)},
        pinned=True,
        crls=[crl("lab ca", CA_KEY, [0xA1])],
    )
    refused(net, "revoked")


def test_revoked_intermediate_breaks_the_path() -> None:
    inter = cert("lab intermediate", INT_KEY, "lab ca", CA_KEY, ca=True, serial=0x1717)
    net = run(
        A_VIA_INTERMEDIATE,
        b_extra={"int": Credential(certificate=inter)},
        crls=[crl("lab ca", CA_KEY, [0x1717])],
    )
    refused(net, "revoked")


# --- the claimed identity --------------------------------------------------------------------


@pytest.mark.parametrize(
    "my_id",
    [
        Identity(kind="fqdn", value="a.lab.example"),
        Identity(kind="user-fqdn", value="vpn@a.lab.example"),
        Identity(kind="address", value=str(A_ADDR)),
    ],
    ids=["fqdn", "user-fqdn", "ipv4"],
)
def test_id_named_by_the_certificate_is_accepted(my_id: Identity) -> None:
    established(run(A_CERT, my_id=my_id))


@pytest.mark.parametrize(
    "my_id",
    [
        Identity(kind="fqdn", value="b.lab.example"),
        Identity(kind="user-fqdn", value="boss@a.lab.example"),
        Identity(kind="address", value="203.0.113.77"),
    ],
    ids=["fqdn", "user-fqdn", "ipv4"],
)
def test_id_not_named_by_the_certificate_is_refused(my_id: Identity) -> None:
    refused(run(A_CERT, my_id=my_id), "is not named by its certificate", "INVALID_ID_INFORMATION")


def test_id_needs_a_subject_alt_name() -> None:
    # The common name is not a subjectAltName: an FQDN ID is not matched against it.
    bare = cert("a.lab.example", A_KEY, "lab ca", CA_KEY)
    net = run(bare, my_id=Identity(kind="fqdn", value="a.lab.example"))
    refused(net, "is not named by its certificate", "INVALID_ID_INFORMATION")


def test_id_is_checked_against_a_pinned_certificate() -> None:
    # B pins a certificate for A's key: an ID that certificate does not name is still refused.
    pinned = cert("a.lab.example", A_KEY, "lab ca", CA_KEY, san=[x509.DNSName("a.lab.example")])
    net = run(
        A_CERT,
        b_extra={"peer": Credential(certificate=pinned)},
        pinned=True,
        my_id=Identity(kind="fqdn", value="evil.lab.example"),
    )
    refused(net, "is not named by its certificate", "INVALID_ID_INFORMATION")


def test_dn_id_must_be_the_pinned_certificates_subject() -> None:
    # A sends its own subject DN (my-id=auto); B pinned another certificate for the same key.
    other_subject = cert("someone else", A_KEY, "lab ca", CA_KEY)
    net = run(A_CERT, b_extra={"peer": Credential(certificate=other_subject)}, pinned=True)
    refused(net, "is not named by its certificate", "INVALID_ID_INFORMATION")


def test_ipv4_id_does_not_match_a_differently_sized_address() -> None:
    from pyipsec.crypto import certcheck

    v6 = ipaddress.IPv6Address("2001:db8::1")
    c = cert("x", A_KEY, "lab ca", CA_KEY, san=[x509.IPAddress(v6)])
    assert certcheck.identity_matches(c, certcheck.IdKind.IPV6, v6.packed)
    assert not certcheck.identity_matches(c, certcheck.IdKind.IPV4, v6.packed[:4])
    assert not certcheck.identity_matches(
        c, certcheck.IdKind.IPV6, ipaddress.IPv6Address("2001:db8::2").packed
    )
