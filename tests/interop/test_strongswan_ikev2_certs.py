"""IKEv2 with RSA certificates between pyipsec (ns a, ``exchange-mode=ike2
auth-method=rsa-signature``) and strongSwan 5.9 (ns b, swanctl ``version = 2``, ``auth =
pubkey``), issue 10. The PKI (tests/interop/pki.py, shared with the IKEv1 certificate tests):
a root CA and an intermediate CA it signs, generated per module with ``cryptography``.

What strongSwan, the independent implementation, proves here:

- the path through the intermediate works with the intermediate held only by the side whose
  certificate it issued: pyipsec sends it in a second CERT payload and strongSwan, trusting
  only the root, builds the path from it ("received issuer cert"); strongSwan sends its own
  and pyipsec, trusting only the root, builds the path from that;
- pyipsec's CERTREQ names the root by the SHA-1 of its SubjectPublicKeyInfo: strongSwan finds
  the CA from the hash ("received cert request for" the root) and, left at its default
  ``send_cert = ifasked``, sends its certificate because of it;
- pyipsec signs with RFC 7427 (method 14, RSA PKCS#1 v1.5 SHA-256) after strongSwan's
  SIGNATURE_HASH_ALGORITHMS, and strongSwan's verifier accepts it;
- strongSwan's ECDSA P-256 certificate and its RFC 7427 ECDSA signature verify at pyipsec;
- each direction carries a ping both ways, strongSwan's IKE_AUTH with two certificates
  arriving in RFC 7383 fragments;
- with ``remote-certificate`` pinned, strongSwan at ``send_cert = never`` authenticates with
  the pinned key and no CERT payload;
- strongSwan identifying itself by FQDN, subject DN or address is matched against its
  certificate;
- strongSwan claiming an identity its certificate does not name is refused, in either role,
  with an ``ipsec,error`` line saying which ID and which certificate; so are a revoked and an
  expired certificate (the daemon's wall clock reaches the IKEv2 engine).
"""

from __future__ import annotations

import ipaddress
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from pyipsec.io.labnet import LAN_A, LAN_B, WAN_A, WAN_B, Lab
from tests.harness.strongswan import Charon
from tests.interop.helpers import (
    A_DN,
    Phase1,
    Phase2,
    bring_up,
    console,
    installed_spis,
    no_errors,
    ping,
    ping_until,
    ros_script,
    strongswan_pair,
    strongswan_site,
    swanctl_conf,
)
from tests.interop.pki import Pki, b_good, chain_pki
from tests.interop.test_strongswan_certs import initiate as swanctl_initiate
from tests.interop.test_strongswan_certs import wait_error
from tests.io.daemon_proc import DaemonProc

pytestmark = pytest.mark.netns

INITIATORS = ["strongswan", "pyipsec"]
P1 = Phase1("aes-128", "sha256", "modp2048")
P2 = Phase2("aes-128-cbc", "sha256", "none")
ROOT_DN = "O=pyipsec cert lab, CN=pyipsec lab root"
INT_DN = "O=pyipsec cert lab, CN=pyipsec lab intermediate"


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Lab, str, str]]:
    with strongswan_site("pyik2c") as lab_a_b:
        yield lab_a_b


@pytest.fixture(scope="module")
def pki() -> Pki:
    return chain_pki()


