"""IKEv2 with ECDSA and Ed25519 certificates signing for pyipsec, against strongSwan 5.9.8
(ns b, swanctl ``version = 2``, ``auth = pubkey``), issue 10.

The PKI is ECDSA throughout (``tests/interop/pki.py``: ``ecdsa_chain_pki``): a P-384 root, a
P-256 intermediate, pyipsec's certificate from the intermediate (P-256, P-384, P-521 or
Ed25519 key), strongSwan's (P-384) from the intermediate. Each side holds the intermediate
(pyipsec with ``trusted=no``) and sends it. strongSwan, the independent implementation,
verifies our AUTH and logs the scheme it verified:

- with RFC 7427 (strongSwan's default: it announces SHA-256/384/512 and Identity), method 14
  with ECDSA and the hash of our curve (``ECDSA_WITH_SHA256_DER`` ...) or Ed25519 (RFC 8420);
- with ``signature_authentication = no`` in strongswan.conf (no SIGNATURE_HASH_ALGORITHMS from
  strongSwan), RFC 4754 (methods 9-11: ``ECDSA-256``/``-384``/``-521`` signatures).

Every case runs each direction (strongSwan initiating with swanctl, pyipsec on traffic) and
carries a ping both ways and a TCP transfer each way.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from pyipsec.io.labnet import LAN_A, LAN_B, Lab, lab_prerequisites, two_sites
from tests.conftest import require
from tests.harness.strongswan import Charon, strongswan_prerequisites
from tests.interop.helpers import (
    Phase1,
    Phase2,
    bring_up,
    console,
    installed_spis,
    log_text,
    ping,
    ros_script,
    start_pyipsec,
    swanctl_conf,
    tcp_transfer,
    with_logs,
)
from tests.interop.pki import PrivateKey, b_good, ecdsa_chain_pki
from tests.io.daemon_proc import DaemonProc

pytestmark = pytest.mark.netns

INITIATORS = ["strongswan", "pyipsec"]
P1 = Phase1("aes-128", "sha256", "ecp256")
P2 = Phase2("aes-128-gcm", "null", "none")
A_DN = "O=pyipsec cert lab, CN=a.lab.example"
TRANSFER = 1 << 20

KEYS = {
    "p256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "p384": lambda: ec.generate_private_key(ec.SECP384R1()),
    "p521": lambda: ec.generate_private_key(ec.SECP521R1()),
    "ed25519": ed25519.Ed25519PrivateKey.generate,
}
# what strongSwan logs for verifying our AUTH: RFC 7427 (method 14) and RFC 4754 (9-11)
RFC7427_SCHEME = {
    "p256": "ECDSA_WITH_SHA256_DER",
    "p384": "ECDSA_WITH_SHA384_DER",
    "p521": "ECDSA_WITH_SHA512_DER",
    "ed25519": "ED25519",
}
RFC4754_SCHEME = {"p256": "ECDSA-256", "p384": "ECDSA-384", "p521": "ECDSA-521"}
NO_RFC7427 = "charon {\n    signature_authentication = no\n}\n"


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Lab, str, str]]:
    require(lab_prerequisites() + strongswan_prerequisites())
    with Lab(f"pyik2e{os.getpid()}") as lab:
        a, b = two_sites(lab)
        yield lab, a, b


@contextmanager
def pair(
    site: tuple[Lab, str, str], tmp_path: Path, a_key: PrivateKey, *, rfc7427: bool
) -> Iterator[tuple[DaemonProc, Charon]]:
    """pyipsec with ``a_key``'s certificate, strongSwan with its P-384 one, both from the
    ECDSA intermediate; strongSwan without RFC 7427 signatures unless ``rfc7427``."""
    _lab, a, b = site
    pki = ecdsa_chain_pki(a_key)
    for name in ("ca.crt", "int.crt", "a.crt", "a.key"):
        (tmp_path / name).write_bytes(pki.files[name])
    prelude = (
        "/certificate\nimport file-name=ca.crt name=ca\nimport file-name=int.crt name=int\n"
        "set int trusted=no\nimport file-name=a.crt name=a\nimport file-name=a.key\n"
    )
    script = ros_script(
        p1=P1,
        p2=P2,
        prelude=prelude,
        peer_extra="exchange-mode=ike2 auth-method=rsa-signature certificate=a",
    )
    conf = swanctl_conf(
        version=2,
        ike=P1.swan,
        esp=P2.swan,
        auth="pubkey",
        local_id="b.lab.example",
        remote_id=f'"{A_DN}"',
        local_cert="b.crt",
    )
    charon = Charon(b, tmp_path / "charon", conf, "" if rfc7427 else NO_RFC7427)
    files = {
        "x509ca/ca.crt": pki.files["ca.crt"],
        "x509ca/int.crt": pki.files["int.crt"],
        "x509/b.crt": b_good(pki),
        "private/b.key": pki.files["b.key"],
    }
    for rel, data in files.items():
        path = charon.state / "swanctl" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    charon.start()
    try:
        daemon = start_pyipsec(a, tmp_path / "a.db", script)
        try:
            with with_logs(daemon, charon):
                yield daemon, charon
        finally:
            rc = daemon.stop()
        assert rc == 0, log_text(daemon)
    finally:
        charon.stop()


def check_tunnel(lab: Lab, a: str, b: str, daemon: DaemonProc, charon: Charon) -> str:
    """Ping both ways, TCP each way, one SA pair; returns strongSwan's log."""
    assert ping(lab, a, LAN_A, LAN_B) == 3
    assert ping(lab, b, LAN_B, LAN_A) == 3
    tcp_transfer(lab, a, b, LAN_A, LAN_B, size=TRANSFER)
    tcp_transfer(lab, b, a, LAN_B, LAN_A, size=TRANSFER)
    assert len(installed_spis(daemon.db)) == 2, console(daemon.db, "/ip ipsec installed-sa print")
    listed = charon.swanctl("--list-sas")
    assert "ESTABLISHED, IKEv2" in listed and f"remote '{A_DN}'" in listed, listed
    daemon.read_log()
    errors = [line for line in daemon.log if "ipsec,error" in line]
    assert not errors, errors
    return charon.log_tail(400)


