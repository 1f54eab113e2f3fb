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

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from pyipsec.io.labnet import Lab
from tests.harness.strongswan import Charon
from tests.interop.helpers import (
    A_DN,
    NO_RFC7427,
    Phase1,
    Phase2,
    bring_up,
    carries_traffic,
    chain_cert_configs,
    no_errors,
    strongswan_pair,
    strongswan_site,
)
from tests.interop.pki import PrivateKey, b_good, ecdsa_chain_pki
from tests.io.daemon_proc import DaemonProc

pytestmark = pytest.mark.netns

INITIATORS = ["strongswan", "pyipsec"]
P1 = Phase1("aes-128", "sha256", "ecp256")
P2 = Phase2("aes-128-gcm", "null", "none")
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


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Lab, str, str]]:
    with strongswan_site("pyik2e") as lab_a_b:
        yield lab_a_b


@contextmanager
def pair(
    site: tuple[Lab, str, str], tmp_path: Path, a_key: PrivateKey, *, rfc7427: bool
) -> Iterator[tuple[DaemonProc, Charon]]:
    """pyipsec with ``a_key``'s certificate, strongSwan with its P-384 one, both from the
    ECDSA intermediate; strongSwan without RFC 7427 signatures unless ``rfc7427``."""
    _lab, a, b = site
    pki = ecdsa_chain_pki(a_key)
    script, conf = chain_cert_configs(tmp_path, pki.files, P1, P2)
    files = {
        "x509ca/ca.crt": pki.files["ca.crt"],
        "x509ca/int.crt": pki.files["int.crt"],
        "x509/b.crt": b_good(pki),
        "private/b.key": pki.files["b.key"],
    }
    extra = "" if rfc7427 else NO_RFC7427
    with strongswan_pair(a, b, tmp_path, script, conf, files=files, extra_conf=extra) as pair:
        yield pair


def check_tunnel(lab: Lab, a: str, b: str, daemon: DaemonProc, charon: Charon) -> str:
    """Ping both ways, TCP each way, one SA pair; returns strongSwan's log."""
    carries_traffic(lab, a, b, daemon, size=TRANSFER)
    listed = charon.swanctl("--list-sas")
    assert "ESTABLISHED, IKEv2" in listed and f"remote '{A_DN}'" in listed, listed
    no_errors(daemon)
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
