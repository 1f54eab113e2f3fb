"""IKEv2 with ECDSA and Ed25519 certificates signing for us (RFC 7427, RFC 4754, RFC 8420),
two engines in memory; IKEv1 stays RSA-only for our own signatures and says so.

Each side announces SHA-256/384/512 and Identity in SIGNATURE_HASH_ALGORITHMS, so every AUTH
is method 14: ECDSA with its curve's hash (P-256: SHA-256, P-384: SHA-384, P-521: SHA-512),
Ed25519 with id-Ed25519. The AUTH payloads are decrypted from the exchange and their
signatures checked with ``cryptography`` against the certificate's key (the independent side);
strongSwan checks them in tests/interop/test_strongswan_ikev2_ecdsa.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from pyipsec.core.credentials import Credential, Credentials
from pyipsec.core.events import AuthenticationFailed, IkeSaEstablished, NegotiationFailed
from pyipsec.core.ikev2.authdata import parse_digital_signature
from pyipsec.core.profiles import AuthMethod
from pyipsec.wire.ikev2.constants import ExchangeType
from pyipsec.wire.ikev2.header import peek
from tests.core.ikev1.exchanges import harness as ikev1_harness
from tests.core.ikev1.exchanges.harness import Net, assert_pairs_match
from tests.core.ikev1.exchanges.test_certificates import A_SAN, B_CERT, B_KEY, CA, CA_KEY, NOW
from tests.core.ikev1.exchanges.test_certificates import cert as make_cert
from tests.core.ikev1.exchanges.test_certificates import pem as rsa_pem

from .harness import Opener, ike2_pair

KEYS: dict[str, Any] = {
    "p256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "p384": lambda: ec.generate_private_key(ec.SECP384R1()),
    "p521": lambda: ec.generate_private_key(ec.SECP521R1()),
    "ed25519": ed25519.Ed25519PrivateKey.generate,
}
ALGORITHM = {
    "p256": "ecdsa-with-sha256",
    "p384": "ecdsa-with-sha384",
    "p521": "ecdsa-with-sha512",
    "ed25519": "ed25519",
    "rsa": "sha256WithRSAEncryption",
}


def pem(key: Any) -> str:
    return key.private_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def credentials(kind: str, cn: str, san: list[Any]) -> tuple[Credentials, bytes]:
    """Our CA and a certificate for ``cn`` with a key of ``kind`` ("rsa": B's RSA key)."""
    if kind == "rsa":
        cert, private = B_CERT, rsa_pem(B_KEY)
    else:
        key = KEYS[kind]()
        cert = make_cert(cn, key, "lab ca", CA_KEY, san=san)
        private = pem(key)
    creds = Credentials(
        certificates={
            "ca": Credential(certificate=CA, trusted=True),
            "mine": Credential(certificate=cert, private_key=private),
        }
    )
    return creds, cert


def run(a_kind: str, b_kind: str) -> Net:
    common: dict[str, object] = {
        "auth_method": AuthMethod.RSA_SIGNATURE,
        "certificate": "mine",
        "secret": b"",
    }
    net, pa, _ = ike2_pair(peer_a=common, peer_b=common)
    net.a.engine.credentials, _ = credentials(a_kind, "a.lab.example", A_SAN)
    net.b.engine.credentials, _ = credentials(b_kind, "b.lab.example", [])
    for side in (net.a, net.b):
        side.engine.wall_clock_offset = NOW.timestamp() - net.now
    net.a.engine.acquire(pa, net.now)
    net.run(60)
    return net


def auth_payloads(net: Net) -> list[tuple[bool, Any]]:
    """(is the response, AUTH payload) of the IKE_AUTH exchange, decrypted with A's keys."""
    out = []
    sa_a = next(iter(net.a.engine.ike.values()))
    opener = Opener()
    for _, d in net.log:
        h = peek(d.data)
        if h.exchange != ExchangeType.IKE_AUTH:
            continue
        keys = net.a.engine.sk_in(sa_a) if h.response else net.a.engine.sk_out(sa_a)
        msg = opener.open(d.data, keys)
        if msg is not None:
            out += [(h.response, p) for p in msg.payloads if type(p).__name__ == "AuthPayload"]
    return out


@pytest.mark.parametrize(
    ("a_kind", "b_kind"),
    [("p256", "p384"), ("p521", "rsa"), ("ed25519", "p256"), ("rsa", "ed25519")],
)
def test_ecdsa_and_ed25519_certificates_sign_for_us(a_kind: str, b_kind: str) -> None:
    """The initiator signs with ``a_kind``, the responder with ``b_kind``; each verifies the
    other and the child SAs match."""
    net = run(a_kind, b_kind)
    assert net.a.of(IkeSaEstablished) and net.b.of(IkeSaEstablished), (net.a.events, net.b.events)
    assert assert_pairs_match(net.a, net.b) == 1
    auths = auth_payloads(net)
    assert [response for response, _ in auths] == [False, True]
    for (_, auth), kind in zip(auths, (a_kind, b_kind), strict=True):
        assert auth.method == 14
        assert parse_digital_signature(auth.data)[0].name == ALGORITHM[kind]


def test_a_peer_certificate_with_another_key_does_not_verify_an_ecdsa_signature() -> None:
    """A's P-256 certificate claims a.lab.example, but the key that signs is another P-256
    key: B refuses (the key of the certificate must verify the AUTH)."""
    common: dict[str, object] = {
        "auth_method": AuthMethod.RSA_SIGNATURE,
        "certificate": "mine",
        "secret": b"",
    }
    net, pa, _ = ike2_pair(peer_a=common, peer_b=common)
    certified = ec.generate_private_key(ec.SECP256R1())
    cert = make_cert("a.lab.example", certified, "lab ca", CA_KEY, san=A_SAN)  # type: ignore[arg-type]
    net.a.engine.credentials = Credentials(
        certificates={
            "ca": Credential(certificate=CA, trusted=True),
            "mine": Credential(
                certificate=cert, private_key=pem(ec.generate_private_key(ec.SECP256R1()))
            ),
        }
    )
    net.b.engine.credentials, _ = credentials("p384", "b.lab.example", [])
    for side in (net.a, net.b):
        side.engine.wall_clock_offset = NOW.timestamp() - net.now
    net.a.engine.acquire(pa, net.now)
    net.run(60)
    (fail,) = net.b.of(AuthenticationFailed)
    assert "does not verify" in fail.reason
    assert not net.b.of(IkeSaEstablished) and net.b.sas() == []


def test_ikev1_with_an_ecdsa_certificate_refuses_in_plain_words() -> None:
    """IKEv1 signs only with RSA (RFC 2409 §5.1 with the raw PKCS#1 v1.5 block; ECDSA in
    IKEv1, RFC 4754's methods for ISAKMP, is not implemented): an ECDSA certificate of ours
    fails phase 1 with a reason that says so, and no SA is installed."""
    common: dict[str, object] = {
        "auth_method": AuthMethod.RSA_SIGNATURE,
        "certificate": "mine",
        "secret": b"",
    }
    net, pa, _ = ikev1_harness.site_to_site(peer_a=common, peer_b=common)
    net.a.engine.credentials, _ = credentials("p256", "a.lab.example", A_SAN)
    net.b.engine.credentials, _ = credentials("rsa", "b.lab.example", [])
    for side in (net.a, net.b):
        side.engine.wall_clock_offset = NOW.timestamp() - net.now
    net.a.engine.acquire(pa, net.now)
    net.run(60)
    reasons = [e.reason for e in net.a.of(NegotiationFailed)]
    assert any("cannot sign: an ecdsa key cannot make an RSA signature" in r for r in reasons)
    assert net.a.sas() == [] and net.b.sas() == []
