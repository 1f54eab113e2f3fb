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

from collections.abc import Iterator
from pathlib import Path

import pytest

from pyipsec.io.labnet import Lab
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
from tests.interop.pki import Pki, b_good, chain_pki

pytestmark = pytest.mark.netns

P1 = Phase1("aes-128", "sha256", "ecp256")
P2 = Phase2("aes-128-gcm", "null", "none")


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Lab, str, str]]:
    with strongswan_site("pyik2r") as lab_a_b:
        yield lab_a_b


@pytest.fixture(scope="module")
def pki() -> Pki:
    return chain_pki()


@pytest.mark.parametrize("initiator", ["strongswan", "pyipsec"])
def test_rsa_method_1_both_ways(
    site: tuple[Lab, str, str], tmp_path: Path, pki: Pki, initiator: str
) -> None:
    lab, a, b = site
    script, conf = chain_cert_configs(tmp_path, pki.files, P1, P2)
    files = {
        "x509ca/ca.crt": pki.files["ca.crt"],
        "x509/b.crt": b_good(pki),
        "private/b.key": pki.files["b.key"],
    }
    with strongswan_pair(a, b, tmp_path, script, conf, files=files, extra_conf=NO_RFC7427) as (
        daemon,
        charon,
    ):
        bring_up(lab, a, b, daemon, charon, initiator)
        carries_traffic(lab, a, b, daemon)
        log = charon.log_tail(400)
        # strongSwan verified our method-1 AUTH and signed its own with method 1
        assert f"authentication of '{A_DN}' with RSA signature successful" in log, log
        assert "authentication of 'b.lab.example' (myself) with RSA signature" in log
        # strongSwan announced no RFC 7427 hashes (we do, but method 14 needs both)
        sent = [x for x in log.splitlines() if "generating IKE_SA_INIT" in x]
        assert sent and not any("N(HASH_ALG)" in x for x in sent), sent
        no_errors(daemon)
