"""IKEv2 with RSA certificates (RFC 7296 §3.6, §3.8; RFC 7427): both ways, method 14 when the
peer announces SHA-2 hashes, identity checked against the certificate, a certificate from an
untrusted CA or one that does not name the claimed ID refused with AUTHENTICATION_FAILED.
Certificates come from ``cryptography`` (the IKEv1 certificate tests' CA)."""

from __future__ import annotations

from pyipsec.core.credentials import Credential, Credentials
from pyipsec.core.events import AuthenticationFailed, IkeSaEstablished
from pyipsec.core.profiles import AuthMethod, Identity
from pyipsec.wire.ikev2.constants import AuthMethod as WireAuth
from pyipsec.wire.ikev2.constants import ExchangeType
from pyipsec.wire.ikev2.header import peek
from tests.core.ikev1.exchanges.harness import Net, assert_pairs_match
from tests.core.ikev1.exchanges.test_certificates import (
    A_CERT,
    A_KEY,
    B_CERT,
    B_KEY,
    CA,
    NOW,
    OTHER_KEY,
    cert,
    pem,
)

from .harness import Opener, ike2_pair


def run(
    a_cert: bytes = A_CERT,
    *,
    my_id: Identity | None = None,
    b_trusts: bytes = CA,
    b_cert: bytes = B_CERT,
) -> Net:
    common: dict[str, object] = {
        "auth_method": AuthMethod.RSA_SIGNATURE,
        "certificate": "mine",
        "secret": b"",
    }
    net, pa, _ = ike2_pair(peer_a={**common, **({"my_id": my_id} if my_id else {})}, peer_b=common)
    net.a.engine.credentials = Credentials(
        certificates={
            "ca": Credential(certificate=CA, trusted=True),
            "mine": Credential(certificate=a_cert, private_key=pem(A_KEY)),
        }
    )
    net.b.engine.credentials = Credentials(
        certificates={
            "ca": Credential(certificate=b_trusts, trusted=True),
            "mine": Credential(certificate=b_cert, private_key=pem(B_KEY)),
        }
    )
    for side in (net.a, net.b):
        side.engine.wall_clock_offset = NOW.timestamp() - net.now
    net.a.engine.acquire(pa, net.now)
    net.run(60)
    return net


def auth_methods(net: Net) -> list[int]:
    """The AUTH methods of the IKE_AUTH messages (decrypted with the engines' own keys)."""
    out = []
    sa_a = next(iter(net.a.engine.ike.values()))
    opener = Opener()  # IKE_AUTH with certificates is fragmented (RFC 7383)
    for _, d in net.log:
        h = peek(d.data)
        if h.exchange != ExchangeType.IKE_AUTH:
            continue
        keys = net.a.engine.sk_in(sa_a) if h.response else net.a.engine.sk_out(sa_a)
        msg = opener.open(d.data, keys)
        if msg is None:
            continue
        out += [p.method for p in msg.payloads if type(p).__name__ == "AuthPayload"]
    return out


def test_certificates_both_ways_with_rfc7427_signatures() -> None:
    net = run()
    assert net.a.of(IkeSaEstablished) and net.b.of(IkeSaEstablished), net.b.events
    assert assert_pairs_match(net.a, net.b) == 1
    assert auth_methods(net) == [WireAuth.DIGITAL_SIGNATURE, WireAuth.DIGITAL_SIGNATURE]
    # my-id=auto with a certificate: the subject DN
    assert net.b.engine.ike and next(iter(net.b.engine.ike.values())).peer_identity.id_type == 9


def test_fqdn_identity_named_by_the_certificate() -> None:
    net = run(my_id=Identity(kind="fqdn", value="a.lab.example"))
    assert net.b.of(IkeSaEstablished), net.b.events


def test_identity_not_in_the_certificate_is_refused() -> None:
    net = run(my_id=Identity(kind="fqdn", value="mallory.lab.example"))
    (fail,) = net.b.of(AuthenticationFailed)
    assert "not named by its certificate" in fail.reason
    assert not net.b.of(IkeSaEstablished) and net.b.sas() == []
    assert "AUTHENTICATION_FAILED" in net.a.of(AuthenticationFailed)[0].reason


def test_certificate_of_an_untrusted_ca_is_refused() -> None:
    rogue = cert("a.lab.example", A_KEY, "rogue ca", OTHER_KEY)
    net = run(rogue)
    (fail,) = net.b.of(AuthenticationFailed)
    assert "trusted CA" in fail.reason
    assert net.b.sas() == [] and net.a.sas() == []


def test_responder_certificate_checked_by_the_initiator() -> None:
    rogue = cert("b.lab.example", B_KEY, "rogue ca", OTHER_KEY)
    net = run(b_cert=rogue)
    (fail,) = net.a.of(AuthenticationFailed)
    assert "trusted CA" in fail.reason
    assert not net.a.of(IkeSaEstablished) and net.a.sas() == []
    # B had established; A's Delete took its IKE SA and child away
    assert net.b.of(IkeSaEstablished) and net.b.sas() == [] and not net.b.engine.ike
