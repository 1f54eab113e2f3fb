"""Phase 1 with RSA signatures (RFC 2409 §5.1): certificates (rsa-signature) and raw keys
(rsa-key), then quick mode."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from pyipsec.core.credentials import Credential, Credentials
from pyipsec.core.events import AuthenticationFailed, IkeSaEstablished
from pyipsec.core.profiles import AuthMethod, ExchangeMode
from pyipsec.wire.ikev1.constants import IdentificationType

from .harness import Net, assert_pairs_match, site_to_site

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def key() -> rsa.RSAPrivateKey:  # 2048 bits: the certificate path check refuses less
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(k: rsa.RSAPrivateKey) -> str:
    return k.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def spki(k: rsa.RSAPrivateKey) -> bytes:
    return k.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def cert(cn: str, k: rsa.RSAPrivateKey, issuer: str, issuer_key: rsa.RSAPrivateKey) -> bytes:
    b = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(k.public_key())
        .serial_number(abs(hash(cn)) % 10**6 + 1)
        .not_valid_before(NOW)
        .not_valid_after(NOW + datetime.timedelta(days=3650))
    )
    if cn == issuer:  # a CA
        b = b.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    return b.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


CA_KEY, A_KEY, B_KEY, EVIL_KEY = key(), key(), key(), key()
CA = cert("lab ca", CA_KEY, "lab ca", CA_KEY)
A_CERT = cert("a.lab.example", A_KEY, "lab ca", CA_KEY)
B_CERT = cert("b.lab.example", B_KEY, "lab ca", CA_KEY)
EVIL_CERT = cert("a.lab.example", EVIL_KEY, "evil ca", EVIL_KEY)
# A's subject with B's key: what a pinned certificate for A must not accept A's signature with.
A_NAME_B_KEY = cert("a.lab.example", B_KEY, "lab ca", CA_KEY)


def set_clocks(net: Net) -> None:
    """The fake clock's ``now`` is a day after the certificates' notBefore on the wall clock."""
    for side in (net.a, net.b):
        side.engine.wall_clock_offset = (NOW + datetime.timedelta(days=1)).timestamp() - net.now


def creds(own: bytes, own_key: rsa.RSAPrivateKey, **extra: Credential) -> Credentials:
    certs = {
        "ca": Credential(certificate=CA, trusted=True),
        "mine": Credential(certificate=own, private_key=pem(own_key)),
        **extra,
    }
    return Credentials(certificates=certs)


@pytest.mark.parametrize("mode", [ExchangeMode.MAIN, ExchangeMode.AGGRESSIVE])
@pytest.mark.parametrize("pinned", [False, True])
def test_rsa_signature_with_certificates(mode: ExchangeMode, pinned: bool) -> None:
    common = {
        "auth_method": AuthMethod.RSA_SIGNATURE,
        "certificate": "mine",
        "exchange_mode": mode,
        "secret": b"",
    }
    net, pa, _ = site_to_site(
        peer_a={**common, "remote_certificate": "peer" if pinned else None},
        peer_b={**common, "remote_certificate": "peer" if pinned else None},
    )
    net.a.engine.credentials = creds(A_CERT, A_KEY, peer=Credential(certificate=B_CERT))
    net.b.engine.credentials = creds(B_CERT, B_KEY, peer=Credential(certificate=A_CERT))
    set_clocks(net)
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert net.a.of(IkeSaEstablished) and net.b.of(IkeSaEstablished), net.b.events
    assert assert_pairs_match(net.a, net.b) == 1
    sa = next(iter(net.b.engine.ike.values()))
    assert sa.peer_id is not None and sa.peer_id.id_type == IdentificationType.ID_DER_ASN1_DN


def test_certificate_from_an_untrusted_ca_is_refused() -> None:
    common = {"auth_method": AuthMethod.RSA_SIGNATURE, "certificate": "mine", "secret": b""}
    net, pa, _ = site_to_site(peer_a=common, peer_b=common)
    net.a.engine.credentials = creds(EVIL_CERT, EVIL_KEY)
    net.b.engine.credentials = creds(B_CERT, B_KEY)
    set_clocks(net)
    net.a.engine.acquire(pa, net.now)
    net.run(200)
    failed = net.b.of(AuthenticationFailed)
    assert failed and "trusted CA" in failed[0].reason
    assert not net.b.of(IkeSaEstablished) and net.b.backend.sas == {}


def test_pinned_remote_certificate_rejects_another_key() -> None:
    common = {"auth_method": AuthMethod.RSA_SIGNATURE, "certificate": "mine", "secret": b""}
    net, pa, _ = site_to_site(peer_a=common, peer_b={**common, "remote_certificate": "peer"})
    net.a.engine.credentials = creds(A_CERT, A_KEY)
    # B pins a certificate naming A but holding B's key: A's (valid, CA-issued) signature fails.
    net.b.engine.credentials = creds(B_CERT, B_KEY, peer=Credential(certificate=A_NAME_B_KEY))
    set_clocks(net)
    net.a.engine.acquire(pa, net.now)
    net.run(200)
    assert any("signature" in e.reason for e in net.b.of(AuthenticationFailed))
    assert not net.b.of(IkeSaEstablished)


def test_rsa_key() -> None:
    common = {"auth_method": AuthMethod.RSA_KEY, "key": "mine", "remote_key": "peer", "secret": b""}
    net, pa, _ = site_to_site(peer_a=common, peer_b=common)
    net.a.engine.credentials = Credentials(
        keys={
            "mine": Credential(private_key=pem(A_KEY), public_key=spki(A_KEY)),
            "peer": Credential(public_key=spki(B_KEY)),
        }
    )
    net.b.engine.credentials = Credentials(
        keys={
            "mine": Credential(private_key=pem(B_KEY), public_key=spki(B_KEY)),
            "peer": Credential(public_key=spki(A_KEY)),
        }
    )
    net.a.engine.acquire(pa, net.now)
    net.run(10)
    assert assert_pairs_match(net.a, net.b) == 1 and assert_pairs_match(net.b, net.a) == 1
    sa = next(iter(net.b.engine.ike.values()))
    assert sa.peer_id is not None and sa.peer_id.id_type == IdentificationType.ID_IPV4_ADDR
