"""RSA signatures with AUTH method 1 (RFC 7296 §3.8: RSASSA-PKCS1-v1_5 with SHA-1) against
strongSwan 5.9.8 (ns b, swanctl ``version = 2``, ``auth = pubkey``), issue 10.

strongSwan runs with ``signature_authentication = no`` (strongswan.conf): it announces no
SIGNATURE_HASH_ALGORITHMS and signs with method 1, so pyipsec must sign method 1 as well
(RFC 7427 §4: no method 14 towards a peer that did not announce its hashes) and verify
strongSwan's method-1 AUTH. The RSA PKI is tests/interop/pki.py's chain: pyipsec's
certificate from the root CA, strongSwan's from the intermediate (which pyipsec holds with
trusted=no). Each direction, a ping both ways and TCP each way. (RFC 7427 method 14 with RSA:
tests/interop/test_strongswan_ikev2.py::test_rsa_certificates_through_an_intermediate.)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

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
from tests.interop.pki import Pki, b_good, chain_pki

pytestmark = pytest.mark.netns

P1 = Phase1("aes-128", "sha256", "ecp256")
P2 = Phase2("aes-128-gcm", "null", "none")
A_DN = "O=pyipsec cert lab, CN=a.lab.example"
NO_RFC7427 = "charon {\n    signature_authentication = no\n}\n"


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Lab, str, str]]:
    require(lab_prerequisites() + strongswan_prerequisites())
    with Lab(f"pyik2r{os.getpid()}") as lab:
        a, b = two_sites(lab)
        yield lab, a, b


@pytest.fixture(scope="module")
def pki() -> Pki:
    return chain_pki()


@pytest.mark.parametrize("initiator", ["strongswan", "pyipsec"])
def test_rsa_method_1_both_ways(
    site: tuple[Lab, str, str], tmp_path: Path, pki: Pki, initiator: str
) -> None:
    lab, a, b = site
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
    charon = Charon(b, tmp_path / "charon", conf, NO_RFC7427)
    files = {
        "x509ca/ca.crt": pki.files["ca.crt"],
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
                bring_up(lab, a, b, daemon, charon, initiator)
                assert ping(lab, a, LAN_A, LAN_B) == 3
                assert ping(lab, b, LAN_B, LAN_A) == 3
                tcp_transfer(lab, a, b, LAN_A, LAN_B)
                tcp_transfer(lab, b, a, LAN_B, LAN_A)
                assert len(installed_spis(daemon.db)) == 2, console(
                    daemon.db, "/ip ipsec installed-sa print"
                )
                log = charon.log_tail(400)
                # strongSwan verified our method-1 AUTH and signed its own with method 1
                assert f"authentication of '{A_DN}' with RSA signature successful" in log, log
                assert "authentication of 'b.lab.example' (myself) with RSA signature" in log
                # strongSwan announced no RFC 7427 hashes (we do, but method 14 needs both)
                sent = [x for x in log.splitlines() if "generating IKE_SA_INIT" in x]
                assert sent and not any("N(HASH_ALG)" in x for x in sent), sent
                daemon.read_log()
                errors = [line for line in daemon.log if "ipsec,error" in line]
                assert not errors, errors
        finally:
            rc = daemon.stop()
        assert rc == 0, log_text(daemon)
    finally:
        charon.stop()