def a_via_intermediate(pki: Pki) -> bytes:
    """pyipsec's certificate for a.lab.example (and ns a's wan address), by the intermediate."""
    key = serialization.load_pem_private_key(pki.files["a.key"], password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    san: list[x509.GeneralName] = [
        x509.DNSName("a.lab.example"),
        x509.IPAddress(ipaddress.ip_address(WAN_A)),
    ]
    return pki.issue("a.lab.example", key, by_intermediate=True, san=san)


@contextmanager
def pair(
    site: tuple[Lab, str, str],
    tmp_path: Path,
    pki: Pki,
    *,
    a_cert: bytes,
    a_holds_intermediate: bool,
    b_cert: bytes,
    b_holds_intermediate: bool,
    b_id: str = "b.lab.example",
    crl: bytes | None = None,
    b_key: bytes | None = None,
    b_expects: str = A_DN,
    b_trusts: bytes | None = None,
    a_pins_b: bool = False,
    b_conn_extra: str = "",
) -> Iterator[tuple[DaemonProc, Charon]]:
    """pyipsec trusts the root and holds ``a_cert`` (and the intermediate, trusted=no, when
    told); strongSwan trusts the root (holding the intermediate too when told), claims
    ``b_id`` with ``b_cert`` and expects pyipsec's subject DN. strongSwan's send_cert stays at
    its default (ifasked)."""
    _lab, a, b = site
    files_a = {"ca.crt": pki.files["ca.crt"], "a.crt": a_cert, "a.key": pki.files["a.key"]}
    prelude = "/certificate\nimport file-name=ca.crt name=ca\n"
    if a_holds_intermediate:
        files_a["int.crt"] = pki.files["int.crt"]
        prelude += "import file-name=int.crt name=int\nset int trusted=no\n"
    prelude += "import file-name=a.crt name=a\nimport file-name=a.key\n"
    peer_extra = "exchange-mode=ike2 auth-method=rsa-signature certificate=a"
    if a_pins_b:
        files_a["b.crt"] = b_cert
        prelude += "import file-name=b.crt name=b\n"
        peer_extra += " remote-certificate=b"
    if crl is not None:
        files_a["lab.crl"] = crl
        prelude += "import file-name=lab.crl\n"
    for name, data in files_a.items():
        (tmp_path / name).write_bytes(data)
    script = ros_script(
        p1=P1,
        p2=P2,
        prelude=prelude,
        peer_extra=peer_extra,
    )
    conf = swanctl_conf(
        version=2,
        ike=P1.swan,
        esp=P2.swan,
        auth="pubkey",
        local_id=b_id,
        remote_id=f'"{b_expects}"',
        local_cert="b.crt",
        conn_extra=b_conn_extra,
    )
    files = {
        "x509ca/ca.crt": b_trusts or pki.files["ca.crt"],
        "x509/b.crt": b_cert,
        "private/b.key": b_key or pki.files["b.key"],
    }
    if b_holds_intermediate:
        files["x509ca/int.crt"] = pki.files["int.crt"]
    with strongswan_pair(a, b, tmp_path, script, conf, files=files) as (daemon, charon):
        yield daemon, charon


def check_tunnel(lab: Lab, a: str, b: str, daemon: DaemonProc, charon: Charon) -> str:
    """A ping each way, one SA pair; returns strongSwan's log."""
    assert ping(lab, a, LAN_A, LAN_B) == 3
    assert ping(lab, b, LAN_B, LAN_A) == 3
    assert len(installed_spis(daemon.db)) == 2, console(daemon.db, "/ip ipsec installed-sa print")
    listed = charon.swanctl("--list-sas")
    assert "ESTABLISHED, IKEv2" in listed, listed
    assert f"remote '{A_DN}'" in listed, listed
    no_errors(daemon)
    return charon.log_tail(400)


def strongswan_accepted_our_signature(log: str) -> None:
    """strongSwan verified our AUTH as an RFC 7427 signature (method 14, PKCS#1 v1.5 with a
    SHA-2 hash), not as method 1 (it would log RSA_EMSA_PKCS1_SHA1)."""
    assert re.search(
        rf"authentication of '{re.escape(A_DN)}' with RSA_EMSA_PKCS1_SHA2_(256|384|512) successful",
        log,
    ), log


@pytest.mark.parametrize("initiator", INITIATORS)
def test_pyipsec_sends_its_intermediate(
    site: tuple[Lab, str, str], tmp_path: Path, pki: Pki, initiator: str
) -> None:
    """pyipsec's certificate comes from the intermediate, which only pyipsec holds: it must
    go out in pyipsec's CERT payloads for strongSwan (trusting only the root) to accept it."""
    lab, a, b = site
    with pair(
        site,
        tmp_path,
        pki,
        a_cert=a_via_intermediate(pki),
        a_holds_intermediate=True,
        b_cert=b_good(pki, by_intermediate=False),
        b_holds_intermediate=False,
    ) as (daemon, charon):
        line = bring_up(lab, a, b, daemon, charon, initiator)
        assert "exchange=ike2" in line, line
        log = check_tunnel(lab, a, b, daemon, charon)
        assert f'received issuer cert "{INT_DN}"' in log, log
        assert f'received cert request for "{ROOT_DN}"' in log, log
        strongswan_accepted_our_signature(log)


@pytest.mark.parametrize("initiator", INITIATORS)
def test_strongswan_sends_its_intermediate_when_our_certreq_asks(
    site: tuple[Lab, str, str], tmp_path: Path, pki: Pki, initiator: str
) -> None:
    """strongSwan's certificate comes from the intermediate, which only strongSwan holds;
    with send_cert=ifasked it sends both only because our CERTREQ asked, and pyipsec must
    build the path from what it received."""
    lab, a, b = site
    with pair(
        site,
        tmp_path,
        pki,
        a_cert=pki.files["a.crt"],
        a_holds_intermediate=False,
        b_cert=b_good(pki),
        b_holds_intermediate=True,
    ) as (daemon, charon):
        bring_up(lab, a, b, daemon, charon, initiator)
        log = check_tunnel(lab, a, b, daemon, charon)
        assert f'received cert request for "{ROOT_DN}"' in log, log
        assert "sending end entity cert" in log, log
        assert f'sending issuer cert "{INT_DN}"' in log, log
        # two certificates make strongSwan's IKE_AUTH exceed its 1280-byte fragment size: it
        # goes out as RFC 7383 fragments (we announced IKEV2_FRAGMENTATION_SUPPORTED)
        assert "splitting IKE message" in log, log
        strongswan_accepted_our_signature(log)


@pytest.mark.parametrize("initiator", INITIATORS)
def test_identity_not_named_by_the_certificate_is_refused(
    site: tuple[Lab, str, str], tmp_path: Path, pki: Pki, initiator: str
) -> None:
    """strongSwan, configured with ``id = *.lab.example``, holds a certificate (from the
    trusted root, otherwise fine) naming only b.lab.example. Its own wildcard rule lets it
    use that certificate for the ID it sends - ``*.lab.example`` verbatim as initiator, its
    address as responder - which the certificate does not name: pyipsec refuses (as
    responder with AUTHENTICATION_FAILED in its IKE_AUTH response, as initiator with an
    INFORMATIONAL carrying it), says which ID and which certificate, and installs no SA."""
    lab, a, _ = site
    dns_only = pki.issue("b.lab.example", pki.b_key, by_intermediate=False,
                         san=[x509.DNSName("b.lab.example")])  # fmt: skip
    with pair(
        site,
        tmp_path,
        pki,
        a_cert=pki.files["a.crt"],
        a_holds_intermediate=False,
        b_cert=dns_only,
        b_holds_intermediate=False,
        b_id="*.lab.example",
    ) as (daemon, charon):
        if initiator == "strongswan":
            ok, out = swanctl_initiate(charon, timeout=10)
            assert not ok, out
            claimed = "fqdn:'*.lab.example'"
        else:
            with pytest.raises(AssertionError, match="negotiation failed"):
                ping_until(lab, a, LAN_A, LAN_B, timeout=15, fail_on=daemon)
            claimed = f"ipv4:{WAN_B}"
        refusal = wait_error(daemon, "is not named by its certificate")
        assert "AuthenticationFailed" in refusal, refusal
        assert claimed in refusal and "b.lab.example" in refusal, refusal
        assert "sending end entity cert" in charon.log_tail(200)
        deadline = time.monotonic() + 10
        # strongSwan's words: "received AUTHENTICATION_FAILED notify error" (initiator),
        # "parsed INFORMATIONAL request 2 [ N(AUTH_FAILED) ]" then "IKE_SA deleted" (responder)
        told = "AUTHENTICATION_FAILED notify" if initiator == "strongswan" else "N(AUTH_FAILED)"
        while told not in charon.log_tail(200):
            assert time.monotonic() < deadline, charon.log_tail(200)
            time.sleep(0.2)
        assert installed_spis(daemon.db) == set()
        assert "INSTALLED" not in charon.swanctl("--list-sas")


def test_revoked_certificate_is_refused(
    site: tuple[Lab, str, str], tmp_path: Path, pki: Pki
) -> None:
    """strongSwan's certificate, sent with its intermediate, is on the intermediate's CRL
    imported into pyipsec: refused in plain words."""
    cert = b_good(pki, serial=0x7E7E)
    with pair(
        site,
        tmp_path,
        pki,
        a_cert=pki.files["a.crt"],
        a_holds_intermediate=False,
        b_cert=cert,
        b_holds_intermediate=True,
        crl=pki.crl([0x7E7E]),
    ) as (daemon, charon):
        ok, out = swanctl_initiate(charon, timeout=10)
        assert not ok, out
        refusal = wait_error(daemon, "revoked")
        assert "7E7E" in refusal and "b.lab.example" in refusal, refusal
        assert installed_spis(daemon.db) == set()


@pytest.mark.parametrize("initiator", INITIATORS)
def test_strongswan_ecdsa_certificate_is_verified(
    site: tuple[Lab, str, str], tmp_path: Path, pki: Pki, initiator: str
) -> None:
    """strongSwan authenticates with an ECDSA P-256 key (its certificate issued by the RSA
    root): it signs an RFC 7427 ECDSA-with-SHA-256 AUTH (we announced SHA-256), which pyipsec
    verifies with the key from the certificate; pyipsec still signs with RSA."""
    lab, a, b = site
    ec_key = ec.generate_private_key(ec.SECP256R1())
    san: list[x509.GeneralName] = [x509.DNSName("b.lab.example")]
    ec_cert = pki.issue("b.lab.example", ec_key, by_intermediate=False, san=san)  # type: ignore[arg-type]
    with pair(
        site,
        tmp_path,
        pki,
        a_cert=pki.files["a.crt"],
        a_holds_intermediate=False,
        b_cert=ec_cert,
        b_holds_intermediate=False,
        b_key=ec_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    ) as (daemon, charon):
        bring_up(lab, a, b, daemon, charon, initiator)
        log = check_tunnel(lab, a, b, daemon, charon)
        assert re.search(r"authentication of 'b.lab.example' \(myself\) with ECDSA", log), log
        strongswan_accepted_our_signature(log)


@pytest.mark.parametrize("b_trusts", ["our-root", "another-ca"])
def test_refusal_by_strongswan_names_its_certreq_when_it_trusts_other_cas(
    site: tuple[Lab, str, str], tmp_path: Path, pki: Pki, b_trusts: str
) -> None:
    """strongSwan (responder) refuses pyipsec's IKE_AUTH. Trusting our root, it refuses
    because it expects another identity, and its CERTREQ (the SHA-1 of the root's
    SubjectPublicKeyInfo as strongSwan computes it) matches the hash pyipsec computes for
    its root: the line is the bare refusal. Trusting only another CA, its CERTREQ names that
    CA and pyipsec's line adds that the peer asked for a CA not on our path."""
    lab, a, _ = site
    other_key = ec.generate_private_key(ec.SECP256R1())
    with pair(
        site,
        tmp_path,
        pki,
        a_cert=pki.files["a.crt"],
        a_holds_intermediate=False,
        b_cert=b_good(pki, by_intermediate=False),
        b_holds_intermediate=False,
        b_expects=A_DN if b_trusts == "another-ca" else "O=pyipsec cert lab, CN=c.lab.example",
        b_trusts=None if b_trusts == "our-root" else _self_signed_ca(other_key),
    ) as (daemon, _charon):
        with pytest.raises(AssertionError, match="negotiation failed"):
            ping_until(lab, a, LAN_A, LAN_B, timeout=15, fail_on=daemon)
        line = wait_error(daemon, "the peer refused our authentication")
        if b_trusts == "our-root":
            assert line.endswith("the peer refused our authentication (AUTHENTICATION_FAILED)")
        else:
            assert "its CERTREQ asked for 1 CA, none of which is on the path" in line, line
            assert "CN=a.lab.example" in line, line
        assert installed_spis(daemon.db) == set()


def _self_signed_ca(key: ec.EllipticCurvePrivateKey) -> bytes:
    import datetime

    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "another lab CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return ca.public_bytes(serialization.Encoding.PEM)


@pytest.mark.parametrize("initiator", INITIATORS)
@pytest.mark.parametrize("b_id", ["dn", "address"])
def test_strongswan_identity_types(
    site: tuple[Lab, str, str], tmp_path: Path, pki: Pki, initiator: str, b_id: str
) -> None:
    """strongSwan identifies itself by its certificate's subject DN (ID_DER_ASN1_DN, strongSwan
    encoding the configured DN with its own string types) or by its address
    (ID_IPV4_ADDR, a subjectAltName iPAddress of its certificate); pyipsec matches either
    against the certificate, in either role."""
    lab, a, b = site
    claimed = {"dn": '"O=pyipsec cert lab, CN=b.lab.example"', "address": WAN_B}[b_id]
    with pair(
        site,
        tmp_path,
        pki,
        a_cert=pki.files["a.crt"],
        a_holds_intermediate=False,
        b_cert=b_good(pki, by_intermediate=False),
        b_holds_intermediate=False,
        b_id=claimed,
    ) as (daemon, charon):
        bring_up(lab, a, b, daemon, charon, initiator)
        log = check_tunnel(lab, a, b, daemon, charon)
        assert f"authentication of '{claimed.strip(chr(34))}' (myself)" in log, log


def test_expired_certificate_is_refused(
    site: tuple[Lab, str, str], tmp_path: Path, pki: Pki
) -> None:
    """strongSwan's certificate (from the trusted root) expired yesterday by the wall clock
    the daemon hands the IKEv2 engine: refused, the line saying when it expired."""
    import datetime

    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    lab_name = "pyipsec cert lab"

    def name(cn: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, lab_name),
                x509.NameAttribute(NameOID.COMMON_NAME, cn),
            ]
        )

    expired = (
        x509.CertificateBuilder()
        .subject_name(name("b.lab.example"))
        .issuer_name(name("pyipsec lab root"))
        .public_key(pki.b_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=30))
        .not_valid_after(now - datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("b.lab.example")]), False)
        .sign(pki.ca_key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
    )
    with pair(
        site,
        tmp_path,
        pki,
        a_cert=pki.files["a.crt"],
        a_holds_intermediate=False,
        b_cert=expired,
        b_holds_intermediate=False,
    ) as (daemon, charon):
        ok, out = swanctl_initiate(charon, timeout=10)
        assert not ok, out
        refusal = wait_error(daemon, "expired on")
        assert "AuthenticationFailed" in refusal and "b.lab.example" in refusal, refusal
        day = (now - datetime.timedelta(days=1)).strftime("%Y-%m-%d")
        assert day in refusal, refusal
        assert installed_spis(daemon.db) == set()


@pytest.mark.parametrize("initiator", INITIATORS)
def test_pinned_remote_certificate_without_a_cert_payload(
    site: tuple[Lab, str, str], tmp_path: Path, pki: Pki, initiator: str
) -> None:
    """strongSwan never sends its certificate (``send_cert = never``); pyipsec pins it with
    ``remote-certificate=b`` and verifies strongSwan's AUTH with that key - no CERT payload,
    no path (its issuer, the intermediate, is in neither store)."""
    lab, a, b = site
    with pair(
        site,
        tmp_path,
        pki,
        a_cert=pki.files["a.crt"],
        a_holds_intermediate=False,
        b_cert=b_good(pki),
        b_holds_intermediate=False,
        a_pins_b=True,
        b_conn_extra="send_cert = never",
    ) as (daemon, charon):
        bring_up(lab, a, b, daemon, charon, initiator)
        log = check_tunnel(lab, a, b, daemon, charon)
        assert "sending end entity cert" not in log, log
        strongswan_accepted_our_signature(log)
