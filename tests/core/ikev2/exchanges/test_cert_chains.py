"""IKEv2 certificate authentication beyond the basics (RFC 7296 §3.5-§3.8, RFC 7427, RFC 4945
§3.1): what goes into CERT and CERTREQ payloads, paths through an intermediate that only the
signer holds, revocation, validity dates, every ID type checked against the certificate, the
pinned ``remote-certificate``, and method 1 beside method 14 - each verdict seen from the
initiator's side and from the responder's.

The PKI is the IKEv1 certificate tests' (``cryptography`` builds a root CA, an intermediate CA
and end-entity certificates; the fake clock's ``now`` is NOW on the wall clock). CA key hashes
are recomputed here with ``cryptography`` + hashlib from the DER SubjectPublicKeyInfo, not
with pyipsec's ``certcheck.key_hash`` (whose own test checks it against openssl).
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyipsec.core.credentials import Credential, Credentials
from pyipsec.core.events import AuthenticationFailed, IkeSaEstablished
from pyipsec.core.ikev2 import sa_init, signatures
from pyipsec.core.profiles import AuthMethod, Identity
from pyipsec.wire.ikev2 import message as wm
from pyipsec.wire.ikev2.constants import AuthMethod as WireAuth
from pyipsec.wire.ikev2.constants import CertEncoding, ExchangeType, NotifyType
from pyipsec.wire.ikev2.header import peek
from pyipsec.wire.ikev2.payloads import AuthPayload, CertPayload, CertReqPayload
from tests.core.ikev1.exchanges.harness import A_ADDR, B_ADDR, Net, assert_pairs_match
from tests.core.ikev1.exchanges.test_certificates import (
    A_KEY,
    B_KEY,
    CA,
    CA_KEY,
    DAY,
    INT_KEY,
    INTERMEDIATE,
    NOW,
    OTHER_KEY,
    cert,
    crl,
    key,
    pem,
)

from .harness import Opener, ike2_pair

A_SAN: list[x509.GeneralName] = [
    x509.DNSName("a.lab.example"),
    x509.RFC822Name("vpn@a.lab.example"),
    x509.IPAddress(A_ADDR),
    x509.IPAddress(ipaddress.IPv6Address("2001:db8::a")),
]
B_SAN: list[x509.GeneralName] = [x509.DNSName("b.lab.example"), x509.IPAddress(B_ADDR)]
A_ROOT = cert("a.lab.example", A_KEY, "lab ca", CA_KEY, san=A_SAN, serial=0xA1)
B_ROOT = cert("b.lab.example", B_KEY, "lab ca", CA_KEY, san=B_SAN, serial=0xB1)
A_VIA_INT = cert("a.lab.example", A_KEY, "lab intermediate", INT_KEY, san=A_SAN, serial=0xA2)
B_VIA_INT = cert("b.lab.example", B_KEY, "lab intermediate", INT_KEY, san=B_SAN, serial=0xB2)

ROLES = ["a-initiates", "b-initiates"]


def run(
    *,
    a_cert: bytes = A_ROOT,
    b_cert: bytes = B_ROOT,
    a_extra: dict[str, Credential] | None = None,
    b_extra: dict[str, Credential] | None = None,
    a_crls: Sequence[bytes] = (),
    b_crls: Sequence[bytes] = (),
    a_peer: dict[str, object] | None = None,
    b_peer: dict[str, object] | None = None,
    initiator: str = "a-initiates",
    prepare: Callable[[Net], None] | None = None,
) -> Net:
    """A and B with rsa-signature ike2 peers, each trusting the lab CA and holding its own
    certificate (plus ``*_extra`` store entries and ``*_crls``); ``prepare`` sees the net,
    then one side acquires."""
    common: dict[str, object] = {
        "auth_method": AuthMethod.RSA_SIGNATURE,
        "certificate": "mine",
        "secret": b"",
    }
    net, pa, pb = ike2_pair(
        peer_a={**common, **(a_peer or {})}, peer_b={**common, **(b_peer or {})}
    )
    for side, own, k, extra, crls in (
        (net.a, a_cert, A_KEY, a_extra, a_crls),
        (net.b, b_cert, B_KEY, b_extra, b_crls),
    ):
        side.engine.credentials = Credentials(
            certificates={
                "ca": Credential(certificate=CA, trusted=True),
                "mine": Credential(certificate=own, private_key=pem(k)),
                **(extra or {}),
            },
            crls=tuple(crls),
        )
        side.engine.wall_clock_offset = NOW.timestamp() - net.now
    if prepare is not None:
        prepare(net)
    if initiator == "a-initiates":
        net.a.engine.acquire(pa, net.now)
    else:
        net.b.engine.acquire(pb, net.now)
    net.run(60)
    return net


def established(net: Net) -> None:
    assert net.a.of(IkeSaEstablished) and net.b.of(IkeSaEstablished), (net.a.events, net.b.events)
    assert not net.a.of(AuthenticationFailed) and not net.b.of(AuthenticationFailed)
    assert assert_pairs_match(net.a, net.b) == 1


def refused_by(net: Net, judge: str, reason: str) -> AuthenticationFailed:
    """``judge`` ('a' or 'b') refused the other's certificate for ``reason``; neither side is
    left with an IKE SA or a child SA, and the other side was told AUTHENTICATION_FAILED."""
    me, other = (net.a, net.b) if judge == "a" else (net.b, net.a)
    failed = me.of(AuthenticationFailed)
    assert failed, me.events
    assert reason in failed[0].reason, failed[0].reason
    told = other.of(AuthenticationFailed)
    assert told and "AUTHENTICATION_FAILED" in told[0].reason, other.events
    assert net.a.sas() == [] and net.b.sas() == []
    assert not [s for s in net.a.engine.ike.values() if s.established]
    assert not [s for s in net.b.engine.ike.values() if s.established]
    return failed[0]


def judge_of(initiator: str, signer: str) -> str:
    return "b" if signer == "a" else "a"


def exchange(net: Net, kind: ExchangeType) -> list[tuple[str, wm.Message]]:
    """The messages of exchange ``kind`` as (sender 'a'/'b', decoded message); protected ones
    opened with A's IKE SA keys."""
    sa = next(iter(net.a.engine.ike.values()))
    out = []
    opener = Opener()  # IKE_AUTH with certificates is fragmented (RFC 7383)
    for _, d in net.log:
        if peek(d.data).exchange != kind:
            continue
        sender = "a" if d.src[0] == A_ADDR else "b"
        if kind == ExchangeType.IKE_SA_INIT:
            out.append((sender, wm.decode(d.data)))
            continue
        keys = net.a.engine.sk_out(sa) if sender == "a" else net.a.engine.sk_in(sa)
        msg = opener.open(d.data, keys)
        if msg is not None:
            out.append((sender, msg))
    return out


