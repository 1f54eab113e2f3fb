"""Certificate checks across the wire (issue 9): strongSwan 5.9 in ns b authenticates to pyipsec
in ns a with rsa-signature and no pinned remote-certificate, so pyipsec must judge the
certificate strongSwan sends: its path to the trusted CA (through an intermediate held in
pyipsec's /certificate with trusted=no), a CRL imported with /certificate import, and the
identity strongSwan claims.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from pyipsec.io.labnet import LAN_A, LAN_B, Lab
from tests.harness.strongswan import SWANCTL, Charon
from tests.interop.helpers import (
    console,
    installed_spis,
    ping,
    ros_script,
    strongswan_pair,
    strongswan_site,
    swanctl_conf,
)
from tests.interop.pki import Pki, b_good, chain_pki
from tests.io.daemon_proc import DaemonProc

pytestmark = pytest.mark.netns


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Lab, str, str]]:
    with strongswan_site("pyisc") as lab_a_b:
        yield lab_a_b


@pytest.fixture(scope="module")
def pki() -> Pki:
    return chain_pki()


@contextmanager
def pair(
    site: tuple[Lab, str, str],
    tmp_path: Path,
    pki: Pki,
    *,
    b_cert: bytes,
    b_id: str,
    crl: bytes | None = None,
) -> Iterator[tuple[DaemonProc, Charon]]:
    """pyipsec trusts the root CA, holds the intermediate as trusted=no (and ``crl``);
    strongSwan holds ``b_cert`` (issued by the intermediate, which it does not send) and
    claims ``b_id``."""
    _lab, a, b = site
    for name in ("ca.crt", "int.crt", "a.crt", "a.key"):
        (tmp_path / name).write_bytes(pki.files[name])
    prelude = (
        "/certificate\n"
        "import file-name=ca.crt name=ca\n"
        "import file-name=int.crt name=int\n"
        "set int trusted=no\n"
        "import file-name=a.crt name=a\n"
        "import file-name=a.key\n"
    )
    if crl is not None:
        (tmp_path / "int.crl").write_bytes(crl)
        prelude += "import file-name=int.crl\n"
    script = ros_script(prelude=prelude, peer_extra="auth-method=rsa-signature certificate=a")
    conf = swanctl_conf(
        auth="pubkey",
        local_id=b_id,
        remote_id='"O=pyipsec cert lab, CN=a.lab.example"',
        local_cert="b.crt",
        conn_extra="send_cert = always",
    )
    files = {
        "x509ca/ca.crt": pki.files["ca.crt"],
        "x509/b.crt": b_cert,
        "private/b.key": pki.files["b.key"],
    }
    with strongswan_pair(a, b, tmp_path, script, conf, files=files) as (daemon, charon):
        yield daemon, charon


def initiate(charon: Charon, timeout: int = 20) -> tuple[bool, str]:
    """``swanctl --initiate`` from strongSwan; (succeeded, its output)."""
    proc = subprocess.run(
        [SWANCTL, "--initiate", "--child", "net", "--timeout", str(timeout),
         "--uri", f"unix://{charon.state}/charon.vici"],
        capture_output=True, text=True, env=charon.env, timeout=timeout + 10, check=False,
    )  # fmt: skip
    return proc.returncode == 0, proc.stdout + proc.stderr


def wait_error(daemon: DaemonProc, text: str, timeout: float = 10) -> str:
    """The first ``ipsec,error`` line containing ``text``, waiting for it."""
    deadline = time.monotonic() + timeout
    while True:
        daemon.read_log(0.2)
        found = [line for line in daemon.log if "ipsec,error" in line and text in line]
        if found:
            return found[0]
        assert time.monotonic() < deadline, "\n".join(daemon.log)


def test_certificate_through_the_store_intermediate_is_accepted(
    site: tuple[Lab, str, str], tmp_path: Path, pki: Pki
) -> None:
    lab, a, b = site
    with pair(site, tmp_path, pki, b_cert=b_good(pki), b_id="b.lab.example") as (daemon, charon):
        ok, out = initiate(charon)
        assert ok, out
        daemon.read_log(0.2)
        assert not [line for line in daemon.log if "ipsec,error" in line], daemon.log
        assert ping(lab, a, LAN_A, LAN_B) == 3
        assert ping(lab, b, LAN_B, LAN_A) == 3
        assert len(installed_spis(daemon.db)) == 2


def test_revoked_certificate_is_refused(
    site: tuple[Lab, str, str], tmp_path: Path, pki: Pki
) -> None:
    cert = b_good(pki, serial=0x5151)
    with pair(site, tmp_path, pki, b_cert=cert, b_id="b.lab.example", crl=pki.crl([0x5151])) as (
        daemon,
        charon,
    ):
        assert console(daemon.db, "/certificate crl print count-only") == "1\n"
        ok, out = initiate(charon, timeout=6)
        assert not ok, out
        refusal = wait_error(daemon, "revoked")
        assert "AuthenticationFailed" in refusal and "b.lab.example" in refusal, refusal
        assert installed_spis(daemon.db) == set()


def test_identity_not_in_the_certificate_is_refused(
    site: tuple[Lab, str, str], tmp_path: Path, pki: Pki
) -> None:
    """strongSwan claims only identities its certificate matches by its own rules, where an ID
    configured with a wildcard matches: with ``id = *.lab.example`` it sends that ID verbatim
    beside its certificate for b.lab.example (issued by the trusted root, so no path problem
    stands in the way). The certificate does not name *.lab.example: pyipsec must refuse."""
    cert = b_good(pki, by_intermediate=False)
    with pair(site, tmp_path, pki, b_cert=cert, b_id="*.lab.example") as (daemon, charon):
        ok, out = initiate(charon, timeout=6)
        assert not ok, out
        refusal = wait_error(daemon, "is not named by its certificate")
        assert "fqdn:'*.lab.example'" in refusal, refusal
        assert "sending end entity cert" in charon.log_tail(80)
        assert installed_spis(daemon.db) == set()


def test_refusal_reaches_strongswan_protected_and_ends_its_attempt(
    site: tuple[Lab, str, str], tmp_path: Path, pki: Pki
) -> None:
    """pyipsec (responder) refuses strongSwan's message 5 (an ID its certificate does not name).
    The keys agree (signature authentication), so the protected INVALID-ID-INFORMATION opens on
    strongSwan's side and ends its main mode at once; an unprotected one it would ignore and
    retransmit message 5 (after 4, 7, 13, 23, 42 s) until its give-up after ~165 s."""
    cert = b_good(pki, by_intermediate=False)
    with pair(site, tmp_path, pki, b_cert=cert, b_id="*.lab.example") as (daemon, charon):
        started = time.monotonic()
        ok, out = initiate(charon, timeout=40)
        took = time.monotonic() - started
        assert not ok, out
        wait_error(daemon, "is not named by its certificate")
        log = charon.log_tail(200)
        assert "received INVALID_ID_INFORMATION error notify" in log, log
        assert "ignoring unprotected INFORMATIONAL" not in log, log
        assert "retransmit 1 of request" not in log, log
        # strongSwan's first retransmission is due 4 s after message 5; generous under load
        assert took < 15, (took, out)
        print(f"strongSwan gave up {took:.1f}s after swanctl --initiate")