@pytest.mark.parametrize("initiator", INITIATORS)
@pytest.mark.parametrize("kind", list(KEYS))
def test_our_rfc7427_signature_with_an_ecdsa_or_ed25519_certificate(
    site: tuple[Lab, str, str], tmp_path: Path, kind: str, initiator: str
) -> None:
    """strongSwan announces its hashes (and Identity): pyipsec signs method 14 with ECDSA and
    its curve's hash, or Ed25519; strongSwan verifies it with the key of our certificate,
    which it accepts through the intermediate we send."""
    lab, a, b = site
    with pair(site, tmp_path, KEYS[kind](), rfc7427=True) as (daemon, charon):
        bring_up(lab, a, b, daemon, charon, initiator)
        log = check_tunnel(lab, a, b, daemon, charon)
        ok = f"authentication of '{A_DN}' with {RFC7427_SCHEME[kind]} successful"
        assert ok in log, log
        assert 'received issuer cert "O=pyipsec cert lab, CN=pyipsec lab intermediate"' in log


@pytest.mark.parametrize("initiator", INITIATORS)
@pytest.mark.parametrize("kind", list(RFC4754_SCHEME))
def test_our_rfc4754_signature_when_strongswan_does_without_rfc7427(
    site: tuple[Lab, str, str], tmp_path: Path, kind: str, initiator: str
) -> None:
    """strongSwan with ``signature_authentication = no`` sends no SIGNATURE_HASH_ALGORITHMS:
    pyipsec signs with RFC 4754's method for its curve (r | s), which strongSwan verifies;
    strongSwan itself signs RFC 4754 too, which pyipsec verifies."""
    lab, a, b = site
    with pair(site, tmp_path, KEYS[kind](), rfc7427=False) as (daemon, charon):
        bring_up(lab, a, b, daemon, charon, initiator)
        log = check_tunnel(lab, a, b, daemon, charon)
        assert f"authentication of '{A_DN}' with {RFC4754_SCHEME[kind]} signature successful" in (
            log
        ), log
        assert re.search(r"authentication of 'b.lab.example' \(myself\) with ECDSA-384", log), log