def payloads_of(msg: wm.Message, cls: type[Any]) -> list[Any]:
    return [p for p in msg.payloads if isinstance(p, cls)]


def spki_sha1(der: bytes) -> bytes:
    spki = (
        x509.load_der_x509_certificate(der)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return hashlib.sha1(spki).digest()


# --- CERT payloads: the end entity first, then the intermediates we hold (§3.6) --------------


@pytest.mark.parametrize("initiator", ROLES)
def test_intermediate_held_only_by_the_signer_goes_out_in_a_cert_payload(initiator: str) -> None:
    """A's certificate is issued by the intermediate, which only A holds (trusted=no); B
    trusts only the root. A sends [its certificate, the intermediate] and B builds the path
    from them - as initiator (IKE_AUTH request) and as responder (IKE_AUTH response)."""
    net = run(
        a_cert=A_VIA_INT,
        a_extra={"int": Credential(certificate=INTERMEDIATE)},
        initiator=initiator,
    )
    established(net)
    (sent,) = [m for who, m in exchange(net, ExchangeType.IKE_AUTH) if who == "a"]
    certs = payloads_of(sent, CertPayload)
    assert [c.data for c in certs] == [A_VIA_INT, INTERMEDIATE]
    assert {c.encoding for c in certs} == {CertEncoding.X509_CERTIFICATE_SIGNATURE}
    # B's certificate comes straight from the root: B sends it alone, never the root
    (theirs,) = [m for who, m in exchange(net, ExchangeType.IKE_AUTH) if who == "b"]
    assert [c.data for c in payloads_of(theirs, CertPayload)] == [B_ROOT]


@pytest.mark.parametrize("initiator", ROLES)
def test_without_the_intermediate_on_either_side_the_path_fails(initiator: str) -> None:
    net = run(b_cert=B_VIA_INT, initiator=initiator)
    fail = refused_by(net, "a", "is not issued by a trusted CA")
    assert "b.lab.example" in fail.reason


def test_the_root_is_not_sent_even_when_the_store_holds_it_as_untrusted() -> None:
    other_root = cert("lab ca", CA_KEY, "lab ca", CA_KEY, ca=True)
    net = run(
        a_cert=A_VIA_INT,
        a_extra={
            "int": Credential(certificate=INTERMEDIATE),
            "root-copy": Credential(certificate=other_root),
        },
    )
    established(net)
    (sent,) = [m for who, m in exchange(net, ExchangeType.IKE_AUTH) if who == "a"]
    assert [c.data for c in payloads_of(sent, CertPayload)] == [A_VIA_INT, INTERMEDIATE]


# --- CERTREQ: SHA-1 of the trusted CAs' SubjectPublicKeyInfo (§3.7) --------------------------


def test_certreq_names_every_trusted_ca_by_its_key_hash() -> None:
    second_key = key()
    second_ca = cert("second ca", second_key, "second ca", second_key, ca=True)
    net = run(
        a_extra={"second": Credential(certificate=second_ca, trusted=True)},
        b_extra={"second": Credential(certificate=second_ca, trusted=True)},
    )
    established(net)
    expected = spki_sha1(CA) + spki_sha1(second_ca)
    # the responder's IKE_SA_INIT response and the initiator's IKE_AUTH request carry it
    (init_response,) = [m for who, m in exchange(net, ExchangeType.IKE_SA_INIT) if who == "b"]
    (req,) = payloads_of(init_response, CertReqPayload)
    assert (req.encoding, req.data) == (CertEncoding.X509_CERTIFICATE_SIGNATURE, expected)
    (init_request,) = [m for who, m in exchange(net, ExchangeType.IKE_SA_INIT) if who == "a"]
    assert payloads_of(init_request, CertReqPayload) == []  # §1.2: not in the first message
    (auth_request,) = [m for who, m in exchange(net, ExchangeType.IKE_AUTH) if who == "a"]
    (req,) = payloads_of(auth_request, CertReqPayload)
    assert req.data == expected
    (auth_response,) = [m for who, m in exchange(net, ExchangeType.IKE_AUTH) if who == "b"]
    assert payloads_of(auth_response, CertReqPayload) == []


def test_psk_peers_send_no_certreq() -> None:
    net, pa, _ = ike2_pair(peer_a={"secret": b"s3cret"}, peer_b={"secret": b"s3cret"})
    net.b.engine.credentials = Credentials(
        certificates={"ca": Credential(certificate=CA, trusted=True)}
    )
    net.a.engine.acquire(pa, net.now)
    net.run(30)
    assert net.b.of(IkeSaEstablished)
    for kind in (ExchangeType.IKE_SA_INIT, ExchangeType.IKE_AUTH):
        for _, msg in exchange(net, kind):
            assert payloads_of(msg, CertReqPayload) == []


# --- revocation and validity dates, judged by either role ------------------------------------


@pytest.mark.parametrize("initiator", ROLES)
def test_revoked_certificate_is_refused(initiator: str) -> None:
    net = run(a_crls=[crl("lab ca", CA_KEY, [0xB1])], initiator=initiator)
    fail = refused_by(net, "a", "revoked")
    assert "serial B1" in fail.reason and "lab ca" in fail.reason


@pytest.mark.parametrize("initiator", ROLES)
def test_revoked_intermediate_sent_by_the_peer_is_refused(initiator: str) -> None:
    inter = cert("lab intermediate", INT_KEY, "lab ca", CA_KEY, ca=True, serial=0x1717)
    net = run(
        b_cert=B_VIA_INT,
        b_extra={"int": Credential(certificate=inter)},
        a_crls=[crl("lab ca", CA_KEY, [0x1717])],
        initiator=initiator,
    )
    fail = refused_by(net, "a", "revoked")
    assert "lab intermediate" in fail.reason


@pytest.mark.parametrize("initiator", ROLES)
def test_expired_certificate_is_refused(initiator: str) -> None:
    old = cert("b.lab.example", B_KEY, "lab ca", CA_KEY, san=B_SAN, not_after=NOW - DAY)
    net = run(b_cert=old, initiator=initiator)
    fail = refused_by(net, "a", "expired on")
    assert "b.lab.example" in fail.reason


@pytest.mark.parametrize("initiator", ROLES)
def test_not_yet_valid_certificate_is_refused(initiator: str) -> None:
    early = cert("b.lab.example", B_KEY, "lab ca", CA_KEY, san=B_SAN, not_before=NOW + DAY)
    refused_by(run(b_cert=early, initiator=initiator), "a", "not valid before")


def test_wall_clock_offset_decides_validity() -> None:
    """The same certificate, expired a day ago on the wall clock, is fine when the engine's
    wall clock says it is two days earlier."""
    old = cert("b.lab.example", B_KEY, "lab ca", CA_KEY, san=B_SAN, not_after=NOW - DAY)
    net, pa, _ = ike2_pair(
        peer_a={"auth_method": AuthMethod.RSA_SIGNATURE, "certificate": "mine"},
        peer_b={"auth_method": AuthMethod.RSA_SIGNATURE, "certificate": "mine"},
    )
    for side, own, k in ((net.a, A_ROOT, A_KEY), (net.b, old, B_KEY)):
        side.engine.credentials = Credentials(
            certificates={
                "ca": Credential(certificate=CA, trusted=True),
                "mine": Credential(certificate=own, private_key=pem(k)),
            }
        )
        side.engine.wall_clock_offset = (NOW - 2 * DAY).timestamp() - net.now
    net.a.engine.acquire(pa, net.now)
    net.run(60)
    established(net)


# --- identities: each ID type against the certificate (RFC 4945 §3.1) ------------------------


@pytest.mark.parametrize("initiator", ROLES)
@pytest.mark.parametrize(
    "my_id",
    [
        Identity(kind="auto"),
        Identity(kind="fqdn", value="a.lab.example"),
        Identity(kind="user-fqdn", value="vpn@a.lab.example"),
        Identity(kind="address", value=str(A_ADDR)),
        Identity(kind="address", value="2001:db8::a"),
    ],
    ids=["dn", "fqdn", "rfc822", "ipv4", "ipv6"],
)
def test_id_named_by_the_certificate_is_accepted(initiator: str, my_id: Identity) -> None:
    net = run(a_peer={"my_id": my_id}, initiator=initiator)
    established(net)
    seen = next(iter(net.b.engine.ike.values())).peer_identity
    assert seen.id_type == {"auto": 9, "fqdn": 2, "user-fqdn": 3}.get(
        my_id.kind, 5 if ":" in my_id.value else 1
    )


@pytest.mark.parametrize("initiator", ROLES)
@pytest.mark.parametrize(
    ("my_id", "shown"),
    [
        (Identity(kind="fqdn", value="mallory.lab.example"), "fqdn:'mallory.lab.example'"),
        (Identity(kind="user-fqdn", value="boss@a.lab.example"), "user-fqdn:'boss@a.lab.example'"),
        (Identity(kind="address", value="203.0.113.77"), "ipv4:203.0.113.77"),
        (Identity(kind="address", value="2001:db8::b"), "ipv6:2001:db8::b"),
        (Identity(kind="key-id", value="a"), "ID type ID_KEY_ID cannot be checked"),
    ],
    ids=["fqdn", "rfc822", "ipv4", "ipv6", "key-id"],
)
def test_id_not_named_by_the_certificate_is_refused(
    initiator: str, my_id: Identity, shown: str
) -> None:
    """A claims an identity its certificate does not name; B refuses whichever role it has
    and says which ID and which certificate (the ipsec,error line's plain words)."""
    net = run(a_peer={"my_id": my_id}, initiator=initiator)
    fail = refused_by(net, "b", shown)
    if my_id.kind != "key-id":
        assert "is not named by its certificate" in fail.reason
        assert "a.lab.example" in fail.reason


@pytest.mark.parametrize("initiator", ROLES)
def test_dn_of_another_subject_is_refused(initiator: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """B signs with its own key and certificate but claims A's subject DN (a gateway
    impersonating another one of the same CA); A refuses, in either role."""
    a_dn = x509.load_der_x509_certificate(A_ROOT).subject.public_bytes()
    real = signatures.own_subject

    def prepare(net: Net) -> None:
        b_creds = net.b.engine.credentials
        monkeypatch.setattr(
            signatures,
            "own_subject",
            lambda creds, peer: a_dn if creds is b_creds else real(creds, peer),
        )

    fail = refused_by(run(prepare=prepare, initiator=initiator), "a", "not named by its")
    assert "dn:'O=pyipsec test, CN=a.lab.example'" in fail.reason
    assert "b.lab.example" in fail.reason


# --- remote-certificate pinning ----------------------------------------------------------------


@pytest.mark.parametrize("initiator", ROLES)
def test_pinned_remote_certificate_needs_no_path(initiator: str) -> None:
    """B pins A's certificate (issued by a CA B does not trust): accepted without a path."""
    rogue = cert("a.lab.example", A_KEY, "rogue ca", OTHER_KEY, san=A_SAN)
    net = run(
        a_cert=rogue,
        b_extra={"peer": Credential(certificate=rogue)},
        b_peer={"remote_certificate": "peer"},
        initiator=initiator,
    )
    established(net)


@pytest.mark.parametrize("initiator", ROLES)
def test_pinned_certificate_of_another_key_is_refused(initiator: str) -> None:
    """B pins a certificate for another key: A's signature does not verify with it."""
    other = cert("a.lab.example", OTHER_KEY, "lab ca", CA_KEY, san=A_SAN)
    net = run(
        b_extra={"peer": Credential(certificate=other)},
        b_peer={"remote_certificate": "peer"},
        initiator=initiator,
    )
    refused_by(net, "b", "signature does not verify")


# --- method 1 beside method 14 (RFC 7427 §4) --------------------------------------------------


def auth_methods(net: Net) -> dict[str, int]:
    return {
        who: payloads_of(m, AuthPayload)[0].method
        for who, m in exchange(net, ExchangeType.IKE_AUTH)
        if payloads_of(m, AuthPayload)
    }


@pytest.mark.parametrize("initiator", ROLES)
def test_signer_uses_method_1_towards_a_peer_without_signature_hash_algorithms(
    initiator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """B does not announce SIGNATURE_HASH_ALGORITHMS (as a peer without RFC 7427): A signs
    with method 1 (RSA PKCS#1 v1.5 SHA-1), B - which saw A's announcement - with method 14;
    each side verifies the other's method."""
    real = sa_init._status_notifies

    def prepare(net: Net) -> None:
        b_engine = net.b.engine

        def notifies(eng: Any, *args: Any) -> Any:
            out = real(eng, *args)
            if eng is b_engine:
                out = [n for n in out if n.type != NotifyType.SIGNATURE_HASH_ALGORITHMS]
            return out

        monkeypatch.setattr(sa_init, "_status_notifies", notifies)

    net = run(initiator=initiator, prepare=prepare)
    established(net)
    assert auth_methods(net) == {
        "a": WireAuth.RSA_DIGITAL_SIGNATURE,
        "b": WireAuth.DIGITAL_SIGNATURE,
    }


@pytest.mark.parametrize("initiator", ROLES)
def test_both_sides_use_method_14_when_both_announce(initiator: str) -> None:
    net = run(initiator=initiator)
    established(net)
    assert auth_methods(net) == {
        "a": WireAuth.DIGITAL_SIGNATURE,
        "b": WireAuth.DIGITAL_SIGNATURE,
    }
    # RFC 7427 §3: the AlgorithmIdentifier of sha256WithRSAEncryption (Appendix A.1.2)
    for _, m in exchange(net, ExchangeType.IKE_AUTH):
        data = payloads_of(m, AuthPayload)[0].data
        assert data[: 1 + data[0]] == bytes.fromhex("0f300d06092a864886f70d01010b0500")


# --- the peer's CERTREQ in our refusal line (§3.7) ----------------------------------------------

SECOND_KEY = key()
SECOND_CA = cert("second ca", SECOND_KEY, "second ca", SECOND_KEY, ca=True)


@pytest.mark.parametrize("initiator", ROLES)
def test_refusal_says_when_the_peer_asked_for_other_cas(initiator: str) -> None:
    """B trusts only another CA (and says so in its CERTREQ); it refuses A's certificate from
    the lab CA (A pinned B's certificate, so only B refuses). A's log line says the peer's
    CERTREQ named no CA on its path - whether A learnt it from B's IKE_SA_INIT response (A
    initiates) or B's IKE_AUTH request (B initiates)."""
    b_second = cert("b.lab.example", B_KEY, "second ca", SECOND_KEY, san=B_SAN)
    net = run(
        b_cert=b_second,
        b_extra={"ca": Credential(certificate=SECOND_CA, trusted=True)},
        a_extra={"b-pinned": Credential(certificate=b_second)},
        a_peer={"remote_certificate": "b-pinned"},  # A accepts B whatever its CA
        initiator=initiator,
    )
    refused = net.b.of(AuthenticationFailed)
    assert refused and "not issued by a trusted CA" in refused[0].reason, net.b.events
    (told,) = net.a.of(AuthenticationFailed)
    assert "AUTHENTICATION_FAILED" in told.reason
    assert "its CERTREQ asked for 1 CA, none of which is on the path" in told.reason, told
    assert "'O=pyipsec test, CN=a.lab.example'" in told.reason


@pytest.mark.parametrize("initiator", ROLES)
def test_no_hint_when_the_peer_asked_for_our_ca(initiator: str) -> None:
    net = run(a_crls=[crl("lab ca", CA_KEY, [0xB1])], initiator=initiator)
    (told,) = net.b.of(AuthenticationFailed)
    assert told.reason == "the peer refused our authentication (AUTHENTICATION_FAILED)"


@pytest.mark.parametrize("initiator", ROLES)
def test_own_certificate_without_its_private_key_is_a_plain_words_failure(initiator: str) -> None:
    """A's ``certificate=mine`` entry has no private key (imported without it): A cannot
    sign, says so, and nothing is installed on either side (core/certauth.own_certificate,
    which IKEv1 uses too)."""
    net = run(a_extra={"mine": Credential(certificate=A_ROOT)}, initiator=initiator)
    failed = net.a.of(AuthenticationFailed)
    assert failed, net.a.events
    assert failed[0].reason == "cannot authenticate: no certificate with a private key named 'mine'"
    assert net.a.sas() == [] and net.b.sas() == []
    assert not net.a.of(IkeSaEstablished)


# --- hostile CERT and CERTREQ payloads never escape the engine --------------------------------

_JUNK_CERTS = st.one_of(
    st.binary(max_size=300),
    st.builds(lambda n: A_ROOT[:n], st.integers(0, len(A_ROOT))),  # a certificate cut short
    st.builds(  # one flipped byte inside a real certificate
        lambda i, x: A_ROOT[:i] + bytes([A_ROOT[i] ^ (x or 1)]) + A_ROOT[i + 1 :],
        st.integers(0, len(A_ROOT) - 1),
        st.integers(0, 255),
    ),
    st.sampled_from([A_ROOT, CA, INTERMEDIATE, B_ROOT]),  # real ones, maybe the wrong one
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    certs=st.lists(st.tuples(st.sampled_from([4, 4, 4, 1, 12, 200]), _JUNK_CERTS), max_size=4),
    certreq=st.lists(st.tuples(st.sampled_from([4, 1, 99]), st.binary(max_size=70)), max_size=3),
    initiator=st.sampled_from(ROLES),
)
def test_junk_cert_and_certreq_payloads_end_as_a_refusal(
    certs: list[tuple[int, bytes]], certreq: list[tuple[int, bytes]], initiator: str
) -> None:
    """A signs correctly but its CERT payloads are replaced by junk (any encoding, cut or
    flipped certificates, certificates of others) and its CERTREQ by junk of any length. B
    (strict: an exception would surface here) either refuses A in plain words or - when the
    junk happens to hold A's own certificate first - accepts it; it never raises."""
    real_sign, real_certreq = signatures.sign, signatures.certreq

    def prepare(net: Net) -> None:
        a_creds = net.a.engine.credentials

        def sign(creds: Credentials, sa: Any, octets: bytes, rng: Any) -> list[Any]:
            out = real_sign(creds, sa, octets, rng)
            if creds is not a_creds:
                return out
            junk = [CertPayload(encoding=e, data=d) for e, d in certs]
            return [*junk, *[p for p in out if isinstance(p, AuthPayload)]]

        def junk_certreq(creds: Credentials, peer: Any) -> list[CertReqPayload]:
            if creds is not a_creds:
                return real_certreq(creds, peer)
            return [CertReqPayload(encoding=e, data=d) for e, d in certreq]

        signatures.sign = sign  # type: ignore[assignment]
        signatures.certreq = junk_certreq  # type: ignore[assignment]

    try:
        net = run(prepare=prepare, initiator=initiator)
    finally:
        signatures.sign, signatures.certreq = real_sign, real_certreq  # type: ignore[assignment]
    assert "internal-error" not in net.b.engine.stats()
    assert "internal-error" not in net.a.engine.stats()
    first_x509 = next((d for e, d in certs if e == 4), None)
    if first_x509 == A_ROOT:
        established(net)
    else:  # B judges A's IKE_AUTH message in either role (request or response)
        (refused,) = net.b.of(AuthenticationFailed)
        assert refused.reason.startswith(("peer ", "no certificate from the peer")), refused
        assert net.a.sas() == [] and net.b.sas() == []
